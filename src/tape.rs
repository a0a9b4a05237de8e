//! Values handed over from JavaScript as a flat tape of UTF-16 units, read in place.
//!
//! Why a tape and not JSON text: on iPhones the wasm and the shim run interpreted. There, parsing JSON
//! in wasm costs about a microsecond per byte and every character moved through a JS codec costs a
//! fifth of one, while the engine's own property reads stay cheap. So the shim walks a JS value once
//! and writes only what a [`Projection`] asks for (a message's text, for one, never crosses: only its
//! length does), and the core reads the tape where it lies, decoding just the strings it keeps.
//! Natively (tests, fuzzing) [`Tape::from_json`] writes the same tape from a `serde_json::Value`.
//!
//! A malformed tape never panics: what cannot be read reads as absent or `null`.
//!
//! Layout (each item starts with a tag unit; 32-bit numbers are two units, low first):
//! - `NULL`, `FALSE`, `TRUE`, `DEEP` (nesting or size limit reached: cycles end here);
//! - `NUM` + 4 units of the f64's bits;
//! - `STR` + length + units;  `LEN` + UTF-16 length + UTF-8 length (`u32::MAX` when not measured):
//!   a string whose content was left out;
//! - `ARR` + count + span + items;  `OBJ` + count + span + (key length, key units, value)*, where span
//!   is the number of units after the header, so a reader skips a container in one step;
//! - `PLACED` + count + span + values: an object written by place ([`Projection::Fields`]), the values
//!   of named fields in a fixed order, `NULL` for one it lacks; it reads as an object;
//! - `DEPTH` + n: a value left out, n levels deep (0 for a scalar);
//! - `DOC` + handle, then the value: the shim keeps that JS value and names it by the handle.

use std::borrow::Cow;

pub const NULL: u16 = 0;
pub const FALSE: u16 = 1;
pub const TRUE: u16 = 2;
pub const NUM: u16 = 3;
pub const STR: u16 = 4;
pub const LEN: u16 = 5;
pub const ARR: u16 = 6;
pub const OBJ: u16 = 7;
pub const DEPTH: u16 = 8;
pub const DEEP: u16 = 9;
pub const DOC: u16 = 10;
pub const PLACED: u16 = 11;

/// Deepest nesting written in full; deeper values are `DEEP`. Above every limit the core enforces.
pub const MAX_NESTING: usize = 64;

/// What part of a value to put on the tape.
#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// Left out entirely (an object key is not written; an array item becomes `null`).
    Skip,
    /// All of it, to [`MAX_NESTING`] levels.
    Full,
    /// A string as its lengths only (`LEN`); anything else in full.
    Length,
    /// Its nesting depth only (`DEPTH`).
    Depth,
    /// An object: the listed keys projected as given, every other key as `other`.
    /// Anything that is not an object is written in full.
    Object(Vec<(String, Projection)>, Box<Projection>),
    /// An array: each item projected as given. Anything else is written in full.
    Items(Box<Projection>),
    /// The value is kept by the shim as a document (`DOC` + handle), then projected as given.
    Doc(Box<Projection>),
    /// An object as the named entries' values (`PLACED`), each projected as given, `null` for one it
    /// lacks: no key crosses, and the reader finds each value by its place ([`Val::placed`]).
    /// Anything else is written in full.
    Fields(Vec<(String, Projection)>),
}

impl Projection {
    pub fn object<'a>(keys: impl IntoIterator<Item = (&'a str, Projection)>, other: Projection) -> Self {
        Projection::Object(
            keys.into_iter().map(|(k, p)| (k.to_string(), p)).collect(),
            Box::new(other),
        )
    }

    /// [`Projection::Fields`] of `fields`, in that order.
    pub fn fields<'a>(fields: impl IntoIterator<Item = (&'a str, Projection)>) -> Self {
        Projection::Fields(fields.into_iter().map(|(k, p)| (k.to_string(), p)).collect())
    }

    /// The projection as the shim reads it: `0` skip, `1` full, `"len"`, `"depth"`,
    /// `{"k": {key: p}, "o": p}`, `{"i": p}`, `{"d": p}`, `{"f": [[key, p], …]}`.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Projection::Skip => out.push('0'),
            Projection::Full => out.push('1'),
            Projection::Length => out.push_str("\"len\""),
            Projection::Depth => out.push_str("\"depth\""),
            Projection::Object(keys, other) => {
                out.push_str("{\"k\":{");
                for (i, (key, p)) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    crate::json::write_str(out, key);
                    out.push(':');
                    p.write_json(out);
                }
                out.push_str("},\"o\":");
                other.write_json(out);
                out.push('}');
            }
            Projection::Items(item) => {
                out.push_str("{\"i\":");
                item.write_json(out);
                out.push('}');
            }
            Projection::Doc(inner) => {
                out.push_str("{\"d\":");
                inner.write_json(out);
                out.push('}');
            }
            Projection::Fields(fields) => {
                out.push_str("{\"f\":[");
                for (i, (name, p)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('[');
                    crate::json::write_str(out, name);
                    out.push(',');
                    p.write_json(out);
                    out.push(']');
                }
                out.push_str("]}");
            }
        }
    }
}

