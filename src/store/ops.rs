//! Operations: storing records, acknowledgements, recalls, read marks, muting, extras.

use super::backend::{Backend, Doc, Patch, Shape};
use super::conversation::{Conversation, Entry};
use super::read::Location;
use super::{
    conversation_name, entry_bytes, raise, Extra, InsertOutcome, RecordMeta, Removal, Store, UpdateOutcome,
    MAX_EXTRA_BYTES,
};
use crate::error::{Error, Result};
use crate::kind::ConversationId;
use crate::message::{Record, Status};
use crate::tape::Tape;

/// Whose read watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Me,
    Peer,
}

impl<B: Backend> Store<B> {
    /// Stores a record held by the backend as `doc` (`bytes` of JSON), whose index is `meta`:
    /// de-duplicated by id, placed in (time, id) order. Incoming records count as unread unless the
    /// conversation is muted; my own never do. The store owns the document from here on.
    pub fn insert_doc(
        &mut self,
        meta: RecordMeta,
        conversation: &ConversationId,
        doc: Doc,
        bytes: u64,
    ) -> Result<InsertOutcome> {
        self.begin();
        let name = conversation.name();
        match self.insert_named(&meta, conversation, &name, doc, bytes) {
            Ok(true) => {}
            Ok(false) => {
                self.backend.release(doc);
                return Ok(InsertOutcome::Duplicate);
            }
            Err(Error::Storage(reason)) => {
                // Where it belongs could not be read: it waits in memory for the next operation.
                if self.deferred.iter().any(|d| d.meta.id == meta.id) {
                    self.backend.release(doc);
                    return Ok(InsertOutcome::Duplicate);
                }
                self.deferred.push(super::Deferred { meta, conversation: conversation.clone(), doc, bytes });
                // Whatever else waits to be written still goes.
                self.finish(None);
                return Ok(InsertOutcome::Unsaved { reason });
            }
            Err(e) => {
                self.backend.release(doc);
                return Err(e);
            }
        }
        self.lag_heads = true;
        let unsaved = self.finish(Some(&name));
        self.lag_heads = false;
        Ok(match unsaved {
            None => InsertOutcome::Stored,
            Some(reason) => InsertOutcome::Unsaved { reason },
        })
    }

    /// Stores a whole record (native use, migration): see [`Store::insert_doc`].
    pub fn insert(&mut self, record: Record) -> Result<InsertOutcome> {
        let id = Self::conversation_of(&record)?;
        let json = record.to_json();
        let doc = self.backend.create(&json)?;
        self.insert_doc(RecordMeta::of(&record), &id, doc, json.len() as u64)
    }

    pub(super) fn conversation_of(record: &Record) -> Result<ConversationId> {
        let id = ConversationId::parse(&record.conversation)?;
        if id.kind != record.kind || id.name() != record.conversation {
            return Err(Error::input(format!(
                "record {:?} has conversation {:?} and kind {}; the store takes normalised records whose \
                 conversation is '<kind>:<id>' with the record's kind",
                record.id, record.conversation, record.kind
            )));
        }
        Ok(id)
    }

    /// Adds a record to memory (not storage); false when it is a repeat.
    pub(super) fn insert_in_memory(
        &mut self,
        meta: RecordMeta,
        conversation: &ConversationId,
        doc: Doc,
        bytes: u64,
    ) -> Result<bool> {
        self.insert_named(&meta, conversation, &conversation.name(), doc, bytes)
    }

    /// [`Store::insert_in_memory`] with the conversation's name at hand.
    fn insert_named(
        &mut self,
        meta: &RecordMeta,
        conversation: &ConversationId,
        name: &str,
        doc: Doc,
        bytes: u64,
    ) -> Result<bool> {
        Self::check(meta, conversation, bytes)?;
        if self.index.contains_key(&meta.id) {
            return Ok(false);
        }
        self.ready(name)?;
        if !self.conversations.contains_key(name) {
            self.conversations.insert(name.to_string(), Box::new(Conversation::new(conversation.clone())));
        }
        let entry = Entry { meta: meta.clone(), doc, bytes: Some(bytes), loose: None, dirty: false, written: None };
        if !self.place(name, entry)? {
            return Ok(false);
        }
        let muted = self.muted.contains_key(name);
        if let Some(conv) = self.conversations.get_mut(name) {
            conv.note_record(meta, muted);
        }
        self.index.insert(meta.id.clone(), (name.to_string(), meta.time));
        Ok(true)
    }

