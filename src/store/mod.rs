//! The conversation store: every conversation's history, unread count and state, kept in `wx` storage
//! (or any [`Backend`]) so that no message reported stored is ever lost, within a byte budget.
//!
//! The layout is cut for a phone that interprets its code (see [`layout`] for the key names):
//! - Appending a message writes that record once, under its own key (a *loose* record), and the
//!   conversation's small head (unread, marks, what exists): never a chunk's worth of older records.
//!   A received record's head may wait for the end of a burst ([`Store::write_waiting`]) while opening
//!   would make the same head of what storage holds (see [`lag`]).
//!   Thirty-two loose records, or 16 KB of them, are sealed together into one chunk (one write), and
//!   their keys removed: a page of history is then one or two reads.
//! - Opening reads the heads only: each is a few hundred bytes however long the history. A page of
//!   history reads the loose records and the chunks it needs, nothing else, and the store reads of
//!   each record only what ordering and counting need; the text stays with the backend.
//! - Late older messages go into the sealed chunk their time falls in; a chunk past 64 KB is split.
//! - An operation changes memory first, then flushes: evictions' removals, new records and chunks,
//!   heads, then removals of what the heads no longer name. A flush that fails leaves the rest dirty
//!   and the next operation retries it; the outcome says `Unsaved` so no caller reports a message
//!   stored that is not. Any crash leaves each head naming only values that exist or that opening can
//!   tell are gone (it counts the keys and repairs when the count disagrees).
//! - A read that throws never stops the store: opening goes on with what it can read and leaves the
//!   rest pending (a head, the state, the key listing or count, the move from format 1), retried
//!   by the next operations ([`open`]); a conversation whose head is not read yet takes no write,
//!   and a record for it waits in memory (`Unsaved`) until it can be placed. A record whose sealed
//!   chunk cannot be read is stored loose (a *stray*, older than the newest sealed record): pages
//!   merge strays in order, and sealing carries them over to new loose keys.
//! - The store counts the bytes (key plus value, UTF-8) of its own keys and never flushes past the
//!   budget: it first evicts sealed chunks, least recently active conversations first and oldest chunk
//!   first, then whole idle conversations; never a loose record. Each eviction is an [`EvictionEvent`].
//! - Statuses that concern many records (I read the conversation, the peer read it) are watermarks in
//!   the head, applied when records are handed out, instead of rewrites of history.
//!
//! Limits: acks and recalls find records read or written this session and those their time places in
//! history; the id index grows with the records touched in a session.

mod backend;
mod conversation;
mod fetched;
mod kv;
mod lag;
mod layout;
mod legacy;
mod memory;
mod modify;
mod open;
mod ops;
mod pending;
mod read;
mod remove;
mod search;
mod seek;
mod write;

use rustc_hash::FxHashMap;

use crate::vecmap::VecMap;

use crate::error::{Error, Result};
use crate::kind::ConversationId;
use crate::message::{Direction, MsgType, Record, Status};
use crate::tape::{eq_units, Val};
use conversation::Conversation;
use layout::{Keys, Mark};

pub use backend::{Backend, Doc, Edited, FlatNumbers, Patch, Reaction, Shape, Uploaded};
pub use layout::{HEAD_LENGTHS, HEAD_NUMBERS, HEAD_STRINGS};
#[cfg(not(target_arch = "wasm32"))]
pub use backend::TextBackend;
pub use kv::{is_full_error, KeyValue};
pub use legacy::legacy_record;
pub use modify::{clean_reaction, EditRequest, Ignored, MAX_REACTIONS, MAX_REACTION_BYTES};
pub use memory::{Fault, Full, MemoryStorage, WX_KEY_LIMIT, WX_TOTAL_LIMIT};
pub use pending::ResendRefusal;
pub use search::SearchPlan;
pub use seek::candidates;

