//! Whatever the SDK hands a callback, as one normalised [`Record`].
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
//! - A lone UTF-16 surrogate (broken text from JavaScript) is read as U+FFFD instead of failing the
//!   whole message.
//!
//! How it runs on a phone, where the wasm is interpreted: the shim writes the message onto a tape
//! under [`projection`], so what crosses is the fields this module reads, the text's type and length
//! only, and of `ext` the profile and mention keys plus every other key's depth. [`normalize`] decides
//! every field of the record except `text` and `ext`, which the shim copies from the SDK's message as
//! they are ([`Normalized::text_field`], [`consumed_ext_keys`]); then [`check_record_size`] applies to
//! the whole record. Natively, `normalize_value` does the shim's part on a `serde_json::Value`.

use std::fmt;

use crate::error::number_text;
use crate::json::{integer_text, Json};
use crate::kind::Kind;
use crate::message::{Direction, Mentions, MsgType, Record, Sender, Status};
use crate::quote::{Quote, QUOTE_KEY};
use crate::profile::{
    read_ext_profile, strip_secret_params, ExtKeys, ProfileCache, ProfilePolicy,
    UIKIT_USER_INFO_KEY,
};
use crate::tape::{self, Projection, Val};

/// Longest `id`, `from` or `to`, in bytes.
pub const MAX_ID_BYTES: usize = 256;
/// Longest text of a `txt` message, in UTF-8 bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Largest record, serialised as JSON.
pub const MAX_RECORD_BYTES: usize = 128 * 1024;
/// Deepest nesting kept in `ext`.
pub const MAX_EXT_DEPTH: usize = 32;
/// Largest timestamp JavaScript represents exactly (2^53 − 1).
const MAX_TIME: u64 = (1 << 53) - 1;

/// The ext key of UIKit @mentions.
pub const MENTIONS_KEY: &str = "em_at_list";

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

/// A message normalised, but for what the shim copies from the SDK's message.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// Every field decided except `text` (`None`) and `ext` (an empty object).
    pub record: Record,
    /// The message field whose string is the record's text (`msg`, `data` or `sourceMsg`), for `txt`.
    pub text_field: Option<&'static str>,
}

impl Normalized {
    /// A typing notice (a `cmd` with action [`TYPING_ACTION`]): an event for pages, never history.
    pub fn is_typing(&self) -> bool {
        self.record.msg_type == MsgType::Cmd
            && matches!(self.record.body.as_ref().and_then(|b| b.get("action")), Some(Json::String(a)) if a == TYPING_ACTION)
    }
}

/// The action of Easemob's typing notice: a `cmd` message, delivered only to online users.
pub const TYPING_ACTION: &str = "TypingBegin";

/// The top-level fields of a message that [`normalize`] reads by name, besides the file fields.
#[derive(Debug, Clone, Copy)]
enum Field {
    Id,
    Type,
    ChatType,
    From,
    To,
    Time,
    Msg,
    Ext,
    Data,
    SourceMsg,
    ContentsType,
    Group,
    RoomType,
    Addr,
    BuildingName,
    Lat,
    Lng,
    Action,
    CustomEvent,
    CustomExts,
    File,
    Body,
}

/// Their names, in the order SDK 4.x writes a message's keys, so that the one pass of [`Fields`]
/// compares each key once.
const FIELD_NAMES: [&str; 22] = [
    "id",
    "type",
    "chatType",
    "from",
    "to",
    "time",
    "msg",
    "ext",
    "data",
    "sourceMsg",
    "contentsType",
    "group",
    "roomType",
    "addr",
    "buildingName",
    "lat",
    "lng",
    "action",
    "customEvent",
    "customExts",
    "file",
    "body",
];

impl Field {
    fn name(self) -> &'static str {
        FIELD_NAMES.get(self as usize).copied().unwrap_or_default()
    }
}

/// A message's [`Field`]s, found in one pass over it: looked up one by one, each absent field
/// (most of them) would cost a walk over every key.
struct Fields<'t> {
    message: Val<'t>,
    found: [Option<Val<'t>>; FIELD_NAMES.len()],
}

impl<'t> Fields<'t> {
    fn of(message: Val<'t>) -> Self {
        Fields { message, found: message.fields(FIELD_NAMES) }
    }

    fn get(&self, field: Field) -> Option<Val<'t>> {
        self.found.get(field as usize).copied().flatten()
    }
}

/// Where the SDK shapes put the text of a `txt` message, in order of preference.
const TEXT_FIELDS: [Field; 3] = [Field::Msg, Field::Data, Field::SourceMsg];

/// The ext keys mpchat reads into the record (profile, mentions, quote); the record's `ext` is the
/// message's ext without them.
pub fn consumed_ext_keys(keys: &ExtKeys) -> [&str; 5] {
    [
        &keys.nickname,
        &keys.avatar,
        UIKIT_USER_INFO_KEY,
        MENTIONS_KEY,
        QUOTE_KEY,
    ]
}

