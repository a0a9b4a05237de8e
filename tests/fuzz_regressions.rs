//! Inputs the fuzz targets (fuzz/fuzz_targets) found, replayed as ordinary tests through the same
//! invariants the fuzzers check (fuzz/src/checks.rs, included here by path).
#![cfg(not(target_arch = "wasm32"))]

#[allow(dead_code)]
#[path = "../fuzz/src/checks.rs"]
mod checks;

use mpchat::build::build_value;
use mpchat::profile::{ExtKeys, Profile};
use serde_json::{json, Value};

/// An `ext` of `levels` nested objects, `ext` itself counted: `{"k":{"k":…{"k":1}}}`.
fn ext_of_depth(levels: usize) -> Value {
    (0..levels).fold(json!(1), |inner, _| json!({ "k": inner }))
}

/// Found by `build_message`: `build` accepted an `ext` nested deeper than the 32 levels the normaliser
/// keeps, so the message went out but my own 'sending' record and every receiver dropped it.
#[test]
fn build_refuses_an_ext_receivers_would_drop() {
    let table = [
        (1, None),
        (32, None),
        (33, Some("`ext` nests deeper than 32 levels; receivers drop such messages, so flatten it")),
        (40, Some("`ext` nests deeper than 32 levels; receivers drop such messages, so flatten it")),
    ];
    for (levels, error) in table {
        let input = json!({"type": "txt", "chatType": "groupChat", "to": "g1", "msg": "hi", "ext": ext_of_depth(levels)});
        let outcome = build_value(&input, &Profile::default(), &ExtKeys::default());
        assert_eq!(
            outcome.as_ref().err().map(|e| e.message().to_string()).as_deref(),
            error,
            "{levels} levels"
        );
        checks::check_build(&input, &Profile::default());
    }
}

/// Found by `normalize` (a fault of the check, not of mpchat): an ignored reason that quotes the
/// sender's text may contain the word "surrogate"; only a JSON error about one is a lone surrogate
/// making a message unreadable.
#[test]
fn a_reason_quoting_the_word_surrogate_is_not_a_surrogate_error() {
    let json = r#"{"id":"m2","from":"bob","to":"g1","time":"1700000000000","type":"groupchat","contentsType":"IsurrogateMAGE","url.":"httoken=T","ext":{}}"#;
    let reason = checks::with_context(|ctx| mpchat::normalize::normalize_json(json, ctx).unwrap_err().reason);
    assert_eq!(
        reason,
        r#"contentsType "IsurrogateMAGE" is not supported (TEXT, IMAGE, VOICE, VIDEO, FILE, LOCATION, COMMAND or CUSTOM)"#
    );
    checks::check_normalize_json(json);
}

/// Format 1 values planted here are moved over by opening: the regressions found against format 1
/// now also cover the migration.
///
/// Found by `store`: a tail chunk whose meta counts 740 unread but that holds no record of its
/// conversation (its only item belongs to another one) made the unread total 741 while the
/// conversation list, which shows conversations with records only, added up to 1.
#[test]
fn a_meta_with_unread_and_no_records_counts_nothing() {
    let foreign_record: Value = serde_json::from_str(&checks::Msg::In(14).record(10).to_json()).unwrap();
    let tail = json!({"v": 1, "c": "group:g", "r": [foreign_record], "m": {"unread": 740, "sealedBytes": 85_055, "sealedChunks": 3}});
    checks::run_scenario(&checks::Scenario {
        planted: vec![checks::Planted { key: "mpchat/1/me/c/group:g/0000000100000000".into(), value: tail.to_string() }],
        budget: 6_000,
        quota: 4_000,
        ops: vec![checks::Op::Insert { msg: checks::Msg::In(0), text_bytes: 0 }],
    });
}

