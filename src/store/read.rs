//! Reading: loose records, chunks and single records on demand; history pages; the conversation list.

use super::backend::{Backend, Doc, Shape};
use super::conversation::{Body, Chunk, Conversation, Entry};
use super::layout::{chunk_size, Keys, Mark};
use super::{
    conversation_name, entry_bytes, mark_cmp, ConversationSummary, RecordMeta, Removal, Shown, StorageReport,
    Store, Stored, CACHED_CHUNKS,
};
use crate::error::{Error, Result};
use crate::message::Record;
use crate::tape::{Tape, Val};
use rustc_hash::FxHashMap;

/// Where a record is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Location {
    Loose(String, usize),
    Sealed(String, u64, usize),
}

impl Location {
    pub fn conversation(&self) -> &str {
        match self {
            Location::Loose(name, _) | Location::Sealed(name, _, _) => name,
        }
    }
}

/// Sorts entries by mark and drops repeated ids; returns the documents of the dropped ones.
fn sort_dedup(entries: &mut Vec<Entry>) -> Vec<Doc> {
    entries.sort_by(|a, b| (a.meta.time, &a.meta.id).cmp(&(b.meta.time, &b.meta.id)));
    let mut dropped = Vec::new();
    let mut kept: Vec<Entry> = Vec::with_capacity(entries.len());
    for e in entries.drain(..) {
        if kept.last().is_some_and(|k| k.meta.id == e.meta.id) {
            dropped.push(e.doc);
        } else {
            kept.push(e);
        }
    }
    *entries = kept;
    dropped
}

impl<B: Backend> Store<B> {
    /// Reads `key` as a document and its projection; `None` when the key is absent.
    pub(super) fn fetch(&mut self, key: &str, shape: Shape) -> Result<Option<(Doc, Tape)>> {
        let Some(doc) = self.backend.get(key)? else {
            return Ok(None);
        };
        match self.backend.read(doc, shape) {
            Ok(tape) => Ok(Some((doc, tape))),
            Err(e) => {
                self.backend.release(doc);
                Err(e)
            }
        }
    }

    /// Size on storage of a value that is not one of ours: its key plus its JSON.
    pub(super) fn measured(&mut self, key: &str, doc: Doc) -> u64 {
        let bytes = self.backend.measure(doc).unwrap_or(0);
        (key.len() as u64).saturating_add(bytes)
    }

    fn index_entries(&mut self, name: &str, entries: &[Entry]) {
        for e in entries {
            self.index.insert(e.meta.id.clone(), (name.to_string(), e.meta.time));
        }
    }