/// What of an SDK message [`normalize`] reads, for the shim to write onto the tape: the fields it
/// decides by in full; the text fields as their lengths (the 64 KiB limit); `file` and `body` (upload
/// options) with the file fields only; `ext` with the keys of [`consumed_ext_keys`] in full and every
/// other key as its depth (the nesting limit); nothing else.
pub fn projection(keys: &ExtKeys) -> Projection {
    use Projection::{Depth, Full, Length, Skip};
    let file_fields = file_like_fields();
    let nested = || Projection::object(file_fields.iter().map(|&name| (name, Full)), Skip);
    let texts = TEXT_FIELDS.map(Field::name);
    let field = |name: &'static str| match name {
        _ if texts.contains(&name) => Length,
        "file" | "body" => nested(),
        "ext" => Projection::object(consumed_ext_keys(keys).map(|key| (key, Full)), Depth),
        _ => Full,
    };
    let fields = FIELD_NAMES
        .into_iter()
        .map(|name| (name, field(name)))
        .chain(file_fields.iter().map(|&name| (name, Full)));
    Projection::object(fields, Skip)
}

/// Normalises a message in any SDK shape, written onto a tape under [`projection`] of `ctx.ext_keys`.
pub fn normalize(msg: Val<'_>, ctx: &Context) -> Result<Normalized, Ignored> {
    if !matches!(msg.kind(), tape::Kind::Object) {
        return Err(ignored(format!(
            "message is {}, not an object",
            msg.describe()
        )));
    }
    let msg = Fields::of(msg);
    let id = id_field(&msg, Field::Id, true)?;
    let from = id_field(&msg, Field::From, false)?;
    let to = id_field(&msg, Field::To, true)?;
    let time = timestamp(msg.get(Field::Time))?;
    // `type` spells the message type (4.x) or the kind (legacy listener): decoded once for both.
    let of_type = |type_name: Option<&str>| (kind_of(&msg, type_name), msg_type_of(&msg, type_name));
    let (kind, msg_type) = msg
        .get(Field::Type)
        .and_then(|value| value.with_str(|name| of_type(Some(name))))
        .unwrap_or_else(|| of_type(None));
    let (kind, msg_type) = (kind?, msg_type?);
    let (text_field, body) = match content(&msg, msg_type)? {
        Content::Text(field) => (Some(field.name()), None),
        Content::Body(body) => (None, Some(body)),
    };

    let ext = msg
        .get(Field::Ext)
        .filter(|e| matches!(e.kind(), tape::Kind::Object));
    if ext.is_some_and(|e| e.depth() > MAX_EXT_DEPTH) {
        return Err(ignored(format!(
            "ext nests deeper than {MAX_EXT_DEPTH} levels"
        )));
    }
    let known = ctx.profiles.get(&from);
    let carried = ext
        .map(|e| read_ext_profile(e, ctx.ext_keys, ctx.policy, known))
        .unwrap_or_default();
    let sender = Sender {
        id: from.clone(),
        nickname: carried
            .nickname
            .or_else(|| known.and_then(|p| p.nickname.clone())),
        avatar: carried
            .avatar
            .or_else(|| known.and_then(|p| p.avatar.clone())),
    };
    let mentions = ext
        .and_then(|e| e.get(MENTIONS_KEY))
        .and_then(read_mentions);
    let direction = if from == ctx.me {
        Direction::Out
    } else {
        Direction::In
    };
    let mentions_me =
        direction == Direction::In && mentions.as_ref().is_some_and(|m| m.includes(ctx.me));
    let quote = ext.and_then(|e| e.get(QUOTE_KEY)).and_then(|q| Quote::read(q, ctx.policy));
    let conversation = conversation_name(kind, &from, &to, ctx.me);
    let record = Record {
        id,
        conversation,
        kind,
        from,
        to,
        direction,
        time,
        msg_type,
        text: None,
        body,
        sender,
        mentions,
        mentions_me,
        status: match direction {
            Direction::Out => Status::Sent,
            Direction::In => Status::Received,
        },
        recalled: false,
        ext: Json::object(),
        quote,
    };
    Ok(Normalized { record, text_field })
}

/// The size rule for a whole record (`bytes` of its JSON, text and ext included).
pub fn check_record_size(bytes: usize) -> Result<(), Ignored> {
    if bytes > MAX_RECORD_BYTES {
        return Err(ignored(format!(
            "record is {bytes} bytes as JSON, over the {MAX_RECORD_BYTES}-byte limit (ext or body too large)"
        )));
    }
    Ok(())
}

/// A user-supplied value shortened for a reason, quoted.
pub(crate) fn brief(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{:?}…", text.get(..cut).unwrap_or_default()),
        None => format!("{text:?}"),
    }
}

/// `id`, `from`, `to`: a non-empty string (or an integer, where `accept_numbers`) of bounded length.
/// A string is measured before it is decoded.
fn id_field(msg: &Fields<'_>, field: Field, accept_numbers: bool) -> Result<String, Ignored> {
    let name = field.name();
    let value = msg
        .get(field)
        .ok_or_else(|| ignored(format!("{name} is missing")))?;
    match value.kind() {
        tape::Kind::String => {
            // At least a byte a unit: a string of more units is too long before it is decoded.
            let decoded = match value.utf16_len() {
                Some(units) if units as usize <= MAX_ID_BYTES => value.as_str().unwrap_or_default(),
                _ => String::new(),
            };
            if decoded.is_empty() || decoded.len() > MAX_ID_BYTES {
                let bytes = value.utf8_len().unwrap_or(0);
                if bytes == 0 {
                    return Err(ignored(format!("{name} is empty")));
                }
                return Err(ignored(format!(
                    "{name} is {bytes} bytes, over the {MAX_ID_BYTES}-byte limit"
                )));
            }
            Ok(decoded)
        }
        tape::Kind::Number(n) if accept_numbers => integer_text(n)
            .ok_or_else(|| ignored(format!("{name} {} is not a whole number", number_text(n)))),
        _ => Err(ignored(format!(
            "{name} is {}, not a string",
            value.describe()
        ))),
    }
}

