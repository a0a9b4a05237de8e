//! Writing: placing records, sealing and splitting chunks, the flush, the budget and eviction.

use std::rc::Rc;

use super::backend::{Backend, Doc};
use super::conversation::{Chunk, Conversation, Entry};
use super::layout::{chunk_envelope, sized_value, Changes, Keys, SEQ_STEP};
use super::{
    entry_bytes, mark_cmp, EvictionEvent, Removal, Store, Stored, MAX_LOOSE_RECORDS, SPLIT_CHUNK_BYTES, TARGET_CHUNK_BYTES,
};
use crate::error::{Error, Result};
use crate::json::{write_f64, write_list, write_str};
use crate::store::is_full_error;

/// What a planned write is of. A conversation's name is shared by its writes: one copy a flush.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Loose(Rc<str>, u64),
    Chunk(Rc<str>, u64),
    Head(Rc<str>),
    Extra(String),
    State,
}

#[derive(Debug)]
enum Value {
    Json(String),
    /// A head, and the head it stores (what opening will read, see [`Conversation::on_storage`]).
    Head(String, Box<super::layout::Head>),
    Record(Doc),
    Chunk(String, Vec<Doc>),
}

/// A flush's writes by when they happen: the heads of conversations that only lose chunks to
/// eviction (before those are removed), new values, heads, values rewritten in place, then (after
/// the removals the heads allow) extras and the state. So a crash at any point leaves values no head
/// names, never a head naming a value that is gone: opening tells by the count of keys.
#[derive(Debug, Default)]
struct Plan {
    evicting: Vec<Write>,
    new: Vec<Write>,
    heads: Vec<Write>,
    rewrites: Vec<Write>,
    state: Vec<Write>,
}

impl Plan {
    fn all(&self) -> impl Iterator<Item = &Write> {
        self.evicting.iter().chain(&self.new).chain(&self.heads).chain(&self.rewrites).chain(&self.state)
    }
}

#[derive(Debug)]
struct Write {
    key: String,
    value: Value,
    bytes: u64,
    target: Target,
}

impl<B: Backend> Store<B> {
    /// Learns the bytes of every entry of a loose set or chunk that lacks them.
    fn measure_all(&mut self, entries: &mut [Entry]) -> Result<()> {
        for e in entries.iter_mut().filter(|e| e.bytes.is_none()) {
            e.bytes = Some(self.backend.measure(e.doc)?);
        }
        Ok(())
    }

    /// Adds a new record to the loose records (they must be in memory).
    pub(super) fn place_loose(&mut self, name: &str, mut entry: Entry) -> Result<()> {
        let Some(conv) = self.conversations.get_mut(name) else {
            return Ok(());
        };
        number_loose(&self.keys, name, conv, &mut entry);
        let loose = conv.loose.get_or_insert_with(Vec::new);
        let mark = entry.mark();
        let at = loose.partition_point(|e| mark_cmp(&e.meta, &mark).is_lt());
        loose.insert(at, entry);
        conv.note_newest_loose();
        conv.head_dirty = true;
        Ok(())
    }

