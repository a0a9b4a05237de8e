//! Finding a record this session has not read, by its id.
//!
//! Events from the server (a recall, an edit, a reaction) name a message by id alone, and after a
//! restart the store has indexed only the ids it read. The event's sender, receiver and chat type say
//! which conversations may hold the message; those are read until it is indexed: the loose records
//! first, then sealed chunks newest first, at most [`SEEK_CHUNKS`] of them. A recall comes within
//! minutes of its message; a change to history older than that bound is ignored as unknown.

use super::backend::Backend;
use super::Store;
use crate::kind::{ConversationId, Kind};

/// Sealed chunks read at most, per conversation, looking for one message.
pub const SEEK_CHUNKS: usize = 16;

/// The conversations an event about a message may be in, for the logged-in `user`: from the message's
/// sender and receiver, and its chat type in any SDK spelling (empty or unknown when the event lacks it).
pub fn candidates(user: &str, from: &str, to: &str, chat_type: &str) -> Vec<String> {
    let name =
        |kind: Kind, id: &str| (!id.is_empty()).then(|| ConversationId::new(kind, id).name());
    let peer = if from == user { to } else { from };
    let names = match Kind::from_spelling(chat_type) {
        Some(Kind::Single) => vec![name(Kind::Single, peer)],
        Some(kind) => vec![name(kind, to)],
        None if to == user => vec![name(Kind::Single, from)],
        None => vec![
            name(Kind::Group, to),
            name(Kind::ChatRoom, to),
            name(Kind::Single, to),
        ],
    };
    names.into_iter().flatten().collect()
}

impl<B: Backend> Store<B> {
    /// Reads what it takes to index record `id` if one of `conversations` holds it (see the module
    /// doc). Values that cannot be read now are passed over.
    pub fn seek(&mut self, id: &str, conversations: &[String]) {
        self.begin();
        for name in conversations {
            if self.index.contains_key(id) {
                return;
            }
            if !self.conversations.contains_key(name) {
                continue;
            }
            if self.load_loose(name).is_ok() && self.index.contains_key(id) {
                return;
            }
            for seq in self.seqs(name).into_iter().rev().take(SEEK_CHUNKS) {
                if self.load_chunk(name, seq).is_ok() && self.index.contains_key(id) {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::candidates;

    #[test]
    fn an_event_names_the_conversations_that_may_hold_its_message() {
        let table: [(&str, &str, &str, &[&str]); 7] = [
            ("bob", "me", "singleChat", &["single:bob"]),
            ("me", "bob", "chat", &["single:bob"]), // my other device
            ("bob", "g1", "groupChat", &["group:g1"]),
            ("bob", "r1", "CHATROOM", &["chatroom:r1"]),
            ("bob", "me", "", &["single:bob"]),
            ("bob", "g1", "", &["group:g1", "chatroom:g1", "single:g1"]),
            ("", "", "", &[]),
        ];
        for (from, to, chat_type, expected) in table {
            assert_eq!(
                candidates("me", from, to, chat_type),
                expected,
                "{from} -> {to} ({chat_type})"
            );
        }
    }
}