fn timestamp(value: Option<Val<'_>>) -> Result<i64, Ignored> {
    let not_a_timestamp =
        |shown: String, why: &str| ignored(format!("time {shown} is not a timestamp ({why})"));
    let value = value.ok_or_else(|| ignored("time is missing"))?;
    let ms = match value.kind() {
        tape::Kind::Number(n) if (0.0..=MAX_TIME as f64).contains(&n) => n.floor() as u64,
        // A whole number an SDK could mean as milliseconds, but past what JavaScript holds exactly.
        tape::Kind::Number(n) if n > 0.0 && n.fract() == 0.0 && n < u64::MAX as f64 => {
            return Err(not_a_timestamp(number_text(n), "too large"))
        }
        tape::Kind::Number(n) => {
            return Err(not_a_timestamp(number_text(n), "negative or too large"))
        }
        tape::Kind::String => {
            let text = value.as_str().unwrap_or_default();
            let digits = text.trim();
            if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(not_a_timestamp(brief(&text), "not a string of digits"));
            }
            digits
                .parse::<u64>()
                .map_err(|_| not_a_timestamp(brief(&text), "not a string of digits"))?
        }
        _ => return Err(not_a_timestamp(value.describe().to_string(), "wrong type")),
    };
    if ms > MAX_TIME {
        return Err(not_a_timestamp(ms.to_string(), "too large"));
    }
    // At most 2^53 − 1: exact as i64.
    Ok(ms as i64)
}

/// An optional string field: absent and `null` are `None`, another type is an error naming the field.
/// The string may be one whose content was left out (the text fields).
fn optional_string<'t>(msg: &Fields<'t>, field: Field) -> Result<Option<Val<'t>>, Ignored> {
    let name = field.name();
    match msg.get(field) {
        None => Ok(None),
        Some(value) if value.is_null() => Ok(None),
        Some(value) if value.is_string() => Ok(Some(value)),
        Some(other) => Err(ignored(format!(
            "{name} is {}, not a string",
            other.describe()
        ))),
    }
}

/// [`optional_string`], decoded.
fn optional_str(msg: &Fields<'_>, field: Field) -> Result<Option<String>, Ignored> {
    Ok(optional_string(msg, field)?.and_then(Val::as_str))
}

/// Group and chat room: `to`. One-to-one: the peer, `from` unless that is me.
fn conversation_name(kind: Kind, from: &str, to: &str, me: &str) -> String {
    let id = match kind {
        Kind::Single if from != me => from,
        _ => to,
    };
    let mut name = String::with_capacity(kind.as_str().len() + 1 + id.len());
    name.push_str(kind.as_str());
    name.push(':');
    name.push_str(id);
    name
}

/// The conversation an ack event (`onChannelMessage`: `{from, to, chatType?}`) is about. Acks without
/// a kind are one-to-one, as the SDK sends them.
pub fn conversation_of_ack(event: Val<'_>, me: &str) -> Result<String, Ignored> {
    if !matches!(event.kind(), tape::Kind::Object) {
        return Err(ignored(format!(
            "ack is {}, not an object",
            event.describe()
        )));
    }
    let event = Fields::of(event);
    let from = id_field(&event, Field::From, true)?;
    let to = id_field(&event, Field::To, true)?;
    let type_name = event.get(Field::Type).and_then(Val::as_str);
    let kind = kind_of(&event, type_name.as_deref()).unwrap_or(Kind::Single);
    Ok(conversation_name(kind, &from, &to, me))
}

/// The kind, from `chatType`, the legacy `type` (`type_name`, decoded), `group` and `roomType`.
fn kind_of(msg: &Fields<'_>, type_name: Option<&str>) -> Result<Kind, Ignored> {
    let from_chat_type = optional_string(msg, Field::ChatType)?
        .and_then(|value| {
            value.with_str(|spelling| {
                Kind::from_spelling(spelling).ok_or_else(|| {
                    ignored(format!(
                        "chatType {} is not a conversation kind (singleChat, groupChat or chatRoom)",
                        brief(spelling)
                    ))
                })
            })
        })
        .transpose()?;
    let group = msg.get(Field::Group).and_then(Val::as_str);
    let room_flag = msg.get(Field::RoomType).is_some_and(|flag| match flag.kind() {
        tape::Kind::Bool(on) => on,
        tape::Kind::String => flag
            .as_str()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("true")),
        _ => false,
    });
    let signals = [
        from_chat_type,
        type_name.and_then(Kind::from_spelling),
        group.as_deref().and_then(Kind::from_spelling),
    ];
    if room_flag || signals.contains(&Some(Kind::ChatRoom)) {
        return Ok(Kind::ChatRoom);
    }
    signals.into_iter().flatten().next().ok_or_else(|| {
        ignored("conversation kind is missing: no chatType, legacy type (chat, groupchat, chatroom), group or roomType")
    })
}

