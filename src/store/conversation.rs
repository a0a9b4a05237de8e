//! One conversation in memory: its head, its loose records and the sealed chunks read so far.

use crate::vecmap::VecMap;

use super::backend::Doc;
use super::layout::{Head, Mark};
use super::{mark_cmp, RecordMeta, Stored};
use crate::kind::ConversationId;
use crate::message::{Direction, Status};

/// A record in memory: its index, and the backend's document holding it.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub meta: RecordMeta,
    pub doc: Doc,
    /// JSON bytes of the record, when known.
    pub bytes: Option<u64>,
    /// The number of its key, for a loose record.
    pub loose: Option<u64>,
    /// A loose record not yet (re)written.
    pub dirty: bool,
    /// Bytes (key plus value) of its loose key on storage, when known.
    pub written: Option<u64>,
}

impl Entry {
    pub fn mark(&self) -> Mark {
        self.meta.mark()
    }
}

#[derive(Debug, Clone)]
pub(super) enum Body {
    Unloaded,
    Corrupt,
    Loaded(Vec<Entry>),
}

#[derive(Debug, Clone)]
pub(super) struct Chunk {
    pub stored: Stored,
    pub body: Body,
    /// (first, last) marks; kept when the body is unloaded so searches need not read it again.
    pub range: Option<(Mark, Mark)>,
    /// Memory differs from storage.
    pub dirty: bool,
}

impl Chunk {
    pub fn unloaded(stored: Stored) -> Self {
        Chunk { stored, body: Body::Unloaded, range: None, dirty: false }
    }

    pub fn new(entries: Vec<Entry>) -> Self {
        let mut chunk = Chunk { stored: Stored::Absent, body: Body::Unloaded, range: None, dirty: true };
        chunk.set_entries(entries);
        chunk
    }

    pub fn set_entries(&mut self, entries: Vec<Entry>) {
        self.range = match (entries.first(), entries.last()) {
            (Some(first), Some(last)) => Some((first.mark(), last.mark())),
            _ => None,
        };
        self.body = Body::Loaded(entries);
    }

    pub fn entries(&self) -> Option<&Vec<Entry>> {
        match &self.body {
            Body::Loaded(entries) => Some(entries),
            _ => None,
        }
    }

    /// Changes the entries, keeping the range right, and marks the chunk dirty.
    pub fn edit<T>(&mut self, f: impl FnOnce(&mut Vec<Entry>) -> T) -> Option<T> {
        let Body::Loaded(entries) = &mut self.body else {
            return None;
        };
        let mut taken = std::mem::take(entries);
        let out = f(&mut taken);
        self.set_entries(taken);
        self.dirty = true;
        Some(out)
    }

    /// JSON bytes of its records, when every one is known.
    pub fn record_bytes(&self) -> Option<Vec<u64>> {
        self.entries()?.iter().map(|e| e.bytes).collect()
    }

    pub fn is_corrupt(&self) -> bool {
        matches!(self.body, Body::Corrupt)
    }
}

/// What a record does to a head: the same whether it is placed now or found on storage at opening.
impl Head {
    /// Whether a record counts as unread under this head's read mark.
    pub fn counts_unread(&self, meta: &RecordMeta, muted: bool) -> bool {
        meta.direction == Direction::In
            && !meta.recalled
            && meta.status != Status::Read
            && !muted
            && self.read_mark.as_ref().is_none_or(|m| mark_cmp(meta, m).is_gt())
    }

    /// Head fields that change with a new record: unread, the mention mark, activity.
    pub fn note_record(&mut self, meta: &RecordMeta, muted: bool) {
        if self.counts_unread(meta, muted) {
            self.unread = self.unread.saturating_add(1);
        }
        // A mention of me stands out in the list until I read past it, muted or not.
        if meta.mentions_me && self.counts_unread(meta, false) {
            let newer = self.mention_mark.as_ref().is_none_or(|m| mark_cmp(meta, m).is_gt());
            if newer {
                self.mention_mark = Some(meta.mark());
            }
        }
        self.activity = self.activity.max(meta.time);
    }
}

#[derive(Debug)]
pub(super) struct Conversation {
    pub id: ConversationId,
    /// The head as it is to be stored; its meta fields are the conversation's state.
    pub head: Head,
    pub head_stored: Stored,
    pub head_dirty: bool,
    /// The loose records, by mark; `None` until read.
    pub loose: Option<Vec<Entry>>,
    /// The newest loose record alone, read for the conversation list while `loose` is not.
    pub newest: Option<Entry>,
    /// Sealed chunks by sequence number; `None` until first needed, then one per chunk of the head.
    pub chunks: Option<VecMap<u64, Chunk>>,
    /// Loose numbers whose read threw when the loose records were read: read again with the next
    /// use, and until then the loose records are not sealed (their keys must stay named).
    pub unread_loose: Vec<u64>,
    /// The head opening would make of storage: the head last written this session, with the loose
    /// records written since adopted. `None` until a head is written. While it equals the head, the
    /// head may wait (see [`super::lag`]).
    pub on_storage: Option<Box<Head>>,
}

