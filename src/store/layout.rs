//! Key names and value formats of the store (format 2), and how to read format 1's keys for migration.
//!
//! Every key is `mpchat/2/<user>/…` with `%` and `/` escaped in the user, conversation and extra names
//! (`%25`, `%2F`), so a name can never reach into another key's space.
//!
//! - `h/<conversation>`: the conversation's head: unread count, read marks, activity, the sealed
//!   chunks that exist and their byte total, the range of loose records. Rewritten with every change
//!   (a received record's at the end of a burst, see `lag`); small and of constant size.
//! - `r/<conversation>/<n>`: a loose record: the newest records, each written once under its own key
//!   (a record, as pages see it). `n` counts up; the head names the range that is live.
//! - `c/<conversation>/<seq>`: a sealed chunk of older records, `{v, b, c, s, r: [records]}`, written
//!   when the loose records fill up and afterwards only for a late arrival or a change of an old one.
//! - `s`: muted conversations and eviction counters.  `x/<name>`: an extra blob (the profile cache).
//!
//! Heads, chunks and the state carry `b`, their own size in bytes (key plus value) as ten digits, so a
//! reader learns what a value costs without measuring it.

use super::backend::FlatNumbers;
use super::RecordMeta;
use crate::json::{write_f64, write_numbers, write_str, write_whole};
use crate::kind::ConversationId;
use crate::tape::{Kind as TapeKind, Val};

pub const ROOT: &str = "mpchat/2/";
/// Format 1 (one chunk per ~6 KB with the meta in the tail chunk), read only to migrate it.
pub const ROOT_V1: &str = "mpchat/1/";
pub const FORMAT: u32 = 2;

/// Sealed chunks are numbered in steps of this (as format 1 did), leaving room for 32 levels of
/// splits between neighbours; numbers stay below 2^53, so JavaScript reads them exactly.
pub const SEQ_STEP: u64 = 1 << 32;

/// Escapes `%` and `/` so the name holds no separator.
pub fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    push_escaped(&mut out, name);
    out
}

fn push_escaped(out: &mut String, name: &str) {
    if !name.bytes().any(|b| b == b'%' || b == b'/') {
        out.push_str(name);
        return;
    }
    for c in name.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            c => out.push(c),
        }
    }
}

/// Reverses [`escape`]; `None` for text `escape` cannot have produced.
pub fn unescape(escaped: &str) -> Option<String> {
    if !escaped.bytes().any(|b| b == b'%' || b == b'/') {
        return Some(escaped.to_string());
    }
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

/// A conversation name as keys hold it: escaped, and canonical (`group:g1`, not `groupChat:g1`).
fn conversation_part(escaped: &str) -> Option<String> {
    let name = unescape(escaped)?;
    ConversationId::is_canonical(&name).then_some(name)
}

/// What a flush decided for a head: byte totals that leave out the values it rewrites, and those.
#[derive(Clone, Copy)]
pub struct Changes<'a> {
    pub sealed_bytes: u64,
    pub loose_bytes: u64,
    pub rewrites: &'a [u64],
    pub loose_rewrites: &'a [u64],
}

/// A decimal number exactly as [`Keys`] writes it (no sign, no leading zero).
fn number_part(text: &str) -> Option<u64> {
    let n: u64 = text.parse().ok()?;
    (n.to_string() == text).then_some(n)
}

/// What a key under the user's prefix names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyName {
    Head(String),
    Loose(String, u64),
    Chunk(String, u64),
    State,
    Extra(String),
    /// A format 1 chunk (`mpchat/1/<user>/c/<conversation>/<16 hex digits>`).
    V1Chunk(String, u64),
    /// Format 1's state or extra, or anything else under format 1's prefix.
    V1Other,
    /// Under the prefix but not a name this version writes.
    Foreign,
}

#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
    v1_prefix: String,
}

impl Keys {
    pub fn new(user: &str) -> Self {
        Keys {
            prefix: format!("{ROOT}{}/", escape(user)),
            v1_prefix: format!("{ROOT_V1}{}/", escape(user)),
        }
    }

