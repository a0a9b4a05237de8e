//! Conversation kinds and conversation names.
//!
//! The SDK spells the kind many ways (`singleChat`, `groupchat`, `chatRoom`, …, in any case);
//! mpchat names a conversation `<kind>:<id>` with kind `single`, `group` or `chatroom`.

use std::fmt;

use crate::error::{Error, Result};

/// The kind of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Single,
    Group,
    ChatRoom,
}

impl Kind {
    /// mpchat's own name of the kind, as used in conversation names.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Single => "single",
            Kind::Group => "group",
            Kind::ChatRoom => "chatroom",
        }
    }

    /// The SDK 4.x `chatType` of the kind.
    pub fn sdk_chat_type(self) -> &'static str {
        match self {
            Kind::Single => "singleChat",
            Kind::Group => "groupChat",
            Kind::ChatRoom => "chatRoom",
        }
    }

    /// Reads mpchat's own name of a kind exactly (`single`, `group`, `chatroom`).
    pub fn from_name(name: &str) -> Option<Kind> {
        [Kind::Single, Kind::Group, Kind::ChatRoom].into_iter().find(|k| k.as_str() == name)
    }

    /// Reads any spelling of a kind, case-insensitively: SDK 4.x `singleChat`/`groupChat`/`chatRoom`,
    /// legacy `chat`/`groupchat`/`chatroom`, and mpchat's own `single`/`group`/`chatroom`.
    pub fn from_spelling(spelling: &str) -> Option<Kind> {
        // The spellings met nearly always (mpchat's names, SDK 4.x chatType), without trimming or
        // case folding: a store opening reads one per conversation.
        match spelling {
            "single" | "singleChat" => return Some(Kind::Single),
            "group" | "groupChat" => return Some(Kind::Group),
            "chatroom" | "chatRoom" => return Some(Kind::ChatRoom),
            _ => {}
        }
        let s = spelling.trim();
        const SINGLE: [&str; 3] = ["singlechat", "chat", "single"];
        const GROUP: [&str; 2] = ["groupchat", "group"];
        const ROOM: [&str; 2] = ["chatroom", "room"];
        let is = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(s));
        if is(&SINGLE) {
            Some(Kind::Single)
        } else if is(&GROUP) {
            Some(Kind::Group)
        } else if is(&ROOM) {
            Some(Kind::ChatRoom)
        } else {
            None
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A conversation: its kind and its id (the peer for one-to-one, the group or room id otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConversationId {
    pub kind: Kind,
    pub id: String,
}

impl ConversationId {
    pub fn new(kind: Kind, id: impl Into<String>) -> Self {
        ConversationId { kind, id: id.into() }
    }

    /// Parses `<kind>:<id>`; the id may itself contain `:`. The kind may be any spelling.
    pub fn parse(name: &str) -> Result<Self> {
        // A byte search, not a char pattern: the same result for ':', in fewer instructions.
        let colon = name.bytes().position(|b| b == b':');
        let (kind, id) = colon.map(|at| (&name[..at], &name[at + 1..])).ok_or_else(|| {
            Error::input(format!(
                "conversation {name:?} is not of the form '<kind>:<id>', e.g. 'group:1234' or 'single:bob'"
            ))
        })?;
        let kind = Kind::from_spelling(kind).ok_or_else(|| {
            Error::input(format!(
                "conversation {name:?} has unknown kind {kind:?}; use single, group or chatroom"
            ))
        })?;
        if id.is_empty() {
            return Err(Error::input(format!("conversation {name:?} has an empty id")));
        }
        Ok(ConversationId::new(kind, id))
    }
}

impl ConversationId {
    /// Whether `name` is a conversation name as mpchat writes it (`parse(name)?.name() == name`),
    /// told without allocating: stores check every key they list.
    pub fn is_canonical(name: &str) -> bool {
        ["single:", "group:", "chatroom:"].iter().any(|kind| name.len() > kind.len() && name.starts_with(kind))
    }

    /// `<kind>:<id>`, built without the formatting machinery (slow where wasm is interpreted).
    pub fn name(&self) -> String {
        let kind = self.kind.as_str();
        let mut name = String::with_capacity(kind.len() + 1 + self.id.len());
        name.push_str(kind);
        name.push(':');
        name.push_str(&self.id);
        name
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn canonical_names_are_those_that_parse_back_to_themselves() {
        for name in [
            "single:bob", "group:g1", "chatroom:r", "single:a:b", "single:", "single", "Single:bob", "singleChat:bob",
            "group:", ":g1", "chatroom", "room:r", "", "group: ", "群组:g",
        ] {
            let round_trip = ConversationId::parse(name).is_ok_and(|id| id.name() == name);
            assert_eq!(ConversationId::is_canonical(name), round_trip, "{name:?}");
        }
    }

    #[test]
    fn every_spelling_of_every_kind() {
        let table = [
            ("singleChat", Some(Kind::Single)),
            ("SINGLECHAT", Some(Kind::Single)),
            ("chat", Some(Kind::Single)),
            ("single", Some(Kind::Single)),
            ("groupChat", Some(Kind::Group)),
            ("groupchat", Some(Kind::Group)),
            ("GroupChat", Some(Kind::Group)),
            ("group", Some(Kind::Group)),
            ("chatRoom", Some(Kind::ChatRoom)),
            ("chatroom", Some(Kind::ChatRoom)),
            ("CHATROOM", Some(Kind::ChatRoom)),
            (" chatRoom ", Some(Kind::ChatRoom)),
            ("room", Some(Kind::ChatRoom)),
            ("", None),
            ("groupchats", None),
            ("chat room", None),
            ("txt", None),
        ];
        for (spelling, want) in table {
            assert_eq!(Kind::from_spelling(spelling), want, "{spelling:?}");
        }
    }

    #[test]
    fn conversation_names_round_trip() {
        for name in ["single:bob", "group:1234", "chatroom:r:1", "group:group_x"] {
            assert_eq!(ConversationId::parse(name).unwrap().to_string(), name);
        }
        assert_eq!(
            ConversationId::parse("groupChat:g1").unwrap().to_string(),
            "group:g1"
        );
        for bad in ["bob", "dm:bob", "group:", ""] {
            assert!(ConversationId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