/// An owned tape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tape {
    units: Vec<u16>,
}

impl Tape {
    pub fn new(units: Vec<u16>) -> Self {
        Tape { units }
    }

    pub fn units(&self) -> &[u16] {
        &self.units
    }

    /// The value the tape holds (`null` for an empty tape).
    pub fn root(&self) -> Val<'_> {
        Val::root_of(&self.units)
    }
}

/// What a value on the tape is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Number(f64),
    String,
    /// A string whose content was left out.
    Lengths { utf16: u32, utf8: Option<u32> },
    Array,
    Object,
    /// A value left out, with its nesting depth.
    Depth(u16),
    /// Deeper or larger than the shim would write.
    Deep,
}

/// One value on a tape.
#[derive(Debug, Clone, Copy)]
pub struct Val<'t> {
    tape: &'t [u16],
    /// Where the value's tag is (past any `DOC` prefix).
    at: usize,
    doc: Option<u32>,
}

#[inline(always)]
fn unit(tape: &[u16], at: usize) -> u16 {
    tape.get(at).copied().unwrap_or(NULL)
}

#[inline(always)]
fn u32_at(tape: &[u16], at: usize) -> u32 {
    // One bounds check for both units: interpreted, each check is a few instructions more.
    match tape.get(at..).and_then(|rest| rest.get(..2)) {
        Some(&[low, high]) => u32::from(low) | u32::from(high) << 16,
        _ => u32::from(unit(tape, at)),
    }
}

#[inline(always)]
fn units_at(tape: &[u16], at: usize, len: u32) -> &[u16] {
    let end = at.saturating_add(len as usize).min(tape.len());
    tape.get(at.min(end)..end).unwrap_or(&[])
}

/// Decodes UTF-16 (lone surrogates become U+FFFD), with a fast path for ASCII.
pub fn decode_utf16(units: &[u16]) -> String {
    // ASCII in one pass, each unit checked as it is copied: ids and names cross here by the thousand
    // when a store opens.
    let mut ascii = true;
    let bytes: Vec<u8> = units
        .iter()
        .map(|&u| {
            ascii &= u < 0x80;
            u as u8
        })
        .collect();
    if ascii {
        // SAFETY: every unit was below 0x80, so the bytes are ASCII, valid UTF-8.
        return unsafe { String::from_utf8_unchecked(bytes) };
    }
    char::decode_utf16(units.iter().copied()).map(|c| c.unwrap_or('\u{FFFD}')).collect()
}

/// Bytes of `units` as UTF-8 (a lone surrogate counts as U+FFFD, three bytes).
fn utf8_len(units: &[u16]) -> u64 {
    let mut bytes = 0u64;
    let mut i = 0;
    while let Some(&u) = units.get(i) {
        let high = (0xD800..0xDC00).contains(&u);
        let paired = high && units.get(i + 1).is_some_and(|l| (0xDC00..0xE000).contains(l));
        bytes += match u {
            _ if paired => 4,
            0..=0x7F => 1,
            0x80..=0x7FF => 2,
            _ => 3,
        };
        i += if paired { 2 } else { 1 };
    }
    bytes
}

pub(crate) fn eq_units(units: &[u16], text: &str) -> bool {
    let bytes = text.as_bytes();
    // Text takes at least as many UTF-8 bytes as UTF-16 units, as many only when it is ASCII (every
    // key the core looks up): then unit for byte. Most keys compared are told apart by length alone.
    if units.len() == bytes.len() {
        return units.iter().zip(bytes).all(|(&u, &b)| b < 0x80 && u == u16::from(b));
    }
    if units.len() > bytes.len() || bytes.is_ascii() {
        return false;
    }
    let mut it = units.iter();
    for u in text.encode_utf16() {
        if it.next() != Some(&u) {
            return false;
        }
    }
    it.next().is_none()
}

impl<'t> Val<'t> {
    /// The value a tape of `units` holds.
    pub fn root_of(units: &'t [u16]) -> Self {
        Val::at(units, 0)
    }

    #[inline(always)]
    fn at(tape: &'t [u16], mut at: usize) -> Self {
        let mut doc = None;
        if unit(tape, at) == DOC {
            doc = Some(u32_at(tape, at + 1));
            at += 3;
        }
        Val { tape, at, doc }
    }

