//! Emoji codes inside text: a tokenizer that never fails and borrows from its input.
//! (stub: to be written)

/// A table of bracket codes and the image file each one shows.
#[derive(Debug, Clone)]
pub struct EmojiTable {
    entries: Vec<(String, String)>,
}

impl EmojiTable {
    /// The 35 Easemob codes with their `ee_N.png` images.
    pub fn easemob() -> Self {
        EmojiTable { entries: Vec::new() }
    }

    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(c, f)| (c.as_str(), f.as_str()))
    }
}

/// A piece of text: plain text, or one emoji code with its image file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Emoji { code: &'a str, file: &'a str },
}

/// Splits `text` into segments. Concatenating the segments' source text gives back `text`.
pub fn parse<'a>(table: &'a EmojiTable, text: &'a str) -> Vec<Segment<'a>> {
    let _ = table;
    vec![Segment::Text(text)]
}

/// What the input box's delete key leaves: `text` less a trailing code, else less its last grapheme.
pub fn delete_last<'a>(table: &EmojiTable, text: &'a str) -> &'a str {
    let _ = table;
    text
}
