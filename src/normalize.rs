//! Whatever the SDK hands a callback, as one normalised [`Record`](crate::Record).
//!
//! The Easemob SDKs deliver the same message in several shapes (reference/easemob.md §2, §3): the 4.x
//! `addEventHandler` shape (`type` = message type, `chatType`, `msg`, numeric `time`), the legacy `listen`
//! shape (`type` = `chat`/`groupchat`/`chatroom`, `data`, digit-string `time`, `contentsType`), its
//! agoraToken variant (`type` = `singleChat`/`groupChat`/`chatRoom`), and the options object `build()`
//! produces once `WebIM.message.create` has added `id`, `from` and `time` (used for the 'sending' record).
//! All of them become one [`Record`]; anything unusable becomes [`Ignored`] with a reason, never a panic.
//!
//! Decisions worth knowing:
//! - The kind comes from `chatType`, else the legacy `type`, else `group`; but if any of them, or
//!   `roomType: true`, says chat room, it is a chat room: a chat-room message never lands in a
//!   one-to-one conversation. An unknown `chatType` is ignored rather than guessed.
//! - `time` is required: a record without one would sort as 1970. It must be a non-negative number
//!   (a fraction is floored) or a digit string, at most 2^53 − 1 so JavaScript reads it exactly.
//! - Only known body fields are copied, and `access_token`/`token`/`secret` query parameters are
//!   removed from URLs, so a record never carries an access token or file secret.
//! - In JSON text, an escaped lone surrogate (which `JSON.stringify` writes for broken UTF-16) is read
//!   as U+FFFD instead of failing the whole message.

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Number, Value};

use crate::error::describe;
use crate::kind::Kind;
use crate::message::{Direction, Mentions, MsgType, Record, Sender, Status};
use crate::profile::{
    read_ext_profile, strip_secret_params, ExtKeys, ProfileCache, ProfilePolicy,
    UIKIT_USER_INFO_KEY,
};

/// Longest `id`, `from` or `to`, in bytes.
pub const MAX_ID_BYTES: usize = 256;
/// Longest text of a `txt` message, in UTF-8 bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Largest record, serialised as JSON.
pub const MAX_RECORD_BYTES: usize = 128 * 1024;
/// Largest message JSON text read at all.
pub const MAX_JSON_BYTES: usize = 2 * 1024 * 1024;
/// Deepest nesting kept in `ext`.
pub const MAX_EXT_DEPTH: usize = 32;
/// Largest timestamp JavaScript represents exactly (2^53 − 1).
const MAX_TIME: u64 = (1 << 53) - 1;

/// The ext key of UIKit @mentions.
const MENTIONS_KEY: &str = "em_at_list";

/// What normalising needs to know about the chat it runs in.
pub struct Context<'a> {
    /// The logged-in user id.
    pub me: &'a str,
    pub ext_keys: &'a ExtKeys,
    pub policy: &'a ProfilePolicy,
    /// Last profiles seen, the fallback when a message carries none.
    pub profiles: &'a ProfileCache,
}

/// Why a message was not turned into a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub reason: String,
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Ignored {}

fn ignored(reason: impl Into<String>) -> Ignored {
    Ignored {
        reason: reason.into(),
    }
}

/// Normalises a message given as JSON text (as `JSON.stringify` writes it in JavaScript).
pub fn normalize_json(json: &str, ctx: &Context) -> Result<Record, Ignored> {
    if json.len() > MAX_JSON_BYTES {
        return Err(ignored(format!(
            "message JSON is {} bytes, over the {MAX_JSON_BYTES}-byte limit",
            json.len()
        )));
    }
    let json = replace_lone_surrogates(json);
    let value: Value = serde_json::from_str(&json)
        .map_err(|e| ignored(format!("message is not valid JSON: {e}")))?;
    normalize(&value, ctx)
}

