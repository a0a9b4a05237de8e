//! Removing what the user deletes on this phone: one record ([`Store::remove`]), every record of a
//! conversation ([`Store::clear`]), or the conversation itself ([`Store::remove_conversation`]).
//!
//! Everything a removal must read (the record's place, the records a new mention mark is looked for
//! in, every record of a conversation being cleared) is read before anything changes: a read that
//! throws is an error and nothing is removed, so no record is left on storage uncounted.
//!
//! The writes follow the flush's order: the head that no longer names a value is written first, the
//! value removed after it. A crash in between leaves a value no head names, which opening counts and
//! removes; never a head naming a value that is gone. A conversation removed whole is first cleared
//! that way (an empty head, its values removed), and only then is its head removed: a crash at any
//! point leaves at most an empty head, never records without a head, which opening would take back.
//!
//! Limits: like acknowledgements and recalls, `remove` finds the records read or written this session
//! (a page shows only those). A record still being sent is removed from storage; its send goes on.

use super::backend::Backend;
use super::conversation::Entry;
use super::layout::Mark;
use super::read::Location;
use super::{conversation_name, entry_bytes, Removal, Store, Stored, UpdateOutcome};
use crate::error::{Error, Result};

impl<B: Backend> Store<B> {
    /// Removes the stored record `id`: a loose record's key goes (the head notes the hole), a sealed
    /// chunk is rewritten without it, or removed when it held only this record. Its unread count,
    /// the mention mark, the newest record of the list and a send in flight of it follow.
    pub fn remove(&mut self, id: &str) -> Result<UpdateOutcome> {
        self.begin();
        if id.is_empty() {
            return Ok(self.settle(UpdateOutcome::NotFound, None));
        }
        // A record waiting in memory for its conversation: nothing of it is on storage yet.
        if let Some(at) = self.deferred.iter().position(|d| d.meta.id == id) {
            let waiting = self.deferred.remove(at);
            self.backend.release(waiting.doc);
            let outcome = self.settle(UpdateOutcome::Updated, None);
            self.unname_sends(|named, _| named == id);
            return Ok(outcome);
        }
        let unreadable = |e: Error| {
            Error::storage(format!("record {id:?} could not be read from storage now ({e}); nothing was removed"))
        };
        let Some(loc) = self.find(id).map_err(unreadable)? else {
            return Ok(self.settle(UpdateOutcome::NotFound, None));
        };
        let name = loc.conversation().to_string();
        if let Location::Loose(_, at) = &loc {
            self.measure_loose(&name, *at)?;
        }
        let Some(entry) = self.entry_at(&loc).cloned() else {
            return Ok(self.settle(UpdateOutcome::NotFound, None));
        };
        let mention = self.mention_without(&name, &entry.meta.mark()).map_err(unreadable)?;
        // Nothing has changed so far; from here on nothing is read.
        let muted = self.muted.contains_key(&name);
        let taken = match &loc {
            Location::Loose(_, at) => self.take_loose(&name, *at),
            Location::Sealed(_, seq, at) => self.take_sealed(&name, *seq, *at),
        };
        let Some(taken) = taken else {
            return Ok(self.settle(UpdateOutcome::NotFound, None));
        };
        if let Some(conv) = self.conversations.get_mut(&name) {
            if conv.counts_unread(&taken.meta, muted) && conv.head.unread > 0 {
                conv.head.unread -= 1;
            }
            if let Some(mark) = mention {
                conv.head.mention_mark = mark;
            }
            if !conv.has_records() {
                conv.head.unread = 0;
                conv.head.mention_mark = None;
                conv.head.sealed_mark = None;
            }
            conv.note_newest_loose();
            conv.head_dirty = true;
        }
        if self.index.get(id).is_some_and(|(c, _)| *c == name) {
            self.index.remove(id);
        }
        self.backend.release(taken.doc);
        let outcome = self.settle(UpdateOutcome::Updated, Some(&name));
        if outcome == UpdateOutcome::Updated {
            // The record is off storage: its name as a send in flight can go (see `pending`).
            self.unname_sends(|named, _| named == id);
        }
        Ok(outcome)
    }

