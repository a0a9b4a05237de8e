//! What the user keeps about conversations on this phone alone: drafts and pins.
//!
//! Neither is a message, so neither goes to the server nor into history. Both are small, change
//! rarely (a draft is saved when a chat page is left), and are stored as one extra blob beside the
//! profile cache: written with the store's next flush, counted in its budget, read back on open.
//! Limits keep the blob far under the store's extra limit whatever a page does.

use crate::error::{Error, Result};
use crate::json::{write_list, write_str};
use crate::kind::ConversationId;
use crate::tape::Val;
use crate::vecmap::VecMap;

/// The store's extra blob that holds them.
pub const LOCAL_EXTRA: &str = "local";
/// A draft longer than this is refused: drafts are for a message being typed, not for documents.
pub const MAX_DRAFT_CHARS: usize = 2000;
/// Drafts and pins kept at most, each.
pub const MAX_DRAFTS: usize = 100;
pub const MAX_PINS: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalState {
    pinned: VecMap<String, ()>,
    drafts: VecMap<String, String>,
}

impl LocalState {
    /// Reads the stored blob `{"pins":[conversation…],"drafts":{conversation:text}}`; entries that are
    /// not valid (a bad name, a text over the limit, past the counts) are left out.
    pub fn from_val(value: Val<'_>) -> Self {
        let mut state = LocalState::default();
        let [pins, drafts] = value.fields(["pins", "drafts"]);
        for pin in pins.map(|p| p.items()).into_iter().flatten() {
            if let Some(name) = pin.as_str().and_then(|p| canonical(&p).ok()) {
                if state.pinned.len() < MAX_PINS {
                    state.pinned.insert(name, ());
                }
            }
        }
        for (conversation, text) in drafts.map(|d| d.entries()).into_iter().flatten() {
            let (Ok(name), Some(text)) = (canonical(&conversation.to_string()), text.as_str()) else {
                continue;
            };
            if !text.is_empty() && text.chars().count() <= MAX_DRAFT_CHARS && state.drafts.len() < MAX_DRAFTS {
                state.drafts.insert(name, text);
            }
        }
        state
    }

    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"pins\":");
        write_list(&mut out, self.pinned.keys(), |out, name| write_str(out, name));
        out.push_str(",\"drafts\":{");
        for (i, (name, text)) in self.drafts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, name);
            out.push(':');
            write_str(&mut out, text);
        }
        out.push_str("}}");
        out
    }

    /// Sets the draft of `conversation`; an empty text clears it. True when something changed.
    pub fn set_draft(&mut self, conversation: &str, text: &str) -> Result<bool> {
        let name = canonical(conversation)?;
        if text.is_empty() {
            return Ok(self.drafts.remove(&name).is_some());
        }
        let chars = text.chars().count();
        if chars > MAX_DRAFT_CHARS {
            return Err(Error::input(format!(
                "setDraft: the draft is {chars} characters; drafts are kept up to {MAX_DRAFT_CHARS}"
            )));
        }
        if !self.drafts.contains_key(&name) && self.drafts.len() >= MAX_DRAFTS {
            return Err(Error::input(format!(
                "setDraft: {MAX_DRAFTS} conversations already have a draft; clear one with setDraft(conversation, '')"
            )));
        }
        if self.drafts.get(&name).map(String::as_str) == Some(text) {
            return Ok(false);
        }
        self.drafts.insert(name, text.to_string());
        Ok(true)
    }

    /// The draft of `conversation`, '' when there is none.
    pub fn draft(&self, conversation: &str) -> Result<&str> {
        Ok(self.draft_of(&canonical(conversation)?))
    }

    /// The draft of a conversation named canonically (as the store names them), '' when there is none.
    pub fn draft_of(&self, name: &str) -> &str {
        self.drafts.get(name).map_or("", String::as_str)
    }

    /// Pins or unpins `conversation`. True when something changed.
    pub fn pin(&mut self, conversation: &str, on: bool) -> Result<bool> {
        let name = canonical(conversation)?;
        if !on {
            return Ok(self.pinned.remove(&name).is_some());
        }
        if self.pinned.contains_key(&name) {
            return Ok(false);
        }
        if self.pinned.len() >= MAX_PINS {
            return Err(Error::input(format!("pin: {MAX_PINS} conversations are pinned already; unpin one first")));
        }
        self.pinned.insert(name, ());
        Ok(true)
    }

    pub fn is_pinned(&self, conversation: &str) -> bool {
        self.pinned.contains_key(conversation)
    }

    /// Forgets `conversation` (it was removed). True when something changed.
    pub fn forget(&mut self, conversation: &str) -> bool {
        let pinned = self.pinned.remove(conversation).is_some();
        self.drafts.remove(conversation).is_some() || pinned
    }

    /// Orders a conversation list (most recent first) for showing: pinned ones first, each part in
    /// the order it had.
    pub fn order<T>(&self, list: &mut [T], name: impl Fn(&T) -> &str) {
        if !self.pinned.is_empty() {
            list.sort_by_key(|row| !self.is_pinned(name(row)));
        }
    }
}

