//! Opening: the heads and the state, a count of the keys to tell a clean store from one a crash left
//! behind, and then, only when needed, repair and migration.
//!
//! Opening reads a head per conversation and the state: a few hundred bytes each, never history. The
//! store knows from the heads how many keys it owns; when the storage holds another number (a crash
//! between two writes of a flush, a value planted or removed by someone else), every key is listed and
//! each conversation is made to agree with what is there ([`Store::reconcile`]): values no head names
//! are removed, names of values that are gone are dropped, and a conversation without a readable head
//! gets one rebuilt from its chunks and loose records. Format 1 keys are moved over chunk by chunk,
//! each copy written before its original is removed ([`Store::migrate_v1`]).

use rustc_hash::FxHashMap;

use crate::vecmap::VecMap;

use super::backend::{Backend, Shape};
use super::conversation::{Chunk, Conversation, Entry};
use super::layout::{chunk_envelope, chunk_size, read_count, read_mark, Head, KeyName, Keys, Mark};
use super::legacy::{kind_hint, legacy_conversation};
use super::{legacy_record, Extra, MigrationReport, OpenReport, RecordMeta, Store, StoreOptions, Stored};
use crate::error::{Error, Result};
use crate::kind::ConversationId;
use crate::tape::Val;

/// Keys of one conversation found by a listing.
#[derive(Debug, Default)]
struct Found {
    head: bool,
    loose: Vec<u64>,
    chunks: Vec<u64>,
}

impl<B: Backend> Store<B> {
    /// Opens the store of `user` on `backend`, reading its heads. Unreadable values are skipped and
    /// listed in the report; a storage call that throws makes opening fail (try again later).
    pub fn open(backend: B, user: &str, options: StoreOptions) -> Result<(Self, OpenReport)> {
        if user.is_empty() {
            return Err(Error::input("the store needs the logged-in user id; got an empty string"));
        }
        let mut store = Store {
            backend,
            keys: Keys::new(user),
            user: user.to_string(),
            options,
            conversations: VecMap::new(),
            index: FxHashMap::default(),
            muted: VecMap::new(),
            evicted_records: 0,
            evicted_chunks: 0,
            state_stored: Stored::Absent,
            state_dirty: false,
            extras: VecMap::new(),
            sends: Default::default(),
            removals: Vec::new(),
            bytes_used: 0,
            foreign_bytes: 0,
            foreign_keys: 0,
            skipped_corrupt: 0,
            skipped_keys: Vec::new(),
            skipped_records: 0,
            paused_v1: VecMap::new(),
            evictions: Vec::new(),
            cache: Vec::new(),
        };
        let mut report = OpenReport::default();
        let prefix = store.keys.prefix().to_string();
        let total = store.backend.count(&prefix)?;
        let v1 = store.backend.count(store.keys.v1_prefix())?;
        let mut clean = true;
        // In key order, each conversation lands at the end of the sorted map: nothing shifts.
        let mut heads = store.backend.keys(&store.keys.heads())?;
        heads.sort_unstable();
        for key in heads {
            clean &= match store.keys.parse(&key) {
                Some(KeyName::Head(name)) => store.open_head(&key, &name)?,
                _ => false,
            };
        }
        clean &= store.open_state()?;
        if v1 > 0 {
            store.migrate_v1(&mut report)?;
        }
        let total = if v1 > 0 { store.backend.count(&prefix)? } else { total };
        if !clean || total != store.expected_keys() {
            store.reconcile(&mut report)?;
        }
        store.recount_bytes();
        report.conversations = store.conversations.values().filter(|c| c.has_records()).count();
        report.skipped_keys = store.skipped_keys.clone();
        report.skipped_records = store.skipped_records;
        Ok((store, report))
    }

