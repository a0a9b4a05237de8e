//! The worst inputs a stranger can send or a phone can hold, each with the outcome a user gets:
//! huge and degenerate texts, deep and huge `ext`, giant ids, every kind spelling, impossible times,
//! broken UTF-16, and a storage full of keys that are not mpchat's. Each runs in well under a second.
#![cfg(not(target_arch = "wasm32"))]

#[allow(dead_code)]
#[path = "../fuzz/src/checks.rs"]
mod checks;

use checks::{check_emoji, check_normalize_json, with_context};
use mpchat::build::build_value;
use mpchat::emoji::{delete_last, parse, spans_utf16, EmojiTable, Segment};
use mpchat::json::Json;
use mpchat::normalize::normalize_json;
use mpchat::profile::{ExtKeys, Profile};
use mpchat::store::{InsertOutcome, MemoryStorage, Store, StoreOptions};
use mpchat::time::{format_time, TimeOptions};
use mpchat::{Kind, Record};
use serde_json::{json, Value};

const MB: usize = 1024 * 1024;

/// A 4.x text message from bob to me with `fields` replacing or adding to the defaults, as JSON text.
fn message(fields: Value) -> String {
    let mut message = json!({"id": "m1", "from": "bob", "to": "me", "time": 1_700_000_000_000u64, "type": "txt", "chatType": "singleChat", "msg": "hi"});
    if let (Some(base), Some(extra)) = (message.as_object_mut(), fields.as_object()) {
        base.extend(extra.clone());
    }
    message.to_string()
}

fn normalized(json: &str) -> Result<Record, String> {
    with_context(|ctx| normalize_json(json, ctx).map_err(|e| e.reason))
}

#[test]
fn a_megabyte_of_text_through_the_tokenizer() {
    let table = EmojiTable::easemob();
    let chunk = "你好 [):] hello [(H)] [[x]] \u{1F469}\u{200D}\u{1F4BB} ";
    let text = chunk.repeat(MB / chunk.len() + 1);
    assert!(text.len() >= MB);
    let segments = parse(&table, &text);
    let codes = segments.iter().filter(|s| matches!(s, Segment::Emoji { .. })).count();
    let repeats = text.len() / chunk.len();
    assert_eq!(codes, 2 * repeats, "two codes per repeat, the bracketed [x] is text");
    check_emoji(&table, &text);
}

#[test]
fn a_megabyte_of_text_is_ignored_for_the_text_limit() {
    let json = message(json!({"msg": "a".repeat(MB)}));
    assert_eq!(normalized(&json).err().as_deref(), Some("text is 1048576 bytes, over the 65536-byte limit"));
    let json = message(json!({"msg": "a".repeat(3 * MB)}));
    assert_eq!(
        normalized(&json).err().as_deref(),
        Some(format!("message JSON is {} bytes, over the 2097152-byte limit", json.len()).as_str())
    );
    let at_limit = message(json!({"msg": "a".repeat(64 * 1024)}));
    assert_eq!(normalized(&at_limit).map(|r| r.text.map(|t| t.len())), Ok(Some(64 * 1024)));
}

#[test]
fn texts_of_only_codes_and_only_brackets() {
    let table = EmojiTable::easemob();
    let mut spans = Vec::new();
    // 128 KiB each: the tokenizer is one pass, so this size shows the outcome as well as a megabyte.
    let len = 128 * 1024;
    // (text, emoji segments, text segments, what the delete key leaves)
    let codes = "[):]".repeat(len / 4);
    let opens = "[".repeat(len);
    let closes = "]".repeat(len);
    let empty_codes = "[]".repeat(len / 2);
    let table_rows: [(&str, usize, usize, usize); 4] = [
        (&codes, len / 4, 0, len - 4),
        (&opens, 0, 1, len - 1),
        (&closes, 0, 1, len - 1),
        (&empty_codes, 0, 1, len - 1),
    ];
    for (text, emoji, plain, left) in table_rows {
        let segments = parse(&table, text);
        let found = segments.iter().filter(|s| matches!(s, Segment::Emoji { .. })).count();
        assert_eq!((found, segments.len() - found), (emoji, plain), "{}", &text[..8]);
        spans_utf16(&table, text, &mut spans);
        assert_eq!(spans.len(), 3 * emoji);
        assert_eq!(delete_last(&table, text).len(), left);
        check_emoji(&table, text);
    }
}