    /// Removes every record of `conversation`; the conversation stays known (its head, with unread 0)
    /// and leaves the conversation list until a record comes. Reads all of its records first.
    pub fn clear(&mut self, conversation: &str) -> Result<UpdateOutcome> {
        let name = match self.all_read(conversation)? {
            Ok(name) => name,
            Err(outcome) => return Ok(outcome),
        };
        let dropped = self.drop_deferred(&name);
        if !self.empty(&name) && !dropped {
            return Ok(self.settle(UpdateOutcome::Unchanged, None));
        }
        let outcome = self.settle(UpdateOutcome::Updated, Some(&name));
        if outcome == UpdateOutcome::Updated {
            self.unname_sends(|_, of| of == name);
        }
        Ok(outcome)
    }

    /// Removes `conversation` whole: every record, then its head. `Unsaved` when storage refused a
    /// write: the conversation is then left cleared (its records go with the next flush), and its
    /// empty head, a few hundred bytes, stays until this is called again.
    pub fn remove_conversation(&mut self, conversation: &str) -> Result<UpdateOutcome> {
        let name = match self.all_read(conversation)? {
            Ok(name) => name,
            Err(outcome) => return Ok(outcome),
        };
        self.drop_deferred(&name);
        self.empty(&name);
        // First the records go, named by no head; then the head.
        if let Some(reason) = self.finish(Some(&name)) {
            return Ok(UpdateOutcome::Unsaved {
                reason: format!("{reason}; {name} is cleared, and is removed whole when removeConversation is called again"),
            });
        }
        self.unname_sends(|_, of| of == name);
        if let Some(conv) = self.conversations.remove(&name) {
            if conv.head_stored != Stored::Absent {
                let key = self.keys.head(&name);
                self.removals.push(Removal { key, bytes: conv.head_stored.bytes(), after_heads: true, evicted: false });
            }
            for doc in conv.docs() {
                self.backend.release(doc);
            }
        }
        self.cache.retain(|(of, _)| *of != name);
        Ok(self.settle(UpdateOutcome::Updated, None))
    }

    /// What clearing and removing a conversation start with: its canonical name once every record of
    /// it is read, or the outcome already reached when it has no head to change (records of it that
    /// only waited in memory are dropped: `Updated`; nothing at all: `NotFound`).
    fn all_read(&mut self, conversation: &str) -> Result<std::result::Result<String, UpdateOutcome>> {
        self.begin();
        let name = conversation_name(conversation)?.name();
        if !self.removable(&name)? {
            let dropped = self.drop_deferred(&name);
            return Ok(Err(self.settle(if dropped { UpdateOutcome::Updated } else { UpdateOutcome::NotFound }, None)));
        }
        self.read_all(&name)?;
        Ok(Ok(name))
    }

    /// Flushes, then wraps an outcome: a change that did not reach storage becomes `Unsaved`.
    fn settle(&mut self, outcome: UpdateOutcome, protect: Option<&str>) -> UpdateOutcome {
        match (outcome, self.finish(protect)) {
            (UpdateOutcome::Updated, Some(reason)) => UpdateOutcome::Unsaved { reason },
            (o, _) => o,
        }
    }

    /// Whether `name` is a conversation with a head in memory that can be changed now. An error when
    /// its head cannot be read yet, or its history waits in the previous storage format.
    fn removable(&mut self, name: &str) -> Result<bool> {
        self.ready(name).map_err(|e| Error::storage(format!("{e}; nothing was removed")))?;
        if self.paused_v1.contains_key(name) {
            return Err(Error::storage(format!(
                "{name}'s older history is still in the previous storage format, which could not be moved for lack \
                 of space; nothing was removed"
            )));
        }
        Ok(self.conversations.contains_key(name))
    }

