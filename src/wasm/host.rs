//! The store's backend in the wasm build: the shim (js-glue/host.js) keeps documents as JS objects
//! and does the `wx` calls; the core names keys and documents and reads projections as tapes.

use wasm_bindgen::prelude::*;

use super::wire::Lent;
use crate::error::{Error, Result};
use crate::message::Status;
use crate::store::{Backend, Doc, FlatNumbers, Patch, RecordMeta, Shape};
use crate::tape::Tape;

#[wasm_bindgen]
extern "C" {
    /// The shim's host object. Texts pass as (address, length) of UTF-8 in wasm memory; a negative
    /// return is a failure whose message [`Host::error`] then gives.
    pub type Host;
    #[wasm_bindgen(method)]
    fn get(this: &Host, key: u32, key_len: u32) -> i32;
    /// `get` when the value is the record of conversation `name` with this id, time and
    /// [`RecordMeta::code`]; -3 when it is another value.
    #[wasm_bindgen(method, js_name = getRecord)]
    fn get_record(
        this: &Host, key: u32, key_len: u32, name: u32, name_len: u32, id: u32, id_len: u32, time: f64, code: u32,
    ) -> i32;
    /// `get` and `read` in one, keeping no document: the tape's length, -1 when the key is absent.
    #[wasm_bindgen(method)]
    fn peek(this: &Host, key: u32, key_len: u32, shape: u32, room: u32, room_len: u32) -> i32;
    /// A head as numbers (written to `numbers`: its `HEAD_NUMBERS`, then its `HEAD_LENGTHS`) and
    /// strings (the tape of its `HEAD_STRINGS`, in the room as `read` writes one): the tape's length;
    /// -1 when the key is absent, -3 when the host has no layout to hand a head over by.
    #[wasm_bindgen(method, js_name = flatHead)]
    fn flat_head(this: &Host, key: u32, key_len: u32, numbers: u32, room: u32, room_len: u32) -> i32;
    /// Writes the tape of a document's projection to `room` when it fits in `room_len` units, else
    /// aside for [`Host::take`]; returns its length.
    #[wasm_bindgen(method)]
    fn read(this: &Host, doc: u32, shape: u32, room: u32, room_len: u32) -> i32;
    /// Copies the tape set aside to `at`.
    #[wasm_bindgen(method)]
    fn take(this: &Host, at: u32);
    #[wasm_bindgen(method)]
    fn create(this: &Host, json: u32, len: u32) -> i32;
    #[wasm_bindgen(method)]
    fn release(this: &Host, doc: u32);
    #[wasm_bindgen(method, js_name = setJson)]
    fn set_json(this: &Host, key: u32, key_len: u32, json: u32, len: u32) -> i32;
    #[wasm_bindgen(method, js_name = setRecord)]
    fn set_record(this: &Host, key: u32, key_len: u32, doc: u32) -> i32;
    #[wasm_bindgen(method, js_name = setChunk)]
    fn set_chunk(this: &Host, key: u32, key_len: u32, envelope: u32, len: u32, docs: u32, count: u32) -> i32;
    #[wasm_bindgen(method)]
    fn remove(this: &Host, key: u32, key_len: u32) -> i32;
    /// Returns the record's JSON bytes before × 2^24 + after, or a negative number.
    #[wasm_bindgen(method)]
    fn patch(this: &Host, doc: u32, json: u32, len: u32) -> f64;
    #[wasm_bindgen(method)]
    fn measure(this: &Host, doc: u32) -> f64;
    /// Writes the keys starting with the prefix aside, as a tape array; returns its length.
    #[wasm_bindgen(method)]
    fn keys(this: &Host, prefix: u32, len: u32) -> i32;
    #[wasm_bindgen(method)]
    fn count(this: &Host, prefix: u32, len: u32) -> f64;
    /// Writes the last failure's message aside, as a tape string; returns its length.
    #[wasm_bindgen(method)]
    fn error(this: &Host) -> i32;
}

/// Units of the room the shim writes a tape into directly: heads, records and most chunks fit, and
/// their tapes cross in the call that reads them. On iPhones a call between wasm and the shim costs
/// microseconds (taking heads in one call instead of four made opening 200 of them 3% faster).
const ROOM: usize = 4096;

