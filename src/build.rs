//! Outgoing messages: options for `WebIM.message.create`, with the legacy fields older SDKs read.
//!
//! The SDK checks almost nothing: a missing or misspelt `chatType` silently sends a one-to-one
//! message, a bad `type` yields `{}`. [`build`] checks everything first and fails with a message
//! that says what to fix, so nothing half-formed reaches the SDK. It also writes the legacy group
//! flags (`group: 'groupchat'`, `roomType`) so that a group message stays a group message on any
//! SDK version, and puts the sender's own nickname and avatar into `ext` where mpchat, the seed
//! recipe and Easemob's UIKits all read them.
//!
//! Rules the caller can rely on:
//! - A field set to `null` counts as absent, everywhere (JavaScript `undefined` arrives as `null`).
//! - Without `chatType` the message is one-to-one, unless the legacy `group: 'groupchat'` flag
//!   (with `roomType: true` for a chat room) says otherwise; `chatType` and the legacy flags must
//!   agree when both are given. An unknown `chatType` spelling is an error, never one-to-one.
//! - Only the fields of the message's type and the SDK's common options (`msgConfig`, `priority`,
//!   `deliverOnlineOnly`, `receiverList`, `isChatThread`) are copied; anything else is dropped.
//!   `file` values (the SDK's upload objects) are copied untouched.
//! - `ext` keys the caller sets win over what mpchat fills in: an explicit `userNickname` (or the
//!   configured key) or `ease_chat_uikit_user_info` is kept as given.
//! - `mentions` (user ids, or `'all'`) become `ext.em_at_list` (ids, or `"ALL"`); they are for
//!   groups and chat rooms only, and may not be combined with an explicit `ext.em_at_list`.
//!
//! How the work is shared with the shim: the input arrives on a tape under [`projection`], which
//! carries what the rules check and only the presence of what is copied (`file`, the common options,
//! the caller's `ext` beyond its depth), so upload objects keep their functions and the text goes out
//! as it came in. [`build`] returns the options it decides, the input keys the shim copies, and
//! whether the shim merges the caller's `ext` over mpchat's (see [`Built`]). Natively, `build_value`
//! does the shim's part on `serde_json` values.


use crate::error::{number_text, Error, Result};
use crate::json::Json;
use crate::kind::Kind;
use crate::message::MsgType;
use crate::normalize::{brief, MAX_EXT_DEPTH, MAX_TEXT_BYTES, MENTIONS_KEY};
use crate::profile::{ExtKeys, Profile, UIKIT_USER_INFO_KEY};
use crate::quote::{Quote, QUOTE_KEY};
use crate::tape::{self, Projection, Val};

/// The longest `to` accepted, in bytes (Easemob ids are far shorter).
pub const MAX_TO_BYTES: usize = 256;

/// Options of `WebIM.message.create` that every message type takes and mpchat copies as they are.
const PASS_THROUGH: [&str; 5] = [
    "msgConfig",
    "priority",
    "deliverOnlineOnly",
    "receiverList",
    "isChatThread",
];

/// How one type field is checked, and whether [`build`] writes it or the shim copies it.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// A string with something other than whitespace in it; required.
    Text,
    /// The text of a `txt` message: checked as [`Rule::Text`], copied by the shim (it goes out as
    /// it came in, never back through JSON).
    Message,
    /// A string, optional.
    OptionalString,
    /// A URL string, optional; a file message needs this or `file`.
    Url,
    /// The SDK's upload object, optional, copied untouched; a file message needs this or `url`.
    File,
    /// A non-negative number (pixels, bytes, seconds), optional.
    Size,
    /// A number within ±limit degrees; required.
    Degrees(f64),
    /// An object whose values are all strings, optional.
    StringMap,
}

/// The fields each type carries (reference: easemob.md §3), in the order they are checked.
fn type_fields(msg_type: MsgType) -> &'static [(&'static str, Rule)] {
    use Rule::*;
    match msg_type {
        MsgType::Txt => &[("msg", Message)],
        MsgType::Img => &[
            ("url", Url),
            ("file", File),
            ("width", Size),
            ("height", Size),
            ("file_length", Size),
        ],
        MsgType::Audio => &[
            ("url", Url),
            ("file", File),
            ("filename", OptionalString),
            ("length", Size),
            ("file_length", Size),
        ],
        MsgType::Video => &[
            ("url", Url),
            ("file", File),
            ("filename", OptionalString),
            ("length", Size),
            ("file_length", Size),
            ("thumb", OptionalString),
        ],
        MsgType::File => &[
            ("url", Url),
            ("file", File),
            ("filename", OptionalString),
            ("file_length", Size),
        ],
        MsgType::Loc => &[
            ("addr", OptionalString),
            ("buildingName", OptionalString),
            ("lat", Degrees(90.0)),
            ("lng", Degrees(180.0)),
        ],
        MsgType::Cmd => &[("action", Text)],
        MsgType::Custom => &[("customEvent", Text), ("customExts", StringMap)],
    }
}

/// A value's presence, `null` told apart, and its depth, without its content: `null` and scalars
/// are written as they are, an object's entries as their depths.
fn presence() -> Projection {
    Projection::object([], Projection::Depth)
}

/// What of the input [`build`] reads, for the shim to write onto the tape: the fields it checks in
/// full; `file`, the common options and `ext.em_at_list` by their presence only (`null` told apart,
/// an object's entries as depths); the rest of `ext` as depths (the nesting limit); nothing else.
pub fn projection() -> Projection {
    let mut fields: Vec<(&str, Projection)> = Vec::new();
    let decided = ["type", "chatType", "to", "group", "roomType", "mentions", "quote"];
    for name in decided {
        fields.push((name, Projection::Full));
    }
    for msg_type in MsgType::ALL {
        for &(name, rule) in type_fields(msg_type) {
            if !fields.iter().any(|(known, _)| *known == name) {
                let copied = matches!(rule, Rule::File);
                fields.push((name, if copied { presence() } else { Projection::Full }));
            }
        }
    }
    fields.extend(PASS_THROUGH.map(|name| (name, presence())));
    let ext = Projection::object([(MENTIONS_KEY, presence()), (QUOTE_KEY, presence())], Projection::Depth);
    fields.push(("ext", ext));
    Projection::object(fields, Projection::Skip)
}

