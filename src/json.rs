//! JSON out of the core, written the way JavaScript's `JSON.stringify` writes it.
//!
//! The shim parses what the core writes with the engine's native `JSON.parse` and `wx` stores it with
//! `JSON.stringify`; writing the same bytes that stringify would (escapes, integer forms) lets the core
//! count a stored value's size exactly without the value ever coming back. [`Json`] is the small owned
//! value the core builds when it must hold one (a message body, an ext in native use).

use std::fmt::Write as _;

use crate::tape::{Kind, Val};

/// The bytes `JSON.stringify` escapes: control characters, `"` and `\`. Looked up, one load a byte,
/// where three comparisons a byte cost three times as many interpreted instructions.
const ESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Appends `s` as a JSON string, escaped as `JSON.stringify` escapes it.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    if !s.bytes().any(|b| ESCAPED[usize::from(b)]) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            0..=0x1F => "",
            _ => continue,
        };
        out.push_str(s.get(start..i).unwrap_or_default());
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        } else {
            out.push_str(short);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// Two decimal digits for each of 0..100, so that a number is written two digits a division.
const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// Appends an integer in decimal, without the formatting machinery (slow where wasm is interpreted): two
/// digits a division and one copy, since every instruction counts there.
pub fn write_i64(out: &mut String, n: i64) {
    // One digit (a flag, a count, a format number): no buffer, no copy.
    if (0..10).contains(&n) {
        out.push(char::from(b'0' + n as u8));
        return;
    }
    let mut digits = [b'-'; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    while rest >= 100 {
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        at -= 2;
        digits[at] = DIGIT_PAIRS[pair];
        digits[at + 1] = DIGIT_PAIRS[pair + 1];
    }
    if rest >= 10 {
        at -= 2;
        digits[at] = DIGIT_PAIRS[rest as usize * 2];
        digits[at + 1] = DIGIT_PAIRS[rest as usize * 2 + 1];
    } else {
        at -= 1;
        digits[at] = b'0' + rest as u8;
    }
    // The sign is already there, left of the digits.
    at -= usize::from(n < 0);
    // SAFETY: `digits[at..]` holds ASCII only (an optional '-' and the digits written above).
    out.push_str(unsafe { std::str::from_utf8_unchecked(&digits[at..]) });
}

/// Appends a number: integers below 2^53 in plain digits as JavaScript writes them, other finite
/// numbers in a valid JSON form, and `null` for NaN and infinities (as `JSON.stringify` does).
pub fn write_f64(out: &mut String, n: f64) {
    if !n.is_finite() {
        out.push_str("null");
    } else if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        write_i64(out, n as i64);
    } else {
        let _ = write!(out, "{n}");
    }
}

/// A whole number as [`write_f64`] writes it, without the float checks for one below 2^53 (every
/// count and size the store keeps).
pub fn write_whole(out: &mut String, n: u64) {
    match i64::try_from(n) {
        Ok(exact) if exact < 1 << 53 => write_i64(out, exact),
        _ => write_f64(out, n as f64),
    }
}

/// A JSON array of whole numbers (each below 2^53, as JavaScript holds them exactly).
pub fn write_numbers(out: &mut String, list: &[u64]) {
    write_list(out, list, |out, n| write_whole(out, *n));
}

/// A JSON array: `[`, each item as `write` writes it, commas between, `]`.
pub fn write_list<T>(out: &mut String, items: impl IntoIterator<Item = T>, mut write: impl FnMut(&mut String, T)) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(out, item);
    }
    out.push(']');
}

/// Entries `"name":n` of whole numbers, commas between, without the braces.
pub fn write_number_fields(out: &mut String, fields: &[(&str, u64)]) {
    for (i, (name, n)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, name);
        out.push(':');
        write_f64(out, *n as f64);
    }
}


/// An integer-valued number as an id string (`1234` → `"1234"`), for SDKs that send numeric ids.
pub fn integer_text(n: f64) -> Option<String> {
    (n.is_finite() && n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15).then(|| {
        let mut s = String::new();
        write_f64(&mut s, n);
        s
    })
}

