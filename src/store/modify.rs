//! Edits, reactions and uploads on stored records.
//!
//! An edit replaces a text record's `text` and sets `edited: {count, time, by}`; reactions are kept on
//! the record as `reactions: [{reaction, count, mine}]`; a file of mine that went up to the server
//! while its record was `sending` replaces the phone's path in `body.url` (and a video's poster in
//! `body.thumb`) with the server's URLs. The store reads what the record holds now (its
//! type, whether it is mine or recalled, how often it was edited, its reactions), decides, and patches
//! the record where it is, sealed or loose, as a recall does: the budget counts the record's size
//! before and after.

use super::backend::{Backend, Edited, Patch, Reaction, Shape, Uploaded};
use super::read::Location;
use super::{Store, UpdateOutcome};
use crate::error::Result;
use crate::message::{Direction, Status};
use crate::normalize::MAX_TEXT_BYTES;
use crate::profile::strip_secret_params;
use crate::tape::Val;

/// Reactions kept on one record (Easemob's own limit per message).
pub const MAX_REACTIONS: usize = 20;
/// A reaction's bytes (UTF-8) at most; a longer one is not kept.
pub const MAX_REACTION_BYTES: usize = 128;
/// Bytes of an editor's user id kept in `edited.by`.
const MAX_BY_BYTES: usize = 256;
/// Edits counted at most (the server allows ten; a larger count from an event is capped).
const MAX_EDIT_COUNT: u64 = 1 << 32;

/// Why an edit or a reaction was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// No record with this id is kept.
    NotFound,
    /// The record is a recall notice.
    Recalled,
    /// Only text records are edited; this is the record's type.
    NotText(String),
    /// Someone else's message (my own edits change my own messages only).
    NotMine,
    /// My message is not on the server (still sending, or failed): nothing there to change.
    NotSent,
    /// The new text is over the limit for messages (its size in bytes).
    TooLong(usize),
    /// The reaction is empty, over [`MAX_REACTION_BYTES`], or holds control characters.
    BadReaction,
    /// The record already has [`MAX_REACTIONS`] different reactions.
    TooManyReactions,
    /// Only image, voice, video and file records carry an uploaded file; this is the record's type.
    NotFile(String),
    /// An upload changes a record of mine only while it is `sending`.
    NotSending,
    /// An uploaded file's URL is empty.
    NoUrl,
}

impl Ignored {
    pub fn name(&self) -> &'static str {
        match self {
            Ignored::NotFound => "notFound",
            _ => "ignored",
        }
    }

    pub fn reason(&self) -> String {
        match self {
            Ignored::NotFound => "no record with this id is stored".into(),
            Ignored::Recalled => "the message was recalled".into(),
            Ignored::NotText(t) => format!("only text messages are edited; this one is {t:?}"),
            Ignored::NotMine => "the message is someone else's; only my own messages are edited".into(),
            Ignored::NotSent => "the message is not on the server yet (sending or failed)".into(),
            Ignored::TooLong(n) => format!("the new text is {n} bytes, over the {MAX_TEXT_BYTES}-byte limit for messages"),
            Ignored::BadReaction => format!(
                "a reaction is a non-empty string of up to {MAX_REACTION_BYTES} bytes without control characters"
            ),
            Ignored::TooManyReactions => format!("the message has {MAX_REACTIONS} different reactions already"),
            Ignored::NotFile(t) => format!("only image, voice, video and file messages carry an uploaded file; this one is {t:?}"),
            Ignored::NotSending => "the message is not being sent (only a sending message of mine takes its upload)".into(),
            Ignored::NoUrl => "the uploaded file's URL is empty".into(),
        }
    }
}

/// An edit to apply: the new text, who edited, when, and the server's count of edits when known.
#[derive(Debug, Clone, Copy)]
pub struct EditRequest<'a> {
    pub text: &'a str,
    pub by: &'a str,
    pub time: i64,
    /// The server's count (an event's `operationCount`); `None` counts one more than stored.
    pub count: Option<u64>,
    /// Refuse records that are not mine (my own edits).
    pub mine_only: bool,
}

/// Where the record is: placed, or waiting in memory for its conversation.
enum Target {
    At(Location),
    Waiting,
}

/// What the record holds now.
struct Current {
    msg_type: String,
    mine: bool,
    recalled: bool,
    /// On the server: not `sending` or `failed`.
    sent: bool,
    sending: bool,
    edits: u64,
    reactions: Vec<Reaction>,
}

/// `reaction` as kept: surrounding whitespace trimmed; `None` when empty, too long, or holding control
/// characters.
pub fn clean_reaction(reaction: &str) -> Option<&str> {
    let r = reaction.trim();
    (!r.is_empty() && r.len() <= MAX_REACTION_BYTES && !r.chars().any(char::is_control)).then_some(r)
}

fn count_of(v: Option<Val<'_>>) -> Option<u64> {
    let n = v?.as_f64()?;
    (n.is_finite() && n >= 0.0).then(|| n.min(MAX_EDIT_COUNT as f64) as u64)
}

