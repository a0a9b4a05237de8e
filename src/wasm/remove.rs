//! `chat.remove`, `chat.clear` and `chat.removeConversation`: each answers `{outcome, reason?}`
//! (see [`crate::store::Store::remove`] and the other removals); a read that throws is an error.

use wasm_bindgen::prelude::*;

use super::ChatCore;
use crate::error::Error;
use crate::kind::ConversationId;
use crate::local::LOCAL_EXTRA;
use crate::store::UpdateOutcome;

#[wasm_bindgen]
impl ChatCore {
    /// Removes one stored record: arguments `[id]`.
    pub fn remove(&mut self) -> Result<u32, JsError> {
        let id = Self::args().into_iter().next().unwrap_or_default();
        let outcome = self.store.remove(&id);
        self.updated(outcome, "")
    }

    /// Removes every record of a conversation, which stays known: arguments `[conversation]`.
    pub fn clear(&mut self) -> Result<u32, JsError> {
        let conversation = Self::args().into_iter().next().unwrap_or_default();
        let outcome = self.store.clear(&conversation);
        self.updated(outcome, "")
    }

    /// Removes a conversation whole, with its draft and pin: arguments `[conversation]`.
    pub fn remove_conversation(&mut self) -> Result<u32, JsError> {
        let conversation = Self::args().into_iter().next().unwrap_or_default();
        let outcome = self.removing_conversation(&conversation);
        self.updated(outcome, "")
    }

    fn removing_conversation(&mut self, conversation: &str) -> Result<UpdateOutcome, Error> {
        let name = ConversationId::parse(conversation)?.name();
        // Drafts and pins are read first: when they cannot be read, nothing is removed.
        self.local().map_err(|e| {
            Error::storage(format!("the drafts and pins could not be read from storage now ({e}); nothing was removed"))
        })?;
        let records = self.store.remove_conversation(&name)?;
        let forgotten = self.local()?.forget(&name);
        let local = if forgotten {
            let json = self.local()?.to_json();
            self.store.set_extra(LOCAL_EXTRA, &json)?
        } else {
            UpdateOutcome::Unchanged
        };
        Ok(match (records, local) {
            (UpdateOutcome::Unsaved { reason }, _) | (_, UpdateOutcome::Unsaved { reason }) => UpdateOutcome::Unsaved { reason },
            (UpdateOutcome::NotFound | UpdateOutcome::Unchanged, UpdateOutcome::Unchanged) => UpdateOutcome::NotFound,
            _ => UpdateOutcome::Updated,
        })
    }
}
