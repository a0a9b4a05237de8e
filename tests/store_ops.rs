//! Behaviour of the store's operations against the in-memory storage.
//! Native only: wasm-pack test runs tests/wasm.rs.
#![cfg(not(target_arch = "wasm32"))]
mod store_common;

use mpchat::store::{TextBackend, InsertOutcome, MemoryStorage, Store, StoreOptions, UpdateOutcome};
use mpchat::{Record, Status};
use store_common::*;

#[test]
fn keys_never_collide() {
    // (user, conversation, record id): every pair must read back only its own record.
    let table = [
        ("me", "single:group_x", "a1"),
        ("me", "group:x", "a2"),
        ("me", "group:group_x", "a3"),
        ("me", "single:a/b", "a4"),
        ("me", "single:a%2Fb", "a5"),
        ("me", "single:a", "a6"),
        ("me", "group:x:y", "a7"),
        ("me", "group:x/c/group:y", "a8"),
        ("me", "chatroom:x", "a9"),
        ("me/c", "single:x", "b1"),
        ("me%2Fc", "single:x", "b2"),
        ("you", "single:group_x", "b3"),
        ("state", "single:x", "b4"),
    ];
    let mut mem = memory();
    mem.plant("group_x", r#"["the app's own value"]"#);
    mem.plant("me", r#""app""#);
    for (user, conversation, id) in table {
        let (mut store, _) = Store::open(TextBackend::new(&mut mem), user, StoreOptions::default()).unwrap();
        assert_eq!(
            store.insert(rec(conversation, id, 1, "peer", id)).unwrap(),
            InsertOutcome::Stored
        );
    }
    for (user, conversation, id) in table {
        let (mut store, report) = Store::open(TextBackend::new(&mut mem), user, StoreOptions::default()).unwrap();
        assert!(
            report.skipped_keys.is_empty(),
            "{user}: {:?}",
            report.skipped_keys
        );
        assert_eq!(
            ids(&store.history(conversation, None, 10).unwrap()),
            vec![id],
            "{user} {conversation}"
        );
        let mine: Vec<String> = table
            .iter()
            .filter(|t| t.0 == user)
            .map(|t| t.1.to_string())
            .collect();
        let listed: Vec<String> = store
            .conversations()
            .unwrap()
            .into_iter()
            .map(|c| c.conversation)
            .collect();
        assert_eq!(listed.len(), mine.len(), "{user}: {listed:?}");
        assert!(
            listed.iter().all(|c| mine.contains(c)),
            "{user}: {listed:?}"
        );
    }
    assert_eq!(mem.peek("group_x"), Some(r#"["the app's own value"]"#));
    assert_eq!(mem.peek("me"), Some(r#""app""#));
    let ours: Vec<String> = mem
        .key_list()
        .into_iter()
        .filter(|k| k != "group_x" && k != "me")
        .collect();
    assert!(ours.iter().all(|k| k.starts_with("mpchat/2/")), "{ours:?}");
}

#[test]
fn repeats_are_duplicates_even_after_reopen() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    let table = [
        (rec("group:g", "m1", 10, "bob", "hi"), InsertOutcome::Stored),
        (
            rec("group:g", "m1", 10, "bob", "hi"),
            InsertOutcome::Duplicate,
        ),
        (
            rec("group:g", "m1", 99, "bob", "changed"),
            InsertOutcome::Duplicate,
        ),
        (rec("group:g", "m2", 10, "bob", "hi"), InsertOutcome::Stored),
        (
            rec("single:bob", "m2", 10, "bob", "same id elsewhere"),
            InsertOutcome::Duplicate,
        ),
    ];
    for (record, want) in table {
        assert_eq!(store.insert(record).unwrap(), want);
    }
    drop(store);
    let mut store = open(&mut mem);
    assert_eq!(
        store.insert(rec("group:g", "m1", 10, "bob", "hi")).unwrap(),
        InsertOutcome::Duplicate
    );
    assert_eq!(
        ids(&store.history("group:g", None, 10).unwrap()),
        ["m1", "m2"]
    );
    assert_eq!(store.unread_total(), 2);
}

#[test]
fn repeats_of_old_messages_are_found_where_their_time_places_them() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    for i in 0..400 {
        store
            .insert(sized("group:g", &format!("m{i:03}"), i, "bob", 450))
            .unwrap();
    }
    drop(store);
    let mut store = open(&mut mem);
    // m005 lives in a sealed chunk not read at open.
    assert_eq!(
        store
            .insert(sized("group:g", "m005", 5, "bob", 450))
            .unwrap(),
        InsertOutcome::Duplicate
    );
    assert_eq!(all_history(&mut store, "group:g").len(), 400);
}

#[test]
fn records_must_be_normalised() {
    let mut store = open(memory());
    let mut wrong_kind = rec("group:g", "m1", 1, "bob", "x");
    wrong_kind.kind = mpchat::Kind::Single;
    let mut sdk_spelling = rec("group:g", "m2", 1, "bob", "x");
    sdk_spelling.conversation = "groupChat:g".into();
    let empty_id = rec("group:g", "", 1, "bob", "x");
    let huge = sized("group:g", "m3", 1, "bob", 300 * 1024);
    for bad in [wrong_kind, sdk_spelling, empty_id, huge] {
        assert!(
            matches!(store.insert(bad.clone()), Err(mpchat::Error::Input(_))),
            "{}",
            bad.id
        );
    }
}

#[test]
fn ack_rekeys_a_sending_record_without_duplicates() {
    let mut store = open(memory());
    let mut sending = rec("single:bob", "local1", 100, "me", "hi");
    sending.status = Status::Sending;
    store.insert(sending.clone()).unwrap();
    store
        .insert(rec("single:bob", "s0", 50, "bob", "earlier"))
        .unwrap();
    store
        .insert(rec("single:bob", "s9", 200, "bob", "later"))
        .unwrap();

    assert_eq!(
        store.ack_sent("local1", "srv1", Some(150)).unwrap(),
        UpdateOutcome::Updated
    );
    let history = store.history("single:bob", None, 10).unwrap();
    assert_eq!(ids(&history), ["s0", "srv1", "s9"]);
    assert_eq!((history[1].time, history[1].status), (150, Status::Sent));
    assert_eq!(
        store.ack_sent("local1", "srv1", None).unwrap(),
        UpdateOutcome::NotFound
    );
    assert_eq!(
        store
            .insert(rec("single:bob", "srv1", 150, "me", "hi"))
            .unwrap(),
        InsertOutcome::Duplicate
    );

    // The server copy arrived first (another device's sync): the ack merges into it.
    let mut sending = rec("single:bob", "local2", 300, "me", "again");
    sending.status = Status::Sending;
    store.insert(sending).unwrap();
    let mut echo = rec("single:bob", "srv2", 310, "me", "again");
    echo.status = Status::Delivered;
    store.insert(echo).unwrap();
    assert_eq!(
        store.ack_sent("local2", "srv2", Some(310)).unwrap(),
        UpdateOutcome::Merged
    );
    let history = store.history("single:bob", None, 10).unwrap();
    assert_eq!(ids(&history), ["s0", "srv1", "s9", "srv2"]);
    assert_eq!(
        history[3].status,
        Status::Delivered,
        "a merge never moves a status back"
    );

    let mut failing = rec("single:bob", "local3", 400, "me", "lost");
    failing.status = Status::Sending;
    store.insert(failing).unwrap();
    let table = [
        (store.mark_failed("local3").unwrap(), UpdateOutcome::Updated),
        (
            store.mark_failed("local3").unwrap(),
            UpdateOutcome::Unchanged,
        ),
        (store.mark_failed("srv1").unwrap(), UpdateOutcome::Unchanged),
        (store.mark_failed("nope").unwrap(), UpdateOutcome::NotFound),
    ];
    for (got, want) in table {
        assert_eq!(got, want);
    }
    assert_eq!(
        store.history("single:bob", None, 1).unwrap()[0].status,
        Status::Failed
    );
    // A failed record acked later (resend) becomes sent.
    assert_eq!(
        store.ack_sent("local3", "srv3", None).unwrap(),
        UpdateOutcome::Updated
    );
    assert_eq!(
        store.history("single:bob", None, 1).unwrap()[0].status,
        Status::Sent
    );
}

#[test]
fn late_older_messages_land_in_order_across_chunks() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    // 600 messages, inserted in a scrambled order of time (a permutation by a stride coprime to 600).
    let times: Vec<i64> = (0..600).map(|i| (i * 7 % 600) as i64).collect();
    for t in &times {
        store
            .insert(sized("group:g", &format!("m{t:03}"), *t, "bob", 450))
            .unwrap();
    }
    let want: Vec<String> = (0..600).map(|t| format!("m{t:03}")).collect();
    assert_eq!(ids(&all_history(&mut store, "group:g")), want);
    drop(store);
    let mut store = open(&mut mem);
    assert_eq!(ids(&all_history(&mut store, "group:g")), want);
    // Same time: ordered by id.
    store
        .insert(rec("group:g", "m300b", 300, "bob", "x"))
        .unwrap();
    store
        .insert(rec("group:g", "m300a", 300, "bob", "x"))
        .unwrap();
    let around = store.history("group:g", Some("m301"), 4).unwrap();
    assert_eq!(ids(&around), ["m299", "m300", "m300a", "m300b"]);
}

#[test]
fn paging() {
    let mut store = open(memory());
    for i in 0..300 {
        store
            .insert(sized("group:g", &format!("m{i:03}"), i, "bob", 450))
            .unwrap();
    }
    // (before, limit, expected ids)
    let table: [(Option<&str>, usize, Vec<&str>); 7] = [
        (None, 3, vec!["m297", "m298", "m299"]),
        (Some("m297"), 2, vec!["m295", "m296"]),
        (Some("m002"), 5, vec!["m000", "m001"]),
        (Some("m000"), 5, vec![]),
        (None, 0, vec![]),
        (Some("m150"), 1, vec!["m149"]),
        (
            Some("m020"),
            20,
            (0..20)
                .map(|i| {
                    [
                        "m000", "m001", "m002", "m003", "m004", "m005", "m006", "m007", "m008",
                        "m009", "m010", "m011", "m012", "m013", "m014", "m015", "m016", "m017",
                        "m018", "m019",
                    ][i]
                })
                .collect(),
        ),
    ];
    for (before, limit, want) in table {
        assert_eq!(
            ids(&store.history("group:g", before, limit).unwrap()),
            want,
            "{before:?} {limit}"
        );
    }
    assert_eq!(store.history("group:g", None, 1000).unwrap().len(), 300);
    assert!(store.history("group:g", Some("unknown"), 5).is_err());
    assert!(store.history("single:nobody", None, 5).unwrap().is_empty());
    assert_eq!(
        store.history("groupChat:g", None, 1).unwrap()[0].id,
        "m299",
        "any spelling of the kind"
    );
}

#[test]
fn unread_mute_and_mark_read() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    // (record, conversation unread after, total after)
    store
        .insert(rec("single:bob", "b1", 1, "bob", "x"))
        .unwrap();
    store
        .insert(rec("single:bob", "b2", 2, "me", "from my other device"))
        .unwrap();
    store.insert(rec("group:g", "g1", 3, "carol", "x")).unwrap();
    store.insert(rec("group:g", "g2", 4, "me", "x")).unwrap();
    assert_eq!(store.unread_total(), 2);
    assert_eq!(store.mute("group:g", true).unwrap(), UpdateOutcome::Updated);
    assert_eq!(
        store.mute("group:g", true).unwrap(),
        UpdateOutcome::Unchanged
    );
    store
        .insert(rec("group:g", "g3", 5, "carol", "muted"))
        .unwrap();
    assert_eq!(
        store.unread_total(),
        1,
        "muted conversations are left out of the total"
    );
    assert_eq!(
        store.mark_read("single:bob").unwrap(),
        UpdateOutcome::Updated
    );
    assert_eq!(
        store.mark_read("single:bob").unwrap(),
        UpdateOutcome::Unchanged
    );
    assert_eq!(store.unread_total(), 0);
    assert_eq!(
        store.history("single:bob", None, 5).unwrap()[0].status,
        Status::Read
    );
    // An older message arriving after markRead is already read; a newer one is unread.
    store
        .insert(rec("single:bob", "b0", 0, "bob", "late"))
        .unwrap();
    store
        .insert(rec("single:bob", "b3", 6, "bob", "new"))
        .unwrap();
    assert_eq!(store.unread_total(), 1);
    drop(store);
    let mut store = open(&mut mem);
    let summaries = store.conversations().unwrap();
    let table = [("single:bob", 1, false), ("group:g", 1, true)];
    for (conversation, unread, muted) in table {
        let s = summaries
            .iter()
            .find(|s| s.conversation == conversation)
            .unwrap();
        assert_eq!((s.unread, s.muted), (unread, muted), "{conversation}");
    }
    assert_eq!(store.unread_total(), 1);
    store.mute("group:g", false).unwrap();
    assert_eq!(store.unread_total(), 2);
    assert_eq!(
        store.mark_read("single:nobody").unwrap(),
        UpdateOutcome::NotFound
    );
}

#[test]
fn recall_turns_a_record_into_a_notice() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    store
        .insert(rec("group:g", "m1", 1, "bob", "secret"))
        .unwrap();
    store
        .insert(rec("group:g", "m2", 2, "bob", "stays"))
        .unwrap();
    store.insert(rec("group:g", "m3", 3, "me", "mine")).unwrap();
    assert_eq!(store.unread_total(), 2);
    let table = [
        ("m1", "bob", UpdateOutcome::Updated, 1),
        ("m1", "bob", UpdateOutcome::Unchanged, 1),
        ("m3", "me", UpdateOutcome::Updated, 1),
        ("zz", "bob", UpdateOutcome::NotFound, 1),
    ];
    for (id, by, want, unread) in table {
        assert_eq!(store.recall(id, by).unwrap(), want, "{id}");
        assert_eq!(store.unread_total(), unread, "{id}");
    }
    drop(store);
    let mut store = open(&mut mem);
    let history = store.history("group:g", None, 10).unwrap();
    assert_eq!(
        history
            .iter()
            .map(|r| (r.recalled, r.text.as_deref()))
            .collect::<Vec<_>>(),
        [(true, None), (false, Some("stays")), (true, None)]
    );
    assert_eq!(
        history[0].ext.get("recalledBy").and_then(|v| v.as_str()),
        Some("bob")
    );
    store.mark_read("group:g").unwrap();
    store
        .insert(rec("group:g", "m4", 4, "bob", "read later"))
        .unwrap();
    store.mark_read("group:g").unwrap();
    assert_eq!(store.recall("m4", "bob").unwrap(), UpdateOutcome::Updated);
    assert_eq!(
        store.unread_total(),
        0,
        "recalling a read message leaves unread alone"
    );
}

fn statuses<K: mpchat::store::KeyValue>(store: &mut TestStore<K>) -> Vec<Status> {
    store
        .history("single:bob", None, 10)
        .unwrap()
        .iter()
        .map(|r| r.status)
        .collect()
}

#[test]
fn delivery_and_read_acks() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    for (id, t, from) in [
        ("o1", 1, "me"),
        ("i1", 2, "bob"),
        ("o2", 3, "me"),
        ("o3", 4, "me"),
    ] {
        store.insert(rec("single:bob", id, t, from, "x")).unwrap();
    }
    let table = [
        (store.mark_delivered("o1").unwrap(), UpdateOutcome::Updated),
        (
            store.mark_delivered("o1").unwrap(),
            UpdateOutcome::Unchanged,
        ),
        (
            store.mark_read_by_peer("o2").unwrap(),
            UpdateOutcome::Updated,
        ),
        (
            store.mark_delivered("o2").unwrap(),
            UpdateOutcome::Unchanged,
        ),
        (
            store.mark_read_by_peer("i1").unwrap(),
            UpdateOutcome::Unchanged,
        ),
        (
            store.mark_delivered("nope").unwrap(),
            UpdateOutcome::NotFound,
        ),
    ];
    for (i, (got, want)) in table.into_iter().enumerate() {
        assert_eq!(got, want, "row {i}");
    }
    assert_eq!(
        statuses(&mut store),
        [
            Status::Delivered,
            Status::Received,
            Status::Read,
            Status::Sent
        ]
    );
    assert_eq!(
        store.peer_read_all("single:bob").unwrap(),
        UpdateOutcome::Updated
    );
    store
        .insert(rec("single:bob", "o4", 5, "me", "after the peer read"))
        .unwrap();
    drop(store);
    let mut store = open(&mut mem);
    assert_eq!(
        statuses(&mut store),
        [
            Status::Read,
            Status::Received,
            Status::Read,
            Status::Read,
            Status::Sent
        ]
    );
}

