//! History fetched from the server (`chat.fetchOlder`): records older than what the phone holds.
//!
//! They are stored like received ones, in place by time, de-duplicated by id, but never counted unread
//! (an incoming one is stored `read`: the user is scrolling back through it), never setting the mention
//! mark or moving the read marks, and raising the conversation's activity only if newer than it was.
//!
//! At the budget, fetched history is the first thing to go, so that paging back through a conversation
//! longer than the whole budget never evicts the recent history of other conversations, page after page:
//! - A fetched record is stored only while the store stays within three quarters of its budget
//!   ([`FETCHED_SHARE`]); beyond that it is not stored ([`InsertOutcome::NotKept`]) and lives only in the
//!   page that asked for it. The rest of the budget is left to records that arrive.
//! - When anything must be evicted, the oldest chunk of a conversation that took fetched history since
//!   opening goes first, if it starts at or below the newest record fetched for it.
//! - Once a conversation's fetched record was not kept or its fetched history was evicted, deeper fetched
//!   records of it are not stored again until the store is reopened, and pages are stored newest first:
//!   the stored history of a conversation stays continuous from its newest record back, without holes.
//!   After a reopen, paging back starts again from the oldest stored record.
//!
//! This state is kept in memory only: after a reopen fetched records are ordinary history.

use super::backend::{Backend, Doc};
use super::conversation::{Chunk, Entry};
use super::layout::Mark;
use super::{conversation_name, InsertOutcome, RecordMeta, Store};

/// The share of the budget (in quarters) fetched history may fill.
pub const FETCHED_SHARE: u64 = 3;
/// Room kept for what storing one record writes besides it (its chunk's and its head's growth).
const FETCHED_HEADROOM: u64 = 4 * 1024;

/// A conversation's fetched history since the store was opened.
#[derive(Debug, Clone, Default)]
pub(super) struct Fetched {
    /// The newest record fetched and stored.
    pub mark: Option<Mark>,
    /// Deeper fetched records are no longer stored (see the module documentation).
    pub closed: bool,
}

use crate::error::Result;
use crate::kind::ConversationId;
use crate::message::{Direction, Status};

impl<B: Backend> Store<B> {
    /// Stores a record fetched from the server's history: see the module documentation. An incoming
    /// record's index is made `read`, as the record itself must be (the caller stores it so).
    pub fn insert_fetched_doc(
        &mut self,
        mut meta: RecordMeta,
        conversation: &ConversationId,
        doc: Doc,
        bytes: u64,
    ) -> Result<InsertOutcome> {
        if meta.direction == Direction::In {
            meta.status = Status::Read;
        }
        let mark = meta.mark();
        let name = conversation.name();
        if self.index.contains_key(&meta.id) {
            self.backend.release(doc);
            return Ok(InsertOutcome::Duplicate);
        }
        let state = self.fetched.entry(name.clone()).or_default();
        let room = self.options.total_bytes / 4 * FETCHED_SHARE;
        let full = self.bytes_used.saturating_add(bytes).saturating_add(FETCHED_HEADROOM) > room;
        if state.closed || full {
            state.closed = true;
            self.backend.release(doc);
            return Ok(InsertOutcome::NotKept {
                reason: format!(
                    "history fetched for {name} past three quarters of the storage budget ({} bytes) is kept \
                     in memory only, not on storage",
                    self.options.total_bytes
                ),
            });
        }
        let before = state.mark.clone();
        if before.as_ref().is_none_or(|m| *m < mark) {
            state.mark = Some(mark);
        }
        let outcome = self.insert_doc(meta, conversation, doc, bytes);
        if !matches!(outcome, Ok(InsertOutcome::Stored) | Ok(InsertOutcome::Unsaved { .. })) {
            if let Some(state) = self.fetched.get_mut(&name) {
                state.mark = before;
            }
        }
        outcome
    }

    /// The id of the oldest record the phone holds for `conversation`, `None` when it holds none.
    /// Chunks that cannot be read now are passed over.
    pub fn oldest_id(&mut self, conversation: &str) -> Result<Option<String>> {
        self.begin();
        let name = conversation_name(conversation)?.name();
        if !self.conversations.contains_key(&name) {
            return Ok(None);
        }
        self.load_loose(&name)?;
        let mut oldest: Option<Mark> =
            self.conversations.get(&name).and_then(|c| c.loose.as_ref()?.first().map(Entry::mark));
        for seq in self.seqs(&name) {
            if self.load_chunk(&name, seq).is_err() {
                continue;
            }
            if let Some(first) = self.chunk(&name, seq).and_then(Chunk::entries).and_then(|es| es.first()) {
                let mark = first.mark();
                if oldest.as_ref().is_none_or(|o| mark < *o) {
                    oldest = Some(mark);
                }
                break;
            }
        }
        Ok(oldest.map(|m| m.1))
    }

    /// Evicts one chunk of fetched history (see the module documentation); false when there is none.
    pub(super) fn evict_fetched(&mut self) -> Result<bool> {
        let marks: Vec<(String, Mark)> =
            self.fetched.iter().filter_map(|(n, f)| Some((n.clone(), f.mark.clone()?))).collect();
        for (name, mark) in marks {
            if !self.conversations.contains_key(&name) {
                self.fetched.remove(&name);
                continue;
            }
            let Some(seq) = self.seqs(&name).first().copied() else {
                continue;
            };
            if self.chunk(&name, seq).is_some_and(|c| c.dirty) || self.load_chunk(&name, seq).is_err() {
                continue;
            }
            let starts_fetched =
                self.chunk(&name, seq).and_then(|c| c.range.as_ref()).is_some_and(|(first, _)| *first <= mark);
            if starts_fetched && self.evict_chunk(&name, seq).is_ok() {
                if let Some(state) = self.fetched.get_mut(&name) {
                    state.closed = true;
                }
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl<B: Backend> Store<B> {
    /// Stores a whole record fetched from the server's history (native use): see
    /// [`Store::insert_fetched_doc`]. An incoming record is stored `read`.
    pub fn insert_fetched(&mut self, mut record: crate::message::Record) -> Result<InsertOutcome> {
        if record.direction == Direction::In {
            record.status = Status::Read;
        }
        let id = Self::conversation_of(&record)?;
        let json = record.to_json();
        let doc = self.backend.create(&json)?;
        self.insert_fetched_doc(RecordMeta::of(&record), &id, doc, json.len() as u64)
    }
}
