//! Sends in flight, kept across a crash: the records of mine stored as `sending`, named in a small list
//! on storage, so that opening after the app was killed in the middle of a send turns them `failed`
//! without reading history. Nothing else is ever `sending` for long: a send in this session is settled
//! by its acknowledgement, a refusal or the shim's timeout.
//!
//! The list is the extra blob `sends`: `[[id, conversation, time], …]`, a few dozen bytes per send in
//! flight and `[]` otherwise. Opening does not read an empty list: the state records every extra's size,
//! and an empty list has a size of its own.
//!
//! The invariant: **every record on storage whose status is `sending` is named by the list on
//! storage.** The order of writes keeps it at every point a crash can fall:
//! - a send: the list naming the new record is flushed first, then the record (its own flush);
//! - a resend: the list naming the record is flushed first, then its status goes back to `sending`;
//! - an acknowledgement or a refusal: the record's new status (and, for an ack, its server id) is
//!   flushed first, then the list without it. A flush writes records and heads before extras and stops
//!   at the first write that throws, so the shorter list never reaches storage before the record it no
//!   longer names has left `sending`;
//! - opening: each named record still `sending` under its name becomes `failed`, then the list is
//!   emptied. A crash in between leaves names whose records are `failed` already: nothing changes twice.
//!
//! A name can outlive its record's `sending` (a crash between the two writes of an ack); it is then
//! harmless, because opening fails only a record that is *still stored as `sending` under that id*:
//! an acknowledged record is stored `sent` under its server id, so an ack that reached storage is never
//! undone. (An ack that had not reached storage when the app died was never known to the phone: that
//! record becomes `failed`, and `chat.resend` sends it again as the same message, which the server
//! recognises.)
//!
//! What this cannot promise: when the list's own write throws (storage full, a host error), the send
//! goes on and the list is written again with the next flush, after the record; an app killed between
//! those two writes leaves that record `sending` until it is sent again. The same holds when only the
//! state's write after the list throws (the state records the list's size, by which opening tells an
//! empty list without reading it). Both need a throw and a kill within one message. When the list
//! cannot be read, it is not overwritten: the send goes on unnamed, and opening tries again next time.

use super::backend::{Backend, Doc, Shape};
use super::{entry_bytes, InsertOutcome, RecordMeta, Store, UpdateOutcome};
use crate::error::Result;
use crate::json::{write_i64, write_list, write_str};
use crate::kind::ConversationId;
use crate::message::{Direction, Record, Status};

/// The extra holding the list.
pub(super) const SENDS_EXTRA: &str = "sends";
const EMPTY: &str = "[]";
/// Names kept at most; past this the oldest goes (hundreds of sends in flight do not happen).
const MAX_SENDS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Named {
    id: String,
    conversation: String,
    time: i64,
}

/// The list in memory.
#[derive(Debug, Clone, Default)]
pub(super) struct Sends {
    list: Vec<Named>,
    /// The list on storage was read (or known to be empty) and the records it named from an earlier
    /// session were settled.
    ready: bool,
}

/// Why [`Store::resend_started`] would not send a record again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendRefusal {
    /// No record with that id was read or written this session.
    NotFound,
    /// The record is someone else's message.
    NotMine,
    /// The record is not `failed` (it has this status).
    NotFailed(Status),
}

fn list_json(list: &[Named]) -> String {
    let mut out = String::new();
    write_list(&mut out, list, |out, n| {
        out.push('[');
        write_str(out, &n.id);
        out.push(',');
        write_str(out, &n.conversation);
        out.push(',');
        write_i64(out, n.time);
        out.push(']');
    });
    out
}

impl<B: Backend> Store<B> {
    /// Turns the records an earlier session left `sending` into `failed`; returns how many. Called by
    /// the shim right after opening. Reads nothing when no send was in flight; on a storage error it
    /// leaves the list for the next try (the next send, or the next open).
    pub fn fail_interrupted_sends(&mut self) -> Result<usize> {
        self.sends_ready()
    }

    /// The ids of the records named as sends in flight.
    pub fn sends_in_flight(&mut self) -> Vec<String> {
        let _ = self.sends_ready();
        self.sends.list.iter().map(|n| n.id.clone()).collect()
    }

    /// Stores a record of mine that is being sent (status `sending`): its name reaches storage first.
    pub fn insert_sending(&mut self, record: Record) -> Result<InsertOutcome> {
        let id = Self::conversation_of(&record)?;
        let json = record.to_json();
        let doc = self.backend.create(&json)?;
        self.insert_sending_doc(RecordMeta::of(&record), &id, doc, json.len() as u64)
    }

    /// [`Store::insert_sending`] for a record the backend holds as `doc` (see [`Store::insert_doc`]).
    pub fn insert_sending_doc(
        &mut self,
        meta: RecordMeta,
        conversation: &ConversationId,
        doc: Doc,
        bytes: u64,
    ) -> Result<InsertOutcome> {
        if meta.status == Status::Sending && !meta.id.is_empty() {
            self.name_send(&meta.id, &conversation.name(), meta.time);
        }
        self.insert_doc(meta, conversation, doc, bytes)
    }

    /// The server acknowledged `local_id` as `server_id` ([`Store::ack_sent`]); then its name goes.
    pub fn send_acked(&mut self, local_id: &str, server_id: &str, server_time: Option<i64>) -> Result<UpdateOutcome> {
        let outcome = self.ack_sent(local_id, server_id, server_time)?;
        self.unname_send(local_id);
        Ok(outcome)
    }

