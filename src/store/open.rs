//! Opening: the heads and the state, a count of the keys to tell a clean store from one a crash left
//! behind, and then, only when needed, repair and migration.
//!
//! Opening reads a head per conversation and the state: a few hundred bytes each, never history. The
//! store knows from the heads how many keys it owns; when the storage holds another number (a crash
//! between two writes of a flush, a value planted or removed by someone else), every key is listed and
//! each conversation is made to agree with what is there ([`Store::reconcile`]): loose records past a
//! head's range (written while the head waited, see `lag`) are taken in, other values no head names
//! are removed, names of values that are gone are dropped, and a conversation without a readable head
//! gets one rebuilt from its chunks and loose records. Format 1 keys are moved over chunk by chunk,
//! each copy written before its original is removed ([`Store::migrate_v1`]).
//!
//! A storage call that throws does not make opening fail: what could not be read or checked is left
//! [`Pending`] and the store opens with the rest. [`Store::resume`], at the start of every later
//! operation, retries it: the key listing, each head, the state, then (once nothing waits to be
//! written, as the comparison needs) the format 1 check, the count and the repair. Until a
//! conversation's head is read nothing is written for it, so no head is ever written over one that
//! could not be read; records for it wait in memory (see `Deferred`).

use rustc_hash::FxHashMap;

use crate::vecmap::VecMap;

use super::backend::{Backend, FlatNumbers, Shape};
use super::conversation::{Chunk, Conversation, Entry};
use super::layout::{chunk_envelope, chunk_size, read_count, read_mark, KeyName, Keys, Mark};
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

/// What opening could not read or check yet, retried by [`Store::resume`].
#[derive(Debug, Default)]
pub(super) struct Pending {
    /// Listing the heads threw: conversations may exist that memory does not know yet.
    pub listing: bool,
    /// Heads whose read threw, by conversation.
    pub heads: VecMap<String, ()>,
    /// Conversations whose head is there but not one (or not readable as one): they wait for a
    /// repair, and nothing is written for them until it is made.
    pub broken: VecMap<String, ()>,
    /// The state could not be read: it is not written until it is.
    pub state: bool,
    /// Whether format 1 keys are left is not known.
    pub v1: bool,
    /// The keys were not counted against what the heads name.
    pub count: bool,
    /// The keys are to be listed and each conversation made to agree with them.
    pub repair: bool,
    /// Conversations with loose records whose read threw (see `Conversation::unread_loose`).
    pub loose: VecMap<String, ()>,
}

impl Pending {
    pub fn any(&self) -> bool {
        self.listing
            || !self.heads.is_empty()
            || !self.broken.is_empty()
            || self.state
            || self.v1
            || self.count
            || self.repair
            || !self.loose.is_empty()
    }

    /// Reads or checks left, for the open report.
    pub fn reads(&self) -> usize {
        usize::from(self.listing)
            + self.heads.len()
            + self.broken.len()
            + usize::from(self.state)
            + usize::from(self.v1)
            + usize::from(self.count || self.repair)
    }
}

