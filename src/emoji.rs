//! Emoji codes inside text: a tokenizer that never fails and borrows from its input.
//!
//! Easemob clients send emoji as bracket codes such as `[):]` inside ordinary text. The official
//! mini-program demo replaces every code with `^file^`, splits on `^` and treats any piece matching
//! `/^e.*g$/` as an image, so "eating" renders as a broken image, a typed `^` vanishes and newlines
//! are lost. Here a code is recognised only where its exact bytes appear, every other byte stays
//! text exactly as typed, and a code is left alone when taking it out would split a user-perceived
//! character (a `]` followed by U+0301, a ZWJ or a skin tone). Matching is one left-to-right pass:
//! because a code holds no bracket between its outer `[` and `]`, each `[` has at most one
//! candidate, the text up to the next bracket, so no byte is looked at twice.

use crate::{Error, Result};
use std::cmp::Ordering;
use unicode_segmentation::{GraphemeCursor, UnicodeSegmentation};

/// The picker's delete key. It is an input-box action, never a code in any table.
pub const DELETE_KEY: &str = "[del]";

/// The longest code a table accepts, in bytes.
pub const MAX_CODE_BYTES: usize = 32;

/// The 35 Easemob codes in picker order; the code at position `N - 1` shows `ee_N.png`.
const EASEMOB_CODES: [&str; 35] = [
    "[):]", "[:D]", "[;)]", "[:-o]", "[:p]", "[(H)]", "[:@]", "[:s]", "[:$]", "[:(]", "[:'(]",
    "[<o)]", "[(a)]", "[8o|]", "[8-|]", "[+o(]", "[|-)]", "[:|]", "[*-)]", "[:-#]", "[^o)]",
    "[:-*]", "[8-)]", "[(|)]", "[(u)]", "[(S)]", "[(*)]", "[(#)]", "[(R)]", "[({)]", "[(})]",
    "[(k)]", "[(F)]", "[(W)]", "[(D)]",
];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    code: Box<str>,
    file: Box<str>,
}

impl Entry {
    fn new(code: impl Into<String>, file: impl Into<String>) -> Self {
        Entry {
            code: code.into().into_boxed_str(),
            file: file.into().into_boxed_str(),
        }
    }
}

/// A table of bracket codes and the image file each one shows, in picker order.
///
/// A code is `[`, one or more characters other than `[` and `]`, then `]`, at most
/// [`MAX_CODE_BYTES`] long. Build a table once per chat and reuse it for every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmojiTable {
    entries: Vec<Entry>,
    /// Indices into `entries`, ordered by code bytes, for binary search.
    by_code: Vec<u32>,
    longest_code: usize,
}

impl EmojiTable {
    /// The 35 Easemob codes with their `ee_N.png` images.
    pub fn easemob() -> Self {
        let entries = EASEMOB_CODES
            .iter()
            .zip(1..)
            .map(|(code, n)| Entry::new(*code, format!("ee_{n}.png")))
            .collect();
        Self::index(entries)
    }

    /// A table of `(code, file)` pairs in picker order. Rejects an empty or over-long code, a code
    /// that is not `[…]` with no bracket inside, `[del]`, a code listed twice, and an empty file.
    pub fn new<C, F>(entries: impl IntoIterator<Item = (C, F)>) -> Result<Self>
    where
        C: Into<String>,
        F: Into<String>,
    {
        Self::validated(
            entries
                .into_iter()
                .map(|(code, file)| Entry::new(code, file))
                .collect(),
        )
    }

    /// This table followed by `entries`, for a chat that adds its own codes to the default ones.
    /// The same rules as [`EmojiTable::new`] apply to the whole result.
    pub fn with_extra<C, F>(&self, entries: impl IntoIterator<Item = (C, F)>) -> Result<Self>
    where
        C: Into<String>,
        F: Into<String>,
    {
        let extra = entries
            .into_iter()
            .map(|(code, file)| Entry::new(code, file));
        Self::validated(self.entries.iter().cloned().chain(extra).collect())
    }

