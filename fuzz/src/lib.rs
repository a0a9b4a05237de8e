//! Shared pieces of mpchat's fuzz targets: the invariants ([`checks`], also replayed by
//! `tests/fuzz_regressions.rs`) and generators that turn fuzz bytes into SDK-like JSON values and
//! store scenarios, biased toward the keys, spellings and numbers the code branches on.

pub mod checks;

use arbitrary::{Result, Unstructured};
use serde_json::{Map, Number, Value};

use checks::{Msg, Op, Planted, Scenario, CONVERSATIONS, PREFIX};

/// Keys the SDK shapes, `build` input and `ext` use.
const KEYS: &[&str] = &[
    "id", "from", "to", "time", "type", "chatType", "msg", "data", "ext", "url", "file", "filename",
    "file_length", "length", "width", "height", "thumb", "lat", "lng", "addr", "buildingName",
    "action", "customEvent", "customExts", "contentsType", "roomType", "group", "mentions",
    "msgConfig", "priority", "deliverOnlineOnly", "receiverList", "isChatThread", "em_at_list",
    "userNickname", "userAvatar", "ease_chat_uikit_user_info", "nickname", "avatarURL", "bodies",
    "sourceMsg", "body", "size", "secret", "token",
];

/// String values the code compares against.
const STRINGS: &[&str] = &[
    "", " ", "me", "alice", "bob", "g1", "txt", "img", "audio", "video", "file", "loc", "cmd",
    "custom", "text", "image", "voice", "location", "combine", "singleChat", "groupChat", "chatRoom",
    "chat", "groupchat", "chatroom", "single", "group", "room", "ALL", "all", "[):]", "[(H)]",
    "https://a.example/x.png?token=T0K&x=1", "http://a/b", "javascript:alert(1)",
    "https://u:p@a.example/", "1700000000000", "-5", "NaN", "1e300", "9007199254740992",
    "\u{202E}evil", "a\u{0301}", "\u{FFFD}", "\u{1F469}\u{200D}\u{1F4BB}",
];

/// Numbers at the edges the code checks.
const NUMBERS: &[f64] = &[
    0.0, -1.0, 1.5, -0.5, 1e300, -1e300, 9_007_199_254_740_991.0, 9_007_199_254_740_992.0,
    1_700_000_000_000.0, 90.0, 90.000001, -180.0, 180.5, 4_294_967_296.0,
];

fn string(u: &mut Unstructured) -> Result<String> {
    Ok(if u.ratio(3, 4)? {
        (*u.choose(STRINGS)?).to_string()
    } else {
        u.arbitrary()?
    })
}

fn number(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=3)? {
        0 => Value::from(u.arbitrary::<i64>()?),
        1 => Value::from(u.arbitrary::<u64>()?),
        2 => Number::from_f64(u.arbitrary::<f64>()?).map_or(Value::Null, Value::Number),
        _ => Number::from_f64(*u.choose(NUMBERS)?).map_or(Value::Null, Value::Number),
    })
}

/// A JSON value at most `depth` containers deep.
pub fn value(u: &mut Unstructured, depth: usize) -> Result<Value> {
    let choice = if depth == 0 { u.int_in_range(0..=3)? } else { u.int_in_range(0..=6)? };
    Ok(match choice {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => number(u)?,
        3 => Value::String(string(u)?),
        4 => Value::Array(
            (0..u.int_in_range(0..=4)?)
                .map(|_| value(u, depth - 1))
                .collect::<Result<_>>()?,
        ),
        5 => {
            // A chain of single-key objects, deep enough to cross the ext depth limit.
            let mut inner = value(u, 0)?;
            for _ in 0..u.int_in_range(1..=40)? {
                let mut map = Map::new();
                map.insert(string(u)?, inner);
                inner = Value::Object(map);
            }
            inner
        }
        _ => Value::Object(object(u, depth - 1)?),
    })
}