    #[inline(always)]
    fn tag(self) -> u16 {
        unit(self.tape, self.at)
    }

    /// Units this value takes on the tape, from its tag.
    #[inline(always)]
    fn width(self) -> usize {
        let header = match self.tag() {
            NUM => 5,
            STR => 3 + u32_at(self.tape, self.at + 1) as usize,
            LEN => 5,
            ARR | OBJ | PLACED => 5 + u32_at(self.tape, self.at + 3) as usize,
            DEPTH => 2,
            _ => 1,
        };
        header.max(1)
    }

    /// Where the next value starts, with the `DOC` prefix counted as part of this one.
    #[inline(always)]
    fn end(self) -> usize {
        self.at.saturating_add(self.width())
    }

    pub fn kind(self) -> Kind {
        match self.tag() {
            NULL => Kind::Null,
            FALSE => Kind::Bool(false),
            TRUE => Kind::Bool(true),
            NUM => match self.number() {
                Some(n) => Kind::Number(n),
                None => Kind::Null,
            },
            STR => Kind::String,
            LEN => {
                let utf8 = u32_at(self.tape, self.at + 3);
                Kind::Lengths {
                    utf16: u32_at(self.tape, self.at + 1),
                    utf8: (utf8 != u32::MAX).then_some(utf8),
                }
            }
            ARR => Kind::Array,
            OBJ | PLACED => Kind::Object,
            DEPTH => Kind::Depth(unit(self.tape, self.at + 1)),
            DEEP => Kind::Deep,
            _ => Kind::Null,
        }
    }

    /// The document handle the shim gave this value, if any.
    pub fn doc(self) -> Option<u32> {
        self.doc
    }

    /// Whether `kind()` is `Kind::Null` (a non-finite number and an unknown tag are null too), told from
    /// the tag and a number's exponent bits alone: nothing is decoded.
    pub fn is_null(self) -> bool {
        match self.tag() {
            FALSE | TRUE | STR | LEN | ARR | OBJ | PLACED | DEPTH | DEEP => false,
            NUM => unit(self.tape, self.at + 4) & 0x7ff0 == 0x7ff0,
            _ => true,
        }
    }

    pub fn as_bool(self) -> Option<bool> {
        match self.kind() {
            Kind::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_f64(self) -> Option<f64> {
        // Not through `kind`: stores read numbers by the dozen, and here each step is interpreted.
        if self.tag() != NUM {
            return None;
        }
        self.number()
    }

    /// The finite number of a `NUM` item (the tag is checked by the caller).
    fn number(self) -> Option<f64> {
        // One bounds check for the four units; a tape cut short reads its missing units as 0.
        let [a, b, c, d] = match self.tape.get(self.at + 1..).and_then(|rest| rest.get(..4)) {
            Some(&[a, b, c, d]) => [a, b, c, d],
            _ => [1, 2, 3, 4].map(|i| unit(self.tape, self.at + i)),
        };
        let n = f64::from_bits(u64::from(a) | u64::from(b) << 16 | u64::from(c) << 32 | u64::from(d) << 48);
        n.is_finite().then_some(n)
    }

    /// The UTF-16 units of a string, undecoded; `None` for anything else.
    pub fn str_units(self) -> Option<&'t [u16]> {
        (self.tag() == STR).then(|| units_at(self.tape, self.at + 3, u32_at(self.tape, self.at + 1)))
    }

    /// The string, decoded; `None` for anything else (a left-out string included).
    pub fn as_str(self) -> Option<String> {
        self.str_units().map(decode_utf16)
    }

    /// `read` of the string, decoded on the stack when it is short ASCII (a message type, a kind):
    /// no allocation; `None` for anything else (a left-out string included).
    pub fn with_str<R>(self, read: impl FnOnce(&str) -> R) -> Option<R> {
        let units = self.str_units()?;
        let mut short = [0u8; 16];
        if units.len() <= short.len() {
            let mut ascii = true;
            for (byte, &unit) in short.iter_mut().zip(units) {
                ascii &= unit < 0x80;
                *byte = unit as u8;
            }
            if ascii {
                // SAFETY: every byte is below 0x80, so the bytes are ASCII and ASCII is UTF-8.
                return Some(read(unsafe { std::str::from_utf8_unchecked(&short[..units.len()]) }));
            }
        }
        Some(read(&decode_utf16(units)))
    }

    /// Whether the value is the string `text`, compared without decoding.
    pub fn is_str(self, text: &str) -> bool {
        self.str_units().is_some_and(|u| eq_units(u, text))
    }

    pub fn is_string(self) -> bool {
        matches!(self.kind(), Kind::String | Kind::Lengths { .. })
    }

    /// UTF-16 length of a string, written or left out.
    pub fn utf16_len(self) -> Option<u32> {
        match self.kind() {
            Kind::String => Some(u32_at(self.tape, self.at + 1)),
            Kind::Lengths { utf16, .. } => Some(utf16),
            _ => None,
        }
    }

    /// UTF-8 length of a string: exact, or for a left-out string that was not measured, the bound
    /// of three bytes per UTF-16 unit.
    pub fn utf8_len(self) -> Option<u64> {
        match self.kind() {
            Kind::String => self.str_units().map(utf8_len),
            Kind::Lengths { utf16, utf8 } => Some(utf8.map_or(u64::from(utf16) * 3, u64::from)),
            _ => None,
        }
    }

    /// Entry `key` of an object (JavaScript objects hold a key once).
    pub fn get(self, key: &str) -> Option<Val<'t>> {
        let bytes = key.as_bytes();
        if !bytes.is_ascii() {
            return self.entries().find(|(k, _)| k.is(key)).map(|(_, v)| v);
        }
        // The hot path of every lookup: lengths first, then units against bytes.
        let (mut at, end, mut left) = self.children(OBJ);
        while left > 0 && at < end {
            left -= 1;
            let len = u32_at(self.tape, at) as usize;
            let name = units_at(self.tape, at + 2, len as u32);
            let value = Val::at(self.tape, at.saturating_add(2 + len));
            if name.len() == bytes.len() && name.iter().zip(bytes).all(|(&u, &b)| u == u16::from(b)) {
                return Some(value);
            }
            at = value.end();
        }
        None
    }