impl Conversation {
    pub fn new(id: ConversationId) -> Self {
        Conversation {
            head: Head { conversation: id.name(), activity: i64::MIN, ..Head::default() },
            id,
            head_stored: Stored::Absent,
            head_dirty: true,
            loose: Some(Vec::new()),
            newest: None,
            chunks: Some(VecMap::new()),
            unread_loose: Vec::new(),
            on_storage: None,
        }
    }

    /// A conversation on storage, its head to be read into it (see [`Head::decode_into`]).
    pub fn opened(id: ConversationId) -> Self {
        Conversation {
            id,
            head: Head::default(),
            head_stored: Stored::Absent,
            head_dirty: false,
            loose: None,
            newest: None,
            chunks: None,
            unread_loose: Vec::new(),
            on_storage: None,
        }
    }

    /// The newest record when memory holds it; `None` when it must be read first, or there is none.
    pub fn newest_in_memory(&self) -> Option<&Entry> {
        if let Some(e) = self.newest_loose_entry().or(self.newest.as_ref()) {
            return Some(e);
        }
        if self.loose.is_none() && self.loose_count() > 0 {
            return None;
        }
        for (_, chunk) in self.chunks.as_ref()?.iter().rev() {
            if let Some(e) = chunk.entries()?.last() {
                return Some(e);
            }
        }
        None
    }

    pub fn loose_count(&self) -> u64 {
        self.head.loose_next.saturating_sub(self.head.loose_from)
    }

    pub fn has_records(&self) -> bool {
        self.loose_count() > 0 || self.head.sealed.count() > 0
    }

    /// Whether a record counts as unread here.
    pub fn counts_unread(&self, meta: &RecordMeta, muted: bool) -> bool {
        self.head.counts_unread(meta, muted)
    }

    /// A record's status as pages see it: watermarks applied.
    pub fn presented(&self, meta: &RecordMeta) -> Status {
        let under = |mark: &Option<Mark>| mark.as_ref().is_some_and(|m| mark_cmp(meta, m).is_le());
        match meta.direction {
            Direction::In if meta.status == Status::Received && under(&self.head.read_mark) => Status::Read,
            Direction::Out
                if matches!(meta.status, Status::Sent | Status::Delivered)
                    && under(&self.head.peer_read_mark) =>
            {
                Status::Read
            }
            _ => meta.status,
        }
    }

    /// Whether a mark falls among the loose records (after the newest sealed record, which is sealed).
    pub fn is_loose_mark(&self, mark: (i64, &str)) -> bool {
        self.head.sealed_mark.as_ref().is_none_or(|m| mark > (m.0, m.1.as_str()))
    }

    /// A loose record older than the newest sealed one: placed loose because the chunk it belongs in
    /// could not be read when it came.
    pub fn is_stray(&self, meta: &RecordMeta) -> bool {
        !self.is_loose_mark((meta.time, meta.id.as_str()))
    }

    /// The newest loose record that is not a stray, when the loose records are in memory.
    pub fn newest_loose_entry(&self) -> Option<&Entry> {
        self.loose.as_ref()?.iter().rev().find(|e| !self.is_stray(&e.meta))
    }

    /// Recomputes which loose record is the newest, and how many are strays.
    pub fn note_newest_loose(&mut self) {
        if let Some(loose) = &self.loose {
            self.head.newest_loose = self.newest_loose_entry().and_then(|e| e.loose);
            let strays = loose.iter().take_while(|e| self.is_stray(&e.meta)).count() as u64;
            if strays != self.head.strays {
                self.head.strays = strays;
                self.head_dirty = true;
            }
        }
    }

    pub fn has_unsaved(&self) -> bool {
        self.head_dirty || self.has_unwritten_values()
    }

    /// Whether a record or chunk of it waits to be written (its head aside).
    pub fn has_unwritten_values(&self) -> bool {
        self.loose.iter().flatten().any(|e| e.dirty) || self.chunks.iter().flat_map(|c| c.values()).any(|c| c.dirty)
    }

    /// Head fields that change with a new record: unread, the mention mark, activity.
    pub fn note_record(&mut self, meta: &RecordMeta, muted: bool) {
        self.head.note_record(meta, muted);
        self.head_dirty = true;
    }

    /// Documents held for this conversation.
    pub fn docs(&self) -> Vec<Doc> {
        let mut docs: Vec<Doc> = self.loose.iter().flatten().map(|e| e.doc).collect();
        docs.extend(self.newest.iter().map(|e| e.doc));
        for chunk in self.chunks.iter().flat_map(|c| c.values()) {
            docs.extend(chunk.entries().into_iter().flatten().map(|e| e.doc));
        }
        docs
    }
}