    /// Reads a conversation's loose records, unless they are in memory. A record whose read throws
    /// is left out and read again with the next call (see `Conversation::unread_loose`).
    pub(super) fn load_loose(&mut self, name: &str) -> Result<()> {
        let Some(conv) = self.conversations.get(name) else {
            return Ok(());
        };
        if conv.loose.is_some() {
            return Ok(());
        }
        if self.pending.count || self.pending.repair {
            // Records written after the head are found by the count of keys, not made yet: they are
            // looked for one by one, so that no new record takes the number of one on storage.
            self.adopt_ahead(name, None)?;
        }
        let Some(conv) = self.conversations.get(name) else {
            return Ok(());
        };
        let id = conv.id.clone();
        let holes = conv.head.loose_holes.clone();
        let range = conv.head.loose_from..conv.head.loose_next;
        let mut entries: Vec<Entry> = Vec::new();
        let mut unreadable: Vec<(u64, u64)> = Vec::new();
        let mut unread: Vec<u64> = Vec::new();
        for n in range.filter(|n| !holes.contains(n)) {
            let key = self.keys.loose(name, n);
            let Ok(fetched) = self.fetch(&key, Shape::Record) else {
                unread.push(n);
                continue;
            };
            let Some((doc, tape)) = fetched else {
                continue;
            };
            match RecordMeta::from_val(tape.root(), &id) {
                Some(meta) => entries.push(Entry { meta, doc, bytes: None, loose: Some(n), dirty: false, written: None }),
                None => {
                    unreadable.push((n, self.measured(&key, doc)));
                    self.backend.release(doc);
                    self.skip(key);
                }
            }
        }
        // A loose key that is not a record was written by someone else: its size is not the one the
        // head counted, so every loose key is measured, and that one goes.
        if !unread.is_empty() {
            // Measuring waits until every loose key reads: those that are not records are dealt with
            // when the ones that threw are read again.
            unread.extend(unreadable.drain(..).map(|(n, _)| n));
            unread.sort_unstable();
        }
        let recount = if unreadable.is_empty() {
            None
        } else {
            let mut total: u64 = unreadable.iter().map(|(_, size)| size).sum();
            for e in entries.iter_mut() {
                let Some(n) = e.loose else { continue };
                let bytes = self.backend.measure(e.doc)?;
                let size = entry_bytes(&self.keys.loose(name, n), bytes);
                (e.bytes, e.written) = (Some(bytes), Some(size));
                total += size;
            }
            Some(total)
        };
        for doc in sort_dedup(&mut entries) {
            self.backend.release(doc);
        }
        self.index_entries(name, &entries);
        if let Some(conv) = self.conversations.get_mut(name) {
            if let Some(newest) = conv.newest.take() {
                self.backend.release(newest.doc);
            }
            if !unread.is_empty() {
                self.pending.loose.insert(name.to_string(), ());
            }
            conv.loose = Some(entries);
            conv.unread_loose = unread;
            if let Some(total) = recount {
                let counted = conv.head.loose_bytes;
                conv.head.loose_bytes = total;
                self.bytes_used = self.bytes_used.saturating_sub(counted).saturating_add(total);
                for (n, size) in unreadable {
                    conv.head.loose_holes.push(n);
                    conv.head.loose_bytes = conv.head.loose_bytes.saturating_sub(size);
                    self.removals.push(Removal { key: self.keys.loose(name, n), bytes: size, after_heads: true, evicted: false });
                }
                conv.note_newest_loose();
                conv.head_dirty = true;
            }
        }
        Ok(())
    }

    /// Reads again the loose records whose read threw. A copy of a record that came again since
    /// (while it could not be read) goes; so does one that is not a record. Only at the start of an
    /// operation ([`Store::resume`]): it moves the loose records, and so their places.
    pub(super) fn retry_loose(&mut self, name: &str) {
        let Some(conv) = self.conversations.get_mut(name).filter(|c| c.loose.is_some()) else {
            self.pending.loose.remove(name);
            return;
        };
        let id = conv.id.clone();
        let slots = std::mem::take(&mut conv.unread_loose);
        let mut still = Vec::new();
        for n in slots {
            let key = self.keys.loose(name, n);
            let fetched = match self.fetch(&key, Shape::Record) {
                Ok(fetched) => fetched,
                Err(_) => {
                    still.push(n);
                    continue;
                }
            };
            let meta = fetched.as_ref().and_then(|(_, tape)| RecordMeta::from_val(tape.root(), &id));
            let known = meta.as_ref().is_some_and(|m| {
                self.conversations.get(name).and_then(|c| c.loose.as_ref()).is_some_and(|l| l.iter().any(|e| e.meta.id == m.id))
            });
            let Some((doc, _)) = fetched else {
                // Gone from storage: a hole.
                if let Some(conv) = self.conversations.get_mut(name) {
                    conv.head.loose_holes.push(n);
                    conv.head.loose_holes.sort_unstable();
                    conv.head_dirty = true;
                }
                continue;
            };
            match meta {
                Some(meta) if !known => {
                    self.index.insert(meta.id.clone(), (name.to_string(), meta.time));
                    if let Some(conv) = self.conversations.get_mut(name) {
                        let entry = Entry { meta, doc, bytes: None, loose: Some(n), dirty: false, written: None };
                        let mark = entry.mark();
                        if let Some(loose) = conv.loose.as_mut() {
                            let at = loose.partition_point(|e| mark_cmp(&e.meta, &mark).is_lt());
                            loose.insert(at, entry);
                        }
                        conv.note_newest_loose();
                    }
                }
                other => {
                    let size = self.measured(&key, doc);
                    self.backend.release(doc);
                    if other.is_none() {
                        self.skip(key.clone());
                    }
                    let muted = self.muted.contains_key(name);
                    if let Some(conv) = self.conversations.get_mut(name) {
                        // The copy kept was counted unread when it came again.
                        if other.as_ref().is_some_and(|m| conv.counts_unread(m, muted)) && conv.head.unread > 0 {
                            conv.head.unread -= 1;
                        }
                        conv.head.loose_holes.push(n);
                        conv.head.loose_holes.sort_unstable();
                        conv.head.loose_bytes = conv.head.loose_bytes.saturating_sub(size);
                        conv.head_dirty = true;
                    }
                    self.removals.push(Removal { key, bytes: size, after_heads: true, evicted: false });
                }
            }
        }
        if still.is_empty() {
            self.pending.loose.remove(name);
        }
        if let Some(conv) = self.conversations.get_mut(name) {
            conv.unread_loose = still;
        }
    }