impl<B: Backend> Store<B> {
    /// Opens the store of `user` on `backend`, reading its heads. Unreadable values are skipped and
    /// listed in the report. A storage call that throws leaves what it would have read or checked
    /// pending, retried by later operations ([`Store::resume`]): opening fails only for bad input.
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
            fetched: Default::default(),
            cache: Vec::new(),
            pending: Pending { listing: true, state: true, v1: true, count: true, ..Pending::default() },
            deferred: Vec::new(),
            full_freed: 0,
            lag_heads: false,
            waiting: false,
        };
        let mut report = OpenReport::default();
        let prefix = store.keys.prefix().to_string();
        let total = store.backend.count(&prefix).ok();
        let v1 = store.backend.count(store.keys.v1_prefix()).ok();
        store.list_heads();
        store.read_state();
        store.verify(&mut report, total, v1);
        store.recount_bytes();
        report.conversations = store.conversations.values().filter(|c| c.has_records()).count();
        report.skipped_keys = store.skipped_keys.clone();
        report.skipped_records = store.skipped_records;
        report.pending = store.pending.reads();
        Ok((store, report))
    }

    /// Lists the heads and reads those memory lacks; when the listing throws it stays pending.
    fn list_heads(&mut self) {
        let Ok(mut heads) = self.backend.keys(&self.keys.heads()) else {
            return;
        };
        // In key order, each conversation lands at the end of the sorted map: nothing shifts. The host
        // hands them over sorted; checking is one comparison a key, where the wasm's sort (std built to
        // be small: a heapsort) would make some sixteen (a second createChat of the full store on jsc
        // --useJIT=false: 13.5 -> 11.8 ms).
        if !heads.is_sorted() {
            heads.sort_unstable();
        }
        for key in heads {
            match self.keys.parse(&key) {
                Some(KeyName::Head(name)) => {
                    if !self.conversations.contains_key(&name) && !self.pending.broken.contains_key(&name) {
                        self.read_head(&key, &name);
                    }
                }
                _ => self.pending.repair = true,
            }
        }
        self.pending.listing = false;
    }

    /// Reads a head into memory. One whose read throws stays pending; one that is not a head waits
    /// for the repair, which rebuilds it from its records.
    fn read_head(&mut self, key: &str, name: &str) {
        match self.open_head(key, name) {
            Ok(Some(bytes)) => {
                self.pending.heads.remove(name);
                // Counted from here on (opening counts everything again at its end).
                self.bytes_used = self.bytes_used.saturating_add(bytes);
            }
            Ok(None) => {
                self.pending.heads.remove(name);
                self.pending.broken.insert(name.to_string(), ());
                self.pending.repair = true;
            }
            Err(_) => {
                self.pending.heads.insert(name.to_string(), ());
            }
        }
    }

    /// Reads the state, unless it is read; it stays pending when the read throws.
    fn read_state(&mut self) {
        if !self.pending.state {
            return;
        }
        let before = self.state_stored.bytes() + self.foreign_bytes + self.extras.values().map(|e| e.stored).sum::<u64>();
        match self.open_state() {
            Ok(clean) => {
                self.pending.state = false;
                self.pending.repair |= !clean;
                let after = self.state_stored.bytes() + self.foreign_bytes + self.extras.values().map(|e| e.stored).sum::<u64>();
                self.bytes_used = self.bytes_used.saturating_sub(before).saturating_add(after);
            }
            Err(_) => {}
        }
    }

    /// Moves format 1 over, counts the keys, and repairs when they disagree with what the heads
    /// name; a step that cannot be made now stays pending. `total` and `v1` are counts opening
    /// already made. Needs every head and the state read (a head not read could be taken for a
    /// conversation to move or to rebuild). Returns whether it changed memory beyond the heads' own
    /// counts (a move or a repair), after which the bytes are counted again.
    fn verify(&mut self, report: &mut OpenReport, mut total: Option<u64>, v1: Option<u64>) -> bool {
        if self.pending.listing || !self.pending.heads.is_empty() || self.pending.state {
            return false;
        }
        let mut changed = false;
        if self.pending.v1 {
            let v1 = match v1 {
                Some(n) => Ok(n),
                None => self.backend.count(self.keys.v1_prefix()),
            };
            match v1 {
                Err(_) => return false,
                Ok(0) => self.pending.v1 = false,
                Ok(_) => {
                    total = None;
                    changed = true;
                    // One that cannot finish now is tried again; the count and the repair go on
                    // (conversations whose move waits are left to it).
                    if self.migrate_v1(report).is_ok() {
                        self.pending.v1 = false;
                    }
                }
            }
        }
        if self.pending.count {
            let counted = match total {
                Some(n) => Ok(n),
                None => self.backend.count(self.keys.prefix()),
            };
            let Ok(total) = counted else {
                return changed;
            };
            self.pending.count = false;
            self.pending.repair |= total != self.expected_keys();
        }
        if self.pending.repair {
            changed = true;
            if let Ok(true) = self.reconcile(report) {
                self.pending.repair = false;
            }
        }
        changed
    }

    /// Retries what opening (or an earlier retry) could not read or check, and places records that
    /// wait for it. Costs nothing when nothing waits. Called at the start of each operation.
    pub(super) fn resume(&mut self) {
        if !self.pending.any() && self.deferred.is_empty() {
            return;
        }
        if self.pending.listing {
            self.list_heads();
        }
        let heads: Vec<String> = self.pending.heads.keys().cloned().collect();
        for name in heads {
            let key = self.keys.head(&name);
            self.read_head(&key, &name);
        }
        self.read_state();
        // Here, before the operation finds any record by its place: reading one in moves the others.
        let loose: Vec<String> = self.pending.loose.keys().cloned().collect();
        for name in loose {
            self.retry_loose(&name);
        }
        // The count and the repair compare storage with memory: only when memory has nothing unwritten
        // (heads that wait are written for it).
        let checks = self.pending.v1 || self.pending.count || self.pending.repair;
        if checks && self.waiting {
            self.finish(None);
        }
        if checks && self.is_clean() {
            let mut report = OpenReport::default();
            if self.verify(&mut report, None, None) {
                self.recount_bytes();
            }
        }
        self.place_deferred();
    }

    /// Whether memory holds nothing that storage lacks.
    fn is_clean(&self) -> bool {
        self.removals.is_empty()
            && !self.state_dirty
            && self.extras.values().all(|e| e.pending.is_none())
            && self.conversations.values().all(|c| !c.has_unsaved())
    }

    /// Whether records of conversation `name` can be placed now: its head is read if it has one,
    /// and nothing about it is unknown (a repair it waits for, history in format 1). A head that
    /// is pending is read again here, on first use.
    pub(super) fn ready(&mut self, name: &str) -> Result<()> {
        if self.pending.heads.contains_key(name) {
            let key = self.keys.head(name);
            self.read_head(&key, name);
        }
        if self.conversations.contains_key(name) {
            return Ok(());
        }
        if self.pending.heads.contains_key(name) {
            return Err(Error::storage(format!("the head of {name} could not be read; its records wait in memory")));
        }
        if self.pending.broken.contains_key(name) {
            return Err(Error::storage(format!(
                "{name} waits for a repair of its head, which needs a listing of the keys; its records wait in memory"
            )));
        }
        if self.pending.v1 {
            return Err(Error::storage(format!(
                "whether {name} has history in the previous storage format is not known yet; its records wait in memory"
            )));
        }
        if self.pending.listing {
            // Its head may be there, unlisted: read it alone.
            let key = self.keys.head(name);
            if let Some((doc, _)) = self.fetch(&key, Shape::Whole)? {
                self.backend.release(doc);
                self.read_head(&key, name);
                if !self.conversations.contains_key(name) {
                    return Err(Error::storage(format!("the head of {name} could not be read; its records wait in memory")));
                }
            }
        }
        Ok(())
    }

    /// Places the records that waited for their conversation, where that can be done now.
    fn place_deferred(&mut self) {
        if self.deferred.is_empty() {
            return;
        }
        let mut waiting = Vec::new();
        for d in std::mem::take(&mut self.deferred) {
            match self.insert_in_memory(d.meta.clone(), &d.conversation, d.doc, d.bytes) {
                Ok(true) => {}
                Ok(false) => self.backend.release(d.doc),
                Err(Error::Storage(_)) => waiting.push(d),
                Err(Error::Input(_)) => self.backend.release(d.doc),
            }
        }
        self.deferred = waiting;
    }

    /// Reads one head: the bytes the conversation holds by it (0 when there is no head), `None` when it
    /// cannot be read (the conversation is then repaired).
    fn open_head(&mut self, key: &str, name: &str) -> Result<Option<u64>> {
        let Ok(id) = ConversationId::parse(name) else {
            return Ok(None);
        };
        // Read into the conversation where it stays: the head is not moved after. Handed over as
        // numbers where the backend can and the head is of the common shape; else read whole.
        let mut conv = Box::new(Conversation::opened(id));
        let mut numbers = FlatNumbers::default();
        let flat = match self.backend.flat_head(key, &mut numbers)? {
            Some(strings) => conv.head.decode_flat(&numbers, strings.root(), name),
            None => None,
        };
        let size = match flat {
            Some(size) => size,
            None => {
                let Some(tape) = self.backend.peek(key, Shape::Head)? else {
                    return Ok(Some(0));
                };
                let Some(size) = conv.head.decode_into(tape.root(), name) else {
                    return Ok(None);
                };
                size
            }
        };
        conv.head_stored = Stored::Bytes(size);
        let head = &mut conv.head;
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
        let bytes = size.saturating_add(head.sealed_bytes).saturating_add(head.loose_bytes);
        self.conversations.insert(name.to_string(), conv);
        Ok(Some(bytes))
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
        // Added to what this session counted, when the state is read late (see `Pending`).
        self.evicted_records = self.evicted_records.saturating_add(read_count(root, "er").unwrap_or(0));
        self.evicted_chunks = self.evicted_chunks.saturating_add(read_count(root, "ec").unwrap_or(0));
        // Values under the prefix that are not the store's, counted when they were found.
        self.foreign_keys = read_count(root, "fk").unwrap_or(0);
        self.foreign_bytes = read_count(root, "fb").unwrap_or(0);
        for (name, bytes) in root.get("x").map(|x| x.entries().collect::<Vec<_>>()).unwrap_or_default() {
            let bytes = bytes.as_f64().filter(|n| *n > 0.0 && n.fract() == 0.0).unwrap_or(0.0) as u64;
            self.extras.get_or_insert_with(name.to_string(), Extra::default).stored = bytes;
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
    /// `Ok(false)` when a conversation could not be read whole and waits for the next try; `Err`
    /// when the listing (or a value outside the conversations) could not be read.
    fn reconcile(&mut self, report: &mut OpenReport) -> Result<bool> {
        let keys = self.backend.keys(self.keys.prefix())?;
        (self.foreign_keys, self.foreign_bytes) = (0, 0);
        self.state_dirty = true;
        let mut found: VecMap<String, Found> = VecMap::new();
        let mut foreign = Vec::new();
        for key in keys {
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
            if self.conversations.get(name).is_some_and(|c| !c.has_unsaved()) {
                if let Some(conv) = self.conversations.remove(name) {
                    for doc in conv.docs() {
                        self.backend.release(doc);
                    }
                }
            }
        }
        let mut whole = true;
        for (name, mut keys) in found {
            if self.paused_v1.contains_key(&name) {
                // Its copies so far wait for the migration to resume: building a head from them
                // would have the rest of format 1 taken for leftovers.
                continue;
            }
            keys.loose.sort_unstable();
            keys.chunks.sort_unstable();
            if keys.head && !self.conversations.contains_key(&name) && !self.pending.broken.contains_key(&name) {
                // A head written since the listing opening made (by another chat on this storage).
                let key = self.keys.head(&name);
                self.read_head(&key, &name);
                if self.pending.heads.contains_key(&name) {
                    whole = false;
                    continue;
                }
            }
            let repaired = match self.conversations.contains_key(&name) {
                true => self.repair(&name, &keys),
                false => self.rebuild(&name, &keys),
            };
            match repaired {
                Ok(repaired) => {
                    report.rebuilt += usize::from(repaired);
                    self.pending.broken.remove(&name);
                }
                // Read again with the next try; nothing is written for it until then.
                Err(_) => whole = false,
            }
        }
        for key in foreign {
            if let Some((doc, _)) = self.fetch(&key, Shape::Whole)? {
                self.foreign_bytes += self.measured(&key, doc);
                self.foreign_keys += 1;
                self.backend.release(doc);
            }
            self.skip(key);
        }
        if whole {
            // Every conversation on storage was read: one still waiting has no keys left.
            self.pending.broken = VecMap::new();
        }
        Ok(whole)
    }

    /// Makes a conversation with a readable head agree with its keys; true when anything changed.
    fn repair(&mut self, name: &str, keys: &Found) -> Result<bool> {
        let Some(conv) = self.conversations.get(name) else {
            return Ok(false);
        };
        // Records written after the head (a head that waited, see `lag`) are taken in; while memory
        // holds the loose records (a listing later in a session) it is the head that is current.
        let ahead: Vec<u64> = match conv.loose {
            None => keys.loose.iter().copied().filter(|n| *n >= conv.head.loose_next).collect(),
            Some(_) => Vec::new(),
        };
        let adopted = !ahead.is_empty() && self.adopt_ahead(name, Some(&ahead))?;
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
                    .filter(|n| !ahead.contains(n))
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
            return Ok(adopted || !orphans.is_empty());
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
            let held: Vec<super::Doc> = conv.loose.take().into_iter().flatten().map(|e| e.doc).chain(conv.newest.take().map(|e| e.doc)).collect();
            conv.unread_loose.clear();
            for doc in held {
                self.backend.release(doc);
            }
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
            let fetched = match self.fetch(&key, Shape::Record) {
                Ok(fetched) => fetched,
                Err(e) => {
                    for entry in loose {
                        self.backend.release(entry.doc);
                    }
                    return Err(e);
                }
            };
            let Some((doc, tape)) = fetched else {
                continue;
            };
            let size = self.measured(&key, doc);
            match RecordMeta::from_val(tape.root(), &id) {
                // A second copy of a record (a move interrupted between write and removal): the first stays.
                Some(meta) if seen.contains(&meta.id) => {
                    self.backend.release(doc);
                    if let Err(e) = self.backend.remove(&key) {
                        for entry in loose {
                            self.backend.release(entry.doc);
                        }
                        return Err(e);
                    }
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
            match self.conversations.get(&name) {
                // Moved already: what is left of format 1 lost the race to be removed.
                Some(conv) if conv.head_stored != Stored::Absent => {
                    for seq in seqs {
                        self.backend.remove(&v1_chunk_key(&self.keys, &name, seq))?;
                    }
                    continue;
                }
                // Records of it came before its format 1 history was moved: that waits for an open.
                Some(_) => {
                    self.paused_v1.insert(name, ());
                    continue;
                }
                None => {}
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
        self.resume();
        let mut report = MigrationReport::default();
        // A listing that throws finds nothing this time: the next chat created with `migrate` tries again.
        let mut keys = self.backend.keys("group_").unwrap_or_default();
        keys.extend(self.backend.keys("rendered_").unwrap_or_default());
        for key in keys {
            let Ok(fetched) = self.fetch(&key, Shape::Whole) else {
                report.keys_kept.push(key);
                continue;
            };
            let Some((doc, tape)) = fetched else {
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
            let mut held = true;
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
                match self.insert_in_memory(meta, &conversation, doc, json.len() as u64) {
                    Ok(true) => report.imported += 1,
                    Ok(false) => {
                        self.backend.release(doc);
                        report.duplicates += 1;
                    }
                    // Its conversation cannot be read now: the old key stays, for the next import.
                    Err(_) => {
                        self.backend.release(doc);
                        held = false;
                    }
                }
            }
            let durable = held && mapped > 0 && self.finish(Some(&conversation.name())).is_none();
            if durable && self.backend.remove(&key).is_ok() {
                report.keys_removed += 1;
            } else {
                report.keys_kept.push(key);
            }
        }
        Ok(report)
    }
}
