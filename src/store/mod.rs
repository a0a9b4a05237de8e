//! The conversation store: every conversation's history, unread count and state, kept in a small
//! key-value storage (`wx` storage in a mini-program) so that no message reported stored is ever lost.
//!
//! Why it is laid out this way (see [`layout`] for the key names):
//! - History is cut into chunks of about 6 KB of JSON, one key each, ordered by a sequence number and
//!   non-overlapping in (time, id). Appending rewrites only the tail chunk, so a message costs the same
//!   with ten or a hundred thousand messages before it; a full tail is sealed and a new one started.
//!   Late older messages go into the chunk their time falls in; a chunk past 64 KB is split in two
//!   (sequence numbers are spaced 2^32 apart so a split always finds a number between its neighbours).
//! - The conversation's meta (unread, read watermarks, byte totals of the sealed chunks) lives inside the
//!   tail chunk rather than in a key of its own: an append is then one write, and the record and the
//!   unread count it changes reach storage together or not at all.
//! - An operation changes memory first, then flushes its dirty keys: removals, then each conversation's
//!   tail (naming, as `intent`, the sealed chunks about to be written), then those chunks. A flush that
//!   fails leaves the keys dirty; the records stay in memory (history returns them) and the next operation
//!   retries them; the outcome says `Unsaved` so no caller reports a message stored that is not.
//! - Opening lists the keys and reads each conversation's tail; the sizes of sealed chunks come from the
//!   tail's meta, corrected by reading the chunks in its `intent`. When the listing disagrees with the
//!   meta (a crash between writes) or the tail is unreadable, the conversation's chunks are read and the
//!   meta rebuilt: chunks are the truth, meta is a cache.
//! - The store counts the bytes (key plus value, UTF-8) of its own keys and never flushes past
//!   `total_bytes`: it first evicts sealed chunks, least recently active conversations first and oldest
//!   chunk first, then whole idle conversations; never a chunk with unsaved changes, never the tail of the
//!   conversation being written. Each eviction is counted and queued as an [`EvictionEvent`].
//! - Statuses that concern many records (I read the conversation, the peer read the conversation) are
//!   watermarks in the meta, applied when records are handed out, instead of rewrites of history.
//!
//! Limits: a record whose id is found neither among the records read or written this session nor where
//! its time places it is not recognised as a repeat; acks and recalls find records read or written this
//! session (tails are read at open, so recent messages are always found).

mod kv;
mod layout;
mod legacy;
mod memory;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::de::IgnoredAny;
use serde_json::value::{to_raw_value, RawValue};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::kind::{ConversationId, Kind};
use crate::message::{Direction, Record, Status};
use layout::{decode_chunk, decode_state, encode_chunk, KeyName, Keys, Mark, Meta, State};

pub use kv::{is_full_error, KeyValue};
pub use legacy::legacy_record;
pub use memory::{MemoryStorage, WX_KEY_LIMIT, WX_TOTAL_LIMIT};

/// Distance between the sequence numbers of consecutive chunks, leaving room for splits.
const SEQ_STEP: u64 = 1 << 32;
/// A tail holding this many bytes of records is sealed before the next append.
const TARGET_CHUNK_BYTES: usize = 6 * 1024;
/// A chunk grown past this by late inserts is split.
const SPLIT_CHUNK_BYTES: usize = 64 * 1024;
/// Larger records are refused: they could not share a chunk within `wx`'s 1 MiB per key.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;
/// Larger extra blobs are refused.
pub const MAX_EXTRA_BYTES: usize = 512 * 1024;
/// Sealed chunks kept in memory after use.
const CACHED_CHUNKS: usize = 64;

/// How the store may use the storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Budget for all of mpchat's keys of this user (key plus value bytes).
    pub total_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            total_bytes: 8 * 1024 * 1024,
        }
    }
}

/// What opening found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenReport {
    pub conversations: usize,
    /// Conversations whose meta was missing or stale and was rebuilt from their chunks.
    pub rebuilt: usize,
    /// Keys under mpchat's prefix that could not be read (corrupt, foreign, another format version).
    pub skipped_keys: Vec<String>,
    /// Items inside otherwise readable chunks that were not records.
    pub skipped_records: usize,
}

/// What became of a record handed to [`Store::insert`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum InsertOutcome {
    /// On storage.
    Stored,
    /// A record with this id is already kept; nothing changed.
    Duplicate,
    /// Kept in memory (history returns it) but not on storage yet; retried with the next operation.
    Unsaved { reason: String },
}

/// What became of an update (ack, recall, read, mute, extra).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum UpdateOutcome {
    Updated,
    /// An ack found the server id already stored: the sending record was folded into it.
    Merged,
    Unchanged,
    NotFound,
    /// Applied in memory, not on storage yet; retried with the next operation.
    Unsaved {
        reason: String,
    },
}

/// One row of the conversation list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    pub conversation: String,
    pub kind: Kind,
    pub id: String,
    pub last: Option<Record>,
    pub unread: u64,
    /// An unread record mentions me (or everyone): the list shows [有人@我] until I read it.
    pub mentions_me: bool,
    /// Server time of the newest record (ms).
    pub updated_at: i64,
    pub muted: bool,
}

/// Storage use, for `chat.storageReport()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
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
    /// Keys with changes not yet on storage.
    pub unsaved: u64,
}

/// History removed to stay within the budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvictionEvent {
    pub conversation: String,
    pub records: u64,
    /// The conversation's last chunk went too: it left the conversation list.
    pub whole_conversation: bool,
}

/// What [`Store::migrate_legacy`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// Not on storage.
    Absent,
    /// On storage, size counted only in the conversation's sealed total.
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

#[derive(Debug, Clone)]
struct Entry {
    record: Record,
    /// The record as stored: serialised once, when it is placed or changed, and joined into chunk
    /// values as it is, so a rewrite of the tail does not serialise every record again.
    json: Box<RawValue>,
}

impl Entry {
    fn json_len(&self) -> usize {
        self.json.get().len()
    }
}

#[derive(Debug, Clone)]
enum Body {
    Unloaded,
    Corrupt,
    Loaded { entries: Vec<Entry>, bytes: usize },
}

#[derive(Debug, Clone)]
struct Chunk {
    seq: u64,
    stored: Stored,
    body: Body,
    /// (first, last) marks, kept when the body is unloaded so searches need not read it again.
    range: Option<(Mark, Mark)>,
    /// Memory differs from storage.
    dirty: bool,
}

impl Chunk {
    fn new(seq: u64, entries: Vec<Entry>) -> Self {
        let mut chunk = Chunk {
            seq,
            stored: Stored::Absent,
            body: Body::Unloaded,
            range: None,
            dirty: true,
        };
        chunk.set_entries(entries);
        chunk
    }

    fn set_entries(&mut self, entries: Vec<Entry>) {
        let bytes = entries
            .iter()
            .map(|e| e.json_len() + 1)
            .sum::<usize>()
            .saturating_sub(1);
        self.range = match (entries.first(), entries.last()) {
            (Some(first), Some(last)) => Some((mark_of(&first.record), mark_of(&last.record))),
            _ => None,
        };
        self.body = Body::Loaded { entries, bytes };
    }

    fn entries(&self) -> Option<&Vec<Entry>> {
        match &self.body {
            Body::Loaded { entries, .. } => Some(entries),
            _ => None,
        }
    }