#[test]
fn conversations_sorted_by_last_activity() {
    let mut store = open(memory());
    // Times a year apart on the same month-day sort by full time.
    let table = [
        ("single:a", 1_640_995_200_000i64), // 2022-01-01
        ("single:b", 1_672_531_200_000),    // 2023-01-01
        ("group:c", 1_656_633_600_000),     // 2022-07-01
        ("chatroom:d", 1_656_633_600_000),
    ];
    for (i, (conversation, time)) in table.iter().enumerate() {
        store
            .insert(rec(conversation, &format!("m{i}"), *time, "peer", "x"))
            .unwrap();
    }
    let order: Vec<String> = store
        .conversations()
        .unwrap()
        .into_iter()
        .map(|c| c.conversation)
        .collect();
    assert_eq!(order, ["single:b", "chatroom:d", "group:c", "single:a"]);
    store
        .insert(rec("single:a", "late-but-old", 1, "peer", "x"))
        .unwrap();
    assert_eq!(
        store.conversations().unwrap()[3].conversation,
        "single:a",
        "an old message is not activity"
    );
    store
        .insert(rec("single:a", "new", 1_700_000_000_000, "peer", "x"))
        .unwrap();
    let first = store.conversations().unwrap().remove(0);
    assert_eq!(
        (
            first.conversation.as_str(),
            first.updated_at,
            first.last.id.as_str()
        ),
        ("single:a", 1_700_000_000_000, "new")
    );
}