    /// The newest loose record, read alone when the loose records are not in memory.
    fn load_newest(&mut self, name: &str) -> Result<()> {
        let Some(conv) = self.conversations.get_mut(name) else {
            return Ok(());
        };
        match take_indexed_newest(&self.keys, &mut self.backend, &mut self.index, name, conv) {
            Some(n) => self.read_newest_whole(name, n),
            None => Ok(()),
        }
    }

    /// Reads loose record `n`, the newest of conversation `name`, whole: the head has no index of it, or
    /// the record disagrees with it.
    fn read_newest_whole(&mut self, name: &str, n: u64) -> Result<()> {
        let Some(id) = self.conversations.get(name).map(|c| c.id.clone()) else {
            return Ok(());
        };
        let key = self.keys.loose(name, n);
        // One that cannot be read now is looked for among all the loose records instead.
        let Ok(Some((doc, tape))) = self.fetch(&key, Shape::Record) else {
            return Ok(());
        };
        let Some(meta) = RecordMeta::from_val(tape.root(), &id) else {
            self.backend.release(doc);
            self.skip(key);
            return Ok(());
        };
        self.index.insert(meta.id.clone(), (name.to_string(), meta.time));
        if let Some(conv) = self.conversations.get_mut(name) {
            conv.newest = Some(Entry { meta, doc, bytes: None, loose: Some(n), dirty: false, written: None });
        }
        Ok(())
    }

    /// Lists a conversation's sealed chunks in memory (unread), unless they are.
    pub(super) fn ensure_chunks(&mut self, name: &str) {
        if let Some(conv) = self.conversations.get_mut(name) {
            if conv.chunks.is_none() {
                conv.chunks = Some(
                    conv.head.sealed.seqs().into_iter().map(|seq| (seq, Chunk::unloaded(Stored::Unknown))).collect(),
                );
            }
        }
    }

    /// Sequence numbers of a conversation's sealed chunks, oldest first.
    pub(super) fn seqs(&mut self, name: &str) -> Vec<u64> {
        self.ensure_chunks(name);
        self.conversations
            .get(name)
            .and_then(|c| c.chunks.as_ref())
            .map(|chunks| chunks.keys().copied().collect())
            .unwrap_or_default()
    }

    pub(super) fn chunk(&self, name: &str, seq: u64) -> Option<&Chunk> {
        self.conversations.get(name)?.chunks.as_ref()?.get(&seq)
    }

    pub(super) fn chunk_mut(&mut self, name: &str, seq: u64) -> Option<&mut Chunk> {
        self.conversations.get_mut(name)?.chunks.as_mut()?.get_mut(&seq)
    }