/// Loose records sealed into a chunk once there are this many…
const MAX_LOOSE_RECORDS: usize = 32;
/// …or once they hold this many bytes.
const TARGET_CHUNK_BYTES: u64 = 16 * 1024;
/// A chunk grown past this by late inserts is split.
const SPLIT_CHUNK_BYTES: u64 = 64 * 1024;
/// Larger records are refused: they could not share a chunk within `wx`'s 1 MiB per key.
pub const MAX_RECORD_BYTES: u64 = 256 * 1024;
/// Larger extra blobs are refused.
pub const MAX_EXTRA_BYTES: usize = 512 * 1024;
/// Sealed chunks kept loaded after use.
const CACHED_CHUNKS: usize = 64;

/// How the store may use the storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Budget for all of mpchat's keys of this user (key plus value bytes).
    pub total_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { total_bytes: 8 * 1024 * 1024 }
    }
}

/// What opening found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    pub conversations: usize,
    /// Conversations whose head was missing, unreadable or out of step with the keys, rebuilt.
    pub rebuilt: usize,
    /// Keys under mpchat's prefix that could not be read (corrupt, foreign, another format).
    pub skipped_keys: Vec<String>,
    /// Items inside otherwise readable values that were not records.
    pub skipped_records: usize,
    /// Conversations moved over from the previous storage format.
    pub migrated: usize,
    /// Conversations left in the previous format because storage refused the copy (full, or a
    /// throw): their records stay where they are, unseen, and the next open moves them.
    pub migration_paused: usize,
    /// Records an earlier session left `sending` (the app was killed mid-send), now `failed`; set by
    /// [`Store::fail_interrupted_sends`], which the shim calls right after opening.
    pub failed_sends: usize,
    /// Reads and checks that threw while opening (the key listing, a head, the state, the count,
    /// the format 1 check, a repair): retried by the operations that follow.
    pub pending: usize,
}

/// What became of a record handed to [`Store::insert`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// On storage.
    Stored,
    /// A record with this id is already kept; nothing changed.
    Duplicate,
    /// Kept in memory (history returns it) but not on storage yet; retried with the next operation.
    Unsaved { reason: String },
    /// Fetched history past its share of the budget (see [`Store::insert_fetched_doc`]): not stored.
    NotKept { reason: String },
}

/// What became of an update (ack, recall, read, mute, extra).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    Updated,
    /// An ack found the server id already stored: the sending record was folded into it.
    Merged,
    Unchanged,
    NotFound,
    /// Applied in memory, not on storage yet; retried with the next operation.
    Unsaved { reason: String },
}

impl UpdateOutcome {
    pub fn name(&self) -> &'static str {
        match self {
            UpdateOutcome::Updated => "updated",
            UpdateOutcome::Merged => "merged",
            UpdateOutcome::Unchanged => "unchanged",
            UpdateOutcome::NotFound => "notFound",
            UpdateOutcome::Unsaved { .. } => "unsaved",
        }
    }
}

/// A record as handed out: the document holding it, and its status with watermarks applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub doc: Doc,
    pub status: Status,
}

/// One row of the conversation list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationSummary<R> {
    pub conversation: String,
    pub last: R,
    pub unread: u64,
    /// An unread record mentions me (or everyone): the list shows [有人@我] until I read it.
    pub mentions_me: bool,
    /// Server time of the newest record (ms).
    pub updated_at: i64,
    pub muted: bool,
}

/// Storage use, for `chat.storageReport()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageReport {
    pub bytes_used: u64,
    pub total_bytes: u64,
    pub keys: u64,
    pub conversations: usize,
    /// Records evicted for space, since the store was first created.
    pub evicted_records: u64,
    pub evicted_chunks: u64,
    /// Values found unreadable this session.
    pub skipped_corrupt: u64,
    /// Items inside readable values that were not records, found this session.
    pub skipped_records: u64,
    /// Keys with changes not yet on storage.
    pub unsaved: u64,
}

/// History removed to stay within the budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvictionEvent {
    pub conversation: String,
    pub records: u64,
    /// The conversation's last records went too: it left the conversation list.
    pub whole_conversation: bool,
}

/// What [`Store::migrate_legacy`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    pub keys_found: usize,
    pub imported: usize,
    pub duplicates: usize,
    /// Legacy items that could not be mapped to a record.
    pub skipped: usize,
    pub keys_removed: usize,
    /// Legacy keys kept because their import is not on storage yet.
    pub keys_kept: Vec<String>,
}