/// Found by `store`: a tail whose meta claimed 83,647 bytes of sealed chunks but listed none was
/// trusted, so the store counted 83 KB that were not there, over a 6 KB budget.
#[test]
fn a_meta_claiming_bytes_in_no_chunks_is_not_trusted() {
    let tail = r#"{"c":"group:g","m":{"intent":[],"sealedBytes":83647,"sealedChunks":0,"unread":839},"r":[],"v":1}"#;
    let planted = |key: &str, value: &str| checks::Planted { key: format!("mpchat/1/me/{key}"), value: value.into() };
    checks::run_scenario(&checks::Scenario {
        planted: vec![planted("c/group:g/0000000000000000", tail), planted("state", "")],
        budget: 6_000,
        quota: 4_000,
        ops: vec![checks::Op::Insert { msg: checks::Msg::In(0), text_bytes: 0 }],
    });
    let mut mem = mpchat::store::MemoryStorage::new();
    mem.plant("mpchat/1/me/c/group:g/0000000000000000", tail);
    let (store, report) = mpchat::store::Store::open(mpchat::store::TextBackend::new(&mut mem), "me", Default::default()).unwrap();
    // Moved over as what it holds: no record, so nothing, whatever its meta claimed.
    assert_eq!((report.conversations, store.report().bytes_used), (0, 0));
    drop(store);
    assert!(mem.key_list().is_empty(), "{:?}", mem.key_list());
}