    /// Reads sealed chunk `seq` into memory unless it is there.
    pub(super) fn load_chunk(&mut self, name: &str, seq: u64) -> Result<()> {
        self.ensure_chunks(name);
        if !self.chunk(name, seq).is_some_and(|c| matches!(c.body, Body::Unloaded)) {
            return Ok(());
        }
        let Some(id) = self.conversations.get(name).map(|c| c.id.clone()) else {
            return Ok(());
        };
        let key = self.keys.chunk(name, seq);
        let fetched = self.fetch(&key, Shape::Chunk)?;
        let (stored, body) = match fetched {
            None => {
                self.skip(key);
                (Stored::Absent, Body::Corrupt)
            }
            Some((doc, tape)) => {
                let root = tape.root();
                let records: Vec<Val<'_>> = root.get("r").map(|r| r.items().collect()).unwrap_or_default();
                match chunk_size(root, name) {
                    Some(written) => {
                        let items = records.len();
                        let mut entries = Vec::with_capacity(items);
                        for item in records {
                            let Some(handle) = item.doc() else {
                                continue;
                            };
                            match RecordMeta::from_val(item, &id) {
                                Some(meta) => {
                                    entries.push(Entry { meta, doc: handle, bytes: None, loose: None, dirty: false, written: None })
                                }
                                None => {
                                    self.backend.release(handle);
                                    self.skipped_records += 1;
                                }
                            }
                        }
                        // A chunk with items that are not records was not left as the store wrote it:
                        // its size field cannot be trusted, so it is measured.
                        let size = if entries.len() == items { written } else { self.measured(&key, doc) };
                        if size != written {
                            if let Some(conv) = self.conversations.get_mut(name) {
                                conv.head.sealed_bytes = conv.head.sealed_bytes.saturating_sub(written).saturating_add(size);
                                conv.head_dirty = true;
                            }
                            self.bytes_used = self.bytes_used.saturating_sub(written).saturating_add(size);
                        }
                        self.backend.release(doc);
                        for dup in sort_dedup(&mut entries) {
                            self.backend.release(dup);
                        }
                        self.index_entries(name, &entries);
                        (Stored::Bytes(size), Body::Loaded(entries))
                    }
                    None => {
                        for handle in records.iter().filter_map(|r| r.doc()) {
                            self.backend.release(handle);
                        }
                        let size = self.measured(&key, doc);
                        self.backend.release(doc);
                        self.skip(key);
                        (Stored::Bytes(size), Body::Corrupt)
                    }
                }
            }
        };
        let corrupt = matches!(body, Body::Corrupt);
        if let Some(chunk) = self.chunk_mut(name, seq) {
            chunk.stored = stored;
            match body {
                Body::Loaded(entries) => chunk.set_entries(entries),
                other => chunk.body = other,
            }
        }
        self.cache.push((name.to_string(), seq));
        if corrupt {
            self.recount_sealed(name)?;
        }
        Ok(())
    }

    /// Recounts a conversation's sealed bytes chunk by chunk, after one turned out not to be what the
    /// store wrote (so the head's total, which counted what was written, is off by an unknown amount).
    fn recount_sealed(&mut self, name: &str) -> Result<()> {
        for seq in self.seqs(name) {
            if self.chunk(name, seq).is_some_and(|c| c.stored == Stored::Unknown) {
                self.load_chunk(name, seq)?;
            }
        }
        let seqs = self.seqs(name);
        let total: u64 = seqs.iter().filter_map(|&s| self.chunk(name, s)).map(|c| c.stored.bytes()).sum();
        if let Some(conv) = self.conversations.get_mut(name) {
            self.bytes_used = self.bytes_used.saturating_sub(conv.head.sealed_bytes).saturating_add(total);
            conv.head.sealed_bytes = total;
            conv.head_dirty = true;
        }
        Ok(())
    }

    /// The sealed chunk a record at `mark` belongs in: the first whose last record is at or after
    /// it, else the newest. Reads chunks as a binary search needs them; skips unreadable ones.
    pub(super) fn locate_sealed(&mut self, name: &str, mark: (i64, &str)) -> Result<Option<u64>> {
        loop {
            let candidates: Vec<u64> =
                self.seqs(name).into_iter().filter(|&s| !self.chunk(name, s).is_some_and(Chunk::is_corrupt)).collect();
            let (mut lo, mut hi) = (0usize, candidates.len());
            let mut found_corrupt = false;
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let Some(&seq) = candidates.get(mid) else {
                    break;
                };
                if self.chunk(name, seq).is_some_and(|c| c.range.is_none()) {
                    self.load_chunk(name, seq)?;
                }
                let Some(chunk) = self.chunk(name, seq) else {
                    break;
                };
                if chunk.is_corrupt() {
                    found_corrupt = true;
                    break;
                }
                if chunk.range.as_ref().is_none_or(|(_, last)| (last.0, last.1.as_str()) >= mark) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            if !found_corrupt {
                return Ok(candidates.get(lo).or(candidates.last()).copied());
            }
        }
    }