/// Normalises a message in any SDK shape.
pub fn normalize(message: &Value, ctx: &Context) -> Result<Record, Ignored> {
    let msg = message
        .as_object()
        .ok_or_else(|| ignored(format!("message is {}, not an object", describe(message))))?;
    let id = id_field(msg, "id", true)?;
    let from = id_field(msg, "from", false)?;
    let to = id_field(msg, "to", true)?;
    let time = timestamp(msg.get("time"))?;
    let kind = kind_of(msg)?;
    let msg_type = msg_type_of(msg)?;
    let (text, body) = match content(msg, msg_type)? {
        Content::Text(text) => (Some(text), None),
        Content::Body(body) => (None, Some(body)),
    };

    let ext_in = msg.get("ext").and_then(Value::as_object);
    if let Some(ext) = ext_in {
        if nests_deeper_than(ext, MAX_EXT_DEPTH) {
            return Err(ignored(format!(
                "ext nests deeper than {MAX_EXT_DEPTH} levels"
            )));
        }
    }
    let carried = ext_in
        .map(|e| read_ext_profile(e, ctx.ext_keys, ctx.policy))
        .unwrap_or_default();
    let known = ctx.profiles.get(&from);
    let sender = Sender {
        id: from.clone(),
        nickname: carried
            .nickname
            .or_else(|| known.and_then(|p| p.nickname.clone())),
        avatar: carried
            .avatar
            .or_else(|| known.and_then(|p| p.avatar.clone())),
    };
    let mentions = ext_in
        .and_then(|e| e.get(MENTIONS_KEY))
        .and_then(read_mentions);
    let direction = if from == ctx.me {
        Direction::Out
    } else {
        Direction::In
    };
    let mentions_me =
        direction == Direction::In && mentions.as_ref().is_some_and(|m| m.includes(ctx.me));
    let conversation = conversation_name(kind, &from, &to, ctx.me);
    let ext = ext_in
        .map(|e| {
            let consumed = [
                ctx.ext_keys.nickname.as_str(),
                ctx.ext_keys.avatar.as_str(),
                UIKIT_USER_INFO_KEY,
                MENTIONS_KEY,
            ];
            e.iter()
                .filter(|(k, _)| !consumed.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();

    let record = Record {
        id,
        conversation,
        kind,
        from,
        to,
        direction,
        time,
        msg_type,
        text,
        body,
        sender,
        mentions,
        mentions_me,
        status: match direction {
            Direction::Out => Status::Sent,
            Direction::In => Status::Received,
        },
        recalled: false,
        ext,
    };
    let size = serialized_size(&record);
    if size > MAX_RECORD_BYTES {
        return Err(ignored(format!(
            "record is {size} bytes as JSON, over the {MAX_RECORD_BYTES}-byte limit (ext or body too large)"
        )));
    }
    Ok(record)
}


/// A user-supplied value shortened for a reason, quoted.
fn brief(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{:?}…", text.get(..cut).unwrap_or_default()),
        None => format!("{text:?}"),
    }
}

/// `id`, `from`, `to`: a non-empty string (or an integer, where `accept_numbers`) of bounded length.
fn id_field(msg: &Map<String, Value>, name: &str, accept_numbers: bool) -> Result<String, Ignored> {
    let value: Cow<str> = match msg.get(name) {
        None => return Err(ignored(format!("{name} is missing"))),
        Some(Value::String(s)) => Cow::Borrowed(s),
        Some(Value::Number(n)) if accept_numbers => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Cow::Owned(u.to_string()),
            (None, Some(i)) => Cow::Owned(i.to_string()),
            _ => return Err(ignored(format!("{name} {n} is not a whole number"))),
        },
        Some(other) => {
            return Err(ignored(format!(
                "{name} is {}, not a string",
                describe(other)
            )))
        }
    };
    if value.is_empty() {
        return Err(ignored(format!("{name} is empty")));
    }
    if value.len() > MAX_ID_BYTES {
        return Err(ignored(format!(
            "{name} is {} bytes, over the {MAX_ID_BYTES}-byte limit",
            value.len()
        )));
    }
    Ok(value.into_owned())
}

fn timestamp(value: Option<&Value>) -> Result<i64, Ignored> {
    let not_a_timestamp =
        |shown: String, why: &str| ignored(format!("time {shown} is not a timestamp ({why})"));
    let ms = match value {
        None => return Err(ignored("time is missing")),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => u,
            (None, Some(f)) if f >= 0.0 && f <= MAX_TIME as f64 => f.floor() as u64,
            _ => return Err(not_a_timestamp(n.to_string(), "negative or too large")),
        },
        Some(Value::String(s)) => {
            let digits = s.trim();
            if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(not_a_timestamp(brief(s), "not a string of digits"));
            }
            digits
                .parse::<u64>()
                .map_err(|_| not_a_timestamp(brief(s), "not a string of digits"))?
        }
        Some(other) => return Err(not_a_timestamp(describe(other).to_string(), "wrong type")),
    };
    if ms > MAX_TIME {
        return Err(not_a_timestamp(ms.to_string(), "too large"));
    }
    i64::try_from(ms).map_err(|_| not_a_timestamp(ms.to_string(), "too large"))
}

/// An optional string field: absent and `null` are `None`, another type is an error naming the field.
fn optional_str<'m>(msg: &'m Map<String, Value>, name: &str) -> Result<Option<&'m str>, Ignored> {
    match msg.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ignored(format!(
            "{name} is {}, not a string",
            describe(other)
        ))),
    }
}

/// Group and chat room: `to`. One-to-one: the peer, `from` unless that is me.
fn conversation_name(kind: Kind, from: &str, to: &str, me: &str) -> String {
    let id = match kind {
        Kind::Single if from != me => from,
        _ => to,
    };
    format!("{kind}:{id}")
}

/// The conversation an ack event (`onChannelMessage`: `{from, to, chatType?}`) is about. Acks without
/// a kind are one-to-one, as the SDK sends them.
pub fn conversation_of_ack(event: &Value, me: &str) -> Result<String, Ignored> {
    let msg = event
        .as_object()
        .ok_or_else(|| ignored(format!("ack is {}, not an object", describe(event))))?;
    let from = id_field(msg, "from", true)?;
    let to = id_field(msg, "to", true)?;
    let kind = kind_of(msg).unwrap_or(Kind::Single);
    Ok(conversation_name(kind, &from, &to, me))
}

fn kind_of(msg: &Map<String, Value>) -> Result<Kind, Ignored> {
    let from_chat_type = match optional_str(msg, "chatType")? {
        Some(spelling) => Some(Kind::from_spelling(spelling).ok_or_else(|| {
            ignored(format!(
                "chatType {} is not a conversation kind (singleChat, groupChat or chatRoom)",
                brief(spelling)
            ))
        })?),
        None => None,
    };
    let spelled = |name: &str| {
        msg.get(name)
            .and_then(Value::as_str)
            .and_then(Kind::from_spelling)
    };
    let room_flag = match msg.get("roomType") {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    };
    let signals = [from_chat_type, spelled("type"), spelled("group")];
    if room_flag || signals.contains(&Some(Kind::ChatRoom)) {
        return Ok(Kind::ChatRoom);
    }
    signals.into_iter().flatten().next().ok_or_else(|| {
        ignored("conversation kind is missing: no chatType, legacy type (chat, groupchat, chatroom), group or roomType")
    })
}

const SUPPORTED_TYPES: &str = "txt, img, audio, video, file, loc, cmd or custom";

fn msg_type_of(msg: &Map<String, Value>) -> Result<MsgType, Ignored> {
    if let Some(name) = optional_str(msg, "type")? {
        if let Some(msg_type) = MsgType::from_name(name) {
            return Ok(msg_type);
        }
        if Kind::from_spelling(name).is_none() {
            return Err(ignored(format!(
                "message type {} is not supported ({SUPPORTED_TYPES})",
                brief(name)
            )));
        }
    }
    if let Some(name) = optional_str(msg, "contentsType")? {
        return MsgType::from_name(name).ok_or_else(|| {
            ignored(format!("contentsType {} is not supported (TEXT, IMAGE, VOICE, VIDEO, FILE, LOCATION, COMMAND or CUSTOM)", brief(name)))
        });
    }
    let has = |name: &str| msg.get(name).is_some_and(|v| !v.is_null());
    if has("action") {
        Ok(MsgType::Cmd)
    } else if has("customEvent") || has("customExts") {
        Ok(MsgType::Custom)
    } else if has("lat") || has("lng") {
        Ok(MsgType::Loc)
    } else if TEXT_FIELDS.iter().any(|f| has(f)) {
        Ok(MsgType::Txt)
    } else {
        Err(ignored(
            "message type is missing: no type or contentsType, and no text, action, customEvent or location to tell it by",
        ))
    }
}

