//! Every `#[wasm_bindgen]` export: the chat core as the shim (js-glue/) drives it.
//!
//! Values come in on a tape the shim writes into the inbox, and go out as JSON text in the outbox
//! (see [`wire`]); records stay JS objects the shim holds, named by handle. A record handed back is
//! `{"doc": handle, "status": "…"}`, its status with the read marks applied. Errors become JS
//! `Error`s whose message says what to change. Nothing here may panic: a trap kills the instance.

// Linked for its memcpy, memmove, memset and memcmp (see mem/src/lib.rs).
use mpchat_mem::Classes;

/// Small blocks from size classes, the rest from std's allocator (see mem/src/classes.rs).
#[global_allocator]
static ALLOCATOR: Classes<std::alloc::System> = Classes::new(std::alloc::System);

mod directory;
mod host;
mod modify;
mod remove;
mod wire;

use wasm_bindgen::prelude::*;

use crate::build::{self, build};
use crate::emoji::{self, EmojiTable};
use crate::error::Error;
use crate::json::{write_f64, write_i64, write_list, write_number_fields, write_numbers, write_str, write_whole, Json};
use crate::kind::ConversationId;
use crate::local::{LocalState, LOCAL_EXTRA};
use crate::message::{Direction, Record, Status};
use crate::normalize::{self, conversation_of_ack, normalize, Context, Normalized};
use crate::quote::Quote;
use crate::profile::{ExtKeys, Profile, ProfileCache, ProfilePolicy};
use crate::store::{
    candidates, Backend, HEAD_LENGTHS, HEAD_NUMBERS, HEAD_STRINGS, ConversationSummary, InsertOutcome, MigrationReport, OpenReport, RecordMeta, ResendRefusal,
    Shape, Shown, Store, StoreOptions, UpdateOutcome,
};
use crate::tape::{Kind, Val};
use crate::time::{format_time as format_label, Locale, TimeOptions, DEFAULT_UTC_OFFSET_MINUTES};
pub use host::Host;
use host::JsBackend;
use wire::{buffer, send, with_tape};

pub use wire::{inbox, outbox};

/// Persisted profiles: enough for the senders of a busy phone, small enough to rewrite on a change.
const PROFILE_CACHE: usize = 256;
const PROFILES_EXTRA: &str = "profiles";
const MAX_USER_ID_BYTES: usize = 256;

/// The names of a record's statuses in [`Status::ALL`] order, for the shim's host (the place of a
/// status in it is what [`RecordMeta::code`] counts).
#[wasm_bindgen]
pub fn record_statuses() -> u32 {
    send_list(&Status::ALL, |out, status| write_str(out, status.as_str()))
}

/// The projections of the stored shapes, in [`Shape::ALL`] order, for the shim's host.
#[wasm_bindgen]
pub fn store_projections() -> u32 {
    send_list(&Shape::ALL, |out, shape| out.push_str(&shape.projection().to_json()))
}

/// The paths of a head handed over as numbers (`store` HEAD_NUMBERS, HEAD_LENGTHS, HEAD_STRINGS), for
/// the shim's host: `{"numbers": [path…], "lengths": [path…], "strings": [path…]}`, each path the keys
/// and indexes from the stored value down (`"nm.0"` → `["nm",0]`).
#[wasm_bindgen]
pub fn head_layout() -> u32 {
    let paths = |out: &mut String, list: &[&str]| {
        write_list(out, list, |out, path| {
            write_list(out, path.split('.'), |out, step| match step.parse::<u32>() {
                Ok(index) => write_f64(out, f64::from(index)),
                Err(_) => write_str(out, step),
            })
        })
    };
    let mut out = buffer("{\"numbers\":");
    paths(&mut out, &HEAD_NUMBERS);
    out.push_str(",\"lengths\":");
    paths(&mut out, &HEAD_LENGTHS);
    out.push_str(",\"strings\":");
    paths(&mut out, &HEAD_STRINGS);
    out.push('}');
    send(out)
}

/// `[item, …]` in the outbox, each written by `write`.
fn send_list<T>(items: impl IntoIterator<Item = T>, write: impl FnMut(&mut String, T)) -> u32 {
    let mut out = buffer("");
    write_list(&mut out, items, write);
    send(out)
}

fn emoji_json(table: &EmojiTable) -> String {
    let mut out = String::from("[");
    for (i, (code, file)) in table.entries().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        write_str(&mut out, code);
        out.push(',');
        write_str(&mut out, file);
        out.push(']');
    }
    out.push(']');
    out
}

/// Easemob's emoji table, `[[code, file], …]` in picker order.
#[wasm_bindgen]
pub fn emoji_default() -> u32 {
    send(emoji_json(&EmojiTable::easemob()))
}