/// What [`build`] decided, and what the shim adds from the input to make the options for
/// `WebIM.message.create`.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// Everything decided: `type`, `chatType`, `to`, the legacy `group`/`roomType`, the checked type
    /// fields, `body` for an uploaded audio, video or file, and `ext` with mpchat's own keys (own
    /// profile under the configured keys and `ease_chat_uikit_user_info`; `em_at_list` from
    /// `mentions`). No `ext` when there is nothing to put in it.
    pub options: Json,
    /// Input keys to copy into the options as they are (`msg`, `file`, the common options present).
    pub copy: Vec<&'static str>,
    /// Whether the input's `ext` (a non-empty object) is to be merged over `options.ext`: each of its
    /// entries is set, except that a `null` (or `undefined`) never replaces a value mpchat filled in.
    pub ext_from_input: bool,
}

/// Checks mpchat's send input (`{type, chatType, to, msg, …, ext, mentions}`, on a tape under
/// [`projection`]) and decides the options for `WebIM.message.create` (SDK 4.x), with `own` profile
/// for `ext` under `keys` and under `ease_chat_uikit_user_info`. See the module documentation for the
/// rules and [`Built`] for what the shim adds.
///
/// `quoted` finds the stored record a `quote` names, as its [`Quote`]; `None` when there is none.
pub fn build(input: Val<'_>, own: &Profile, keys: &ExtKeys, quoted: Quoted<'_>) -> Result<Built> {
    if !matches!(input.kind(), tape::Kind::Object) {
        return Err(Error::input(format!(
            "a message to build must be an object like {{ type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'hi' }} (got {})",
            input.describe()
        )));
    }
    let msg_type = read_type(input)?;
    let kind = read_kind(input)?;
    let to = read_to(input)?;

    let mut built = Built {
        options: Json::object(),
        copy: Vec::new(),
        ext_from_input: false,
    };
    let options = &mut built.options;
    options.insert("type", Json::String(msg_type.as_str().into()));
    options.insert("chatType", Json::String(kind.sdk_chat_type().into()));
    options.insert("to", Json::String(to));
    match kind {
        Kind::Single => {}
        Kind::Group | Kind::ChatRoom => {
            options.insert("group", Json::String("groupchat".into()));
            options.insert("roomType", Json::Bool(kind == Kind::ChatRoom));
        }
    }
    check_type_fields(msg_type, input, &mut built)?;
    if let Some(body) = uploaded_body(msg_type, &built.options) {
        built.options.insert("body", body);
    }
    for key in PASS_THROUGH {
        if present(input, key).is_some() {
            built.copy.push(key);
        }
    }
    let (mut ext, ext_from_input) = build_ext(input, kind, own, keys)?;
    if let Some(quote) = read_quote(input, quoted)? {
        ext.insert(QUOTE_KEY, quote.to_ext());
    }
    if !ext.is_empty_object() {
        built.options.insert("ext", ext);
    }
    built.ext_from_input = ext_from_input;
    Ok(built)
}

/// Looks up the record a `quote` names.
pub type Quoted<'a> = &'a mut dyn FnMut(&str) -> Result<Option<Quote>>;

/// The quote a `quote: recordId` asks for, from the stored record.
fn read_quote(input: Val<'_>, quoted: Quoted<'_>) -> Result<Option<Quote>> {
    let Some(value) = present(input, "quote") else {
        return Ok(None);
    };
    let id = value.as_str().filter(|id| !id.is_empty()).ok_or_else(|| {
        Error::input(format!("`quote` must be the id of a stored record to reply to (got {})", value.describe()))
    })?;
    if present(input, "ext").and_then(|ext| present(ext, QUOTE_KEY)).is_some() {
        return Err(Error::input("pass a quote either as `quote` or as ext.msgQuote, not both"));
    }
    match quoted(&id)? {
        Some(quote) => Ok(Some(quote)),
        None => Err(Error::input(format!(
            "`quote`: no stored record has id {}; quote a message from this chat's history",
            brief(&id)
        ))),
    }
}

/// The value of `key` unless it is missing or `null`.
fn present<'t>(fields: Val<'t>, key: &str) -> Option<Val<'t>> {
    fields.get(key).filter(|value| !value.is_null())
}

fn known_types() -> String {
    MsgType::ALL.map(MsgType::as_str).join(", ")
}

fn read_type(fields: Val<'_>) -> Result<MsgType> {
    let value = present(fields, "type").ok_or_else(|| {
        Error::input(format!(
            "a message needs a `type`: one of {}",
            known_types()
        ))
    })?;
    let name = value.as_str().ok_or_else(|| {
        Error::input(format!(
            "message `type` must be a string, one of {} (got {})",
            known_types(),
            value.describe()
        ))
    })?;
    MsgType::from_name(&name).ok_or_else(|| {
        Error::input(format!(
            "unknown message type {name:?}; use one of {}",
            known_types()
        ))
    })
}

const ACCEPTED_CHAT_TYPES: &str =
    "singleChat, groupChat or chatRoom (any case; also chat/groupchat/chatroom and single/group/room)";

/// The conversation kind from `chatType`, checked against the legacy `group`/`roomType` flags.
fn read_kind(fields: Val<'_>) -> Result<Kind> {
    let legacy = legacy_kind(fields)?;
    let Some(value) = present(fields, "chatType") else {
        return Ok(legacy.unwrap_or(Kind::Single));
    };
    let spelling = value.as_str().ok_or_else(|| {
        Error::input(format!(
            "`chatType` must be a string: {ACCEPTED_CHAT_TYPES} (got {})",
            value.describe()
        ))
    })?;
    let kind = Kind::from_spelling(&spelling).ok_or_else(|| {
        Error::input(format!(
            "unknown chatType {spelling:?}; use {ACCEPTED_CHAT_TYPES}"
        ))
    })?;
    match legacy {
        Some(flagged) if flagged != kind => Err(Error::input(format!(
            "chatType {spelling:?} says {kind} but the legacy group/roomType flags say {flagged}; pass only chatType"
        ))),
        _ => Ok(kind),
    }
}