const SUPPORTED_TYPES: &str = "txt, img, audio, video, file, loc, cmd or custom";

/// The message type, from `type` (`type_name`, decoded), else `contentsType`, else the fields present.
fn msg_type_of(msg: &Fields<'_>, type_name: Option<&str>) -> Result<MsgType, Ignored> {
    // A `type` that is not a string is an error even when `type_name` is absent.
    optional_string(msg, Field::Type)?;
    if let Some(name) = type_name {
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
    if let Some(name) = optional_str(msg, Field::ContentsType)? {
        return MsgType::from_name(&name).ok_or_else(|| {
            ignored(format!("contentsType {} is not supported (TEXT, IMAGE, VOICE, VIDEO, FILE, LOCATION, COMMAND or CUSTOM)", brief(&name)))
        });
    }
    let has = |field: Field| msg.get(field).is_some_and(|v| !v.is_null());
    if has(Field::Action) {
        Ok(MsgType::Cmd)
    } else if has(Field::CustomEvent) || has(Field::CustomExts) {
        Ok(MsgType::Custom)
    } else if has(Field::Lat) || has(Field::Lng) {
        Ok(MsgType::Loc)
    } else if TEXT_FIELDS.into_iter().any(has) {
        Ok(MsgType::Txt)
    } else {
        Err(ignored(
            "message type is missing: no type or contentsType, and no text, action, customEvent or location to tell it by",
        ))
    }
}

/// The string and number fields each file-like type keeps. The SDK fills in the others with `''` or 0
/// depending on the listener style; keeping only a type's own, non-empty fields makes both styles agree.
/// URLs among the strings lose secret query parameters.
fn file_fields(msg_type: MsgType) -> (&'static [&'static str], &'static [&'static str]) {
    match msg_type {
        MsgType::Img => (
            &["url", "filename", "thumb"],
            &["file_length", "width", "height"],
        ),
        MsgType::Audio => (&["url", "filename"], &["file_length", "length"]),
        MsgType::Video => (&["url", "filename", "thumb"], &["file_length", "length"]),
        _ => (&["url", "filename"], &["file_length"]),
    }
}

/// Every field some file-like type keeps, once.
fn file_like_fields() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Vec::new();
    for msg_type in [MsgType::Img, MsgType::Audio, MsgType::Video, MsgType::File] {
        let (strings, numbers) = file_fields(msg_type);
        for name in strings.iter().chain(numbers) {
            if !all.contains(name) {
                all.push(name);
            }
        }
    }
    all
}

/// What a message carries: which field holds the text of a `txt`, the fields of the other types.
enum Content {
    Text(Field),
    Body(Json),
}

fn content(msg: &Fields<'_>, msg_type: MsgType) -> Result<Content, Ignored> {
    let mut body: Vec<(String, Json)> = Vec::new();
    let mut keep = |name: &str, value: Json| body.push((name.to_string(), value));
    match msg_type {
        MsgType::Txt => {
            for field in TEXT_FIELDS {
                if let Some(text) = optional_string(msg, field)? {
                    // Exact, or for a text the shim did not measure, a bound under the limit.
                    let bytes = text.utf8_len().unwrap_or(0);
                    if bytes > MAX_TEXT_BYTES as u64 {
                        return Err(ignored(format!(
                            "text is {bytes} bytes, over the {MAX_TEXT_BYTES}-byte limit"
                        )));
                    }
                    return Ok(Content::Text(field));
                }
            }
            return Err(ignored(
                "text is missing: a txt message needs msg (or legacy data)",
            ));
        }
        MsgType::Img | MsgType::Audio | MsgType::Video | MsgType::File => {
            // The options object of an upload keeps url and filename inside `file`; that of an
            // already uploaded audio, video or file keeps them inside `body` (SDK 4.x sends those).
            let (file, body_in) = (msg.get(Field::File), msg.get(Field::Body));
            // The file fields are read by name: each type has a few, and these messages are rare.
            let field = |name: &str| {
                msg.message
                    .get(name)
                    .or_else(|| body_in.and_then(|b| b.get(name)))
                    .or_else(|| file.and_then(|f| f.get(name)))
            };
            let (strings, numbers) = file_fields(msg_type);
            for &name in strings {
                let text = field(name).filter(|v| !v.is_str("")).and_then(Val::as_str);
                if let Some(text) = text {
                    let kept = if name == "filename" {
                        text
                    } else {
                        strip_secret_params(&text)
                    };
                    keep(name, Json::String(kept));
                }
            }
            for &name in numbers {
                if let Some(n) = field(name).and_then(Val::as_f64) {
                    keep(name, Json::Number(n));
                }
            }
        }
        MsgType::Loc => {
            for field in [Field::Addr, Field::BuildingName] {
                if let Some(text) = msg.get(field).and_then(Val::as_str) {
                    keep(field.name(), Json::String(text));
                }
            }
            for field in [Field::Lat, Field::Lng] {
                let number = msg.get(field).and_then(|v| match v.kind() {
                    tape::Kind::Number(n) => Some(n),
                    tape::Kind::String => v.as_str().and_then(|s| coordinate(&s)),
                    _ => None,
                });
                if let Some(n) = number {
                    keep(field.name(), Json::Number(n));
                }
            }
        }
        MsgType::Cmd => {
            let action = optional_str(msg, Field::Action)?
                .ok_or_else(|| ignored("action is missing: a cmd message needs one"))?;
            keep("action", Json::String(action));
        }
        MsgType::Custom => {
            if let Some(event) = optional_str(msg, Field::CustomEvent)? {
                keep("customEvent", Json::String(event));
            }
            if let Some(exts) = msg
                .get(Field::CustomExts)
                .filter(|v| matches!(v.kind(), tape::Kind::Object))
            {
                let strings = exts
                    .entries()
                    .filter_map(|(key, v)| Some((key.to_string(), Json::String(v.as_str()?))))
                    .collect();
                keep("customExts", Json::Object(strings));
            }
        }
    }
    Ok(Content::Body(Json::Object(body)))
}