    /// Changes the entries and keeps byte total, range and dirtiness right.
    fn edit<T>(&mut self, f: impl FnOnce(&mut Vec<Entry>) -> T) -> Option<T> {
        let Body::Loaded { entries, .. } = &mut self.body else {
            return None;
        };
        let mut taken = std::mem::take(entries);
        let out = f(&mut taken);
        self.set_entries(taken);
        self.dirty = true;
        Some(out)
    }

    fn loaded_bytes(&self) -> usize {
        match &self.body {
            Body::Loaded { bytes, .. } => *bytes,
            _ => 0,
        }
    }

    fn is_corrupt(&self) -> bool {
        matches!(self.body, Body::Corrupt)
    }
}

#[derive(Debug, Clone)]
struct Conversation {
    id: ConversationId,
    /// By sequence number; the last one is the tail and is always loaded.
    chunks: Vec<Chunk>,
    unread: u64,
    read_mark: Option<Mark>,
    peer_read_mark: Option<Mark>,
    mention_mark: Option<Mark>,
    /// Bytes on storage of all chunks but the tail.
    sealed_bytes: u64,
    /// Sealed chunks with writes or removals pending.
    touched: BTreeSet<u64>,
    pending_removals: u64,
    /// The tail must be rewritten (its meta changed).
    meta_dirty: bool,
    /// Time of the newest record.
    activity: i64,
    /// Chunks created in memory since the cache last took note of them.
    fresh: Vec<u64>,
}

impl Conversation {
    fn new(id: ConversationId, seqs: &[u64]) -> Self {
        let chunks = if seqs.is_empty() {
            vec![Chunk {
                dirty: false,
                ..Chunk::new(SEQ_STEP, Vec::new())
            }]
        } else {
            seqs.iter()
                .map(|&seq| Chunk {
                    seq,
                    stored: Stored::Unknown,
                    body: Body::Unloaded,
                    range: None,
                    dirty: false,
                })
                .collect()
        };
        Conversation {
            id,
            chunks,
            unread: 0,
            read_mark: None,
            peer_read_mark: None,
            mention_mark: None,
            sealed_bytes: 0,
            touched: BTreeSet::new(),
            pending_removals: 0,
            meta_dirty: false,
            activity: i64::MIN,
            fresh: Vec::new(),
        }
    }

    fn tail(&self) -> usize {
        self.chunks.len().saturating_sub(1)
    }

    fn position(&self, seq: u64) -> Option<usize> {
        self.chunks.binary_search_by_key(&seq, |c| c.seq).ok()
    }

    fn needs_flush(&self) -> bool {
        self.meta_dirty || !self.touched.is_empty() || self.chunks.last().is_some_and(|c| c.dirty)
    }

    fn has_unsaved_records(&self) -> bool {
        !self.touched.is_empty() || self.chunks.iter().any(|c| c.dirty)
    }

    /// Starts a new tail after the current one, which becomes a sealed chunk.
    fn push_tail(&mut self, chunk: Chunk) {
        if let Some(old) = self.chunks.last() {
            self.sealed_bytes = self.sealed_bytes.saturating_add(old.stored.bytes());
            if old.dirty {
                self.touched.insert(old.seq);
            }
            self.fresh.push(old.seq);
        }
        self.chunks.push(chunk);
    }

    /// Puts an entry into chunk `at`, sealing the tail or splitting an oversized chunk as needed.
    fn place(&mut self, at: usize, entry: Entry) {
        let tail = self.tail();
        let key = mark_of(&entry.record);
        let Some(chunk) = self.chunks.get_mut(at) else {
            return;
        };
        let Some(entries) = chunk.entries() else {
            return;
        };
        let pos = entries.partition_point(|e| mark_cmp(&e.record, &key).is_lt());
        let appends_to_full_tail = at == tail
            && pos == entries.len()
            && !entries.is_empty()
            && chunk.loaded_bytes().saturating_add(entry.json_len()) >= TARGET_CHUNK_BYTES;
        if appends_to_full_tail {
            let seq = chunk.seq.saturating_add(SEQ_STEP);
            self.push_tail(Chunk::new(seq, vec![entry]));
            return;
        }
        chunk.edit(|entries| entries.insert(pos, entry));
        if at != tail {
            self.touched.insert(chunk.seq);
        }
        if chunk.loaded_bytes() > SPLIT_CHUNK_BYTES {
            self.split(at);
        }
    }

    /// Splits chunk `at` in two halves by bytes, if a sequence number is free between it and the next.
    fn split(&mut self, at: usize) {
        let is_tail = at == self.tail();
        let Some(chunk) = self.chunks.get(at) else {
            return;
        };
        let next = match self.chunks.get(at.saturating_add(1)) {
            Some(next) => next.seq,
            None => chunk.seq.saturating_add(SEQ_STEP.saturating_mul(2)),
        };
        let gap = next.saturating_sub(chunk.seq);
        let Some(entries) = chunk.entries().filter(|e| e.len() >= 2 && gap >= 2) else {
            return;
        };
        let half = chunk.loaded_bytes() / 2;
        let mut sum = 0usize;
        let cut = entries
            .iter()
            .position(|e| {
                sum = sum.saturating_add(e.json_len() + 1);
                sum >= half
            })
            .map_or(1, |i| i.saturating_add(1))
            .clamp(1, entries.len().saturating_sub(1));
        let seq = chunk.seq.saturating_add(gap / 2);
        let Some(upper) = self
            .chunks
            .get_mut(at)
            .and_then(|c| c.edit(|entries| entries.split_off(cut)))
        else {
            return;
        };
        let new_chunk = Chunk::new(seq, upper);
        if is_tail {
            self.push_tail(new_chunk);
        } else {
            if let Some(c) = self.chunks.get(at) {
                self.touched.insert(c.seq);
            }
            self.touched.insert(seq);
            self.fresh.push(seq);
            self.chunks.insert(at.saturating_add(1), new_chunk);
        }
    }

    /// The meta to write with the tail now.
    fn meta(&self, pending: &[Removal]) -> Meta {
        let name = self.id.to_string();
        let touched_bytes: u64 = self
            .touched
            .iter()
            .map(|&seq| match self.position(seq) {
                Some(i) => self.chunks.get(i).map_or(0, |c| c.stored.bytes()),
                None => pending
                    .iter()
                    .find(|r| r.seq == seq && r.conversation == name)
                    .map_or(0, |r| r.bytes),
            })
            .sum();
        let sealed = (self.tail() as u64).saturating_add(self.pending_removals);
        Meta {
            unread: self.unread,
            read_mark: self.read_mark.clone(),
            peer_read_mark: self.peer_read_mark.clone(),
            mention_mark: self.mention_mark.clone(),
            sealed_bytes: self.sealed_bytes.saturating_sub(touched_bytes),
            sealed_chunks: sealed.saturating_sub(self.touched.len() as u64),
            intent: self.touched.iter().copied().collect(),
        }
    }

    fn counts_unread(&self, record: &Record, muted: bool) -> bool {
        record.direction == Direction::In
            && !record.recalled
            && record.status != Status::Read
            && !muted
            && self
                .read_mark
                .as_ref()
                .is_none_or(|m| mark_cmp(record, m).is_gt())
    }

    /// The record as pages see it: watermarks applied.
    fn presented(&self, record: &Record) -> Record {
        let mut out = record.clone();
        let under =
            |mark: &Option<Mark>| mark.as_ref().is_some_and(|m| mark_cmp(record, m).is_le());
        match record.direction {
            Direction::In if record.status == Status::Received && under(&self.read_mark) => {
                out.status = Status::Read
            }
            Direction::Out
                if matches!(record.status, Status::Sent | Status::Delivered)
                    && under(&self.peer_read_mark) =>
            {
                out.status = Status::Read
            }
            _ => {}
        }
        out
    }
}