    /// Reads one head; false when it cannot be read (the conversation is then repaired).
    fn open_head(&mut self, key: &str, name: &str) -> Result<bool> {
        let Ok(id) = ConversationId::parse(name) else {
            return Ok(false);
        };
        let Some((doc, tape)) = self.fetch(key, Shape::Whole)? else {
            return Ok(true);
        };
        self.backend.release(doc);
        let Some((mut head, size)) = Head::decode(tape.root(), name) else {
            return Ok(false);
        };
        // Values the last flush rewrote after writing this head: whichever version is there counts.
        for seq in std::mem::take(&mut head.rewrites) {
            let key = self.keys.chunk(name, seq);
            if let Some((doc, tape)) = self.fetch(&key, Shape::Chunk)? {
                head.sealed_bytes += chunk_size(tape.root(), name).unwrap_or_else(|| self.measured(&key, doc));
                self.release_all(doc, tape.root());
            }
        }
        for n in std::mem::take(&mut head.loose_rewrites) {
            let key = self.keys.loose(name, n);
            if let Some((doc, _)) = self.fetch(&key, Shape::Record)? {
                head.loose_bytes += self.measured(&key, doc);
                self.backend.release(doc);
            }
        }
        self.conversations.insert(name.to_string(), Box::new(Conversation::opened(id, head, size)));
        Ok(true)
    }

    /// Reads the state (muted conversations, eviction counters, extras); false when unreadable.
    fn open_state(&mut self) -> Result<bool> {
        let key = self.keys.state();
        let Some((doc, tape)) = self.fetch(&key, Shape::Whole)? else {
            return Ok(true);
        };
        let root = tape.root();
        let size = super::layout::size_field(root, 0).filter(|_| super::layout::is_current(root));
        let muted: Option<Vec<String>> = root.get("m").and_then(|m| m.items().map(Val::as_str).collect());
        let (Some(size), Some(muted)) = (size, muted) else {
            self.state_stored = Stored::Bytes(self.measured(&key, doc));
            self.backend.release(doc);
            self.skip(key);
            self.state_dirty = true;
            return Ok(false);
        };
        self.backend.release(doc);
        self.state_stored = Stored::Bytes(size);
        self.muted = muted.into_iter().map(|m| (m, ())).collect();
        self.evicted_records = read_count(root, "er").unwrap_or(0);
        self.evicted_chunks = read_count(root, "ec").unwrap_or(0);
        // Values under the prefix that are not the store's, counted when they were found.
        self.foreign_keys = read_count(root, "fk").unwrap_or(0);
        self.foreign_bytes = read_count(root, "fb").unwrap_or(0);
        for (name, bytes) in root.get("x").map(|x| x.entries().collect::<Vec<_>>()).unwrap_or_default() {
            let bytes = bytes.as_f64().filter(|n| *n > 0.0 && n.fract() == 0.0).unwrap_or(0.0) as u64;
            self.extras.insert(name.to_string(), Extra { stored: bytes, ..Extra::default() });
        }
        Ok(true)
    }

    /// How many keys the heads and the state say the store owns.
    fn expected_keys(&self) -> u64 {
        let mut keys = u64::from(self.state_stored != Stored::Absent);
        keys += self.extras.values().filter(|e| e.stored > 0).count() as u64;
        for conv in self.conversations.values() {
            keys += u64::from(conv.head_stored != Stored::Absent) + conv.head.sealed.count();
            keys += conv.loose_count().saturating_sub(conv.head.loose_holes.len() as u64);
        }
        keys + self.foreign_keys
    }

    fn recount_bytes(&mut self) {
        let mut bytes = self.state_stored.bytes() + self.foreign_bytes;
        bytes += self.extras.values().map(|e| e.stored).sum::<u64>();
        for conv in self.conversations.values() {
            bytes += conv.head_stored.bytes() + conv.head.sealed_bytes + conv.head.loose_bytes;
        }
        self.bytes_used = bytes;
    }