/// Whether a code may start after, and end before, the character `code_point`: bit 1 set when a
/// code cannot start right after it (it is a prepend mark), bit 2 when a code cannot end right before
/// it (it extends the character before). The shim asks only about non-ASCII neighbours.
#[wasm_bindgen]
pub fn emoji_joins(code_point: u32) -> u32 {
    char::from_u32(code_point).map_or(0, |c| u32::from(emoji::joins_before(c)) | u32::from(emoji::joins_after(c)) << 1)
}

/// The UTF-16 length of what the delete key leaves of the text on the tape, with Easemob's table.
#[wasm_bindgen]
pub fn delete_last_default() -> u32 {
    delete_last_with(&EmojiTable::easemob())
}

/// The reference tokenizer on the text on the tape: `[start, end, entry, …]` in UTF-16 units. The
/// shim's own scanner (js-glue/emoji.js) is checked against it.
#[wasm_bindgen]
pub fn emoji_spans_default() -> u32 {
    spans_with(&EmojiTable::easemob())
}

fn spans_with(table: &EmojiTable) -> u32 {
    let text = with_tape(|v| v.as_str()).unwrap_or_default();
    let mut spans = Vec::new();
    emoji::spans_utf16(table, &text, &mut spans);
    send_list(&spans, |out, n| write_f64(out, f64::from(*n)))
}

fn delete_last_with(table: &EmojiTable) -> u32 {
    let text = with_tape(|v| v.as_str()).unwrap_or_default();
    let kept = emoji::delete_last(table, &text);
    u32::try_from(kept.encode_utf16().count()).unwrap_or(u32::MAX)
}

/// `formatTime(ms, { now, locale, utcOffsetMinutes })`; `locale` 0 for zh-CN, 1 for en.
#[wasm_bindgen]
pub fn format_time(ms: f64, now: f64, utc_offset_minutes: f64, locale: u32) -> Result<u32, JsError> {
    if !now.is_finite() {
        return Err(Error::input("formatTime: `now` must be a finite number of milliseconds").into());
    }
    let offset = if utc_offset_minutes.is_finite() {
        utc_offset_minutes.clamp(-100_000.0, 100_000.0) as i32
    } else {
        DEFAULT_UTC_OFFSET_MINUTES
    };
    let options = TimeOptions {
        now: now as i64,
        locale: if locale == 1 { Locale::En } else { Locale::ZhCn },
        utc_offset_minutes: offset,
    };
    Ok(send(format_label(ms, &options)?))
}

/// The locale number [`format_time`] takes, from a tag (`zh-CN`, `en`, …); an error names the ones known.
#[wasm_bindgen]
pub fn locale_number() -> Result<u32, JsError> {
    let tag = with_tape(|v| v.as_str()).unwrap_or_default();
    Ok(match Locale::parse(&tag)? {
        Locale::En => 1,
        _ => 0,
    })
}

/// A chat of the logged-in user: own profile, ext keys, profiles seen, emoji table, the store.
#[wasm_bindgen]
pub struct ChatCore {
    user: String,
    own: Profile,
    ext_keys: ExtKeys,
    policy: ProfilePolicy,
    /// Read from storage when first needed.
    profiles: Option<ProfileCache>,
    /// Drafts and pins, read from storage when first needed.
    local: Option<LocalState>,
    /// Server names and avatars (crate::directory), read from storage when first needed.
    directory: Option<crate::directory::Directory>,
    /// The stored profiles could not be read yet (see [`ChatCore::profiles`]).
    profiles_unread: bool,
    emoji: EmojiTable,
    store: Store<JsBackend>,
    opened: OpenReport,
    migration: Option<MigrationReport>,
    /// A message normalised and waiting for its record document ([`ChatCore::insert`]).
    pending: Option<Record>,
    /// The pending record came from the server's history (`normalize_fetched`).
    pending_fetched: bool,
}

fn user_id(value: Option<Val<'_>>) -> Result<String, Error> {
    let value = value.filter(|v| !v.is_null());
    match value.map(|v| (v.as_str(), v)) {
        None => Err(Error::input("createChat: `user` is required: the logged-in user id")),
        Some((Some(s), _)) if s.is_empty() => Err(Error::input("createChat: `user` is empty; pass the logged-in user id")),
        Some((Some(s), _)) if s.len() > MAX_USER_ID_BYTES => {
            Err(Error::input(format!("createChat: `user` is longer than {MAX_USER_ID_BYTES} bytes")))
        }
        Some((Some(s), _)) => Ok(s),
        Some((None, v)) => Err(Error::input(format!("createChat: `user` must be a string, got {}", v.to_json()))),
    }
}