    /// Every key of this user starts with this.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn v1_prefix(&self) -> &str {
        &self.v1_prefix
    }

    /// `<prefix><part><escaped name>`, and `/<n>` after it when given.
    fn key(&self, part: &str, name: &str, n: Option<u64>) -> String {
        let mut key = String::with_capacity(self.prefix.len() + part.len() + name.len() + 12);
        key.push_str(&self.prefix);
        key.push_str(part);
        push_escaped(&mut key, name);
        if let Some(n) = n {
            key.push('/');
            crate::json::write_i64(&mut key, n as i64);
        }
        key
    }

    pub fn heads(&self) -> String {
        self.key("h/", "", None)
    }

    pub fn head(&self, conversation: &str) -> String {
        self.key("h/", conversation, None)
    }

    pub fn loose(&self, conversation: &str, n: u64) -> String {
        self.key("r/", conversation, Some(n))
    }

    pub fn chunk(&self, conversation: &str, seq: u64) -> String {
        self.key("c/", conversation, Some(seq))
    }

    /// Keys in three parts, for listing many of them compactly: `loose(conversation, n)` is
    /// `roots.0 + numbered(conversation) + n`, and `chunk(conversation, seq)` is `roots.1 + … + seq`.
    pub fn roots(&self) -> (String, String) {
        (self.key("r/", "", None), self.key("c/", "", None))
    }

    /// The conversation's part of a numbered key (see [`Keys::roots`]).
    pub fn numbered(conversation: &str) -> String {
        let mut part = String::with_capacity(conversation.len() + 1);
        push_escaped(&mut part, conversation);
        part.push('/');
        part
    }

    pub fn state(&self) -> String {
        self.key("s", "", None)
    }

    pub fn extra(&self, name: &str) -> String {
        self.key("x/", name, None)
    }

    /// `None` when the key is not this user's (in either format).
    pub fn parse(&self, key: &str) -> Option<KeyName> {
        if let Some(rest) = key.strip_prefix(&self.v1_prefix) {
            let chunk = rest.strip_prefix("c/").and_then(|r| r.split_once('/')).and_then(|(conv, seq)| {
                let n = u64::from_str_radix(seq, 16).ok().filter(|n| format!("{n:016x}") == seq)?;
                Some(KeyName::V1Chunk(conversation_part(conv)?, n))
            });
            return Some(chunk.unwrap_or(KeyName::V1Other));
        }
        let rest = key.strip_prefix(&self.prefix)?;
        let name = if rest == "s" {
            Some(KeyName::State)
        } else if let Some(name) = rest.strip_prefix("x/") {
            unescape(name).map(KeyName::Extra)
        } else if let Some(conv) = rest.strip_prefix("h/") {
            conversation_part(conv).map(KeyName::Head)
        } else if let Some(r) = rest.strip_prefix("r/") {
            r.split_once('/')
                .and_then(|(conv, n)| Some(KeyName::Loose(conversation_part(conv)?, number_part(n)?)))
        } else if let Some(r) = rest.strip_prefix("c/") {
            r.split_once('/')
                .and_then(|(conv, n)| Some(KeyName::Chunk(conversation_part(conv)?, number_part(n)?)))
        } else {
            None
        };
        Some(name.unwrap_or(KeyName::Foreign))
    }
}

/// A record's place in history: server time, then id.
pub type Mark = (i64, String);

/// Width of the `b` size field: ten digits cover wx's 10 MB.
const SIZE_DIGITS: usize = 10;

/// `{"v":2,"b":"0000000000"`: the start of a value whose size field is still to be filled.
fn envelope_start(capacity: usize) -> String {
    let mut out = String::with_capacity(capacity + 24);
    out.push_str("{\"v\":2,\"b\":\"0000000000\"");
    out
}

/// `{"v":2,"b":"0000000000"` + `rest` + `}`: a value whose size field is still to be filled.
fn envelope(rest: &str) -> String {
    let mut out = envelope_start(rest.len());
    out.push_str(rest);
    out.push('}');
    out
}

fn set_size(value: &mut String, size: u64) {
    const AT: usize = "{\"v\":2,\"b\":\"".len();
    let mut digits = [b'0'; SIZE_DIGITS];
    let mut rest = size;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    if rest == 0 && value.len() >= AT + SIZE_DIGITS {
        value.replace_range(AT..AT + SIZE_DIGITS, std::str::from_utf8(&digits).unwrap_or_default());
    }
}

/// The value `{"v":2,"b":"<size>"` + `rest` + `}` for `key`, with `b` the exact size of key plus value.
pub fn sized_value(key: &str, rest: &str) -> (String, u64) {
    let mut out = envelope(rest);
    let size = (key.len() + out.len()) as u64;
    set_size(&mut out, size);
    (out, size)
}

/// The `b` field of a value: its size when it is a well-formed one of ours, checked against `floor`
/// (a size smaller than what the value is known to hold is a lie).
pub fn size_field(value: Val<'_>, floor: u64) -> Option<u64> {
    read_size(value.get("b")?, floor)
}

/// A size field's value: exactly [`SIZE_DIGITS`] decimal digits, at least `floor`.
fn read_size(b: Val<'_>, floor: u64) -> Option<u64> {
    let digits = b.str_units()?;
    if digits.len() != SIZE_DIGITS {
        return None;
    }
    let n = digits.iter().try_fold(0u64, |n, &d| {
        let digit = d.checked_sub(u16::from(b'0')).filter(|d| *d < 10)?;
        Some(n * 10 + u64::from(digit))
    })?;
    (n >= floor).then_some(n)
}

/// Whether a value is of this format.
pub fn is_current(value: Val<'_>) -> bool {
    value.get("v").and_then(Val::as_f64) == Some(f64::from(FORMAT))
}

pub fn write_mark(out: &mut String, mark: &Mark) {
    out.push('[');
    write_f64(out, mark.0 as f64);
    out.push(',');
    write_str(out, &mark.1);
    out.push(']');
}

pub fn read_mark(value: Option<Val<'_>>) -> Option<Mark> {
    let mut items = value?.items();
    mark_of(items.next()?.as_f64()?, items.next())
}