    /// Entries `names` of an object, each as [`Val::get`] finds it, in one pass over the object: one
    /// key comparison per entry when the keys come in the order asked (as the core writes them).
    pub fn fields<const N: usize>(self, names: [&str; N]) -> [Option<Val<'t>>; N] {
        let mut found = [None; N];
        let mut next = 0;
        for (key, value) in self.entries() {
            let hit = (0..N).map(|i| (next + i) % N).find(|&i| key.is(names[i]));
            if let Some(i) = hit {
                if found[i].is_none() {
                    found[i] = Some(value);
                }
                next = i + 1;
            }
        }
        found
    }

    /// The fields `names` of an object, by place when it came by place (in the order of `names`), else
    /// as [`Val::fields`] finds them; all absent for anything but an object. A `null` is absent.
    pub fn placed<const N: usize>(self, names: [&str; N]) -> [Option<Val<'t>>; N] {
        if self.tag() != PLACED {
            return self.fields(names);
        }
        let mut found = [None; N];
        let (at, end, left) = self.children(PLACED);
        for (slot, item) in found.iter_mut().zip(Items { tape: self.tape, at, end, left }) {
            *slot = (!item.is_null()).then_some(item);
        }
        found
    }

    /// Items of an array (nothing for anything else).
    pub fn items(self) -> Items<'t> {
        let (at, end, count) = self.children(ARR);
        Items { tape: self.tape, at, end, left: count }
    }

    /// Entries of an object in tape order (nothing for anything else).
    pub fn entries(self) -> Entries<'t> {
        let (at, end, count) = self.children(OBJ);
        Entries { tape: self.tape, at, end, left: count }
    }

    fn children(self, tag: u16) -> (usize, usize, u32) {
        if self.tag() != tag {
            return (0, 0, 0);
        }
        let start = self.at + 5;
        let end = start.saturating_add(u32_at(self.tape, self.at + 3) as usize).min(self.tape.len());
        (start, end, u32_at(self.tape, self.at + 1))
    }

    pub fn len(self) -> usize {
        match self.tag() {
            ARR | OBJ | PLACED => u32_at(self.tape, self.at + 1) as usize,
            _ => 0,
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Levels of nesting: 0 for a scalar, 1 for `[]` or `{}`, … `usize::MAX` for `DEEP`.
    /// Iterative, so a deep tape cannot exhaust the stack.
    pub fn depth(self) -> usize {
        if let Some(depth) = self.flat_depth() {
            return depth;
        }
        let mut deepest = 0usize;
        let mut stack = vec![(self, 0usize)];
        while let Some((v, above)) = stack.pop() {
            let here = match v.kind() {
                Kind::Deep => return usize::MAX,
                Kind::Depth(d) => usize::from(d),
                Kind::Array | Kind::Object => 1,
                _ => 0,
            };
            deepest = deepest.max(above + here);
            stack.extend(v.items().map(|c| (c, above + 1)));
            stack.extend(v.entries().map(|(_, c)| (c, above + 1)));
        }
        deepest
    }

    /// [`Val::depth`] of a scalar, or of a container holding no container (a message's ext, whose
    /// other keys the shim measured already), without a stack to allocate; `None` otherwise.
    fn flat_depth(self) -> Option<usize> {
        let leaf = |v: Val<'_>| match v.kind() {
            Kind::Deep => Some(usize::MAX),
            Kind::Depth(d) => Some(usize::from(d)),
            Kind::Array | Kind::Object => None,
            _ => Some(0),
        };
        if !matches!(self.kind(), Kind::Array | Kind::Object) {
            return leaf(self);
        }
        let mut deepest = 0;
        for child in self.items().chain(self.entries().map(|(_, v)| v)) {
            deepest = deepest.max(leaf(child)?);
        }
        Some(deepest.saturating_add(1))
    }

    /// How the value reads in an error message: its type with an article ("a number", "null").
    pub fn describe(self) -> &'static str {
        match self.kind() {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Number(_) => "a number",
            Kind::String | Kind::Lengths { .. } => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
            Kind::Depth(_) | Kind::Deep => "a value nested too deep",
        }
    }

    /// The value as JSON text (for error messages and small passthrough values). Left-out parts
    /// write as `null`.
    pub fn to_json(self) -> String {
        let mut out = String::new();
        self.write_json(&mut out, 0);
        out
    }

    fn write_json(self, out: &mut String, depth: usize) {
        match self.kind() {
            Kind::Null | Kind::Depth(_) | Kind::Deep | Kind::Lengths { .. } => out.push_str("null"),
            Kind::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Kind::Number(n) => crate::json::write_f64(out, n),
            Kind::String => crate::json::write_str(out, &self.as_str().unwrap_or_default()),
            Kind::Array if depth < MAX_NESTING => {
                out.push('[');
                for (i, item) in self.items().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out, depth + 1);
                }
                out.push(']');
            }
            Kind::Object if depth < MAX_NESTING => {
                out.push('{');
                for (i, (key, value)) in self.entries().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    crate::json::write_str(out, &key.to_string());
                    out.push(':');
                    value.write_json(out, depth + 1);
                }
                out.push('}');
            }
            Kind::Array | Kind::Object => out.push_str("null"),
        }
    }
}