/// Where the SDK shapes put the text of a `txt` message, in order of preference.
const TEXT_FIELDS: [&str; 3] = ["msg", "data", "sourceMsg"];
/// String fields of file-like messages; URLs among them lose secret query parameters.
/// The string and number fields each file-like type keeps. The SDK fills in the others with `''` or 0
/// depending on the listener style; keeping only a type's own, non-empty fields makes both styles agree.
fn file_fields(msg_type: MsgType) -> (&'static [&'static str], &'static [&'static str]) {
    match msg_type {
        MsgType::Img => (&["url", "filename", "thumb"], &["file_length", "width", "height"]),
        MsgType::Audio => (&["url", "filename"], &["file_length", "length"]),
        MsgType::Video => (&["url", "filename", "thumb"], &["file_length", "length"]),
        _ => (&["url", "filename"], &["file_length"]),
    }
}

/// What a message carries: the text of a `txt`, the fields of the other types.
enum Content {
    Text(String),
    Body(Map<String, Value>),
}

fn content(msg: &Map<String, Value>, msg_type: MsgType) -> Result<Content, Ignored> {
    let mut body = Map::new();
    match msg_type {
        MsgType::Txt => {
            let mut text = None;
            for name in TEXT_FIELDS {
                if let Some(found) = optional_str(msg, name)? {
                    text = Some(found);
                    break;
                }
            }
            let text = text.ok_or_else(|| {
                ignored("text is missing: a txt message needs msg (or legacy data)")
            })?;
            if text.len() > MAX_TEXT_BYTES {
                return Err(ignored(format!(
                    "text is {} bytes, over the {MAX_TEXT_BYTES}-byte limit",
                    text.len()
                )));
            }
            return Ok(Content::Text(text.to_string()));
        }
        MsgType::Img | MsgType::Audio | MsgType::Video | MsgType::File => {
            // The options object of an upload keeps url and filename inside `file`; that of an
            // already uploaded audio, video or file keeps them inside `body` (SDK 4.x sends those).
            let nested = |outer: &str| msg.get(outer).and_then(Value::as_object);
            let (file, body_in) = (nested("file"), nested("body"));
            let field = |name: &str| {
                msg.get(name)
                    .or_else(|| body_in.and_then(|b| b.get(name)))
                    .or_else(|| file.and_then(|f| f.get(name)))
            };
            let (strings, numbers) = file_fields(msg_type);
            for &name in strings {
                if let Some(Value::String(s)) = field(name).filter(|v| v.as_str() != Some("")) {
                    let kept = if name == "filename" {
                        s.clone()
                    } else {
                        strip_secret_params(s)
                    };
                    body.insert(name.to_string(), Value::String(kept));
                }
            }
            for &name in numbers {
                if let Some(Value::Number(n)) = field(name) {
                    body.insert(name.to_string(), Value::Number(n.clone()));
                }
            }
        }
        MsgType::Loc => {
            for name in ["addr", "buildingName"] {
                if let Some(Value::String(s)) = msg.get(name) {
                    body.insert(name.to_string(), Value::String(s.clone()));
                }
            }
            for name in ["lat", "lng"] {
                let number = match msg.get(name) {
                    Some(Value::Number(n)) => Some(n.clone()),
                    Some(Value::String(s)) => {
                        // serde_json's number parser, already in the wasm, rather than core's.
                        serde_json::from_str::<f64>(s.trim()).ok().and_then(Number::from_f64)
                    }
                    _ => None,
                };
                if let Some(n) = number {
                    body.insert(name.to_string(), Value::Number(n));
                }
            }
        }
        MsgType::Cmd => {
            let action = optional_str(msg, "action")?
                .ok_or_else(|| ignored("action is missing: a cmd message needs one"))?;
            body.insert("action".into(), Value::String(action.to_string()));
        }
        MsgType::Custom => {
            if let Some(event) = optional_str(msg, "customEvent")? {
                body.insert("customEvent".into(), Value::String(event.to_string()));
            }
            if let Some(exts) = msg.get("customExts").and_then(Value::as_object) {
                let strings: Map<String, Value> = exts
                    .iter()
                    .filter(|(_, v)| v.is_string())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                body.insert("customExts".into(), Value::Object(strings));
            }
        }
    }
    Ok(Content::Body(body))
}

/// `em_at_list`: an array of user ids, or `"ALL"` (any case) for everyone.
fn read_mentions(value: &Value) -> Option<Mentions> {
    match value {
        Value::String(s) if s.trim().eq_ignore_ascii_case("all") => Some(Mentions::all()),
        Value::Array(items) => {
            let users: Vec<String> = items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            (!users.is_empty()).then_some(Mentions::Users(users))
        }
        _ => None,
    }
}

/// True when `ext` holds containers nested more than `limit` deep (checked without recursion).
pub(crate) fn nests_deeper_than(ext: &Map<String, Value>, limit: usize) -> bool {
    let mut stack: Vec<(&Value, usize)> = ext.values().map(|v| (v, 2)).collect();
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth > limit {
            return true;
        }
        stack.extend(children.map(|child| (child, depth.saturating_add(1))));
    }
    false
}