/// A mark from its time and its id (a non-empty string).
fn mark_of(time: f64, id: Option<Val<'_>>) -> Option<Mark> {
    Some((time_of(time)?, id?.as_str().filter(|id| !id.is_empty())?))
}

/// A head's `nm`: `[time, id, code]` (see [`RecordMeta::code`]).
fn read_newest(value: Option<Val<'_>>) -> Option<RecordMeta> {
    let mut items = value?.items();
    newest_of(items.next()?.as_f64()?, items.next(), read_number(items.next()))
}

/// A newest record's index from its time, id and [`RecordMeta::code`].
fn newest_of(time: f64, id: Option<Val<'_>>, code: Option<u64>) -> Option<RecordMeta> {
    let (time, id) = mark_of(time, id)?;
    RecordMeta::from_code(id, time, u32::try_from(code?).ok()?)
}

/// A time in milliseconds: whole, and within what JavaScript holds exactly.
fn time_of(n: f64) -> Option<i64> {
    (n.fract() == 0.0 && n.abs() < 9.0e15).then_some(n as i64)
}

/// An unsigned whole number below 2^53.
fn whole_number(n: f64) -> Option<u64> {
    (n >= 0.0 && n.fract() == 0.0 && n < 9.0e15).then_some(n as u64)
}

/// An unsigned whole number below 2^53.
pub fn read_number(value: Option<Val<'_>>) -> Option<u64> {
    whole_number(value?.as_f64()?)
}

/// A list of [`read_number`]s (none for anything but an array); `None` when one is not such a number.
fn read_numbers(list: Val<'_>) -> Option<Vec<u64>> {
    // Most lists a head holds are empty: no iterator machinery for those.
    if list.is_empty() {
        return Some(Vec::new());
    }
    list.items().map(|n| read_number(Some(n))).collect()
}

/// An unsigned whole number field.
pub fn read_count(value: Val<'_>, name: &str) -> Option<u64> {
    read_number(value.get(name))
}

/// The sealed chunks of a conversation, by sequence number: the multiples of [`SEQ_STEP`] from
/// `first` to `last` except `holes`, plus `extra` (chunks made by splits, between two multiples).
/// In the common case, chunks sealed one after another and evicted from the oldest, this is two
/// numbers however long the history, so the head stays small.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sealed {
    /// 0 when there is no chunk on the main line.
    pub first: u64,
    pub last: u64,
    pub holes: Vec<u64>,
    pub extra: Vec<u64>,
}

impl Sealed {
    /// Every sealed chunk, oldest first.
    pub fn seqs(&self) -> Vec<u64> {
        let mut out: Vec<u64> = Vec::new();
        if self.first > 0 {
            let mut seq = self.first;
            while seq <= self.last {
                if !self.holes.contains(&seq) {
                    out.push(seq);
                }
                seq = seq.saturating_add(SEQ_STEP);
                if seq == u64::MAX {
                    break;
                }
            }
        }
        out.extend(self.extra.iter().copied());
        out.sort_unstable();
        out.dedup();
        out
    }

    pub fn count(&self) -> u64 {
        let main = if self.first > 0 && self.last >= self.first {
            (self.last - self.first) / SEQ_STEP + 1
        } else {
            0
        };
        main.saturating_sub(self.holes.len() as u64).saturating_add(self.extra.len() as u64)
    }

    pub fn contains(&self, seq: u64) -> bool {
        let main = self.first > 0
            && (self.first..=self.last).contains(&seq)
            && seq % SEQ_STEP == 0
            && !self.holes.contains(&seq);
        main || self.extra.contains(&seq)
    }

    /// The number the next sealed chunk takes: after every chunk there is.
    pub fn next_seq(&self) -> u64 {
        let top = self.seqs().last().copied().unwrap_or(0);
        (top / SEQ_STEP + 1).saturating_mul(SEQ_STEP)
    }

    pub fn insert(&mut self, seq: u64) {
        if self.contains(seq) {
            return;
        }
        if seq % SEQ_STEP != 0 {
            self.extra.push(seq);
            self.extra.sort_unstable();
        } else if self.first == 0 {
            self.first = seq;
            self.last = seq;
        } else if seq > self.last {
            let mut gap = self.last.saturating_add(SEQ_STEP);
            while gap < seq {
                self.holes.push(gap);
                gap = gap.saturating_add(SEQ_STEP);
            }
            self.last = seq;
        } else if seq < self.first {
            let mut gap = seq.saturating_add(SEQ_STEP);
            while gap < self.first {
                self.holes.push(gap);
                gap = gap.saturating_add(SEQ_STEP);
            }
            self.first = seq;
        } else {
            self.holes.retain(|&h| h != seq);
        }
        self.holes.sort_unstable();
    }

    pub fn remove(&mut self, seq: u64) {
        if !self.contains(seq) {
            return;
        }
        if seq % SEQ_STEP != 0 {
            self.extra.retain(|&s| s != seq);
            return;
        }
        self.holes.push(seq);
        self.holes.sort_unstable();
        // Trim holes off both ends, so evicting from the oldest end keeps the list empty.
        while self.first > 0 && self.holes.first() == Some(&self.first) {
            self.holes.remove(0);
            self.first = self.first.saturating_add(SEQ_STEP);
            if self.first > self.last {
                self.first = 0;
                self.last = 0;
                self.holes.clear();
                break;
            }
        }
        while self.first > 0 && self.holes.last() == Some(&self.last) {
            self.holes.pop();
            self.last = self.last.saturating_sub(SEQ_STEP);
        }
    }

