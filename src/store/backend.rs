//! What the store reads and writes through: keys and values, and documents the backend holds.
//!
//! The store decides everything (what goes under which key, when, what a record's status is); the
//! backend moves the bytes. A value read is kept by the backend as a document, named by a handle, and
//! the store reads only the projection of it that it needs (a chunk's record ids and times, not their
//! text). Records are documents too: the store writes them by handle, inside a chunk or alone, and tells
//! the backend how to change one. In the wasm build the backend is the JS shim, which keeps documents as
//! JS objects and lets the engine's native JSON do the serialising; natively [`TextBackend`] keeps them
//! over any string [`KeyValue`] (tests, fuzzing).

use super::layout::{HEAD_LENGTHS, HEAD_NUMBERS};
use super::RecordMeta;
use crate::error::Result;
use crate::kind::ConversationId;
use crate::message::Status;
use crate::tape::{Projection, Tape};

/// A document the backend holds.
pub type Doc = u32;

/// A head's numbers, then its lengths, as [`Backend::flat_head`] hands them over.
pub type FlatNumbers = [f64; HEAD_NUMBERS.len() + HEAD_LENGTHS.len()];

/// Which projection of a document the store reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// All of it (heads, the state, extras).
    Whole,
    /// A record's index fields: what ordering, de-duplication and unread counting need. Its text
    /// and ext are left out (their types and sizes stay visible, for validation).
    Record,
    /// A sealed chunk (format 1 or 2): the envelope, and each record as a document with its index.
    Chunk,
    /// A conversation's head, its fields by place ([`super::layout::HEAD_FIELDS`]): opening reads
    /// one for each conversation, and keys are the costliest part of a tape to write and to match.
    Head,
}

impl Shape {
    pub const ALL: [Shape; 4] = [Shape::Whole, Shape::Record, Shape::Chunk, Shape::Head];

    pub fn projection(self) -> Projection {
        use Projection::*;
        // By place (see RecordMeta::from_val): a conversation list or a history page reads many.
        let record = || {
            Projection::fields(super::RECORD_FIELDS.map(|name| {
                let p = match name {
                    "text" => Length,
                    // Not read from the index (RecordMeta::from_val): nothing crosses.
                    "body" | "ext" => Skip,
                    "sender" => Projection::object([("id", Full)], Skip),
                    _ => Full,
                };
                (name, p)
            }))
        };
        match self {
            Shape::Whole => Full,
            Shape::Record => record(),
            Shape::Chunk => Projection::object(
                [
                    ("v", Full),
                    ("b", Full),
                    ("c", Full),
                    ("s", Full),
                    ("m", Full),
                    ("r", Items(Box::new(Doc(Box::new(record()))))),
                ],
                Skip,
            ),
            Shape::Head => Projection::fields(super::layout::HEAD_FIELDS.map(|name| (name, Full))),
        }
    }
}

/// A change to a stored record, decided by the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch<'a> {
    pub id: Option<&'a str>,
    pub time: Option<i64>,
    pub status: Option<Status>,
    /// The record becomes a recall notice: `text` and `body` go, `recalled: true`, `ext.recalledBy`.
    pub recalled_by: Option<&'a str>,
    /// The record's text is replaced and `edited` set.
    pub edit: Option<Edited<'a>>,
    /// The record's reactions become these (`reactions` goes when there are none).
    pub reactions: Option<&'a [Reaction]>,
    /// My file went up to the server: `body.url` (and a video's `body.thumb`) become its URLs.
    pub uploaded: Option<Uploaded<'a>>,
}

/// Where an uploaded file (and a video's poster) now is on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uploaded<'a> {
    pub url: &'a str,
    pub thumb: Option<&'a str>,
}

/// An edit as the store writes it: the new text, and `edited: {count, time, by}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edited<'a> {
    pub text: &'a str,
    pub count: u64,
    pub time: i64,
    pub by: &'a str,
}

/// One reaction on a record: `{reaction, count, mine}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub reaction: String,
    pub count: u64,
    /// I am among the users who reacted so.
    pub mine: bool,
}