/// A stored record's fields that its index is read from, in the order records are written.
pub(crate) const RECORD_FIELDS: [&str; 13] =
    ["id", "conversation", "kind", "direction", "time", "type", "text", "body", "sender", "mentionsMe", "status", "recalled", "ext"];

/// What the store knows of each record: enough to order, de-duplicate, count and present it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    pub id: String,
    pub time: i64,
    pub direction: Direction,
    pub status: Status,
    pub recalled: bool,
    pub mentions_me: bool,
}

impl RecordMeta {
    pub fn of(record: &Record) -> Self {
        RecordMeta {
            id: record.id.clone(),
            time: record.time,
            direction: record.direction,
            status: record.status,
            recalled: record.recalled,
            mentions_me: record.mentions_me,
        }
    }

    /// Reads a stored record's index (as [`Shape::Record`] projects it); `None` unless it is a
    /// record of `conversation` with every field a page relies on of the right type.
    pub fn from_val(v: Val<'_>, conversation: &ConversationId) -> Option<Self> {
        // By place as Shape::Record projects it (a field it lacks, or null, is absent), or whole in the
        // order records are written: one pass over the record, names matched on the tape.
        let [id, conv, kind, direction, time, msg_type, text, _body, sender, mentions_me, status, recalled, _ext] = v.placed(RECORD_FIELDS);
        let flag = |f: Option<Val<'_>>| f.map_or(Some(false), Val::as_bool);
        let id = id?.as_str().filter(|id| !id.is_empty())?;
        let time = time?.as_f64()?;
        let sender_id = sender?.get("id")?;
        let type_known = one_of(msg_type, MsgType::as_str, &MsgType::ALL).is_some()
            || msg_type?.as_str().and_then(|t| MsgType::from_name(&t)).is_some();
        let typed = sender_id.is_string()
            && text.is_none_or(Val::is_string)
            && is_name_of(conv?, conversation)
            && kind?.is_str(conversation.kind.as_str())
            && type_known;
        if !typed || time.fract() != 0.0 || time.abs() > 9.0e15 {
            return None;
        }
        Some(RecordMeta {
            id,
            time: time as i64,
            direction: one_of(direction, Direction::as_str, &[Direction::In, Direction::Out])?,
            status: one_of(status, Status::as_str, &Status::ALL)?,
            recalled: flag(recalled)?,
            mentions_me: flag(mentions_me)?,
        })
    }

    fn mark(&self) -> Mark {
        (self.time, self.id.clone())
    }

    /// Direction, status and flags in one small number, as heads keep a newest record's index:
    /// the status's place in [`Status::ALL`], + 8 when sent by me, + 16 recalled, + 32 mentioning me.
    pub fn code(&self) -> u32 {
        let status = Status::ALL.iter().position(|s| *s == self.status).unwrap_or(0) as u32;
        status
            + 8 * u32::from(self.direction == Direction::Out)
            + 16 * u32::from(self.recalled)
            + 32 * u32::from(self.mentions_me)
    }

    /// Reverses [`RecordMeta::code`]; `None` for a number it cannot have produced.
    pub fn from_code(id: String, time: i64, code: u32) -> Option<Self> {
        if code >= 64 {
            return None;
        }
        Some(RecordMeta {
            id,
            time,
            direction: if code & 8 != 0 { Direction::Out } else { Direction::In },
            status: *Status::ALL.get((code & 7) as usize)?,
            recalled: code & 16 != 0,
            mentions_me: code & 32 != 0,
        })
    }
}

/// The one of `all` whose name `value` is, matched on the tape.
fn one_of<T: Copy>(value: Option<Val<'_>>, name: fn(T) -> &'static str, all: &[T]) -> Option<T> {
    // The names are ASCII: one unit a byte, so lengths rule out most before any comparison of units.
    let units = value?.str_units()?;
    all.iter().copied().find(|x| name(*x).len() == units.len() && eq_units(units, name(*x)))
}