    pub fn write(&self, out: &mut String) {
        out.push('[');
        write_f64(out, self.first as f64);
        out.push(',');
        write_f64(out, self.last as f64);
        for list in [&self.holes, &self.extra] {
            out.push(',');
            write_numbers(out, list);
        }
        out.push(']');
    }

    pub fn read(value: Val<'_>) -> Option<Sealed> {
        let mut items = value.items();
        let first = read_number(items.next())?;
        let last = read_number(items.next())?;
        let holes = read_numbers(items.next()?)?;
        let extra = read_numbers(items.next()?)?;
        let sealed = Sealed { first, last, holes, extra };
        sealed.is_valid().then_some(sealed)
    }

    /// Whether these are chunks the store could have made: a run of multiples of [`SEQ_STEP`] (or
    /// none, without holes), extras between them, and not millions of them.
    fn is_valid(&self) -> bool {
        let (first, last) = (self.first, self.last);
        let main_ok = (first == 0 && last == 0 && self.holes.is_empty())
            || (first > 0 && first <= last && first % SEQ_STEP == 0 && last % SEQ_STEP == 0);
        let extras_ok = self.extra.iter().all(|s| s % SEQ_STEP != 0 && *s > 0);
        main_ok && extras_ok && self.count() <= 1 << 20
    }
}

/// A head handed over as numbers at opening ([`Head::decode_flat`]): paths into the stored value, a
/// key and at most one index (`nm.0`: item 0 of `nm`), whose values the shim writes as numbers (NaN
/// for what is not a number), ...
pub const HEAD_NUMBERS: [&str; 17] =
    ["v", "t", "u", "f", "n", "lb", "nl", "nm.0", "nm.2", "s.0", "s.1", "sb", "sm.0", "rm.0", "pm.0", "mm.0", "d"];
/// ... then as lengths (an array's length, -1 for what is absent, -2 for what is not an array) ...
pub const HEAD_LENGTHS: [&str; 14] = ["nm", "s", "s.2", "s.3", "sm", "rm", "pm", "mm", "w", "lw", "lh", "t", "nl", "d"];
/// ... and as strings, in a tape array (null for what is not a string).
pub const HEAD_STRINGS: [&str; 7] = ["c", "b", "nm.1", "sm.1", "rm.1", "pm.1", "mm.1"];

/// A head's fields, in the order [`Head::encode`] writes them.
pub const HEAD_FIELDS: [&str; 20] =
    ["v", "b", "c", "t", "u", "f", "n", "lb", "nl", "nm", "s", "sb", "sm", "rm", "pm", "mm", "w", "lw", "lh", "d"];

/// A conversation's head as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Head {
    pub conversation: String,
    /// Time of the newest record.
    pub activity: i64,
    pub unread: u64,
    pub read_mark: Option<Mark>,
    pub peer_read_mark: Option<Mark>,
    pub mention_mark: Option<Mark>,
    /// Loose records are numbered `loose_from..loose_next`.
    pub loose_from: u64,
    pub loose_next: u64,
    /// Bytes (keys plus values) of the loose records.
    pub loose_bytes: u64,
    /// The loose number of the newest record, if it is loose.
    pub newest_loose: Option<u64>,
    /// That record's index, so a conversation list can show it without decoding it (`nm`; heads
    /// written before it lack it, and the record is then read).
    pub newest: Option<RecordMeta>,
    /// Loose numbers in the range whose record is gone (moved to a chunk or removed).
    pub loose_holes: Vec<u64>,
    pub sealed: Sealed,
    pub sealed_bytes: u64,
    /// The newest record in a sealed chunk: newer ones are loose.
    pub sealed_mark: Option<Mark>,
    /// Sealed chunks rewritten in place after this head is written: their sizes are left out of
    /// `sealed_bytes`, and opening reads them (old or new, whichever is there).
    pub rewrites: Vec<u64>,
    /// Loose records rewritten after this head is written, likewise left out of `loose_bytes`.
    pub loose_rewrites: Vec<u64>,
    /// Loose records older than `sealed_mark` (strays): records whose chunk could not be read when
    /// they came. They stay loose, and are read before a record is placed among the sealed ones.
    pub strays: u64,
}

impl Head {
    /// The value to store under `key`, and its size.
    pub fn encode(&self, key: &str) -> (String, u64) {
        let (sealed_bytes, loose_bytes) = (self.sealed_bytes, self.loose_bytes);
        let changes = Changes { sealed_bytes, loose_bytes, rewrites: &self.rewrites, loose_rewrites: &self.loose_rewrites };
        self.encode_with(key, &changes, self.newest.as_ref())
    }