#[test]
fn extras_round_trip() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    assert!(store.extra("profiles").unwrap().is_none());
    assert_eq!(
        store
            .set_extra("profiles", r#"{"bob":{"nickname":"Bob"}}"#)
            .unwrap(),
        UpdateOutcome::Updated
    );
    assert_eq!(
        store
            .set_extra("profiles", r#"{"bob":{"nickname":"Bob"}}"#)
            .unwrap(),
        UpdateOutcome::Unchanged
    );
    drop(store);
    let mut store = open(&mut mem);
    assert_eq!(
        store.extra("profiles").unwrap().map(|t| t.root().to_json()).as_deref(),
        Some(r#"{"bob":{"nickname":"Bob"}}"#)
    );
    assert!(store.report().bytes_used > 0);
}

#[test]
fn legacy_history_is_imported_once() {
    let mut mem = memory();
    let recipe = r#"[
        {"info":{"from":"bob","to":"g1"},"username":"bob","msg":{"type":"txt","data":[{"type":"txt","data":"hello"}]},"time":"2020-5-1 10:00:00","mid":"txt111"},
        {"info":{"from":"me","to":"g1"},"username":"me","style":"self","msg":{"type":"txt","data":"mine"},"time":"2020-5-1 10:01:00","mid":"txt112"},
        {"garbage":true},
        {"info":{"from":"bob","to":"g1"},"msg":{"type":"img","url":"https://x/i.png"},"time":1588298500000,"mid":"img113"}
    ]"#;
    let demo = r#"[{"info":{"from":"bob","to":"me"},"username":"bob","yourname":"bob","msg":{"type":"txt","data":"hi me"},"time":"2020-5-2 09:00:00","mid":"txt200","chatType":"singleChat"}]"#;
    mem.plant("group_g1", recipe);
    mem.plant("rendered_bobme", demo);
    mem.plant("rendered_bobyou", demo);
    mem.plant("group_settings", r#"{"not":"an array"}"#);
    let mut store = open(&mut mem);
    // The server re-delivers one of them during offline sync before the import.
    store
        .insert(rec("group:g1", "111", 1_588_298_400_000, "bob", "hello"))
        .unwrap();
    let report = store.migrate_legacy().unwrap();
    assert_eq!(
        (
            report.keys_found,
            report.imported,
            report.duplicates,
            report.skipped,
            report.keys_removed
        ),
        (2, 3, 1, 1, 2)
    );
    assert_eq!(
        ids(&store.history("group:g1", None, 10).unwrap()),
        ["111", "112", "113"]
    );
    assert_eq!(
        ids(&store.history("single:bob", None, 10).unwrap()),
        ["200"]
    );
    drop(store);
    for (key, kept) in [
        ("group_g1", false),
        ("rendered_bobme", false),
        ("rendered_bobyou", true),
        ("group_settings", true),
    ] {
        assert_eq!(mem.peek(key).is_some(), kept, "{key}");
    }
    mem.plant("group_g1", recipe);
    let mut store = open(&mut mem);
    let again = store.migrate_legacy().unwrap();
    assert_eq!(
        (again.imported, again.duplicates, again.keys_removed),
        (0, 3, 1)
    );
    assert_eq!(store.history("group:g1", None, 10).unwrap().len(), 3);
}

#[test]
fn legacy_keys_stay_until_the_import_is_on_storage() {
    let mut mem = memory();
    mem.plant("group_g1", r#"[{"info":{"from":"bob","to":"g1"},"msg":{"type":"txt","data":"x"},"time":5,"mid":"txt1"}]"#);
    // The import lists the recipe's and the demo's keys, reads group_g1, then writes the record: that
    // write fails. Where opening ends is found on a copy.
    let mut probe = mem.clone();
    drop(open(&mut probe));
    mem.fail_call(probe.calls() + 4);
    let mut store = open(&mut mem);
    let report = store.migrate_legacy().unwrap();
    assert_eq!(
        (
            report.imported,
            report.keys_removed,
            report.keys_kept.clone()
        ),
        (1, 0, vec!["group_g1".to_string()])
    );
    drop(store);
    assert!(mem.peek("group_g1").is_some());
    let mut store = open(&mut mem);
    let report = store.migrate_legacy().unwrap();
    assert_eq!((report.imported, report.keys_removed), (1, 1));
}

#[test]
fn a_mention_of_me_marks_the_conversation_until_read_even_when_muted() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    let mention = |id: &str, time: i64| Record { mentions_me: true, ..rec("group:g", id, time, "bob", "@me") };
    let flags = |store: &mut TestStore<&mut MemoryStorage>| -> Vec<(String, bool)> {
        let list = store.conversations().unwrap();
        list.into_iter().map(|c| (c.conversation, c.mentions_me)).collect()
    };
    store.insert(rec("group:g", "m1", 1, "bob", "hi")).unwrap();
    store.insert(rec("group:h", "h1", 2, "bob", "hi")).unwrap();
    assert_eq!(flags(&mut store), [("group:h".into(), false), ("group:g".into(), false)]);
    store.mute("group:g", true).unwrap();
    store.insert(mention("m2", 3)).unwrap();
    store.insert(rec("group:g", "m3", 4, "carol", "later message")).unwrap();
    assert_eq!(flags(&mut store), [("group:g".into(), true), ("group:h".into(), false)]);
    drop(store);
    let mut store = open(&mut mem);
    assert_eq!(flags(&mut store)[0], ("group:g".into(), true), "kept across a restart");
    store.mark_read("group:g").unwrap();
    assert_eq!(flags(&mut store)[0], ("group:g".into(), false));
}