#[test]
fn deeply_nested_ext_is_ignored_with_a_reason() {
    let nested = |levels: usize| format!("{}1{}", "{\"k\":".repeat(levels), "}".repeat(levels));
    // (levels, outcome: kept, or the start of the ignored reason)
    let table = [
        (32, Ok(())),
        (100, Err("ext nests deeper than 32 levels")),
        (100_000, Err("message is not valid JSON: recursion limit exceeded at line 1 column")),
    ];
    for (levels, want) in table {
        let json = message(json!({})).replacen('{', &format!("{{\"ext\":{},", nested(levels)), 1);
        match (normalized(&json), want) {
            (Ok(_), Ok(())) => {}
            (Err(reason), Err(start)) => assert!(reason.starts_with(start), "{levels} levels: {reason}"),
            (outcome, want) => panic!("{levels} levels: {outcome:?}, wanted {want:?}"),
        }
    }
    // As a value handed to build: refused with a message that says what to do.
    let deep = (0..100).fold(json!(1), |inner, _| json!({ "k": inner }));
    let input = json!({"type": "txt", "to": "bob", "msg": "hi", "ext": deep});
    let error = build_value(&input, &Profile::default(), &ExtKeys::default()).unwrap_err();
    assert!(error.message().contains("nests deeper than 32 levels"), "{error}");
}

#[test]
fn huge_ext_objects() {
    let ext = |keys: usize| Value::Object((0..keys).map(|i| (format!("key{i}"), json!("value"))).collect());
    // (keys, outcome): under the 128 KiB record limit the ext is kept whole, over it the message is ignored.
    let table: [(usize, Result<usize, &str>); 3] = [
        (1_000, Ok(1_000)),
        (6_000, Ok(6_000)),
        (20_000, Err("over the 131072-byte limit (ext or body too large)")),
    ];
    for (keys, want) in table {
        let outcome = normalized(&message(json!({"ext": ext(keys)})));
        match (outcome, want) {
            (Ok(record), Ok(kept)) => assert!(matches!(record.ext, Json::Object(entries) if entries.len() == kept)),
            (Err(reason), Err(tail)) => assert!(reason.ends_with(tail), "{keys} keys: {reason}"),
            (outcome, want) => panic!("{keys} keys: {outcome:?}, wanted {want:?}"),
        }
    }
}

#[test]
fn ids_of_ten_thousand_characters() {
    let long = "x".repeat(10_000);
    for field in ["id", "from", "to"] {
        let json = message(json!({ field: long }));
        assert_eq!(
            normalized(&json).err(),
            Some(format!("{field} is 10000 bytes, over the 256-byte limit")),
            "{field}"
        );
    }
    let error = build_value(&json!({"type": "txt", "to": long, "msg": "hi"}), &Profile::default(), &ExtKeys::default()).unwrap_err();
    assert!(error.message().contains("10000 bytes long"), "{error}");
    // The store itself takes a record with such an id and gives it back.
    let mut record = normalized(&message(json!({}))).unwrap();
    record.id = long.clone();
    let mut mem = MemoryStorage::with_wx_limits();
    let (mut store, _) = Store::open(mpchat::store::TextBackend::new(&mut mem), "me", StoreOptions::default()).unwrap();
    assert_eq!(store.insert(record).unwrap(), InsertOutcome::Stored);
    drop(store);
    let (mut store, _) = Store::open(mpchat::store::TextBackend::new(&mut mem), "me", StoreOptions::default()).unwrap();
    assert_eq!(store.history("single:bob", None, 5).unwrap().iter().map(|r| r.id.len()).collect::<Vec<_>>(), [10_000]);
}

