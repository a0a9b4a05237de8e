//! Where a search looks: the keys that hold records, in an order that lets it stop early.
//!
//! Searching is done by the shim with the engine's own `JSON.parse` (as `wx` reads a value) and
//! string search, which interpreted wasm cannot match; the store only says where records are. Per
//! conversation, most recently active first: its loose records (all newer than any sealed one), then
//! its chunks newest first (a chunk's records are all older than the next chunk's). So once a
//! conversation has given `limit` matches, its older chunks can give none of the newest `limit`.

use std::ops::Range;

use super::backend::Backend;
use super::layout::Keys;
use super::{RecordMeta, Store};
use crate::message::Status;

/// Where one conversation's records are, as [`Store::search_plan`] orders them. Keys are given by
/// number, with the conversation's part of them (see [`Keys::roots`]): a full store has thousands,
/// and they cross to JavaScript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPlan {
    pub conversation: String,
    /// [`Keys::numbered`] of it.
    pub key_part: String,
    /// The time of its newest record: no record of it is newer.
    pub activity: i64,
    /// Its loose records are numbered `loose` except `loose_holes`; each holds one record.
    pub loose: Range<u64>,
    pub loose_holes: Vec<u64>,
    /// Its sealed chunks, newest first: each holds `"r": [records]`, oldest first.
    pub chunks: Vec<u64>,
    /// The time of its newest sealed record. Its loose records are newer, except strays (records
    /// whose chunk could not be read when they came), so this, not the loose records' times, bounds
    /// what the chunks hold.
    pub sealed_time: Option<i64>,
}

impl<B: Backend> Store<B> {
    /// The record keys of `conversation` (every conversation when `None`), most recently active first.
    /// Records not yet on storage (a flush that failed) are not listed.
    pub fn search_plan(&self, conversation: Option<&str>) -> Vec<SearchPlan> {
        let mut convs: Vec<(i64, &String, &super::Conversation)> = self
            .conversations
            .iter()
            .filter(|(name, c)| c.has_records() && conversation.is_none_or(|only| only == name.as_str()))
            .map(|(name, c)| (c.head.activity, name, &**c))
            .collect();
        convs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        convs
            .into_iter()
            .map(|(_, name, conv)| {
                let head = &conv.head;
                SearchPlan {
                    conversation: name.clone(),
                    key_part: Keys::numbered(name),
                    activity: head.activity,
                    loose: head.loose_from..head.loose_next,
                    loose_holes: head.loose_holes.clone(),
                    chunks: head.sealed.seqs().into_iter().rev().collect(),
                    sealed_time: head.sealed_mark.as_ref().map(|mark| mark.0),
                }
            })
            .collect()
    }

    /// The roots of record keys (see [`Keys::roots`]).
    pub fn key_roots(&self) -> (String, String) {
        self.keys.roots()
    }

    /// The status pages see for a record read from storage directly (a search's): its stored status
    /// with its conversation's watermarks applied.
    pub fn presented_status(&self, conversation: &str, meta: &RecordMeta) -> Status {
        self.conversations.get(conversation).map_or(meta.status, |c| c.presented(meta))
    }
}
