//! Heads that wait: a record received is written at once under its own key, its conversation's head
//! only when the burst is over ([`Store::write_waiting`]) or another change needs it.
//!
//! Rewriting the head with every record was the largest single cost of a receive left on an
//! interpreter (its JSON built in wasm, then parsed, serialised and stored: about a tenth of it).
//! A head may wait only while what opening would make of storage is exactly the head memory holds:
//! each conversation keeps that head ([`Conversation::on_storage`]), the last one written with every
//! record written since taken in the way opening takes it ([`Head::adopt`]), and a flush leaves the
//! head unwritten only when the two are equal. Opening finds such records by the count of keys,
//! which then disagrees, and adopts each loose key past the head's range ([`Store::adopt_ahead`]):
//! the range, byte total, newest record, strays, unread count and mention mark come out as memory
//! had them. Every other change (a read mark, a recall, sealing, an eviction) writes the head.

use super::backend::{Backend, Shape};
use super::conversation::Conversation;
use super::layout::{Changes, Head};
use super::{mark_cmp, RecordMeta, Store};
use crate::error::Result;

/// How far past a head's range opening looks for records written after it: a head waits for at most
/// the loose records of one chunk, and a number further on is not one of its records.
const MAX_AHEAD: u64 = 64;

impl Head {
    /// Takes in the loose record numbered `n` (key and value `bytes` long) found past the head's
    /// range, as it was placed: numbers skipped become holes. False, changing nothing, when `n` is
    /// not past the range within [`MAX_AHEAD`], or the newest record is not known to compare with.
    pub fn adopt(&mut self, n: u64, meta: &RecordMeta, bytes: u64, muted: bool) -> bool {
        if n < self.loose_next || n - self.loose_next > MAX_AHEAD {
            return false;
        }
        let stray = self.sealed_mark.as_ref().is_some_and(|m| mark_cmp(meta, m).is_le());
        let newest = match (&self.newest, self.newest_loose) {
            (_, _) if stray => false,
            (Some(newest), _) => (meta.time, meta.id.as_str()) > (newest.time, newest.id.as_str()),
            (None, None) => true,
            (None, Some(_)) => return false,
        };
        self.loose_holes.extend(self.loose_next..n);
        self.loose_next = n + 1;
        self.loose_bytes = self.loose_bytes.saturating_add(bytes);
        if stray {
            self.strays += 1;
        } else if newest {
            self.newest_loose = Some(n);
            self.newest = Some(meta.clone());
        }
        self.note_record(meta, muted);
        true
    }

    /// This head as a flush writes it: with the flush's byte totals, rewrites and newest record.
    pub fn as_written(&self, changes: &Changes<'_>, newest: Option<&RecordMeta>) -> Head {
        Head {
            sealed_bytes: changes.sealed_bytes,
            loose_bytes: changes.loose_bytes,
            rewrites: changes.rewrites.to_vec(),
            loose_rewrites: changes.loose_rewrites.to_vec(),
            newest: newest.cloned(),
            ..self.clone()
        }
    }

    /// Whether this head equals `head` as a flush would write it ([`Head::as_written`]), without
    /// building that. Every field is named, so a field added to the head is compared too.
    fn writes_as(&self, head: &Head, changes: &Changes<'_>, newest: Option<&RecordMeta>) -> bool {
        let Head {
            conversation,
            activity,
            unread,
            read_mark,
            peer_read_mark,
            mention_mark,
            loose_from,
            loose_next,
            loose_bytes,
            newest_loose,
            newest: stored_newest,
            loose_holes,
            sealed,
            sealed_bytes,
            sealed_mark,
            rewrites,
            loose_rewrites,
            strays,
        } = self;
        *loose_next == head.loose_next
            && *unread == head.unread
            && *activity == head.activity
            && *loose_bytes == changes.loose_bytes
            && *newest_loose == head.newest_loose
            && stored_newest.as_ref() == newest
            && *loose_from == head.loose_from
            && *strays == head.strays
            && *sealed_bytes == changes.sealed_bytes
            && rewrites[..] == *changes.rewrites
            && loose_rewrites[..] == *changes.loose_rewrites
            && *loose_holes == head.loose_holes
            && *sealed == head.sealed
            && *sealed_mark == head.sealed_mark
            && *read_mark == head.read_mark
            && *peer_read_mark == head.peer_read_mark
            && *mention_mark == head.mention_mark
            && *conversation == head.conversation
    }
}

