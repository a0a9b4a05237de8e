//! `chat.refreshProfiles`, `chat.refreshGroups` and the lookups behind `chat.profile` / `chat.groupProfile`:
//! the shim fetches from the server, the core sanitises and keeps what came (crate::directory), and the
//! shim mirrors the result so a lookup per row on a page costs no crossing.

use wasm_bindgen::prelude::*;

use super::wire::{buffer, send, with_tape};
use super::ChatCore;
use crate::directory::{Directory, Shelf, DIRECTORY_EXTRA};
use crate::error::Error;
use crate::json::{write_list, write_str};

#[wasm_bindgen]
impl ChatCore {
    /// The directory as stored, plus the profiles last seen in senders' ext:
    /// `{"users":[…],"groups":[…],"seen":[{id, nickname?, avatar?}]}`. An error when storage cannot be
    /// read now (asked again next time).
    pub fn directory(&mut self) -> Result<u32, JsError> {
        let mut out = buffer("");
        let stored = self.directory_read()?.to_json();
        out.push_str(&stored[..stored.len() - 1]);
        out.push_str(",\"seen\":");
        out.push_str(&self.profiles().to_json());
        out.push('}');
        Ok(send(out))
    }

    /// Keeps what the server answered, fetched at `now` (ms), for users (or with `groups`, for groups):
    /// the rows on the tape (see [`Directory::put`]). Answers `{"outcome", "reason"?, "saved": [entries
    /// as stored], "forgotten": [ids]}`; `forgotten` lists `[shelf, id]` with shelf "users" or "groups".
    pub fn directory_put(&mut self, groups: bool, now: f64) -> Result<u32, JsError> {
        let shelf = if groups { Shelf::Groups } else { Shelf::Users };
        let policy = self.policy.clone();
        let now = if now.is_finite() { now as i64 } else { 0 };
        let directory = self.directory_read()?;
        let put = with_tape(|rows| directory.put(shelf, rows, now, &policy));
        let saved = directory.entries_json(shelf, &put.saved);
        let json = directory.to_json();
        let outcome = self.store.set_extra(DIRECTORY_EXTRA, &json)?;
        let mut out = buffer("{\"outcome\":");
        write_str(&mut out, outcome.name());
        if let crate::store::UpdateOutcome::Unsaved { reason } = &outcome {
            out.push_str(",\"reason\":");
            write_str(&mut out, reason);
        }
        out.push_str(",\"saved\":");
        out.push_str(&saved);
        out.push_str(",\"forgotten\":");
        write_list(&mut out, &put.forgotten, |out, (shelf, id)| {
            out.push('[');
            write_str(out, if *shelf == Shelf::Groups { "groups" } else { "users" });
            out.push(',');
            write_str(out, id);
            out.push(']');
        });
        out.push('}');
        Ok(send(out))
    }

    /// The directory, read from storage on first use. A read that throws is an error and is tried again
    /// next time: nothing is cached, so no write can replace what is stored with less.
    fn directory_read(&mut self) -> Result<&mut Directory, Error> {
        if self.directory.is_none() {
            let read = self.store.extra(DIRECTORY_EXTRA)?;
            let policy = &self.policy;
            self.directory = Some(
                read.map(|t| Directory::from_val(t.root(), policy))
                    .unwrap_or_default(),
            );
        }
        Ok(self.directory.get_or_insert_with(Directory::default))
    }
}