    /// Lists every key and makes each conversation agree with what is on storage (module docs).
    fn reconcile(&mut self, report: &mut OpenReport) -> Result<()> {
        (self.foreign_keys, self.foreign_bytes) = (0, 0);
        self.state_dirty = true;
        let mut found: VecMap<String, Found> = VecMap::new();
        let mut foreign = Vec::new();
        for key in self.backend.keys(self.keys.prefix())? {
            match self.keys.parse(&key) {
                Some(KeyName::Head(name)) => found.get_or_insert_with(name, Found::default).head = true,
                Some(KeyName::Loose(name, n)) => found.get_or_insert_with(name, Found::default).loose.push(n),
                Some(KeyName::Chunk(name, seq)) => found.get_or_insert_with(name, Found::default).chunks.push(seq),
                Some(KeyName::Extra(name)) if !self.extras.contains_key(&name) => {
                    if let Some((doc, _)) = self.fetch(&key, Shape::Whole)? {
                        let stored = self.measured(&key, doc);
                        self.backend.release(doc);
                        self.extras.insert(name, Extra { stored, ..Extra::default() });
                        self.state_dirty = true;
                    }
                }
                Some(KeyName::State | KeyName::Extra(_)) => {}
                _ => foreign.push(key),
            }
        }
        let listed: Vec<String> = self.conversations.keys().cloned().collect();
        for name in listed.iter().filter(|n| !found.contains_key(*n)) {
            // A head that was read but whose key is gone: nothing of it is left.
            self.conversations.remove(name);
        }
        for (name, mut keys) in found {
            if self.paused_v1.contains_key(&name) {
                // Its copies so far wait for the migration to resume: building a head from them
                // would have the rest of format 1 taken for leftovers.
                continue;
            }
            keys.loose.sort_unstable();
            keys.chunks.sort_unstable();
            let repaired = match self.conversations.contains_key(&name) {
                true => self.repair(&name, &keys)?,
                false => self.rebuild(&name, &keys)?,
            };
            report.rebuilt += usize::from(repaired);
        }
        for key in foreign {
            if let Some((doc, _)) = self.fetch(&key, Shape::Whole)? {
                self.foreign_bytes += self.measured(&key, doc);
                self.foreign_keys += 1;
                self.backend.release(doc);
            }
            self.skip(key);
        }
        Ok(())
    }

    /// Makes a conversation with a readable head agree with its keys; true when anything changed.
    fn repair(&mut self, name: &str, keys: &Found) -> Result<bool> {
        let Some(conv) = self.conversations.get(name) else {
            return Ok(false);
        };
        let head = conv.head.clone();
        let live = head.loose_from..head.loose_next;
        let orphans: Vec<String> = keys
            .chunks
            .iter()
            .filter(|s| !head.sealed.contains(**s))
            .map(|s| self.keys.chunk(name, *s))
            .chain(
                keys.loose
                    .iter()
                    .filter(|n| !live.contains(n) || head.loose_holes.contains(n))
                    .map(|n| self.keys.loose(name, *n)),
            )
            .collect();
        let lost_chunks: Vec<u64> = head.sealed.seqs().into_iter().filter(|s| !keys.chunks.contains(s)).collect();
        let lost_loose: Vec<u64> =
            live.clone().filter(|n| !keys.loose.contains(n) && !head.loose_holes.contains(n)).collect();
        for key in &orphans {
            self.backend.remove(key)?;
        }
        if lost_chunks.is_empty() && lost_loose.is_empty() {
            return Ok(!orphans.is_empty());
        }
        let mut head = head;
        for seq in &lost_chunks {
            head.sealed.remove(*seq);
        }
        head.loose_holes.extend(lost_loose);
        head.loose_holes.sort_unstable();
        // What is left is measured: the byte totals in the head counted what is gone.
        let mut sealed_bytes = 0;
        for seq in head.sealed.seqs() {
            let key = self.keys.chunk(name, seq);
            if let Some((doc, tape)) = self.fetch(&key, Shape::Chunk)? {
                sealed_bytes += chunk_size(tape.root(), name).unwrap_or_else(|| self.measured(&key, doc));
                self.release_all(doc, tape.root());
            }
        }
        let mut loose_bytes = 0;
        for n in live.clone().filter(|n| !head.loose_holes.contains(n)) {
            let key = self.keys.loose(name, n);
            if let Some((doc, _)) = self.fetch(&key, Shape::Record)? {
                loose_bytes += self.measured(&key, doc);
                self.backend.release(doc);
            }
        }
        head.sealed_bytes = sealed_bytes;
        head.loose_bytes = loose_bytes;
        if head.newest_loose.is_some_and(|n| head.loose_holes.contains(&n)) {
            head.newest_loose = None;
        }
        if head.sealed.count() == 0 && live.into_iter().all(|n| head.loose_holes.contains(&n)) {
            // Nothing of it is left: no record, so nothing unread (the list does not show it).
            head.loose_from = head.loose_next;
            head.loose_holes.clear();
            head.unread = 0;
        }
        if let Some(conv) = self.conversations.get_mut(name) {
            conv.head = head;
            conv.head_dirty = true;
            conv.loose = None;
        }
        Ok(true)
    }