    /// Moves every loose record into a new sealed chunk once there are enough of them. Strays (loose
    /// records older than the newest sealed one) are not sealed: they move to new loose keys, each
    /// written before the head that names it, the old key removed after. Sealing waits while a loose
    /// record could not be read.
    pub(super) fn seal_if_full(&mut self, name: &str) -> Result<()> {
        let Some(conv) = self.conversations.get(name) else {
            return Ok(());
        };
        let count = conv.loose.as_ref().map_or(0, Vec::len);
        // Loose records are in mark order, strays (older than the newest sealed) first.
        let strays = conv.loose.iter().flatten().take_while(|e| conv.is_stray(&e.meta)).count();
        let full = if strays == 0 {
            count >= MAX_LOOSE_RECORDS || conv.head.loose_bytes >= TARGET_CHUNK_BYTES
        } else {
            // Strays do not count toward a chunk: the others alone must fill one.
            let bytes: u64 = conv.loose.iter().flatten().filter(|e| !conv.is_stray(&e.meta)).map(|e| e.bytes.unwrap_or(0)).sum();
            count - strays >= MAX_LOOSE_RECORDS || bytes >= TARGET_CHUNK_BYTES
        };
        if !full || count == strays || !conv.unread_loose.is_empty() {
            return Ok(());
        }
        self.ensure_chunks(name);
        let Some(mut entries) = self.conversations.get_mut(name).and_then(|c| c.loose.take()) else {
            return Ok(());
        };
        if let Err(e) = self.measure_all(&mut entries) {
            if let Some(conv) = self.conversations.get_mut(name) {
                conv.loose = Some(entries);
            }
            return Err(e);
        }
        let (mut strays, mut entries): (Vec<Entry>, Vec<Entry>) = match self.conversations.get(name) {
            Some(conv) => entries.into_iter().partition(|e| conv.is_stray(&e.meta)),
            None => return Ok(()),
        };
        // A stray whose record a chunk in memory holds too (it came again while that chunk could
        // not be read) is a copy: it goes.
        let held: rustc_hash::FxHashSet<String> = match self.conversations.get(name).and_then(|c| c.chunks.as_ref()) {
            Some(chunks) if !strays.is_empty() => {
                chunks.values().flat_map(|c| c.entries().into_iter().flatten()).map(|e| e.meta.id.clone()).collect()
            }
            _ => Default::default(),
        };
        let (copies, kept): (Vec<Entry>, Vec<Entry>) = strays.into_iter().partition(|e| held.contains(&e.meta.id));
        strays = kept;
        let muted = self.muted.contains_key(name);
        for e in &copies {
            if let Some(conv) = self.conversations.get_mut(name) {
                if conv.counts_unread(&e.meta, muted) && conv.head.unread > 0 {
                    conv.head.unread -= 1;
                }
            }
            self.backend.release(e.doc);
        }
        for e in entries.iter().chain(&strays).chain(&copies) {
            // A record that reached storage under its loose key leaves that key behind.
            if let (Some(n), Some(written)) = (e.loose, e.written) {
                let key = self.keys.loose(name, n);
                self.removals.push(Removal { key, bytes: written, after_heads: true, evicted: false });
            }
        }
        // A chunk number still on storage (its removal waits) is not taken again: a head there may
        // name it, and must find what it named until the head that drops it is written.
        let above = self.removed_seqs(name).last().map_or(0, |&s| (s / SEQ_STEP + 1).saturating_mul(SEQ_STEP));
        let Some(conv) = self.conversations.get_mut(name) else {
            return Ok(());
        };
        // Loose records read from storage this session left their keys too.
        for e in entries.iter().chain(&strays).chain(&copies).filter(|e| !e.dirty && e.written.is_none()) {
            if let (Some(n), Some(bytes)) = (e.loose, e.bytes) {
                let key = self.keys.loose(name, n);
                let size = entry_bytes(&key, bytes);
                self.removals.push(Removal { key, bytes: size, after_heads: true, evicted: false });
            }
        }
        let seq = conv.head.sealed.next_seq().max(above);
        conv.head.loose_from = conv.head.loose_next;
        conv.head.loose_bytes = 0;
        conv.head.loose_holes.clear();
        conv.head.newest_loose = None;
        conv.head.sealed_mark = entries.last().map(Entry::mark);
        conv.head.sealed.insert(seq);
        for e in &mut entries {
            e.loose = None;
            e.dirty = false;
            e.written = None;
        }
        for e in &mut strays {
            number_loose(&self.keys, name, conv, e);
            e.written = None;
        }
        conv.loose = Some(strays);
        conv.note_newest_loose();
        conv.head_dirty = true;
        if let Some(chunks) = conv.chunks.as_mut() {
            chunks.insert(seq, Chunk::new(entries));
        }
        self.cache.push((name.to_string(), seq));
        Ok(())
    }

    /// Adds a late record to the sealed chunk its time falls in, splitting the chunk if it grows too big.
    /// Returns false when the record is there already.
    pub(super) fn place_sealed(&mut self, name: &str, seq: u64, entry: Entry) -> Result<bool> {
        self.load_chunk(name, seq)?;
        let mark = entry.mark();
        let id = entry.meta.id.clone();
        let Some(chunk) = self.chunk_mut(name, seq) else {
            return Ok(false);
        };
        if chunk.entries().is_some_and(|es| es.iter().any(|e| e.meta.id == id)) {
            return Ok(false);
        }
        chunk.edit(|es| {
            let at = es.partition_point(|e| mark_cmp(&e.meta, &mark).is_lt());
            es.insert(at, entry);
        });
        if self.chunk_size(name, seq)? > SPLIT_CHUNK_BYTES {
            self.split(name, seq)?;
        }
        Ok(true)
    }