    /// Where the record `id` is, looking where its time places it in `name`.
    pub(super) fn find_in(&mut self, name: &str, time: i64, id: &str) -> Result<Option<Location>> {
        let Some(conv) = self.conversations.get(name) else {
            return Ok(None);
        };
        // Strays are loose records older than the newest sealed one: looked for among the loose too.
        if conv.is_loose_mark((time, id)) || conv.head.strays > 0 || conv.loose.is_some() {
            self.load_loose(name)?;
            let at = self
                .conversations
                .get(name)
                .and_then(|c| c.loose.as_ref())
                .and_then(|l| l.iter().position(|e| e.meta.id == id));
            if let Some(at) = at {
                return Ok(Some(Location::Loose(name.to_string(), at)));
            }
        }
        let Some(seq) = self.locate_sealed(name, (time, id))? else {
            return Ok(None);
        };
        self.load_chunk(name, seq)?;
        let at = self.chunk(name, seq).and_then(Chunk::entries).and_then(|es| es.iter().position(|e| e.meta.id == id));
        Ok(at.map(|at| Location::Sealed(name.to_string(), seq, at)))
    }

    /// Where the record `id` is, if it was read or written this session.
    pub(super) fn find(&mut self, id: &str) -> Result<Option<Location>> {
        match self.index.get(id).cloned() {
            Some((name, time)) => self.find_in(&name, time, id),
            None => Ok(None),
        }
    }

    pub(super) fn entry_at(&self, loc: &Location) -> Option<&Entry> {
        match loc {
            Location::Loose(name, at) => self.conversations.get(name)?.loose.as_ref()?.get(*at),
            Location::Sealed(name, seq, at) => self.chunk(name, *seq)?.entries()?.get(*at),
        }
    }

    fn shown(&self, name: &str, entry: &Entry) -> Shown {
        let status = self.conversations.get(name).map_or(entry.meta.status, |c| c.presented(&entry.meta));
        Shown { doc: entry.doc, status }
    }

    /// The record `id` as pages see it, if it was read or written this session.
    pub fn get_shown(&mut self, id: &str) -> Result<Option<Shown>> {
        self.begin();
        let Some(loc) = self.find(id)? else {
            return Ok(None);
        };
        Ok(self.entry_at(&loc).map(|e| self.shown(loc.conversation(), e)))
    }

    /// The `limit` newest records of `conversation` older than the record `before` (or the newest),
    /// oldest first. Records not yet on storage are included.
    pub fn history_shown(&mut self, conversation: &str, before: Option<&str>, limit: usize) -> Result<Vec<Shown>> {
        self.begin();
        let name = conversation_name(conversation)?.name();
        if !self.conversations.contains_key(&name) {
            return Ok(Vec::new());
        }
        let bound: Option<Mark> = match before {
            None => None,
            Some(id) => match self.index.get(id) {
                Some((c, time)) if *c == name => Some((*time, id.to_string())),
                _ => {
                    return Err(Error::input(format!(
                        "history of {name}: no record {id:?} to page before; pass the id of a record history returned"
                    )))
                }
            },
        };
        let older = |e: &Entry| bound.as_ref().is_none_or(|b| mark_cmp(&e.meta, b).is_lt());
        self.load_loose(&name)?;
        // Strays (loose records older than the newest sealed one) are merged in by mark at the end;
        // marks are kept only then.
        let strays = self.conversations.get(&name).is_some_and(|c| c.head.strays > 0);
        let mut out: Vec<Shown> = Vec::new();
        let mut marks: Vec<Mark> = Vec::new();
        let in_loose = self
            .conversations
            .get(&name)
            .is_some_and(|c| bound.as_ref().is_none_or(|b| c.is_loose_mark((b.0, b.1.as_str()))));
        if in_loose {
            if let Some(conv) = self.conversations.get(&name) {
                for e in conv.loose.iter().flatten().rev().filter(|e| !conv.is_stray(&e.meta) && older(e)).take(limit) {
                    out.push(self.shown(&name, e));
                    if strays {
                        marks.push(e.mark());
                    }
                }
            }
        }
        let start = match &bound {
            // A chunk that cannot be read now is skipped: the page starts from the newest.
            Some(b) if !in_loose => match self.locate_sealed(&name, (b.0, b.1.as_str())) {
                Ok(start) => start,
                Err(_) => self.seqs(&name).last().copied(),
            },
            _ => self.seqs(&name).last().copied(),
        };
        if let Some(start) = start {
            let seqs: Vec<u64> = self.seqs(&name).into_iter().filter(|&s| s <= start).collect();
            for seq in seqs.into_iter().rev() {
                if out.len() >= limit {
                    break;
                }
                // One that cannot be read now is left out of this page (and read again for the next).
                if self.load_chunk(&name, seq).is_err() {
                    continue;
                }
                let Some(entries) = self.chunk(&name, seq).and_then(Chunk::entries) else {
                    continue;
                };
                for e in entries.iter().rev().filter(|e| older(e)).take(limit - out.len()) {
                    out.push(self.shown(&name, e));
                    if strays {
                        marks.push(e.mark());
                    }
                }
            }
        }
        if strays {
            return Ok(self.merge_strays(&name, out, marks, &older, limit));
        }
        out.reverse();
        Ok(out)
    }