#[test]
fn every_kind_spelling() {
    // (chatType, legacy type, conversation or ignored reason)
    let table: [(Option<&str>, Option<&str>, Result<&str, &str>); 16] = [
        (Some("singleChat"), None, Ok("single:bob")),
        (Some("SINGLECHAT"), None, Ok("single:bob")),
        (Some("chat"), None, Ok("single:bob")),
        (Some("single"), None, Ok("single:bob")),
        (Some("groupChat"), None, Ok("group:me")),
        (Some("groupchat"), None, Ok("group:me")),
        (Some("group"), None, Ok("group:me")),
        (Some("chatRoom"), None, Ok("chatroom:me")),
        (Some("chatroom"), None, Ok("chatroom:me")),
        (Some(" chatRoom "), None, Ok("chatroom:me")),
        (Some("room"), None, Ok("chatroom:me")),
        (None, Some("chat"), Ok("single:bob")),
        (None, Some("groupchat"), Ok("group:me")),
        (None, Some("chatroom"), Ok("chatroom:me")),
        (Some("singleChat"), Some("chatroom"), Ok("chatroom:me")),
        (Some("dm"), None, Err("chatType")),
    ];
    for (chat_type, legacy, want) in table {
        let mut fields = json!({"chatType": chat_type});
        if let Some(legacy) = legacy {
            fields = json!({"chatType": chat_type, "type": legacy, "contentsType": "TEXT", "data": "hi"});
        }
        let outcome = normalized(&message(fields));
        match (outcome, want) {
            (Ok(record), Ok(conversation)) => assert_eq!(record.conversation, conversation, "{chat_type:?} {legacy:?}"),
            (Err(reason), Err(part)) => assert!(reason.contains(part), "{chat_type:?}: {reason}"),
            (outcome, want) => panic!("{chat_type:?} {legacy:?}: {outcome:?}, wanted {want:?}"),
        }
    }
    // Building: every SDK spelling is accepted and written the 4.x way; an unknown one is an error.
    let table = [
        ("singleChat", Some(Kind::Single)), ("chat", Some(Kind::Single)), ("GROUPCHAT", Some(Kind::Group)),
        ("groupChat", Some(Kind::Group)), ("chatRoom", Some(Kind::ChatRoom)), ("chatroom", Some(Kind::ChatRoom)),
        ("dm", None), ("", None),
    ];
    for (spelling, kind) in table {
        let built = build_value(&json!({"type": "txt", "chatType": spelling, "to": "x", "msg": "hi"}), &Profile::default(), &ExtKeys::default());
        assert_eq!(
            built.ok().and_then(|b| b["chatType"].as_str().map(str::to_string)),
            kind.map(|k| k.sdk_chat_type().to_string()),
            "{spelling:?}"
        );
    }
}

#[test]
fn impossible_times() {
    // (time as JSON, record time or ignored reason)
    let table: [(&str, Result<i64, &str>); 9] = [
        ("-1", Err("time -1 is not a timestamp (negative or too large)")),
        ("-0.5", Err("time -0.5 is not a timestamp (negative or too large)")),
        ("1e300", Err("time 1e+300 is not a timestamp (negative or too large)")),
        ("9007199254740992", Err("time 9007199254740992 is not a timestamp (too large)")),
        ("\"NaN\"", Err("time \"NaN\" is not a timestamp (not a string of digits)")),
        ("\"-5\"", Err("time \"-5\" is not a timestamp (not a string of digits)")),
        ("null", Err("time null is not a timestamp (wrong type)")),
        ("1.9", Ok(1)),
        ("\" 1700000000000 \"", Ok(1_700_000_000_000)),
    ];
    for (time, want) in table {
        let json = message(json!({})).replacen("\"time\":1700000000000", &format!("\"time\":{time}"), 1);
        assert_eq!(normalized(&json).map(|r| r.time).map_err(|e| e), want.map_err(str::to_string), "{time}");
    }
    // Labels: a time that is not one is an error, never a panic or a made-up date.
    let opts = TimeOptions::new(1_700_000_000_000);
    for ms in [f64::NAN, f64::INFINITY, -1e300, 1e300] {
        let error = format_time(ms, &opts).unwrap_err();
        assert!(error.message().starts_with("time"), "{ms}: {error}");
    }
}