/// Keys and documents. Every call may fail with [`crate::Error::Storage`]; a failed write is taken as
/// not written (a write that did land is harmless: the store writes the same value again).
pub trait Backend {
    /// Reads `key` and keeps the value as a document; `None` when the key is absent.
    fn get(&mut self, key: &str) -> Result<Option<Doc>>;
    /// A projection of a document.
    fn read(&mut self, doc: Doc, shape: Shape) -> Result<Tape>;
    /// A head as numbers (into `numbers`) and strings (the tape returned) for [`Head::decode_flat`],
    /// where the backend can hand it over so (the shim, from wx's native object: opening 200 heads
    /// takes a quarter less time); `None` where it cannot, or the key is absent: [`Backend::peek`] then
    /// reads it.
    fn flat_head(&mut self, _key: &str, _numbers: &mut FlatNumbers) -> Result<Option<Tape>> {
        Ok(None)
    }
    /// The projection of the value of `key`, kept as no document; `None` when the key is absent. For
    /// a value read once and dropped (a head at opening): one call where the shim is the backend.
    fn peek(&mut self, key: &str, shape: Shape) -> Result<Option<Tape>> {
        let Some(doc) = self.get(key)? else {
            return Ok(None);
        };
        let tape = self.read(doc, shape);
        self.release(doc);
        tape.map(Some)
    }
    /// Reads `key` as [`Backend::get`] does, when it holds the record of conversation `name` that
    /// `meta` indexes (id, time, direction, status and flags agree); `None` when it does not, or is
    /// absent. Where a document's fields are cheaper to compare than its projection is to read (the
    /// shim's native objects), a backend compares them in place.
    fn get_record(&mut self, key: &str, name: &str, meta: &RecordMeta) -> Result<Option<Doc>> {
        let Ok(conversation) = ConversationId::parse(name) else {
            return Ok(None);
        };
        let Some(doc) = self.get(key)? else {
            return Ok(None);
        };
        let read = self.read(doc, Shape::Record);
        let indexed = read.as_ref().ok().and_then(|tape| RecordMeta::from_val(tape.root(), &conversation));
        let matches = indexed.as_ref() == Some(meta);
        if matches {
            return Ok(Some(doc));
        }
        self.release(doc);
        read.map(|_| None)
    }
    /// A new record document from its JSON text (records the core itself builds).
    fn create(&mut self, json: &str) -> Result<Doc>;
    /// The store no longer needs the document.
    fn release(&mut self, doc: Doc);
    fn set_json(&mut self, key: &str, json: &str) -> Result<()>;
    /// Writes a record document as the value of `key`.
    fn set_record(&mut self, key: &str, doc: Doc) -> Result<()>;
    /// Writes `envelope` (a JSON object) with `"r": [records]` added as its last key.
    fn set_chunk(&mut self, key: &str, envelope: &str, records: &[Doc]) -> Result<()>;
    fn remove(&mut self, key: &str) -> Result<()>;
    /// Changes a record document; returns its JSON size in bytes before and after.
    fn patch(&mut self, doc: Doc, patch: &Patch<'_>) -> Result<(u64, u64)>;
    /// A record document's JSON size in bytes.
    fn measure(&mut self, doc: Doc) -> Result<u64>;
    /// Every key starting with `prefix`.
    fn keys(&mut self, prefix: &str) -> Result<Vec<String>>;
    /// How many keys start with `prefix`.
    fn count(&mut self, prefix: &str) -> Result<u64>;
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::TextBackend;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use serde_json::Value;

    use super::*;
    use crate::error::Error;
    use crate::store::kv::KeyValue;

    /// Documents over a string key-value storage: values are JSON text, documents are parsed values.
    #[derive(Debug)]
    pub struct TextBackend<K: KeyValue> {
        kv: K,
        docs: Vec<Option<Value>>,
        /// Stored text that was not JSON, by document: it reads as a string, and measures as stored.
        raw: std::collections::HashMap<Doc, usize>,
        free: Vec<Doc>,
    }

    impl<K: KeyValue> TextBackend<K> {
        pub fn new(kv: K) -> Self {
            TextBackend { kv, docs: Vec::new(), raw: std::collections::HashMap::new(), free: Vec::new() }
        }

        pub fn into_inner(self) -> K {
            self.kv
        }

        pub fn kv(&mut self) -> &mut K {
            &mut self.kv
        }

        /// Documents held (a test that releases everything it loads sees this stay bounded).
        pub fn live_docs(&self) -> usize {
            self.docs.iter().filter(|d| d.is_some()).count()
        }

        fn adopt(&mut self, value: Value) -> Doc {
            match self.free.pop() {
                Some(doc) => {
                    if let Some(slot) = self.docs.get_mut(doc as usize) {
                        *slot = Some(value);
                    }
                    doc
                }
                None => {
                    self.docs.push(Some(value));
                    u32::try_from(self.docs.len() - 1).unwrap_or(u32::MAX)
                }
            }
        }

        fn doc(&self, doc: Doc) -> Result<&Value> {
            self.docs
                .get(doc as usize)
                .and_then(Option::as_ref)
                .ok_or_else(|| Error::storage(format!("document {doc} is not held")))
        }

        fn text(&self, doc: Doc) -> Result<String> {
            Ok(js_json(self.doc(doc)?))
        }
    }

    /// JSON text as JavaScript's `JSON.stringify` writes the value (the store counts these bytes).
    fn js_json(value: &Value) -> String {
        crate::json::Json::from(value).to_text()
    }

    impl<K: KeyValue> Backend for TextBackend<K> {
        fn get(&mut self, key: &str) -> Result<Option<Doc>> {
            let Some(text) = self.kv.get(key)? else {
                return Ok(None);
            };
            // Text that is not JSON reads as a string, as wx returns a value stored as a string.
            match serde_json::from_str(&text) {
                Ok(value) => Ok(Some(self.adopt(value))),
                Err(_) => {
                    let len = text.len();
                    let doc = self.adopt(Value::String(text));
                    self.raw.insert(doc, len);
                    Ok(Some(doc))
                }
            }
        }

        fn read(&mut self, doc: Doc, shape: Shape) -> Result<Tape> {
            let value = self.doc(doc)?.clone();
            Ok(Tape::from_json(&value, &shape.projection(), &mut |v| self.adopt(v.clone())))
        }

        fn create(&mut self, json: &str) -> Result<Doc> {
            let value = serde_json::from_str(json)
                .map_err(|e| Error::input(format!("a record is not JSON: {e}")))?;
            Ok(self.adopt(value))
        }

        fn release(&mut self, doc: Doc) {
            self.raw.remove(&doc);
            if let Some(slot) = self.docs.get_mut(doc as usize) {
                if slot.take().is_some() {
                    self.free.push(doc);
                }
            }
        }

        fn set_json(&mut self, key: &str, json: &str) -> Result<()> {
            self.kv.set(key, json)
        }

        fn set_record(&mut self, key: &str, doc: Doc) -> Result<()> {
            let text = self.text(doc)?;
            self.kv.set(key, &text)
        }

        fn set_chunk(&mut self, key: &str, envelope: &str, records: &[Doc]) -> Result<()> {
            let mut out = envelope.strip_suffix('}').unwrap_or(envelope).to_string();
            out.push_str(",\"r\":[");
            for (i, doc) in records.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&self.text(*doc)?);
            }
            out.push_str("]}");
            self.kv.set(key, &out)
        }

