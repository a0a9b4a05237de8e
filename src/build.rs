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

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::error::{describe, Error, Result};
use crate::kind::Kind;
use crate::message::MsgType;
use crate::normalize::MAX_TEXT_BYTES;
use crate::normalize::{nests_deeper_than, MAX_EXT_DEPTH};
use crate::profile::{ExtKeys, Profile};

/// The longest `to` accepted, in bytes (Easemob ids are far shorter).
pub const MAX_TO_BYTES: usize = 256;

/// The ext key Easemob's UIKits read the sender's `{nickname, avatarURL}` from.
pub const UIKIT_USER_INFO_KEY: &str = "ease_chat_uikit_user_info";

/// The ext key Easemob's UIKits read @mentions from.
pub const MENTIONS_KEY: &str = "em_at_list";

/// Options of `WebIM.message.create` that every message type takes and mpchat copies as they are.
const PASS_THROUGH: [&str; 5] = [
    "msgConfig",
    "priority",
    "deliverOnlineOnly",
    "receiverList",
    "isChatThread",
];

/// How one type field is checked.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// A string with something other than whitespace in it; required.
    Text,
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
        MsgType::Txt => &[("msg", Text)],
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

/// Builds the options object for `WebIM.message.create` (SDK 4.x) from mpchat's send input
/// (`{type, chatType, to, msg, …, ext, mentions}`), with `own` profile written into `ext` under
/// `keys` and under `ease_chat_uikit_user_info`. See the module documentation for the rules.
pub fn build(input: &Value, own: &Profile, keys: &ExtKeys) -> Result<Value> {
    let fields = input.as_object().ok_or_else(|| {
        Error::input(format!(
            "a message to build must be an object like {{ type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'hi' }} (got {})",
            describe(input)
        ))
    })?;
    let msg_type = read_type(fields)?;
    let kind = read_kind(fields)?;
    let to = read_to(fields)?;

    let mut out = Map::new();
    out.insert("type".into(), msg_type.as_str().into());
    out.insert("chatType".into(), kind.sdk_chat_type().into());
    out.insert("to".into(), to.into());
    match kind {
        Kind::Single => {}
        Kind::Group | Kind::ChatRoom => {
            out.insert("group".into(), "groupchat".into());
            out.insert("roomType".into(), (kind == Kind::ChatRoom).into());
        }
    }
    copy_type_fields(msg_type, fields, &mut out)?;
    if let Some(body) = uploaded_body(msg_type, &out) {
        out.insert("body".into(), body);
    }
    for key in PASS_THROUGH {
        if let Some(value) = present(fields, key) {
            out.insert(key.into(), value.clone());
        }
    }
    let ext = build_ext(fields, kind, own, keys)?;
    if !ext.is_empty() {
        out.insert("ext".into(), Value::Object(ext));
    }
    Ok(Value::Object(out))
}

/// The value of `key` unless it is missing or `null`.
fn present<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    fields.get(key).filter(|value| !value.is_null())
}


fn known_types() -> String {
    MsgType::ALL.map(MsgType::as_str).join(", ")
}

fn read_type(fields: &Map<String, Value>) -> Result<MsgType> {
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
            describe(value)
        ))
    })?;
    MsgType::from_name(name).ok_or_else(|| {
        Error::input(format!(
            "unknown message type {name:?}; use one of {}",
            known_types()
        ))
    })
}

const ACCEPTED_CHAT_TYPES: &str =
    "singleChat, groupChat or chatRoom (any case; also chat/groupchat/chatroom and single/group/room)";