    /// The size chunk `seq` will have when written.
    fn chunk_size(&mut self, name: &str, seq: u64) -> Result<u64> {
        let Some(mut entries) = self.chunk_mut(name, seq).and_then(|c| c.entries().cloned()) else {
            return Ok(0);
        };
        self.measure_all(&mut entries)?;
        let bytes: Vec<u64> = entries.iter().map(|e| e.bytes.unwrap_or(0)).collect();
        if let Some(chunk) = self.chunk_mut(name, seq) {
            chunk.set_entries(entries);
        }
        let key = self.keys.chunk(name, seq);
        Ok(chunk_envelope(&key, name, seq, &bytes).1)
    }

    /// Numbers of the chunks of `name` removed from memory whose keys wait to be removed, in order.
    fn removed_seqs(&self, name: &str) -> Vec<u64> {
        let mut seqs: Vec<u64> = self
            .removals
            .iter()
            .filter_map(|r| match self.keys.parse(&r.key) {
                Some(super::layout::KeyName::Chunk(of, seq)) if of == name => Some(seq),
                _ => None,
            })
            .collect();
        seqs.sort_unstable();
        seqs
    }

    /// Splits chunk `seq` in two halves by bytes, under two new numbers between its neighbours; the
    /// old key is removed once the head names the new ones. Does nothing when no number is free.
    fn split(&mut self, name: &str, seq: u64) -> Result<()> {
        // Numbers of chunks whose removal waits are taken too (see `seal_if_full`).
        let mut seqs = self.seqs(name);
        seqs.extend(self.removed_seqs(name));
        seqs.sort_unstable();
        seqs.dedup();
        let at = seqs.iter().position(|&s| s == seq).unwrap_or(0);
        let prev = if at == 0 { 0 } else { seqs.get(at - 1).copied().unwrap_or(0) };
        let next = seqs.get(at + 1).copied().unwrap_or(seq.saturating_add(SEQ_STEP));
        if seq.saturating_sub(prev) < 2 || next.saturating_sub(seq) < 2 {
            return Ok(());
        }
        let (low, high) = (prev + (seq - prev) / 2, seq + (next - seq) / 2);
        let Some(mut entries) = self.chunk(name, seq).and_then(|c| c.entries().cloned()) else {
            return Ok(());
        };
        if entries.len() < 2 {
            return Ok(());
        }
        self.measure_all(&mut entries)?;
        let half = entries.iter().map(|e| e.bytes.unwrap_or(0)).sum::<u64>() / 2;
        let mut sum = 0u64;
        let cut = entries
            .iter()
            .position(|e| {
                sum += e.bytes.unwrap_or(0) + 1;
                sum >= half
            })
            .map_or(1, |i| i + 1)
            .clamp(1, entries.len() - 1);
        let upper = entries.split_off(cut);
        let key = self.keys.chunk(name, seq);
        let Some(conv) = self.conversations.get_mut(name) else {
            return Ok(());
        };
        let Some(chunks) = conv.chunks.as_mut() else {
            return Ok(());
        };
        let Some(old) = chunks.remove(&seq) else {
            return Ok(());
        };
        chunks.insert(low, Chunk::new(entries));
        chunks.insert(high, Chunk::new(upper));
        conv.head.sealed.remove(seq);
        conv.head.sealed.insert(low);
        conv.head.sealed.insert(high);
        conv.head.sealed_bytes = conv.head.sealed_bytes.saturating_sub(old.stored.bytes());
        conv.head_dirty = true;
        if old.stored != Stored::Absent {
            self.removals.push(Removal { key, bytes: old.stored.bytes(), after_heads: true, evicted: false });
        }
        self.cache.push((name.to_string(), low));
        self.cache.push((name.to_string(), high));
        Ok(())
    }
}