/// An object with SDK-ish keys.
pub fn object(u: &mut Unstructured, depth: usize) -> Result<Map<String, Value>> {
    let mut map = Map::new();
    for _ in 0..u.int_in_range(0..=10)? {
        let key = if u.ratio(7, 8)? { (*u.choose(KEYS)?).to_string() } else { u.arbitrary()? };
        map.insert(key, value(u, depth)?);
    }
    Ok(map)
}

/// A message-like object: usually with the fields a message needs, then anything.
pub fn message(u: &mut Unstructured) -> Result<Value> {
    let mut map = Map::new();
    if u.ratio(3, 4)? {
        map.insert("id".into(), Value::String(string(u)?));
        map.insert("from".into(), Value::String(string(u)?));
        map.insert("to".into(), Value::String(string(u)?));
        map.insert("time".into(), if u.arbitrary()? { number(u)? } else { Value::String(string(u)?) });
        map.insert("type".into(), Value::String(string(u)?));
    }
    map.extend(object(u, 4)?);
    Ok(Value::Object(map))
}

fn msg(u: &mut Unstructured) -> Result<Msg> {
    let n = u.int_in_range(0..=23)?;
    Ok(match u.int_in_range(0..=2)? {
        0 => Msg::In(n),
        1 => Msg::Local(n),
        _ => Msg::Server(n),
    })
}

/// Text sizes from a few tens of bytes to half a chunk, so small budgets force evictions.
const TEXT_BYTES: [usize; 5] = [0, 40, 400, 1500, 3000];

fn op(u: &mut Unstructured) -> Result<Op> {
    let n = u.int_in_range(0..=23)?;
    let conversation = u.int_in_range(0..=2)?;
    Ok(match u.int_in_range(0..=19)? {
        0..=6 => Op::Insert { msg: msg(u)?, text_bytes: *u.choose(&TEXT_BYTES)? },
        7 | 8 => Op::Ack { n, with_time: u.arbitrary()? },
        9 => Op::Fail { n },
        10 => Op::Recall { msg: msg(u)? },
        11 => Op::Delivered { n },
        12 => Op::MarkRead { conversation },
        13 => Op::PeerReadAll { conversation },
        14 => Op::Mute { conversation, on: u.arbitrary()? },
        15 => Op::History {
            conversation,
            before: if u.arbitrary()? { Some(msg(u)?) } else { None },
            limit: u.int_in_range(0..=10)?,
        },
        16 => Op::Conversations,
        17 => Op::Fault { after: u.int_in_range(0..=5)? },
        18 => Op::Heal,
        _ => Op::Reopen,
    })
}

/// Planted records of chunk band `band`, sorted, as the store lays a chunk out: records come from
/// their chunk's band of times, because the store trusts that layout and does not repair chunks
/// that overlap.
fn band_records(u: &mut Unstructured, band: u64) -> Result<Vec<Value>> {
    let mut records: Vec<_> = (0..u.int_in_range(0..=6)?)
        .map(|_| Ok(msg(u)?.record(*u.choose(&TEXT_BYTES)?)))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|r| time_band(r.time) == band)
        .collect();
    records.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
    records.dedup_by(|a, b| a.id == b.id);
    Ok(records.into_iter().map(|r| serde_json::from_str(&r.to_json()).unwrap_or(Value::Null)).collect())
}

/// `value` with its `b` field set to the size of key plus value, as the store writes it, or a lie.
fn with_size(u: &mut Unstructured, key: &str, mut value: Value) -> Result<String> {
    value["b"] = Value::String("0".repeat(10));
    let size = key.len() + value.to_string().len();
    let size = if u.ratio(7, 8)? { size } else { u.int_in_range(0..=100_000)? };
    value["b"] = Value::String(format!("{size:010}"));
    Ok(value.to_string())
}