        fn remove(&mut self, key: &str) -> Result<()> {
            self.kv.remove(key)
        }

        fn patch(&mut self, doc: Doc, patch: &Patch<'_>) -> Result<(u64, u64)> {
            let before = self.text(doc)?.len() as u64;
            let Some(Some(Value::Object(record))) = self.docs.get_mut(doc as usize) else {
                return Err(Error::storage(format!("document {doc} is not a record")));
            };
            if let Some(id) = patch.id {
                record.insert("id".into(), id.into());
            }
            if let Some(time) = patch.time {
                record.insert("time".into(), time.into());
            }
            if let Some(status) = patch.status {
                record.insert("status".into(), status.as_str().into());
            }
            if let Some(by) = patch.recalled_by {
                record.remove("text");
                record.remove("body");
                record.insert("recalled".into(), true.into());
                if let Some(Value::Object(ext)) = record.get_mut("ext") {
                    ext.insert("recalledBy".into(), by.into());
                } else {
                    record.insert("ext".into(), serde_json::json!({ "recalledBy": by }));
                }
            }
            if let Some(edit) = patch.edit {
                record.insert("text".into(), edit.text.into());
                record.insert(
                    "edited".into(),
                    serde_json::json!({ "count": edit.count, "time": edit.time, "by": edit.by }),
                );
            }
            if let Some(reactions) = patch.reactions {
                if reactions.is_empty() {
                    record.remove("reactions");
                } else {
                    let list = reactions
                        .iter()
                        .map(|r| serde_json::json!({ "reaction": r.reaction, "count": r.count, "mine": r.mine }))
                        .collect();
                    record.insert("reactions".into(), Value::Array(list));
                }
            }
            if let Some(uploaded) = patch.uploaded {
                let body = record.entry("body").or_insert_with(|| Value::Object(Default::default()));
                if let Value::Object(body) = body {
                    body.insert("url".into(), uploaded.url.into());
                    if let Some(thumb) = uploaded.thumb {
                        body.insert("thumb".into(), thumb.into());
                    }
                }
            }
            let after = self.text(doc)?.len() as u64;
            Ok((before, after))
        }

        fn measure(&mut self, doc: Doc) -> Result<u64> {
            match self.raw.get(&doc) {
                Some(len) => Ok(*len as u64),
                None => Ok(self.text(doc)?.len() as u64),
            }
        }

        fn keys(&mut self, prefix: &str) -> Result<Vec<String>> {
            Ok(self.kv.keys()?.into_iter().filter(|k| k.starts_with(prefix)).collect())
        }

        fn count(&mut self, prefix: &str) -> Result<u64> {
            Ok(self.keys(prefix)?.len() as u64)
        }
    }
}
