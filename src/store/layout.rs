//! Key names and value formats of the store.
//!
//! Every key is `mpchat/1/<user>/…` with `%` and `/` escaped in the user, conversation and extra names
//! (`%25`, `%2F`), so a name can never reach into another key's space: the user part ends at the first
//! `/`, and so does the conversation part of a chunk key.
//!
//! - `mpchat/1/<user>/c/<conversation>/<seq>`: a history chunk, `seq` as 16 hex digits. The chunk with
//!   the highest `seq` is the conversation's tail and also carries the conversation's meta.
//! - `mpchat/1/<user>/state`: muted conversations and eviction counters.
//! - `mpchat/1/<user>/x/<name>`: an extra blob (e.g. a profile cache).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::message::Record;

pub const ROOT: &str = "mpchat/1/";
pub const FORMAT: u32 = 1;

/// Escapes `%` and `/` so the name holds no separator.
pub fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            c => out.push(c),
        }
    }
    out
}

/// Reverses [`escape`]; `None` for text `escape` cannot have produced.
pub fn unescape(escaped: &str) -> Option<String> {
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(at) = rest.find(['%', '/']) {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        if let Some(after) = tail.strip_prefix("%25") {
            out.push('%');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("%2F") {
            out.push('/');
            rest = after;
        } else {
            return None;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// What a key under the user's prefix names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyName {
    Chunk {
        conversation: String,
        seq: u64,
    },
    State,
    Extra(String),
    /// Under the prefix but not a name this version writes.
    Foreign,
}

#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(user: &str) -> Self {
        Keys {
            prefix: format!("{ROOT}{}/", escape(user)),
        }
    }

    pub fn chunk(&self, conversation: &str, seq: u64) -> String {
        format!("{}c/{}/{seq:016x}", self.prefix, escape(conversation))
    }

    pub fn state(&self) -> String {
        format!("{}state", self.prefix)
    }

    pub fn extra(&self, name: &str) -> String {
        format!("{}x/{}", self.prefix, escape(name))
    }

    /// `None` when the key is not under this user's prefix.
    pub fn parse(&self, key: &str) -> Option<KeyName> {
        let rest = key.strip_prefix(&self.prefix)?;
        if rest == "state" {
            return Some(KeyName::State);
        }
        if let Some(name) = rest.strip_prefix("x/") {
            return Some(unescape(name).map_or(KeyName::Foreign, KeyName::Extra));
        }
        let chunk = rest
            .strip_prefix("c/")
            .and_then(|r| r.split_once('/'))
            .and_then(|(conversation, seq)| {
                let seq = u64::from_str_radix(seq, 16)
                    .ok()
                    .filter(|n| format!("{n:016x}") == seq)?;
                Some(KeyName::Chunk {
                    conversation: unescape(conversation)?,
                    seq,
                })
            });
        Some(chunk.unwrap_or(KeyName::Foreign))
    }
}

/// A record's place in history: server time, then id.
pub type Mark = (i64, String);

/// The conversation state kept in its tail chunk, rewritten with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default)]
    pub unread: u64,
    /// Incoming records up to here are read by me.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_mark: Option<Mark>,
    /// My records up to here are read by the peer (`onChannelMessage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_read_mark: Option<Mark>,
    /// The newest incoming record that mentions me; unread while it is past `read_mark`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mention_mark: Option<Mark>,
    /// Bytes of the sealed chunks not listed in `intent`.
    #[serde(default)]
    pub sealed_bytes: u64,
    /// Number of sealed chunks not listed in `intent`.
    #[serde(default)]
    pub sealed_chunks: u64,
    /// Sealed chunks this write is followed by writes or removals of; read at open to learn their sizes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intent: Vec<u64>,
}

#[derive(Serialize)]
struct ChunkOut<'a, R: Serialize> {
    v: u32,
    c: &'a str,
    r: &'a [R],
    #[serde(skip_serializing_if = "Option::is_none")]
    m: Option<&'a Meta>,
}