    /// Releases a read value's document and those of the records inside it.
    fn release_all(&mut self, doc: super::Doc, root: Val<'_>) {
        for handle in root.get("r").map(|r| r.items().filter_map(|i| i.doc()).collect()).unwrap_or_else(Vec::new) {
            self.backend.release(handle);
        }
        self.backend.release(doc);
    }

    /// Builds a head for a conversation that has chunks or loose records but no readable head: the
    /// chunks stay as they are, the loose records stay loose, the head's counts come from the records.
    fn rebuild(&mut self, name: &str, keys: &Found) -> Result<bool> {
        let Ok(id) = ConversationId::parse(name) else {
            return Ok(false);
        };
        let head_key = self.keys.head(name);
        let head_stored = match keys.head {
            true => match self.fetch(&head_key, Shape::Whole)? {
                Some((doc, _)) => {
                    let size = self.measured(&head_key, doc);
                    self.backend.release(doc);
                    self.skip(head_key.clone());
                    Stored::Bytes(size)
                }
                None => Stored::Absent,
            },
            false => Stored::Absent,
        };
        let mut conv = Conversation::new(id.clone());
        conv.head_stored = head_stored;
        let mut chunks = VecMap::new();
        let mut metas: Vec<RecordMeta> = Vec::new();
        for &seq in &keys.chunks {
            let key = self.keys.chunk(name, seq);
            let Some((doc, tape)) = self.fetch(&key, Shape::Chunk)? else {
                continue;
            };
            let root = tape.root();
            match chunk_size(root, name) {
                Some(size) => {
                    let records: Vec<RecordMeta> = root
                        .get("r")
                        .map(|r| r.items().filter_map(|i| RecordMeta::from_val(i, &id)).collect())
                        .unwrap_or_default();
                    metas.extend(records);
                    conv.head.sealed.insert(seq);
                    conv.head.sealed_bytes += size;
                    chunks.insert(seq, Chunk::unloaded(Stored::Bytes(size)));
                }
                None => {
                    // Unreadable under a chunk's name: kept as a chunk that reads as nothing, so its
                    // number is not reused and eviction can clear it.
                    let size = self.measured(&key, doc);
                    conv.head.sealed.insert(seq);
                    conv.head.sealed_bytes += size;
                    let mut chunk = Chunk::unloaded(Stored::Bytes(size));
                    chunk.body = super::conversation::Body::Corrupt;
                    chunks.insert(seq, chunk);
                    self.skip(key);
                }
            }
            self.release_all(doc, root);
        }
        conv.head.sealed_mark = metas.iter().map(RecordMeta::mark).max();
        let mut loose: Vec<Entry> = Vec::new();
        let mut seen: rustc_hash::FxHashSet<String> = metas.iter().map(|m| m.id.clone()).collect();
        for &n in &keys.loose {
            let key = self.keys.loose(name, n);
            let Some((doc, tape)) = self.fetch(&key, Shape::Record)? else {
                continue;
            };
            let size = self.measured(&key, doc);
            match RecordMeta::from_val(tape.root(), &id) {
                // A second copy of a record (a move interrupted between write and removal): the first stays.
                Some(meta) if seen.contains(&meta.id) => {
                    self.backend.release(doc);
                    self.backend.remove(&key)?;
                }
                Some(meta) => {
                    seen.insert(meta.id.clone());
                    metas.push(meta.clone());
                    conv.head.loose_bytes += size;
                    loose.push(Entry { meta, doc, bytes: None, loose: Some(n), dirty: false, written: Some(size) });
                }
                None => {
                    self.backend.release(doc);
                    self.foreign_bytes += size;
                    self.foreign_keys += 1;
                    self.skip(key);
                }
            }
        }
        if let (Some(first), Some(last)) = (keys.loose.first(), keys.loose.last()) {
            conv.head.loose_from = *first;
            conv.head.loose_next = last + 1;
            conv.head.loose_holes = (*first..=*last).filter(|n| !loose.iter().any(|e| e.loose == Some(*n))).collect();
        }
        let muted = self.muted.contains_key(name);
        metas.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
        for meta in &metas {
            conv.note_record(meta, muted);
        }
        loose.sort_by(|a, b| (a.meta.time, &a.meta.id).cmp(&(b.meta.time, &b.meta.id)));
        for e in &loose {
            self.index.insert(e.meta.id.clone(), (name.to_string(), e.meta.time));
        }
        conv.loose = Some(loose);
        conv.note_newest_loose();
        conv.chunks = Some(chunks);
        conv.head_dirty = true;
        if !conv.has_records() {
            for doc in conv.docs() {
                self.backend.release(doc);
            }
            if conv.head_stored != Stored::Absent {
                self.backend.remove(&head_key)?;
                self.skipped_keys.retain(|k| k != &head_key);
            }
            return Ok(false);
        }
        self.conversations.insert(name.to_string(), Box::new(conv));
        Ok(true)
    }
}