pub struct JsBackend {
    host: Host,
    room: Vec<u16>,
}

impl JsBackend {
    pub fn new(host: Host) -> Self {
        JsBackend { host, room: vec![0; ROOM] }
    }

    /// Where the shim may write a tape, and how many units fit.
    fn room(&mut self) -> (u32, u32) {
        (self.room.as_mut_ptr() as u32, ROOM as u32)
    }

    /// The tape of length `len` the shim wrote into the room, or set aside when it did not fit.
    fn written(&self, len: i32) -> Result<Tape> {
        match usize::try_from(len).ok().and_then(|n| self.room.get(..n)) {
            Some(units) => Ok(Tape::new(units.to_vec())),
            None => self.taken(len),
        }
    }

    fn taken(&self, len: i32) -> Result<Tape> {
        if len < 0 {
            return Err(self.failure());
        }
        let mut units = vec![0u16; len as usize];
        self.host.take(units.as_mut_ptr() as u32);
        Ok(Tape::new(units))
    }

    fn failure(&self) -> Error {
        let len = self.host.error();
        let mut units = vec![0u16; len.max(0) as usize];
        self.host.take(units.as_mut_ptr() as u32);
        let message = Tape::new(units).root().as_str().unwrap_or_default();
        Error::storage(if message.is_empty() { "the storage call threw".to_string() } else { message })
    }

    fn status(&self, code: i32) -> Result<()> {
        if code < 0 {
            Err(self.failure())
        } else {
            Ok(())
        }
    }

    fn number(&self, n: f64) -> Result<u64> {
        if n < 0.0 || !n.is_finite() {
            Err(self.failure())
        } else {
            Ok(n as u64)
        }
    }
}

fn shape_number(shape: Shape) -> u32 {
    Shape::ALL.iter().position(|s| *s == shape).unwrap_or(0) as u32
}

impl Backend for JsBackend {
    fn get(&mut self, key: &str) -> Result<Option<Doc>> {
        let key = Lent::new(key);
        match self.host.get(key.ptr(), key.len()) {
            -1 => Ok(None),
            n if n < 0 => Err(self.failure()),
            doc => Ok(Some(doc as Doc)),
        }
    }

    fn get_record(&mut self, key: &str, name: &str, meta: &RecordMeta) -> Result<Option<Doc>> {
        let (key, name, id) = (Lent::new(key), Lent::new(name), Lent::new(&meta.id));
        let (time, code) = (meta.time as f64, meta.code());
        match self.host.get_record(key.ptr(), key.len(), name.ptr(), name.len(), id.ptr(), id.len(), time, code) {
            -1 | -3 => Ok(None),
            n if n < 0 => Err(self.failure()),
            doc => Ok(Some(doc as Doc)),
        }
    }

    fn read(&mut self, doc: Doc, shape: Shape) -> Result<Tape> {
        let (room, room_len) = self.room();
        let len = self.host.read(doc, shape_number(shape), room, room_len);
        self.written(len)
    }

    fn flat_head(&mut self, key: &str, numbers: &mut FlatNumbers) -> Result<Option<Tape>> {
        let (room, room_len) = self.room();
        let key = Lent::new(key);
        match self.host.flat_head(key.ptr(), key.len(), numbers.as_mut_ptr() as u32, room, room_len) {
            -2 => Err(self.failure()),
            // Absent, or a host that hands no head over so: `peek` reads it.
            len if len < 0 => Ok(None),
            len => self.written(len).map(Some),
        }
    }

    fn peek(&mut self, key: &str, shape: Shape) -> Result<Option<Tape>> {
        let (room, room_len) = self.room();
        let key = Lent::new(key);
        match self.host.peek(key.ptr(), key.len(), shape_number(shape), room, room_len) {
            -1 => Ok(None),
            len => self.written(len).map(Some),
        }
    }

    fn create(&mut self, json: &str) -> Result<Doc> {
        let json = Lent::new(json);
        let doc = self.host.create(json.ptr(), json.len());
        self.status(doc)?;
        Ok(doc as Doc)
    }

    fn release(&mut self, doc: Doc) {
        self.host.release(doc);
    }