/// The flush.
impl<B: Backend> Store<B> {
    /// Writes everything dirty, evicting for space as needed; on a full-storage error evicts once more
    /// and retries once. Returns why something is still unsaved.
    pub(super) fn finish(&mut self, protect: Option<&str>) -> Option<String> {
        let result = match self.try_flush(protect) {
            // Evicting helps only until what it freed covers what the flush adds: a storage that
            // still refuses then is not short of our bytes, and history is kept.
            Err(e) if is_full_error(e.message()) => {
                let growth = self.flush_growth();
                if self.full_freed >= growth {
                    Err(e)
                } else {
                    let before: u64 = self.removals.iter().map(|r| r.bytes).sum();
                    match self.evict_one(protect) {
                        Ok(true) => {
                            let after: u64 = self.removals.iter().map(|r| r.bytes).sum();
                            self.full_freed = self.full_freed.saturating_add(after.saturating_sub(before)).max(1);
                            let retried = self.try_flush(protect);
                            if retried.as_ref().is_err_and(|e| is_full_error(e.message())) && self.full_freed >= growth {
                                // Room was made for all of it and storage still refuses: no more
                                // history goes until a flush succeeds.
                                self.full_freed = u64::MAX;
                            }
                            retried
                        }
                        Ok(false) => Err(e),
                        Err(read_error) => Err(read_error),
                    }
                }
            }
            other => other,
        };
        if result.is_ok() {
            self.full_freed = 0;
        }
        if let (Ok(()), Some(name)) = (&result, protect) {
            if self.paused_v1.contains_key(name) {
                return Some(format!(
                    "{name}'s older history is still in the previous storage format, which could not be moved \
                     for lack of space; new records of it are kept in memory until a reopen with room moves it"
                ));
            }
        }
        result.err().map(|e| e.to_string())
    }

    fn try_flush(&mut self, protect: Option<&str>) -> Result<()> {
        let plan = loop {
            let plan = self.plan()?;
            // An eviction from a conversation that has other changes to write goes after its head:
            // the budget lets that one chunk through for the length of the flush.
            let freed: u64 = self.removals.iter().filter(|r| r.evicted).map(|r| r.bytes).sum();
            let peak = plan.all().fold(self.bytes_used.saturating_sub(freed), |sum, w| {
                sum.saturating_sub(self.stored_of(&w.target)).saturating_add(w.bytes)
            });
            if peak <= self.options.total_bytes {
                break plan;
            }
            if !self.evict_one(protect)? {
                return Err(Error::storage(format!(
                    "quota reached: mpchat's storage budget of {} bytes is full and nothing more can be evicted; \
                     raise limits.totalBytes or free space",
                    self.options.total_bytes
                )));
            }
        };
        for write in plan.evicting {
            self.execute(write)?;
        }
        self.remove_pending(false)?;
        for write in plan.new.into_iter().chain(plan.heads).chain(plan.rewrites) {
            self.execute(write)?;
        }
        self.remove_pending(true)?;
        for write in plan.state {
            self.execute(write)?;
        }
        Ok(())
    }

    /// Bytes the next flush adds to what storage holds.
    fn flush_growth(&mut self) -> u64 {
        let Ok(plan) = self.plan() else {
            return u64::MAX;
        };
        plan.all().fold(0u64, |sum, w| sum.saturating_add(w.bytes.saturating_sub(self.stored_of(&w.target))))
    }

    fn remove_pending(&mut self, after_heads: bool) -> Result<()> {
        while let Some(at) = self.removals.iter().position(|r| r.after_heads == after_heads) {
            let removal = self.removals.remove(at);
            if let Err(e) = self.backend.remove(&removal.key) {
                self.removals.insert(at, removal);
                return Err(e);
            }
            self.bytes_used = self.bytes_used.saturating_sub(removal.bytes);
        }
        Ok(())
    }

    fn execute(&mut self, write: Write) -> Result<()> {
        let head = match write.value {
            Value::Json(json) => {
                self.backend.set_json(&write.key, &json)?;
                None
            }
            Value::Head(json, head) => {
                self.backend.set_json(&write.key, &json)?;
                Some(head)
            }
            Value::Record(doc) => {
                self.backend.set_record(&write.key, doc)?;
                None
            }
            Value::Chunk(envelope, docs) => {
                self.backend.set_chunk(&write.key, &envelope, &docs)?;
                None
            }
        };
        if let (Target::Head(name), Some(head)) = (&write.target, head) {
            if let Some(conv) = self.conversations.get_mut(&**name) {
                conv.on_storage = Some(head);
            }
        }
        self.written(write.target, write.bytes);
        Ok(())
    }