/// The conversation kind from `chatType`, checked against the legacy `group`/`roomType` flags.
fn read_kind(fields: &Map<String, Value>) -> Result<Kind> {
    let legacy = legacy_kind(fields)?;
    let Some(value) = present(fields, "chatType") else {
        return Ok(legacy.unwrap_or(Kind::Single));
    };
    let spelling = value.as_str().ok_or_else(|| {
        Error::input(format!(
            "`chatType` must be a string: {ACCEPTED_CHAT_TYPES} (got {})",
            describe(value)
        ))
    })?;
    let kind = Kind::from_spelling(spelling).ok_or_else(|| {
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
fn legacy_kind(fields: &Map<String, Value>) -> Result<Option<Kind>> {
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
    match present(fields, "roomType") {
        None | Some(Value::Bool(false)) => Ok(Some(Kind::Group)),
        Some(Value::Bool(true)) => Ok(Some(Kind::ChatRoom)),
        Some(other) => Err(Error::input(format!(
            "legacy `roomType` must be true (chat room) or false (group) (got {}); better pass chatType instead",
            describe(other)
        ))),
    }
}

fn read_to(fields: &Map<String, Value>) -> Result<String> {
    let value = present(fields, "to").ok_or_else(|| {
        Error::input("a message needs `to`: the user id, group id or chat-room id to send to")
    })?;
    let to = match value {
        Value::String(to) => to,
        Value::Number(_) => {
            return Err(Error::input(
                "`to` must be a string id, not a number (large numeric group ids lose digits as numbers); pass it as a string",
            ))
        }
        other => {
            return Err(Error::input(format!(
                "`to` must be a string id (got {})",
                describe(other)
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
    Ok(to.clone())
}

/// Checks and copies the fields of `msg_type` from `fields` into `out`.
fn copy_type_fields(
    msg_type: MsgType,
    fields: &Map<String, Value>,
    out: &mut Map<String, Value>,
) -> Result<()> {
    let name = msg_type.as_str();
    let mut has_source = false;
    for &(key, rule) in type_fields(msg_type) {
        let value = present(fields, key);
        let wrong = |expected: &str, got: &Value| {
            Error::input(format!(
                "{name} message `{key}` must be {expected} (got {})",
                describe(got)
            ))
        };
        match (rule, value) {
            (Rule::Text, None) => {
                return Err(Error::input(format!(
                    "{name} message needs `{key}`: a non-empty string"
                )))
            }
            (Rule::Text, Some(Value::String(text))) if text.trim().is_empty() => {
                return Err(Error::input(format!(
                    "{name} message has an empty `{key}`; there is nothing to send"
                )))
            }
            (Rule::Text, Some(Value::String(text))) if text.len() > MAX_TEXT_BYTES => {
                return Err(Error::input(format!(
                    "{name} message `{key}` is {} bytes; receivers keep texts up to {MAX_TEXT_BYTES} bytes, so split it",
                    text.len()
                )))
            }
            (Rule::Text | Rule::OptionalString | Rule::Url, Some(Value::String(_))) => {}
            (Rule::Text | Rule::OptionalString | Rule::Url, Some(other)) => {
                return Err(wrong("a string", other))
            }
            (Rule::File, Some(_)) => {}
            (Rule::Size, Some(Value::Number(n))) if n.as_f64().is_some_and(|n| n >= 0.0) => {}
            (Rule::Size, Some(other)) => return Err(wrong("a non-negative number", other)),
            (Rule::Degrees(_), None) => {
                return Err(Error::input(format!(
                    "{name} message needs numeric `lat` and `lng`; `{key}` is missing"
                )))
            }
            (Rule::Degrees(limit), Some(Value::Number(n))) => {
                let degrees = n.as_f64().unwrap_or(f64::INFINITY);
                if degrees.abs() > limit {
                    return Err(Error::input(format!(
                        "{name} message `{key}` {n} is out of range; it must be between -{limit} and {limit} degrees"
                    )));
                }
            }
            (Rule::Degrees(_), Some(other)) => {
                return Err(Error::input(format!(
                    "{name} message needs numeric `lat` and `lng`; `{key}` is {}",
                    describe(other)
                )))
            }
            (Rule::StringMap, Some(Value::Object(map))) => {
                if let Some((entry, bad)) = map.iter().find(|(_, v)| !v.is_string()) {
                    return Err(Error::input(format!(
                        "{name} message `{key}` values must be strings; `{entry}` is {} (convert it with String())",
                        describe(bad)
                    )));
                }
            }
            (Rule::StringMap, Some(other)) => {
                return Err(wrong("an object of string values", other))
            }
            (_, None) => {}
        }
        if let Some(value) = value {
            has_source |= matches!(rule, Rule::Url | Rule::File);
            out.insert(key.into(), value.clone());
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
fn uploaded_body(msg_type: MsgType, out: &Map<String, Value>) -> Option<Value> {
    if !matches!(msg_type, MsgType::Audio | MsgType::Video | MsgType::File) {
        return None;
    }
    out.get("url")?;
    let mut body = Map::new();
    body.insert("type".into(), msg_type.as_str().into());
    for (key, _) in type_fields(msg_type) {
        if *key == "file" {
            continue;
        }
        if let Some(value) = out.get(*key) {
            body.insert((*key).into(), value.clone());
        }
    }
    Some(Value::Object(body))
}

/// The caller's ext plus own profile and mentions.
fn build_ext(
    fields: &Map<String, Value>,
    kind: Kind,
    own: &Profile,
    keys: &ExtKeys,
) -> Result<Map<String, Value>> {
    let mut ext = match present(fields, "ext") {
        None => Map::new(),
        Some(Value::Object(ext)) if nests_deeper_than(ext, MAX_EXT_DEPTH) => {
            return Err(Error::input(format!(
                "`ext` nests deeper than {MAX_EXT_DEPTH} levels; receivers drop such messages, so flatten it"
            )))
        }
        Some(Value::Object(ext)) => ext.clone(),
        Some(other) => {
            return Err(Error::input(format!(
                "`ext` must be an object of extra fields (got {})",
                describe(other)
            )))
        }
    };
    let nickname = own.nickname.as_deref().filter(|s| !s.is_empty());
    let avatar = own.avatar.as_deref().filter(|s| !s.is_empty());
    for (key, value) in [(&keys.nickname, nickname), (&keys.avatar, avatar)] {
        if let Some(value) = value {
            if present(&ext, key).is_none() {
                ext.insert(key.clone(), value.into());
            }
        }
    }
    if (nickname.is_some() || avatar.is_some()) && present(&ext, UIKIT_USER_INFO_KEY).is_none() {
        let mut info = Map::new();
        if let Some(nickname) = nickname {
            info.insert("nickname".into(), nickname.into());
        }
        if let Some(avatar) = avatar {
            info.insert("avatarURL".into(), avatar.into());
        }
        ext.insert(UIKIT_USER_INFO_KEY.into(), Value::Object(info));
    }
    if let Some(mentions) = present(fields, "mentions") {
        if kind == Kind::Single {
            return Err(Error::input(
                "`mentions` work in groups and chat rooms only; remove them from a one-to-one message",
            ));
        }
        if present(&ext, MENTIONS_KEY).is_some() {
            return Err(Error::input(
                "pass @mentions either as `mentions` or as ext.em_at_list, not both",
            ));
        }
        if let Some(list) = mention_list(mentions)? {
            ext.insert(MENTIONS_KEY.into(), list);
        }
    }
    Ok(ext)
}

/// `em_at_list` for `mentions`: `"ALL"` for `'all'`, the distinct ids in order for an array,
/// nothing for an empty array.
fn mention_list(mentions: &Value) -> Result<Option<Value>> {
    const SHAPE: &str = "`mentions` must be an array of user ids or the string 'all'";
    match mentions {
        Value::String(all) if all.trim().eq_ignore_ascii_case("all") => Ok(Some("ALL".into())),
        Value::String(other) => Err(Error::input(format!(
            "{SHAPE} (got the string {other:?}; for one user pass [{other:?}])"
        ))),
        Value::Array(items) => {
            let mut seen = HashSet::new();
            let mut ids = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let id = item
                    .as_str()
                    .filter(|id| !id.trim().is_empty())
                    .ok_or_else(|| {
                        Error::input(format!(
                            "{SHAPE}; mentions[{index}] is {}",
                            match item {
                                Value::String(_) => "an empty string",
                                other => describe(other),
                            }
                        ))
                    })?;
                if seen.insert(id) {
                    ids.push(Value::from(id));
                }
            }
            Ok((!ids.is_empty()).then_some(Value::Array(ids)))
        }
        other => Err(Error::input(format!("{SHAPE} (got {})", describe(other)))),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use serde_json::json;

    use super::*;

    fn no_profile() -> Profile {
        Profile::default()
    }

    fn alice() -> Profile {
        Profile {
            nickname: Some("Alice".into()),
            avatar: Some("https://cdn.example.com/a.png".into()),
        }
    }

    fn build_plain(input: Value) -> Result<Value> {
        build(&input, &no_profile(), &ExtKeys::default())
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
                Some(json!({"type": "audio", "url": "https://x/a.amr", "filename": "a.amr", "length": 3, "file_length": 2048})),
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
                Some(json!({"type": "video", "url": "https://x/v.mp4", "filename": "v.mp4", "length": 12, "file_length": 99, "thumb": "https://x/t.jpg"})),
            ),
            (
                "file",
                json!({"url": "https://x/d.pdf", "filename": "d.pdf", "file_length": 5}),
                "file",
                Some(json!({"type": "file", "url": "https://x/d.pdf", "filename": "d.pdf", "file_length": 5})),
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
            let out = build(&input, &profile, &keys).unwrap();
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
                let out = build(&input, &alice(), &ExtKeys::default()).unwrap();
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
            let err = build(&input, &alice(), &ExtKeys::default()).unwrap_err();
            assert!(matches!(err, Error::Input(_)), "{input}");
            assert!(
                err.message().contains(want),
                "{input}: {:?} lacks {want:?}",
                err.message()
            );
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
            match build(&input, &alice(), &ExtKeys::default()) {
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