    /// A page (newest first, with marks) with the strays older than its bound merged in: the `limit`
    /// newest of both, oldest first. A stray whose record the page holds too (it came again while
    /// its chunk could not be read) is left out.
    fn merge_strays(
        &self,
        name: &str,
        out: Vec<Shown>,
        marks: Vec<Mark>,
        older: &dyn Fn(&Entry) -> bool,
        limit: usize,
    ) -> Vec<Shown> {
        let mut all: Vec<(Mark, Shown)> = marks.into_iter().zip(out).collect();
        if let Some(conv) = self.conversations.get(name) {
            for e in conv.loose.iter().flatten().filter(|e| conv.is_stray(&e.meta) && older(e)) {
                if !all.iter().any(|(m, _)| m.1 == e.meta.id) {
                    all.push((e.mark(), self.shown(name, e)));
                }
            }
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let skip = all.len().saturating_sub(limit);
        all.into_iter().skip(skip).map(|(_, shown)| shown).collect()
    }

    /// The newest record of a conversation, reading as little as it can.
    /// Values that cannot be read now are passed over (the newest readable record is given).
    pub(super) fn newest(&mut self, name: &str) -> Result<Option<Entry>> {
        self.load_newest(name)?;
        if let Some(conv) = self.conversations.get(name) {
            if let Some(e) = conv.newest_loose_entry().or(conv.newest.as_ref()) {
                return Ok(Some(e.clone()));
            }
            if conv.loose.is_none() && conv.loose_count() > 0 {
                self.load_loose(name)?;
                if let Some(e) = self.conversations.get(name).and_then(|c| c.newest_loose_entry()) {
                    return Ok(Some(e.clone()));
                }
            }
        }
        for seq in self.seqs(name).into_iter().rev() {
            if self.load_chunk(name, seq).is_err() {
                continue;
            }
            if let Some(e) = self.chunk(name, seq).and_then(Chunk::entries).and_then(|es| es.last()) {
                return Ok(Some(e.clone()));
            }
        }
        // Only strays are left readable.
        Ok(self.conversations.get(name).and_then(|c| c.loose.as_ref()?.last()).cloned())
    }

    /// Conversations holding records, most recent activity first.
    ///
    /// Reads first what the list needs and memory lacks (a conversation's newest record), then builds
    /// the rows in one pass over the conversations: a list shown again costs no lookups by name.
    pub fn conversations_shown(&mut self) -> Result<Vec<ConversationSummary<Shown>>> {
        self.begin();
        // The newest loose record alone, where that is all it takes (taken by the head's index of it in
        // one walk, with no lookups by name); others are looked for below.
        let mut whole = Vec::new();
        // Room for a newest record each: the index grows once, not by doubling (each growth rehashes).
        self.index.reserve(self.conversations.len());
        for (name, conv) in self.conversations.iter_mut() {
            if conv.has_records() && conv.newest_in_memory().is_none() {
                if let Some(n) = take_indexed_newest(&self.keys, &mut self.backend, &mut self.index, name, conv) {
                    whole.push((name.clone(), n));
                }
            }
        }
        // Read whole, without asking the host again for what it just refused.
        for (name, n) in &whole {
            self.read_newest_whole(name, *n)?;
        }
        // Sorted as references, the rows built after: where wasm is interpreted, moving rows costs.
        let mut shown = Vec::with_capacity(self.conversations.len());
        // Reading one conversation's chunk may have let another's go from the cache: read it again.
        let mut again = Vec::new();
        for (name, conv) in self.conversations.iter().filter(|(_, c)| c.has_records()) {
            match conv.newest_in_memory() {
                Some(last) => shown.push((last.meta.time, name, conv, last)),
                None => again.push(name.clone()),
            }
        }
        // Most recent first, and by name where times tie: the map's order, which a stable sort keeps.
        shown.sort_by(|a, b| b.0.cmp(&a.0));
        let mut list: Vec<_> = shown.into_iter().map(|(_, name, conv, last)| self.summary(name, conv, last)).collect();
        if again.is_empty() {
            return Ok(list);
        }
        for name in again {
            if let Some(last) = self.newest(&name)? {
                if let Some(conv) = self.conversations.get(&name) {
                    list.push(self.summary(&name, conv, &last));
                }
            }
        }
        list.sort_unstable_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| a.conversation.cmp(&b.conversation)));
        Ok(list)
    }

    fn summary(&self, name: &str, conv: &Conversation, last: &Entry) -> ConversationSummary<Shown> {
        ConversationSummary {
            conversation: name.to_string(),
            updated_at: last.meta.time,
            last: Shown { doc: last.doc, status: conv.presented(&last.meta) },
            unread: conv.head.unread,
            mentions_me: conv
                .head
                .mention_mark
                .as_ref()
                .is_some_and(|mention| conv.head.read_mark.as_ref().is_none_or(|read| read < mention)),
            muted: self.muted.contains_key(name),
        }
    }

    /// Unread records over all conversations that are not muted.
    pub fn unread_total(&self) -> u64 {
        self.conversations
            .iter()
            .filter(|(name, _)| !self.muted.contains_key(*name))
            .map(|(_, c)| c.head.unread)
            .fold(0, u64::saturating_add)
    }

    pub fn report(&self) -> StorageReport {
        let mut keys = u64::from(self.state_stored != Stored::Absent) + self.foreign_keys;
        let mut unsaved = u64::from(self.state_dirty) + self.removals.len() as u64 + self.deferred.len() as u64;
        for conv in self.conversations.values() {
            keys += u64::from(conv.head_stored != Stored::Absent) + conv.head.sealed.count();
            keys += conv.loose_count().saturating_sub(conv.head.loose_holes.len() as u64);
            unsaved += u64::from(conv.head_dirty);
            unsaved += conv.loose.iter().flatten().filter(|e| e.dirty).count() as u64;
            unsaved += conv.chunks.iter().flat_map(|c| c.values()).filter(|c| c.dirty).count() as u64;
        }
        keys += self.extras.values().filter(|e| e.stored > 0).count() as u64;
        unsaved += self.extras.values().filter(|e| e.pending.is_some()).count() as u64;
        StorageReport {
            bytes_used: self.bytes_used,
            total_bytes: self.options.total_bytes,
            keys,
            conversations: self.conversations.values().filter(|c| c.has_records()).count(),
            evicted_records: self.evicted_records,
            evicted_chunks: self.evicted_chunks,
            skipped_corrupt: self.skipped_corrupt,
            skipped_records: self.skipped_records as u64,
            unsaved,
        }
    }

    /// What each operation does first: unloads chunks past the cache size, and retries what could
    /// not be read before ([`Store::resume`]).
    pub(super) fn begin(&mut self) {
        self.trim_cache();
        self.resume();
    }

    /// Unloads sealed chunks beyond the cache size, least recently loaded first; never a dirty one.
    pub(super) fn trim_cache(&mut self) {
        if self.cache.len() <= CACHED_CHUNKS {
            return;
        }
        // Down to three quarters, so a trim happens once per many reads, not with every one.
        let mut excess = self.cache.len().saturating_sub(CACHED_CHUNKS * 3 / 4);
        let mut kept = Vec::with_capacity(self.cache.len());
        for (name, seq) in std::mem::take(&mut self.cache) {
            let unloadable = self.chunk(&name, seq).is_some_and(|c| !c.dirty && matches!(c.body, Body::Loaded(_)));
            if excess > 0 && unloadable {
                excess -= 1;
                if let Some(chunk) = self.chunk_mut(&name, seq) {
                    let docs: Vec<Doc> = chunk.entries().into_iter().flatten().map(|e| e.doc).collect();
                    chunk.body = Body::Unloaded;
                    for doc in docs {
                        self.backend.release(doc);
                    }
                }
            } else if self.chunk(&name, seq).is_some_and(|c| matches!(c.body, Body::Loaded(_))) {
                kept.push((name, seq));
            }
        }
        self.cache = kept;
    }
}