    /// Drops the records of `name` waiting in memory for their conversation. True when there were some.
    fn drop_deferred(&mut self, name: &str) -> bool {
        let (dropped, kept): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.deferred).into_iter().partition(|d| d.conversation.name() == name);
        self.deferred = kept;
        for d in &dropped {
            self.backend.release(d.doc);
        }
        !dropped.is_empty()
    }

    /// Reads every record of `name` (its loose records and each sealed chunk) and measures the loose
    /// ones, so that each value's removal frees its exact size. An error when one cannot be read now.
    fn read_all(&mut self, name: &str) -> Result<()> {
        let unreadable =
            |e: Error| Error::storage(format!("{name} could not be read from storage in full now ({e}); nothing was removed"));
        self.load_loose(name).map_err(unreadable)?;
        let unread = self.conversations.get(name).map_or(0, |c| c.unread_loose.len());
        if unread > 0 {
            return Err(Error::storage(format!(
                "{unread} record(s) of {name} could not be read from storage now; nothing was removed"
            )));
        }
        for seq in self.seqs(name) {
            self.load_chunk(name, seq).map_err(unreadable)?;
        }
        let count = self.conversations.get(name).and_then(|c| c.loose.as_ref()).map_or(0, Vec::len);
        for at in 0..count {
            self.measure_loose(name, at)?;
        }
        Ok(())
    }

    /// Learns the size of the loose record at `at` of `name` when it is not known.
    fn measure_loose(&mut self, name: &str, at: usize) -> Result<()> {
        let Some(e) = self.conversations.get(name).and_then(|c| c.loose.as_ref()?.get(at)) else {
            return Ok(());
        };
        if e.bytes.is_some() {
            return Ok(());
        }
        let bytes = self.backend.measure(e.doc)?;
        if let Some(e) = self.conversations.get_mut(name).and_then(|c| c.loose.as_mut()?.get_mut(at)) {
            e.bytes = Some(bytes);
        }
        Ok(())
    }

    /// What `name`'s mention mark becomes once the record at `removed` is gone: `None` when it does
    /// not change, else the newest other unread record that mentions me. Reads the unread records.
    fn mention_without(&mut self, name: &str, removed: &Mark) -> Result<Option<Option<Mark>>> {
        if self.conversations.get(name).and_then(|c| c.head.mention_mark.as_ref()) != Some(removed) {
            return Ok(None);
        }
        self.load_loose(name)?;
        let read_mark = self.conversations.get(name).and_then(|c| c.head.read_mark.clone());
        let mentions = |store: &Self, entries: &[Entry]| -> Option<Mark> {
            let conv = store.conversations.get(name)?;
            entries
                .iter()
                .filter(|e| e.meta.mentions_me && e.mark() != *removed && conv.counts_unread(&e.meta, false))
                .map(Entry::mark)
                .max()
        };
        let loose = self.conversations.get(name).and_then(|c| c.loose.clone()).unwrap_or_default();
        let mut newest = mentions(self, &loose);
        for seq in self.seqs(name).into_iter().rev() {
            self.load_chunk(name, seq)?;
            let Some(entries) = self.chunk(name, seq).and_then(|c| c.entries()).cloned() else {
                continue;
            };
            newest = newest.max(mentions(self, &entries));
            // Older chunks hold only records read already.
            let first = entries.first().map(Entry::mark);
            if first.is_some_and(|f| read_mark.as_ref().is_some_and(|r| f <= *r)) {
                break;
            }
        }
        Ok(Some(newest))
    }

    /// Takes the loose record at `at` (measured) out of `name`: its number becomes a hole, and its key
    /// is removed after the head that no longer names it.
    fn take_loose(&mut self, name: &str, at: usize) -> Option<Entry> {
        let conv = self.conversations.get_mut(name)?;
        let loose = conv.loose.as_mut()?;
        if at >= loose.len() {
            return None;
        }
        let entry = loose.remove(at);
        let Some(n) = entry.loose else {
            return Some(entry);
        };
        let key = self.keys.loose(name, n);
        let counted = entry_bytes(&key, entry.bytes.unwrap_or(0));
        let on_storage = match (entry.written, entry.dirty) {
            (Some(bytes), _) => Some(bytes),
            (None, false) => Some(counted),
            (None, true) => None,
        };
        conv.head.loose_bytes = conv.head.loose_bytes.saturating_sub(counted);
        if !conv.head.loose_holes.contains(&n) {
            conv.head.loose_holes.push(n);
            conv.head.loose_holes.sort_unstable();
        }
        if conv.loose.as_ref().is_some_and(Vec::is_empty) && conv.unread_loose.is_empty() {
            // No loose record is left: the range starts again after the last number.
            conv.head.loose_from = conv.head.loose_next;
            conv.head.loose_holes.clear();
            conv.head.loose_bytes = 0;
        }
        if let Some(bytes) = on_storage {
            self.removals.push(Removal { key, bytes, after_heads: true, evicted: false });
        }
        Some(entry)
    }

    /// Takes the record at `at` out of sealed chunk `seq` of `name`: the chunk is rewritten without
    /// it, or removed (after the head that no longer names it) when it held only that record.
    fn take_sealed(&mut self, name: &str, seq: u64, at: usize) -> Option<Entry> {
        let chunk = self.chunk_mut(name, seq)?;
        let entry = chunk.edit(|es| (at < es.len()).then(|| es.remove(at))).flatten()?;
        if !chunk.entries().is_some_and(Vec::is_empty) {
            return Some(entry);
        }
        let key = self.keys.chunk(name, seq);
        let conv = self.conversations.get_mut(name)?;
        if let Some(old) = conv.chunks.as_mut().and_then(|c| c.remove(&seq)) {
            conv.head.sealed.remove(seq);
            conv.head.sealed_bytes = conv.head.sealed_bytes.saturating_sub(old.stored.bytes());
            if conv.head.sealed.count() == 0 {
                // No sealed record is left: every loose record is newer than all of them.
                conv.head.sealed_mark = None;
            }
            if old.stored != Stored::Absent {
                self.removals.push(Removal { key, bytes: old.stored.bytes(), after_heads: true, evicted: false });
            }
        }
        self.cache.retain(|(of, s)| !(of == name && *s == seq));
        Some(entry)
    }

    /// Empties `name` in memory (every record read, see [`Store::read_all`]): its head names no value,
    /// and each value on storage is removed after that head is written. False when it held none.
    fn empty(&mut self, name: &str) -> bool {
        self.fetched.remove(name);
        let Some(conv) = self.conversations.get_mut(name) else {
            return false;
        };
        let loose = conv.loose.replace(Vec::new()).unwrap_or_default();
        let chunks = conv.chunks.replace(Default::default()).unwrap_or_default();
        let newest = conv.newest.take();
        let had = !loose.is_empty() || !chunks.is_empty() || newest.is_some() || conv.has_records();
        for seq in conv.head.sealed.seqs() {
            conv.head.sealed.remove(seq);
        }
        let head = &mut conv.head;
        head.loose_from = head.loose_next;
        head.loose_holes.clear();
        head.loose_bytes = 0;
        head.newest_loose = None;
        head.sealed_bytes = 0;
        head.sealed_mark = None;
        head.strays = 0;
        head.unread = 0;
        head.mention_mark = None;
        head.rewrites.clear();
        head.loose_rewrites.clear();
        conv.unread_loose.clear();
        if had {
            conv.head_dirty = true;
        }
        let mut docs = Vec::new();
        for e in &loose {
            docs.push(e.doc);
            let Some(n) = e.loose else { continue };
            let key = self.keys.loose(name, n);
            let on_storage = match (e.written, e.dirty) {
                (Some(bytes), _) => Some(bytes),
                (None, false) => Some(entry_bytes(&key, e.bytes.unwrap_or(0))),
                (None, true) => None,
            };
            if let Some(bytes) = on_storage {
                self.removals.push(Removal { key, bytes, after_heads: true, evicted: false });
            }
        }
        for (seq, chunk) in chunks.iter() {
            docs.extend(chunk.entries().into_iter().flatten().map(|e| e.doc));
            if chunk.stored != Stored::Absent {
                let key = self.keys.chunk(name, *seq);
                self.removals.push(Removal { key, bytes: chunk.stored.bytes(), after_heads: true, evicted: false });
            }
        }
        docs.extend(newest.map(|e| e.doc));
        for doc in docs {
            self.backend.release(doc);
        }
        self.index.retain(|_, (of, _)| of != name);
        self.cache.retain(|(of, _)| of != name);
        had
    }
}