/// A key to remove, with what removing it frees.
#[derive(Debug, Clone)]
struct Removal {
    key: String,
    conversation: String,
    seq: u64,
    bytes: u64,
    /// The conversation's tail: the whole conversation is going.
    whole: bool,
}

#[derive(Debug, Clone)]
struct Extra {
    value: String,
    stored: Stored,
    dirty: bool,
}

/// Where a record is.
#[derive(Debug, Clone)]
struct Location {
    conversation: String,
    chunk: usize,
    entry: usize,
}

/// Whose read watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Me,
    Peer,
}

enum WriteTarget {
    Tail(String),
    Sealed(String, u64),
    Extra(String),
    State,
}

struct Write {
    key: String,
    value: String,
    target: WriteTarget,
}

fn mark_of(record: &Record) -> Mark {
    (record.time, record.id.clone())
}

fn mark_cmp(record: &Record, mark: &Mark) -> std::cmp::Ordering {
    (record.time, record.id.as_str()).cmp(&(mark.0, mark.1.as_str()))
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
fn raise(status: &mut Status, to: Status) -> bool {
    if out_rank(to) > out_rank(*status) {
        *status = to;
        true
    } else {
        false
    }
}

fn entry_bytes(key: &str, value: &str) -> u64 {
    (key.len() as u64).saturating_add(value.len() as u64)
}

/// The canonical name of a conversation given in any spelling.
fn conversation_name(conversation: &str) -> Result<String> {
    Ok(ConversationId::parse(conversation)?.to_string())
}

/// The conversation store. See the module documentation.
pub struct Store<K: KeyValue> {
    kv: K,
    keys: Keys,
    user: String,
    options: StoreOptions,
    conversations: BTreeMap<String, Conversation>,
    /// Record id to its conversation and time, for every record read or written this session.
    index: HashMap<String, (String, i64)>,
    muted: BTreeSet<String>,
    evicted_records: u64,
    evicted_chunks: u64,
    state_stored: Stored,
    state_dirty: bool,
    extras: BTreeMap<String, Extra>,
    removals: Vec<Removal>,
    bytes_used: u64,
    foreign_keys: u64,
    skipped_corrupt: u64,
    skipped_keys: Vec<String>,
    skipped_records: usize,
    evictions: Vec<EvictionEvent>,
    cache: VecDeque<(String, u64)>,
}

impl<K: KeyValue> Store<K> {
    /// Opens the store of `user` on `kv`, reading what is there. Unreadable values are skipped and
    /// listed in the report; a storage call that throws makes opening fail (try again later).
    pub fn open(kv: K, user: &str, options: StoreOptions) -> Result<(Self, OpenReport)> {
        if user.is_empty() {
            return Err(Error::input(
                "the store needs the logged-in user id; got an empty string",
            ));
        }
        let mut store = Store {
            kv,
            keys: Keys::new(user),
            user: user.to_string(),
            options,
            conversations: BTreeMap::new(),
            index: HashMap::new(),
            muted: BTreeSet::new(),
            evicted_records: 0,
            evicted_chunks: 0,
            state_stored: Stored::Absent,
            state_dirty: false,
            extras: BTreeMap::new(),
            removals: Vec::new(),
            bytes_used: 0,
            foreign_keys: 0,
            skipped_corrupt: 0,
            skipped_keys: Vec::new(),
            skipped_records: 0,
            evictions: Vec::new(),
            cache: VecDeque::new(),
        };
        let mut chunk_keys: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let mut foreign = Vec::new();
        for key in store.kv.keys()? {
            match store.keys.parse(&key) {
                None => {}
                Some(KeyName::Chunk { conversation, seq }) => {
                    chunk_keys.entry(conversation).or_default().push(seq)
                }
                Some(KeyName::State) => store.open_state(&key)?,
                Some(KeyName::Extra(name)) => store.open_extra(&key, name)?,
                Some(KeyName::Foreign) => foreign.push(key),
            }
        }
        for (name, mut seqs) in chunk_keys {
            match ConversationId::parse(&name) {
                Ok(id) if id.to_string() == name => {
                    seqs.sort_unstable();
                    store.open_conversation(id, &seqs)?;
                }
                _ => foreign.extend(seqs.iter().map(|&seq| store.keys.chunk(&name, seq))),
            }
        }
        for key in foreign {
            if let Some(value) = store.kv.get(&key)? {
                store.bytes_used = store.bytes_used.saturating_add(entry_bytes(&key, &value));
                store.foreign_keys = store.foreign_keys.saturating_add(1);
            }
            store.skip(key);
        }
        let rebuilt = store
            .conversations
            .values()
            .filter(|c| c.meta_dirty)
            .count();
        store.trim_cache();
        let report = OpenReport {
            conversations: store.conversations.len(),
            rebuilt,
            skipped_keys: store.skipped_keys.clone(),
            skipped_records: store.skipped_records,
        };
        Ok((store, report))
    }

    /// Gives the storage back.
    pub fn into_inner(self) -> K {
        self.kv
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    fn skip(&mut self, key: String) {
        self.skipped_corrupt = self.skipped_corrupt.saturating_add(1);
        self.skipped_keys.push(key);
    }

    fn open_state(&mut self, key: &str) -> Result<()> {
        let Some(value) = self.kv.get(key)? else {
            return Ok(());
        };
        self.state_stored = Stored::Bytes(entry_bytes(key, &value));
        self.bytes_used = self.bytes_used.saturating_add(entry_bytes(key, &value));
        match decode_state(&value) {
            Some(state) => {
                self.muted = state.muted.into_iter().collect();
                self.evicted_records = state.evicted_records;
                self.evicted_chunks = state.evicted_chunks;
            }
            None => self.skip(key.to_string()),
        }
        Ok(())
    }

    fn open_extra(&mut self, key: &str, name: String) -> Result<()> {
        let Some(value) = self.kv.get(key)? else {
            return Ok(());
        };
        let stored = Stored::Bytes(entry_bytes(key, &value));
        self.bytes_used = self.bytes_used.saturating_add(stored.bytes());
        if serde_json::from_str::<IgnoredAny>(&value).is_err() {
            self.skip(key.to_string());
            self.extras.insert(
                name,
                Extra {
                    value: "null".into(),
                    stored,
                    dirty: false,
                },
            );
        } else {
            self.extras.insert(
                name,
                Extra {
                    value,
                    stored,
                    dirty: false,
                },
            );
        }
        Ok(())
    }

    fn open_conversation(&mut self, id: ConversationId, seqs: &[u64]) -> Result<()> {
        let name = id.to_string();
        let conversation = Conversation::new(id, seqs);
        let tail = conversation.tail();
        self.conversations.insert(name.clone(), conversation);
        let meta = self.load(&name, tail)?;
        let tail_corrupt = self.chunk(&name, tail).is_none_or(Chunk::is_corrupt);
        let listed = seqs.get(..tail).unwrap_or_default();
        // Trusted when it names the sealed chunks listed and its byte total could fit in them.
        let trusted = meta.as_ref().filter(|m| {
            !tail_corrupt
                && listed.iter().filter(|s| !m.intent.contains(s)).count() as u64 == m.sealed_chunks
                && m.sealed_bytes <= m.sealed_chunks.saturating_mul(WX_KEY_LIMIT)
        });
        // Sizes of the sealed chunks the meta does not vouch for: those in its intent, or all of them.
        let mut read_bytes = 0u64;
        for (i, seq) in listed.iter().enumerate() {
            if trusted.is_none_or(|m| m.intent.contains(seq)) {
                self.load(&name, i)?;
                read_bytes =
                    read_bytes.saturating_add(self.chunk(&name, i).map_or(0, |c| c.stored.bytes()));
            }
        }
        let sealed_bytes =
            trusted.map_or(read_bytes, |m| m.sealed_bytes.saturating_add(read_bytes));
        let rebuilt = trusted.is_none();
        let Some(conversation) = self.conversations.get_mut(&name) else {
            return Ok(());
        };
        conversation.sealed_bytes = sealed_bytes;
        conversation.meta_dirty = rebuilt;
        if let Some(m) = meta {
            conversation.unread = m.unread;
            conversation.read_mark = m.read_mark;
            conversation.peer_read_mark = m.peer_read_mark;
            conversation.mention_mark = m.mention_mark;
        }
        if tail_corrupt {
            let seq = seqs.last().copied().unwrap_or(0).saturating_add(SEQ_STEP);
            conversation.push_tail(Chunk {
                dirty: false,
                ..Chunk::new(seq, Vec::new())
            });
        }
        let tail_bytes = conversation.chunks.last().map_or(0, |c| c.stored.bytes());
        self.bytes_used = self
            .bytes_used
            .saturating_add(tail_bytes)
            .saturating_add(conversation.sealed_bytes);
        let newest = self.newest(&name)?;
        if let Some(c) = self.conversations.get_mut(&name) {
            c.activity = newest.as_ref().map_or(i64::MIN, |r| r.time);
            // No record, nothing unread, whatever a stale or foreign meta says: the conversation is
            // not listed, so its count would be a badge with nothing behind it.
            if newest.is_none() {
                c.unread = 0;
            }
        }
        Ok(())
    }
}

/// Reading chunks and finding records.
impl<K: KeyValue> Store<K> {
    fn chunk(&self, name: &str, at: usize) -> Option<&Chunk> {
        self.conversations.get(name).and_then(|c| c.chunks.get(at))
    }

    /// Reads chunk `at` into memory unless it is there; returns the meta it carried.
    fn load(&mut self, name: &str, at: usize) -> Result<Option<Meta>> {
        let Some(chunk) = self
            .chunk(name, at)
            .filter(|c| matches!(c.body, Body::Unloaded))
        else {
            return Ok(None);
        };
        let seq = chunk.seq;
        let key = self.keys.chunk(name, seq);
        let value = self.kv.get(&key)?;
        let size = value.as_deref().map(|v| entry_bytes(&key, v));
        let decoded = value.as_deref().and_then(|v| decode_chunk(name, v));
        let mut meta = None;
        let entries = decoded.map(|d| {
            self.skipped_records = self.skipped_records.saturating_add(d.skipped_records);
            meta = d.meta;
            let mut records = d.records;
            records.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
            records.dedup_by(|a, b| a.id == b.id);
            records.into_iter().map(entry).collect::<Vec<_>>()
        });
        if entries.is_none() {
            self.skip(key);
        }
        for e in entries.iter().flatten() {
            self.index
                .insert(e.record.id.clone(), (name.to_string(), e.record.time));
        }
        let Some(chunk) = self
            .conversations
            .get_mut(name)
            .and_then(|c| c.chunks.get_mut(at))
        else {
            return Ok(meta);
        };
        if let Some(size) = size {
            chunk.stored = Stored::Bytes(size);
        }
        match entries {
            Some(entries) => chunk.set_entries(entries),
            None => chunk.body = Body::Corrupt,
        }
        self.cache.push_back((name.to_string(), seq));
        Ok(meta)
    }

    /// The newest record of a conversation.
    fn newest(&mut self, name: &str) -> Result<Option<Record>> {
        let count = self.conversations.get(name).map_or(0, |c| c.chunks.len());
        for at in (0..count).rev() {
            self.load(name, at)?;
            if let Some(e) = self
                .chunk(name, at)
                .and_then(Chunk::entries)
                .and_then(|es| es.last())
            {
                return Ok(Some(e.record.clone()));
            }
        }
        Ok(None)
    }

    /// The chunk a record at `key` belongs in: the first whose last record is at or after it, else
    /// the tail. Reads chunks as a binary search needs them.
    fn locate(&mut self, name: &str, key: (i64, &str)) -> Result<usize> {
        loop {
            let Some(conv) = self.conversations.get(name) else {
                return Ok(0);
            };
            let tail = conv.tail();
            let after = |m: &Mark| key >= (m.0, m.1.as_str());
            if conv
                .chunks
                .get(tail)
                .and_then(|c| c.range.as_ref())
                .is_some_and(|(first, _)| after(first))
            {
                return Ok(tail);
            }
            let candidates: Vec<usize> = (0..tail)
                .filter(|&i| conv.chunks.get(i).is_some_and(|c| !c.is_corrupt()))
                .collect();
            let (mut lo, mut hi) = (0usize, candidates.len());
            let mut found_corrupt = false;
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let Some(&at) = candidates.get(mid) else {
                    break;
                };
                if self.chunk(name, at).is_some_and(|c| c.range.is_none()) {
                    self.load(name, at)?;
                }
                let Some(chunk) = self.chunk(name, at) else {
                    break;
                };
                if chunk.is_corrupt() {
                    found_corrupt = true;
                    break;
                }
                if chunk
                    .range
                    .as_ref()
                    .is_none_or(|(_, last)| (last.0, last.1.as_str()) >= key)
                {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            if !found_corrupt {
                return Ok(candidates.get(lo).copied().unwrap_or(tail));
            }
        }
    }

    /// Where the record `id` is, looking where its time places it in `name`.
    fn find_in(&mut self, name: &str, time: i64, id: &str) -> Result<Option<Location>> {
        if !self.conversations.contains_key(name) {
            return Ok(None);
        }
        let at = self.locate(name, (time, id))?;
        self.load(name, at)?;
        let entry = self
            .chunk(name, at)
            .and_then(Chunk::entries)
            .and_then(|es| es.iter().position(|e| e.record.id == id));
        Ok(entry.map(|entry| Location {
            conversation: name.to_string(),
            chunk: at,
            entry,
        }))
    }

    /// Where the record `id` is, if it was read or written this session.
    fn find(&mut self, id: &str) -> Result<Option<Location>> {
        match self.index.get(id).cloned() {
            Some((name, time)) => self.find_in(&name, time, id),
            None => Ok(None),
        }
    }

    fn record_at(&self, loc: &Location) -> Option<&Record> {
        self.chunk(&loc.conversation, loc.chunk)
            .and_then(Chunk::entries)
            .and_then(|es| es.get(loc.entry))
            .map(|e| &e.record)
    }
}

fn entry(record: Record) -> Entry {
    // Serialising a Record cannot fail (string keys, no floats from outside JSON); null if it ever did.
    let json = to_raw_value(&record).unwrap_or_default();
    Entry { record, json }
}

/// Operations.
impl<K: KeyValue> Store<K> {
    /// Stores an already normalised record: de-duplicated by id, placed in (time, id) order.
    /// Incoming records count as unread unless the conversation is muted; my own never do.
    pub fn insert(&mut self, record: Record) -> Result<InsertOutcome> {
        let name = record.conversation.clone();
        let added = self.insert_in_memory(record)?;
        let unsaved = self.finish(Some(&name));
        Ok(match (added, unsaved) {
            (false, _) => InsertOutcome::Duplicate,
            (true, None) => InsertOutcome::Stored,
            (true, Some(reason)) => InsertOutcome::Unsaved { reason },
        })
    }

    /// Checks a record can be stored; returns its serialised size.
    fn check(record: &Record) -> Result<Box<RawValue>> {
        let id = ConversationId::parse(&record.conversation)?;
        if id.kind != record.kind || id.to_string() != record.conversation {
            return Err(Error::input(format!(
                "record {:?} has conversation {:?} and kind {}; the store takes normalised records whose \
                 conversation is '<kind>:<id>' with the record's kind",
                record.id, record.conversation, record.kind
            )));
        }
        if record.id.is_empty() {
            return Err(Error::input(format!(
                "a record of {} has an empty id",
                record.conversation
            )));
        }
        let json = to_raw_value(record).unwrap_or_default();
        let size = json.get().len();
        if size > MAX_RECORD_BYTES {
            return Err(Error::input(format!(
                "record {:?} is {size} bytes as JSON; the store keeps records up to {MAX_RECORD_BYTES} bytes",
                record.id
            )));
        }
        Ok(json)
    }

    /// Adds a record to memory (not storage); false when it is a repeat.
    fn insert_in_memory(&mut self, record: Record) -> Result<bool> {
        let json = Self::check(&record)?;
        if self.index.contains_key(&record.id) {
            return Ok(false);
        }
        let name = record.conversation.clone();
        if !self.conversations.contains_key(&name) {
            let id = ConversationId::parse(&name)?;
            self.conversations
                .insert(name.clone(), Conversation::new(id, &[]));
        }
        let at = self.locate(&name, (record.time, &record.id))?;
        self.load(&name, at)?;
        if self
            .chunk(&name, at)
            .and_then(Chunk::entries)
            .is_some_and(|es| es.iter().any(|e| e.record.id == record.id))
        {
            return Ok(false);
        }
        let muted = self.muted.contains(&name);
        self.index
            .insert(record.id.clone(), (name.clone(), record.time));
        let Some(conv) = self.conversations.get_mut(&name) else {
            return Ok(false);
        };
        if conv.counts_unread(&record, muted) {
            conv.unread = conv.unread.saturating_add(1);
            conv.meta_dirty = true;
        }
        // A mention of me stands out in the list until I read past it, muted or not.
        if record.mentions_me && conv.counts_unread(&record, false) {
            let mark = mark_of(&record);
            if conv.mention_mark.as_ref().is_none_or(|m| *m < mark) {
                conv.mention_mark = Some(mark);
                conv.meta_dirty = true;
            }
        }
        conv.activity = conv.activity.max(record.time);
        conv.place(at, Entry { record, json });
        Ok(true)
    }

    /// The SDK acknowledged my message: the `sending` record `local_id` becomes `server_id` with status
    /// `sent` (and the server's time when given). If `server_id` is already stored, the two are merged.
    pub fn ack_sent(
        &mut self,
        local_id: &str,
        server_id: &str,
        server_time: Option<i64>,
    ) -> Result<UpdateOutcome> {
        let Some(loc) = self.find(local_id)? else {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        };
        let Some(record) = self.record_at(&loc).cloned() else {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        };
        let name = loc.conversation.clone();
        let existing = if server_id == local_id {
            None
        } else {
            match self.find(server_id)? {
                Some(found) => Some(found),
                None => self.find_in(&name, server_time.unwrap_or(record.time), server_id)?,
            }
        };
        let outcome = if let Some(existing) = existing {
            self.modify(&existing, |r| raise(&mut r.status, Status::Sent));
            self.take_entry(&loc);
            UpdateOutcome::Merged
        } else {
            let mut moved = record;
            moved.id = server_id.to_string();
            moved.time = server_time.unwrap_or(moved.time);
            raise(&mut moved.status, Status::Sent);
            let target = self.locate(&name, (moved.time, &moved.id))?;
            self.load(&name, target)?;
            let target_seq = self.chunk(&name, target).map(|c| c.seq);
            self.take_entry(&loc);
            self.index
                .insert(moved.id.clone(), (name.clone(), moved.time));
            if let Some(conv) = self.conversations.get_mut(&name) {
                if let Some(at) = target_seq.and_then(|seq| conv.position(seq)) {
                    conv.place(at, entry(moved));
                }
            }
            UpdateOutcome::Updated
        };
        self.index.remove(local_id);
        if let Some(seq) = self.chunk(&name, loc.chunk).map(|c| c.seq) {
            self.drop_if_empty(&name, seq);
        }
        Ok(self.outcome(outcome, Some(&name)))
    }

    /// The send of `local_id` failed.
    pub fn mark_failed(&mut self, local_id: &str) -> Result<UpdateOutcome> {
        self.update(local_id, |r| {
            let sending = r.status == Status::Sending;
            if sending {
                r.status = Status::Failed;
            }
            sending
        })
    }

    /// `onDeliveredMessage`: my message reached the peer.
    pub fn mark_delivered(&mut self, id: &str) -> Result<UpdateOutcome> {
        self.update(id, |r| {
            r.direction == Direction::Out && raise(&mut r.status, Status::Delivered)
        })
    }

    /// `onReadMessage`: the peer read my message.
    pub fn mark_read_by_peer(&mut self, id: &str) -> Result<UpdateOutcome> {
        self.update(id, |r| {
            r.direction == Direction::Out && raise(&mut r.status, Status::Read)
        })
    }

    /// `onRecallMessage`: the record becomes a recall notice (text and body gone, `ext.recalledBy` set);
    /// if it was counted unread, the count drops.
    pub fn recall(&mut self, message_id: &str, by: &str) -> Result<UpdateOutcome> {
        let Some(loc) = self.find(message_id)? else {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        };
        let Some(record) = self.record_at(&loc).cloned() else {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        };
        if record.recalled {
            return Ok(self.outcome(UpdateOutcome::Unchanged, None));
        }
        let muted = self.muted.contains(&loc.conversation);
        if let Some(conv) = self.conversations.get_mut(&loc.conversation) {
            if conv.counts_unread(&record, muted) && conv.unread > 0 {
                conv.unread -= 1;
                conv.meta_dirty = true;
            }
        }
        self.modify(&loc, |r| {
            r.recalled = true;
            r.text = None;
            r.body = None;
            r.ext.insert(
                "recalledBy".into(),
                serde_json::Value::String(by.to_string()),
            );
            true
        });
        Ok(self.outcome(UpdateOutcome::Updated, Some(&loc.conversation)))
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
        let name = conversation_name(conversation)?;
        let Some(newest) = self.newest(&name)? else {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        };
        let newest = mark_of(&newest);
        let Some(conv) = self.conversations.get_mut(&name) else {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        };
        let slot = match reader {
            Reader::Me => &mut conv.read_mark,
            Reader::Peer => &mut conv.peer_read_mark,
        };
        let advanced = slot.as_ref().is_none_or(|m| *m < newest);
        if advanced {
            *slot = Some(newest);
        }
        let cleared = reader == Reader::Me && conv.unread > 0;
        if cleared {
            conv.unread = 0;
        }
        if !advanced && !cleared {
            return Ok(self.outcome(UpdateOutcome::Unchanged, None));
        }
        conv.meta_dirty = true;
        Ok(self.outcome(UpdateOutcome::Updated, Some(&name)))
    }

    /// Mutes or unmutes a conversation: a muted one gains no unread and is left out of the total.
    pub fn mute(&mut self, conversation: &str, on: bool) -> Result<UpdateOutcome> {
        let name = conversation_name(conversation)?;
        let changed = if on {
            self.muted.insert(name)
        } else {
            self.muted.remove(&name)
        };
        if !changed {
            return Ok(self.outcome(UpdateOutcome::Unchanged, None));
        }
        self.state_dirty = true;
        Ok(self.outcome(UpdateOutcome::Updated, None))
    }

    /// Stores a JSON blob of extra state (e.g. a profile cache) under `name`.
    pub fn set_extra(&mut self, name: &str, json: &str) -> Result<UpdateOutcome> {
        if serde_json::from_str::<IgnoredAny>(json).is_err() {
            return Err(Error::input(format!("extra {name:?} must be JSON text")));
        }
        if json.len() > MAX_EXTRA_BYTES {
            return Err(Error::input(format!(
                "extra {name:?} is {} bytes; the store keeps extras up to {MAX_EXTRA_BYTES} bytes",
                json.len()
            )));
        }
        let slot = self.extras.entry(name.to_string()).or_insert(Extra {
            value: String::new(),
            stored: Stored::Absent,
            dirty: false,
        });
        if slot.value == json && !slot.dirty && slot.stored != Stored::Absent {
            return Ok(self.outcome(UpdateOutcome::Unchanged, None));
        }
        slot.value = json.to_string();
        slot.dirty = true;
        Ok(self.outcome(UpdateOutcome::Updated, None))
    }

    /// The extra blob stored under `name`.
    pub fn extra(&self, name: &str) -> Option<&str> {
        self.extras.get(name).map(|e| e.value.as_str())
    }

    /// Applies `change` to the record `id`; `change` returns whether it changed anything.
    fn update(
        &mut self,
        id: &str,
        change: impl FnOnce(&mut Record) -> bool,
    ) -> Result<UpdateOutcome> {
        let Some(loc) = self.find(id)? else {
            return Ok(self.outcome(UpdateOutcome::NotFound, None));
        };
        if self.modify(&loc, change) {
            Ok(self.outcome(UpdateOutcome::Updated, Some(&loc.conversation)))
        } else {
            Ok(self.outcome(UpdateOutcome::Unchanged, None))
        }
    }

    /// Changes a record in place (its time and id stay).
    fn modify(&mut self, loc: &Location, change: impl FnOnce(&mut Record) -> bool) -> bool {
        let Some(mut record) = self.record_at(loc).cloned() else {
            return false;
        };
        if !change(&mut record) {
            return false;
        }
        let Some(conv) = self.conversations.get_mut(&loc.conversation) else {
            return false;
        };
        let tail = conv.tail();
        let Some(chunk) = conv.chunks.get_mut(loc.chunk) else {
            return false;
        };
        chunk.edit(|es| {
            if let Some(slot) = es.get_mut(loc.entry) {
                *slot = entry(record);
            }
        });
        if loc.chunk != tail {
            conv.touched.insert(chunk.seq);
        }
        true
    }

    /// Removes a record from its chunk (the chunk stays, possibly empty: see `drop_if_empty`).
    fn take_entry(&mut self, loc: &Location) {
        let Some(conv) = self.conversations.get_mut(&loc.conversation) else {
            return;
        };
        let tail = conv.tail();
        let Some(chunk) = conv.chunks.get_mut(loc.chunk) else {
            return;
        };
        chunk.edit(|es| (loc.entry < es.len()).then(|| es.remove(loc.entry)));
        if loc.chunk != tail {
            conv.touched.insert(chunk.seq);
        }
    }

    /// Removes sealed chunk `seq` if it holds no record.
    fn drop_if_empty(&mut self, name: &str, seq: u64) {
        let Some(conv) = self.conversations.get_mut(name) else {
            return;
        };
        let Some(at) = conv.position(seq).filter(|&at| at != conv.tail()) else {
            return;
        };
        if !conv
            .chunks
            .get(at)
            .and_then(Chunk::entries)
            .is_some_and(Vec::is_empty)
        {
            return;
        }
        let chunk = conv.chunks.remove(at);
        if chunk.stored == Stored::Absent {
            conv.touched.remove(&seq);
        } else {
            conv.pending_removals = conv.pending_removals.saturating_add(1);
            self.removals.push(Removal {
                key: self.keys.chunk(name, seq),
                conversation: name.to_string(),
                seq,
                bytes: chunk.stored.bytes(),
                whole: false,
            });
        }
    }

    /// Flushes, then wraps an outcome: a change that did not reach storage becomes `Unsaved`.
    fn outcome(&mut self, outcome: UpdateOutcome, protect: Option<&str>) -> UpdateOutcome {
        let unsaved = self.finish(protect);
        match (outcome, unsaved) {
            (UpdateOutcome::Updated | UpdateOutcome::Merged, Some(reason)) => {
                UpdateOutcome::Unsaved { reason }
            }
            (o, _) => o,
        }
    }
}

/// Reading history and state.
impl<K: KeyValue> Store<K> {
    /// The record `id` as pages see it, if it was read or written this session.
    pub fn get(&mut self, id: &str) -> Result<Option<Record>> {
        let Some(loc) = self.find(id)? else {
            return Ok(None);
        };
        let conversation = self.conversations.get(&loc.conversation);
        Ok(self
            .record_at(&loc)
            .map(|record| conversation.map_or_else(|| record.clone(), |c| c.presented(record))))
    }

    /// The `limit` newest records of `conversation` older than the record `before` (or the newest),
    /// oldest first. Records not yet on storage are included.
    pub fn history(
        &mut self,
        conversation: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Record>> {
        let name = conversation_name(conversation)?;
        let Some(conv) = self.conversations.get(&name) else {
            return Ok(Vec::new());
        };
        let tail = conv.tail();
        let bound = match before {
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
        let start = match &bound {
            Some((time, id)) => self.locate(&name, (*time, id))?,
            None => tail,
        };
        let mut out = Vec::new();
        for at in (0..=start).rev() {
            if out.len() >= limit {
                break;
            }
            self.load(&name, at)?;
            let Some(entries) = self.chunk(&name, at).and_then(Chunk::entries) else {
                continue;
            };
            let older = entries.iter().rev().filter(|e| {
                bound
                    .as_ref()
                    .is_none_or(|b| mark_cmp(&e.record, b).is_lt())
            });
            out.extend(
                older
                    .take(limit.saturating_sub(out.len()))
                    .map(|e| e.record.clone()),
            );
        }
        out.reverse();
        let conv = self.conversations.get(&name);
        let presented = out
            .iter()
            .map(|r| conv.map_or_else(|| r.clone(), |c| c.presented(r)))
            .collect();
        self.trim_cache();
        Ok(presented)
    }

    /// Conversations holding records, most recent activity first.
    pub fn conversations(&mut self) -> Result<Vec<ConversationSummary>> {
        let names: Vec<String> = self.conversations.keys().cloned().collect();
        let mut list = Vec::with_capacity(names.len());
        for name in names {
            let Some(last) = self.newest(&name)? else {
                continue;
            };
            let Some(conv) = self.conversations.get(&name) else {
                continue;
            };
            list.push(ConversationSummary {
                conversation: name.clone(),
                kind: conv.id.kind,
                id: conv.id.id.clone(),
                updated_at: last.time,
                last: Some(conv.presented(&last)),
                unread: conv.unread,
                mentions_me: conv.mention_mark.as_ref().is_some_and(|mention| {
                    conv.read_mark.as_ref().is_none_or(|read| read < mention)
                }),
                muted: self.muted.contains(&name),
            });
        }
        list.sort_by(|a, b| {
            b.updated_at
                .cmp(&a.updated_at)
                .then_with(|| a.conversation.cmp(&b.conversation))
        });
        self.trim_cache();
        Ok(list)
    }

    /// Unread records over all conversations that are not muted.
    pub fn unread_total(&self) -> u64 {
        self.conversations
            .iter()
            .filter(|(name, _)| !self.muted.contains(*name))
            .map(|(_, c)| c.unread)
            .fold(0, u64::saturating_add)
    }

    pub fn report(&self) -> StorageReport {
        let chunk_keys: u64 = self
            .conversations
            .values()
            .map(|c| {
                c.chunks
                    .iter()
                    .filter(|ch| ch.stored != Stored::Absent)
                    .count() as u64
            })
            .sum();
        let extra_keys = self
            .extras
            .values()
            .filter(|e| e.stored != Stored::Absent)
            .count() as u64;
        let state_key = u64::from(self.state_stored != Stored::Absent);
        let dirty_chunks: u64 = self
            .conversations
            .values()
            .map(|c| c.chunks.iter().filter(|ch| ch.dirty).count() as u64)
            .sum();
        let dirty_metas = self
            .conversations
            .values()
            .filter(|c| c.meta_dirty && !c.chunks.last().is_some_and(|t| t.dirty))
            .count() as u64;
        let dirty_extras = self.extras.values().filter(|e| e.dirty).count() as u64;
        StorageReport {
            bytes_used: self.bytes_used,
            total_bytes: self.options.total_bytes,
            keys: chunk_keys
                + extra_keys
                + state_key
                + self.foreign_keys
                + self.removals.len() as u64,
            conversations: self
                .conversations
                .values()
                .filter(|c| c.activity != i64::MIN)
                .count(),
            evicted_records: self.evicted_records,
            evicted_chunks: self.evicted_chunks,
            skipped_corrupt: self.skipped_corrupt,
            unsaved: dirty_chunks
                + dirty_metas
                + dirty_extras
                + u64::from(self.state_dirty)
                + self.removals.len() as u64,
        }
    }

    /// Evictions since the last call, oldest first.
    pub fn take_evictions(&mut self) -> Vec<EvictionEvent> {
        std::mem::take(&mut self.evictions)
    }

    /// Unloads sealed chunks beyond the cache size, oldest loaded first.
    fn trim_cache(&mut self) {
        for (name, conv) in self.conversations.iter_mut() {
            self.cache
                .extend(conv.fresh.drain(..).map(|seq| (name.clone(), seq)));
        }
        let mut rounds = self.cache.len();
        while self.cache.len() > CACHED_CHUNKS && rounds > 0 {
            rounds -= 1;
            let Some((name, seq)) = self.cache.pop_front() else {
                break;
            };
            let Some(conv) = self.conversations.get_mut(&name) else {
                continue;
            };
            let tail = conv.tail();
            let Some(at) = conv.position(seq) else {
                continue;
            };
            let Some(chunk) = conv.chunks.get_mut(at) else {
                continue;
            };
            if at == tail || chunk.dirty {
                self.cache.push_back((name, seq));
            } else if matches!(chunk.body, Body::Loaded { .. }) {
                chunk.body = Body::Unloaded;
            }
        }
    }
}

/// Writing: the flush, the budget and eviction.
impl<K: KeyValue> Store<K> {
    /// Writes everything dirty, evicting for space as needed; on a full-storage error evicts once more
    /// and retries once. Returns why something is still unsaved.
    fn finish(&mut self, protect: Option<&str>) -> Option<String> {
        let result = match self.try_flush(protect) {
            Err(e) if is_full_error(e.message()) => match self.evict_one(protect) {
                Ok(true) => self.try_flush(protect),
                Ok(false) => Err(e),
                Err(read_error) => Err(read_error),
            },
            other => other,
        };
        self.trim_cache();
        result.err().map(|e| e.to_string())
    }

    fn try_flush(&mut self, protect: Option<&str>) -> Result<()> {
        let writes = loop {
            let writes = self.plan();
            let freed: u64 = self
                .removals
                .iter()
                .map(|r| r.bytes)
                .fold(0, u64::saturating_add);
            let projected = writes
                .iter()
                .fold(self.bytes_used.saturating_sub(freed), |sum, w| {
                    sum.saturating_sub(self.stored_of(&w.target))
                        .saturating_add(entry_bytes(&w.key, &w.value))
                });
            if projected <= self.options.total_bytes {
                break writes;
            }
            if !self.evict_one(protect)? {
                return Err(Error::storage(format!(
                    "quota reached: mpchat's storage budget of {} bytes is full and nothing more can be evicted; \
                     raise limits.totalBytes or free space",
                    self.options.total_bytes
                )));
            }
        };
        while let Some(removal) = self.removals.first().cloned() {
            self.kv.remove(&removal.key)?;
            self.removals.remove(0);
            self.removed(&removal);
        }
        for write in writes {
            self.kv.set(&write.key, &write.value)?;
            self.written(write.target, entry_bytes(&write.key, &write.value));
        }
        Ok(())
    }

    /// The values to write now: each dirty conversation's tail first, then its sealed chunks; extras; state.
    fn plan(&self) -> Vec<Write> {
        let mut writes = Vec::new();
        for (name, conv) in self.conversations.iter().filter(|(_, c)| c.needs_flush()) {
            let Some(tail) = conv.chunks.last() else {
                continue;
            };
            let meta = conv.meta(&self.removals);
            writes.push(Write {
                key: self.keys.chunk(name, tail.seq),
                value: encode_chunk(name, &records_of(tail), Some(&meta)),
                target: WriteTarget::Tail(name.clone()),
            });
            for &seq in &conv.touched {
                let Some(chunk) = conv
                    .position(seq)
                    .and_then(|at| conv.chunks.get(at))
                    .filter(|c| c.dirty)
                else {
                    continue;
                };
                writes.push(Write {
                    key: self.keys.chunk(name, seq),
                    value: encode_chunk(name, &records_of(chunk), None),
                    target: WriteTarget::Sealed(name.clone(), seq),
                });
            }
        }
        for (name, extra) in self.extras.iter().filter(|(_, e)| e.dirty) {
            writes.push(Write {
                key: self.keys.extra(name),
                value: extra.value.clone(),
                target: WriteTarget::Extra(name.clone()),
            });
        }
        if self.state_dirty {
            let state = State {
                v: layout::FORMAT,
                muted: self.muted.iter().cloned().collect(),
                evicted_records: self.evicted_records,
                evicted_chunks: self.evicted_chunks,
            };
            writes.push(Write {
                key: self.keys.state(),
                value: serde_json::to_string(&state).unwrap_or_default(),
                target: WriteTarget::State,
            });
        }
        writes
    }

    /// Bytes the target of a write holds on storage now.
    fn stored_of(&self, target: &WriteTarget) -> u64 {
        match target {
            WriteTarget::Tail(name) => self
                .conversations
                .get(name)
                .and_then(|c| c.chunks.last())
                .map_or(0, |c| c.stored.bytes()),
            WriteTarget::Sealed(name, seq) => self
                .conversations
                .get(name)
                .and_then(|c| c.position(*seq).and_then(|at| c.chunks.get(at)))
                .map_or(0, |c| c.stored.bytes()),
            WriteTarget::Extra(name) => self.extras.get(name).map_or(0, |e| e.stored.bytes()),
            WriteTarget::State => self.state_stored.bytes(),
        }
    }

    /// Books a successful write of `bytes`.
    fn written(&mut self, target: WriteTarget, bytes: u64) {
        let old = self.stored_of(&target);
        self.bytes_used = self.bytes_used.saturating_sub(old).saturating_add(bytes);
        match target {
            WriteTarget::Tail(name) => {
                if let Some(conv) = self.conversations.get_mut(&name) {
                    conv.meta_dirty = false;
                    if let Some(tail) = conv.chunks.last_mut() {
                        tail.stored = Stored::Bytes(bytes);
                        tail.dirty = false;
                    }
                }
            }
            WriteTarget::Sealed(name, seq) => {
                let Some(conv) = self.conversations.get_mut(&name) else {
                    return;
                };
                conv.sealed_bytes = conv.sealed_bytes.saturating_sub(old).saturating_add(bytes);
                conv.touched.remove(&seq);
                if let Some(chunk) = conv.position(seq).and_then(|at| conv.chunks.get_mut(at)) {
                    chunk.stored = Stored::Bytes(bytes);
                    chunk.dirty = false;
                }
            }
            WriteTarget::Extra(name) => {
                if let Some(extra) = self.extras.get_mut(&name) {
                    extra.stored = Stored::Bytes(bytes);
                    extra.dirty = false;
                }
            }
            WriteTarget::State => {
                self.state_stored = Stored::Bytes(bytes);
                self.state_dirty = false;
            }
        }
    }

    /// Books a successful removal.
    fn removed(&mut self, removal: &Removal) {
        self.bytes_used = self.bytes_used.saturating_sub(removal.bytes);
        if removal.whole {
            return;
        }
        let Some(conv) = self.conversations.get_mut(&removal.conversation) else {
            return;
        };
        conv.sealed_bytes = conv.sealed_bytes.saturating_sub(removal.bytes);
        conv.pending_removals = conv.pending_removals.saturating_sub(1);
        let rewritten = conv
            .position(removal.seq)
            .and_then(|at| conv.chunks.get(at))
            .is_some_and(|c| c.dirty);
        if !rewritten {
            conv.touched.remove(&removal.seq);
        }
    }

    /// Evicts one chunk: the oldest clean sealed chunk of the least recently active conversation, or
    /// failing that a whole idle conversation other than `protect`. False when nothing can go.
    fn evict_one(&mut self, protect: Option<&str>) -> Result<bool> {
        let mut by_activity: Vec<(i64, String)> = self
            .conversations
            .iter()
            .map(|(n, c)| (c.activity, n.clone()))
            .collect();
        by_activity.sort();
        for (_, name) in &by_activity {
            let Some(conv) = self.conversations.get(name) else {
                continue;
            };
            let sealed = conv.chunks.get(..conv.tail()).unwrap_or_default();
            if let Some(at) = sealed.iter().position(|c| !c.dirty) {
                self.evict_chunk(name, at)?;
                return Ok(true);
            }
        }
        for (_, name) in &by_activity {
            let idle = self.conversations.get(name).is_some_and(|c| {
                !c.has_unsaved_records()
                    && c.chunks.last().is_some_and(|t| t.stored != Stored::Absent)
            });
            if idle && protect != Some(name.as_str()) {
                self.evict_conversation(name);
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn evict_chunk(&mut self, name: &str, at: usize) -> Result<()> {
        self.load(name, at)?;
        let Some(conv) = self.conversations.get_mut(name) else {
            return Ok(());
        };
        if at >= conv.tail() {
            return Ok(());
        }
        let chunk = conv.chunks.remove(at);
        // Evicted records leave the unread count too: a badge never counts messages no page can show.
        let evicted_unread = chunk
            .entries()
            .map_or(0, |es| es.iter().filter(|e| conv.counts_unread(&e.record, false)).count())
            as u64;
        // With no record left (every remaining chunk read and empty), nothing is unread at all.
        let emptied = conv.chunks.iter().all(|c| c.entries().is_some_and(Vec::is_empty));
        let unread = if emptied { 0 } else { conv.unread.saturating_sub(evicted_unread) };
        if unread != conv.unread {
            conv.unread = unread;
            conv.meta_dirty = true;
        }
        conv.touched.insert(chunk.seq);
        conv.pending_removals = conv.pending_removals.saturating_add(1);
        self.removals.push(Removal {
            key: self.keys.chunk(name, chunk.seq),
            conversation: name.to_string(),
            seq: chunk.seq,
            bytes: chunk.stored.bytes(),
            whole: false,
        });
        let records = self.unindex(name, std::slice::from_ref(&chunk));
        self.count_eviction(name, records, 1, false);
        Ok(())
    }

    fn evict_conversation(&mut self, name: &str) {
        let Some(conv) = self.conversations.remove(name) else {
            return;
        };
        for chunk in conv.chunks.iter().filter(|c| c.stored != Stored::Absent) {
            self.removals.push(Removal {
                key: self.keys.chunk(name, chunk.seq),
                conversation: name.to_string(),
                seq: chunk.seq,
                bytes: chunk.stored.bytes(),
                whole: true,
            });
        }
        let records = self.unindex(name, &conv.chunks);
        self.count_eviction(name, records, conv.chunks.len() as u64, true);
    }

    /// Forgets the ids of evicted records; returns how many there were.
    fn unindex(&mut self, name: &str, chunks: &[Chunk]) -> u64 {
        let mut count = 0u64;
        for e in chunks.iter().filter_map(Chunk::entries).flatten() {
            count = count.saturating_add(1);
            if self.index.get(&e.record.id).is_some_and(|(c, _)| c == name) {
                self.index.remove(&e.record.id);
            }
        }
        count
    }

    fn count_eviction(&mut self, name: &str, records: u64, chunks: u64, whole_conversation: bool) {
        self.evicted_records = self.evicted_records.saturating_add(records);
        self.evicted_chunks = self.evicted_chunks.saturating_add(chunks);
        self.state_dirty = true;
        self.evictions.push(EvictionEvent {
            conversation: name.to_string(),
            records,
            whole_conversation,
        });
    }
}

fn records_of(chunk: &Chunk) -> Vec<&RawValue> {
    chunk
        .entries()
        .map(|es| es.iter().map(|e| &*e.json).collect())
        .unwrap_or_default()
}

/// Importing history kept the old ways.
impl<K: KeyValue> Store<K> {
    /// Imports the recipe's `group_<groupId>` arrays and the demo's `rendered_<id><user>` arrays, once:
    /// imported ids de-duplicate, and each old key is removed only after its import is on storage.
    /// Items that do not map to a record are skipped and counted; values that are not arrays are left alone.
    pub fn migrate_legacy(&mut self) -> Result<MigrationReport> {
        let mut report = MigrationReport::default();
        for key in self.kv.keys()? {
            if key.starts_with("mpchat/")
                || !(key.starts_with("group_") || key.starts_with("rendered_"))
            {
                continue;
            }
            let Some(value) = self.kv.get(&key)? else {
                continue;
            };
            let Ok(serde_json::Value::Array(items)) = serde_json::from_str(&value) else {
                continue;
            };
            let Some(conversation) =
                legacy::legacy_conversation(&key, &self.user, legacy::kind_hint(&items))
            else {
                continue;
            };
            report.keys_found += 1;
            let mut mapped = 0usize;
            for item in &items {
                let Some(record) = legacy_record(item, &conversation, &self.user)
                    .filter(|r| Self::check(r).is_ok())
                else {
                    report.skipped += 1;
                    continue;
                };
                mapped += 1;
                if self.insert_in_memory(record)? {
                    report.imported += 1;
                } else {
                    report.duplicates += 1;
                }
            }
            let durable = mapped > 0 && self.finish(Some(&conversation.to_string())).is_none();
            if durable && self.kv.remove(&key).is_ok() {
                report.keys_removed += 1;
            } else {
                report.keys_kept.push(key);
            }
        }
        Ok(report)
    }
}