    /// The values to write now. A value that is new goes before the head that names it (a crash
    /// between leaves a key no head names, which opening removes); a value rewritten in place goes
    /// after a head that lists it as a rewrite, leaving its size out, so opening measures whichever
    /// version is there.
    fn plan(&mut self) -> Result<Plan> {
        // A conversation whose format 1 history waits to be moved is not written: a head of its
        // own now would have that history taken for leftovers of a finished move.
        let names: Vec<Rc<str>> = self
            .conversations
            .iter()
            .filter(|(n, c)| c.has_unsaved() && !self.paused_v1.contains_key(*n))
            .map(|(n, _)| Rc::from(n.as_str()))
            .collect();
        let mut plan = Plan::default();
        self.waiting = false;
        // Conversations losing chunks to an eviction made before anything is written.
        let evicting: Vec<String> = self
            .removals
            .iter()
            .filter(|r| !r.after_heads)
            .filter_map(|r| match self.keys.parse(&r.key) {
                Some(super::layout::KeyName::Chunk(name, _)) => Some(name),
                _ => None,
            })
            .collect();
        for name in names {
            let dirty: Vec<u64> = self
                .conversations
                .get(&*name)
                .and_then(|c| c.chunks.as_ref())
                .map(|chunks| chunks.iter().filter(|(_, c)| c.dirty).map(|(s, _)| *s).collect())
                .unwrap_or_default();
            let Some(conv) = self.conversations.get(&*name) else {
                continue;
            };
            let (mut rewrites, mut loose_rewrites) = (Vec::new(), Vec::new());
            let mut loose_bytes = conv.head.loose_bytes;
            let mut sealed = conv.head.sealed_bytes;
            let mut changed = false;
            let chunks_changed = !dirty.is_empty();
            let loses_chunks = evicting.iter().any(|e| **e == *name);
            // New loose records (number, bytes on storage), for deciding whether the head may wait.
            let mut fresh: Vec<(u64, u64)> = Vec::new();
            for seq in dirty {
                // Measures every record, so the envelope's size is exact.
                self.chunk_size(&name, seq)?;
                let key = self.keys.chunk(&name, seq);
                let Some(chunk) = self.chunk(&name, seq) else {
                    continue;
                };
                let bytes = chunk.record_bytes().unwrap_or_default();
                let docs: Vec<Doc> = chunk.entries().into_iter().flatten().map(|e| e.doc).collect();
                let (envelope, size) = chunk_envelope(&key, &name, seq, &bytes);
                let write = Write {
                    key,
                    value: Value::Chunk(envelope, docs),
                    bytes: size,
                    target: Target::Chunk(name.clone(), seq),
                };
                changed = true;
                if chunk.stored == Stored::Absent {
                    sealed = sealed.saturating_add(size);
                    plan.new.push(write);
                } else {
                    sealed = sealed.saturating_sub(chunk.stored.bytes());
                    rewrites.push(seq);
                    plan.rewrites.push(write);
                }
            }
            let Some(conv) = self.conversations.get(&*name) else {
                continue;
            };
            for e in conv.loose.iter().flatten().filter(|e| e.dirty) {
                let (Some(n), Some(bytes)) = (e.loose, e.bytes) else {
                    continue;
                };
                let key = self.keys.loose(&name, n);
                let size = entry_bytes(&key, bytes);
                let write = Write { key, value: Value::Record(e.doc), bytes: size, target: Target::Loose(name.clone(), n) };
                changed = true;
                if e.written.is_some() {
                    loose_bytes = loose_bytes.saturating_sub(size);
                    loose_rewrites.push(n);
                    plan.rewrites.push(write);
                } else {
                    fresh.push((n, size));
                    plan.new.push(write);
                }
            }
            let may_wait = self.lag_heads
                && !chunks_changed
                && loose_rewrites.is_empty()
                && conv.head_dirty
                && conv.head_stored != Stored::Absent
                && !loses_chunks;
            if may_wait {
                let muted = self.muted.contains_key(&*name);
                let waits = self
                    .conversations
                    .get_mut(&*name)
                    .is_some_and(|c| c.head_can_wait(&fresh, muted, loose_bytes, sealed));
                if waits {
                    self.waiting = true;
                    continue;
                }
            }
            let Some(conv) = self.conversations.get(&*name) else {
                continue;
            };
            if conv.head_dirty || changed {
                let key = self.keys.head(&name);
                let changes = Changes { sealed_bytes: sealed, loose_bytes, rewrites: &rewrites, loose_rewrites: &loose_rewrites };
                // Loose records in memory name the newest as it is now; else it is as it was read.
                let newest = match &conv.loose {
                    Some(_) => conv.newest_loose_entry().map(|e| &e.meta),
                    None => conv.head.newest.as_ref(),
                };
                let (json, bytes) = conv.head.encode_with(&key, &changes, newest);
                let written = Box::new(conv.head.as_written(&changes, newest));
                let write = Write { key, value: Value::Head(json, written), bytes, target: Target::Head(name.clone()) };
                // Naming only values on storage, it goes before the evicted chunks are removed.
                match !changed && loses_chunks {
                    true => plan.evicting.push(write),
                    false => plan.heads.push(write),
                }
            }
        }
        // An evicted chunk whose conversation has since changed more waits for its new head.
        let late: Vec<String> = plan
            .heads
            .iter()
            .filter_map(|w| match &w.target {
                Target::Head(name) if evicting.iter().any(|e| **e == **name) => Some(name.to_string()),
                _ => None,
            })
            .collect();
        if !late.is_empty() {
            for removal in self.removals.iter_mut().filter(|r| !r.after_heads) {
                if let Some(super::layout::KeyName::Chunk(name, _)) = self.keys.parse(&removal.key) {
                    removal.after_heads |= late.contains(&name);
                }
            }
        }
        if self.pending.state {
            // The state could not be read: written now, it would replace what it holds.
            return Ok(plan);
        }
        let mut extras_changed = false;
        for (name, extra) in self.extras.iter() {
            if let Some(json) = &extra.pending {
                let key = self.keys.extra(name);
                let bytes = entry_bytes(&key, json.len() as u64);
                extras_changed |= bytes != extra.stored;
                plan.state.push(Write { key, value: Value::Json(json.clone()), bytes, target: Target::Extra(name.clone()) });
            }
        }
        if self.state_dirty || extras_changed {
            let key = self.keys.state();
            let (json, bytes) = sized_value(&key, &self.state_fields(&plan.state));
            plan.state.push(Write { key, value: Value::Json(json), bytes, target: Target::State });
        }
        Ok(plan)
    }