/// A coordinate given as text (the legacy listener's `"39.9"`), read as a JSON number would be.
/// Own code rather than `str::parse`, whose correctly rounded algorithm brings some 20 KB of tables
/// into the wasm: the result is exact for up to 15 significant digits and exponents within ±22 (every
/// coordinate), within a few units in the last place beyond.
fn coordinate(text: &str) -> Option<f64> {
    fn digits(s: &[u8]) -> (&[u8], &[u8]) {
        s.split_at(s.iter().take_while(|b| b.is_ascii_digit()).count())
    }
    let text = text.trim().as_bytes();
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let (whole, rest) = digits(text);
    if whole.is_empty() || (whole.len() > 1 && whole.first() == Some(&b'0')) {
        return None;
    }
    let (fraction, rest) = match rest.split_first() {
        Some((b'.', after)) => match digits(after) {
            (fraction, rest) if !fraction.is_empty() => (fraction, rest),
            _ => return None,
        },
        _ => (&[][..], rest),
    };
    let explicit = match rest.split_first() {
        None => 0i32,
        Some((b'e' | b'E', after)) => {
            let (sign, after) = match after.split_first() {
                Some((b'-', after)) => (-1, after),
                Some((b'+', after)) => (1, after),
                _ => (1, after),
            };
            let (exponent, rest) = digits(after);
            if exponent.is_empty() || !rest.is_empty() {
                return None;
            }
            let value = exponent.iter().fold(0i32, |e, d| {
                e.saturating_mul(10).saturating_add(i32::from(d - b'0'))
            });
            sign * value
        }
        Some(_) => return None,
    };
    // Up to 19 significant digits in a u64; the exponent of ten counts the rest.
    let mut mantissa = 0u64;
    let mut exponent = explicit;
    let in_whole = whole.iter().map(|d| (d, true));
    for (d, is_whole) in in_whole.chain(fraction.iter().map(|d| (d, false))) {
        if mantissa < 1_000_000_000_000_000_000 {
            mantissa = mantissa * 10 + u64::from(d - b'0');
            exponent = exponent.saturating_sub(i32::from(!is_whole));
        } else {
            exponent = exponent.saturating_add(i32::from(is_whole));
        }
    }
    // Powers of ten up to 10^22 are exact, so then one correctly rounded operation gives the result.
    let scale = 10f64.powi(exponent.saturating_abs());
    let magnitude = if exponent < 0 {
        mantissa as f64 / scale
    } else {
        mantissa as f64 * scale
    };
    magnitude
        .is_finite()
        .then_some(if negative { -magnitude } else { magnitude })
}