    fn set_json(&mut self, key: &str, json: &str) -> Result<()> {
        let (key, json) = (Lent::new(key), Lent::new(json));
        let code = self.host.set_json(key.ptr(), key.len(), json.ptr(), json.len());
        self.status(code)
    }

    fn set_record(&mut self, key: &str, doc: Doc) -> Result<()> {
        let key = Lent::new(key);
        let code = self.host.set_record(key.ptr(), key.len(), doc);
        self.status(code)
    }

    fn set_chunk(&mut self, key: &str, envelope: &str, records: &[Doc]) -> Result<()> {
        let (key, envelope) = (Lent::new(key), Lent::new(envelope));
        let count = u32::try_from(records.len()).unwrap_or(u32::MAX);
        let code = self.host.set_chunk(key.ptr(), key.len(), envelope.ptr(), envelope.len(), records.as_ptr() as u32, count);
        self.status(code)
    }

    fn remove(&mut self, key: &str) -> Result<()> {
        let key = Lent::new(key);
        let code = self.host.remove(key.ptr(), key.len());
        self.status(code)
    }

    fn patch(&mut self, doc: Doc, patch: &Patch<'_>) -> Result<(u64, u64)> {
        let json = patch_json(patch);
        let json = Lent::new(&json);
        let both = self.number(self.host.patch(doc, json.ptr(), json.len()))?;
        Ok((both >> 24, both & 0xFF_FFFF))
    }

    fn measure(&mut self, doc: Doc) -> Result<u64> {
        let n = self.host.measure(doc);
        self.number(n)
    }

    fn keys(&mut self, prefix: &str) -> Result<Vec<String>> {
        let prefix = Lent::new(prefix);
        let tape = self.taken(self.host.keys(prefix.ptr(), prefix.len()))?;
        Ok(tape.root().items().filter_map(|k| k.as_str()).collect())
    }

    fn count(&mut self, prefix: &str) -> Result<u64> {
        let prefix = Lent::new(prefix);
        let n = self.host.count(prefix.ptr(), prefix.len());
        self.number(n)
    }
}

/// `{"id":…,"time":…,"status":…,"recalledBy":…,"edit":{…},"reactions":[…],"uploaded":{"url","thumb"?}}`
/// with the fields the patch sets.
fn patch_json(patch: &Patch<'_>) -> String {
    use crate::json::{write_f64, write_list, write_str};
    let mut out = String::from("{");
    let field = |out: &mut String, name: &str| {
        if out.len() > 1 {
            out.push(',');
        }
        write_str(out, name);
        out.push(':');
    };
    if let Some(id) = patch.id {
        field(&mut out, "id");
        write_str(&mut out, id);
    }
    if let Some(time) = patch.time {
        field(&mut out, "time");
        write_f64(&mut out, time as f64);
    }
    if let Some(status) = patch.status {
        field(&mut out, "status");
        write_str(&mut out, Status::as_str(status));
    }
    if let Some(by) = patch.recalled_by {
        field(&mut out, "recalledBy");
        write_str(&mut out, by);
    }
    if let Some(edit) = patch.edit {
        field(&mut out, "edit");
        out.push_str("{\"text\":");
        write_str(&mut out, edit.text);
        out.push_str(",\"count\":");
        write_f64(&mut out, edit.count as f64);
        out.push_str(",\"time\":");
        write_f64(&mut out, edit.time as f64);
        out.push_str(",\"by\":");
        write_str(&mut out, edit.by);
        out.push('}');
    }
    if let Some(reactions) = patch.reactions {
        field(&mut out, "reactions");
        write_list(&mut out, reactions, |out, r| {
            out.push_str("{\"reaction\":");
            write_str(out, &r.reaction);
            out.push_str(",\"count\":");
            write_f64(out, r.count as f64);
            out.push_str(",\"mine\":");
            out.push_str(if r.mine { "true" } else { "false" });
            out.push('}');
        });
    }
    if let Some(uploaded) = patch.uploaded {
        field(&mut out, "uploaded");
        out.push_str("{\"url\":");
        write_str(&mut out, uploaded.url);
        if let Some(thumb) = uploaded.thumb {
            out.push_str(",\"thumb\":");
            write_str(&mut out, thumb);
        }
        out.push('}');
    }
    out.push('}');
    out
}