    /// Puts an entry where its mark belongs: among the loose records, or into a sealed chunk.
    /// False when a record with its id is there already.
    fn place(&mut self, name: &str, entry: Entry) -> Result<bool> {
        let is_loose = |store: &Self, entry: &Entry| {
            store.conversations.get(name).is_some_and(|c| c.is_loose_mark((entry.meta.time, &entry.meta.id)))
        };
        if is_loose(self, &entry) {
            // Reading the loose records indexes their ids: a repeat among them is in the index.
            self.load_loose(name)?;
            if self.index.contains_key(&entry.meta.id) {
                return Ok(false);
            }
            // Sealing moves the newest sealed record forward: decide again after it.
            self.seal_if_full(name)?;
        }
        if is_loose(self, &entry) {
            self.place_loose(name, entry)?;
            return Ok(true);
        }
        // Strays (loose records older than the newest sealed one) are read first: a repeat of one
        // is then in the index.
        if self.conversations.get(name).is_some_and(|c| c.head.strays > 0) {
            self.load_loose(name)?;
            if self.index.contains_key(&entry.meta.id) {
                return Ok(false);
            }
        }
        let located = match self.locate_sealed(name, (entry.meta.time, &entry.meta.id)) {
            Ok(Some(seq)) => self.load_chunk(name, seq).map(|()| Some(seq)),
            other => other,
        };
        match located {
            Ok(Some(seq)) => self.place_sealed(name, seq, entry),
            Ok(None) => {
                self.load_loose(name)?;
                self.place_loose(name, entry)?;
                Ok(true)
            }
            // The chunk it belongs in cannot be read now: it is stored loose, as a stray, rather than
            // lost or put out of order (pages merge strays in; see `Conversation::is_stray`).
            Err(_) => {
                self.load_loose(name)?;
                if self.index.contains_key(&entry.meta.id) {
                    return Ok(false);
                }
                self.place_loose(name, entry)?;
                Ok(true)
            }
        }
    }

    /// The SDK acknowledged my message: the `sending` record `local_id` becomes `server_id` with status
    /// `sent` (and the server's time when given). If `server_id` is already stored, the two are merged.
    pub fn ack_sent(&mut self, local_id: &str, server_id: &str, server_time: Option<i64>) -> Result<UpdateOutcome> {
        self.begin();
        let Some(loc) = self.find(local_id)? else {
            let change = |meta: &RecordMeta| Patch {
                id: Some(server_id),
                time: server_time.filter(|t| *t != meta.time),
                status: raise(meta.status, Status::Sent),
                ..Patch::default()
            };
            let outcome = self.patch_deferred(local_id, change)?;
            return Ok(self.outcome(outcome, None));
        };
        let Some(entry) = self.entry_at(&loc).cloned() else {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        };
        let name = loc.conversation().to_string();
        let time = server_time.unwrap_or(entry.meta.time);
        let existing = if server_id == local_id {
            None
        } else {
            match self.find(server_id)? {
                Some(found) => Some(found),
                // A chunk that cannot be read now is taken as not holding it.
                None => self.find_in(&name, time, server_id).unwrap_or(None),
            }
        };
        let outcome = if let Some(existing) = existing {
            let status = self.entry_at(&existing).and_then(|e| raise(e.meta.status, Status::Sent));
            if let Some(status) = status {
                self.patch_at(&existing, &Patch { status: Some(status), ..Patch::default() })?;
            }
            // A patch changes nothing's place, so `loc` still names the sending record.
            if let Some(taken) = self.take_entry(&loc)? {
                self.backend.release(taken.doc);
            }
            UpdateOutcome::Merged
        } else {
            let patch = Patch {
                id: Some(server_id),
                time: (time != entry.meta.time).then_some(time),
                status: raise(entry.meta.status, Status::Sent),
                ..Patch::default()
            };
            self.patch_at(&loc, &patch)?;
            let stays = matches!(loc, Location::Loose(..))
                && self.conversations.get(&name).is_some_and(|c| c.is_loose_mark((time, server_id)));
            if stays {
                if let Some(conv) = self.conversations.get_mut(&name) {
                    if let Some(loose) = conv.loose.as_mut() {
                        loose.sort_by(|a, b| (a.meta.time, &a.meta.id).cmp(&(b.meta.time, &b.meta.id)));
                    }
                    conv.note_newest_loose();
                }
            } else if let Some(mut moved) = self.take_entry(&loc)? {
                moved.loose = None;
                moved.dirty = false;
                moved.written = None;
                let doc = moved.doc;
                if !self.place(&name, moved)? {
                    self.backend.release(doc);
                }
            }
            self.index.insert(server_id.to_string(), (name.clone(), time));
            UpdateOutcome::Updated
        };
        self.index.remove(local_id);
        Ok(self.outcome(outcome, Some(&name)))
    }