fn reactions_of(record: Val<'_>) -> Vec<Reaction> {
    let mut out: Vec<Reaction> = Vec::new();
    let Some(list) = record.get("reactions") else {
        return out;
    };
    for item in list.items() {
        let Some(name) = item.get("reaction").and_then(Val::as_str) else {
            continue;
        };
        let Some(name) = clean_reaction(&name).map(str::to_string) else {
            continue;
        };
        let mine = item.get("mine").and_then(Val::as_bool).unwrap_or(false);
        let count = count_of(item.get("count")).unwrap_or(0).max(u64::from(mine));
        if count == 0 || out.len() >= MAX_REACTIONS || out.iter().any(|r| r.reaction == name) {
            continue;
        }
        out.push(Reaction { reaction: name, count, mine });
    }
    out
}

fn short(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

impl<B: Backend> Store<B> {
    /// The record `id` and what it holds now.
    fn current(&mut self, id: &str) -> Result<Option<(Target, Current)>> {
        let (target, doc, meta) = match self.find(id)? {
            Some(loc) => {
                let Some(entry) = self.entry_at(&loc) else {
                    return Ok(None);
                };
                let (doc, meta) = (entry.doc, entry.meta.clone());
                (Target::At(loc), doc, meta)
            }
            None => match self.deferred.iter().find(|d| d.meta.id == id) {
                Some(w) => (Target::Waiting, w.doc, w.meta.clone()),
                None => return Ok(None),
            },
        };
        let tape = self.backend.read(doc, Shape::Whole)?;
        let record = tape.root();
        let current = Current {
            msg_type: record.get("type").and_then(Val::as_str).unwrap_or_default(),
            mine: meta.direction == Direction::Out,
            sent: !matches!(meta.status, Status::Sending | Status::Failed),
            sending: meta.status == Status::Sending,
            recalled: meta.recalled || record.get("recalled").and_then(Val::as_bool).unwrap_or(false),
            edits: count_of(record.get("edited").and_then(|e| e.get("count"))).unwrap_or(0),
            reactions: reactions_of(record),
        };
        Ok(Some((target, current)))
    }

    fn apply(&mut self, id: &str, target: &Target, patch: &Patch<'_>) -> Result<UpdateOutcome> {
        match target {
            Target::At(loc) => {
                self.patch_at(loc, patch)?;
                let name = loc.conversation().to_string();
                Ok(self.outcome(UpdateOutcome::Updated, Some(&name)))
            }
            Target::Waiting => {
                let outcome = self.patch_deferred(id, |_| patch.clone())?;
                Ok(self.outcome(outcome, None))
            }
        }
    }

    fn refuse(&mut self, why: Ignored) -> std::result::Result<UpdateOutcome, Ignored> {
        let _ = self.outcome(UpdateOutcome::Unchanged, None);
        Err(why)
    }

    /// An edit of record `id` (`onModifiedMessage`, or my own once the server took it). A text record's
    /// text is replaced and `edited` set; with the server's count, an edit not newer than the stored one
    /// changes nothing. With `check_only`, nothing changes: `Updated` says it would apply.
    pub fn edit(
        &mut self,
        id: &str,
        request: EditRequest<'_>,
        check_only: bool,
    ) -> Result<std::result::Result<UpdateOutcome, Ignored>> {
        self.begin();
        let Some((target, current)) = self.current(id)? else {
            return Ok(self.refuse(Ignored::NotFound));
        };
        let refusal = if current.recalled {
            Some(Ignored::Recalled)
        } else if current.msg_type != "txt" {
            Some(Ignored::NotText(current.msg_type.clone()))
        } else if request.mine_only && !current.mine {
            Some(Ignored::NotMine)
        } else if request.mine_only && !current.sent {
            Some(Ignored::NotSent)
        } else if request.text.len() > MAX_TEXT_BYTES {
            Some(Ignored::TooLong(request.text.len()))
        } else {
            None
        };
        if let Some(why) = refusal {
            return Ok(self.refuse(why));
        }
        let count = match request.count.map(|c| c.min(MAX_EDIT_COUNT)) {
            Some(c) if c <= current.edits => return Ok(Ok(self.outcome(UpdateOutcome::Unchanged, None))),
            Some(c) => c,
            None => current.edits.saturating_add(1).min(MAX_EDIT_COUNT),
        };
        if check_only {
            // It would change the record (whatever else waits to be written says nothing about that).
            let _ = self.outcome(UpdateOutcome::Unchanged, None);
            return Ok(Ok(UpdateOutcome::Updated));
        }
        let edit = Edited { text: request.text, count, time: request.time, by: short(request.by, MAX_BY_BYTES) };
        Ok(Ok(self.apply(id, &target, &Patch { edit: Some(edit), ..Patch::default() })?))
    }

    /// `onReactionChange`: the reactions named change to what they say (a count of 0 removes one);
    /// the others stay. Reactions not fit to keep are left out.
    pub fn reactions_changed(
        &mut self,
        id: &str,
        changed: &[Reaction],
    ) -> Result<std::result::Result<UpdateOutcome, Ignored>> {
        self.begin();
        let Some((target, current)) = self.current(id)? else {
            return Ok(self.refuse(Ignored::NotFound));
        };
        if current.recalled {
            return Ok(self.refuse(Ignored::Recalled));
        }
        let mut list = current.reactions.clone();
        for change in changed {
            let Some(name) = clean_reaction(&change.reaction) else {
                continue;
            };
            let count = change.count.min(MAX_EDIT_COUNT).max(u64::from(change.mine));
            let at = list.iter().position(|r| r.reaction == name);
            match (at, count) {
                (Some(at), 0) => {
                    list.remove(at);
                }
                (None, 0) => {}
                (Some(at), _) => {
                    if let Some(r) = list.get_mut(at) {
                        r.count = count;
                        r.mine = change.mine;
                    }
                }
                (None, _) if list.len() < MAX_REACTIONS => {
                    list.push(Reaction { reaction: name.to_string(), count, mine: change.mine })
                }
                (None, _) => {}
            }
        }
        if list == current.reactions {
            return Ok(Ok(self.outcome(UpdateOutcome::Unchanged, None)));
        }
        Ok(Ok(self.apply(id, &target, &Patch { reactions: Some(&list), ..Patch::default() })?))
    }

    /// My own reaction added (`on`) or taken back, once the server took it. With `check_only`, nothing
    /// changes: `Updated` says it would change the record, `Unchanged` that there is nothing to do.
    pub fn react(
        &mut self,
        id: &str,
        reaction: &str,
        on: bool,
        check_only: bool,
    ) -> Result<std::result::Result<UpdateOutcome, Ignored>> {
        self.begin();
        let Some((target, current)) = self.current(id)? else {
            return Ok(self.refuse(Ignored::NotFound));
        };
        if current.recalled {
            return Ok(self.refuse(Ignored::Recalled));
        }
        if !current.sent {
            return Ok(self.refuse(Ignored::NotSent));
        }
        let Some(name) = clean_reaction(reaction).filter(|r| *r == reaction) else {
            return Ok(self.refuse(Ignored::BadReaction));
        };
        let mut list = current.reactions.clone();
        let at = list.iter().position(|r| r.reaction == name);
        match (at, on) {
            (None, true) if list.len() >= MAX_REACTIONS => return Ok(self.refuse(Ignored::TooManyReactions)),
            (None, true) => list.push(Reaction { reaction: name.to_string(), count: 1, mine: true }),
            (Some(at), true) => {
                if let Some(r) = list.get_mut(at).filter(|r| !r.mine) {
                    r.count = r.count.saturating_add(1);
                    r.mine = true;
                }
            }
            (Some(at), false) => {
                if let Some(r) = list.get_mut(at).filter(|r| r.mine) {
                    r.count = r.count.saturating_sub(1);
                    r.mine = false;
                }
                if list.get(at).is_some_and(|r| r.count == 0) {
                    list.remove(at);
                }
            }
            (None, false) => {}
        }
        if list == current.reactions {
            return Ok(Ok(self.outcome(UpdateOutcome::Unchanged, None)));
        }
        if check_only {
            // It would change the record (whatever else waits to be written says nothing about that).
            let _ = self.outcome(UpdateOutcome::Unchanged, None);
            return Ok(Ok(UpdateOutcome::Updated));
        }
        Ok(Ok(self.apply(id, &target, &Patch { reactions: Some(&list), ..Patch::default() })?))
    }

    /// My file of record `id` is on the server now: its `body.url` becomes `url` and, for a video whose
    /// poster went up too, `body.thumb` becomes `thumb` (secret query parameters removed, as from every
    /// URL a record keeps). Only a file-like record of mine that is `sending`.
    pub fn uploaded(
        &mut self,
        id: &str,
        url: &str,
        thumb: Option<&str>,
    ) -> Result<std::result::Result<UpdateOutcome, Ignored>> {
        self.begin();
        let Some((target, current)) = self.current(id)? else {
            return Ok(self.refuse(Ignored::NotFound));
        };
        let refusal = if !current.mine {
            Some(Ignored::NotMine)
        } else if current.recalled {
            Some(Ignored::Recalled)
        } else if !matches!(
            current.msg_type.as_str(),
            "img" | "audio" | "video" | "file"
        ) {
            Some(Ignored::NotFile(current.msg_type.clone()))
        } else if !current.sending {
            Some(Ignored::NotSending)
        } else if url.is_empty() {
            Some(Ignored::NoUrl)
        } else {
            None
        };
        if let Some(why) = refusal {
            return Ok(self.refuse(why));
        }
        let url = strip_secret_params(url);
        let thumb = thumb
            .filter(|t| !t.is_empty() && current.msg_type == "video")
            .map(strip_secret_params);
        let uploaded = Uploaded {
            url: &url,
            thumb: thumb.as_deref(),
        };
        Ok(Ok(self.apply(
            id,
            &target,
            &Patch {
                uploaded: Some(uploaded),
                ..Patch::default()
            },
        )?))
    }
}