    /// The send of `local_id` failed (refused, or given up): `sending` becomes `failed`; then its name goes.
    pub fn send_failed(&mut self, local_id: &str) -> Result<UpdateOutcome> {
        let outcome = self.mark_failed(local_id)?;
        self.unname_send(local_id);
        Ok(outcome)
    }

    /// Whether record `id` can be sent again: `None` when it can (mine, `failed`), else why not.
    pub fn resend_refusal(&mut self, id: &str) -> Result<Option<ResendRefusal>> {
        Ok(self.resend_target(id)?.err())
    }

    /// Sends record `id` again: named first, then its status goes from `failed` back to `sending`.
    pub fn resend_started(&mut self, id: &str) -> Result<std::result::Result<UpdateOutcome, ResendRefusal>> {
        let (conversation, time) = match self.resend_target(id)? {
            Ok(found) => found,
            Err(refusal) => return Ok(Err(refusal)),
        };
        self.name_send(id, &conversation, time);
        let outcome = self.update(id, |e| (e.meta.status == Status::Failed).then_some(Status::Sending))?;
        Ok(Ok(outcome))
    }

    fn resend_target(&mut self, id: &str) -> Result<std::result::Result<(String, i64), ResendRefusal>> {
        if id.is_empty() {
            return Ok(Err(ResendRefusal::NotFound));
        }
        let Some(loc) = self.find(id)? else {
            return Ok(Err(ResendRefusal::NotFound));
        };
        let Some(entry) = self.entry_at(&loc) else {
            return Ok(Err(ResendRefusal::NotFound));
        };
        if entry.meta.direction != Direction::Out {
            return Ok(Err(ResendRefusal::NotMine));
        }
        if entry.meta.status != Status::Failed {
            let shown = self.conversations.get(loc.conversation()).map_or(entry.meta.status, |c| c.presented(&entry.meta));
            return Ok(Err(ResendRefusal::NotFailed(shown)));
        }
        Ok(Ok((loc.conversation().to_string(), entry.meta.time)))
    }

    /// Reads the list once, and settles what an earlier session left: returns how many records it failed.
    fn sends_ready(&mut self) -> Result<usize> {
        if self.sends.ready {
            return Ok(0);
        }
        let key = self.keys.extra(SENDS_EXTRA);
        let stored = self.extras.get(SENDS_EXTRA).map_or(0, |e| e.stored);
        let mut named = Vec::new();
        if stored != 0 && stored != entry_bytes(&key, EMPTY.len() as u64) {
            if let Some((doc, tape)) = self.fetch(&key, Shape::Whole)? {
                self.backend.release(doc);
                for item in tape.root().items() {
                    let mut fields = item.items();
                    let (Some(id), Some(conversation), Some(time)) = (
                        fields.next().and_then(|v| v.as_str()),
                        fields.next().and_then(|v| v.as_str()),
                        fields.next().and_then(|v| v.as_f64()),
                    ) else {
                        continue;
                    };
                    let canonical = ConversationId::parse(&conversation).is_ok_and(|c| c.name() == conversation);
                    if !id.is_empty() && canonical && time.fract() == 0.0 && time.abs() <= 9.0e15 {
                        named.push(Named { id, conversation, time: time as i64 });
                    }
                }
            }
        }
        let mut failed = 0;
        for n in &named {
            let Some(loc) = self.find_in(&n.conversation, n.time, &n.id)? else {
                continue;
            };
            if self.entry_at(&loc).is_some_and(|e| e.meta.status == Status::Sending) {
                self.index.insert(n.id.clone(), (n.conversation.clone(), n.time));
                if self.mark_failed(&n.id)? != UpdateOutcome::NotFound {
                    failed += 1;
                }
            }
        }
        self.sends = Sends { list: Vec::new(), ready: true };
        if !named.is_empty() {
            self.write_sends();
        }
        Ok(failed)
    }

    /// Writes the list in a flush of its own, after whatever else is waiting to be written.
    fn write_sends(&mut self) {
        let json = list_json(&self.sends.list);
        // Under MAX_EXTRA_BYTES by MAX_SENDS: an error could only be that. A flush that fails leaves the
        // list staged, and the next flush writes it after the records; the state is written again too,
        // even when the list reached storage and only the state's write failed: opening tells an empty
        // list by the size the state records, so that size must follow the list.
        if let Ok(UpdateOutcome::Unsaved { .. }) = self.set_extra(SENDS_EXTRA, &json) {
            self.state_dirty = true;
        }
    }

    fn name_send(&mut self, id: &str, conversation: &str, time: i64) {
        if self.sends_ready().is_err() {
            // The list on storage could not be read: writing ours would drop its names.
            return;
        }
        self.sends.list.retain(|n| n.id != id);
        if self.sends.list.len() >= MAX_SENDS {
            self.sends.list.remove(0);
        }
        self.sends.list.push(Named { id: id.to_string(), conversation: conversation.to_string(), time });
        self.write_sends();
    }

    fn unname_send(&mut self, id: &str) {
        if !self.sends.ready {
            return;
        }
        let before = self.sends.list.len();
        self.sends.list.retain(|n| n.id != id);
        if self.sends.list.len() != before {
            self.write_sends();
        }
    }
}

impl<B: Backend> Store<B> {
    /// Drops the names of sends in flight whose records were removed (`gone(id, conversation)`): once
    /// the removal is on storage, as an acknowledgement's is.
    pub(super) fn unname_sends(&mut self, gone: impl Fn(&str, &str) -> bool) {
        if !self.sends.ready {
            return;
        }
        let before = self.sends.list.len();
        self.sends.list.retain(|n| !gone(&n.id, &n.conversation));
        if self.sends.list.len() != before {
            self.write_sends();
        }
    }
}
