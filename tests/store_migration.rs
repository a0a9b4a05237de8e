//! Moving a store of format 1 (chunks of about 6 KB with the meta in the newest one) to format 2,
//! whole and after a crash at any call of it. The fixture was written by mpchat's format 1 store:
//! three conversations (one with evicted, late and read history and a mention, one with a sending,
//! a recalled and peer-read records, one muted), the state with eviction counters.
//! Native only: wasm-pack test runs tests/wasm.rs.
#![cfg(not(target_arch = "wasm32"))]
mod store_common;

use std::collections::BTreeMap;

use mpchat::store::{MemoryStorage, Store, StoreOptions, TextBackend};
use mpchat::tape::Tape;
use mpchat::{Record, Status};
use store_common::*;

const FIXTURE: &str = include_str!("fixtures/store-format1.json");

/// The fixture planted in a storage, with an app key and another user's key beside it.
fn planted() -> MemoryStorage {
    let mut mem = memory();
    let values: BTreeMap<String, String> = serde_json::from_str(FIXTURE).unwrap();
    for (key, value) in values {
        mem.plant(&key, &value);
    }
    mem.plant("group_g1", r#"["the app's own value"]"#);
    mem.plant("mpchat/1/you/c/group:g1/0000000100000000", r#"{"v":1,"c":"group:g1","r":[]}"#);
    mem
}

/// Every record format 1 held, by conversation, oldest first.
fn format1_records() -> BTreeMap<String, Vec<Record>> {
    let values: BTreeMap<String, String> = serde_json::from_str(FIXTURE).unwrap();
    let mut out: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    for (key, value) in values.iter().filter(|(k, _)| k.contains("/c/")) {
        let chunk: serde_json::Value = serde_json::from_str(value).unwrap();
        let conversation = chunk["c"].as_str().unwrap().to_string();
        for item in chunk["r"].as_array().unwrap() {
            let record = Record::from_val(Tape::full(item).root()).unwrap_or_else(|| panic!("{key}: {item}"));
            out.entry(conversation.clone()).or_default().push(record);
        }
    }
    for records in out.values_mut() {
        records.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
    }
    out
}

/// What a reopened store must hold after the migration, however it went.
fn check_migrated(mem: &mut MemoryStorage, context: &str) {
    let (mut store, report) = open_report(&mut *mem, "me");
    assert!(report.skipped_keys.is_empty(), "{context}: {:?}", report.skipped_keys);
    for (conversation, want) in format1_records() {
        let got = all_history(&mut store, &conversation);
        assert_eq!(ids(&got), ids(&want), "{context}: {conversation}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!((&g.text, &g.sender, g.recalled), (&w.text, &w.sender, w.recalled), "{context}: {}", g.id);
        }
    }
    let bob = all_history(&mut store, "single:bob");
    let status = |id: &str| bob.iter().find(|r| r.id == id).map(|r| r.status);
    assert_eq!(status("b4"), Some(Status::Sending), "{context}");
    assert_eq!(status("b0"), Some(Status::Read), "{context}: the peer read it before the move");
    let list = store.conversations().unwrap();
    let row = |name: &str| list.iter().find(|c| c.conversation == name).unwrap_or_else(|| panic!("{context}: {name}"));
    assert_eq!((row("group:g1").unread, row("group:g1").mentions_me), (10, true), "{context}");
    assert!(row("chatroom:r1").muted, "{context}");
    assert_eq!(store.unread_total(), 10 + row("single:bob").unread, "{context}: the muted room is not counted");
    let report = store.report();
    assert_eq!((report.evicted_records, report.evicted_chunks), (75, 4), "{context}");
    // Keeps working: a new message lands after the moved ones.
    store.insert(rec("group:g1", "new", 1_800_000_000_000, "bob", "x")).unwrap();
    let accounted = store.report().bytes_used;
    drop(store);
    assert_eq!(accounted, mem.bytes_under("mpchat/2/me/"), "{context}: byte accounting");
    assert!(mem.key_list().iter().all(|k| !k.starts_with("mpchat/1/me/")), "{context}: format 1 keys left");
    assert_eq!(mem.peek("group_g1"), Some(r#"["the app's own value"]"#), "{context}");
    assert!(mem.peek("mpchat/1/you/c/group:g1/0000000100000000").is_some(), "{context}: another user's keys stay");
}

#[test]
fn format_1_is_moved_over_whole() {
    let mut mem = planted();
    let (store, report) = open_report(&mut mem, "me");
    assert_eq!((report.migrated, report.conversations), (3, 3));
    drop(store);
    check_migrated(&mut mem, "clean");
    // A second open has nothing left to move.
    let (_, report) = open_report(&mut mem, "me");
    assert_eq!(report.migrated, 0);
}

#[test]
fn a_crash_at_any_call_of_the_migration_loses_nothing() {
    let mut probe = planted();
    let start = probe.calls();
    drop(open(&mut probe));
    let calls = probe.calls() - start;
    assert!(calls > 20, "{calls}");
    for k in 1..=calls {
        for retried in [false, true] {
            let mut mem = planted();
            mem.fail_call(mem.calls() + k);
            // Killed: the app dies with the failing call. Retried: it opens again at once.
            let failed = Store::open(TextBackend::new(&mut mem), "me", StoreOptions::default()).is_err();
            if failed && retried {
                drop(open(&mut mem));
            }
            mem.heal();
            check_migrated(&mut mem, &format!("fault at call {k}, {}", if retried { "retried" } else { "killed" }));
        }
    }
}