/// An object key on the tape.
#[derive(Debug, Clone, Copy)]
pub struct Key<'t>(&'t [u16]);

impl Key<'_> {
    pub fn is(self, text: &str) -> bool {
        eq_units(self.0, text)
    }
}

impl std::fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&decode_utf16(self.0))
    }
}

impl<'t> Key<'t> {
    pub fn as_cow(self) -> Cow<'t, str> {
        Cow::Owned(decode_utf16(self.0))
    }
}

pub struct Items<'t> {
    tape: &'t [u16],
    at: usize,
    end: usize,
    left: u32,
}

impl<'t> Iterator for Items<'t> {
    type Item = Val<'t>;

    fn next(&mut self) -> Option<Val<'t>> {
        if self.left == 0 || self.at >= self.end {
            return None;
        }
        self.left -= 1;
        let value = Val::at(self.tape, self.at);
        self.at = value.end();
        Some(value)
    }
}

pub struct Entries<'t> {
    tape: &'t [u16],
    at: usize,
    end: usize,
    left: u32,
}

impl<'t> Iterator for Entries<'t> {
    type Item = (Key<'t>, Val<'t>);

    fn next(&mut self) -> Option<(Key<'t>, Val<'t>)> {
        if self.left == 0 || self.at >= self.end {
            return None;
        }
        self.left -= 1;
        let len = u32_at(self.tape, self.at);
        let key = Key(units_at(self.tape, self.at + 2, len));
        let value = Val::at(self.tape, self.at.saturating_add(2 + len as usize));
        self.at = value.end();
        Some((key, value))
    }
}

/// Writes tapes: used natively to stand in for the shim's walker (tests, fuzzing, native stores).
#[derive(Debug, Default)]
pub struct Writer {
    units: Vec<u16>,
}

impl Writer {
    pub fn new() -> Self {
        Writer::default()
    }

    pub fn finish(self) -> Tape {
        Tape { units: self.units }
    }

    fn push_u32(&mut self, n: u32) {
        self.units.push(n as u16);
        self.units.push((n >> 16) as u16);
    }

    pub fn null(&mut self) {
        self.units.push(NULL);
    }

    pub fn bool(&mut self, b: bool) {
        self.units.push(if b { TRUE } else { FALSE });
    }