    /// `(code, file)` pairs in picker order; the position of a pair is its entry index.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|e| (&*e.code, &*e.file))
    }

    /// The `(code, file)` pair at `index` in picker order.
    pub fn get(&self, index: usize) -> Option<(&str, &str)> {
        self.entries.get(index).map(|e| (&*e.code, &*e.file))
    }

    fn validated(entries: Vec<Entry>) -> Result<Self> {
        for (position, entry) in entries.iter().enumerate() {
            check_entry(position, entry)?;
        }
        if u32::try_from(entries.len()).is_err() {
            return Err(Error::input("emoji table: too many entries"));
        }
        let table = Self::index(entries);
        let duplicate = table.by_code.windows(2).find_map(|pair| match pair {
            [a, b] => {
                let (a, b) = (
                    table.entries.get(*a as usize)?,
                    table.entries.get(*b as usize)?,
                );
                (a.code == b.code).then_some(a)
            }
            _ => None,
        });
        match duplicate {
            Some(entry) => Err(Error::input(format!(
                "emoji table: code {:?} is listed more than once; give each code one file",
                entry.code
            ))),
            None => Ok(table),
        }
    }

    fn index(entries: Vec<Entry>) -> Self {
        let mut by_code: Vec<u32> = (0..entries.len())
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        by_code.sort_unstable_by(|a, b| code_at(&entries, *a).cmp(code_at(&entries, *b)));
        let longest_code = entries.iter().map(|e| e.code.len()).max().unwrap_or(0);
        EmojiTable {
            entries,
            by_code,
            longest_code,
        }
    }

    /// The entry index of `code`, if the table has it.
    fn find(&self, code: &[u8]) -> Option<u32> {
        self.by_code
            .binary_search_by(|i| match self.entries.get(*i as usize) {
                Some(entry) => entry.code.as_bytes().cmp(code),
                None => Ordering::Less,
            })
            .ok()
            .and_then(|slot| self.by_code.get(slot).copied())
    }
}

fn code_at(entries: &[Entry], index: u32) -> &[u8] {
    entries
        .get(index as usize)
        .map_or(&[], |e| e.code.as_bytes())
}

fn check_entry(position: usize, entry: &Entry) -> Result<()> {
    let code = &*entry.code;
    let problem = if code.len() > MAX_CODE_BYTES {
        Some(format!(
            "is {} bytes long; codes are at most {MAX_CODE_BYTES}",
            code.len()
        ))
    } else if code.len() < 3 || !code.starts_with('[') || !code.ends_with(']') {
        Some("must be '[', at least one character, then ']'".to_owned())
    } else if code
        .get(1..code.len() - 1)
        .is_some_and(|inner| inner.contains(['[', ']']))
    {
        Some("must not contain '[' or ']' between its outer brackets".to_owned())
    } else if code == DELETE_KEY {
        Some("is the picker's delete key, which is never sent as text".to_owned())
    } else if entry.file.is_empty() {
        Some("has an empty file name".to_owned())
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::input(format!(
            "emoji table entry {position}: code {code:?} {problem}"
        ))),
        None => Ok(()),
    }
}

/// A piece of text: plain text, or one emoji code with its image file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Emoji { code: &'a str, file: &'a str },
}

impl<'a> Segment<'a> {
    /// The part of the input this segment stands for.
    pub fn source(&self) -> &'a str {
        match self {
            Segment::Text(text) => text,
            Segment::Emoji { code, .. } => code,
        }
    }
}

/// One code found in a text: byte offsets and the entry index.
struct Match {
    start: usize,
    end: usize,
    entry: u32,
}

/// Codes in `text`, left to right, each byte examined once.
struct Matches<'t> {
    table: &'t EmojiTable,
    text: &'t str,
    pos: usize,
}

