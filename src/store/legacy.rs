//! Reading history kept the old ways: the seed recipe's `'group_' + groupId` arrays and the official
//! demo's `rendered_<id><myName>` arrays. Their records look like
//! `{ msg: { type, data: [segments] | string, url }, username, yourname, info: { from, to }, time, mid, style }`;
//! whatever maps to a [`Record`] with an id, a sender and a time is taken, the rest is skipped.
//! Items are read from a tape; only the strings a record keeps are decoded.

use crate::json::{integer_text, Json};
use crate::kind::{ConversationId, Kind};
use crate::message::{Direction, MsgType, Record, Sender, Status};
use crate::profile::without_query_params;
use crate::tape::{self, Val};

/// Which legacy conversation a storage key holds, if it looks like one of the old layouts.
/// `kind_hint` is the kind written in the items (the demo's `chatType`), for `rendered_` keys.
pub fn legacy_conversation(
    key: &str,
    user: &str,
    kind_hint: Option<Kind>,
) -> Option<ConversationId> {
    if let Some(group) = key.strip_prefix("group_") {
        return (!group.is_empty()).then(|| ConversationId::new(Kind::Group, group));
    }
    let id = key.strip_prefix("rendered_")?.strip_suffix(user)?;
    (!id.is_empty() && !user.is_empty())
        .then(|| ConversationId::new(kind_hint.unwrap_or(Kind::Single), id))
}

/// The conversation kind the items of a `rendered_` array (`items`, the array) say they are.
pub fn kind_hint(items: Val<'_>) -> Option<Kind> {
    items.items().find_map(|item| {
        let spelled = item
            .get("chatType")
            .or_else(|| item.get("type"))?
            .as_str()?;
        Kind::from_spelling(&spelled)
    })
}

/// Converts one legacy item; `None` when it lacks an id, a sender or a time.
pub fn legacy_record(item: Val<'_>, conversation: &ConversationId, user: &str) -> Option<Record> {
    let msg = item.get("msg");
    let info = item.get("info");
    let msg_type = match str_field(msg, "type") {
        Some(name) => MsgType::from_name(&name)?,
        None => MsgType::Txt,
    };
    let from = str_field(info, "from")
        .or_else(|| str_field(Some(item), "from"))
        .or_else(|| str_field(Some(item), "username"))
        .filter(|s| !s.is_empty())?;
    let mine = from == user || item.get("style").is_some_and(|s| s.is_str("self"));
    let to = str_field(info, "to")
        .or_else(|| str_field(Some(item), "to"))
        .unwrap_or_else(|| {
            if mine {
                conversation.id.clone()
            } else {
                user.to_string()
            }
        });
    let time = item.get("time").and_then(legacy_time)?;
    let id = legacy_id(item, msg_type)?;
    let data = msg.and_then(|m| m.get("data"));
    let (text, body) = if msg_type == MsgType::Txt {
        (Some(data.map(segments_text).unwrap_or_default()), None)
    } else {
        let mut body = Vec::new();
        if let Some(url) = str_field(msg, "url").or_else(|| data.and_then(Val::as_str)) {
            body.push(("url".to_string(), Json::String(without_tokens(&url))));
        }
        for field in [
            "filename", "length", "width", "height", "addr", "lat", "lng", "action",
        ] {
            if let Some(v) = msg
                .and_then(|m| m.get(field))
                .filter(|v| matches!(v.kind(), tape::Kind::Number(_) | tape::Kind::String))
            {
                body.push((field.to_string(), Json::from_val(v)));
            }
        }
        (None, Some(Json::Object(body)))
    };
    Some(Record {
        id,
        conversation: conversation.name(),
        kind: conversation.kind,
        sender: Sender {
            id: from.clone(),
            nickname: None,
            avatar: None,
        },
        from,
        to,
        direction: if mine { Direction::Out } else { Direction::In },
        time,
        msg_type,
        text,
        body,
        mentions: None,
        mentions_me: false,
        status: if mine { Status::Sent } else { Status::Read },
        recalled: false,
        ext: Json::object(),
        quote: None,
    })
}

/// The string at `key` of an object, decoded.
fn str_field(object: Option<Val<'_>>, key: &str) -> Option<String> {
    object?.get(key)?.as_str()
}