    pub fn number(&mut self, n: f64) {
        if !n.is_finite() {
            return self.null();
        }
        self.units.push(NUM);
        let bits = n.to_bits();
        for i in 0..4 {
            self.units.push((bits >> (16 * i)) as u16);
        }
    }

    pub fn string(&mut self, s: &str) {
        self.units.push(STR);
        let at = self.units.len();
        self.push_u32(0);
        self.units.extend(s.encode_utf16());
        self.patch_u32(at, self.units.len() - at - 2);
    }

    pub fn lengths(&mut self, s: &str) {
        self.units.push(LEN);
        self.push_u32(u32::try_from(s.encode_utf16().count()).unwrap_or(u32::MAX));
        self.push_u32(u32::try_from(s.len()).unwrap_or(u32::MAX - 1));
    }

    pub fn depth(&mut self, depth: usize) {
        self.units.push(DEPTH);
        self.units.push(u16::try_from(depth).unwrap_or(u16::MAX));
    }

    pub fn deep(&mut self) {
        self.units.push(DEEP);
    }

    pub fn doc(&mut self, handle: u32) {
        self.units.push(DOC);
        self.push_u32(handle);
    }

    /// Starts an array or object; returns a mark for [`Writer::close`].
    pub fn open(&mut self, object: bool) -> usize {
        self.open_tagged(if object { OBJ } else { ARR })
    }

    /// A container of `tag` (`ARR`, `OBJ`, `PLACED`), closed by [`Writer::close`].
    pub fn open_tagged(&mut self, tag: u16) -> usize {
        self.units.push(tag);
        let mark = self.units.len();
        self.push_u32(0);
        self.push_u32(0);
        mark
    }

    pub fn key(&mut self, key: &str) {
        let at = self.units.len();
        self.push_u32(0);
        self.units.extend(key.encode_utf16());
        self.patch_u32(at, self.units.len() - at - 2);
    }

    pub fn close(&mut self, mark: usize, count: usize) {
        self.patch_u32(mark, count);
        self.patch_u32(mark + 2, self.units.len() - mark - 4);
    }

    fn patch_u32(&mut self, at: usize, n: usize) {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        if let Some(slot) = self.units.get_mut(at..at + 2) {
            slot.copy_from_slice(&[n as u16, (n >> 16) as u16]);
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::*;
    use serde_json::Value;

    impl Tape {
        /// The tape the shim would write for `value` under `projection`, with documents numbered
        /// by `doc` (called once per `Doc` value).
        pub fn from_json(
            value: &Value,
            projection: &Projection,
            doc: &mut dyn FnMut(&Value) -> u32,
        ) -> Tape {
            let mut w = Writer::new();
            write_value(&mut w, value, projection, 0, doc);
            w.finish()
        }

        /// The whole value, as [`Projection::Full`] writes it.
        pub fn full(value: &Value) -> Tape {
            Tape::from_json(value, &Projection::Full, &mut |_| 0)
        }
    }

    fn depth_of(value: &Value) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(value, 0usize)];
        while let Some((v, above)) = stack.pop() {
            match v {
                Value::Array(items) => {
                    deepest = deepest.max(above + 1);
                    stack.extend(items.iter().map(|c| (c, above + 1)));
                }
                Value::Object(map) => {
                    deepest = deepest.max(above + 1);
                    stack.extend(map.values().map(|c| (c, above + 1)));
                }
                _ => {}
            }
        }
        deepest
    }