/// Found by `store`: evicting the sealed chunk that held a conversation's only unread message left
/// its unread count at 1, so the total badge said 2 while the list (which no longer showed that
/// conversation) added up to 1. Evicted records now leave the unread count.
#[test]
fn evicted_unread_messages_leave_the_unread_count() {
    let planted = |key: &str, value: &str| checks::Planted { key: format!("mpchat/1/me/{key}"), value: value.into() };
    let insert = |msg, text_bytes| checks::Op::Insert { msg, text_bytes };
    checks::run_scenario(&checks::Scenario {
        planted: vec![
            planted("c/chatroom:r/0000000100000000", ""),
            planted("c/single:peer/0000000500000000", ""),
            planted("c/single:peer/0000000400000000", ""),
            planted("c/single:peer/0000000100000000", r#"{"c":"single:peer","r":[],"v":1}"#),
        ],
        budget: 6_000,
        quota: 4_000,
        ops: vec![
            checks::Op::Fail { n: 13 },
            insert(checks::Msg::Server(13), 0),
            insert(checks::Msg::In(0), 3_000),
            insert(checks::Msg::In(14), 1_500),
        ],
    });
}

/// Found by `store`: a tail meta claiming 483 unread over a conversation of one record; evicting
/// that record left 482 unread in a conversation the list no longer showed. A conversation left
/// with no record by an eviction has nothing unread.
#[test]
fn a_conversation_emptied_by_eviction_has_nothing_unread() {
    let planted = |key: &str, value: String| checks::Planted { key: format!("mpchat/1/me/{key}"), value };
    let i0 = checks::Msg::In(0).record(0).to_json();
    let tail = r#"{"c":"single:peer","m":{"intent":[],"sealedBytes":38299,"sealedChunks":1,"unread":483},"r":[],"v":1}"#;
    checks::run_scenario(&checks::Scenario {
        planted: vec![
            planted("c/single:peer/0000000100000000", format!(r#"{{"c":"single:peer","r":[{i0}],"v":1}}"#)),
            planted("c/chatroom:r/0000000100000000", "\0l\u{2}\0K\0\01\0\r/\0".into()),
            planted("c/single:peer/0000000500000000", tail.into()),
        ],
        budget: 6_000,
        quota: 6_000,
        ops: vec![
            checks::Op::Insert { msg: checks::Msg::In(3), text_bytes: 3_000 },
            checks::Op::Reopen,
            checks::Op::Mute { conversation: 2, on: false },
        ],
    });
}

/// Found by `store`: a head counting 2 unread whose loose record and sealed chunks are all missing
/// was repaired into a conversation with no record that still counted 2 unread, so the badge said 2
/// while the list (which shows conversations with records only) added up to 0.
#[test]
fn a_head_whose_records_are_all_missing_counts_nothing_unread() {
    let head = r#"{"b":"0000000144","c":"group:g","f":6,"lb":11308,"n":7,"s":[8589934592,17179869184,[],[]],"sb":23340,"t":11308,"u":2,"v":2}"#;
    checks::run_scenario(&checks::Scenario {
        planted: vec![checks::Planted { key: "mpchat/2/me/h/group:g".into(), value: head.into() }],
        budget: 100_000,
        quota: 100_000,
        ops: vec![checks::Op::Mute { conversation: 0, on: false }],
    });
}

/// Found by `store`: a format 1 chunk filling the storage's quota could not be copied to format 2
/// beside itself, and opening failed, so the chat could not start at all. The move now waits for
/// room: opening succeeds, the format 1 history stays where it is (nothing lost), and the
/// conversation's new records are kept in memory and reported unsaved until a reopen moves it.
#[test]
fn a_migration_without_room_waits_and_opening_succeeds() {
    use mpchat::store::{Store, TextBackend};
    let record = checks::Msg::Server(20).record(3_000).to_json();
    let chunk = format!(r#"{{"c":"chatroom:r","r":[{record}],"v":1}}"#);
    let key = "mpchat/1/me/c/chatroom:r/0000000500000000";
    let mut ops = vec![checks::Op::Delivered { n: 14 }];
    ops.extend((0..47).map(|_| checks::Op::Insert { msg: checks::Msg::In(0), text_bytes: 0 }));
    checks::run_scenario(&checks::Scenario {
        planted: vec![checks::Planted { key: key.into(), value: chunk.clone() }],
        budget: 6_000,
        quota: 6_000,
        ops,
    });

    let mut full = mpchat::store::MemoryStorage::with_limits(1 << 20, 6_000);
    full.plant(key, &chunk);
    let (mut store, report) = Store::open(TextBackend::new(&mut full), "me", Default::default()).unwrap();
    assert_eq!((report.migrated, report.migration_paused), (0, 1));
    let incoming = checks::Msg::Server(23).record(0); // chatroom:r too
    assert!(matches!(store.insert(incoming), Ok(mpchat::store::InsertOutcome::Unsaved { .. })));
    drop(store);
    assert_eq!(full.peek(key), Some(chunk.as_str()), "format 1 history is left whole");

    // With room, the next open moves it.
    let mut roomy = mpchat::store::MemoryStorage::new();
    for k in full.key_list() {
        roomy.plant(&k, full.peek(&k).unwrap());
    }
    let (mut store, report) = Store::open(TextBackend::new(&mut roomy), "me", Default::default()).unwrap();
    assert_eq!((report.migrated, report.migration_paused), (1, 0));
    let page = store.history("chatroom:r", None, 10).unwrap();
    assert_eq!(page.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["s20"]);
}

/// Found by `store`: two loose keys holding the same record and no head (a move interrupted between
/// its write and its removal) were both taken when the conversation was rebuilt, so history showed
/// the message twice. The second copy is removed.
#[test]
fn a_record_found_twice_when_rebuilding_is_kept_once() {
    let record = checks::Msg::In(15).record(0).to_json();
    let loose = |n: u64| checks::Planted { key: format!("mpchat/2/me/r/single:peer/{n}"), value: record.clone() };
    checks::run_scenario(&checks::Scenario {
        planted: vec![loose(39), loose(0)],
        budget: 100_000,
        quota: 100_000,
        ops: vec![checks::Op::PeerReadAll { conversation: 2 }, checks::Op::Insert { msg: checks::Msg::In(0), text_bytes: 0 }],
    });
}

/// Found by `store`: a record whose mark equals the newest sealed one (the same record, received
/// again) was taken for a loose one, where no copy of it was, and stored a second time.
#[test]
fn the_newest_sealed_record_received_again_is_a_repeat() {
    let i0 = checks::Msg::In(0).record(0).to_json();
    let chunk = format!(r#"{{"b":"0000000000","c":"single:peer","r":[{i0}],"s":4294967296,"v":2}}"#);
    let chunk = chunk.replace("0000000000", &format!("{:010}", "mpchat/2/me/c/single:peer/4294967296".len() + chunk.len()));
    checks::run_scenario(&checks::Scenario {
        planted: vec![checks::Planted { key: "mpchat/2/me/c/single:peer/4294967296".into(), value: chunk }],
        budget: 6_000,
        quota: 4_000,
        ops: vec![checks::Op::Insert { msg: checks::Msg::In(0), text_bytes: 0 }],
    });
}
