//! The exports for edits, reactions and uploads (see `store::modify`). Each answers `{"outcome", "reason"?,
//! "record"?}`: `updated` with the record as it now reads, `unchanged`, `ready` (a check that would
//! change the record), `notFound` or `ignored` with the reason the change was not made.

use wasm_bindgen::prelude::*;

use super::wire::{buffer, send, with_tape};
use super::{outcome_json, ChatCore};
use crate::error::Error;
use crate::store::{EditRequest, Ignored, Reaction, UpdateOutcome};
use crate::tape::Val;

/// Reactions read from one event at most (the store keeps fewer).
const MAX_CHANGED: usize = 64;

/// A time or count from JS: `None` unless a finite number ≥ 0.
fn whole(n: f64) -> Option<u64> {
    (n.is_finite() && n >= 0.0).then(|| n.min(9.0e15) as u64)
}

impl ChatCore {
    /// The answer; a check (`commit` false) that would change the record answers `ready`.
    fn modified(
        &mut self,
        result: Result<Result<UpdateOutcome, Ignored>, Error>,
        id: &str,
        commit: bool,
    ) -> Result<u32, JsError> {
        match result? {
            Ok(UpdateOutcome::Updated) if !commit => {
                let mut out = buffer("");
                outcome_json(&mut out, "ready", None);
                out.push('}');
                Ok(send(out))
            }
            Ok(outcome) => self.updated(Ok(outcome), id),
            Err(why) => {
                let mut out = buffer("");
                outcome_json(&mut out, why.name(), Some(&why.reason()));
                out.push('}');
                Ok(send(out))
            }
        }
    }

    fn edit_with(&mut self, commit: bool, time: f64, count: f64, mine_only: bool) -> Result<u32, JsError> {
        let args = Self::args();
        let id = args.first().cloned().unwrap_or_default();
        let text = args.get(1).cloned().unwrap_or_default();
        let by = if mine_only { self.user.clone() } else { args.get(2).cloned().unwrap_or_default() };
        let request = EditRequest {
            text: &text,
            by: &by,
            time: whole(time).map_or(0, |t| t as i64),
            count: whole(count),
            mine_only,
        };
        let result = self.store.edit(&id, request, !commit);
        self.modified(result, &id, commit)
    }
}

#[wasm_bindgen]
impl ChatCore {
    /// My own edit (`chat.edit`): arguments `[id, text]`. Without `commit`, only checks that the record
    /// is mine, sent, a text, not recalled, and the text within the limit (`ready`); with it, the edit is stored
    /// (`count` is the server's count of edits, NaN when unknown; `time` when it was edited).
    pub fn edit_own(&mut self, commit: bool, time: f64, count: f64) -> Result<u32, JsError> {
        self.edit_with(commit, time, count, true)
    }

    /// `onModifiedMessage`: arguments `[id, text, by]`; `count` the server's count of edits (NaN when
    /// unknown), `time` when it was edited.
    pub fn edit_event(&mut self, time: f64, count: f64) -> Result<u32, JsError> {
        self.edit_with(true, time, count, false)
    }

    /// My own reaction (`chat.react`): arguments `[id, reaction]`. Without `commit`, only checks that
    /// it can be added or taken back (`ready`; `unchanged` when there is nothing to do); with it, the record's reactions change.
    pub fn react(&mut self, on: bool, commit: bool) -> Result<u32, JsError> {
        let args = Self::args();
        let id = args.first().cloned().unwrap_or_default();
        let reaction = args.get(1).cloned().unwrap_or_default();
        let result = self.store.react(&id, &reaction, on, !commit);
        self.modified(result, &id, commit)
    }

    /// `onReactionChange`: arguments `[id, [[reaction, count, mine], …]]`.
    pub fn reactions_changed(&mut self) -> Result<u32, JsError> {
        let (id, changed) = with_tape(|args| {
            let mut items = args.items();
            let id = items.next().and_then(Val::as_str).unwrap_or_default();
            let mut changed = Vec::new();
            if let Some(list) = items.next() {
                for item in list.items().take(MAX_CHANGED) {
                    let mut fields = item.items();
                    let (Some(reaction), count, mine) = (
                        fields.next().and_then(Val::as_str),
                        fields.next().and_then(Val::as_f64).and_then(whole),
                        fields.next().and_then(Val::as_bool).unwrap_or(false),
                    ) else {
                        continue;
                    };
                    changed.push(Reaction { reaction, count: count.unwrap_or(0), mine });
                }
            }
            (id, changed)
        });
        let result = self.store.reactions_changed(&id, &changed);
        self.modified(result, &id, true)
    }

    /// My file went up to the server while its record was `sending` (`chat.send` of a `file`): arguments
    /// `[id, url, thumb]` (`thumb` '' when no poster went up). The record's `body.url` (and a video's
    /// `body.thumb`) change; `ignored` when the record is not a sending file-like record of mine.
    pub fn uploaded(&mut self) -> Result<u32, JsError> {
        let args = Self::args();
        let id = args.first().cloned().unwrap_or_default();
        let url = args.get(1).cloned().unwrap_or_default();
        let thumb = args.get(2).cloned().unwrap_or_default();
        let result = self.store.uploaded(&id, &url, Some(thumb.as_str()));
        self.modified(result, &id, true)
    }
}