impl Iterator for Matches<'_> {
    type Item = Match;

    fn next(&mut self) -> Option<Match> {
        let bytes = self.text.as_bytes();
        if self.table.longest_code == 0 {
            return None;
        }
        loop {
            let open = self.pos + bytes.get(self.pos..)?.iter().position(|&b| b == b'[')?;
            let window_end = open
                .saturating_add(self.table.longest_code)
                .min(bytes.len());
            let window = bytes.get(open + 1..window_end).unwrap_or(&[]);
            let Some(offset) = window.iter().position(|&b| b == b'[' || b == b']') else {
                // No code can start at `open`, and no `[` lies before `window_end`.
                self.pos = window_end.max(open + 1);
                continue;
            };
            let close = open + 1 + offset;
            if bytes.get(close) == Some(&b'[') {
                self.pos = close;
                continue;
            }
            let end = close + 1;
            self.pos = end;
            let found = bytes.get(open..end).and_then(|code| self.table.find(code));
            if let Some(entry) = found {
                if is_grapheme_boundary(self.text, open) && is_grapheme_boundary(self.text, end) {
                    return Some(Match {
                        start: open,
                        end,
                        entry,
                    });
                }
            }
        }
    }
}

fn matches<'t>(table: &'t EmojiTable, text: &'t str) -> Matches<'t> {
    Matches {
        table,
        text,
        pos: 0,
    }
}

/// Whether `pos`, next to a bracket, separates two user-perceived characters. A bracket is
/// joined to its neighbour only by a non-ASCII character (a combining mark, ZWJ, a prepended sign).
fn is_grapheme_boundary(text: &str, pos: usize) -> bool {
    let bytes = text.as_bytes();
    let before = pos.checked_sub(1).and_then(|i| bytes.get(i));
    match (before, bytes.get(pos)) {
        (None, _) | (_, None) => true,
        (Some(b), Some(a)) if b.is_ascii() && a.is_ascii() => true,
        _ => GraphemeCursor::new(pos, text.len(), true)
            .is_boundary(text, 0)
            .unwrap_or(false),
    }
}

/// Whether a code cannot start right after `c`: there is no grapheme boundary between `c` and `[`
/// (`c` is a prepend mark). The shim asks this of the non-ASCII character before a candidate code.
pub fn joins_before(c: char) -> bool {
    let mut text = String::with_capacity(8);
    text.push(c);
    text.push('[');
    !is_grapheme_boundary(&text, c.len_utf8())
}

/// Whether a code cannot end right before `c`: there is no grapheme boundary between `]` and `c`
/// (`c` extends the character before it: a combining mark, ZWJ, a spacing mark).
pub fn joins_after(c: char) -> bool {
    let mut text = String::with_capacity(8);
    text.push(']');
    text.push(c);
    !is_grapheme_boundary(&text, 1)
}

/// Splits `text` into segments: codes of `table`, and the text between them, never empty and
/// never two text segments in a row. Concatenating the segments' [`Segment::source`] gives `text`.
pub fn parse<'a>(table: &'a EmojiTable, text: &'a str) -> Vec<Segment<'a>> {
    let mut segments = Vec::new();
    let mut text_start = 0;
    for found in matches(table, text) {
        if let Some(before) = text.get(text_start..found.start).filter(|t| !t.is_empty()) {
            segments.push(Segment::Text(before));
        }
        if let (Some(code), Some((_, file))) = (
            text.get(found.start..found.end),
            table.get(found.entry as usize),
        ) {
            segments.push(Segment::Emoji { code, file });
        }
        text_start = found.end;
    }
    if let Some(rest) = text.get(text_start..).filter(|t| !t.is_empty()) {
        segments.push(Segment::Text(rest));
    }
    segments
}

/// The codes of `table` in `text` as flat triples `(start, end, entry_index)` in `out` (cleared
/// first), with `start`/`end` in UTF-16 code units so JavaScript can slice the original string;
/// the text between them is plain text. Offsets saturate at `u32::MAX`.
pub fn spans_utf16(table: &EmojiTable, text: &str, out: &mut Vec<u32>) {
    out.clear();
    let bytes = text.as_bytes();
    let (mut counted_to, mut units) = (0, 0u32);
    for found in matches(table, text) {
        let start =
            units.saturating_add(utf16_len(bytes.get(counted_to..found.start).unwrap_or(&[])));
        // A code's bytes are read only here, so every byte of `text` is counted once.
        let end = start.saturating_add(utf16_len(bytes.get(found.start..found.end).unwrap_or(&[])));
        out.extend([start, end, found.entry]);
        (counted_to, units) = (found.end, end);
    }
}