/// `em_at_list`: an array of user ids, or `"ALL"` (any case) for everyone.
fn read_mentions(value: Val<'_>) -> Option<Mentions> {
    match value.kind() {
        tape::Kind::String => value
            .as_str()
            .filter(|s| s.trim().eq_ignore_ascii_case("all"))
            .map(|_| Mentions::all()),
        tape::Kind::Array => {
            let users: Vec<String> = value.items().filter_map(Val::as_str).collect();
            (!users.is_empty()).then_some(Mentions::Users(users))
        }
        _ => None,
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::{normalize_json, normalize_value, MAX_JSON_BYTES};

/// What the shim does around [`normalize`], done natively on `serde_json` values (tests, fuzzing).
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::borrow::Cow;

    use serde_json::Value;

    use super::{
        check_record_size, consumed_ext_keys, ignored, normalize, projection, Context, Ignored,
    };
    use crate::json::Json;
    use crate::message::Record;
    use crate::tape::Tape;

    /// Largest message JSON text read at all.
    pub const MAX_JSON_BYTES: usize = 2 * 1024 * 1024;

    /// Normalises a message given as JSON text (as `JSON.stringify` writes it in JavaScript). An
    /// escaped lone surrogate, which `JSON.stringify` writes for broken UTF-16, reads as U+FFFD.
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
        normalize_value(&value, ctx)
    }

    /// Normalises a message as the shim does: its tape under [`projection`], then the text and the
    /// ext copied from the message itself, then the record's size checked.
    pub fn normalize_value(message: &Value, ctx: &Context) -> Result<Record, Ignored> {
        let tape = Tape::from_json(message, &projection(ctx.ext_keys), &mut |_| 0);
        let normalized = normalize(tape.root(), ctx)?;
        let mut record = normalized.record;
        record.text = normalized
            .text_field
            .and_then(|field| message.get(field))
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(ext) = message.get("ext").and_then(Value::as_object) {
            let consumed = consumed_ext_keys(ctx.ext_keys);
            record.ext = Json::Object(
                ext.iter()
                    .filter(|(key, _)| !consumed.contains(&key.as_str()))
                    .map(|(key, value)| (key.clone(), Json::from(value)))
                    .collect(),
            );
        }
        check_record_size(record.to_json().len())?;
        Ok(record)
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
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::profile::Profile;
    use crate::tape::Tape;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    const ME: &str = "alice";
    const T: i64 = 1_700_000_000_000;

    fn run_with(message: &Value, profiles: &ProfileCache) -> Result<Record, Ignored> {
        let ctx = Context {
            me: ME,
            ext_keys: &ExtKeys::default(),
            policy: &ProfilePolicy::default(),
            profiles,
        };
        normalize_value(message, &ctx)
    }

    fn run(message: &Value) -> Result<Record, Ignored> {
        run_with(message, &ProfileCache::default())
    }

    /// A value the core holds, as serde_json reads it (objects compare whatever their key order).
    fn value(json: &Json) -> Value {
        serde_json::from_str(&json.to_text()).unwrap()
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
                    json!({"type": "img", "url": "https://a1.easemob.com/o/a/chatfiles/u1?access_token=T0K&x=1&Token=T0K",
                            "thumb": "https://a1.easemob.com/o/a/chatfiles/u1?em-redirect=true&share-secret=S3C&thumbnail=true", "secret": "S3C",
                            "thumb_secret": "S3C", "accessToken": "T0K", "width": 640, "height": 480,
                            "file_length": 12345, "filetype": "png", "file": {"url": "ignored"}}),
                ),
                MsgType::Img,
                None,
                Some(json!({"url": "https://a1.easemob.com/o/a/chatfiles/u1?x=1",
                            "thumb": "https://a1.easemob.com/o/a/chatfiles/u1?em-redirect=true&thumbnail=true", "width": 640, "height": 480,
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
            assert_eq!(record.body.as_ref().map(value), body, "{name}");
            let stored = record.to_json();
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
            assert_eq!(value(&record.ext), json!({"keep": 1}), "{list}");
        }
    }

    #[test]
    fn remaining_ext() {
        let table = [
            (
                json!({"userNickname": "B", "userAvatar": "https://a/a", "ease_chat_uikit_user_info": {}, "em_at_list": "ALL",
                       "msgQuote": {"msgID": "m0"}, "n": [1, {"x": null}], "userName": "kept"}),
                json!({"n": [1, {"x": null}], "userName": "kept"}),
            ),
            (json!(null), json!({})),
            (json!([1, 2]), json!({})),
            (json!("text"), json!({})),
            (json!(5), json!({})),
        ];
        for (ext, want) in table {
            let record = run(&with(v4("groupChat", "bob", "g1"), json!({"ext": ext.clone()}))).unwrap();
            assert_eq!(value(&record.ext), want, "{ext}");
            // msgQuote became the record's quote.
            assert_eq!(record.quote.map(|q| q.id), ext.get("msgQuote").map(|_| "m0".to_string()), "{ext}");
        }
        let absent = run(&json!({"id": "m", "type": "txt", "chatType": "singleChat", "from": "bob", "to": ME, "msg": "x", "time": T})).unwrap();
        assert!(absent.ext.is_empty_object());
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

    fn ctx_with<'a>(
        keys: &'a ExtKeys,
        policy: &'a ProfilePolicy,
        profiles: &'a ProfileCache,
    ) -> Context<'a> {
        Context {
            me: ME,
            ext_keys: keys,
            policy,
            profiles,
        }
    }

    /// Whether `text` appears anywhere on the tape.
    fn on_tape(tape: &Tape, text: &str) -> bool {
        let units: Vec<u16> = text.encode_utf16().collect();
        tape.units()
            .windows(units.len())
            .any(|w| w == units.as_slice())
    }

    /// The tape with the first occurrence of `from` (as UTF-16 units) replaced by `to`.
    fn patched(tape: &Tape, from: &[u16], to: &[u16]) -> Tape {
        let mut units = tape.units().to_vec();
        let at = units
            .windows(from.len())
            .position(|w| w == from)
            .expect("on the tape");
        units.splice(at..at + from.len(), to.iter().copied());
        Tape::new(units)
    }

    #[test]
    fn each_field_has_its_name_in_its_place() {
        use Field::*;
        let table = [
            (Id, "id"), (Type, "type"), (ChatType, "chatType"), (From, "from"), (To, "to"), (Time, "time"),
            (Msg, "msg"), (Ext, "ext"), (Data, "data"), (SourceMsg, "sourceMsg"), (ContentsType, "contentsType"),
            (Group, "group"), (RoomType, "roomType"), (Addr, "addr"), (BuildingName, "buildingName"), (Lat, "lat"),
            (Lng, "lng"), (Action, "action"), (CustomEvent, "customEvent"), (CustomExts, "customExts"),
            (File, "file"), (Body, "body"),
        ];
        assert_eq!(table.len(), FIELD_NAMES.len());
        for (field, name) in table {
            assert_eq!(field.name(), name, "{field:?}");
        }
    }

    #[test]
    fn the_tape_carries_what_normalize_reads_and_the_shim_adds_the_rest() {
        let keys = ExtKeys {
            nickname: "nick".into(),
            avatar: "pic".into(),
        };
        let (policy, profiles) = (ProfilePolicy::default(), ProfileCache::default());
        let ctx = ctx_with(&keys, &policy, &profiles);
        let message = json!({
            "id": "m1", "type": "txt", "chatType": "groupChat", "from": "bob", "to": "g1", "time": T,
            "msg": "SECRET-TEXT 你好 [):]", "onlineState": 1, "priority": "SECRET-OPTION",
            "ext": {"nick": "Bob", "pic": "https://a.example/b.png", "em_at_list": ["alice"],
                    "ease_chat_uikit_user_info": {"nickname": "UiBob"},
                    "app": {"note": "SECRET-APP", "list": [[1]]}, "flag": "SECRET-FLAG"},
        });
        let tape = Tape::from_json(&message, &projection(&keys), &mut |_| 0);
        for secret in ["SECRET", "onlineState", "priority"] {
            assert!(!on_tape(&tape, secret), "{secret} crossed");
        }
        let Normalized { record, text_field } = normalize(tape.root(), &ctx).unwrap();
        assert_eq!(text_field, Some("msg"));
        assert_eq!((record.text, record.ext), (None, Json::object()));
        assert_eq!(record.sender.nickname.as_deref(), Some("Bob"));
        assert_eq!(
            record.sender.avatar.as_deref(),
            Some("https://a.example/b.png")
        );
        assert_eq!(record.mentions, Some(Mentions::Users(vec![ME.into()])));
        assert_eq!(
            consumed_ext_keys(&keys),
            ["nick", "pic", "ease_chat_uikit_user_info", "em_at_list", "msgQuote"]
        );
        // The shim copies the text and the ext less the consumed keys, as normalize_value does.
        let whole = normalize_value(&message, &ctx).unwrap();
        assert_eq!(whole.text.as_deref(), Some("SECRET-TEXT 你好 [):]"));
        assert_eq!(
            value(&whole.ext),
            json!({"app": {"note": "SECRET-APP", "list": [[1]]}, "flag": "SECRET-FLAG"})
        );
        // Legacy shapes name their text field.
        let legacy_tape =
            Tape::from_json(&legacy("chat", "bob", ME), &projection(&keys), &mut |_| 0);
        assert_eq!(
            normalize(legacy_tape.root(), &ctx).unwrap().text_field,
            Some("data")
        );
        // What the shim reads as the projection.
        let shape: Value = serde_json::from_str(&projection(&keys).to_json()).unwrap();
        assert_eq!(shape["o"], json!(0), "other fields are left out");
        assert_eq!(shape["k"]["msg"], json!("len"));
        assert_eq!(shape["k"]["sourceMsg"], json!("len"));
        assert_eq!(
            shape["k"]["ext"],
            json!({"k": {"nick": 1, "pic": 1, "ease_chat_uikit_user_info": 1, "em_at_list": 1, "msgQuote": 1}, "o": "depth"})
        );
        let file_like = json!({"k": {"url": 1, "filename": 1, "thumb": 1, "file_length": 1, "width": 1, "height": 1, "length": 1}, "o": 0});
        assert_eq!(
            (&shape["k"]["file"], &shape["k"]["body"]),
            (&file_like, &file_like)
        );
    }

    #[test]
    fn text_length_from_the_tape() {
        let keys = ExtKeys::default();
        let (policy, profiles) = (ProfilePolicy::default(), ProfileCache::default());
        let ctx = ctx_with(&keys, &policy, &profiles);
        // (UTF-16 length, UTF-8 length as the shim measured it or not, outcome)
        let table: [(u32, Option<u32>, Result<(), &str>); 6] = [
            (21_000, Some(65_536), Ok(())),
            (
                21_000,
                Some(65_537),
                Err("text is 65537 bytes, over the 65536-byte limit"),
            ),
            (21_845, None, Ok(())),
            (21_000, None, Ok(())),
            // Unmeasured, the bound counts: the shim measures whenever the bound is over the limit.
            (
                30_000,
                None,
                Err("text is 90000 bytes, over the 65536-byte limit"),
            ),
            (
                70_000,
                Some(70_000),
                Err("text is 70000 bytes, over the 65536-byte limit"),
            ),
        ];
        for (utf16, utf8, want) in table {
            let message = with(
                v4("singleChat", "bob", ME),
                json!({"msg": "a".repeat(utf16 as usize)}),
            );
            let tape = Tape::from_json(&message, &projection(&keys), &mut |_| 0);
            let written = [
                tape::LEN,
                utf16 as u16,
                (utf16 >> 16) as u16,
                utf16 as u16,
                (utf16 >> 16) as u16,
            ];
            let measured = utf8.unwrap_or(u32::MAX);
            let tape = patched(
                &tape,
                &written,
                &[
                    tape::LEN,
                    written[1],
                    written[2],
                    measured as u16,
                    (measured >> 16) as u16,
                ],
            );
            let outcome =
                normalize(tape.root(), &ctx).map(|n| assert_eq!(n.text_field, Some("msg")));
            assert_eq!(
                outcome.map_err(|e| e.reason),
                want.map_err(str::to_string),
                "{utf16} {utf8:?}"
            );
        }
    }

    #[test]
    fn lone_surrogates_on_the_tape_read_as_replacement_characters() {
        let keys = ExtKeys::default();
        let (policy, profiles) = (ProfilePolicy::default(), ProfileCache::default());
        let ctx = ctx_with(&keys, &policy, &profiles);
        let message = with(
            v4("groupChat", "bxb", "g1"),
            json!({"ext": {"userNickname": "Bo"}}),
        );
        let tape = Tape::from_json(&message, &projection(&keys), &mut |_| 0);
        let b = u16::from(b'b');
        let tape = patched(&tape, &[b, u16::from(b'x'), b], &[b, 0xD800, b]);
        let tape = patched(
            &tape,
            &[u16::from(b'B'), u16::from(b'o')],
            &[u16::from(b'B'), 0xDC00],
        );
        let record = normalize(tape.root(), &ctx).unwrap().record;
        assert_eq!(
            (record.from.as_str(), record.sender.id.as_str()),
            ("b\u{FFFD}b", "b\u{FFFD}b")
        );
        assert_eq!(record.sender.nickname.as_deref(), Some("B\u{FFFD}"));
        assert_eq!(record.conversation, "group:g1");
    }

    #[test]
    fn record_size_limit() {
        assert_eq!(check_record_size(MAX_RECORD_BYTES), Ok(()));
        assert_eq!(
            check_record_size(MAX_RECORD_BYTES + 1).map_err(|e| e.reason),
            Err("record is 131073 bytes as JSON, over the 131072-byte limit (ext or body too large)".into())
        );
    }

    #[test]
    fn acks_name_their_conversation() {
        let table: Vec<(Value, Result<&str, &str>)> = vec![
            (json!({"from": "bob", "to": ME}), Ok("single:bob")),
            (
                json!({"from": ME, "to": "bob", "chatType": "singleChat"}),
                Ok("single:bob"),
            ),
            (
                json!({"from": "bob", "to": "g1", "chatType": "groupChat"}),
                Ok("group:g1"),
            ),
            (
                json!({"from": "bob", "to": "r1", "type": "chatroom"}),
                Ok("chatroom:r1"),
            ),
            (
                json!({"from": 7, "to": 8, "chatType": "groupChat"}),
                Ok("group:8"),
            ),
            (
                json!({"from": "bob", "to": "g1", "chatType": "nonsense"}),
                Ok("single:bob"),
            ),
            (json!({"to": ME}), Err("from is missing")),
            (json!({"from": "bob", "to": ""}), Err("to is empty")),
            (json!(["bob"]), Err("ack is an array, not an object")),
        ];
        for (event, want) in table {
            let got = conversation_of_ack(Tape::full(&event).root(), ME).map_err(|e| e.reason);
            assert_eq!(
                got,
                want.map(str::to_string).map_err(str::to_string),
                "{event}"
            );
        }
    }

    #[test]
    fn coordinates_in_text_read_as_json_numbers() {
        let table: [(&str, Option<f64>); 22] = [
            ("39.5", Some(39.5)),
            (" 116.3975 ", Some(116.3975)),
            ("-33.8688197", Some(-33.8688197)),
            ("0", Some(0.0)),
            ("-0", Some(-0.0)),
            ("1e2", Some(100.0)),
            ("1E-2", Some(0.01)),
            ("2.5e+1", Some(25.0)),
            ("0.1", Some(0.1)),
            (
                "123456789012345678901234567890",
                Some(1.2345678901234568e29),
            ),
            ("0.000000000000000000000000001", Some(1e-27)),
            ("1e400", None),
            ("1e-400", Some(0.0)),
            ("01", None),
            ("+1", None),
            (".5", None),
            ("5.", None),
            ("1e", None),
            ("--1", None),
            ("1.5x", None),
            ("NaN", None),
            ("", None),
        ];
        for (text, want) in table {
            let got = coordinate(text);
            match (got, want) {
                (Some(got), Some(want)) => {
                    let close = (got - want).abs() <= want.abs() * 4.0 * f64::EPSILON;
                    assert!(
                        close && got.is_sign_negative() == want.is_sign_negative(),
                        "{text}: {got} != {want}"
                    );
                }
                _ => assert_eq!(got, want, "{text:?}"),
            }
        }
        // Up to 15 significant digits, exactly what a correctly rounded parser reads.
        for text in [
            "39.9087",
            "-122.4194155",
            "0.123456789012345",
            "179.999999999999",
            "12.5e-3",
            "4.35e10",
        ] {
            assert_eq!(coordinate(text), text.parse::<f64>().ok(), "{text}");
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
                let stored = record.to_json();
                prop_assert!(stored.len() <= MAX_RECORD_BYTES);
                let body = record.body.as_ref().map(Json::to_text).unwrap_or_default();
                prop_assert!(!body.contains("access_token="), "{}", body);
                prop_assert!(!record.mentions_me || record.direction == Direction::In);
            }
        }
    }
}