// Items stay raw text until each is read as a record on its own, so one bad item costs only itself,
// and records are parsed straight from text (no intermediate `Value`).
#[derive(Deserialize)]
struct ChunkIn<'a> {
    v: u32,
    c: String,
    #[serde(borrow)]
    r: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    m: Option<&'a RawValue>,
}

/// A chunk value as read back.
#[derive(Debug)]
pub struct DecodedChunk {
    pub records: Vec<Record>,
    /// Items of `r` that are not records of this conversation.
    pub skipped_records: usize,
    /// `None` when absent or unreadable.
    pub meta: Option<Meta>,
}

/// Encodes a chunk; `records` are records or their already-serialised JSON.
pub fn encode_chunk<R: Serialize>(
    conversation: &str,
    records: &[R],
    meta: Option<&Meta>,
) -> String {
    let out = ChunkOut {
        v: FORMAT,
        c: conversation,
        r: records,
        m: meta,
    };
    serde_json::to_string(&out).unwrap_or_default()
}

/// Decodes a chunk of `conversation`; `None` when the value is not one (truncated, another shape,
/// another format version, another conversation).
pub fn decode_chunk(conversation: &str, value: &str) -> Option<DecodedChunk> {
    let chunk: ChunkIn = serde_json::from_str(value).ok()?;
    if chunk.v != FORMAT || chunk.c != conversation {
        return None;
    }
    let total = chunk.r.len();
    let records: Vec<Record> = chunk
        .r
        .into_iter()
        .filter_map(|item| serde_json::from_str::<Record>(item.get()).ok())
        .filter(|record| record.conversation == conversation && !record.id.is_empty())
        .collect();
    let meta = chunk.m.and_then(|m| serde_json::from_str(m.get()).ok());
    Some(DecodedChunk {
        skipped_records: total.saturating_sub(records.len()),
        records,
        meta,
    })
}

/// The store-wide state value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub v: u32,
    #[serde(default)]
    pub muted: Vec<String>,
    #[serde(default)]
    pub evicted_records: u64,
    #[serde(default)]
    pub evicted_chunks: u64,
}

pub fn decode_state(value: &str) -> Option<State> {
    serde_json::from_str::<State>(value)
        .ok()
        .filter(|s| s.v == FORMAT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_and_rejects_foreign_text() {
        let table = [
            ("a/b", "a%2Fb"),
            ("50%", "50%25"),
            ("%2F", "%252F"),
            ("group:g_1", "group:g_1"),
            ("", ""),
        ];
        for (name, escaped) in table {
            assert_eq!(escape(name), escaped);
            assert_eq!(unescape(escaped).as_deref(), Some(name));
        }
        for bad in ["a/b", "%2", "%41", "x%"] {
            assert_eq!(unescape(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn key_names_parse_back() {
        let keys = Keys::new("al/ice");
        let table = [
            (
                keys.chunk("single:a/b", 7),
                Some(KeyName::Chunk {
                    conversation: "single:a/b".into(),
                    seq: 7,
                }),
            ),
            (keys.state(), Some(KeyName::State)),
            (
                keys.extra("profiles"),
                Some(KeyName::Extra("profiles".into())),
            ),
            (
                "mpchat/1/al%2Fice/c/single:x/12".to_string(),
                Some(KeyName::Foreign),
            ),
            (
                "mpchat/1/al%2Fice/c/single:x/+000000000000007".to_string(),
                Some(KeyName::Foreign),
            ),
            (
                "mpchat/1/al%2Fice/c/single:x/000000000000000A".to_string(),
                Some(KeyName::Foreign),
            ),
            ("mpchat/1/al%2Fice/junk".to_string(), Some(KeyName::Foreign)),
            ("mpchat/1/al/ice/state".to_string(), None),
            ("group_g1".to_string(), None),
        ];
        for (key, want) in table {
            assert_eq!(keys.parse(&key), want, "{key}");
        }
    }
}