    /// [`Head::encode`] with what a flush decided (byte totals, rewrites, the newest loose record's
    /// index as memory holds it), without copying the head.
    pub fn encode_with(&self, key: &str, changes: &Changes<'_>, newest: Option<&RecordMeta>) -> (String, u64) {
        let Changes { sealed_bytes, loose_bytes, rewrites, loose_rewrites } = *changes;
        // One buffer, the size field written last: where wasm runs interpreted, each copy and
        // each growth of a string costs.
        let mut out = envelope_start(256 + self.conversation.len());
        let number = |out: &mut String, field: &str, n: u64| {
            out.push_str(field);
            write_whole(out, n);
        };
        out.push_str(",\"c\":");
        write_str(&mut out, &self.conversation);
        if self.activity != i64::MIN {
            out.push_str(",\"t\":");
            write_f64(&mut out, self.activity as f64);
        }
        number(&mut out, ",\"u\":", self.unread);
        number(&mut out, ",\"f\":", self.loose_from);
        number(&mut out, ",\"n\":", self.loose_next);
        number(&mut out, ",\"lb\":", loose_bytes);
        if let Some(n) = self.newest_loose {
            number(&mut out, ",\"nl\":", n);
            if let Some(meta) = newest {
                out.push_str(",\"nm\":[");
                write_f64(&mut out, meta.time as f64);
                out.push(',');
                write_str(&mut out, &meta.id);
                out.push(',');
                write_f64(&mut out, f64::from(meta.code()));
                out.push(']');
            }
        }
        out.push_str(",\"s\":");
        self.sealed.write(&mut out);
        number(&mut out, ",\"sb\":", sealed_bytes);
        for (field, mark) in [
            (",\"sm\":", &self.sealed_mark),
            (",\"rm\":", &self.read_mark),
            (",\"pm\":", &self.peer_read_mark),
            (",\"mm\":", &self.mention_mark),
        ] {
            if let Some(mark) = mark {
                out.push_str(field);
                write_mark(&mut out, mark);
            }
        }
        for (field, list) in [(",\"w\":", rewrites), (",\"lw\":", loose_rewrites), (",\"lh\":", &self.loose_holes)] {
            if !list.is_empty() {
                out.push_str(field);
                write_numbers(&mut out, list);
            }
        }
        if self.strays > 0 {
            number(&mut out, ",\"d\":", self.strays);
        }
        out.push('}');
        let size = (key.len() + out.len()) as u64;
        set_size(&mut out, size);
        (out, size)
    }