    fn write_value(
        w: &mut Writer,
        value: &Value,
        projection: &Projection,
        nesting: usize,
        doc: &mut dyn FnMut(&Value) -> u32,
    ) {
        if nesting > MAX_NESTING {
            return w.deep();
        }
        match (projection, value) {
            (Projection::Skip, _) => w.null(),
            (Projection::Depth, v) => w.depth(depth_of(v)),
            (Projection::Doc(inner), v) => {
                let handle = doc(v);
                w.doc(handle);
                write_value(w, v, inner, nesting, doc);
            }
            (Projection::Length, Value::String(s)) => w.lengths(s),
            (Projection::Object(keys, other), Value::Object(map)) => {
                let mark = w.open(true);
                let mut count = 0;
                for (key, v) in map {
                    let p = keys.iter().find(|(k, _)| k == key).map_or(&**other, |(_, p)| p);
                    if *p == Projection::Skip {
                        continue;
                    }
                    w.key(key);
                    write_value(w, v, p, nesting + 1, doc);
                    count += 1;
                }
                w.close(mark, count);
            }
            (Projection::Items(item), Value::Array(items)) => {
                let mark = w.open(false);
                for v in items {
                    write_value(w, v, item, nesting + 1, doc);
                }
                w.close(mark, items.len());
            }
            (Projection::Fields(fields), Value::Object(map)) => {
                let mark = w.open_tagged(PLACED);
                for (name, p) in fields {
                    match map.get(name) {
                        Some(v) => write_value(w, v, p, nesting + 1, doc),
                        None => w.null(),
                    }
                }
                w.close(mark, fields.len());
            }
            (_, Value::Null) => w.null(),
            (_, Value::Bool(b)) => w.bool(*b),
            (_, Value::Number(n)) => w.number(n.as_f64().unwrap_or(f64::NAN)),
            (_, Value::String(s)) => w.string(s),
            (_, Value::Array(items)) => {
                let mark = w.open(false);
                for v in items {
                    write_value(w, v, &Projection::Full, nesting + 1, doc);
                }
                w.close(mark, items.len());
            }
            (_, Value::Object(map)) => {
                let mark = w.open(true);
                for (key, v) in map {
                    w.key(key);
                    write_value(w, v, &Projection::Full, nesting + 1, doc);
                }
                w.close(mark, map.len());
            }
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn is_null_agrees_with_kind() {
        let value = json!([null, 0, -1.5, 1e300, "", "x", [], {}, true, false]);
        let tape = Tape::full(&value);
        let mut vals: Vec<Val<'_>> = tape.root().items().collect();
        // Numbers JavaScript never hands over as numbers, a truncated one, an unknown tag.
        let odd = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 2.0f64.powi(1023) * 1.5];
        let raws: Vec<Tape> = odd
            .iter()
            .map(|n| {
                let bits = n.to_bits();
                Tape::new((0..4).fold(vec![NUM], |mut u, i| {
                    u.push((bits >> (16 * i)) as u16);
                    u
                }))
            })
            .chain([Tape::new(vec![NUM, 1]), Tape::new(vec![99])])
            .collect();
        vals.extend(raws.iter().map(Tape::root));
        for v in vals {
            assert_eq!(v.is_null(), matches!(v.kind(), Kind::Null), "{:?}", v.kind());
        }
    }

    #[test]
    fn reads_back_what_was_written() {
        let value = json!({"id": "m1", "n": 1.5, "t": true, "z": null, "a": [1, "二", {"k": []}], "e": {}});
        let tape = Tape::full(&value);
        let root = tape.root();
        assert!(matches!(root.kind(), Kind::Object));
        assert_eq!(root.len(), 6);
        assert_eq!(root.get("id").and_then(Val::as_str).as_deref(), Some("m1"));
        assert!(root.get("id").is_some_and(|v| v.is_str("m1")));
        assert_eq!(root.get("n").and_then(Val::as_f64), Some(1.5));
        assert_eq!(root.get("t").and_then(Val::as_bool), Some(true));
        assert!(root.get("z").is_some_and(Val::is_null));
        assert!(root.get("missing").is_none());
        let items: Vec<String> = root.get("a").unwrap().items().map(Val::to_json).collect();
        assert_eq!(items, ["1", "\"二\"", "{\"k\":[]}"]);
        assert_eq!(root.get("a").unwrap().depth(), 3);
        assert_eq!(root.depth(), 4);
        assert_eq!(root.get("e").unwrap().depth(), 1, "an empty object");
        assert_eq!(root.get("n").unwrap().depth(), 0, "a scalar");
        let flat = Tape::full(&json!({"a": 1, "b": "x", "c": null}));
        assert_eq!(flat.root().depth(), 1, "a container of scalars");
        let back: serde_json::Value = serde_json::from_str(&root.to_json()).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn fields_find_what_get_finds_in_any_order() {
        let value = json!({"a": 1, "bb": "x", "c": [2], "名": true});
        let tape = Tape::full(&value);
        let root = tape.root();
        let shown = |v: Option<Val<'_>>| v.map(Val::to_json);
        for names in [["a", "bb", "c", "名", "zz"], ["zz", "名", "c", "bb", "a"], ["c", "a", "zz", "bb", "名"]] {
            let found = root.fields(names);
            for (name, got) in names.iter().zip(found) {
                assert_eq!(shown(got), shown(root.get(name)), "{name} in {names:?}");
            }
        }
        assert!(Tape::full(&json!([1, 2])).root().fields(["a"])[0].is_none(), "an array has no fields");
    }

    #[test]
    fn projections_leave_out_what_they_say() {
        let value = json!({"msg": "很长的文字 long text", "id": "m1", "ext": {"nick": "Bo", "app": {"x": [[1]]}}, "junk": 1});
        let p = Projection::object(
            [
                ("msg", Projection::Length),
                ("id", Projection::Full),
                ("ext", Projection::object([("nick", Projection::Full)], Projection::Depth)),
            ],
            Projection::Skip,
        );
        let tape = Tape::from_json(&value, &p, &mut |_| 0);
        let root = tape.root();
        assert_eq!(root.len(), 3, "junk is skipped");
        let msg = root.get("msg").unwrap();
        assert_eq!(msg.as_str(), None);
        assert_eq!(msg.utf16_len(), Some(15));
        assert_eq!(msg.utf8_len(), Some("很长的文字 long text".len() as u64));
        let ext = root.get("ext").unwrap();
        assert_eq!(ext.get("nick").and_then(Val::as_str).as_deref(), Some("Bo"));
        assert!(matches!(ext.get("app").unwrap().kind(), Kind::Depth(3)));
        assert_eq!(ext.depth(), 4);
        let deep = Tape::new(vec![OBJ, 1, 0, 4, 0, 1, 0, 0x61, DEEP]);
        assert_eq!(deep.root().depth(), usize::MAX, "a value nested past the limit");
        assert_eq!(
            p.to_json(),
            r#"{"k":{"msg":"len","id":1,"ext":{"k":{"nick":1},"o":"depth"}},"o":0}"#
        );
    }

    #[test]
    fn documents_are_numbered() {
        let value = json!({"r": [{"id": "a"}, {"id": "b"}]});
        let p = Projection::object(
            [("r", Projection::Items(Box::new(Projection::Doc(Box::new(Projection::Full)))))],
            Projection::Skip,
        );
        let mut next = 7;
        let tape = Tape::from_json(&value, &p, &mut |_| {
            next += 1;
            next
        });
        let docs: Vec<(Option<u32>, Option<String>)> = tape
            .root()
            .get("r")
            .unwrap()
            .items()
            .map(|r| (r.doc(), r.get("id").and_then(Val::as_str)))
            .collect();
        assert_eq!(docs, [(Some(8), Some("a".into())), (Some(9), Some("b".into()))]);
    }

    #[test]
    fn strings_decode_with_lone_surrogates_replaced() {
        assert_eq!(decode_utf16(&[0x61, 0xD83D, 0xDC4D, 0x62]), "a👍b");
        assert_eq!(decode_utf16(&[0xD800, 0x61]), "\u{FFFD}a");
        assert_eq!(decode_utf16(&[0x61, 0x7F]), "a\u{7F}");
        assert_eq!(decode_utf16(&[0x61, 0x80, 0x62]), "a\u{80}b");
        assert_eq!(decode_utf16(&[0x4E2D, 0x61]), "中a");
        assert_eq!(decode_utf16(&[]), "");
        assert_eq!(utf8_len(&[0xD800]), 3);
        assert_eq!(utf8_len(&[0xD83D, 0xDC4D]), 4);
    }

    #[test]
    fn a_string_is_read_as_as_str_decodes_it() {
        let long = "groupChat".repeat(3);
        for text in ["", "txt", "groupChat", "sixteen-letters!", "seventeen letters", &long, "中文", "a👍", "é"] {
            let tape = Tape::from_json(&json!([text]), &Projection::Full, &mut |_| 0);
            let value = tape.root().items().next().unwrap();
            assert_eq!(value.with_str(str::to_string).as_deref(), Some(text));
            assert_eq!(value.with_str(str::to_string), value.as_str());
        }
        let tape = Tape::from_json(&json!([7, null]), &Projection::Full, &mut |_| 0);
        assert!(tape.root().items().all(|v| v.with_str(str::len).is_none()));
    }

    #[test]
    fn units_equal_text_only_when_they_spell_it() {
        let units = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
        for text in ["", "id", "名字", "a👍", "é"] {
            assert!(eq_units(&units(text), text), "{text}");
        }
        // As many units as "é" has bytes (C3 A9), each unit one of those bytes: not the same text.
        assert!(!eq_units(&[0xC3, 0xA9], "é"));
        assert!(!eq_units(&units("ie"), "id"));
        assert!(!eq_units(&units("名"), "名字"));
        assert!(!eq_units(&units("名字x"), "名字"));
    }

    #[test]
    fn nothing_panics_on_a_broken_tape() {
        let broken: [&[u16]; 6] = [
            &[],
            &[OBJ, 5, 0, 900, 0],
            &[STR, 60000, 0, 0x61],
            &[ARR, 2, 0, 3, 0, OBJ, 9, 9],
            &[NUM, 1],
            &[DOC, 1, 0, OBJ, 1, 0, 4, 0, 1, 0, 0x61],
        ];
        for units in broken {
            let tape = Tape::new(units.to_vec());
            let root = tape.root();
            let _ = (root.kind(), root.depth(), root.to_json(), root.get("a"), root.as_str());
            let _ = root.items().map(Val::to_json).count();
        }
    }
}