/// Whole records, read back from their documents (native use and tests).
impl<B: Backend> Store<B> {
    fn record_of(&mut self, shown: Shown) -> Result<Option<Record>> {
        let tape = self.backend.read(shown.doc, Shape::Whole)?;
        Ok(Record::from_val(tape.root()).map(|mut r| {
            r.status = shown.status;
            r
        }))
    }

    fn records_of(&mut self, shown: Vec<Shown>) -> Result<Vec<Record>> {
        let mut out = Vec::with_capacity(shown.len());
        for s in shown {
            out.extend(self.record_of(s)?);
        }
        Ok(out)
    }

    /// [`Store::history_shown`], as records.
    pub fn history(&mut self, conversation: &str, before: Option<&str>, limit: usize) -> Result<Vec<Record>> {
        let shown = self.history_shown(conversation, before, limit)?;
        self.records_of(shown)
    }

    /// [`Store::get_shown`], as a record.
    pub fn get(&mut self, id: &str) -> Result<Option<Record>> {
        match self.get_shown(id)? {
            Some(s) => self.record_of(s),
            None => Ok(None),
        }
    }

    /// [`Store::conversations_shown`], with the last record read back.
    pub fn conversations(&mut self) -> Result<Vec<ConversationSummary<Record>>> {
        let list = self.conversations_shown()?;
        let mut out = Vec::with_capacity(list.len());
        for row in list {
            if let Some(last) = self.record_of(row.last)? {
                out.push(ConversationSummary {
                    conversation: row.conversation,
                    last,
                    unread: row.unread,
                    mentions_me: row.mentions_me,
                    updated_at: row.updated_at,
                    muted: row.muted,
                });
            }
        }
        Ok(out)
    }
}

/// Takes conversation `name`'s newest loose record (when memory lacks it and the loose records) as the
/// object storage returns, once the host has checked it against the head's index of it: nothing is
/// decoded. `Some(n)` when the record must be read whole instead (it disagrees, or the head has no
/// index of it), `n` its loose number; `None` when it is in memory now or there is none to read.
/// Takes the store's fields apart so the list can call it while walking the conversations.
fn take_indexed_newest<B: Backend>(
    keys: &Keys,
    backend: &mut B,
    index: &mut FxHashMap<String, (String, i64)>,
    name: &str,
    conv: &mut Conversation,
) -> Option<u64> {
    let (Some(n), true, true) = (conv.head.newest_loose, conv.loose.is_none(), conv.newest.is_none()) else {
        return None;
    };
    let Some(meta) = conv.head.newest.as_ref() else {
        return Some(n);
    };
    let Ok(Some(doc)) = backend.get_record(&keys.loose(name, n), name, meta) else {
        return Some(n);
    };
    let meta = meta.clone();
    index.insert(meta.id.clone(), (name.to_string(), meta.time));
    conv.newest = Some(Entry { meta, doc, bytes: None, loose: Some(n), dirty: false, written: None });
    None
}