/// Moving format 1 over.
impl<B: Backend> Store<B> {
    /// Converts every format 1 conversation: each chunk is copied (same records) to a format 2 chunk,
    /// then removed; the newest chunk last, after the head (with format 1's unread count and read
    /// marks) is written. A conversation that already has a format 2 head only lost the race to remove
    /// its leftovers; those go.
    fn migrate_v1(&mut self, report: &mut OpenReport) -> Result<()> {
        let mut chunks: VecMap<String, Vec<u64>> = VecMap::new();
        let mut others = Vec::new();
        let mut state = None;
        for key in self.backend.keys(self.keys.v1_prefix())? {
            match self.keys.parse(&key) {
                Some(KeyName::V1Chunk(name, seq)) => chunks.get_or_insert_with(name, Vec::new).push(seq),
                _ if key.ends_with("/state") => state = Some(key),
                _ => others.push(key),
            }
        }
        let mut existing: VecMap<String, Vec<u64>> = VecMap::new();
        for key in self.backend.keys(self.keys.prefix())? {
            if let Some(KeyName::Chunk(name, seq)) = self.keys.parse(&key) {
                existing.get_or_insert_with(name, Vec::new).push(seq);
            }
        }
        if let Some(key) = &state {
            self.migrate_v1_state(key)?;
        }
        for (name, mut seqs) in chunks {
            seqs.sort_unstable();
            if !self.paused_v1.is_empty() {
                self.paused_v1.insert(name, ());
                continue;
            }
            if self.conversations.contains_key(&name) {
                for seq in seqs {
                    self.backend.remove(&v1_chunk_key(&self.keys, &name, seq))?;
                }
                continue;
            }
            let adopted = existing.remove(&name).unwrap_or_default();
            match self.migrate_v1_conversation(&name, &seqs, &adopted) {
                Ok(moved) => report.migrated += usize::from(moved),
                // Storage refused a copy: this conversation and the rest wait, whole, for the next
                // open; what was copied is adopted then, as after a crash.
                Err(_) => {
                    self.paused_v1.insert(name, ());
                }
            }
        }
        report.migration_paused = self.paused_v1.len();
        if !self.paused_v1.is_empty() {
            return Ok(());
        }
        // The state moved over reaches storage before format 1's goes.
        if let Some(reason) = self.finish(None) {
            return Err(Error::storage(reason));
        }
        for key in others.into_iter().chain(state) {
            self.backend.remove(&key)?;
        }
        Ok(())
    }