/// The kind the legacy send path would use: `group: 'groupchat'` is a group, or a chat room
/// with `roomType: true`. Without `group` there is no legacy flag (`roomType` alone means nothing).
fn legacy_kind(fields: Val<'_>) -> Result<Option<Kind>> {
    let Some(group) = present(fields, "group") else {
        return Ok(None);
    };
    if !group
        .as_str()
        .is_some_and(|g| g.eq_ignore_ascii_case("groupchat"))
    {
        return Err(Error::input(
            "legacy `group` can only be 'groupchat'; better pass chatType: 'groupChat' or 'chatRoom' instead",
        ));
    }
    match present(fields, "roomType").map(|flag| (flag, flag.kind())) {
        None | Some((_, tape::Kind::Bool(false))) => Ok(Some(Kind::Group)),
        Some((_, tape::Kind::Bool(true))) => Ok(Some(Kind::ChatRoom)),
        Some((other, _)) => Err(Error::input(format!(
            "legacy `roomType` must be true (chat room) or false (group) (got {}); better pass chatType instead",
            other.describe()
        ))),
    }
}

fn read_to(fields: Val<'_>) -> Result<String> {
    let value = present(fields, "to").ok_or_else(|| {
        Error::input("a message needs `to`: the user id, group id or chat-room id to send to")
    })?;
    let to = match value.kind() {
        tape::Kind::String => value.as_str().unwrap_or_default(),
        tape::Kind::Number(_) => {
            return Err(Error::input(
                "`to` must be a string id, not a number (large numeric group ids lose digits as numbers); pass it as a string",
            ))
        }
        _ => {
            return Err(Error::input(format!(
                "`to` must be a string id (got {})",
                value.describe()
            )))
        }
    };
    if to.trim().is_empty() {
        return Err(Error::input(
            "`to` is empty; pass the user id, group id or chat-room id to send to",
        ));
    }
    if to.len() > MAX_TO_BYTES {
        return Err(Error::input(format!(
            "`to` is {} bytes long; ids are at most {MAX_TO_BYTES} bytes, so this is not an id",
            to.len()
        )));
    }
    Ok(to)
}

/// Checks the fields of `msg_type` in `fields`; writes them into `built.options`, or lists them in
/// `built.copy` where the shim copies them.
fn check_type_fields(msg_type: MsgType, fields: Val<'_>, built: &mut Built) -> Result<()> {
    let name = msg_type.as_str();
    let mut has_source = false;
    for &(key, rule) in type_fields(msg_type) {
        let Some(value) = present(fields, key) else {
            match rule {
                Rule::Text | Rule::Message => {
                    return Err(Error::input(format!(
                        "{name} message needs `{key}`: a non-empty string"
                    )))
                }
                Rule::Degrees(_) => {
                    return Err(Error::input(format!(
                        "{name} message needs numeric `lat` and `lng`; `{key}` is missing"
                    )))
                }
                _ => continue,
            }
        };
        let wrong = |expected: &str| {
            Error::input(format!(
                "{name} message `{key}` must be {expected} (got {})",
                value.describe()
            ))
        };
        let written = match (rule, value.kind()) {
            (Rule::Text | Rule::Message, tape::Kind::String) => {
                let text = value.as_str().unwrap_or_default();
                if text.trim().is_empty() {
                    return Err(Error::input(format!(
                        "{name} message has an empty `{key}`; there is nothing to send"
                    )));
                }
                if text.len() > MAX_TEXT_BYTES {
                    return Err(Error::input(format!(
                        "{name} message `{key}` is {} bytes; receivers keep texts up to {MAX_TEXT_BYTES} bytes, so split it",
                        text.len()
                    )));
                }
                matches!(rule, Rule::Text).then_some(Json::String(text))
            }
            (Rule::OptionalString | Rule::Url, tape::Kind::String) => {
                value.as_str().map(Json::String)
            }
            (Rule::Text | Rule::Message | Rule::OptionalString | Rule::Url, _) => {
                return Err(wrong("a string"))
            }
            (Rule::File, _) => None,
            (Rule::Size, tape::Kind::Number(n)) if n >= 0.0 => Some(Json::Number(n)),
            (Rule::Size, _) => return Err(wrong("a non-negative number")),
            (Rule::Degrees(limit), tape::Kind::Number(n)) => {
                if n.abs() > limit {
                    return Err(Error::input(format!(
                        "{name} message `{key}` {} is out of range; it must be between -{limit} and {limit} degrees",
                        number_text(n)
                    )));
                }
                Some(Json::Number(n))
            }
            (Rule::Degrees(_), _) => {
                return Err(Error::input(format!(
                    "{name} message needs numeric `lat` and `lng`; `{key}` is {}",
                    value.describe()
                )))
            }
            (Rule::StringMap, tape::Kind::Object) => {
                let mut strings = Vec::new();
                for (entry, item) in value.entries() {
                    let Some(text) = item.as_str() else {
                        return Err(Error::input(format!(
                            "{name} message `{key}` values must be strings; `{entry}` is {} (convert it with String())",
                            item.describe()
                        )));
                    };
                    strings.push((entry.to_string(), Json::String(text)));
                }
                Some(Json::Object(strings))
            }
            (Rule::StringMap, _) => return Err(wrong("an object of string values")),
        };
        has_source |= matches!(rule, Rule::Url | Rule::File);
        match written {
            Some(json) => built.options.insert(key, json),
            None => built.copy.push(key),
        }
    }
    let needs_source = type_fields(msg_type)
        .iter()
        .any(|(_, rule)| matches!(rule, Rule::Url));
    if needs_source && !has_source {
        return Err(Error::input(format!(
            "{name} message needs `url` (an uploaded file's URL) or `file` (the file to upload)"
        )));
    }
    Ok(())
}

/// SDK 4.x puts an already uploaded audio, video or file on the wire only from the options'
/// `body` object (`url`, `filename`, `length`, `file_length`); top-level `url` is dropped by
/// `WebIM.message.create` and `filename`/`length` are not encoded. So a `url` send of those
/// types also carries its fields in `body`, as the official demo sends them.
fn uploaded_body(msg_type: MsgType, options: &Json) -> Option<Json> {
    if !matches!(msg_type, MsgType::Audio | MsgType::Video | MsgType::File) {
        return None;
    }
    options.get("url")?;
    let mut body = vec![("type".to_string(), Json::String(msg_type.as_str().into()))];
    for (key, _) in type_fields(msg_type) {
        if let Some(value) = options.get(key) {
            body.push((key.to_string(), value.clone()));
        }
    }
    Some(Json::Object(body))
}