#[test]
fn lone_surrogates_become_replacement_characters() {
    // (msg as it appears in the JSON text, text of the record)
    let table = [
        (r#""\ud800""#, "\u{FFFD}"),
        (r#""a\udc00b""#, "a\u{FFFD}b"),
        (r#""\udc00\ud800""#, "\u{FFFD}\u{FFFD}"),
        (r#""\ud800\ud83d\ude00""#, "\u{FFFD}\u{1F600}"),
        (r#""\ud83d\ude00""#, "\u{1F600}"),
        (r#""\\ud800""#, "\\ud800"),
        (r#""\ud800\u0041""#, "\u{FFFD}A"),
    ];
    for (msg, text) in table {
        let json = message(json!({})).replacen("\"msg\":\"hi\"", &format!("\"msg\":{msg}"), 1);
        assert_eq!(normalized(&json).map(|r| r.text), Ok(Some(text.to_string())), "{msg}");
        check_normalize_json(&json);
    }
}

#[test]
fn a_storage_full_of_foreign_keys() {
    let mut mem = MemoryStorage::with_wx_limits();
    // Under mpchat's prefix: names this version never writes, and its names holding values it cannot read.
    for i in 0..6_000 {
        mem.plant(&format!("mpchat/2/me/junk{i}"), "{\"some\":\"thing\"}");
    }
    let unreadable = ["not json", "{\"v\":3,\"c\":\"group:g\",\"r\":[]}", "{\"v\":2,\"c\":\"group:other\",\"r\":[]}", "{\"v\":2,\"c\":\"gro"];
    for i in 0..4_000u64 {
        mem.plant(&format!("mpchat/2/me/c/group:g{}/{}", i % 50, (i + 1) << 32), unreadable[(i % 4) as usize]);
    }
    mem.plant("mpchat/2/me/s", "[1,2,3]");
    // Outside the prefix: other users and other code of the app, never touched or reported.
    for i in 0..2_000 {
        mem.plant(&format!("mpchat/2/other/c/group:g/{i}"), "x");
        mem.plant(&format!("chat_history_{i}"), "[]");
    }
    let outside = |mem: &MemoryStorage| mem.key_list().into_iter().filter(|k| !k.starts_with("mpchat/2/me/")).count();
    let (mut store, report) = Store::open(mpchat::store::TextBackend::new(&mut mem), "me", StoreOptions::default()).unwrap();
    assert_eq!(report.skipped_keys.len(), 6_000 + 4_000 + 1, "every unreadable key under the prefix is reported");
    assert!(report.skipped_keys.iter().all(|k| k.starts_with("mpchat/2/me/")));

    // New messages, some into conversations whose every chunk was unreadable: all kept.
    let base = normalized(&message(json!({}))).unwrap();
    let conversations = ["group:g0", "group:g49", "single:bob"];
    for i in 0..300 {
        let conversation = conversations[i % 3];
        let mut record = base.clone();
        record.id = format!("m{i}");
        record.time = 1_700_000_000_000 + i as i64;
        record.conversation = conversation.to_string();
        record.kind = mpchat::ConversationId::parse(conversation).unwrap().kind;
        assert_eq!(store.insert(record).unwrap(), InsertOutcome::Stored, "m{i}");
    }
    // The app idle before it stops: nothing waits, and the next opening need not list the keys.
    assert_eq!(store.write_waiting(), None);
    let accounted = store.report().bytes_used;
    drop(store);
    assert_eq!(accounted, mem.bytes_under("mpchat/2/me/"), "the foreign values are counted");
    let (mut store, report) = Store::open(mpchat::store::TextBackend::new(&mut mem), "me", StoreOptions::default()).unwrap();
    assert!(report.skipped_keys.is_empty(), "reported once, then known from the state");
    assert_eq!(store.report().bytes_used, accounted);
    for conversation in conversations {
        let history = store.history(conversation, None, 1_000).unwrap();
        assert_eq!(history.len(), 100, "{conversation}");
    }
    drop(store);
    assert_eq!(outside(&mem), 4_000, "keys outside the prefix are left alone");
}