impl Conversation {
    /// Whether the head, to be written with `loose_bytes` and `sealed_bytes` after the loose records
    /// `fresh` (number and bytes on storage) are written as new, may wait: storage would then read as
    /// it. Takes the fresh records into [`Conversation::on_storage`] either way.
    pub fn head_can_wait(&mut self, fresh: &[(u64, u64)], muted: bool, loose_bytes: u64, sealed_bytes: u64) -> bool {
        let Some(mut stored) = self.on_storage.take() else {
            return false;
        };
        let Some(loose) = &self.loose else {
            return false;
        };
        for &(n, bytes) in fresh {
            // Taken in by an earlier plan of the same flush (a flush plans again after evicting).
            if n < stored.loose_next {
                continue;
            }
            let Some(e) = loose.iter().rev().find(|e| e.loose == Some(n)) else {
                return false;
            };
            if !stored.adopt(n, &e.meta, bytes, muted) {
                return false;
            }
        }
        let changes = Changes { sealed_bytes, loose_bytes, rewrites: &[], loose_rewrites: &[] };
        let waits = stored.writes_as(&self.head, &changes, self.newest_loose_entry().map(|e| &e.meta));
        self.on_storage = Some(stored);
        waits
    }
}

impl<B: Backend> Store<B> {
    /// Writes what waits: the heads left unwritten by a burst of received records (and anything a
    /// failed flush left). `None` when all is on storage; else why not, as the flush said.
    pub fn write_waiting(&mut self) -> Option<String> {
        self.begin();
        self.finish(None)
    }

    /// Whether a head waits to be written ([`Store::write_waiting`]).
    pub fn heads_waiting(&self) -> bool {
        self.waiting
    }

    /// Adopts the loose records past the head of `name` (read from storage) as [`Head::adopt`] does:
    /// those at the numbers `listed` (sorted) or, when the keys could not be listed, those found by
    /// reading each number on from the head's range until one is absent. A key it cannot adopt (not
    /// a record of this conversation, a repeat, too far on) is removed, as any key no head names.
    /// True when the head took any.
    pub(super) fn adopt_ahead(&mut self, name: &str, listed: Option<&[u64]>) -> Result<bool> {
        let Some(conv) = self.conversations.get(name) else {
            return Ok(false);
        };
        let id = conv.id.clone();
        let mut head = conv.head.clone();
        if head.newest.is_none() {
            // A head written before it named its newest record: that record is read to compare with.
            if let Some(n) = head.newest_loose {
                let key = self.keys.loose(name, n);
                if let Some((doc, tape)) = self.fetch(&key, Shape::Record)? {
                    head.newest = RecordMeta::from_val(tape.root(), &id);
                    self.backend.release(doc);
                }
            }
        }
        let muted = self.muted.contains_key(name);
        let numbers: Vec<u64> = match listed {
            Some(listed) => listed.to_vec(),
            None => (head.loose_next..=head.loose_next.saturating_add(MAX_AHEAD)).collect(),
        };
        let mut seen: Vec<String> = Vec::new();
        let before = head.loose_bytes;
        for n in numbers {
            let key = self.keys.loose(name, n);
            let Some((doc, tape)) = self.fetch(&key, Shape::Record)? else {
                match listed {
                    Some(_) => continue,
                    None => break,
                }
            };
            let meta = RecordMeta::from_val(tape.root(), &id);
            let size = self.measured(&key, doc);
            self.backend.release(doc);
            match meta {
                Some(meta) if !seen.contains(&meta.id) && head.adopt(n, &meta, size, muted) => seen.push(meta.id),
                _ => self.backend.remove(&key)?,
            }
        }
        if seen.is_empty() {
            return Ok(false);
        }
        self.bytes_used = self.bytes_used.saturating_add(head.loose_bytes - before);
        if let Some(conv) = self.conversations.get_mut(name) {
            conv.head = head;
            conv.head_dirty = true;
        }
        Ok(true)
    }
}
