//! Every `#[wasm_bindgen]` export and the conversions between JavaScript and the core.
//!
//! Values come in as JSON text (the shim's `JSON.stringify` copes with cycles and getters, and serde_json
//! bounds nesting depth, so no input can exhaust the stack) and go out as plain JS objects made by
//! `JSON.parse`. Errors become
//! JS `Error`s whose message says what to change. Nothing here may panic: a trap kills the instance.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::build::build;
use crate::emoji::{self, EmojiTable};
use crate::error::Error;
use crate::normalize::{normalize_json, Context};
use crate::message::{Record, Status};
use crate::profile::{ExtKeys, Profile, ProfileCache, ProfilePolicy};
use crate::store::{InsertOutcome, KeyValue, Store, StoreOptions, UpdateOutcome};
use crate::time::{format_time as format_label, Locale, TimeOptions};

impl From<Error> for JsValue {
    fn from(err: Error) -> JsValue {
        js_sys::Error::new(&err.to_string()).into()
    }
}

// Out through JSON text and the engine's own JSON.parse: smaller than a field-by-field serializer in the
// wasm, and as fast.
fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    let json = serde_json::to_string(value)
        .map_err(|e| Error::input(format!("cannot hand a value to JavaScript: {e}")))?;
    js_sys::JSON::parse(&json)
}

fn from_json<'a, T: Deserialize<'a>>(json: &'a str, what: &str) -> Result<T, Error> {
    serde_json::from_str(json).map_err(|e| Error::input(format!("{what}: {e}")))
}

/// One emoji code and its image, as a chat's options give them.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EmojiEntry {
    code: String,
    file: String,
}

/// `emoji: { table: [...] }` replaces the Easemob table; `emoji: { extra: [...] }` extends it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmojiOptions {
    #[serde(default)]
    table: Option<Vec<EmojiEntry>>,
    #[serde(default)]
    extra: Option<Vec<EmojiEntry>>,
}

impl EmojiOptions {
    fn table(self) -> Result<EmojiTable, Error> {
        let pairs = |entries: Vec<EmojiEntry>| entries.into_iter().map(|e| (e.code, e.file));
        let base = match self.table {
            Some(entries) => EmojiTable::new(pairs(entries))?,
            None => EmojiTable::easemob(),
        };
        match self.extra {
            Some(entries) => base.with_extra(pairs(entries)),
            None => Ok(base),
        }
    }
}

/// Finds emoji codes for the JS side, which slices its own string: `scan` leaves (start, end, entry)
/// triples in UTF-16 offsets in a buffer that JS reads through the wasm memory, so a parse costs one call
/// and no per-segment allocation on either side.
#[wasm_bindgen]
pub struct EmojiScanner {
    table: EmojiTable,
    spans: Vec<u32>,
}

#[wasm_bindgen]
impl EmojiScanner {
    /// `options_json` is a chat's `emoji` option as JSON, or empty for the Easemob table.
    #[wasm_bindgen(constructor)]
    pub fn new(options_json: &str) -> Result<EmojiScanner, JsValue> {
        let table = if options_json.is_empty() {
            EmojiTable::easemob()
        } else {
            from_json::<EmojiOptions>(options_json, "emoji option")?.table()?
        };
        Ok(EmojiScanner { table, spans: Vec::new() })
    }

    /// Scans `text`; returns how many codes it holds. Their spans are at `spans_ptr()`.
    pub fn scan(&mut self, text: &str) -> u32 {
        emoji::spans_utf16(&self.table, text, &mut self.spans);
        u32::try_from(self.spans.len() / 3).unwrap_or(u32::MAX)
    }

    pub fn spans_ptr(&self) -> *const u32 {
        self.spans.as_ptr()
    }

    /// The UTF-16 length of what the delete key leaves of `text`.
    pub fn delete_last(&self, text: &str) -> u32 {
        let kept = emoji::delete_last(&self.table, text);
        u32::try_from(kept.encode_utf16().count()).unwrap_or(u32::MAX)
    }

    /// The table in picker order: `[{code, file}]`.
    pub fn entries(&self) -> Result<JsValue, JsValue> {
        let entries: Vec<EmojiEntry> = self
            .table
            .entries()
            .map(|(code, file)| EmojiEntry { code: code.into(), file: file.into() })
            .collect();
        to_js(&entries)
    }
}