/// A planted key and value: format 2 values as the store writes them (a head, a loose record, a
/// sealed chunk, the state, an extra), often wrong in some field; format 1 chunks and state, which
/// opening migrates; or anything, anywhere. Sometimes cut short, as a crash mid-write would leave it.
fn planted(u: &mut Unstructured) -> Result<Planted> {
    let conversation = if u.ratio(7, 8)? { *u.choose(&CONVERSATIONS)? } else { "groupChat:g" };
    let band = u.int_in_range(0..=4u64)?;
    let seq = (band + 1) << 32;
    let v2 = |suffix: String| format!("{PREFIX}{suffix}");
    let (key, text) = match u.int_in_range(0..=8)? {
        0 | 1 => {
            let mut chunk = serde_json::json!({
                "v": if u.ratio(7, 8)? { 1 } else { u.int_in_range(0..=3)? },
                "c": if u.ratio(7, 8)? { conversation } else { "group:other" },
                "r": band_records(u, band)?,
            });
            if u.arbitrary()? {
                chunk["m"] = serde_json::json!({
                    "unread": u.arbitrary::<u64>()? % 1000,
                    "readMark": [u.int_in_range(0..=12_500)?, "x"],
                });
            }
            (format!("mpchat/1/me/c/{conversation}/{seq:016x}"), chunk.to_string())
        }
        2 => {
            let key = v2(format!("c/{conversation}/{seq}"));
            let chunk = serde_json::json!({"v": 2, "c": conversation, "s": seq, "r": band_records(u, band)?});
            let text = with_size(u, &key, chunk)?;
            (key, text)
        }
        3 => {
            let record = msg(u)?.record(*u.choose(&TEXT_BYTES)?);
            (v2(format!("r/{}/{}", record.conversation, u.int_in_range(0..=40)?)), record.to_json())
        }
        4 => {
            let key = v2(format!("h/{conversation}"));
            let (from, count) = (u.int_in_range(0..=40u64)?, u.int_in_range(0..=6u64)?);
            let head = serde_json::json!({
                "v": 2, "c": conversation, "t": u.int_in_range(0..=12_500)?, "u": u.int_in_range(0..=20)?,
                "f": from, "n": from + count, "lb": u.int_in_range(0..=20_000)?,
                "s": [seq, seq + (u.int_in_range(0..=2u64)? << 32), [], []], "sb": u.int_in_range(0..=50_000)?,
            });
            let text = with_size(u, &key, head)?;
            (key, text)
        }
        5 => {
            let muted: Vec<&str> = (0..u.int_in_range(0..=2)?).map(|_| u.choose(&CONVERSATIONS).copied()).collect::<Result<_>>()?;
            if u.arbitrary()? {
                let state = serde_json::json!({"v": 1, "muted": muted, "evictedRecords": u.arbitrary::<u32>()?});
                ("mpchat/1/me/state".into(), state.to_string())
            } else {
                let key = v2("s".into());
                let state = serde_json::json!({"v": 2, "m": muted, "er": u.arbitrary::<u32>()?, "ec": 0, "x": {}});
                let text = with_size(u, &key, state)?;
                (key, text)
            }
        }
        6 => (v2(format!("x/{}", string(u)?)), u.arbitrary()?),
        _ => {
            let key: String = u.arbitrary()?;
            (if u.arbitrary()? { v2(key) } else { key }, u.arbitrary()?)
        }
    };
    let keep = if u.ratio(1, 8)? { u.int_in_range(0..=text.len())? } else { text.len() };
    Ok(Planted { key, value: text.get(..keep).unwrap_or(&text).to_string() })
}

/// Which of five chunks a planted record of this time belongs in (times run from 0 to 12,500).
fn time_band(time: i64) -> u64 {
    u64::try_from(time / 2_600).unwrap_or(0)
}

/// A store scenario with a budget of a few KB to a few tens of KB.
pub fn scenario(u: &mut Unstructured) -> Result<Scenario> {
    let planted = (0..u.int_in_range(0..=6)?).map(|_| planted(u)).collect::<Result<_>>()?;
    let budget = *u.choose(&[6_000u64, 12_000, 30_000, 100_000])?;
    let quota = if u.arbitrary()? { budget } else { *u.choose(&[4_000u64, 20_000, 1 << 20])? };
    let ops = (0..u.int_in_range(1..=60)?).map(|_| op(u)).collect::<Result<_>>()?;
    Ok(Scenario { planted, budget, quota, ops })
}