    /// Reads a head handed over as numbers ([`HEAD_NUMBERS`], then [`HEAD_LENGTHS`]) and strings
    /// ([`HEAD_STRINGS`], a tape array), when it is a well-formed head of the common shape: no rewrites
    /// or holes, its sealed chunks one run. Returns its size; `None` when the head is not of that shape
    /// or not well formed (the head is then partly overwritten), for [`Head::decode_into`] to decide
    /// from the whole value. What it accepts reads exactly as `decode_into` reads it (tested field by field below).
    pub fn decode_flat(&mut self, numbers: &FlatNumbers, strings: Val<'_>, conversation: &str) -> Option<u64> {
        let [v, t, u, f, n, lb, nl, nm_time, nm_code, first, last, sb, sm_time, rm_time, pm_time, mm_time, d, nm, s, holes, extra, sm, rm, pm, mm, w, lw, lh, t_len, nl_len, d_len] = *numbers;
        // Each of the last 14, a length: an array's, -1 for a field that is absent, -2 for one that is
        // not an array.
        let absent = |len: f64| len == -1.0;
        let none_listed = |len: f64| len == -1.0 || len == 0.0;
        if v != f64::from(FORMAT) || s != 4.0 || holes != 0.0 || extra != 0.0 {
            return None;
        }
        if !(none_listed(w) && none_listed(lw) && none_listed(lh)) {
            return None;
        }
        let mut items = strings.items();
        let (c, b, nm_id, sm_id) = (items.next()?, items.next()?, items.next(), items.next());
        let (rm_id, pm_id, mm_id) = (items.next(), items.next(), items.next());
        if !c.is_str(conversation) {
            return None;
        }
        let size = read_size(b, 0)?;
        // A mark: absent, or `[time, id]` that reads; anything else is read whole.
        let mark = |len: f64, at: f64, id: Option<Val<'_>>| match len {
            -1.0 => Some(None),
            2.0 => mark_of(at, id).map(Some),
            _ => None,
        };
        let newest = match nm {
            -1.0 => None,
            3.0 => Some(newest_of(nm_time, nm_id, whole_number(nm_code))?),
            _ => return None,
        };
        self.conversation.clear();
        self.conversation.push_str(conversation);
        self.activity = if absent(t_len) { i64::MIN } else { time_of(t)? };
        self.unread = whole_number(u)?;
        self.read_mark = mark(rm, rm_time, rm_id)?;
        self.peer_read_mark = mark(pm, pm_time, pm_id)?;
        self.mention_mark = mark(mm, mm_time, mm_id)?;
        self.loose_from = whole_number(f)?;
        self.loose_next = whole_number(n)?;
        self.loose_bytes = whole_number(lb)?;
        self.newest_loose = if absent(nl_len) { None } else { Some(whole_number(nl)?) };
        self.newest = self.newest_loose.and(newest);
        self.loose_holes = Vec::new();
        self.sealed = Sealed { first: whole_number(first)?, last: whole_number(last)?, holes: Vec::new(), extra: Vec::new() };
        self.sealed_bytes = whole_number(sb)?;
        self.sealed_mark = mark(sm, sm_time, sm_id)?;
        self.rewrites = Vec::new();
        self.loose_rewrites = Vec::new();
        self.strays = if absent(d_len) { 0 } else { whole_number(d)? };
        (self.sealed.is_valid() && self.is_consistent()).then_some(size)
    }

    /// Reads a head of `conversation` into this one, whole or as [`Shape::Head`](super::Shape::Head)
    /// projects it (its fields by place, `null` for one it lacks); `None` when the value is not a
    /// well-formed one (the head is then partly overwritten). Returns the head's stored size. In place,
    /// not returned: a head is some 300 bytes, and each move of it a copy the interpreter pays for.
    pub fn decode_into(&mut self, value: Val<'_>, conversation: &str) -> Option<u64> {
        // By place as Shape::Head projects it, or whole in the order encode writes them: one pass.
        let [v, b, c, t, u, f, n, lb, nl, nm, s, sb, sm, rm, pm, mm, w, lw, lh, d] = value.placed(HEAD_FIELDS);
        if v?.as_f64() != Some(f64::from(FORMAT)) || !c?.is_str(conversation) {
            return None;
        }
        let size = read_size(b?, 0)?;
        let activity = match t {
            None => i64::MIN,
            Some(t) => time_of(t.as_f64()?)?,
        };
        let numbers = |list: Option<Val<'_>>| list.map_or(Some(Vec::new()), read_numbers);
        self.conversation.clear();
        self.conversation.push_str(conversation);
        self.activity = activity;
        self.unread = read_number(u)?;
        self.read_mark = read_mark(rm);
        self.peer_read_mark = read_mark(pm);
        self.mention_mark = read_mark(mm);
        self.loose_from = read_number(f)?;
        self.loose_next = read_number(n)?;
        self.loose_bytes = read_number(lb)?;
        self.newest_loose = match nl {
            None => None,
            Some(_) => Some(read_number(nl)?),
        };
        // One that does not read is left out: the record is then read for the list.
        self.newest = self.newest_loose.and(read_newest(nm));
        self.loose_holes = numbers(lh)?;
        self.sealed = Sealed::read(s?)?;
        self.sealed_bytes = read_number(sb)?;
        self.sealed_mark = read_mark(sm);
        self.rewrites = numbers(w)?;
        self.loose_rewrites = numbers(lw)?;
        self.strays = match d {
            None => 0,
            Some(_) => read_number(d)?,
        };
        self.is_consistent().then_some(size)
    }

    /// Whether the head's loose range, holes, rewrites, newest loose record and strays agree.
    fn is_consistent(&self) -> bool {
        let (loose_from, loose_next) = (self.loose_from, self.loose_next);
        let live = loose_from..loose_next;
        loose_from <= loose_next
            && loose_next - loose_from <= 1 << 16
            && self.loose_holes.iter().chain(&self.loose_rewrites).all(|n| live.contains(n))
            && self.rewrites.iter().all(|s| self.sealed.contains(*s))
            && self.newest_loose.is_none_or(|n| live.contains(&n) && !self.loose_holes.contains(&n))
            && self.strays <= loose_next - loose_from
    }
}

/// The envelope of a sealed chunk, `{"v":2,"b":…,"c":…,"s":…}`, to which the shim (or the native
/// backend) adds `"r":[records]` as the last key; and the chunk's size given its records' JSON bytes.
pub fn chunk_envelope(key: &str, conversation: &str, seq: u64, record_bytes: &[u64]) -> (String, u64) {
    let mut rest = String::new();
    rest.push_str(",\"c\":");
    write_str(&mut rest, conversation);
    rest.push_str(",\"s\":");
    write_f64(&mut rest, seq as f64);
    let mut out = envelope(&rest);
    let records = record_bytes.iter().sum::<u64>() + record_bytes.len().saturating_sub(1) as u64;
    // The envelope's closing brace gives way to `,"r":[` + records + `]}`.
    let size = (key.len() + out.len() - 1) as u64 + records + ",\"r\":[]}".len() as u64;
    set_size(&mut out, size);
    (out, size)
}