    /// The state's fields after `writes`: muted conversations, eviction counters, extras and their sizes.
    fn state_fields(&self, writes: &[Write]) -> String {
        let mut out = String::from(",\"m\":");
        write_list(&mut out, self.muted.keys(), |out, name| write_str(out, name));
        out.push_str(",\"er\":");
        write_f64(&mut out, self.evicted_records as f64);
        out.push_str(",\"ec\":");
        write_f64(&mut out, self.evicted_chunks as f64);
        out.push_str(",\"fk\":");
        write_f64(&mut out, self.foreign_keys as f64);
        out.push_str(",\"fb\":");
        write_f64(&mut out, self.foreign_bytes as f64);
        out.push_str(",\"x\":{");
        let mut first = true;
        for (name, extra) in self.extras.iter() {
            let planned = writes.iter().find(|w| w.target == Target::Extra(name.clone())).map(|w| w.bytes);
            let bytes = planned.unwrap_or(extra.stored);
            if bytes == 0 {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            write_str(&mut out, name);
            out.push(':');
            write_f64(&mut out, bytes as f64);
        }
        out.push('}');
        out
    }

    /// Bytes the target of a write holds on storage now.
    fn stored_of(&self, target: &Target) -> u64 {
        match target {
            Target::Loose(name, n) => self
                .conversations
                .get(&**name)
                // From the newest end: the record a flush writes is nearly always the one just received.
                .and_then(|c| c.loose.as_ref()?.iter().rev().find(|e| e.loose == Some(*n)))
                .and_then(|e| e.written)
                .unwrap_or(0),
            Target::Chunk(name, seq) => self.chunk(name, *seq).map_or(0, |c| c.stored.bytes()),
            Target::Head(name) => self.conversations.get(&**name).map_or(0, |c| c.head_stored.bytes()),
            Target::Extra(name) => self.extras.get(name).map_or(0, |e| e.stored),
            Target::State => self.state_stored.bytes(),
        }
    }

    /// Books a successful write of `bytes`.
    fn written(&mut self, target: Target, bytes: u64) {
        let old = self.stored_of(&target);
        self.bytes_used = self.bytes_used.saturating_sub(old).saturating_add(bytes);
        match target {
            Target::Loose(name, n) => {
                if let Some(e) = self.conversations.get_mut(&*name).and_then(|c| {
                    c.loose.as_mut()?.iter_mut().rev().find(|e| e.loose == Some(n))
                }) {
                    e.dirty = false;
                    e.written = Some(bytes);
                }
            }
            Target::Chunk(name, seq) => {
                if let Some(conv) = self.conversations.get_mut(&*name) {
                    conv.head.sealed_bytes = conv.head.sealed_bytes.saturating_sub(old).saturating_add(bytes);
                    if let Some(chunk) = conv.chunks.as_mut().and_then(|c| c.get_mut(&seq)) {
                        chunk.stored = Stored::Bytes(bytes);
                        chunk.dirty = false;
                    }
                }
            }
            Target::Head(name) => {
                if let Some(conv) = self.conversations.get_mut(&*name) {
                    conv.head_stored = Stored::Bytes(bytes);
                    conv.head_dirty = false;
                }
            }
            Target::Extra(name) => {
                if let Some(extra) = self.extras.get_mut(&name) {
                    extra.stored = bytes;
                    extra.written = extra.pending.take();
                }
            }
            Target::State => {
                self.state_stored = Stored::Bytes(bytes);
                self.state_dirty = false;
            }
        }
    }
}

/// Eviction.
impl<B: Backend> Store<B> {
    /// Evicts one chunk: a chunk of fetched history, else the oldest clean sealed chunk of the least
    /// recently active conversation, or failing that a whole idle conversation other than `protect`. False when nothing can go.
    pub(super) fn evict_one(&mut self, protect: Option<&str>) -> Result<bool> {
        // Fetched history goes first (store/fetched.rs).
        if self.evict_fetched()? {
            return Ok(true);
        }
        let mut by_activity: Vec<(i64, String)> =
            self.conversations.iter().map(|(n, c)| (c.head.activity, n.clone())).collect();
        by_activity.sort();
        let mut unread = None;
        for (_, name) in &by_activity {
            let clean = self.seqs(name).into_iter().find(|&s| !self.chunk(name, s).is_some_and(|c| c.dirty));
            if let Some(seq) = clean {
                // One that cannot be read now (its records must be counted) is passed over.
                match self.evict_chunk(name, seq) {
                    Ok(()) => return Ok(true),
                    Err(e) => unread = Some(e),
                }
            }
        }
        for (_, name) in &by_activity {
            let idle = self.conversations.get(name).is_some_and(|c| {
                // A head that waits does not keep it: the conversation goes whole, head first.
                !c.has_unwritten_values() && c.head_stored != Stored::Absent && c.head.sealed.count() == 0 && c.unread_loose.is_empty()
            });
            if idle && protect != Some(name.as_str()) {
                match self.evict_conversation(name) {
                    Ok(true) => return Ok(true),
                    Ok(false) => {}
                    Err(e) => unread = Some(e),
                }
            }
        }
        match unread {
            Some(e) => Err(e),
            None => Ok(false),
        }
    }