    fn migrate_v1_state(&mut self, key: &str) -> Result<()> {
        let Some((doc, tape)) = self.fetch(key, Shape::Whole)? else {
            return Ok(());
        };
        self.backend.release(doc);
        let root = tape.root();
        if self.state_stored == Stored::Absent {
            if let Some(muted) = root.get("muted") {
                for name in muted.items().filter_map(Val::as_str) {
                    self.muted.insert(name, ());
                }
            }
            self.evicted_records = read_count(root, "evictedRecords").unwrap_or(0);
            self.evicted_chunks = read_count(root, "evictedChunks").unwrap_or(0);
            self.state_dirty = true;
        }
        Ok(())
    }

    fn migrate_v1_conversation(&mut self, name: &str, seqs: &[u64], adopted: &[u64]) -> Result<bool> {
        let Ok(id) = ConversationId::parse(name) else {
            return Ok(false);
        };
        let mut conv = Conversation::new(id.clone());
        conv.head.activity = i64::MIN;
        let mut chunks = VecMap::new();
        let mut newest: Option<Mark> = None;
        let mut metas: Vec<RecordMeta> = Vec::new();
        let targets = seqs;
        // Copies made by an earlier, interrupted migration whose originals are already gone.
        for &seq in adopted.iter().filter(|s| !targets.contains(s)) {
            let key = self.keys.chunk(name, seq);
            if let Some((doc, tape)) = self.fetch(&key, Shape::Chunk)? {
                let root = tape.root();
                if let Some(size) = chunk_size(root, name) {
                    metas.extend(root.get("r").into_iter().flat_map(|r| r.items()).filter_map(|i| RecordMeta::from_val(i, &id)));
                    conv.head.sealed.insert(seq);
                    conv.head.sealed_bytes += size;
                    chunks.insert(seq, Chunk::unloaded(Stored::Bytes(size)));
                }
                self.release_all(doc, root);
            }
        }
        let mut meta_of_v1: Option<(u64, Option<Mark>, Option<Mark>, Option<Mark>)> = None;
        let Some((&tail, older)) = seqs.split_last() else {
            return Ok(false);
        };
        for &seq in older.iter().chain(std::iter::once(&tail)) {
            let v1_key = v1_chunk_key(&self.keys, name, seq);
            let Some((doc, tape)) = self.fetch(&v1_key, Shape::Chunk)? else {
                continue;
            };
            let root = tape.root();
            let is_v1 = root.get("v").and_then(Val::as_f64) == Some(1.0) && root.get("c").is_some_and(|c| c.is_str(name));
            let items: Vec<Val<'_>> = root.get("r").map(|r| r.items().collect()).unwrap_or_default();
            let mut entries = Vec::new();
            for item in items {
                let Some(handle) = item.doc() else { continue };
                match RecordMeta::from_val(item, &id).filter(|_| is_v1) {
                    Some(meta) => entries.push((meta, handle)),
                    None => {
                        self.backend.release(handle);
                        self.skipped_records += usize::from(is_v1);
                    }
                }
            }
            if seq == tail {
                if let Some(m) = root.get("m") {
                    meta_of_v1 = Some((
                        read_count(m, "unread").unwrap_or(0),
                        read_mark(m.get("readMark")),
                        read_mark(m.get("peerReadMark")),
                        read_mark(m.get("mentionMark")),
                    ));
                }
            }
            self.backend.release(doc);
            if !is_v1 {
                self.skip(v1_key.clone());
            }
            entries.sort_by(|a, b| (a.0.time, &a.0.id).cmp(&(b.0.time, &b.0.id)));
            entries.dedup_by(|a, b| a.0.id == b.0.id);
            // Format 1 numbered chunks as format 2 does, so a copy keeps its number.
            let target = seq;
            let mut bytes = Vec::with_capacity(entries.len());
            for (_, handle) in &entries {
                bytes.push(self.backend.measure(*handle)?);
            }
            let docs: Vec<super::Doc> = entries.iter().map(|(_, h)| *h).collect();
            if !entries.is_empty() {
                let key = self.keys.chunk(name, target);
                let (envelope, size) = chunk_envelope(&key, name, target, &bytes);
                let written = self.backend.set_chunk(&key, &envelope, &docs);
                for doc in &docs {
                    self.backend.release(*doc);
                }
                written?;
                conv.head.sealed.insert(target);
                conv.head.sealed_bytes += size;
                chunks.insert(target, Chunk::unloaded(Stored::Bytes(size)));
                newest = entries.last().map(|(m, _)| m.mark()).max(newest);
                metas.extend(entries.into_iter().map(|(m, _)| m));
            }
            if seq != tail {
                self.backend.remove(&v1_key)?;
            }
        }
        metas.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
        let muted = self.muted.contains_key(name);
        match meta_of_v1 {
            Some((unread, read, peer, mention)) => {
                conv.head.unread = unread;
                conv.head.read_mark = read;
                conv.head.peer_read_mark = peer;
                conv.head.mention_mark = mention;
                conv.head.activity = metas.last().map_or(i64::MIN, |m| m.time);
            }
            None => {
                for meta in &metas {
                    conv.note_record(meta, muted);
                }
            }
        }
        conv.head.sealed_mark = metas.last().map(RecordMeta::mark).max(newest);
        conv.loose = Some(Vec::new());
        conv.chunks = Some(chunks);
        if conv.has_records() {
            let key = self.keys.head(name);
            let (json, size) = conv.head.encode(&key);
            self.backend.set_json(&key, &json)?;
            conv.head_stored = Stored::Bytes(size);
            conv.head_dirty = false;
            self.conversations.insert(name.to_string(), Box::new(conv));
        }
        self.backend.remove(&v1_chunk_key(&self.keys, name, tail))?;
        Ok(true)
    }
}