/// Bytes of `record` as JSON, counted without building the string.
fn serialized_size(record: &Record) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, record) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// Rewrites escaped lone UTF-16 surrogates (`\ud800` without its pair) as `\ufffd`, which serde_json
/// would otherwise reject. Escapes are ASCII, so byte positions stay on character boundaries.
fn replace_lone_surrogates(json: &str) -> Cow<'_, str> {
    let bytes = json.as_bytes();
    let hex_at = |at: usize| -> Option<u16> {
        let digits = json.get(at..at.checked_add(4)?)?;
        if digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            u16::from_str_radix(digits, 16).ok()
        } else {
            None
        }
    };
    let unicode_escape_at = |at: usize| -> Option<u16> {
        if bytes.get(at) == Some(&b'\\') && bytes.get(at.checked_add(1)?) == Some(&b'u') {
            hex_at(at.checked_add(2)?)
        } else {
            None
        }
    };
    let mut lone: Vec<usize> = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        if bytes.get(at) != Some(&b'\\') {
            at = at.saturating_add(1);
            continue;
        }
        match unicode_escape_at(at) {
            Some(0xD800..=0xDBFF) => {
                let next = at.saturating_add(6);
                if matches!(unicode_escape_at(next), Some(0xDC00..=0xDFFF)) {
                    at = next.saturating_add(6);
                } else {
                    lone.push(at);
                    at = next;
                }
            }
            Some(0xDC00..=0xDFFF) => {
                lone.push(at);
                at = at.saturating_add(6);
            }
            Some(_) => at = at.saturating_add(6),
            None => at = at.saturating_add(2),
        }
    }
    if lone.is_empty() {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len());
    let mut copied = 0usize;
    for start in lone {
        out.push_str(json.get(copied..start).unwrap_or_default());
        out.push_str("\\ufffd");
        copied = start.saturating_add(6);
    }
    out.push_str(json.get(copied..).unwrap_or_default());
    Cow::Owned(out)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::profile::Profile;
    use proptest::prelude::*;
    use serde_json::json;

    const ME: &str = "alice";
    const T: i64 = 1_700_000_000_000;

    fn run_with(message: &Value, profiles: &ProfileCache) -> Result<Record, Ignored> {
        let ctx = Context {
            me: ME,
            ext_keys: &ExtKeys::default(),
            policy: &ProfilePolicy::default(),
            profiles,
        };
        normalize(message, &ctx)
    }

    fn run(message: &Value) -> Result<Record, Ignored> {
        run_with(message, &ProfileCache::default())
    }

    fn run_json(json: &str) -> Result<Record, Ignored> {
        let ctx = Context {
            me: ME,
            ext_keys: &ExtKeys::default(),
            policy: &ProfilePolicy::default(),
            profiles: &ProfileCache::default(),
        };
        normalize_json(json, &ctx)
    }

    /// `base` with `extra`'s fields added or replaced.
    fn with(base: Value, extra: Value) -> Value {
        let mut merged = base.as_object().cloned().unwrap_or_default();
        merged.extend(extra.as_object().cloned().unwrap_or_default());
        Value::Object(merged)
    }

    fn v4(chat_type: &str, from: &str, to: &str) -> Value {
        json!({"id": "m1", "type": "txt", "chatType": chat_type, "from": from, "to": to, "msg": "hi", "time": T,
               "ext": {}, "onlineState": 1})
    }

    fn legacy(kind: &str, from: &str, to: &str) -> Value {
        json!({"id": "m1", "type": kind, "from": from, "to": to, "data": "hi", "sourceMsg": "hi",
               "time": T.to_string(), "contentsType": "TEXT", "error": false, "errorText": "", "errorCode": ""})
    }

    #[test]
    fn routes_every_shape_and_kind() {
        use Direction::{In, Out};
        use Kind::{ChatRoom, Group, Single};
        let options = |extra: Value| {
            with(
                json!({"id": "local-1", "type": "txt", "to": "g1", "msg": "hi", "from": ME, "time": T}),
                extra,
            )
        };
        let table: Vec<(&str, Value, &str, Kind, Direction)> = vec![
            (
                "4.x single",
                v4("singleChat", "bob", ME),
                "single:bob",
                Single,
                In,
            ),
            (
                "4.x group",
                v4("groupChat", "bob", "g1"),
                "group:g1",
                Group,
                In,
            ),
            (
                "4.x chat room",
                v4("chatRoom", "bob", "r1"),
                "chatroom:r1",
                ChatRoom,
                In,
            ),
            (
                "4.x kind in any case",
                v4("GROUPCHAT", "bob", "g1"),
                "group:g1",
                Group,
                In,
            ),
            (
                "4.x chatroom lower case",
                v4("chatroom", "bob", "r1"),
                "chatroom:r1",
                ChatRoom,
                In,
            ),
            (
                "legacy chat",
                legacy("chat", "bob", ME),
                "single:bob",
                Single,
                In,
            ),
            (
                "legacy groupchat",
                legacy("groupchat", "bob", "g1"),
                "group:g1",
                Group,
                In,
            ),
            (
                "legacy chatroom",
                legacy("chatroom", "bob", "r1"),
                "chatroom:r1",
                ChatRoom,
                In,
            ),
            (
                "agoraToken singleChat",
                legacy("singleChat", "bob", ME),
                "single:bob",
                Single,
                In,
            ),
            (
                "agoraToken groupChat",
                legacy("groupChat", "bob", "g1"),
                "group:g1",
                Group,
                In,
            ),
            (
                "agoraToken chatRoom",
                legacy("chatRoom", "bob", "r1"),
                "chatroom:r1",
                ChatRoom,
                In,
            ),
            (
                "old group field only",
                json!({"id": "m1", "type": "txt", "group": "groupchat", "from": "bob", "to": "g1", "msg": "x", "time": T}),
                "group:g1",
                Group,
                In,
            ),
            (
                "group flag with roomType false",
                json!({"id": "m1", "type": "txt", "group": "groupchat", "roomType": false, "from": "bob", "to": "g1", "msg": "x", "time": T}),
                "group:g1",
                Group,
                In,
            ),
            (
                "group flag with roomType true",
                json!({"id": "m1", "type": "txt", "group": "groupchat", "roomType": true, "from": "bob", "to": "r1", "msg": "x", "time": T}),
                "chatroom:r1",
                ChatRoom,
                In,
            ),
            (
                "demo trap: chatType chatRoom plus group flag",
                with(v4("chatRoom", "bob", "r1"), json!({"group": "groupchat"})),
                "chatroom:r1",
                ChatRoom,
                In,
            ),
            (
                "roomType true beats chatType singleChat",
                with(v4("singleChat", "bob", "r1"), json!({"roomType": true})),
                "chatroom:r1",
                ChatRoom,
                In,
            ),
            (
                "roomType \"true\" as a string",
                with(legacy("chat", "bob", "r1"), json!({"roomType": "true"})),
                "chatroom:r1",
                ChatRoom,
                In,
            ),
            (
                "legacy chatroom type beats chatType singleChat",
                with(
                    legacy("chatroom", "bob", "r1"),
                    json!({"chatType": "singleChat"}),
                ),
                "chatroom:r1",
                ChatRoom,
                In,
            ),
            (
                "chatType wins over the group flag",
                with(v4("singleChat", "bob", ME), json!({"group": "groupchat"})),
                "single:bob",
                Single,
                In,
            ),
            (
                "build() options, group",
                options(json!({"chatType": "groupChat", "group": "groupchat", "roomType": false})),
                "group:g1",
                Group,
                Out,
            ),
            (
                "build() options, chat room",
                options(
                    json!({"chatType": "chatRoom", "group": "groupchat", "roomType": true, "to": "r1"}),
                ),
                "chatroom:r1",
                ChatRoom,
                Out,
            ),
            (
                "build() options, single",
                options(json!({"chatType": "singleChat", "to": "bob"})),
                "single:bob",
                Single,
                Out,
            ),
            (
                "mine from another device, single",
                v4("singleChat", ME, "bob"),
                "single:bob",
                Single,
                Out,
            ),
            (
                "mine from another device, legacy",
                legacy("chat", ME, "bob"),
                "single:bob",
                Single,
                Out,
            ),
            (
                "mine from another device, group",
                v4("groupChat", ME, "g1"),
                "group:g1",
                Group,
                Out,
            ),
            (
                "mine in a chat room",
                v4("chatRoom", ME, "r1"),
                "chatroom:r1",
                ChatRoom,
                Out,
            ),
            (
                "note to self",
                v4("singleChat", ME, ME),
                "single:alice",
                Single,
                Out,
            ),
            (
                "numeric id and to",
                json!({"id": 123, "type": "txt", "chatType": "groupChat", "from": "bob", "to": 456, "msg": "x", "time": T}),
                "group:456",
                Group,
                In,
            ),
        ];
        for (name, message, conversation, kind, direction) in table {
            let record = run(&message).unwrap_or_else(|e| panic!("{name}: ignored: {e}"));
            assert_eq!(record.conversation, conversation, "{name}");
            assert_eq!(record.kind, kind, "{name}");
            assert_eq!(record.direction, direction, "{name}");
            let status = if direction == Out {
                Status::Sent
            } else {
                Status::Received
            };
            assert_eq!(record.status, status, "{name}");
            assert_eq!(record.time, T, "{name}");
            assert_eq!(record.sender.id, record.from, "{name}");
        }
    }

    #[test]
    fn times() {
        let table = [
            (json!(T), T),
            (json!(T.to_string()), T),
            (json!(format!(" {T} ")), T),
            (json!(1_700_000_000_000.75), T),
            (json!(0), 0),
            (json!("0"), 0),
            (json!(9_007_199_254_740_991_u64), 9_007_199_254_740_991),
        ];
        for (time, want) in table {
            let record = run(&with(v4("singleChat", "bob", ME), json!({"time": time}))).unwrap();
            assert_eq!(record.time, want, "{time}");
        }
    }

    #[test]
    fn bodies_of_every_type() {
        let base = |extra: Value| {
            with(
                json!({"id": "m1", "chatType": "singleChat", "from": "bob", "to": ME, "time": T}),
                extra,
            )
        };
        type Case<'a> = (&'a str, Value, MsgType, Option<&'a str>, Option<Value>);
        let table: Vec<Case> = vec![
            (
                "4.x txt",
                base(json!({"type": "txt", "msg": "hi [):]"})),
                MsgType::Txt,
                Some("hi [):]"),
                None,
            ),
            (
                "empty txt",
                base(json!({"type": "txt", "msg": ""})),
                MsgType::Txt,
                Some(""),
                None,
            ),
            (
                "legacy text from data",
                legacy("chat", "bob", ME),
                MsgType::Txt,
                Some("hi"),
                None,
            ),
            (
                "legacy text from sourceMsg",
                base(json!({"type": "chat", "contentsType": "TEXT", "sourceMsg": "s"})),
                MsgType::Txt,
                Some("s"),
                None,
            ),
            (
                "legacy text inferred",
                base(json!({"type": "chat", "data": "d"})),
                MsgType::Txt,
                Some("d"),
                None,
            ),
            (
                "img with secrets",
                base(
                    json!({"type": "img", "url": "https://a1.easemob.com/o/a/chatfiles/u1?access_token=T0K&x=1",
                            "thumb": "https://a1.easemob.com/o/a/chatfiles/u1?token=T0K", "secret": "S3C",
                            "thumb_secret": "S3C", "accessToken": "T0K", "width": 640, "height": 480,
                            "file_length": 12345, "filetype": "png", "file": {"url": "ignored"}}),
                ),
                MsgType::Img,
                None,
                Some(json!({"url": "https://a1.easemob.com/o/a/chatfiles/u1?x=1",
                            "thumb": "https://a1.easemob.com/o/a/chatfiles/u1", "width": 640, "height": 480,
                            "file_length": 12345})),
            ),
            (
                "img options object from build()",
                base(
                    json!({"type": "img", "file": {"url": "wxfile://tmp_1.png", "filename": "1.png", "data": {}}, "width": 10, "height": 20}),
                ),
                MsgType::Img,
                None,
                Some(
                    json!({"url": "wxfile://tmp_1.png", "filename": "1.png", "width": 10, "height": 20}),
                ),
            ),
            (
                "audio",
                base(
                    json!({"type": "audio", "url": "https://h.example/a?secret=S3C", "filename": "a.amr", "length": 3,
                            "file_length": 999, "accessToken": "T0K", "token": "T0K"}),
                ),
                MsgType::Audio,
                None,
                Some(
                    json!({"url": "https://h.example/a", "filename": "a.amr", "length": 3, "file_length": 999}),
                ),
            ),
            (
                "audio as WebIM.message.create returns it: url only inside body",
                base(
                    json!({"type": "audio", "filename": "a.amr", "length": 3, "file_length": 999,
                            "body": {"type": "audio", "url": "https://h.example/a?token=T0K", "filename": "a.amr",
                                     "length": 3, "file_length": 999}}),
                ),
                MsgType::Audio,
                None,
                Some(
                    json!({"url": "https://h.example/a", "filename": "a.amr", "length": 3, "file_length": 999}),
                ),
            ),
            (
                "legacy VOICE",
                base(
                    json!({"type": "chat", "contentsType": "VOICE", "url": "https://h.example/a", "length": "3"}),
                ),
                MsgType::Audio,
                None,
                Some(json!({"url": "https://h.example/a"})),
            ),
            (
                "video",
                base(
                    json!({"type": "video", "url": "https://h.example/v", "filename": "v.mp4", "length": 9,
                            "file_length": 5000, "thumb": "https://h.example/t", "thumb_secret": "S3C"}),
                ),
                MsgType::Video,
                None,
                Some(
                    json!({"url": "https://h.example/v", "filename": "v.mp4", "length": 9, "file_length": 5000,
                            "thumb": "https://h.example/t"}),
                ),
            ),
            (
                "file with the SDK's filler fields",
                base(
                    json!({"type": "file", "url": "https://h.example/f", "filename": "", "length": 0,
                            "width": 0, "file_length": 7}),
                ),
                MsgType::File,
                None,
                Some(json!({"url": "https://h.example/f", "file_length": 7})),
            ),
            (
                "file, url not a string",
                base(
                    json!({"type": "file", "url": 5, "filename": "f.pdf", "file_length": 7, "secret": "S3C"}),
                ),
                MsgType::File,
                None,
                Some(json!({"filename": "f.pdf", "file_length": 7})),
            ),
            (
                "legacy IMAGE",
                base(
                    json!({"type": "groupchat", "chatType": null, "contentsType": "IMAGE", "url": "https://h.example/i", "width": 1}),
                ),
                MsgType::Img,
                None,
                Some(json!({"url": "https://h.example/i", "width": 1})),
            ),
            (
                "loc",
                base(
                    json!({"type": "loc", "addr": "北京", "buildingName": "T1", "lat": 39.9, "lng": 116.4}),
                ),
                MsgType::Loc,
                None,
                Some(json!({"addr": "北京", "buildingName": "T1", "lat": 39.9, "lng": 116.4})),
            ),
            (
                "legacy LOCATION with string coordinates",
                base(
                    json!({"type": "chat", "contentsType": "LOCATION", "addr": "A", "lat": "39.5", "lng": "x"}),
                ),
                MsgType::Loc,
                None,
                Some(json!({"addr": "A", "lat": 39.5})),
            ),
            (
                "cmd",
                base(json!({"type": "cmd", "action": "typing"})),
                MsgType::Cmd,
                None,
                Some(json!({"action": "typing"})),
            ),
            (
                "legacy cmd inferred",
                base(json!({"type": "chat", "action": "ping"})),
                MsgType::Cmd,
                None,
                Some(json!({"action": "ping"})),
            ),
            (
                "custom",
                base(
                    json!({"type": "custom", "customEvent": "gift", "customExts": {"n": "3", "bad": 3, "obj": {}}}),
                ),
                MsgType::Custom,
                None,
                Some(json!({"customEvent": "gift", "customExts": {"n": "3"}})),
            ),
            (
                "legacy CUSTOM",
                base(json!({"type": "chat", "contentsType": "CUSTOM", "customEvent": "e"})),
                MsgType::Custom,
                None,
                Some(json!({"customEvent": "e"})),
            ),
        ];
        for (name, message, msg_type, text, body) in table {
            let record = run(&message).unwrap_or_else(|e| panic!("{name}: ignored: {e}"));
            assert_eq!(record.msg_type, msg_type, "{name}");
            assert_eq!(record.text.as_deref(), text, "{name}");
            assert_eq!(record.body.map(Value::Object), body, "{name}");
            let stored = serde_json::to_string(&run(&message).unwrap()).unwrap();
            for secret in ["T0K", "S3C", "token", "secret"] {
                assert!(
                    !stored.contains(secret),
                    "{name}: record holds {secret}: {stored}"
                );
            }
        }
    }

    #[test]
    fn sender_profile_from_ext_then_cache() {
        let a = "https://a.example/a.png";
        let u = "https://u.example/u.png";
        let c = "https://c.example/c.png";
        let mut cache = ProfileCache::default();
        cache.remember(
            "bob",
            &Profile {
                nickname: Some("Cached".into()),
                avatar: Some(c.into()),
            },
        );
        let message = |ext: Value| with(v4("groupChat", "bob", "g1"), json!({"ext": ext}));
        let table: Vec<(Value, Option<&str>, Option<&str>)> = vec![
            (
                json!({"userNickname": "Bob", "userAvatar": a}),
                Some("Bob"),
                Some(a),
            ),
            (
                json!({"ease_chat_uikit_user_info": {"nickname": "UiBob", "avatarURL": u}}),
                Some("UiBob"),
                Some(u),
            ),
            (
                json!({"userNickname": "Bob", "ease_chat_uikit_user_info": {"nickname": "UiBob", "avatarURL": u}}),
                Some("Bob"),
                Some(u),
            ),
            (json!({"userAvatar": a}), Some("Cached"), Some(a)),
            (
                json!({"userNickname": "\u{202E}Bob\u{0000}"}),
                Some("Bob"),
                Some(c),
            ),
            (
                json!({"userAvatar": "javascript:alert(1)"}),
                Some("Cached"),
                Some(c),
            ),
            (json!({}), Some("Cached"), Some(c)),
            (json!("not an object"), Some("Cached"), Some(c)),
        ];
        for (ext, nickname, avatar) in table {
            let record = run_with(&message(ext.clone()), &cache).unwrap();
            assert_eq!(record.sender.nickname.as_deref(), nickname, "{ext}");
            assert_eq!(record.sender.avatar.as_deref(), avatar, "{ext}");
        }
        let stranger = run_with(&v4("groupChat", "eve", "g1"), &cache).unwrap();
        assert_eq!(
            stranger.sender,
            Sender {
                id: "eve".into(),
                nickname: None,
                avatar: None
            }
        );
    }

    #[test]
    fn mentions() {
        let table: Vec<(&str, Value, Option<Mentions>, bool)> = vec![
            (
                "bob",
                json!(["alice", "carol"]),
                Some(Mentions::Users(vec!["alice".into(), "carol".into()])),
                true,
            ),
            (
                "bob",
                json!(["carol", 7, null]),
                Some(Mentions::Users(vec!["carol".into()])),
                false,
            ),
            ("bob", json!("ALL"), Some(Mentions::all()), true),
            ("bob", json!("all"), Some(Mentions::all()), true),
            (ME, json!("ALL"), Some(Mentions::all()), false),
            (
                ME,
                json!(["alice"]),
                Some(Mentions::Users(vec!["alice".into()])),
                false,
            ),
            ("bob", json!([]), None, false),
            ("bob", json!("carol"), None, false),
            ("bob", json!({"alice": true}), None, false),
        ];
        for (from, list, mentions, mentions_me) in table {
            let message = with(
                v4("groupChat", from, "g1"),
                json!({"ext": {"em_at_list": list, "keep": 1}}),
            );
            let record = run(&message).unwrap();
            assert_eq!(record.mentions, mentions, "{from} {list}");
            assert_eq!(record.mentions_me, mentions_me, "{from} {list}");
            assert_eq!(Value::Object(record.ext), json!({"keep": 1}), "{list}");
        }
    }

    #[test]
    fn remaining_ext() {
        let table = [
            (
                json!({"userNickname": "B", "userAvatar": "https://a/a", "ease_chat_uikit_user_info": {}, "em_at_list": "ALL",
                       "msgQuote": {"msgID": "m0"}, "n": [1, {"x": null}], "userName": "kept"}),
                json!({"msgQuote": {"msgID": "m0"}, "n": [1, {"x": null}], "userName": "kept"}),
            ),
            (json!(null), json!({})),
            (json!([1, 2]), json!({})),
            (json!("text"), json!({})),
            (json!(5), json!({})),
        ];
        for (ext, want) in table {
            let record = run(&with(v4("groupChat", "bob", "g1"), json!({"ext": ext}))).unwrap();
            assert_eq!(Value::Object(record.ext), want, "{ext}");
        }
        let absent = run(&json!({"id": "m", "type": "txt", "chatType": "singleChat", "from": "bob", "to": ME, "msg": "x", "time": T})).unwrap();
        assert!(absent.ext.is_empty());
    }

    fn nested(depth: usize) -> Value {
        let mut value = json!(1);
        for _ in 0..depth {
            value = json!([value]);
        }
        value
    }

    #[test]
    fn malformed_messages_are_ignored_with_a_reason() {
        let ok = || v4("groupChat", "bob", "g1");
        let without = |field: &str| {
            let mut m = ok();
            m.as_object_mut().map(|o| o.remove(field));
            m
        };
        let long_id = "x".repeat(10_000);
        let table: Vec<(Value, &str)> = vec![
            (without("id"), "id is missing"),
            (without("from"), "from is missing"),
            (without("to"), "to is missing"),
            (without("time"), "time is missing"),
            (with(ok(), json!({"from": null})), "from is null, not a string"),
            (with(ok(), json!({"id": null})), "id is null, not a string"),
            (with(ok(), json!({"from": 42})), "from is a number, not a string"),
            (with(ok(), json!({"to": {"id": "g1"}})), "to is an object, not a string"),
            (with(ok(), json!({"to": 1.5})), "to 1.5 is not a whole number"),
            (with(ok(), json!({"id": ""})), "id is empty"),
            (with(ok(), json!({"from": long_id})), "from is 10000 bytes, over the 256-byte limit"),
            (with(ok(), json!({"id": long_id})), "id is 10000 bytes, over the 256-byte limit"),
            (with(ok(), json!({"time": null})), "time null is not a timestamp (wrong type)"),
            (with(ok(), json!({"time": -5})), "time -5 is not a timestamp (negative or too large)"),
            (with(ok(), json!({"time": 1e300})), "time 1e+300 is not a timestamp (negative or too large)"),
            (with(ok(), json!({"time": 9_007_199_254_740_992_u64})), "time 9007199254740992 is not a timestamp (too large)"),
            (with(ok(), json!({"time": "soon"})), "time \"soon\" is not a timestamp (not a string of digits)"),
            (with(ok(), json!({"time": "-1"})), "time \"-1\" is not a timestamp (not a string of digits)"),
            (with(ok(), json!({"time": ""})), "time \"\" is not a timestamp (not a string of digits)"),
            (with(ok(), json!({"time": true})), "time a boolean is not a timestamp (wrong type)"),
            (
                with(ok(), json!({"chatType": "private"})),
                "chatType \"private\" is not a conversation kind (singleChat, groupChat or chatRoom)",
            ),
            (with(ok(), json!({"chatType": 2})), "chatType is a number, not a string"),
            (
                with(without("chatType"), json!({})),
                "conversation kind is missing: no chatType, legacy type (chat, groupchat, chatroom), group or roomType",
            ),
            (
                with(ok(), json!({"type": "combine"})),
                "message type \"combine\" is not supported (txt, img, audio, video, file, loc, cmd or custom)",
            ),
            (
                json!({"id": "m1", "type": "read", "chatType": "singleChat", "from": "bob", "to": ME, "ackId": "m0", "time": T}),
                "message type \"read\" is not supported (txt, img, audio, video, file, loc, cmd or custom)",
            ),
            (with(ok(), json!({"type": 3})), "type is a number, not a string"),
            (
                with(legacy("chat", "bob", ME), json!({"contentsType": "EMOJI"})),
                "contentsType \"EMOJI\" is not supported (TEXT, IMAGE, VOICE, VIDEO, FILE, LOCATION, COMMAND or CUSTOM)",
            ),
            (
                json!({"id": "m1", "type": "chat", "from": "bob", "to": ME, "time": T}),
                "message type is missing: no type or contentsType, and no text, action, customEvent or location to tell it by",
            ),
            (with(ok(), json!({"msg": 5})), "msg is a number, not a string"),
            (with(ok(), json!({"msg": null})), "text is missing: a txt message needs msg (or legacy data)"),
            (with(ok(), json!({"msg": "字".repeat(400_000)})), "text is 1200000 bytes, over the 65536-byte limit"),
            (with(ok(), json!({"type": "cmd"})), "action is missing: a cmd message needs one"),
            (with(ok(), json!({"ext": {"n": nested(40)}})), "ext nests deeper than 32 levels"),
            (json!([ok()]), "message is an array, not an object"),
            (json!(null), "message is null, not an object"),
            (json!("hi"), "message is a string, not an object"),
        ];
        for (message, reason) in table {
            assert_eq!(
                run(&message).map_err(|e| e.reason),
                Err(reason.to_string()),
                "{:.200}",
                message.to_string()
            );
        }
        let huge_ext = with(ok(), json!({"ext": {"blob": "x".repeat(200_000)}}));
        let reason = run(&huge_ext).unwrap_err().reason;
        assert!(reason.starts_with("record is 200"), "{reason}");
        assert!(
            reason.ends_with("bytes as JSON, over the 131072-byte limit (ext or body too large)"),
            "{reason}"
        );
        let long_chat_type = with(ok(), json!({"chatType": "q".repeat(1000)}));
        assert!(
            run(&long_chat_type).unwrap_err().reason.len() < 150,
            "reasons quote values briefly"
        );
    }

    #[test]
    fn json_text_input() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let table: Vec<(String, Result<&str, &str>)> = vec![
            (v4("singleChat", "bob", ME).to_string(), Ok("hi")),
            (
                r#"{"id":"m","type":"txt","chatType":"singleChat","from":"bob","to":"alice","time":1,"msg":"a\ud800b"}"#.into(),
                Ok("a\u{FFFD}b"),
            ),
            (
                r#"{"id":"m","type":"txt","chatType":"singleChat","from":"bob","to":"alice","time":1,"msg":"\udc00\ud83d\ude00\ud83d"}"#.into(),
                Ok("\u{FFFD}\u{1F600}\u{FFFD}"),
            ),
            (
                r#"{"id":"m","type":"txt","chatType":"singleChat","from":"bob","to":"alice","time":1,"msg":"\\ud800"}"#.into(),
                Ok("\\ud800"),
            ),
            (deep, Err("message is not valid JSON: recursion limit exceeded at line 1 column 128")),
            ("{".into(), Err("message is not valid JSON: EOF while parsing an object at line 1 column 1")),
            ("".into(), Err("message is not valid JSON: EOF while parsing a value at line 1 column 0")),
            ("[1,2]".into(), Err("message is an array, not an object")),
            (" ".repeat(MAX_JSON_BYTES + 1), Err("message JSON is 2097153 bytes, over the 2097152-byte limit")),
        ];
        for (json, want) in table {
            let got = run_json(&json)
                .map(|r| r.text.unwrap_or_default())
                .map_err(|e| e.reason);
            assert_eq!(
                got,
                want.map(str::to_string).map_err(str::to_string),
                "{:.100}",
                json
            );
        }
    }

    /// JSON values shaped like SDK messages: SDK field names, kind and type spellings, odd leaves.
    fn sdk_like_value() -> impl Strategy<Value = Value> {
        let words = prop::sample::select(vec![
            "txt",
            "img",
            "cmd",
            "custom",
            "combine",
            "chat",
            "groupchat",
            "chatroom",
            "singleChat",
            "groupChat",
            "chatRoom",
            "TEXT",
            "IMAGE",
            "ALL",
            "alice",
            "bob",
            "g1",
            "1700000000000",
            "https://a.example/a.png",
            "https://h.example/f?access_token=T",
            "groupChat ",
            "",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            words.prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
            any::<String>().prop_map(Value::String),
        ];
        let keys = prop::sample::select(vec![
            "id",
            "from",
            "to",
            "time",
            "type",
            "chatType",
            "msg",
            "data",
            "sourceMsg",
            "contentsType",
            "group",
            "roomType",
            "ext",
            "url",
            "file",
            "thumb",
            "width",
            "length",
            "action",
            "customEvent",
            "customExts",
            "lat",
            "lng",
            "addr",
            "em_at_list",
            "userNickname",
            "userAvatar",
            "ease_chat_uikit_user_info",
            "nickname",
            "avatarURL",
            "avatarurl",
        ]);
        leaf.prop_recursive(6, 96, 10, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(keys.clone(), inner, 0..12).prop_map(
                    |m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                ),
            ]
        })
    }

    /// A valid message with random fields replaced, so deep paths are reached too.
    fn near_valid_message() -> impl Strategy<Value = Value> {
        (
            prop::sample::select(vec![
                v4("groupChat", "bob", "g1"),
                legacy("chatroom", "bob", "r1"),
                v4("singleChat", ME, "bob"),
            ]),
            sdk_like_value(),
        )
            .prop_map(|(base, extra)| with(base, extra))
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(text in any::<String>()) {
            let _ = run_json(&text);
        }

        #[test]
        fn never_panics_on_json_like_text(text in "[\\[\\]{}\":,\\\\ud0-9a-fA-F tx]{0,120}") {
            let _ = run_json(&text);
        }

        #[test]
        fn json_text_and_values_agree(message in prop_oneof![sdk_like_value(), near_valid_message()]) {
            let direct = run(&message);
            // serde_json may read a float back a last digit off, so compare what routing decided.
            let routed = |r: &Result<Record, Ignored>| {
                r.as_ref().ok().map(|r| (r.id.clone(), r.conversation.clone(), r.direction, r.msg_type, r.text.clone()))
            };
            prop_assert_eq!(routed(&run_json(&message.to_string())), routed(&direct));
            if let Ok(record) = direct {
                let peer = if record.kind == Kind::Single && record.direction == Direction::In { &record.from } else { &record.to };
                prop_assert_eq!(&record.conversation, &format!("{}:{}", record.kind, peer));
                let room_flag = message.get("roomType") == Some(&Value::Bool(true));
                prop_assert!(!room_flag || record.kind == Kind::ChatRoom);
                let stored = serde_json::to_string(&record).unwrap_or_default();
                prop_assert!(stored.len() <= MAX_RECORD_BYTES);
                let body = serde_json::to_string(&record.body).unwrap_or_default();
                prop_assert!(!body.contains("access_token="), "{}", body);
                prop_assert!(!record.mentions_me || record.direction == Direction::In);
            }
        }
    }
}