/// UTF-16 code units of valid UTF-8 `bytes`: one per character, two for a 4-byte one.
fn utf16_len(bytes: &[u8]) -> u32 {
    let units: usize = bytes
        .iter()
        .map(|&b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
        .sum();
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// What the input box's delete key leaves: `text` less a trailing code of `table` (as [`parse`]
/// would find it), else less its last user-perceived character. Empty text stays empty.
pub fn delete_last<'a>(table: &EmojiTable, text: &'a str) -> &'a str {
    if let Some(start) = trailing_code_start(table, text) {
        return text.get(..start).unwrap_or("");
    }
    match text.grapheme_indices(true).next_back() {
        Some((start, _)) => text.get(..start).unwrap_or(""),
        None => "",
    }
}

/// Where a code of `table` ending `text` starts, if one does.
fn trailing_code_start(table: &EmojiTable, text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let close = bytes
        .len()
        .checked_sub(1)
        .filter(|&i| bytes.get(i) == Some(&b']'))?;
    let search_from = bytes.len().saturating_sub(table.longest_code);
    let inside = bytes.get(search_from..close)?;
    let offset = inside.iter().rposition(|&b| b == b'[' || b == b']')?;
    let open = search_from + offset;
    let is_code = bytes.get(open) == Some(&b'[') && table.find(bytes.get(open..)?).is_some();
    (is_code && is_grapheme_boundary(text, open)).then_some(open)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Segments drawn as text, with each emoji as `⟨code=file⟩`. Also checks the segment
    /// invariants: no empty text, no two texts in a row, sources reassemble the input.
    fn drawn(table: &EmojiTable, input: &str) -> String {
        let segments = parse(table, input);
        let rebuilt: String = segments.iter().map(Segment::source).collect();
        assert_eq!(rebuilt, input, "segments must reassemble the input");
        for pair in segments.windows(2) {
            assert!(
                !matches!(pair, [Segment::Text(_), Segment::Text(_)]),
                "two text segments in a row for {input:?}: {segments:?}"
            );
        }
        segments
            .iter()
            .map(|segment| match segment {
                Segment::Text(text) => {
                    assert!(!text.is_empty(), "empty text segment for {input:?}");
                    (*text).to_owned()
                }
                Segment::Emoji { code, file } => format!("⟨{code}={file}⟩"),
            })
            .collect()
    }

    fn assert_parsed_with(table: &EmojiTable, cases: &[(&str, &str)]) {
        for (input, expected) in cases {
            assert_eq!(drawn(table, input), *expected, "parsing {input:?}");
        }
    }

    #[test]
    fn parses_easemob_codes_and_keeps_everything_else_as_typed() {
        assert_parsed_with(
            &EmojiTable::easemob(),
            &[
                ("", ""),
                ("hi [):]x", "hi ⟨[):]=ee_1.png⟩x"),
                ("[):]", "⟨[):]=ee_1.png⟩"),
                ("[):]hello", "⟨[):]=ee_1.png⟩hello"),
                ("hello [(D)]", "hello ⟨[(D)]=ee_35.png⟩"),
                ("[):][:D][;)]", "⟨[):]=ee_1.png⟩⟨[:D]=ee_2.png⟩⟨[;)]=ee_3.png⟩"),
                ("a [):] b [:D] c", "a ⟨[):]=ee_1.png⟩ b ⟨[:D]=ee_2.png⟩ c"),
                // The official demo's failures: words ending in g, a typed ^, newlines.
                ("eating", "eating"),
                ("engine is big", "engine is big"),
                ("e^g", "e^g"),
                ("2^10 [:D]", "2^10 ⟨[:D]=ee_2.png⟩"),
                ("^ee_1.png^", "^ee_1.png^"),
                ("line one\nline two [):]\n", "line one\nline two ⟨[):]=ee_1.png⟩\n"),
                ("a\r\n[:p]\r\nb", "a\r\n⟨[:p]=ee_5.png⟩\r\nb"),
                // SDK 1.x repeated text when an unknown bracket came first.
                ("a[xx]b[):]c", "a[xx]b⟨[):]=ee_1.png⟩c"),
                // Unknown, unclosed, nested and near-miss brackets stay text.
                ("[xx]", "[xx]"),
                ("[):", "[):"),
                ("):]", "):]"),
                ("[", "["),
                ("]", "]"),
                ("[]", "[]"),
                ("[del]", "[del]"),
                ("[[):]", "[⟨[):]=ee_1.png⟩"),
                ("[):]]", "⟨[):]=ee_1.png⟩]"),
                ("[[[[", "[[[["),
                ("[ ):]", "[ ):]"),
                ("[:d]", "[:d]"),
                ("[(h)]", "[(h)]"),
                ("[:-o)]", "[:-o)]"),
                ("[[:D]]", "[⟨[:D]=ee_2.png⟩]"),
                ("[8o|][8-|][|-)][:|][(|)]", "⟨[8o|]=ee_14.png⟩⟨[8-|]=ee_15.png⟩⟨[|-)]=ee_17.png⟩⟨[:|]=ee_18.png⟩⟨[(|)]=ee_24.png⟩"),
                // Chinese text around codes.
                ("你好[):]世界", "你好⟨[):]=ee_1.png⟩世界"),
                ("【):】[:D]", "【):】⟨[:D]=ee_2.png⟩"),
                // Unicode emoji next to codes are never split.
                ("😀[):]😀", "😀⟨[):]=ee_1.png⟩😀"),
                ("𝄞[;)]", "𝄞⟨[;)]=ee_3.png⟩"),
                ("👨‍👩‍👧[:D]👨‍👩‍👧", "👨‍👩‍👧⟨[:D]=ee_2.png⟩👨‍👩‍👧"),
                ("🇨🇳[):]🇺🇸", "🇨🇳⟨[):]=ee_1.png⟩🇺🇸"),
                ("👍🏽[(H)]👍🏽", "👍🏽⟨[(H)]=ee_6.png⟩👍🏽"),
                ("❤️[(k)]", "❤️⟨[(k)]=ee_32.png⟩"),
                ("e\u{301}[:s]", "e\u{301}⟨[:s]=ee_8.png⟩"),
                // A code whose `]` would join the next character into one grapheme stays text.
                ("[):]\u{301}", "[):]\u{301}"),
                ("[):]\u{200D}😀", "[):]\u{200D}😀"),
                ("[):]\u{FE0F}", "[):]\u{FE0F}"),
                ("[):]🏽", "[):]🏽"),
                ("[:D][):]\u{301}[;)]", "⟨[:D]=ee_2.png⟩[):]\u{301}⟨[;)]=ee_3.png⟩"),
                // ...and so does one whose `[` is joined to a prepended sign before it.
                ("\u{600}[):]", "\u{600}[):]"),
            ],
        );
    }

    #[rustfmt::skip]
    const EASEMOB_TABLE: [(&str, &str); 35] = [
        ("[):]", "ee_1.png"), ("[:D]", "ee_2.png"), ("[;)]", "ee_3.png"), ("[:-o]", "ee_4.png"),
        ("[:p]", "ee_5.png"), ("[(H)]", "ee_6.png"), ("[:@]", "ee_7.png"), ("[:s]", "ee_8.png"),
        ("[:$]", "ee_9.png"), ("[:(]", "ee_10.png"), ("[:'(]", "ee_11.png"), ("[<o)]", "ee_12.png"),
        ("[(a)]", "ee_13.png"), ("[8o|]", "ee_14.png"), ("[8-|]", "ee_15.png"), ("[+o(]", "ee_16.png"),
        ("[|-)]", "ee_17.png"), ("[:|]", "ee_18.png"), ("[*-)]", "ee_19.png"), ("[:-#]", "ee_20.png"),
        ("[^o)]", "ee_21.png"), ("[:-*]", "ee_22.png"), ("[8-)]", "ee_23.png"), ("[(|)]", "ee_24.png"),
        ("[(u)]", "ee_25.png"), ("[(S)]", "ee_26.png"), ("[(*)]", "ee_27.png"), ("[(#)]", "ee_28.png"),
        ("[(R)]", "ee_29.png"), ("[({)]", "ee_30.png"), ("[(})]", "ee_31.png"), ("[(k)]", "ee_32.png"),
        ("[(F)]", "ee_33.png"), ("[(W)]", "ee_34.png"), ("[(D)]", "ee_35.png"),
    ];

    #[test]
    fn easemob_table_lists_the_35_codes_in_picker_order() {
        let table = EmojiTable::easemob();
        assert_eq!(table.entries().collect::<Vec<_>>(), EASEMOB_TABLE);
        assert_eq!(table.get(34), Some(("[(D)]", "ee_35.png")));
        assert_eq!(table.get(35), None);
    }

    #[test]
    fn every_easemob_code_parses_alone_inside_text_and_all_together() {
        let table = EmojiTable::easemob();
        let mut all_codes = String::new();
        let mut all_drawn = String::new();
        for (code, file) in EASEMOB_TABLE {
            assert_eq!(drawn(&table, code), format!("⟨{code}={file}⟩"));
            assert_eq!(
                drawn(&table, &format!("x{code}y")),
                format!("x⟨{code}={file}⟩y")
            );
            all_codes.push_str(code);
            all_drawn.push_str(&format!("⟨{code}={file}⟩"));
        }
        assert_eq!(drawn(&table, &all_codes), all_drawn);
    }

    #[test]
    fn custom_tables_parse_their_own_codes() {
        let own = EmojiTable::new([
            ("[哈哈]", "haha.png"),
            ("[ok]", "ok.gif"),
            ("[):]", "smile.svg"),
        ])
        .unwrap();
        assert_parsed_with(
            &own,
            &[
                ("好的[哈哈][ok]", "好的⟨[哈哈]=haha.png⟩⟨[ok]=ok.gif⟩"),
                ("[):][:D]", "⟨[):]=smile.svg⟩[:D]"),
                ("[哈哈哈]", "[哈哈哈]"),
                ("[哈", "[哈"),
            ],
        );
        let extended = EmojiTable::easemob()
            .with_extra([("[哈哈]", "haha.png")])
            .unwrap();
        assert_eq!(extended.entries().len(), 36);
        assert_eq!(extended.get(35), Some(("[哈哈]", "haha.png")));
        assert_parsed_with(
            &extended,
            &[("[哈哈][):]", "⟨[哈哈]=haha.png⟩⟨[):]=ee_1.png⟩")],
        );
        let empty = EmojiTable::new(Vec::<(String, String)>::new()).unwrap();
        assert_parsed_with(&empty, &[("[):] x", "[):] x"), ("", "")]);
    }

    #[test]
    fn tables_reject_codes_that_cannot_be_matched_exactly() {
        let long_code = format!("[{}]", "x".repeat(31));
        let cases: [(Vec<(&str, &str)>, &str); 10] = [
            (vec![("", "a.png")], "entry 0: code \"\" must be '['"),
            (vec![("[]", "a.png")], "must be '[', at least one character"),
            (vec![("ok", "a.png")], "must be '['"),
            (vec![("[ok", "a.png")], "must be '['"),
            (vec![("[a]b]", "a.png")], "must not contain '[' or ']'"),
            (vec![("[a[b]", "a.png")], "must not contain '[' or ']'"),
            (vec![("[del]", "a.png")], "delete key"),
            (vec![("[ok]", "")], "empty file name"),
            (
                vec![("[ok]", "a.png"), ("[no]", "b.png"), ("[ok]", "c.png")],
                "\"[ok]\" is listed more than once",
            ),
            (
                vec![("[ok]", "a.png"), (long_code.as_str(), "b.png")],
                "entry 1: code \"[xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\" is 33 bytes",
            ),
        ];
        for (entries, expected) in cases {
            let error = EmojiTable::new(entries.clone()).unwrap_err();
            assert!(error.message().contains(expected), "{entries:?}: {error}");
        }
        assert!(EmojiTable::new([(format!("[{}]", "x".repeat(30)), "a.png")]).is_ok());
        let clash = EmojiTable::easemob()
            .with_extra([("[):]", "mine.png")])
            .unwrap_err();
        assert!(
            clash
                .message()
                .contains("\"[):]\" is listed more than once"),
            "{clash}"
        );
    }

    #[test]
    fn delete_last_removes_a_trailing_code_or_the_last_grapheme() {
        let table = EmojiTable::easemob();
        let cases = [
            ("", ""),
            ("a", ""),
            ("ab", "a"),
            ("hi [):]", "hi "),
            ("[):]", ""),
            ("[):][:D]", "[):]"),
            ("x[(D)]", "x"),
            ("[[):]", "["),
            ("[):] ", "[):]"),
            ("[xx]", "[xx"),
            ("[del]", "[del"),
            ("):]", "):"),
            ("[:d]", "[:d"),
            ("你好[:D]", "你好"),
            ("中文", "中"),
            ("a\r\n", "a"),
            ("e\u{301}", ""),
            ("ae\u{301}", "a"),
            ("a👨‍👩‍👧", "a"),
            ("🇨🇳🇺🇸", "🇨🇳"),
            ("👍🏽", ""),
            ("x❤️", "x"),
            ("a😀", "a"),
            // The `]` joined with U+0301 is one character, not the end of a code.
            ("[):]\u{301}", "[):"),
            ("\u{600}[):]", "\u{600}[):"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                delete_last(&table, input),
                expected,
                "delete_last({input:?})"
            );
        }
        let own = EmojiTable::new([("[哈哈]", "haha.png")]).unwrap();
        assert_eq!(delete_last(&own, "好[哈哈]"), "好");
        assert_eq!(delete_last(&own, "好[):]"), "好[):");
    }

    /// Triples drawn as `start..end#index`, space-separated.
    fn drawn_spans(table: &EmojiTable, text: &str) -> String {
        let mut out = vec![7, 7, 7];
        spans_utf16(table, text, &mut out);
        out.chunks(3)
            .map(|t| format!("{}..{}#{}", t[0], t[1], t[2]))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn spans_are_utf16_offsets_of_codes() {
        let table = EmojiTable::easemob();
        let cases = [
            ("", ""),
            ("plain text", ""),
            ("[):]", "0..4#0"),
            ("hi [):]x[(D)]", "3..7#0 8..13#34"),
            ("😀[:D]", "2..6#1"),
            ("𝄞𝄞[;)]", "4..8#2"),
            ("你好[):]", "2..6#0"),
            ("é[):]", "1..5#0"),
            ("👨‍👩‍👧[):]🇨🇳[:D]", "8..12#0 16..20#1"),
            ("👍🏽[(H)][xx][(k)]", "4..9#5 13..18#31"),
            ("[):]\u{301}[:D]", "5..9#1"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                drawn_spans(&table, input),
                expected,
                "spans_utf16({input:?})"
            );
        }
        let own = EmojiTable::easemob()
            .with_extra([("[哈😀]", "x.png")])
            .unwrap();
        assert_eq!(drawn_spans(&own, "😀[哈😀][):]"), "2..7#35 7..11#0");
    }

    #[test]
    fn long_bracket_runs_parse_in_one_pass() {
        // Quadratic matching would not finish on these in any reasonable time.
        let table = EmojiTable::easemob();
        let n = 1 << 20;
        for input in [
            "[".repeat(n),
            "[(".repeat(n / 2),
            "[:".repeat(n / 2) + "]",
            "]".repeat(n),
        ] {
            assert_eq!(parse(&table, &input), vec![Segment::Text(&input)]);
            assert_eq!(delete_last(&table, &input).len(), input.len() - 1);
        }
        let codes = "[):]".repeat(n / 4);
        assert_eq!(parse(&table, &codes).len(), n / 4);
        let mut spans = Vec::new();
        spans_utf16(&table, &codes, &mut spans);
        assert_eq!(spans.len(), 3 * (n / 4));
    }

    /// Strings built from fragments that sit near the matcher's edge cases.
    fn tricky_text() -> impl Strategy<Value = String> {
        let fragments = prop::sample::select(vec![
            "[", "]", "):", ":D", "(|", ")", "[):]", "[:D]", "[(|)]", "[8o|]", "[xx]", "[del]",
            "[哈哈]", "a", "e", "g", "^", " ", "\n", "\r\n", "中", "😀", "👍", "🏽", "\u{301}",
            "\u{200D}", "\u{FE0F}", "🇨", "🇳", "\u{600}", "é",
        ]);
        prop::collection::vec(fragments, 0..24).prop_map(|parts| parts.concat())
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![tricky_text(), any::<String>()]
    }

    fn tables() -> [EmojiTable; 2] {
        [
            EmojiTable::easemob(),
            EmojiTable::easemob()
                .with_extra([("[哈哈]", "haha.png"), ("[😀]", "u.png")])
                .unwrap(),
        ]
    }

    proptest! {
        #[test]
        fn segments_reassemble_any_input(text in any_text()) {
            for table in tables() {
                // `drawn` asserts reassembly, no empty text and no adjacent texts.
                drawn(&table, &text);
            }
        }

        #[test]
        fn emoji_segments_are_whole_graphemes(text in tricky_text()) {
            for table in tables() {
                let mut offset = 0;
                let boundaries: Vec<usize> = text.grapheme_indices(true).map(|(i, _)| i).chain([text.len()]).collect();
                for segment in parse(&table, &text) {
                    let end = offset + segment.source().len();
                    if let Segment::Emoji { .. } = segment {
                        prop_assert!(boundaries.contains(&offset) && boundaries.contains(&end), "{text:?}");
                    }
                    offset = end;
                }
            }
        }

        #[test]
        fn spans_utf16_slice_the_js_string_like_parse(text in any_text()) {
            for table in tables() {
                let units: Vec<u16> = text.encode_utf16().collect();
                let mut spans = Vec::new();
                spans_utf16(&table, &text, &mut spans);
                let mut rebuilt = Vec::new();
                let mut last = 0;
                for triple in spans.chunks(3) {
                    let (start, end, index) = (triple[0] as usize, triple[1] as usize, triple[2] as usize);
                    let (code, file) = table.get(index).unwrap();
                    if start > last {
                        rebuilt.push(String::from_utf16(&units[last..start]).unwrap());
                    }
                    prop_assert_eq!(String::from_utf16(&units[start..end]).unwrap(), code);
                    rebuilt.push(format!("⟨{code}={file}⟩"));
                    last = end;
                }
                if last < units.len() {
                    rebuilt.push(String::from_utf16(&units[last..]).unwrap());
                }
                prop_assert_eq!(rebuilt.concat(), drawn(&table, &text));
            }
        }

        #[test]
        fn delete_last_leaves_a_strictly_shorter_prefix(text in any_text()) {
            for table in tables() {
                let left = delete_last(&table, &text);
                prop_assert!(text.starts_with(left));
                if text.is_empty() {
                    prop_assert_eq!(left, "");
                } else {
                    prop_assert!(left.len() < text.len());
                }
            }
        }

        #[test]
        fn delete_last_removes_exactly_a_final_emoji_segment(text in tricky_text()) {
            for table in tables() {
                let left = delete_last(&table, &text);
                match parse(&table, &text).last() {
                    Some(Segment::Emoji { code, .. }) => prop_assert_eq!(left.len() + code.len(), text.len()),
                    _ => prop_assert_eq!(Some(left.len()), text.grapheme_indices(true).next_back().map(|(i, _)| i).or(Some(0))),
                }
            }
        }
    }
}