/// Whether `value` is the string `<kind>:<id>` of `conversation`, compared without building it.
/// The kind is ASCII, so its units are its bytes: three comparisons, no iterator chain (each record of a
/// page is checked so, where wasm is interpreted).
fn is_name_of(value: Val<'_>, conversation: &ConversationId) -> bool {
    let kind = conversation.kind.as_str();
    let Some(units) = value.str_units() else {
        return false;
    };
    match (units.get(..kind.len()), units.get(kind.len()), units.get(kind.len() + 1..)) {
        (Some(head), Some(&colon), Some(id)) => {
            colon == u16::from(b':') && eq_units(head, kind) && eq_units(id, &conversation.id)
        }
        _ => false,
    }
}

pub(super) fn mark_cmp(meta: &RecordMeta, mark: &Mark) -> std::cmp::Ordering {
    (meta.time, meta.id.as_str()).cmp(&(mark.0, mark.1.as_str()))
}

fn out_rank(status: Status) -> u8 {
    match status {
        Status::Sending | Status::Failed => 0,
        Status::Sent | Status::Received => 1,
        Status::Delivered => 2,
        Status::Read => 3,
    }
}

/// Moves a status forward, never back.
fn raise(status: Status, to: Status) -> Option<Status> {
    (out_rank(to) > out_rank(status)).then_some(to)
}

fn entry_bytes(key: &str, value_bytes: u64) -> u64 {
    (key.len() as u64).saturating_add(value_bytes)
}

/// The canonical name of a conversation given in any spelling.
fn conversation_name(conversation: &str) -> Result<ConversationId> {
    ConversationId::parse(conversation)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    Absent,
    /// On storage; its size is counted in a total it belongs to but not known on its own.
    Unknown,
    Bytes(u64),
}

impl Stored {
    fn bytes(self) -> u64 {
        match self {
            Stored::Bytes(n) => n,
            Stored::Absent | Stored::Unknown => 0,
        }
    }
}

/// A key to remove, with what removing it frees.
#[derive(Debug, Clone)]
struct Removal {
    key: String,
    bytes: u64,
    /// Removed after the heads are written (values the new heads no longer name); otherwise before
    /// anything new is written (evictions, which make the room), once the head of the conversation
    /// it leaves is written without it, so that a head never names a value that is gone.
    after_heads: bool,
    /// Removed to make room: counted as freed when a flush is checked against the budget.
    evicted: bool,
}

/// A record whose conversation could not be read when it came (its head threw, or it waits for a
/// repair or for the format 1 check): kept in memory and placed by the next operation that can.
#[derive(Debug, Clone)]
struct Deferred {
    meta: RecordMeta,
    conversation: ConversationId,
    doc: Doc,
    bytes: u64,
}

#[derive(Debug, Clone, Default)]
struct Extra {
    /// Bytes on storage (0 when absent).
    stored: u64,
    /// A value waiting to be written.
    pending: Option<String>,
    /// The value last written this session.
    written: Option<String>,
}

/// The conversation store. See the module documentation.
pub struct Store<B: Backend> {
    backend: B,
    keys: Keys,
    user: String,
    options: StoreOptions,
    // Boxed: a conversation is large, and the sorted map moves its values as it grows.
    conversations: VecMap<String, Box<Conversation>>,
    /// Record id to its conversation and time, for every record read or written this session.
    index: FxHashMap<String, (String, i64)>,
    muted: VecMap<String, ()>,
    evicted_records: u64,
    evicted_chunks: u64,
    state_stored: Stored,
    state_dirty: bool,
    extras: VecMap<String, Extra>,
    /// My records stored `sending`, as named on storage (see [`pending`]).
    sends: pending::Sends,
    removals: Vec<Removal>,
    bytes_used: u64,
    /// Bytes of keys under the prefix that are not the store's own values.
    foreign_bytes: u64,
    foreign_keys: u64,
    skipped_corrupt: u64,
    skipped_keys: Vec<String>,
    skipped_records: usize,
    /// Conversations whose format 1 keys wait for a migration that storage refused (see `OpenReport`).
    paused_v1: VecMap<String, ()>,
    evictions: Vec<EvictionEvent>,
    /// Conversations that took fetched history since opening: the newest fetched mark (see [`fetched`]).
    fetched: FxHashMap<String, fetched::Fetched>,
    /// Loaded sealed chunks, oldest use first, for unloading past [`CACHED_CHUNKS`].
    cache: Vec<(String, u64)>,
    /// Reads that threw and checks that could not be made, retried by [`Store::resume`].
    pending: open::Pending,
    /// Records waiting for their conversation to be readable, oldest first.
    deferred: Vec<Deferred>,
    /// Bytes evicted for a storage that said it is full since a flush last succeeded: once they cover
    /// what the flush needs and it still fails, evicting more would not help.
    full_freed: u64,
    /// The flush under way may leave heads unwritten ([`lag`]): it stores a received record.
    lag_heads: bool,
    /// A head was left unwritten by the last flush planned.
    waiting: bool,
}