/// mpchat's ext keys (own profile, mentions), and whether the caller's ext is to be merged over them.
fn build_ext(fields: Val<'_>, kind: Kind, own: &Profile, keys: &ExtKeys) -> Result<(Json, bool)> {
    let given = match present(fields, "ext") {
        None => None,
        Some(ext) if matches!(ext.kind(), tape::Kind::Object) => {
            if ext.depth() > MAX_EXT_DEPTH {
                return Err(Error::input(format!(
                    "`ext` nests deeper than {MAX_EXT_DEPTH} levels; receivers drop such messages, so flatten it"
                )));
            }
            Some(ext)
        }
        Some(other) => {
            return Err(Error::input(format!(
                "`ext` must be an object of extra fields (got {})",
                other.describe()
            )))
        }
    };
    let mut ext = Json::object();
    let nickname = own.nickname.as_deref().filter(|s| !s.is_empty());
    let avatar = own.avatar.as_deref().filter(|s| !s.is_empty());
    for (key, value) in [(&keys.nickname, nickname), (&keys.avatar, avatar)] {
        if let Some(value) = value {
            ext.insert(key, Json::String(value.into()));
        }
    }
    if nickname.is_some() || avatar.is_some() {
        let mut info = Json::object();
        if let Some(nickname) = nickname {
            info.insert("nickname", Json::String(nickname.into()));
        }
        if let Some(avatar) = avatar {
            info.insert("avatarURL", Json::String(avatar.into()));
        }
        ext.insert(UIKIT_USER_INFO_KEY, info);
    }
    if let Some(mentions) = present(fields, "mentions") {
        if kind == Kind::Single {
            return Err(Error::input(
                "`mentions` work in groups and chat rooms only; remove them from a one-to-one message",
            ));
        }
        if given.is_some_and(|ext| present(ext, MENTIONS_KEY).is_some()) {
            return Err(Error::input(
                "pass @mentions either as `mentions` or as ext.em_at_list, not both",
            ));
        }
        if let Some(list) = mention_list(mentions)? {
            ext.insert(MENTIONS_KEY, list);
        }
    }
    Ok((ext, given.is_some_and(|ext| !ext.is_empty())))
}

/// `em_at_list` for `mentions`: `"ALL"` for `'all'`, the distinct ids in order for an array,
/// nothing for an empty array.
fn mention_list(mentions: Val<'_>) -> Result<Option<Json>> {
    const SHAPE: &str = "`mentions` must be an array of user ids or the string 'all'";
    match mentions.kind() {
        tape::Kind::String => {
            let text = mentions.as_str().unwrap_or_default();
            if text.trim().eq_ignore_ascii_case("all") {
                return Ok(Some(Json::String("ALL".into())));
            }
            Err(Error::input(format!(
                "{SHAPE} (got the string {text:?}; for one user pass [{text:?}])"
            )))
        }
        tape::Kind::Array => {
            let mut ids = Vec::new();
            for (index, item) in mentions.items().enumerate() {
                let id = item
                    .as_str()
                    .filter(|id| !id.trim().is_empty())
                    .ok_or_else(|| {
                        let what = if item.is_string() {
                            "an empty string"
                        } else {
                            item.describe()
                        };
                        Error::input(format!("{SHAPE}; mentions[{index}] is {what}"))
                    })?;
                if !ids.iter().any(|known: &Json| known.as_str() == Some(id.as_str())) {
                    ids.push(Json::String(id));
                }
            }
            Ok((!ids.is_empty()).then_some(Json::Array(ids)))
        }
        _ => Err(Error::input(format!(
            "{SHAPE} (got {})",
            mentions.describe()
        ))),
    }
}