/// What a sealed chunk's envelope says: its size, and whether it is of `conversation`.
pub fn chunk_size(value: Val<'_>, conversation: &str) -> Option<u64> {
    if !is_current(value) || !value.get("c")?.is_str(conversation) {
        return None;
    }
    if !matches!(value.get("r")?.kind(), TapeKind::Array) {
        return None;
    }
    size_field(value, 0)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::tape::Tape;

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
            (keys.head("single:a/b"), Some(KeyName::Head("single:a/b".into()))),
            (keys.loose("group:g", 7), Some(KeyName::Loose("group:g".into(), 7))),
            (keys.chunk("group:g", 2048), Some(KeyName::Chunk("group:g".into(), 2048))),
            (keys.state(), Some(KeyName::State)),
            (keys.extra("profiles"), Some(KeyName::Extra("profiles".into()))),
            ("mpchat/2/al%2Fice/r/group:g/07".into(), Some(KeyName::Foreign)),
            ("mpchat/2/al%2Fice/h/groupChat:g".into(), Some(KeyName::Foreign)),
            ("mpchat/2/al%2Fice/junk".into(), Some(KeyName::Foreign)),
            (
                "mpchat/1/al%2Fice/c/group:g/0000000100000000".into(),
                Some(KeyName::V1Chunk("group:g".into(), 1 << 32)),
            ),
            ("mpchat/1/al%2Fice/state".into(), Some(KeyName::V1Other)),
            ("mpchat/2/al/ice/s".into(), None),
            ("group_g1".into(), None),
        ];
        for (key, want) in table {
            assert_eq!(keys.parse(&key), want, "{key}");
        }
    }

    #[test]
    fn keys_in_three_parts_are_the_keys() {
        let keys = Keys::new("al/ice");
        let (loose, chunk) = keys.roots();
        assert_eq!(format!("{loose}{}7", Keys::numbered("single:a/b")), keys.loose("single:a/b", 7));
        assert_eq!(format!("{chunk}{}2048", Keys::numbered("group:g")), keys.chunk("group:g", 2048));
    }

    fn tape_of(json: &str) -> Tape {
        Tape::full(&serde_json::from_str(json).unwrap())
    }

    /// A head read into a fresh one, and its size.
    fn decoded(value: Val<'_>, conversation: &str) -> Option<(Head, u64)> {
        let mut head = Head::default();
        head.decode_into(value, conversation).map(|size| (head, size))
    }

    /// A head as the shim hands it over by [`HEAD_NUMBERS`], [`HEAD_LENGTHS`] and [`HEAD_STRINGS`]
    /// (js-glue/host.js `flatHead`): each path walked through objects and arrays only.
    fn flattened(value: &serde_json::Value) -> (FlatNumbers, Tape) {
        use serde_json::Value;
        let at = |path: &str| {
            path.split('.').try_fold(value, |v, step| match (v, step.parse::<usize>()) {
                (Value::Array(items), Ok(i)) => items.get(i),
                (Value::Object(map), _) => map.get(step),
                _ => None,
            })
        };
        let mut numbers = [0.0; HEAD_NUMBERS.len() + HEAD_LENGTHS.len()];
        for (slot, path) in numbers.iter_mut().zip(HEAD_NUMBERS) {
            *slot = at(path).and_then(Value::as_f64).unwrap_or(f64::NAN);
        }
        for (slot, path) in numbers[HEAD_NUMBERS.len()..].iter_mut().zip(HEAD_LENGTHS) {
            *slot = match at(path) {
                Some(Value::Array(items)) => items.len() as f64,
                None => -1.0,
                Some(_) => -2.0,
            };
        }
        let strings: Vec<Value> = HEAD_STRINGS.iter().map(|path| at(path).filter(|v| v.is_string()).cloned().unwrap_or(Value::Null)).collect();
        (numbers, Tape::full(&Value::Array(strings)))
    }

    #[test]
    fn a_head_handed_over_as_numbers_reads_as_the_whole_value_reads() {
        use serde_json::{json, Value};
        let key = "mpchat/2/me/h/group:g";
        let common = Head {
            conversation: "group:g".into(),
            activity: 1_767_225_600_000,
            unread: 3,
            loose_from: 40,
            loose_next: 52,
            loose_bytes: 9_876,
            newest_loose: Some(51),
            newest: RecordMeta::from_code("n51".into(), 1_767_225_600_000, 8 + 1 + 32),
            sealed: Sealed { first: SEQ_STEP, last: 4 * SEQ_STEP, ..Sealed::default() },
            sealed_bytes: 12_345,
            sealed_mark: Some((1_767_225_000_000, "x\"y".into())),
            mention_mark: Some((1_767_225_500_000, "m9".into())),
            strays: 2,
            ..Head::default()
        };
        let base: Value = serde_json::from_str(&common.encode(key).0).unwrap();
        // The head itself, then each field removed, null, and given values of every kind.
        let mut heads = vec![base.clone()];
        let others = [
            json!(null), json!(-1), json!(0), json!(1.5), json!(2), json!(3), json!(1e16), json!(SEQ_STEP), json!("x"),
            json!(""), json!("0000000999"), json!([]), json!([1]), json!([1, "a"]), json!([1, "a", 1]), json!([1.5, "a", 1]),
            json!([1, "", 1]), json!([1, "a", 99]), json!([0, 0, [], []]), json!([1, 1, [], []]), json!([SEQ_STEP, 0, [], []]),
            json!([SEQ_STEP, SEQ_STEP, [SEQ_STEP], []]), json!([SEQ_STEP, SEQ_STEP, [], [7]]), json!([SEQ_STEP, SEQ_STEP, 5, []]),
            json!({"0": 1}), json!(true),
        ];
        for field in HEAD_FIELDS {
            let mut removed = base.clone();
            removed.as_object_mut().unwrap().remove(field);
            heads.push(removed);
            for other in &others {
                let mut changed = base.clone();
                changed[field] = other.clone();
                heads.push(changed);
            }
        }
        let mut taken = 0;
        for value in heads {
            let whole = {
                let mut head = Head::default();
                head.decode_into(Tape::full(&value).root(), "group:g").map(|size| (head, size))
            };
            let (numbers, strings) = flattened(&value);
            let mut head = Head::default();
            if let Some(size) = head.decode_flat(&numbers, strings.root(), "group:g") {
                assert_eq!(Some((head, size)), whole, "{value}");
                taken += 1;
            }
        }
        // The shim walks a key and at most an index.
        assert!(HEAD_NUMBERS.iter().chain(&HEAD_LENGTHS).chain(&HEAD_STRINGS).all(|path| path.split('.').count() <= 2));
        // The common head, and the variants of it that are still of the common shape, go the short way.
        assert!(taken > 40, "{taken} heads read as numbers");
        let (numbers, strings) = flattened(&base);
        assert_eq!(Head::default().decode_flat(&numbers, strings.root(), "group:g"), Some(common.encode(key).1));
    }

    #[test]
    fn values_carry_their_exact_size() {
        let key = "mpchat/2/me/h/group:g";
        let head = Head {
            conversation: "group:g".into(),
            activity: 1_767_225_600_000,
            unread: 3,
            read_mark: Some((1_767_225_500_000, "9".into())),
            loose_from: 40,
            loose_next: 52,
            loose_bytes: 9_876,
            newest_loose: Some(51),
            newest: RecordMeta::from_code("n\"51".into(), 1_767_225_600_000, 8 + 1 + 32),
            loose_holes: vec![44],
            sealed: Sealed { first: SEQ_STEP, last: 4 * SEQ_STEP, holes: vec![2 * SEQ_STEP], extra: vec![SEQ_STEP + 7] },
            sealed_bytes: 12_345,
            sealed_mark: Some((1_767_225_000_000, "x\"y".into())),
            rewrites: vec![4 * SEQ_STEP],
            loose_rewrites: vec![45],
            strays: 2,
            ..Head::default()
        };
        let (text, size) = head.encode(key);
        assert_eq!(size, (key.len() + text.len()) as u64);
        let tape = tape_of(&text);
        assert_eq!(decoded(tape.root(), "group:g"), Some((head.clone(), size)));
        assert_eq!(decoded(tape.root(), "group:h"), None);
        // By place, as opening reads it: the same head.
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let placed = Tape::from_json(&value, &crate::store::Shape::Head.projection(), &mut |_| 0);
        assert_eq!(placed.root().len(), HEAD_FIELDS.len());
        assert_eq!(decoded(placed.root(), "group:g"), Some((head.clone(), size)));
        assert!(text.contains(r#""nl":51,"nm":[1767225600000,"n\"51",41]"#), "{text}");
        // A newest index that does not read leaves the head readable, without it.
        for nm in ["[1,\"a\",64]", "[1,\"\",1]", "[1.5,\"a\",1]", "\"x\""] {
            let broken = text.replacen(r#"[1767225600000,"n\"51",41]"#, nm, 1);
            let read = decoded(tape_of(&broken).root(), "group:g").map(|(h, _)| h);
            assert_eq!(read, Some(Head { newest: None, ..head.clone() }), "{nm}");
        }

        let chunk_key = "mpchat/2/me/c/group:g/1024";
        let records = [r#"{"id":"a"}"#, r#"{"id":"中文"}"#];
        let bytes: Vec<u64> = records.iter().map(|r| r.len() as u64).collect();
        let (envelope, size) = chunk_envelope(chunk_key, "group:g", 1024, &bytes);
        let whole = format!("{},\"r\":[{}]}}", envelope.trim_end_matches('}'), records.join(","));
        assert_eq!(size, (chunk_key.len() + whole.len()) as u64, "{whole}");
        assert_eq!(chunk_size(tape_of(&whole).root(), "group:g"), Some(size));
        assert_eq!(chunk_size(tape_of(&envelope).root(), "group:g"), None, "no records array");
    }

    #[test]
    fn sealed_chunks_stay_two_numbers_when_evicted_from_the_oldest() {
        let mut sealed = Sealed::default();
        let s = SEQ_STEP;
        for i in 1..=5 {
            sealed.insert(i * s);
        }
        assert_eq!(sealed.count(), 5);
        sealed.insert(s + s / 2);
        assert_eq!(sealed.seqs(), [s, s + s / 2, 2 * s, 3 * s, 4 * s, 5 * s]);
        sealed.remove(s);
        sealed.remove(2 * s);
        assert_eq!((sealed.first, sealed.last, sealed.holes.clone()), (3 * s, 5 * s, vec![]));
        sealed.remove(4 * s);
        assert_eq!(sealed.holes, [4 * s]);
        assert_eq!(sealed.next_seq(), 6 * s);
        let mut text = String::new();
        sealed.write(&mut text);
        assert_eq!(Sealed::read(tape_of(&text).root()), Some(sealed.clone()));
        for seq in [3 * s, 5 * s, s + s / 2] {
            sealed.remove(seq);
        }
        assert_eq!(sealed, Sealed::default());
        assert_eq!(Sealed::read(tape_of("[4294967296,1000,[],[]]").root()), None);
    }
}