    /// The send of `local_id` failed.
    pub fn mark_failed(&mut self, local_id: &str) -> Result<UpdateOutcome> {
        self.update(local_id, |e| (e.meta.status == Status::Sending).then_some(Status::Failed))
    }

    /// Changes a record that waits in memory for its conversation (see `Deferred`): it is placed as
    /// changed. `Unsaved` when it was changed, `NotFound` when no record waits under `id`.
    pub(super) fn patch_deferred<'p>(&mut self, id: &str, change: impl FnOnce(&RecordMeta) -> Patch<'p>) -> Result<UpdateOutcome> {
        let Some(at) = self.deferred.iter().position(|d| d.meta.id == id) else {
            return Ok(UpdateOutcome::NotFound);
        };
        let Some(waiting) = self.deferred.get(at) else {
            return Ok(UpdateOutcome::NotFound);
        };
        let patch = change(&waiting.meta);
        if patch == Patch::default() {
            return Ok(UpdateOutcome::Unchanged);
        }
        let (_, after) = self.backend.patch(waiting.doc, &patch)?;
        if let Some(waiting) = self.deferred.get_mut(at) {
            if let Some(id) = patch.id {
                waiting.meta.id = id.to_string();
            }
            if let Some(time) = patch.time {
                waiting.meta.time = time;
            }
            if let Some(status) = patch.status {
                waiting.meta.status = status;
            }
            waiting.bytes = after;
        }
        Ok(UpdateOutcome::Unsaved {
            reason: format!("record {id} waits in memory for its conversation, which could not be read yet"),
        })
    }

    /// `onDeliveredMessage`: my message reached the peer.
    pub fn mark_delivered(&mut self, id: &str) -> Result<UpdateOutcome> {
        self.update(id, |e| {
            (e.meta.direction == crate::Direction::Out).then(|| raise(e.meta.status, Status::Delivered)).flatten()
        })
    }

    /// `onReadMessage`: the peer read my message.
    pub fn mark_read_by_peer(&mut self, id: &str) -> Result<UpdateOutcome> {
        self.update(id, |e| (e.meta.direction == crate::Direction::Out).then(|| raise(e.meta.status, Status::Read)).flatten())
    }

    /// `onRecallMessage`: the record becomes a recall notice (text and body gone, `ext.recalledBy` set);
    /// if it was counted unread, the count drops.
    pub fn recall(&mut self, message_id: &str, by: &str) -> Result<UpdateOutcome> {
        self.begin();
        let Some(loc) = self.find(message_id)? else {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        };
        let Some(entry) = self.entry_at(&loc).cloned() else {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        };
        if entry.meta.recalled {
            return Ok(self.outcome(UpdateOutcome::Unchanged, None));
        }
        let name = loc.conversation().to_string();
        let muted = self.muted.contains_key(&name);
        if let Some(conv) = self.conversations.get_mut(&name) {
            if conv.counts_unread(&entry.meta, muted) && conv.head.unread > 0 {
                conv.head.unread -= 1;
                conv.head_dirty = true;
            }
        }
        self.patch_at(&loc, &Patch { recalled_by: Some(by), ..Patch::default() })?;
        Ok(self.outcome(UpdateOutcome::Updated, Some(&name)))
    }

    /// `onChannelMessage`: the peer read the whole conversation; my records so far show as read.
    pub fn peer_read_all(&mut self, conversation: &str) -> Result<UpdateOutcome> {
        self.advance_mark(conversation, Reader::Peer)
    }

    /// I read the conversation: unread goes to zero, incoming records so far show as read.
    pub fn mark_read(&mut self, conversation: &str) -> Result<UpdateOutcome> {
        self.advance_mark(conversation, Reader::Me)
    }

    fn advance_mark(&mut self, conversation: &str, reader: Reader) -> Result<UpdateOutcome> {
        self.begin();
        let name = conversation_name(conversation)?.name();
        if !self.conversations.contains_key(&name) {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        }
        let Some(newest) = self.newest(&name)? else {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        };
        let newest = newest.mark();
        let Some(conv) = self.conversations.get_mut(&name) else {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        };
        let slot = match reader {
            Reader::Me => &mut conv.head.read_mark,
            Reader::Peer => &mut conv.head.peer_read_mark,
        };
        let advanced = slot.as_ref().is_none_or(|m| *m < newest);
        if advanced {
            *slot = Some(newest);
        }
        let cleared = reader == Reader::Me && conv.head.unread > 0;
        if cleared {
            conv.head.unread = 0;
        }
        if !advanced && !cleared {
            return Ok(self.outcome(UpdateOutcome::Unchanged, None));
        }
        conv.head_dirty = true;
        Ok(self.outcome(UpdateOutcome::Updated, Some(&name)))
    }

    /// Mutes or unmutes a conversation: a muted one gains no unread and is left out of the total.
    pub fn mute(&mut self, conversation: &str, on: bool) -> Result<UpdateOutcome> {
        let name = conversation_name(conversation)?.name();
        self.resume();
        if self.pending.state {
            // The muted list is in the state: changed before it is read, the change would be lost.
            return Err(Error::storage("the muted conversations could not be read from storage yet; try again"));
        }
        let changed = if on { self.muted.insert(name, ()).is_none() } else { self.muted.remove(&name).is_some() };
        if !changed {
            return Ok(self.outcome(UpdateOutcome::Unchanged, None));
        }
        self.state_dirty = true;
        Ok(self.outcome(UpdateOutcome::Updated, None))
    }

    /// Stores a JSON blob of extra state (e.g. the profile cache, which the core writes) under `name`.
    pub fn set_extra(&mut self, name: &str, json: &str) -> Result<UpdateOutcome> {
        if json.len() > MAX_EXTRA_BYTES {
            return Err(Error::input(format!(
                "extra {name:?} is {} bytes; the store keeps extras up to {MAX_EXTRA_BYTES} bytes",
                json.len()
            )));
        }
        let slot = self.extras.get_or_insert_with(name.to_string(), Extra::default);
        if slot.pending.is_none() && slot.written.as_deref() == Some(json) {
            return Ok(self.outcome(UpdateOutcome::Unchanged, None));
        }
        slot.pending = Some(json.to_string());
        Ok(self.outcome(UpdateOutcome::Updated, None))
    }

    /// Sets an extra blob to be written with the next flush, without flushing now.
    pub fn stage_extra(&mut self, name: &str, json: &str) -> Result<()> {
        if json.len() > MAX_EXTRA_BYTES {
            return Err(Error::input(format!("extra {name:?} is over {MAX_EXTRA_BYTES} bytes")));
        }
        self.extras.get_or_insert_with(name.to_string(), Extra::default).pending = Some(json.to_string());
        Ok(())
    }

    /// The extra blob stored under `name`, read from storage.
    /// An error when it cannot be read now (the read throws, or the state that lists extras is not
    /// read yet): a caller then writes no new version of it, which would replace what is stored.
    pub fn extra(&mut self, name: &str) -> Result<Option<Tape>> {
        if self.pending.state {
            return Err(Error::storage("the state, which lists extras, could not be read yet"));
        }
        if !self.extras.get(name).is_some_and(|e| e.stored > 0) {
            return Ok(None);
        }
        let key = self.keys.extra(name);
        let Some((doc, tape)) = self.fetch(&key, Shape::Whole)? else {
            return Ok(None);
        };
        self.backend.release(doc);
        Ok(Some(tape))
    }

    /// Applies `change` to the status of record `id`; `change` gives the new status, if any.
    pub(super) fn update(&mut self, id: &str, change: impl FnOnce(&Entry) -> Option<Status>) -> Result<UpdateOutcome> {
        self.begin();
        let Some(loc) = self.find(id)? else {
            // A record waiting in memory for its conversation is changed there.
            let Some(waiting) = self.deferred.iter().find(|d| d.meta.id == id) else {
                return Ok(self.outcome(UpdateOutcome::NotFound, None));
            };
            let probe = Entry { meta: waiting.meta.clone(), doc: waiting.doc, bytes: None, loose: None, dirty: false, written: None };
            let status = change(&probe);
            let outcome = self.patch_deferred(id, |_| Patch { status, ..Patch::default() })?;
            return Ok(self.outcome(outcome, None));
        };
        let Some(status) = self.entry_at(&loc).and_then(change) else {
            return Ok(self.outcome(UpdateOutcome::Unchanged, None));
        };
        self.patch_at(&loc, &Patch { status: Some(status), ..Patch::default() })?;
        let name = loc.conversation().to_string();
        Ok(self.outcome(UpdateOutcome::Updated, Some(&name)))
    }

    /// Changes a record where it is: its document, its index, and what must be written again.
    pub(super) fn patch_at(&mut self, loc: &Location, patch: &Patch<'_>) -> Result<()> {
        let Some(entry) = self.entry_at(loc) else {
            return Ok(());
        };
        let (doc, was_dirty) = (entry.doc, entry.dirty);
        let (before, after) = self.backend.patch(doc, patch)?;
        let loose_key = match loc {
            Location::Loose(name, at) => self
                .conversations
                .get(name)
                .and_then(|c| c.loose.as_ref()?.get(*at)?.loose)
                .map(|n| self.keys.loose(name, n)),
            Location::Sealed(..) => None,
        };
        let apply = |e: &mut Entry| {
            if let Some(id) = patch.id {
                e.meta.id = id.to_string();
            }
            if let Some(time) = patch.time {
                e.meta.time = time;
            }
            if let Some(status) = patch.status {
                e.meta.status = status;
            }
            if patch.recalled_by.is_some() {
                e.meta.recalled = true;
            }
            e.bytes = Some(after);
        };
        match loc {
            Location::Loose(name, at) => {
                let Some(conv) = self.conversations.get_mut(name) else {
                    return Ok(());
                };
                let Some(e) = conv.loose.as_mut().and_then(|l| l.get_mut(*at)) else {
                    return Ok(());
                };
                apply(e);
                if !was_dirty && e.written.is_none() {
                    e.written = loose_key.as_deref().map(|k| entry_bytes(k, before));
                }
                e.dirty = true;
                conv.head.loose_bytes = conv.head.loose_bytes.saturating_sub(before).saturating_add(after);
                conv.head_dirty = true;
            }
            Location::Sealed(name, seq, at) => {
                if let Some(chunk) = self.chunk_mut(name, *seq) {
                    chunk.edit(|es| es.get_mut(*at).map(apply));
                }
            }
        }
        Ok(())
    }

    /// Removes a record from where it is: a loose record's key goes (the head notes the hole), a chunk
    /// is rewritten without it, or removed when empty. Returns the entry.
    fn take_entry(&mut self, loc: &Location) -> Result<Option<Entry>> {
        match loc {
            Location::Loose(name, at) => {
                let Some(conv) = self.conversations.get_mut(name) else {
                    return Ok(None);
                };
                let Some(loose) = conv.loose.as_mut() else {
                    return Ok(None);
                };
                if *at >= loose.len() {
                    return Ok(None);
                }
                let entry = loose.remove(*at);
                let Some(n) = entry.loose else {
                    return Ok(Some(entry));
                };
                let key = self.keys.loose(name, n);
                let on_storage = match (entry.written, entry.dirty) {
                    (Some(bytes), _) => Some(bytes),
                    (None, false) => Some(entry_bytes(&key, self.backend.measure(entry.doc)?)),
                    (None, true) => None,
                };
                let Some(conv) = self.conversations.get_mut(name) else {
                    return Ok(Some(entry));
                };
                conv.head.loose_holes.push(n);
                let counted = entry_bytes(&key, entry.bytes.unwrap_or(0));
                conv.head.loose_bytes = conv.head.loose_bytes.saturating_sub(counted);
                conv.note_newest_loose();
                conv.head_dirty = true;
                if let Some(bytes) = on_storage {
                    self.removals.push(Removal { key, bytes, after_heads: true, evicted: false });
                }
                Ok(Some(entry))
            }
            Location::Sealed(name, seq, at) => {
                let Some(chunk) = self.chunk_mut(name, *seq) else {
                    return Ok(None);
                };
                let entry = chunk.edit(|es| (*at < es.len()).then(|| es.remove(*at))).flatten();
                let emptied = chunk.entries().is_some_and(Vec::is_empty);
                if emptied {
                    let key = self.keys.chunk(name, *seq);
                    if let Some(conv) = self.conversations.get_mut(name) {
                        if let Some(old) = conv.chunks.as_mut().and_then(|c| c.remove(seq)) {
                            conv.head.sealed.remove(*seq);
                            conv.head.sealed_bytes = conv.head.sealed_bytes.saturating_sub(old.stored.bytes());
                            conv.head_dirty = true;
                            if old.stored != super::Stored::Absent {
                                self.removals.push(Removal { key, bytes: old.stored.bytes(), after_heads: true, evicted: false });
                            }
                        }
                    }
                }
                Ok(entry)
            }
        }
    }

    /// Flushes, then wraps an outcome: a change that did not reach storage becomes `Unsaved`.
    pub(super) fn outcome(&mut self, outcome: UpdateOutcome, protect: Option<&str>) -> UpdateOutcome {
        let unsaved = self.finish(protect);
        match (outcome, unsaved) {
            (UpdateOutcome::Updated | UpdateOutcome::Merged, Some(reason)) => UpdateOutcome::Unsaved { reason },
            (o, _) => o,
        }
    }
}