    pub(super) fn evict_chunk(&mut self, name: &str, seq: u64) -> Result<()> {
        self.load_chunk(name, seq)?;
        let muted_off = false;
        let Some(conv) = self.conversations.get_mut(name) else {
            return Ok(());
        };
        // Its head can be written before the removal only if it names nothing new (see `Plan`).
        let after_heads =
            conv.loose.iter().flatten().any(|e| e.dirty) || conv.chunks.iter().flat_map(|c| c.values()).any(|c| c.dirty);
        let Some(chunk) = conv.chunks.as_mut().and_then(|c| c.remove(&seq)) else {
            return Ok(());
        };
        let entries = chunk.entries().cloned().unwrap_or_default();
        // Evicted records leave the unread count too: a badge never counts messages no page can show.
        let evicted_unread = entries.iter().filter(|e| conv.counts_unread(&e.meta, muted_off)).count() as u64;
        conv.head.sealed.remove(seq);
        conv.head.sealed_bytes = conv.head.sealed_bytes.saturating_sub(chunk.stored.bytes());
        let emptied = !conv.has_records();
        conv.head.unread = if emptied { 0 } else { conv.head.unread.saturating_sub(evicted_unread) };
        if emptied {
            conv.head.sealed_mark = None;
        }
        conv.head_dirty = true;
        if chunk.stored != Stored::Absent {
            self.removals.push(Removal { key: self.keys.chunk(name, seq), bytes: chunk.stored.bytes(), after_heads, evicted: true });
        }
        self.forget(name, &entries);
        self.count_eviction(name, entries.len() as u64, 1, false);
        Ok(())
    }