/// A JSON value the core owns.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Json {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    /// Entries in insertion order; a key appears once.
    Object(Vec<(String, Json)>),
}

impl Json {
    pub fn object() -> Self {
        Json::Object(Vec::new())
    }

    /// Sets `key` on an object (replacing an existing entry); does nothing on other values.
    pub fn insert(&mut self, key: &str, value: Json) {
        if let Json::Object(entries) = self {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => entries.push((key.to_string(), value)),
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn is_empty_object(&self) -> bool {
        matches!(self, Json::Object(entries) if entries.is_empty())
    }

    /// The value as a tape value reads (left-out parts become `null`).
    pub fn from_val(value: Val<'_>) -> Json {
        match value.kind() {
            Kind::Bool(b) => Json::Bool(b),
            Kind::Number(n) => Json::Number(n),
            Kind::String => Json::String(value.as_str().unwrap_or_default()),
            Kind::Array => Json::Array(value.items().map(Json::from_val).collect()),
            Kind::Object => {
                let mut out = Json::object();
                for (key, v) in value.entries() {
                    out.insert(&key.to_string(), Json::from_val(v));
                }
                out
            }
            Kind::Null | Kind::Lengths { .. } | Kind::Depth(_) | Kind::Deep => Json::Null,
        }
    }

    pub fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => write_f64(out, *n),
            Json::String(s) => write_str(out, s),
            Json::Array(items) => write_list(out, items, |out, item| item.write(out)),
            Json::Object(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl From<&serde_json::Value> for Json {
    fn from(value: &serde_json::Value) -> Json {
        use serde_json::Value;
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Json::String(s.clone()),
            Value::Array(items) => Json::Array(items.iter().map(Json::from).collect()),
            Value::Object(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), Json::from(v))).collect()),
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_as_javascript_does() {
        let table = [
            ("plain", "\"plain\""),
            ("q\"b\\", "\"q\\\"b\\\\\""),
            ("\n\r\t\u{8}\u{c}", "\"\\n\\r\\t\\b\\f\""),
            ("\u{1}\u{1f}\u{7f}", "\"\\u0001\\u001f\u{7f}\""),
            ("中文👍\u{2028}", "\"中文👍\u{2028}\""),
            ("</script>", "\"</script>\""),
        ];
        for (input, want) in table {
            let mut out = String::new();
            write_str(&mut out, input);
            assert_eq!(out, want, "{input:?}");
            // serde_json agrees on what the text means.
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), input);
        }
    }

    #[test]
    fn numbers() {
        let table = [(0.0, "0"), (-3.0, "-3"), (1767225600000.0, "1767225600000"), (1.5, "1.5"), (f64::NAN, "null")];
        for (n, want) in table {
            let mut out = String::new();
            write_f64(&mut out, n);
            assert_eq!(out, want);
        }
        assert_eq!(integer_text(1234.0).as_deref(), Some("1234"));
        assert_eq!(integer_text(1.5), None);
    }

    #[test]
    fn integers_as_javascript_writes_them() {
        let edges = [0, 7, 9, 10, 42, 99, 100, 101, 999, 1000, 1767225600000, i64::MAX, i64::MIN];
        for n in edges.into_iter().chain(edges.map(|n| n.saturating_neg())) {
            let mut out = String::from("x");
            write_i64(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
    }

    #[test]
    fn whole_numbers_as_write_f64_writes_them() {
        let edges = [0, 1, 9, 10, 11, 99, 100, 4_294_967_296, (1 << 53) - 1, 1 << 53, (1 << 53) + 1, u64::MAX];
        for n in edges {
            let (mut whole, mut float) = (String::new(), String::new());
            write_whole(&mut whole, n);
            write_f64(&mut float, n as f64);
            assert_eq!(whole, float, "{n}");
        }
    }

    #[test]
    fn values_round_trip_through_serde_json() {
        let value = serde_json::json!({"a": [1, "x", null, true], "b": {"c": -2.25}});
        let json = Json::from(&value);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&json.to_text()).unwrap(), value);
        let tape = crate::tape::Tape::full(&value);
        assert_eq!(Json::from_val(tape.root()), json);
    }
}