#[wasm_bindgen]
extern "C" {
    /// The shim's adapter over `wx` storage (js-glue/storage.js): JSON text in and out, `undefined` for
    /// a missing key, and an `Error` carrying wx's own text when a call fails.
    pub type JsStorage;
    #[wasm_bindgen(method, catch)]
    fn get(this: &JsStorage, key: &str) -> Result<Option<String>, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn set(this: &JsStorage, key: &str, value: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn remove(this: &JsStorage, key: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn keys(this: &JsStorage) -> Result<js_sys::Array, JsValue>;
}

fn storage_error(err: JsValue) -> Error {
    let text = err
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| err.as_string())
        .unwrap_or_else(|| "the storage call threw".to_string());
    Error::storage(text)
}

/// [`KeyValue`] over the JS storage adapter.
struct JsKeyValue(JsStorage);

impl KeyValue for JsKeyValue {
    fn get(&mut self, key: &str) -> Result<Option<String>, Error> {
        self.0.get(key).map_err(storage_error)
    }
    fn set(&mut self, key: &str, value: &str) -> Result<(), Error> {
        self.0.set(key, value).map_err(storage_error)
    }
    fn remove(&mut self, key: &str) -> Result<(), Error> {
        self.0.remove(key).map_err(storage_error)
    }
    fn keys(&mut self) -> Result<Vec<String>, Error> {
        let keys = self.0.keys().map_err(storage_error)?;
        // Keys that are not strings cannot be mpchat's; they are passed over.
        Ok(keys.iter().filter_map(|k| k.as_string()).collect())
    }
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Limits {
    #[serde(default)]
    total_bytes: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChatConfig {
    user: Value,
    #[serde(default)]
    profile: Option<Profile>,
    #[serde(default)]
    ext_keys: Option<ExtKeys>,
    #[serde(default)]
    profile_policy: Option<ProfilePolicy>,
    #[serde(default)]
    emoji: Option<Value>,
    #[serde(default)]
    limits: Option<Limits>,
    #[serde(default)]
    migrate: Option<bool>,
}

/// `limits.totalBytes`: at least 64 KiB (a few chunks), at most wx's 10 MB.
fn store_options(limits: Option<Limits>) -> Result<StoreOptions, Error> {
    const MIN: f64 = 64.0 * 1024.0;
    const MAX: f64 = 10.0 * 1024.0 * 1024.0;
    match limits.and_then(|l| l.total_bytes) {
        None => Ok(StoreOptions::default()),
        Some(n) if n.is_finite() && (MIN..=MAX).contains(&n) => Ok(StoreOptions { total_bytes: n as u64 }),
        Some(n) => Err(Error::input(format!(
            "createChat: limits.totalBytes {n} is out of range; use {MIN} to {MAX} bytes (default 8 MiB)"
        ))),
    }
}

const MAX_USER_ID_BYTES: usize = 256;

fn user_id(value: &Value) -> Result<String, Error> {
    match value {
        Value::String(s) if !s.is_empty() && s.len() <= MAX_USER_ID_BYTES => Ok(s.clone()),
        Value::String(s) if s.is_empty() => Err(Error::input("createChat: `user` is empty; pass the logged-in user id")),
        Value::String(_) => Err(Error::input(format!("createChat: `user` is longer than {MAX_USER_ID_BYTES} bytes"))),
        Value::Null => Err(Error::input("createChat: `user` is required: the logged-in user id")),
        other => Err(Error::input(format!("createChat: `user` must be a string, got {other}"))),
    }
}

/// A chat of the logged-in user: own profile, ext keys, the profiles seen, and the emoji table.
#[wasm_bindgen]
pub struct ChatCore {
    user: String,
    own: Profile,
    ext_keys: ExtKeys,
    policy: ProfilePolicy,
    profiles: ProfileCache,
    emoji_options: String,
    store: Store<JsKeyValue>,
    open_report: Value,
}

/// How many of each conversation's newest records seed the profile cache when a chat opens.
const PROFILE_SEED_RECORDS: usize = 50;

#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
enum Normalized<'a> {
    Ok { conversation: &'a str, record: &'a Record },
    Ignored { reason: String },
}

/// What `receive` and `outgoing` tell JS.
#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
enum Received {
    Stored { conversation: String, record: Record },
    Duplicate { conversation: String, record: Record },
    Unsaved { conversation: String, record: Record, reason: String },
    Ignored { reason: String },
}

/// What an update tells JS: the outcome and, when a record changed, the record as it now reads.
#[derive(Serialize)]
struct Updated {
    #[serde(flatten)]
    outcome: UpdateOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<Record>,
}

#[wasm_bindgen]
impl ChatCore {
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str, storage: JsStorage) -> Result<ChatCore, JsValue> {
        let config: ChatConfig = from_json(config_json, "createChat options")?;
        let emoji_options = match &config.emoji {
            None | Some(Value::Null) => String::new(),
            Some(v) => v.to_string(),
        };
        let user = user_id(&config.user)?;
        let (mut store, report) = Store::open(JsKeyValue(storage), &user, store_options(config.limits)?)?;
        let mut open_report = serde_json::to_value(&report).unwrap_or(Value::Null);
        if config.migrate == Some(true) {
            let migration = store.migrate_legacy()?;
            if let Value::Object(map) = &mut open_report {
                map.insert("migration".into(), serde_json::to_value(&migration).unwrap_or(Value::Null));
            }
        }
        let mut profiles = ProfileCache::default();
        for summary in store.conversations()? {
            for record in store.history(&summary.conversation, None, PROFILE_SEED_RECORDS)? {
                profiles.remember(&record.sender.id, &Profile::from(&record.sender));
            }
        }
        Ok(ChatCore {
            user,
            own: config.profile.unwrap_or_default(),
            ext_keys: config.ext_keys.unwrap_or_default(),
            policy: config.profile_policy.unwrap_or_default(),
            profiles,
            emoji_options,
            store,
            open_report,
        })
    }

    /// What opening the store found (conversations, rebuilt metas, skipped keys, migration).
    pub fn open_report(&self) -> Result<JsValue, JsValue> {
        to_js(&self.open_report)
    }

    fn context(&self) -> Context<'_> {
        Context { me: &self.user, ext_keys: &self.ext_keys, policy: &self.policy, profiles: &self.profiles }
    }

    fn store_record(&mut self, record: Record) -> Result<JsValue, JsValue> {
        let conversation = record.conversation.clone();
        let outcome = self.store.insert(record.clone())?;
        if outcome != InsertOutcome::Duplicate && record.direction == crate::Direction::In {
            self.profiles.remember(&record.sender.id, &Profile::from(&record.sender));
        }
        to_js(&match outcome {
            InsertOutcome::Stored => Received::Stored { conversation, record },
            InsertOutcome::Duplicate => Received::Duplicate { conversation, record },
            InsertOutcome::Unsaved { reason } => Received::Unsaved { conversation, record, reason },
        })
    }

    /// Normalises and stores a message the SDK delivered.
    pub fn receive(&mut self, message_json: &str) -> Result<JsValue, JsValue> {
        match normalize_json(message_json, &self.context()) {
            Ok(record) => self.store_record(record),
            Err(ignored) => to_js(&Received::Ignored { reason: ignored.reason }),
        }
    }

    /// Stores a message of mine that is about to be sent (the SDK's message object), as `sending`.
    pub fn outgoing(&mut self, message_json: &str) -> Result<JsValue, JsValue> {
        match normalize_json(message_json, &self.context()) {
            Ok(mut record) => {
                record.status = Status::Sending;
                self.store_record(record)
            }
            Err(ignored) => to_js(&Received::Ignored { reason: ignored.reason }),
        }
    }

    fn updated(&mut self, outcome: UpdateOutcome, id: &str) -> Result<JsValue, JsValue> {
        let record = match outcome {
            UpdateOutcome::NotFound | UpdateOutcome::Unchanged => None,
            _ => self.store.get(id)?,
        };
        to_js(&Updated { outcome, record })
    }

    /// The server acknowledged my message: re-key it from the local to the server id, status `sent`.
    pub fn ack(&mut self, local_id: &str, server_id: &str, server_time: Option<f64>) -> Result<JsValue, JsValue> {
        let time = server_time.filter(|t| t.is_finite() && *t > 0.0).map(|t| t as i64);
        let outcome = self.store.ack_sent(local_id, server_id, time)?;
        self.updated(outcome, server_id)
    }

    /// The SDK refused my message.
    pub fn fail(&mut self, local_id: &str) -> Result<JsValue, JsValue> {
        let outcome = self.store.mark_failed(local_id)?;
        self.updated(outcome, local_id)
    }

    /// A record as it now reads, if kept.
    pub fn record(&mut self, id: &str) -> Result<JsValue, JsValue> {
        let record = self.store.get(id)?;
        to_js(&Updated { outcome: if record.is_some() { UpdateOutcome::Unchanged } else { UpdateOutcome::NotFound }, record })
    }

    /// `onRecallMessage`: the message `id` was recalled by `by`.
    pub fn recall(&mut self, id: &str, by: &str) -> Result<JsValue, JsValue> {
        let outcome = self.store.recall(id, by)?;
        self.updated(outcome, id)
    }

    /// `onReadMessage`: the peer read my message `id`.
    pub fn read_ack(&mut self, id: &str) -> Result<JsValue, JsValue> {
        let outcome = self.store.mark_read_by_peer(id)?;
        self.updated(outcome, id)
    }

    /// `onDeliveredMessage`: my message `id` reached the peer.
    pub fn delivery_ack(&mut self, id: &str) -> Result<JsValue, JsValue> {
        let outcome = self.store.mark_delivered(id)?;
        self.updated(outcome, id)
    }

    /// `onChannelMessage`: the peer read the whole conversation. The event names it as a message would.
    pub fn channel_ack(&mut self, event_json: &str) -> Result<JsValue, JsValue> {
        let event: Value = from_json(event_json, "channel ack")?;
        let conversation = crate::normalize::conversation_of_ack(&event, &self.user)
            .map_err(|ignored| Error::input(format!("channel ack: {}", ignored.reason)))?;
        let outcome = self.store.peer_read_all(&conversation)?;
        to_js(&Updated { outcome, record: None })
    }

    pub fn history(&mut self, conversation: &str, before: Option<String>, limit: u32) -> Result<JsValue, JsValue> {
        to_js(&self.store.history(conversation, before.as_deref(), limit as usize)?)
    }

    pub fn conversations(&mut self) -> Result<JsValue, JsValue> {
        to_js(&self.store.conversations()?)
    }

    pub fn mark_read(&mut self, conversation: &str) -> Result<JsValue, JsValue> {
        let outcome = self.store.mark_read(conversation)?;
        to_js(&Updated { outcome, record: None })
    }

    pub fn mute(&mut self, conversation: &str, on: bool) -> Result<JsValue, JsValue> {
        let outcome = self.store.mute(conversation, on)?;
        to_js(&Updated { outcome, record: None })
    }

    pub fn unread_total(&self) -> f64 {
        self.store.unread_total() as f64
    }

    pub fn storage_report(&self) -> Result<JsValue, JsValue> {
        to_js(&self.store.report())
    }

    /// Evictions since the last call, for the shim's `evicted` event.
    pub fn take_evictions(&mut self) -> Result<JsValue, JsValue> {
        to_js(&self.store.take_evictions())
    }

    /// A scanner with this chat's emoji table.
    pub fn emoji_scanner(&self) -> Result<EmojiScanner, JsValue> {
        EmojiScanner::new(&self.emoji_options)
    }

    /// Options for `WebIM.message.create`, or an `Error` saying what is wrong with the input.
    pub fn build(&self, input_json: &str) -> Result<JsValue, JsValue> {
        let input: Value = from_json(input_json, "build input")?;
        to_js(&build(&input, &self.own, &self.ext_keys)?)
    }

    /// `{outcome: 'ok', conversation, record}` or `{outcome: 'ignored', reason}`; stores nothing.
    pub fn normalize(&self, message_json: &str) -> Result<JsValue, JsValue> {
        match normalize_json(message_json, &self.context()) {
            Ok(record) => to_js(&Normalized::Ok { conversation: &record.conversation, record: &record }),
            Err(ignored) => to_js(&Normalized::Ignored { reason: ignored.reason }),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TimeLabelOptions {
    now: f64,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    utc_offset_minutes: Option<i32>,
}

/// `formatTime(ms, {now, locale, utcOffsetMinutes})`.
#[wasm_bindgen]
pub fn format_time(ms: f64, options_json: &str) -> Result<String, JsValue> {
    let options: TimeLabelOptions = from_json(options_json, "formatTime options")?;
    let locale = match options.locale.as_deref() {
        Some(name) => Locale::parse(name)?,
        None => Locale::ZhCn,
    };
    if !options.now.is_finite() {
        return Err(Error::input("formatTime: `now` must be a finite number of milliseconds").into());
    }
    let opts = TimeOptions {
        // A saturating cast: format_time itself rejects absurd times with a clear message.
        now: options.now as i64,
        locale,
        utc_offset_minutes: options.utc_offset_minutes.unwrap_or(crate::time::DEFAULT_UTC_OFFSET_MINUTES),
    };
    Ok(format_label(ms, &opts)?)
}