fn v1_chunk_key(keys: &Keys, name: &str, seq: u64) -> String {
    format!("{}c/{}/{seq:016x}", keys.v1_prefix(), super::layout::escape(name))
}

/// Importing history kept the old ways.
impl<B: Backend> Store<B> {
    /// Imports the recipe's `group_<groupId>` arrays and the demo's `rendered_<id><user>` arrays, once:
    /// imported ids de-duplicate, and each old key is removed only after its import is on storage.
    /// Items that do not map to a record are skipped and counted; values that are not arrays are left alone.
    pub fn migrate_legacy(&mut self) -> Result<MigrationReport> {
        let mut report = MigrationReport::default();
        let mut keys = self.backend.keys("group_")?;
        keys.extend(self.backend.keys("rendered_")?);
        for key in keys {
            let Some((doc, tape)) = self.fetch(&key, Shape::Whole)? else {
                continue;
            };
            self.backend.release(doc);
            let root = tape.root();
            if !matches!(root.kind(), crate::tape::Kind::Array) {
                continue;
            }
            let items: Vec<Val<'_>> = root.items().collect();
            let Some(conversation) = legacy_conversation(&key, &self.user, kind_hint(root)) else {
                continue;
            };
            report.keys_found += 1;
            let mut mapped = 0usize;
            for item in items {
                let Some(record) = legacy_record(item, &conversation, &self.user) else {
                    report.skipped += 1;
                    continue;
                };
                let json = record.to_json();
                let meta = RecordMeta::of(&record);
                if Self::check(&meta, &conversation, json.len() as u64).is_err() {
                    report.skipped += 1;
                    continue;
                }
                mapped += 1;
                let doc = self.backend.create(&json)?;
                if self.insert_in_memory(meta, &conversation, doc, json.len() as u64)? {
                    report.imported += 1;
                } else {
                    self.backend.release(doc);
                    report.duplicates += 1;
                }
            }
            let durable = mapped > 0 && self.finish(Some(&conversation.name())).is_none();
            if durable && self.backend.remove(&key).is_ok() {
                report.keys_removed += 1;
            } else {
                report.keys_kept.push(key);
            }
        }
        Ok(report)
    }
}