/// What the shim does around [`build`], done natively on `serde_json` values (tests, fuzzing): the
/// options for `WebIM.message.create` from a send input.
#[cfg(not(target_arch = "wasm32"))]
pub fn build_value(
    input: &serde_json::Value,
    own: &Profile,
    keys: &ExtKeys,
) -> Result<serde_json::Value> {
    use serde_json::Value;
    /// As `JSON.parse` reads the options' text, without serde_json's text round trip (which may
    /// read a float a last digit off).
    fn value(json: Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => integer_value(n).unwrap_or_else(|| Value::from(n)),
            Json::String(s) => Value::String(s),
            Json::Array(items) => Value::Array(items.into_iter().map(value).collect()),
            Json::Object(entries) => {
                Value::Object(entries.into_iter().map(|(k, v)| (k, value(v))).collect())
            }
        }
    }
    /// Whole numbers as serde_json reads them from JSON text, so they compare equal.
    fn integer_value(n: f64) -> Option<Value> {
        let whole = n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15;
        whole.then(|| {
            if n < 0.0 {
                Value::from(n as i64)
            } else {
                Value::from(n as u64)
            }
        })
    }
    let tape = tape::Tape::from_json(input, &projection(), &mut |_| 0);
    let built = build(tape.root(), own, keys, &mut |_| Ok(None))?;
    let Value::Object(mut options) = value(built.options) else {
        return Err(Error::input("build decides an object"));
    };
    for key in built.copy {
        if let Some(value) = input.get(key) {
            options.insert(key.into(), value.clone());
        }
    }
    if let (true, Some(given)) = (
        built.ext_from_input,
        input.get("ext").and_then(Value::as_object),
    ) {
        let ext = options
            .entry("ext")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(ext) = ext {
            for (key, value) in given {
                if !(value.is_null() && ext.contains_key(key)) {
                    ext.insert(key.clone(), value.clone());
                }
            }
        }
    }
    Ok(Value::Object(options))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn no_profile() -> Profile {
        Profile::default()
    }

    /// Builds with a store holding one record, `m1`, sent by 鲍勃.
    fn build_quoting(input: Value) -> Result<Value> {
        let tape = tape::Tape::from_json(&input, &projection(), &mut |_| 0);
        let stored = Quote { id: "m1".into(), preview: "see you".into(), sender: "鲍勃".into(), msg_type: MsgType::Txt };
        let mut lookups = Vec::new();
        let built = build(tape.root(), &no_profile(), &ExtKeys::default(), &mut |id| {
            lookups.push(id.to_string());
            Ok((id == "m1").then(|| stored.clone()))
        });
        if let Some(id) = input.get("quote").and_then(Value::as_str).filter(|id| !id.is_empty()) {
            assert!(lookups.len() <= 1 && lookups.iter().all(|l| l == id), "the quoted id is looked up once at most");
        }
        built.map(|b| serde_json::from_str(&b.options.to_text()).unwrap())
    }

    #[test]
    fn a_quote_fills_msg_quote_from_the_stored_record() {
        let reply = json!({"type": "txt", "chatType": "groupChat", "to": "g1", "msg": "me too", "quote": "m1"});
        let options = build_quoting(reply).unwrap();
        assert_eq!(
            options["ext"],
            json!({"msgQuote": {"msgID": "m1", "msgPreview": "see you", "msgSender": "鲍勃", "msgType": "txt"}})
        );
        let table = [
            (json!("m404"), "`quote`: no stored record has id \"m404\"; quote a message from this chat's history"),
            (json!(7), "`quote` must be the id of a stored record to reply to (got a number)"),
            (json!(""), "`quote` must be the id of a stored record to reply to (got a string)"),
        ];
        for (quote, error) in table {
            let input = json!({"type": "txt", "chatType": "singleChat", "to": "bob", "msg": "x", "quote": quote});
            assert_eq!(build_quoting(input).unwrap_err().message(), error);
        }
        let both = json!({"type": "txt", "chatType": "singleChat", "to": "bob", "msg": "x", "quote": "m1", "ext": {"msgQuote": {}}});
        assert_eq!(build_quoting(both).unwrap_err().message(), "pass a quote either as `quote` or as ext.msgQuote, not both");
        let none = json!({"type": "txt", "chatType": "singleChat", "to": "bob", "msg": "x", "quote": null});
        assert!(build_quoting(none).unwrap().get("ext").is_none());
    }

    fn alice() -> Profile {
        Profile {
            nickname: Some("Alice".into()),
            avatar: Some("https://cdn.example.com/a.png".into()),
        }
    }

    fn build_plain(input: Value) -> Result<Value> {
        build_value(&input, &no_profile(), &ExtKeys::default())
    }

    /// `base` with the entries of `extra` (an object) added.
    fn merged(base: Value, extra: &Value) -> Value {
        let mut base = base;
        if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        base
    }

    #[test]
    fn every_type_in_every_kind() {
        // (type as given, type fields in and out, canonical type, SDK `body` added for uploads)
        let types = [
            ("txt", json!({"msg": "hi [):]"}), "txt", None),
            ("TXT", json!({"msg": "  spaced  "}), "txt", None),
            (
                "img",
                json!({"url": "https://x/a.png", "width": 640, "height": 480, "file_length": 1234}),
                "img",
                None,
            ),
            (
                "image",
                json!({"file": {"url": "wxfile://tmp_1.png", "filename": "1.png"}}),
                "img",
                None,
            ),
            (
                "audio",
                json!({"url": "https://x/a.amr", "filename": "a.amr", "length": 3, "file_length": 2048}),
                "audio",
                Some(
                    json!({"type": "audio", "url": "https://x/a.amr", "filename": "a.amr", "length": 3, "file_length": 2048}),
                ),
            ),
            (
                "Voice",
                json!({"file": {"url": "wxfile://tmp.mp3"}, "length": 1.5}),
                "audio",
                None,
            ),
            (
                "video",
                json!({"url": "https://x/v.mp4", "filename": "v.mp4", "length": 12, "file_length": 99, "thumb": "https://x/t.jpg"}),
                "video",
                Some(
                    json!({"type": "video", "url": "https://x/v.mp4", "filename": "v.mp4", "length": 12, "file_length": 99, "thumb": "https://x/t.jpg"}),
                ),
            ),
            (
                "file",
                json!({"url": "https://x/d.pdf", "filename": "d.pdf", "file_length": 5}),
                "file",
                Some(
                    json!({"type": "file", "url": "https://x/d.pdf", "filename": "d.pdf", "file_length": 5}),
                ),
            ),
            (
                "loc",
                json!({"addr": "北京市", "buildingName": "国贸", "lat": 39.9087, "lng": 116.3975}),
                "loc",
                None,
            ),
            ("location", json!({"lat": -90, "lng": 180}), "loc", None),
            ("cmd", json!({"action": "typing"}), "cmd", None),
            (
                "custom",
                json!({"customEvent": "gift", "customExts": {"id": "7", "n": "2"}}),
                "custom",
                None,
            ),
            ("custom", json!({"customEvent": "ping"}), "custom", None),
        ];
        // (chatType as given, 4.x chatType, legacy fields)
        let kinds = [
            (json!("singleChat"), "singleChat", json!({})),
            (json!("chat"), "singleChat", json!({})),
            (Value::Null, "singleChat", json!({})),
            (
                json!("groupChat"),
                "groupChat",
                json!({"group": "groupchat", "roomType": false}),
            ),
            (
                json!("GROUPCHAT"),
                "groupChat",
                json!({"group": "groupchat", "roomType": false}),
            ),
            (
                json!("group"),
                "groupChat",
                json!({"group": "groupchat", "roomType": false}),
            ),
            (
                json!("chatRoom"),
                "chatRoom",
                json!({"group": "groupchat", "roomType": true}),
            ),
            (
                json!("chatroom"),
                "chatRoom",
                json!({"group": "groupchat", "roomType": true}),
            ),
        ];
        for (type_name, type_fields, canonical, body) in &types {
            for (chat_type, sdk_chat_type, legacy) in &kinds {
                let input = merged(
                    json!({"type": type_name, "chatType": chat_type, "to": "g1"}),
                    type_fields,
                );
                let mut want = merged(
                    merged(
                        json!({"type": canonical, "chatType": sdk_chat_type, "to": "g1"}),
                        legacy,
                    ),
                    type_fields,
                );
                if let Some(body) = body {
                    want = merged(want, &json!({ "body": body }));
                }
                assert_eq!(build_plain(input.clone()).unwrap(), want, "{input}");
            }
        }
    }

    #[test]
    fn kind_from_chat_type_or_legacy_flags() {
        // (input kind fields, 4.x chatType, roomType; None = one-to-one, no legacy fields)
        let table = [
            (json!({}), "singleChat", None),
            (json!({"chatType": null}), "singleChat", None),
            (json!({"roomType": true}), "singleChat", None),
            (json!({"group": "groupchat"}), "groupChat", Some(false)),
            (
                json!({"group": "GroupChat", "roomType": false}),
                "groupChat",
                Some(false),
            ),
            (
                json!({"group": "groupchat", "roomType": true}),
                "chatRoom",
                Some(true),
            ),
            (
                json!({"chatType": "groupChat", "group": "groupchat"}),
                "groupChat",
                Some(false),
            ),
            (
                json!({"chatType": "chatRoom", "group": "groupchat", "roomType": true}),
                "chatRoom",
                Some(true),
            ),
            (json!({"chatType": " room "}), "chatRoom", Some(true)),
        ];
        for (kind_fields, sdk_chat_type, room_type) in table {
            let input = merged(json!({"type": "txt", "to": "x", "msg": "hi"}), &kind_fields);
            let out = build_plain(input).unwrap();
            assert_eq!(out["chatType"], sdk_chat_type, "{kind_fields}");
            match room_type {
                None => {
                    assert!(
                        out.get("group").is_none() && out.get("roomType").is_none(),
                        "{kind_fields}"
                    )
                }
                Some(room) => {
                    assert_eq!(out["group"], "groupchat", "{kind_fields}");
                    assert_eq!(out["roomType"], room, "{kind_fields}");
                }
            }
        }
    }

    #[test]
    fn own_profile_goes_into_ext() {
        let custom = ExtKeys {
            nickname: "userName".into(),
            avatar: "userPic".into(),
        };
        let nick_only = Profile {
            nickname: Some("Alice".into()),
            avatar: None,
        };
        let empty_strings = Profile {
            nickname: Some(String::new()),
            avatar: Some(String::new()),
        };
        let avatar = "https://cdn.example.com/a.png";
        // (profile, keys, caller's ext, resulting ext; Null = no ext at all)
        let table = [
            (no_profile(), ExtKeys::default(), Value::Null, Value::Null),
            (no_profile(), ExtKeys::default(), json!({}), Value::Null),
            (empty_strings, ExtKeys::default(), Value::Null, Value::Null),
            (
                no_profile(),
                ExtKeys::default(),
                json!({"k": [1, {"a": null}]}),
                json!({"k": [1, {"a": null}]}),
            ),
            (
                alice(),
                ExtKeys::default(),
                Value::Null,
                json!({
                    "userNickname": "Alice",
                    "userAvatar": avatar,
                    "ease_chat_uikit_user_info": {"nickname": "Alice", "avatarURL": avatar},
                }),
            ),
            (
                alice(),
                custom.clone(),
                json!({"msgQuote": {"msgID": "m0"}, "n": 3}),
                json!({
                    "userName": "Alice",
                    "userPic": avatar,
                    "ease_chat_uikit_user_info": {"nickname": "Alice", "avatarURL": avatar},
                    "msgQuote": {"msgID": "m0"},
                    "n": 3,
                }),
            ),
            (
                nick_only,
                ExtKeys::default(),
                Value::Null,
                json!({"userNickname": "Alice", "ease_chat_uikit_user_info": {"nickname": "Alice"}}),
            ),
            // Keys the caller sets explicitly are kept; null counts as not set.
            (
                alice(),
                ExtKeys::default(),
                json!({"userNickname": "Al", "userAvatar": null, "ease_chat_uikit_user_info": {"nickname": "A."}}),
                json!({
                    "userNickname": "Al",
                    "userAvatar": avatar,
                    "ease_chat_uikit_user_info": {"nickname": "A."},
                }),
            ),
            (
                alice(),
                custom,
                json!({"userNickname": "stays", "ease_chat_uikit_user_info": null}),
                json!({
                    "userNickname": "stays",
                    "userName": "Alice",
                    "userPic": avatar,
                    "ease_chat_uikit_user_info": {"nickname": "Alice", "avatarURL": avatar},
                }),
            ),
        ];
        for (profile, keys, ext, want) in table {
            let input = json!({"type": "txt", "chatType": "groupChat", "to": "g1", "msg": "hi", "ext": ext});
            let out = build_value(&input, &profile, &keys).unwrap();
            assert_eq!(
                out.get("ext").cloned().unwrap_or(Value::Null),
                want,
                "{ext} {profile:?}"
            );
        }
    }

    #[test]
    fn mentions_become_em_at_list() {
        // (mentions, em_at_list; Null = none)
        let table = [
            (json!(["bob", "carol"]), json!(["bob", "carol"])),
            (json!(["bob", "carol", "bob"]), json!(["bob", "carol"])),
            (json!(["bob"]), json!(["bob"])),
            (json!("all"), json!("ALL")),
            (json!("ALL"), json!("ALL")),
            (json!(" All "), json!("ALL")),
            (json!([]), Value::Null),
            (Value::Null, Value::Null),
        ];
        for chat_type in ["groupChat", "chatRoom"] {
            for (mentions, want) in &table {
                let input = json!({"type": "txt", "chatType": chat_type, "to": "g1", "msg": "@bob hi", "mentions": mentions});
                let out = build_value(&input, &alice(), &ExtKeys::default()).unwrap();
                assert_eq!(
                    out["ext"].get(MENTIONS_KEY).cloned().unwrap_or(Value::Null),
                    *want,
                    "{mentions}"
                );
                assert_eq!(out["ext"]["userNickname"], "Alice", "{mentions}");
                assert!(out.get("mentions").is_none());
            }
        }
        // An explicit em_at_list without `mentions` is the caller's ext and stays.
        let input = json!({"type": "txt", "chatType": "groupChat", "to": "g1", "msg": "hi", "ext": {"em_at_list": "ALL"}});
        assert_eq!(
            build_plain(input).unwrap()["ext"],
            json!({"em_at_list": "ALL"})
        );
    }

    #[test]
    fn sdk_options_pass_through_and_unknown_fields_are_dropped() {
        let input = json!({
            "type": "txt", "chatType": "chatRoom", "to": "r1", "msg": "hi",
            "msgConfig": {"allowGroupAck": true},
            "priority": "high",
            "deliverOnlineOnly": true,
            "receiverList": ["bob"],
            "isChatThread": false,
            "id": "local-1",
            "from": "mallory",
            "url": "https://x/not-for-txt",
            "success": null,
        });
        let want = json!({
            "type": "txt", "chatType": "chatRoom", "to": "r1", "msg": "hi",
            "group": "groupchat", "roomType": true,
            "msgConfig": {"allowGroupAck": true},
            "priority": "high",
            "deliverOnlineOnly": true,
            "receiverList": ["bob"],
            "isChatThread": false,
        });
        assert_eq!(build_plain(input).unwrap(), want);
        // Absent and null options are left out.
        let out = build_plain(json!({"type": "cmd", "to": "bob", "action": "x", "priority": null}))
            .unwrap();
        assert_eq!(
            out,
            json!({"type": "cmd", "chatType": "singleChat", "to": "bob", "action": "x"})
        );
    }

    #[test]
    fn the_text_and_to_are_kept_exactly() {
        let text = " 你好 [):] 👨‍👩‍👧\n第二行 ";
        let to = "1234567890123456789";
        let out =
            build_plain(json!({"type": "txt", "chatType": "groupChat", "to": to, "msg": text}))
                .unwrap();
        assert_eq!(
            (out["msg"].as_str(), out["to"].as_str()),
            (Some(text), Some(to))
        );
        let longest = "a".repeat(MAX_TO_BYTES);
        assert!(build_plain(json!({"type": "txt", "to": longest, "msg": "x"})).is_ok());
    }

    #[test]
    fn bad_input_is_an_error_that_says_what_to_do() {
        let long_to = "a".repeat(MAX_TO_BYTES + 1);
        // (input, expected substring of the message)
        let table = [
            (json!(null), "must be an object"),
            (json!("hi"), "must be an object like"),
            (json!([1]), "(got an array)"),
            (
                json!({"to": "g1", "msg": "hi"}),
                "needs a `type`: one of txt, img, audio, video, file, loc, cmd, custom",
            ),
            (json!({"type": 3, "to": "g1"}), "`type` must be a string"),
            (
                json!({"type": "combine", "to": "g1"}),
                "unknown message type \"combine\"; use one of txt, img,",
            ),
            (json!({"type": "txt", "msg": "hi"}), "needs `to`"),
            (
                json!({"type": "txt", "to": "bob", "msg": "字".repeat(30_000)}),
                "`msg` is 90000 bytes; receivers keep texts up to 65536 bytes",
            ),
            (
                json!({"type": "txt", "to": null, "msg": "hi"}),
                "needs `to`",
            ),
            (
                json!({"type": "txt", "to": "", "msg": "hi"}),
                "`to` is empty",
            ),
            (
                json!({"type": "txt", "to": "  ", "msg": "hi"}),
                "`to` is empty",
            ),
            (
                json!({"type": "txt", "to": 1234, "msg": "hi"}),
                "not a number",
            ),
            (
                json!({"type": "txt", "to": ["g1"], "msg": "hi"}),
                "`to` must be a string id (got an array)",
            ),
            (
                json!({"type": "txt", "to": long_to, "msg": "hi"}),
                "257 bytes",
            ),
            (
                json!({"type": "txt", "to": "g1"}),
                "txt message needs `msg`",
            ),
            (
                json!({"type": "txt", "to": "g1", "msg": ""}),
                "txt message has an empty `msg`",
            ),
            (
                json!({"type": "txt", "to": "g1", "msg": " \n\t"}),
                "txt message has an empty `msg`",
            ),
            (
                json!({"type": "txt", "to": "g1", "msg": 5}),
                "txt message `msg` must be a string (got a number)",
            ),
            (
                json!({"type": "txt", "chatType": "privateChat", "to": "g1", "msg": "hi"}),
                "unknown chatType \"privateChat\"; use singleChat, groupChat or chatRoom",
            ),
            (
                json!({"type": "txt", "chatType": "", "to": "g1", "msg": "hi"}),
                "unknown chatType \"\"",
            ),
            (
                json!({"type": "txt", "chatType": true, "to": "g1", "msg": "hi"}),
                "`chatType` must be a string",
            ),
            (
                json!({"type": "txt", "chatType": "chatRoom", "group": "groupchat", "to": "g1", "msg": "hi"}),
                "says chatroom but the legacy group/roomType flags say group",
            ),
            (
                json!({"type": "txt", "chatType": "singleChat", "group": "groupchat", "to": "g1", "msg": "hi"}),
                "says single",
            ),
            (
                json!({"type": "txt", "group": "chat", "to": "g1", "msg": "hi"}),
                "legacy `group` can only be 'groupchat'",
            ),
            (
                json!({"type": "txt", "group": "groupchat", "roomType": "yes", "to": "g1", "msg": "hi"}),
                "`roomType` must be true",
            ),
            (
                json!({"type": "img", "to": "g1", "width": 10}),
                "img message needs `url`",
            ),
            (
                json!({"type": "audio", "to": "g1", "url": null, "file": null}),
                "audio message needs `url`",
            ),
            (
                json!({"type": "video", "to": "g1"}),
                "video message needs `url`",
            ),
            (
                json!({"type": "file", "to": "g1", "filename": "a"}),
                "file message needs `url`",
            ),
            (
                json!({"type": "img", "to": "g1", "url": 7}),
                "img message `url` must be a string",
            ),
            (
                json!({"type": "img", "to": "g1", "url": "u", "width": "640"}),
                "img message `width` must be a non-negative number (got a string)",
            ),
            (
                json!({"type": "img", "to": "g1", "url": "u", "height": -1}),
                "`height` must be a non-negative number",
            ),
            (
                json!({"type": "audio", "to": "g1", "url": "u", "length": "3s"}),
                "audio message `length` must be",
            ),
            (
                json!({"type": "file", "to": "g1", "url": "u", "filename": 1}),
                "file message `filename` must be a string",
            ),
            (
                json!({"type": "video", "to": "g1", "url": "u", "thumb": {}}),
                "`thumb` must be a string (got an object)",
            ),
            (
                json!({"type": "loc", "to": "g1", "addr": "x"}),
                "loc message needs numeric `lat` and `lng`; `lat` is missing",
            ),
            (
                json!({"type": "loc", "to": "g1", "lat": 1}),
                "`lng` is missing",
            ),
            (
                json!({"type": "loc", "to": "g1", "lat": "39.9", "lng": 116.4}),
                "loc message needs numeric `lat` and `lng`; `lat` is a string",
            ),
            (
                json!({"type": "loc", "to": "g1", "lat": 91, "lng": 0}),
                "`lat` 91 is out of range; it must be between -90 and 90",
            ),
            (
                json!({"type": "loc", "to": "g1", "lat": 0, "lng": -180.5}),
                "between -180 and 180",
            ),
            (
                json!({"type": "loc", "to": "g1", "lat": 0, "lng": 0, "addr": 5}),
                "loc message `addr` must be a string",
            ),
            (
                json!({"type": "cmd", "to": "g1"}),
                "cmd message needs `action`",
            ),
            (
                json!({"type": "cmd", "to": "g1", "action": " "}),
                "cmd message has an empty `action`",
            ),
            (
                json!({"type": "custom", "to": "g1"}),
                "custom message needs `customEvent`",
            ),
            (
                json!({"type": "custom", "to": "g1", "customEvent": "e", "customExts": {"n": 2}}),
                "`customExts` values must be strings; `n` is a number",
            ),
            (
                json!({"type": "custom", "to": "g1", "customEvent": "e", "customExts": ["a"]}),
                "`customExts` must be an object of string values",
            ),
            (
                json!({"type": "txt", "to": "g1", "msg": "hi", "ext": "nick"}),
                "`ext` must be an object of extra fields (got a string)",
            ),
            (
                json!({"type": "txt", "to": "g1", "msg": "hi", "ext": []}),
                "(got an array)",
            ),
            (
                json!({"type": "txt", "to": "bob", "msg": "hi", "mentions": ["bob"]}),
                "groups and chat rooms only",
            ),
            (
                json!({"type": "txt", "chatType": "groupChat", "to": "g1", "msg": "hi", "mentions": "bob"}),
                "for one user pass [\"bob\"]",
            ),
            (
                json!({"type": "txt", "chatType": "groupChat", "to": "g1", "msg": "hi", "mentions": ["bob", 3]}),
                "mentions[1] is a number",
            ),
            (
                json!({"type": "txt", "chatType": "groupChat", "to": "g1", "msg": "hi", "mentions": [""]}),
                "mentions[0] is an empty string",
            ),
            (
                json!({"type": "txt", "chatType": "groupChat", "to": "g1", "msg": "hi", "mentions": {"bob": true}}),
                "array of user ids or the string 'all' (got an object)",
            ),
            (
                json!({"type": "txt", "chatType": "groupChat", "to": "g1", "msg": "hi", "mentions": "all", "ext": {"em_at_list": ["x"]}}),
                "not both",
            ),
        ];
        for (input, want) in table {
            let err = build_value(&input, &alice(), &ExtKeys::default()).unwrap_err();
            assert!(matches!(err, Error::Input(_)), "{input}");
            assert!(
                err.message().contains(want),
                "{input}: {:?} lacks {want:?}",
                err.message()
            );
        }
    }

    #[test]
    fn build_decides_and_names_what_the_shim_copies() {
        let on_tape = |tape: &tape::Tape, text: &str| {
            let units: Vec<u16> = text.encode_utf16().collect();
            tape.units()
                .windows(units.len())
                .any(|w| w == units.as_slice())
        };
        let options =
            |built: &Built| serde_json::from_str::<Value>(&built.options.to_text()).unwrap();
        // (input, options decided, keys copied, ext merged from the input)
        let table = [
            (
                json!({"type": "txt", "chatType": "groupChat", "to": "g1", "msg": "hi", "priority": "high",
                       "receiverList": null, "mentions": ["bob"], "ext": {"app": {"SECRET": [1]}, "userNickname": "Al"}}),
                json!({"type": "txt", "chatType": "groupChat", "to": "g1", "group": "groupchat", "roomType": false,
                       "ext": {"userNickname": "Alice", "userAvatar": "https://cdn.example.com/a.png",
                               "ease_chat_uikit_user_info": {"nickname": "Alice", "avatarURL": "https://cdn.example.com/a.png"},
                               "em_at_list": ["bob"]}}),
                vec!["msg", "priority"],
                true,
            ),
            (
                json!({"type": "img", "to": "bob", "file": {"url": "wxfile://SECRET", "data": {}}, "width": 3, "ext": {}}),
                json!({"type": "img", "chatType": "singleChat", "to": "bob", "width": 3,
                       "ext": {"userNickname": "Alice", "userAvatar": "https://cdn.example.com/a.png",
                               "ease_chat_uikit_user_info": {"nickname": "Alice", "avatarURL": "https://cdn.example.com/a.png"}}}),
                vec!["file"],
                false,
            ),
        ];
        for (input, want, copy, ext_from_input) in table {
            let tape = tape::Tape::from_json(&input, &projection(), &mut |_| 0);
            assert!(
                !on_tape(&tape, "SECRET"),
                "only presence and depth of what is copied cross"
            );
            let built = build(tape.root(), &alice(), &ExtKeys::default(), &mut |_| Ok(None)).unwrap();
            assert_eq!(options(&built), want, "{input}");
            assert_eq!(
                (built.copy, built.ext_from_input),
                (copy, ext_from_input),
                "{input}"
            );
        }
        let shape: Value = serde_json::from_str(&projection().to_json()).unwrap();
        let presence = json!({"k": {}, "o": "depth"});
        assert_eq!(shape["o"], json!(0), "other fields are left out");
        for key in [
            "file",
            "msgConfig",
            "priority",
            "deliverOnlineOnly",
            "receiverList",
            "isChatThread",
        ] {
            assert_eq!(shape["k"][key], presence, "{key}");
        }
        assert_eq!(
            shape["k"]["ext"],
            json!({"k": {"em_at_list": presence, "msgQuote": presence}, "o": "depth"})
        );
        for key in [
            "type",
            "chatType",
            "to",
            "msg",
            "url",
            "lat",
            "customExts",
            "mentions",
        ] {
            assert_eq!(shape["k"][key], json!(1), "{key}");
        }
    }

    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-zA-Z ]{0,6}".prop_map(Value::from),
            prop::sample::select(vec![
                "txt",
                "img",
                "loc",
                "custom",
                "groupChat",
                "chatRoom",
                "all",
                "groupchat"
            ])
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Any mix of known fields with values of any shape gives a message or an input error,
        /// never a panic, and a message always has a canonical type, kind and the given `to`.
        #[test]
        fn any_input_builds_or_explains(
            fields in proptest::collection::btree_map(
                proptest::sample::select(vec![
                    "type", "chatType", "to", "msg", "url", "file", "width", "lat", "lng", "action",
                    "customEvent", "customExts", "ext", "mentions", "group", "roomType", "priority",
                ]),
                any_json(),
                0..10,
            )
        ) {
            let input = Value::Object(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
            match build_value(&input, &alice(), &ExtKeys::default()) {
                Ok(out) => {
                    let chat_type = out["chatType"].as_str().unwrap_or_default();
                    proptest::prop_assert!(["singleChat", "groupChat", "chatRoom"].contains(&chat_type));
                    proptest::prop_assert!(out["type"].as_str().and_then(MsgType::from_name).is_some());
                    proptest::prop_assert_eq!(&out["to"], &input["to"]);
                }
                Err(err) => proptest::prop_assert!(matches!(err, Error::Input(_))),
            }
        }
    }
}
