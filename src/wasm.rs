//! Every `#[wasm_bindgen]` export and the conversions between JavaScript and the core.
//!
//! Values come in as JSON text (the shim's `JSON.stringify` copes with cycles and getters, and serde_json
//! bounds nesting depth, so no input can exhaust the stack) and go out as plain JS objects made by
//! `JSON.parse`. Errors become
//! JS `Error`s whose message says what to change. Nothing here may panic: a trap kills the instance.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::build::build;
use crate::emoji::{self, EmojiTable};
use crate::error::Error;
use crate::normalize::{normalize_json, Context};
use crate::profile::{ExtKeys, Profile, ProfileCache, ProfilePolicy};
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
}

#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
enum Normalized<'a> {
    Ok { conversation: &'a str, record: &'a crate::Record },
    Ignored { reason: String },
}

#[wasm_bindgen]
impl ChatCore {
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str) -> Result<ChatCore, JsValue> {
        let config: ChatConfig = from_json(config_json, "createChat options")?;
        let emoji_options = match &config.emoji {
            None | Some(Value::Null) => String::new(),
            Some(v) => v.to_string(),
        };
        Ok(ChatCore {
            user: user_id(&config.user)?,
            own: config.profile.unwrap_or_default(),
            ext_keys: config.ext_keys.unwrap_or_default(),
            policy: config.profile_policy.unwrap_or_default(),
            profiles: ProfileCache::default(),
            emoji_options,
        })
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
        let context = Context {
            me: &self.user,
            ext_keys: &self.ext_keys,
            policy: &self.policy,
            profiles: &self.profiles,
        };
        match normalize_json(message_json, &context) {
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