/// The conversation's canonical name (`group:g1`), or an error naming what is wrong.
fn canonical(conversation: &str) -> Result<String> {
    Ok(ConversationId::parse(conversation)?.name())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::tape::Tape;

    fn reread(state: &LocalState) -> LocalState {
        let json = state.to_json();
        LocalState::from_val(Tape::full(&serde_json::from_str(&json).unwrap()).root())
    }

    #[test]
    fn drafts_and_pins_survive_their_json() {
        let mut state = LocalState::default();
        assert!(state.set_draft("group:g1", "half \"typed\" 你好 🎉").unwrap());
        assert!(!state.set_draft("group:g1", "half \"typed\" 你好 🎉").unwrap());
        assert!(state.pin("single:bob", true).unwrap());
        assert!(!state.pin("single:bob", true).unwrap());
        let back = reread(&state);
        assert_eq!(back, state);
        assert_eq!(back.draft("group:g1").unwrap(), "half \"typed\" 你好 🎉");
        assert_eq!(back.draft("single:bob").unwrap(), "");
        assert!(back.is_pinned("single:bob"));
    }

    #[test]
    fn clearing_and_forgetting() {
        let mut state = LocalState::default();
        state.set_draft("group:g1", "x").unwrap();
        state.pin("group:g1", true).unwrap();
        assert!(state.set_draft("group:g1", "").unwrap());
        assert!(!state.set_draft("group:g1", "").unwrap());
        assert!(state.forget("group:g1"));
        assert!(!state.forget("group:g1"));
        assert_eq!(state, LocalState::default());
    }

    #[test]
    fn limits_and_bad_names_are_clear_errors() {
        let mut state = LocalState::default();
        let long = "字".repeat(MAX_DRAFT_CHARS + 1);
        assert!(state.set_draft("group:g1", &long).unwrap_err().to_string().contains("2000"));
        assert!(state.set_draft("nonsense", "x").is_err());
        assert!(state.pin("", true).is_err());
        for i in 0..MAX_DRAFTS {
            state.set_draft(&format!("single:u{i}"), "x").unwrap();
        }
        assert!(state.set_draft("single:one-more", "x").unwrap_err().to_string().contains("clear one"));
        assert!(state.set_draft("single:u0", "changed").unwrap(), "an existing draft can still change");
        for i in 0..MAX_PINS {
            state.pin(&format!("group:g{i}"), true).unwrap();
        }
        assert!(state.pin("group:extra", true).unwrap_err().to_string().contains("unpin one"));
    }

    #[test]
    fn a_planted_blob_keeps_only_what_is_valid() {
        let json = r#"{"pins":["group:g1",7,"bad name","group:g1"],"drafts":{"single:bob":"hi","x":"y","group:g2":3,"group:g3":""}}"#;
        let state = LocalState::from_val(Tape::full(&serde_json::from_str(json).unwrap()).root());
        assert_eq!(state.to_json(), r#"{"pins":["group:g1"],"drafts":{"single:bob":"hi"}}"#);
        let nothing = LocalState::from_val(Tape::full(&serde_json::json!([1, 2])).root());
        assert_eq!(nothing, LocalState::default());
    }

    #[test]
    fn pinned_first_then_as_listed() {
        let mut state = LocalState::default();
        state.pin("single:c", true).unwrap();
        state.pin("single:a", true).unwrap();
        let mut list = vec!["single:a", "single:b", "single:c", "single:d"];
        state.order(&mut list, |s| s);
        assert_eq!(list, ["single:a", "single:c", "single:b", "single:d"]);
    }
}