/// `limits.totalBytes`: at least 64 KiB (a few chunks), at most wx's 10 MB.
fn store_options(limits: Option<Val<'_>>) -> Result<StoreOptions, Error> {
    const MIN: f64 = 64.0 * 1024.0;
    const MAX: f64 = 10.0 * 1024.0 * 1024.0;
    let total = limits.and_then(|l| l.get("totalBytes")).filter(|v| !v.is_null());
    match total.map(|v| v.as_f64()) {
        None => Ok(StoreOptions::default()),
        Some(Some(n)) if (MIN..=MAX).contains(&n) => Ok(StoreOptions { total_bytes: n as u64 }),
        Some(n) => Err(Error::input(format!(
            "createChat: limits.totalBytes {} is out of range; use {MIN} to {MAX} bytes (default 8 MiB)",
            n.map_or_else(|| "(not a number)".to_string(), |n| n.to_string())
        ))),
    }
}

/// `emoji: { table: [...] }` replaces the Easemob table; `emoji: { extra: [...] }` extends it.
fn emoji_table(option: Option<Val<'_>>) -> Result<EmojiTable, Error> {
    let Some(option) = option.filter(|v| !v.is_null()) else {
        return Ok(EmojiTable::easemob());
    };
    let entries = |name: &str| -> Result<Option<Vec<(String, String)>>, Error> {
        let Some(list) = option.get(name).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        list.items()
            .map(|e| match (e.get("code").and_then(Val::as_str), e.get("file").and_then(Val::as_str)) {
                (Some(code), Some(file)) => Ok((code, file)),
                _ => Err(Error::input(format!("emoji option: each `{name}` entry is {{ code, file }}, got {}", e.to_json()))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    };
    for (key, _) in option.entries() {
        if !(key.is("table") || key.is("extra")) {
            return Err(Error::input(format!("emoji option: unknown field `{key}`; use `table` or `extra`")));
        }
    }
    let base = match entries("table")? {
        Some(table) => EmojiTable::new(table)?,
        None => EmojiTable::easemob(),
    };
    match entries("extra")? {
        Some(extra) => base.with_extra(extra),
        None => Ok(base),
    }
}

fn shown_json(out: &mut String, shown: Shown) {
    out.push_str("{\"doc\":");
    write_f64(out, f64::from(shown.doc));
    out.push_str(",\"status\":");
    write_str(out, shown.status.as_str());
    out.push('}');
}

fn outcome_json(out: &mut String, name: &str, reason: Option<&str>) {
    out.push_str("{\"outcome\":");
    write_str(out, name);
    if let Some(reason) = reason {
        out.push_str(",\"reason\":");
        write_str(out, reason);
    }
}

#[wasm_bindgen]
impl ChatCore {
    /// Opens the chat described by the options tape in the inbox, on the shim's `host`.
    #[wasm_bindgen(constructor)]
    pub fn new(host: Host) -> Result<ChatCore, JsError> {
        with_tape(|config| ChatCore::open(config, host)).map_err(JsError::from)
    }

    fn open(config: Val<'_>, host: Host) -> Result<ChatCore, Error> {
        if !matches!(config.kind(), Kind::Object) {
            return Err(Error::input("createChat needs an options object"));
        }
        let field = |name: &str| config.get(name).filter(|v| !v.is_null());
        let user = user_id(field("user"))?;
        let own = field("profile").map(Profile::from_val).transpose()?.unwrap_or_default();
        let ext_keys = field("extKeys").map(ExtKeys::from_val).transpose()?.unwrap_or_default();
        let policy = field("profilePolicy").map(ProfilePolicy::from_val).transpose()?.unwrap_or_default();
        let emoji = emoji_table(field("emoji"))?;
        let options = store_options(field("limits"))?;
        let migrate = field("migrate").and_then(Val::as_bool) == Some(true);
        let (mut store, mut opened) = Store::open(JsBackend::new(host), &user, options)?;
        // Sends a killed app left `sending` become `failed`; a storage error leaves them for the next try.
        opened.failed_sends = store.fail_interrupted_sends().unwrap_or(0);
        let migration = if migrate { Some(store.migrate_legacy()?) } else { None };
        Ok(ChatCore {
            user,
            own,
            ext_keys,
            policy,
            profiles: None,
            profiles_unread: false,
            local: None,
            directory: None,
            emoji,
            store,
            opened,
            migration,
            pending: None,
            pending_fetched: false,
        })
    }

    /// What opening found: `{conversations, rebuilt, migrated, migrationPaused, skippedRecords,
    /// pending, skippedKeys, failedSends, migration?}`.
    pub fn open_report(&self) -> u32 {
        let r = &self.opened;
        let mut out = buffer("{\"conversations\":");
        write_f64(&mut out, r.conversations as f64);
        let counts = [
            ("rebuilt", r.rebuilt),
            ("migrated", r.migrated),
            ("migrationPaused", r.migration_paused),
            ("skippedRecords", r.skipped_records),
            ("failedSends", r.failed_sends),
            ("pending", r.pending),
        ];
        for (name, n) in counts {
            out.push_str(",\"");
            out.push_str(name);
            out.push_str("\":");
            write_f64(&mut out, n as f64);
        }
        out.push_str(",\"skippedKeys\":");
        Json::Array(r.skipped_keys.iter().cloned().map(Json::String).collect()).write(&mut out);
        if let Some(m) = &self.migration {
            out.push_str(",\"migration\":{");
            let counts = [
                ("keysFound", m.keys_found),
                ("imported", m.imported),
                ("duplicates", m.duplicates),
                ("skipped", m.skipped),
                ("keysRemoved", m.keys_removed),
            ];
            write_number_fields(&mut out, &counts.map(|(name, n)| (name, n as u64)));
            out.push_str(",\"keysKept\":");
            Json::Array(m.keys_kept.iter().cloned().map(Json::String).collect()).write(&mut out);
            out.push('}');
        }
        out.push('}');
        send(out)
    }

    /// `{"message": projection, "build": projection, "consumed": [ext keys], "emoji": [[code, file]]}`.
    pub fn settings(&self) -> u32 {
        let mut out = buffer("{\"message\":");
        out.push_str(&normalize::projection(&self.ext_keys).to_json());
        out.push_str(",\"build\":");
        out.push_str(&build::projection().to_json());
        out.push_str(",\"consumed\":");
        let consumed = normalize::consumed_ext_keys(&self.ext_keys);
        Json::Array(consumed.iter().map(|k| Json::String(k.to_string())).collect()).write(&mut out);
        out.push_str(",\"emoji\":");
        out.push_str(&emoji_json(&self.emoji));
        out.push('}');
        send(out)
    }

    /// Drafts and pins, read from storage on first use. A read that throws is an error, and is tried
    /// again next time: nothing is cached, so no write can replace what is stored with less.
    fn local(&mut self) -> Result<&mut LocalState, Error> {
        if self.local.is_none() {
            let read = self.store.extra(LOCAL_EXTRA)?;
            self.local = Some(read.map(|t| LocalState::from_val(t.root())).unwrap_or_default());
        }
        Ok(self.local.get_or_insert_with(LocalState::default))
    }

    /// Stores the drafts and pins after `change` made one (true), as an update's outcome.
    fn save_local(&mut self, changed: Result<bool, Error>) -> Result<u32, JsError> {
        let outcome = match changed? {
            true => {
                let json = self.local()?.to_json();
                self.store.set_extra(LOCAL_EXTRA, &json)
            }
            false => Ok(UpdateOutcome::Unchanged),
        };
        self.updated(outcome, "")
    }

    /// Arguments `[conversation, text]`: the draft kept for the conversation ('' clears it).
    pub fn set_draft(&mut self) -> Result<u32, JsError> {
        let args = Self::args();
        let (conversation, text) = (args.first().map_or("", String::as_str), args.get(1).map_or("", String::as_str));
        let changed = self.local().and_then(|local| local.set_draft(conversation, text));
        self.save_local(changed)
    }

    /// Arguments `[conversation]`: its draft as a JSON string, "" when there is none.
    pub fn draft(&mut self) -> Result<u32, JsError> {
        let conversation = Self::args().into_iter().next().unwrap_or_default();
        let mut out = buffer("");
        write_str(&mut out, self.local()?.draft(&conversation)?);
        Ok(send(out))
    }

    /// Arguments `[conversation]`: pins it (`on`) or unpins it.
    pub fn pin(&mut self, on: bool) -> Result<u32, JsError> {
        let conversation = Self::args().into_iter().next().unwrap_or_default();
        let changed = self.local().and_then(|local| local.pin(&conversation, on));
        self.save_local(changed)
    }

    /// The profiles seen, read from storage on first use. When that read throws, the profiles seen
    /// since are kept in memory only (a write would replace the stored ones) and the read is tried
    /// again with the next use, which merges them in.
    fn profiles(&mut self) -> &ProfileCache {
        if self.profiles.is_none() || self.profiles_unread {
            match self.store.extra(PROFILES_EXTRA) {
                Ok(read) => {
                    let mut cache = read.map(|t| ProfileCache::from_val(t.root())).unwrap_or_default();
                    if cache.len() > PROFILE_CACHE {
                        cache = ProfileCache::with_capacity(PROFILE_CACHE);
                    }
                    if let Some(seen) = self.profiles.take() {
                        if seen.merge_into(&mut cache) {
                            // Written with the next flush.
                            let _ = self.store.stage_extra(PROFILES_EXTRA, &cache.to_json());
                        }
                    }
                    self.profiles = Some(cache);
                    self.profiles_unread = false;
                }
                Err(_) => self.profiles_unread = true,
            }
        }
        self.profiles.get_or_insert_with(|| ProfileCache::with_capacity(PROFILE_CACHE))
    }

    /// Normalises the SDK message on the tape. `{"outcome":"ok","conversation","record":{…without
    /// text and ext},"text": field|null}`, `{"outcome":"typing","conversation","from"}` for a typing
    /// notice (never stored), or `{"outcome":"ignored","reason"}`. With `keep`, the record waits for
    /// [`ChatCore::insert`]; `outgoing` makes it a `sending` record of mine.
    pub fn normalize(&mut self, keep: bool, outgoing: bool) -> u32 {
        self.normalize_as(keep, outgoing, false)
    }

    /// [`ChatCore::normalize`] for a message fetched from the server's history, kept for
    /// [`ChatCore::insert`]: an incoming record is `read` (fetched history is never unread), and the
    /// insert stores it as fetched history (store/fetched.rs).
    pub fn normalize_fetched(&mut self) -> u32 {
        self.normalize_as(true, false, true)
    }

    /// The id of the oldest record stored for the conversation in the arguments `[conversation]`, or
    /// null: where paging back through the server's history starts.
    pub fn oldest(&mut self) -> Result<u32, JsError> {
        let conversation = with_tape(|args| args.items().next().and_then(Val::as_str).unwrap_or_default());
        let oldest = self.store.oldest_id(&conversation)?;
        let mut out = buffer("");
        match oldest {
            Some(id) => write_str(&mut out, &id),
            None => out.push_str("null"),
        }
        Ok(send(out))
    }

    fn normalize_as(&mut self, keep: bool, outgoing: bool, fetched: bool) -> u32 {
        self.pending_fetched = false;
        self.profiles();
        let profiles = self.profiles.take().unwrap_or_default();
        let result = with_tape(|message| {
            let ctx = Context { me: &self.user, ext_keys: &self.ext_keys, policy: &self.policy, profiles: &profiles };
            normalize(message, &ctx)
        });
        self.profiles = Some(profiles);
        let mut out = buffer("");
        match result {
            Err(ignored) => {
                outcome_json(&mut out, "ignored", Some(&ignored.reason));
                out.push('}');
            }
            Ok(typing) if typing.is_typing() => {
                outcome_json(&mut out, "typing", None);
                out.push_str(",\"conversation\":");
                write_str(&mut out, &typing.record.conversation);
                out.push_str(",\"from\":");
                write_str(&mut out, &typing.record.from);
                out.push('}');
                self.pending = None;
            }
            Ok(Normalized { mut record, text_field }) => {
                if outgoing {
                    record.status = Status::Sending;
                }
                if fetched && record.direction == crate::Direction::In {
                    record.status = Status::Read;
                }
                // A placeholder keeps the text where records have it; the shim fills it in.
                if text_field.is_some() {
                    record.text = Some(String::new());
                }
                outcome_json(&mut out, "ok", None);
                out.push_str(",\"conversation\":");
                write_str(&mut out, &record.conversation);
                out.push_str(",\"text\":");
                match text_field {
                    Some(field) => write_str(&mut out, field),
                    None => out.push_str("null"),
                }
                out.push_str(",\"record\":");
                record.write_json(&mut out);
                out.push('}');
                self.pending = keep.then_some(record);
                self.pending_fetched = keep && fetched;
            }
        }
        send(out)
    }

    /// Stores the record last normalised with `keep`, now held by the shim as `doc` with `bytes` of
    /// JSON: `{"outcome":"stored"|"duplicate"|"unsaved"|"ignored","reason"?,"status"}`.
    pub fn insert(&mut self, doc: u32, bytes: f64) -> u32 {
        let mut out = buffer("");
        let fetched = std::mem::take(&mut self.pending_fetched);
        let Some(mut record) = self.pending.take() else {
            self.store.backend().release(doc);
            outcome_json(&mut out, "ignored", Some("mpchat: no message was normalised to store"));
            out.push('}');
            return send(out);
        };
        if let Err(ignored) = normalize::check_record_size(bytes as usize) {
            self.store.backend().release(doc);
            outcome_json(&mut out, "ignored", Some(&ignored.reason));
            out.push('}');
            return send(out);
        }
        if record.direction == crate::Direction::In {
            // Taken, not copied: the record is the shim's document from here on, this copy only decides.
            let profile = Profile { nickname: record.sender.nickname.take(), avatar: record.sender.avatar.take() };
            self.profiles();
            if let Some(cache) = self.profiles.as_mut() {
                if cache.remember(&record.sender.id, &profile) && !self.profiles_unread {
                    let json = cache.to_json();
                    // Written with the record, by the insert's flush.
                    let _ = self.store.stage_extra(PROFILES_EXTRA, &json);
                }
            }
        }
        // The id is taken, not copied: the record is dropped once the store has placed its document.
        let meta = RecordMeta { id: std::mem::take(&mut record.id), ..RecordMeta::of(&record) };
        let sending = record.direction == crate::Direction::Out && record.status == Status::Sending;
        let inserted = match ConversationId::parse(&record.conversation) {
            // A send of mine: named among the sends in flight before it is stored (store/pending.rs).
            Ok(conversation) if sending => self.store.insert_sending_doc(meta, &conversation, doc, bytes as u64),
            Ok(conversation) if fetched => self.store.insert_fetched_doc(meta, &conversation, doc, bytes as u64),
            Ok(conversation) => self.store.insert_doc(meta, &conversation, doc, bytes as u64),
            Err(e) => {
                self.store.backend().release(doc);
                Err(e)
            }
        };
        match inserted {
            Ok(InsertOutcome::Stored) => outcome_json(&mut out, "stored", None),
            Ok(InsertOutcome::Duplicate) => outcome_json(&mut out, "duplicate", None),
            Ok(InsertOutcome::Unsaved { reason }) => outcome_json(&mut out, "unsaved", Some(&reason)),
            Ok(InsertOutcome::NotKept { reason }) => outcome_json(&mut out, "notKept", Some(&reason)),
            Err(e) => outcome_json(&mut out, "ignored", Some(&format!("mpchat could not take the message: {e}"))),
        }
        out.push('}');
        send(out)
    }

    fn updated(&mut self, outcome: Result<UpdateOutcome, Error>, id: &str) -> Result<u32, JsError> {
        let outcome = outcome?;
        let mut out = buffer("");
        let reason = match &outcome {
            UpdateOutcome::Unsaved { reason } => Some(reason.as_str()),
            _ => None,
        };
        outcome_json(&mut out, outcome.name(), reason);
        if !matches!(outcome, UpdateOutcome::NotFound | UpdateOutcome::Unchanged) && !id.is_empty() {
            if let Some(shown) = self.store.get_shown(id)? {
                out.push_str(",\"record\":");
                shown_json(&mut out, shown);
            }
        }
        out.push('}');
        Ok(send(out))
    }

    /// The strings of an arguments tape (an array).
    fn args() -> Vec<String> {
        with_tape(|args| args.items().map(|v| v.as_str().unwrap_or_default()).collect())
    }

    /// The server acknowledged my message: arguments `[localId, serverId]`; `time` is the server's
    /// (NaN when unknown).
    pub fn ack(&mut self, time: f64) -> Result<u32, JsError> {
        let args = Self::args();
        let (local, server) = (args.first().cloned().unwrap_or_default(), args.get(1).cloned().unwrap_or_default());
        let time = (time.is_finite() && time > 0.0).then_some(time as i64);
        let outcome = self.store.send_acked(&local, &server, time);
        self.updated(outcome, &server)
    }

    /// The SDK refused my message, or the shim gave up waiting for its ack: arguments `[localId]`.
    pub fn fail(&mut self) -> Result<u32, JsError> {
        let id = Self::args().into_iter().next().unwrap_or_default();
        let outcome = self.store.send_failed(&id);
        self.updated(outcome, &id)
    }

    /// `chat.resend`: arguments `[id]`. Without `commit`, only checks that the record can be sent again
    /// (mine and `failed`) and answers `{"outcome":"unchanged","record"}`; with it, the record goes back
    /// to `sending` as a send in flight. An `Error` says why a record cannot be sent again.
    pub fn resend(&mut self, commit: bool) -> Result<u32, JsError> {
        let id = Self::args().into_iter().next().unwrap_or_default();
        let refusal = if commit {
            match self.store.resend_started(&id)? {
                Ok(outcome) => return self.updated(Ok(outcome), &id),
                Err(refusal) => refusal,
            }
        } else {
            match self.store.resend_refusal(&id)? {
                None => return self.record_of(id),
                Some(refusal) => refusal,
            }
        };
        let shown = |id: &str| {
            let mut out = String::new();
            write_str(&mut out, id);
            out
        };
        let reason = match refusal {
            ResendRefusal::NotFound => format!(
                "resend: no record {} in this chat; pass the id of a failed record that history or a send returned",
                shown(&id)
            ),
            ResendRefusal::NotMine => {
                format!("resend: record {} is a message someone else sent; only my own failed messages are sent again", shown(&id))
            }
            ResendRefusal::NotFailed(status) => format!(
                "resend: record {} is {}, not failed; only a failed message is sent again",
                shown(&id),
                status.as_str()
            ),
        };
        Err(Error::input(reason).into())
    }

    /// A record as it now reads, if kept: arguments `[id]`.
    pub fn record(&mut self) -> Result<u32, JsError> {
        let id = Self::args().into_iter().next().unwrap_or_default();
        self.record_of(id)
    }

    fn record_of(&mut self, id: String) -> Result<u32, JsError> {
        let mut out = buffer("");
        match self.store.get_shown(&id)? {
            Some(shown) => {
                outcome_json(&mut out, "unchanged", None);
                out.push_str(",\"record\":");
                shown_json(&mut out, shown);
            }
            None => outcome_json(&mut out, "notFound", None),
        }
        out.push('}');
        Ok(send(out))
    }

    /// Before an event about a message that this session may not have read (a recall, an edit, a
    /// reaction): arguments `[id, from, to, chatType]` of the event; reads until the record is found in
    /// the conversations those name (see `store::seek`).
    pub fn seek(&mut self) {
        let args = Self::args();
        let arg = |i: usize| args.get(i).map_or("", String::as_str);
        let conversations = candidates(&self.user, arg(1), arg(2), arg(3));
        self.store.seek(arg(0), &conversations);
    }

    /// `onRecallMessage`: arguments `[id, by]`.
    pub fn recall(&mut self) -> Result<u32, JsError> {
        let args = Self::args();
        let id = args.first().cloned().unwrap_or_default();
        let outcome = self.store.recall(&id, args.get(1).map_or("", String::as_str));
        self.updated(outcome, &id)
    }

    /// `onReadMessage`: arguments `[id]`.
    pub fn read_ack(&mut self) -> Result<u32, JsError> {
        let id = Self::args().into_iter().next().unwrap_or_default();
        let outcome = self.store.mark_read_by_peer(&id);
        self.updated(outcome, &id)
    }

    /// `onDeliveredMessage`: arguments `[id]`.
    pub fn delivery_ack(&mut self) -> Result<u32, JsError> {
        let id = Self::args().into_iter().next().unwrap_or_default();
        let outcome = self.store.mark_delivered(&id);
        self.updated(outcome, &id)
    }

    /// `onChannelMessage`: the event on the tape names the conversation as a message would.
    pub fn channel_ack(&mut self) -> Result<u32, JsError> {
        let conversation = with_tape(|event| conversation_of_ack(event, &self.user))
            .map_err(|ignored| Error::input(format!("channel ack: {}", ignored.reason)))?;
        let outcome = self.store.peer_read_all(&conversation);
        self.updated(outcome, "")
    }

    /// `[{doc, status}]`, oldest first: arguments `[conversation, before | null]`.
    pub fn history(&mut self, limit: u32) -> Result<u32, JsError> {
        let (conversation, before) = with_tape(|args| {
            let mut args = args.items();
            (args.next().and_then(Val::as_str).unwrap_or_default(), args.next().and_then(Val::as_str))
        });
        let page = self.store.history_shown(&conversation, before.as_deref(), limit as usize)?;
        Ok(send_list(page, shown_json))
    }

    /// Rows as [`summary_json`] writes them, most recently active first (pinned ones first).
    pub fn conversations(&mut self) -> Result<u32, JsError> {
        let mut list = self.store.conversations_shown()?;
        // Drafts and pins that cannot be read now are left off this list, not lost.
        let unread = LocalState::default();
        let local = match self.local() {
            Ok(local) => &*local,
            Err(_) => &unread,
        };
        local.order(&mut list, |row| &row.conversation);
        Ok(send_list(list, |out, row| summary_json(out, row, local)))
    }

    /// Arguments `[conversation]`.
    pub fn mark_read(&mut self) -> Result<u32, JsError> {
        let conversation = Self::args().into_iter().next().unwrap_or_default();
        let outcome = self.store.mark_read(&conversation);
        self.updated(outcome, "")
    }

    /// Arguments `[conversation]`.
    pub fn mute(&mut self, on: bool) -> Result<u32, JsError> {
        let conversation = Self::args().into_iter().next().unwrap_or_default();
        let outcome = self.store.mute(&conversation, on);
        self.updated(outcome, "")
    }

    /// Arguments `[conversation|null]`: where a search looks, `[looseRoot, chunkRoot, [[keyPart, activity,
    /// looseFrom, looseNext, [loose holes], [chunk seqs newest first], sealedTime|null], …]]`, the most recently active
    /// conversation first (see `store::SearchPlan`). A loose record's key is `looseRoot + keyPart + n`,
    /// a chunk's `chunkRoot + keyPart + seq`.
    pub fn search_plan(&self) -> Result<u32, JsError> {
        let only = match Self::args().into_iter().next().filter(|c| !c.is_empty()) {
            Some(given) => Some(ConversationId::parse(&given)?.name()),
            None => None,
        };
        let (loose_root, chunk_root) = self.store.key_roots();
        let mut out = buffer("[");
        write_str(&mut out, &loose_root);
        out.push(',');
        write_str(&mut out, &chunk_root);
        out.push(',');
        write_list(&mut out, self.store.search_plan(only.as_deref()), |out, plan| {
            out.push('[');
            write_str(out, &plan.key_part);
            for n in [plan.activity, plan.loose.start as i64, plan.loose.end as i64] {
                out.push(',');
                write_i64(out, n);
            }
            out.push(',');
            write_numbers(out, &plan.loose_holes);
            out.push(',');
            write_numbers(out, &plan.chunks);
            out.push(',');
            match plan.sealed_time {
                Some(time) => write_i64(out, time),
                None => out.push_str("null"),
            }
            out.push(']');
        });
        out.push(']');
        Ok(send(out))
    }

    /// Arguments `[[conversation, time, id, direction, status], …]` of records read from storage
    /// directly: the status pages see for each (watermarks applied), as a JSON array.
    pub fn presented(&self) -> u32 {
        let statuses: Vec<&str> = with_tape(|rows| {
            rows.items()
                .map(|row| {
                    let [conversation, time, id, direction, status] =
                        [0, 1, 2, 3, 4].map(|i| row.items().nth(i));
                    let text = |v: Option<Val<'_>>| v.and_then(Val::as_str).unwrap_or_default();
                    let Some(stored) = Status::from_name(&text(status)) else {
                        return "";
                    };
                    let meta = RecordMeta {
                        id: text(id),
                        time: time.and_then(Val::as_f64).map_or(0, |t| t as i64),
                        direction: Direction::from_name(&text(direction)).unwrap_or(Direction::In),
                        status: stored,
                        recalled: false,
                        mentions_me: false,
                    };
                    self.store.presented_status(&text(conversation), &meta).as_str()
                })
                .collect()
        });
        send_list(&statuses, |out, status| write_str(out, status))
    }

    pub fn unread_total(&self) -> f64 {
        self.store.unread_total() as f64
    }

    pub fn storage_report(&self) -> u32 {
        let r = self.store.report();
        let mut out = buffer("{");
        let fields = [
            ("bytesUsed", r.bytes_used),
            ("totalBytes", r.total_bytes),
            ("keys", r.keys),
            ("conversations", r.conversations as u64),
            ("evictedRecords", r.evicted_records),
            ("evictedChunks", r.evicted_chunks),
            ("skippedCorrupt", r.skipped_corrupt),
            ("skippedRecords", r.skipped_records),
            ("unsaved", r.unsaved),
        ];
        write_number_fields(&mut out, &fields);
        out.push('}');
        send(out)
    }

    /// Writes what waits: the heads a burst of received records left unwritten (store/lag.rs), and
    /// anything a failed flush left: `{"outcome":"saved"|"unsaved","reason"?}`.
    pub fn write_waiting(&mut self) -> u32 {
        let mut out = buffer("");
        match self.store.write_waiting() {
            None => outcome_json(&mut out, "saved", None),
            Some(reason) => outcome_json(&mut out, "unsaved", Some(&reason)),
        }
        out.push('}');
        send(out)
    }

    /// Evictions since the last call: `[{conversation, records, wholeConversation}]`.
    pub fn take_evictions(&mut self) -> u32 {
        send_list(self.store.take_evictions(), |out, e| {
            out.push_str("{\"conversation\":");
            write_str(out, &e.conversation);
            out.push_str(",\"records\":");
            write_f64(out, e.records as f64);
            out.push_str(",\"wholeConversation\":");
            out.push_str(if e.whole_conversation { "true" } else { "false" });
            out.push('}');
        })
    }

    /// Options for `WebIM.message.create` from the send input on the tape:
    /// `{"options": …, "copy": [keys], "extFromInput": bool}`, or an `Error` saying what is wrong.
    pub fn build(&mut self) -> Result<u32, JsError> {
        let store = &mut self.store;
        let mut quoted = |id: &str| Ok(store.get(id)?.map(|record| Quote::of(&record)));
        let built = with_tape(|input| build(input, &self.own, &self.ext_keys, &mut quoted))?;
        let mut out = buffer("{\"options\":");
        built.options.write(&mut out);
        out.push_str(",\"copy\":");
        Json::Array(built.copy.iter().map(|k| Json::String(k.to_string())).collect()).write(&mut out);
        out.push_str(",\"extFromInput\":");
        out.push_str(if built.ext_from_input { "true" } else { "false" });
        out.push('}');
        Ok(send(out))
    }

    /// The UTF-16 length of what the delete key leaves of the text on the tape, with this chat's table.
    pub fn delete_last(&self) -> u32 {
        delete_last_with(&self.emoji)
    }

    /// [`emoji_spans_default`] with this chat's table.
    pub fn emoji_spans(&self) -> u32 {
        spans_with(&self.emoji)
    }
}

/// A row as `[conversation, doc, status, unread, updatedAt, flags, draft?]`, flags 1 mentions me, 2 muted,
/// 4 pinned: the shim names the fields (index.js `conversations`). Positions, not keys: where wasm is
/// interpreted, every byte written costs.
fn summary_json(out: &mut String, row: ConversationSummary<Shown>, local: &LocalState) {
    out.push('[');
    write_str(out, &row.conversation);
    out.push(',');
    write_whole(out, u64::from(row.last.doc));
    out.push(',');
    write_str(out, row.last.status.as_str());
    out.push(',');
    write_whole(out, row.unread);
    out.push(',');
    write_f64(out, row.updated_at as f64);
    out.push(',');
    let pinned = local.is_pinned(&row.conversation);
    write_whole(out, u64::from(u8::from(row.mentions_me) + 2 * u8::from(row.muted) + 4 * u8::from(pinned)));
    let draft = local.draft_of(&row.conversation);
    if !draft.is_empty() {
        out.push(',');
        write_str(out, draft);
    }
    out.push(']');
}