    /// Removes an idle conversation that has only loose records left: its records, then its head.
    /// False when one of its records cannot be read now (it would be left behind, uncounted).
    fn evict_conversation(&mut self, name: &str) -> Result<bool> {
        self.load_loose(name)?;
        if self.conversations.get(name).is_some_and(|c| !c.unread_loose.is_empty()) {
            return Ok(false);
        }
        let Some(mut entries) = self.conversations.get_mut(name).and_then(|c| c.loose.take()) else {
            return Ok(false);
        };
        if let Err(e) = self.measure_all(&mut entries) {
            if let Some(conv) = self.conversations.get_mut(name) {
                conv.loose = Some(entries);
            }
            return Err(e);
        }
        let Some(conv) = self.conversations.remove(name) else {
            return Ok(false);
        };
        // The head goes first: a crash then leaves records without a head, which opening finds
        // (and takes back), never a head naming records that are gone.
        self.removals.push(Removal { key: self.keys.head(name), bytes: conv.head_stored.bytes(), after_heads: false, evicted: true });
        for e in &entries {
            if let Some(n) = e.loose {
                let key = self.keys.loose(name, n);
                let bytes = e.written.unwrap_or_else(|| entry_bytes(&key, e.bytes.unwrap_or(0)));
                self.removals.push(Removal { key, bytes, after_heads: false, evicted: true });
            }
        }
        self.forget(name, &entries);
        for doc in conv.docs() {
            self.backend.release(doc);
        }
        self.count_eviction(name, entries.len() as u64, 0, true);
        Ok(true)
    }

    /// Forgets evicted records: their ids and documents.
    fn forget(&mut self, name: &str, entries: &[Entry]) {
        for e in entries {
            if self.index.get(&e.meta.id).is_some_and(|(c, _)| c == name) {
                self.index.remove(&e.meta.id);
            }
            self.backend.release(e.doc);
        }
    }

    fn count_eviction(&mut self, name: &str, records: u64, chunks: u64, whole_conversation: bool) {
        self.evicted_records = self.evicted_records.saturating_add(records);
        self.evicted_chunks = self.evicted_chunks.saturating_add(chunks);
        self.state_dirty = true;
        self.evictions.push(EvictionEvent { conversation: name.to_string(), records, whole_conversation });
    }

    /// Evictions since the last call, oldest first.
    pub fn take_evictions(&mut self) -> Vec<EvictionEvent> {
        std::mem::take(&mut self.evictions)
    }
}

/// Gives `entry` the next loose number of `conv` (named `name`), its key's bytes counted: a loose record
/// to be written under that key.
fn number_loose(keys: &Keys, name: &str, conv: &mut Conversation, entry: &mut Entry) {
    let n = conv.head.loose_next;
    conv.head.loose_next = n.saturating_add(1);
    let key = keys.loose(name, n);
    conv.head.loose_bytes = conv.head.loose_bytes.saturating_add(entry_bytes(&key, entry.bytes.unwrap_or(0)));
    entry.loose = Some(n);
    entry.dirty = true;
}