/// The item's id; the demo's `mid` is the type name followed by the server id, which is kept bare so
/// that a repeat from offline sync de-duplicates against it.
fn legacy_id(item: Val<'_>, msg_type: MsgType) -> Option<String> {
    if let Some(id) = item.get("id").and_then(|v| {
        v.as_str()
            .or_else(|| v.as_f64().filter(|n| *n >= 0.0).and_then(integer_text))
    }) {
        return (!id.is_empty()).then_some(id);
    }
    let mid = str_field(Some(item), "mid").filter(|m| !m.is_empty())?;
    let bare = [
        "txt",
        "img",
        "audio",
        "video",
        "file",
        "loc",
        "cmd",
        "custom",
        "emoji",
        msg_type.as_str(),
    ]
    .iter()
    .find_map(|prefix| mid.strip_prefix(prefix))
    .filter(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
    .map(str::to_string);
    Some(bare.unwrap_or(mid))
}

/// The text of a `msg.data` that is a string or an array of `{type, data}` segments (emoji segments
/// give back their code when they kept it).
fn segments_text(data: Val<'_>) -> String {
    if let Some(text) = data.as_str() {
        return text;
    }
    data.items()
        .filter_map(|seg| {
            let piece = if seg.get("type").is_some_and(|t| t.is_str("emoji")) {
                seg.get("code")
                    .or_else(|| seg.get("value"))
                    .or_else(|| seg.get("data"))
            } else {
                seg.get("data")
            };
            piece?.as_str()
        })
        .collect()
}

/// Drops query parameters naming a token (the demo stored the access token in media URLs).
fn without_tokens(url: &str) -> String {
    without_query_params(url, |name| {
        name.as_bytes()
            .windows(5)
            .any(|w| w.eq_ignore_ascii_case(b"token"))
    })
}

/// A legacy time: milliseconds (number or digits) or the demo's local `YYYY-M-D HH:mm:ss`, read as
/// China time (UTC+8), where those apps ran.
fn legacy_time(value: Val<'_>) -> Option<i64> {
    if let Some(ms) = value.as_f64() {
        // Whole milliseconds within i64, so the cast is exact.
        return (ms.fract() == 0.0 && ms.abs() < i64::MAX as f64).then_some(ms as i64);
    }
    let text = value.as_str()?;
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let (date, clock) = text.split_once(' ').unwrap_or((text, "0:0:0"));
    let mut d = date.split(['-', '/']).map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let mut c = clock.split(':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (
        c.next()??,
        c.next().unwrap_or(Some(0))?,
        c.next().unwrap_or(Some(0))?,
    );
    let valid = (1970..=9999).contains(&year)
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..61).contains(&second);
    if !valid {
        return None;
    }
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - 8 * 3600;
    Some(seconds * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::tape::Tape;
    use serde_json::{json, Value};

    fn tape(value: &Value) -> Tape {
        Tape::full(value)
    }

    #[test]
    fn legacy_times() {
        let table = [
            (json!(1_700_000_000_000i64), Some(1_700_000_000_000)),
            (json!("1700000000000"), Some(1_700_000_000_000)),
            (json!("2017-1-2 12:00:00"), Some(1_483_329_600_000)),
            (json!("1970-1-1 08:00:00"), Some(0)),
            (json!("2024-2-29 23:59:59"), Some(1_709_222_399_000)),
            (json!("1-2 12:00"), None),
            (json!("2017-13-2 12:00:00"), None),
            (json!(null), None),
        ];
        for (input, want) in table {
            assert_eq!(legacy_time(tape(&input).root()), want, "{input}");
        }
    }

    #[test]
    fn legacy_items() {
        let group = ConversationId::new(Kind::Group, "g1");
        let demo_text = json!({ "info": {"from": "bob", "to": "g1"}, "username": "bob", "yourname": "g1",
            "msg": {"type": "txt", "data": [{"type": "txt", "data": "hi "}, {"type": "emoji", "data": "ee_1.png", "code": "[):]"}]},
            "style": "", "time": "2017-1-2 12:00:00", "mid": "txt123456" });
        let r = legacy_record(tape(&demo_text).root(), &group, "alice").unwrap();
        assert_eq!(
            (
                r.id.as_str(),
                r.from.as_str(),
                r.text.as_deref(),
                r.direction,
                r.status
            ),
            (
                "123456",
                "bob",
                Some("hi [):]"),
                Direction::In,
                Status::Read
            )
        );
        let mine_audio = json!({ "info": {"from": "alice", "to": "g1"}, "style": "self",
            "msg": {"type": "audio", "url": "https://x/a.amr?access_token=SECRET&v=1", "length": 3}, "time": 5, "mid": "abc" });
        let r = legacy_record(tape(&mine_audio).root(), &group, "alice").unwrap();
        assert_eq!(
            (r.id.as_str(), r.direction, r.status),
            ("abc", Direction::Out, Status::Sent)
        );
        assert_eq!(
            r.body.unwrap().get("url"),
            Some(&Json::String("https://x/a.amr?v=1".into()))
        );
        for unusable in [
            json!("text"),
            json!({"msg": {"type": "txt", "data": "x"}, "time": 1, "mid": "m"}),
            json!({"info": {"from": "bob"}, "time": 1}),
            json!({"info": {"from": "bob"}, "mid": "m"}),
            json!({"info": {"from": "bob"}, "mid": "m", "time": 1, "msg": {"type": "combine"}}),
        ] {
            assert_eq!(
                legacy_record(tape(&unusable).root(), &group, "alice"),
                None,
                "{unusable}"
            );
        }
    }

    #[test]
    fn legacy_keys() {
        let table = [
            ("group_g1", None, Some("group:g1")),
            ("rendered_bobalice", None, Some("single:bob")),
            (
                "rendered_r1alice",
                Some(Kind::ChatRoom),
                Some("chatroom:r1"),
            ),
            ("rendered_alice", None, None),
            ("rendered_bobcarol", None, None),
            ("group_", None, None),
            ("bobalice", None, None),
        ];
        for (key, hint, want) in table {
            assert_eq!(
                legacy_conversation(key, "alice", hint)
                    .map(|c| c.to_string())
                    .as_deref(),
                want,
                "{key}"
            );
        }
    }
}