impl<B: Backend> Store<B> {
    /// Gives the backend back.
    pub fn into_backend(self) -> B {
        self.backend
    }

    pub fn backend(&mut self) -> &mut B {
        &mut self.backend
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// Notes a value that cannot be read as what its key says, once per key.
    fn skip(&mut self, key: String) {
        if self.skipped_keys.contains(&key) {
            return;
        }
        self.skipped_corrupt = self.skipped_corrupt.saturating_add(1);
        self.skipped_keys.push(key);
    }

    /// Checks a record can be stored.
    fn check(meta: &RecordMeta, conversation: &ConversationId, bytes: u64) -> Result<()> {
        if meta.id.is_empty() {
            return Err(Error::input(format!("a record of {conversation} has an empty id")));
        }
        if bytes > MAX_RECORD_BYTES {
            return Err(Error::input(format!(
                "record {:?} is {bytes} bytes as JSON; the store keeps records up to {MAX_RECORD_BYTES} bytes",
                meta.id
            )));
        }
        Ok(())
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::tape::Tape;
    use serde_json::json;

    #[test]
    fn a_record_names_its_own_conversation_only() {
        let table = [
            ("single:bob", json!("single:bob"), true),
            ("single:张三", json!("single:张三"), true),
            ("group:g:1", json!("group:g:1"), true),
            ("single:bob", json!("single:bo"), false),
            ("single:bob", json!("single:bob2"), false),
            ("single:bob", json!("group:bob"), false),
            ("single:bob", json!("single;bob"), false),
            ("single:bob", json!("single"), false),
            ("single:张三", json!("single:张四"), false),
            ("single:bob", json!(7), false),
        ];
        for (conversation, value, want) in table {
            let id = ConversationId::parse(conversation).unwrap();
            assert_eq!(is_name_of(Tape::full(&value).root(), &id), want, "{conversation} {value}");
        }
    }

    #[test]
    fn a_records_index_reads_the_same_by_place_as_whole() {
        let bob = ConversationId::parse("single:bob").unwrap();
        let record = json!({"id": "m1", "conversation": "single:bob", "kind": "single", "from": "bob", "to": "me",
            "direction": "in", "time": 1_700_000_000_000_i64, "type": "txt", "text": "长 text", "sender": {"id": "bob", "nickname": "B"},
            "mentionsMe": true, "status": "received", "ext": {"a": {"b": 1}}});
        let by_place = |value: &serde_json::Value| {
            let tape = Tape::from_json(value, &Shape::Record.projection(), &mut |_| 0);
            RecordMeta::from_val(tape.root(), &bob)
        };
        let whole = |value: &serde_json::Value| RecordMeta::from_val(Tape::full(value).root(), &bob);
        let expected = RecordMeta {
            id: "m1".into(),
            time: 1_700_000_000_000,
            direction: Direction::In,
            status: Status::Received,
            recalled: false,
            mentions_me: true,
        };
        assert_eq!(by_place(&record), Some(expected.clone()));
        assert_eq!(whole(&record), Some(expected));
        // What is not a record of this conversation is refused either way.
        for (field, value) in [("text", json!(5)), ("sender", json!("bob")), ("kind", json!("group")), ("status", json!("odd"))] {
            let mut broken = record.clone();
            broken[field] = value;
            assert_eq!((by_place(&broken), whole(&broken)), (None, None), "{field}");
        }
        let mut no_id = record.clone();
        no_id.as_object_mut().unwrap().remove("id");
        assert_eq!((by_place(&no_id), whole(&no_id)), (None, None));
    }
}
