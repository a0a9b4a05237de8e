//! History fetched from the server (chat.fetchOlder) in the store: in place, never unread, budgeted.
//! Native only: wasm-pack test runs tests/wasm.rs.
#![cfg(not(target_arch = "wasm32"))]
mod store_common;

use mpchat::store::{InsertOutcome, KeyValue};
use mpchat::{Record, Status};
use store_common::*;

fn summary<K: KeyValue>(store: &mut TestStore<K>, conversation: &str) -> (u64, bool, i64) {
    let list = store.conversations().unwrap();
    let c = list.into_iter().find(|c| c.conversation == conversation).expect("listed");
    (c.unread, c.mentions_me, c.updated_at)
}

/// Record `i` of a long group conversation: alternately bob's and mine, one second apart.
fn nth(i: usize) -> Record {
    let from = if i % 2 == 0 { "bob" } else { "me" };
    rec("group:g", &format!("m{i:03}"), 1_000_000 + i as i64 * 1000, from, &format!("message {i}"))
}

#[test]
fn fetched_history_goes_in_place_never_unread_and_without_repeats() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    // The phone holds the newest 40 of 100, and has read up to the 35th of them.
    for i in 60..100 {
        store.insert(nth(i)).unwrap();
    }
    store.mark_read("group:g").unwrap();
    store.insert(Record { mentions_me: true, ..nth(100) }).unwrap();
    store.insert(nth(101)).unwrap();
    let before = summary(&mut store, "group:g");
    assert_eq!(before.0, 1, "101 is mine, 100 is unread");
    assert!(before.1);
    assert_eq!(store.oldest_id("group:g").unwrap().as_deref(), Some("m060"));

    // Pages back of 20, newest first as the server gives them, the first one starting at the oldest held.
    for page in [(40..=60).rev().collect::<Vec<_>>(), (20..40).rev().collect(), (0..20).rev().collect()] {
        for i in page {
            let mut r = Record { mentions_me: i == 10, ..nth(i) };
            if i == 60 {
                assert_eq!(store.insert_fetched(r).unwrap(), InsertOutcome::Duplicate);
                continue;
            }
            r.status = if r.from == "me" { Status::Sent } else { Status::Received };
            assert_eq!(store.insert_fetched(r).unwrap(), InsertOutcome::Stored, "{i}");
        }
    }
    // A page fetched again changes nothing.
    for i in 0..20 {
        assert_eq!(store.insert_fetched(nth(i)).unwrap(), InsertOutcome::Duplicate);
    }
    let want: Vec<String> = (0..102).map(|i| format!("m{i:03}")).collect();
    assert_eq!(ids(&all_history(&mut store, "group:g")), want);
    assert_eq!(summary(&mut store, "group:g"), before, "unread, the mention and the activity are as they were");
    assert_eq!(store.oldest_id("group:g").unwrap().as_deref(), Some("m000"));
    // Someone else's fetched records show read, mine as sent.
    let old = store.history("group:g", Some("m002"), 2).unwrap();
    assert_eq!(old.iter().map(|r| r.status).collect::<Vec<_>>(), vec![Status::Read, Status::Sent]);
    drop(store);

    let mut store = open(&mut mem);
    assert_eq!(ids(&all_history(&mut store, "group:g")), want);
    assert_eq!(summary(&mut store, "group:g"), before);
    assert_eq!(store.unread_total(), 1);
    assert_eq!(store.insert_fetched(nth(5)).unwrap(), InsertOutcome::Duplicate);
}

#[test]
fn fetched_history_on_a_new_device_sets_the_activity_but_no_unread() {
    let mut store = open(memory());
    assert_eq!(store.oldest_id("group:g").unwrap(), None);
    for i in (80..100).rev() {
        store.insert_fetched(nth(i)).unwrap();
    }
    assert_eq!(summary(&mut store, "group:g"), (0, false, nth(99).time));
    assert_eq!(store.unread_total(), 0);
    // A message arriving now counts as usual.
    store.insert(nth(100)).unwrap();
    assert_eq!(summary(&mut store, "group:g"), (1, false, nth(100).time));
    assert_eq!(ids(&all_history(&mut store, "group:g")).len(), 21);
}

#[test]
fn paging_back_past_the_budget_keeps_other_conversations_and_history_continuous() {
    const BUDGET: u64 = 256 * 1024;
    const SIZE: usize = 500;
    let mut mem = memory();
    let mut store = open_with(&mut mem, BUDGET);
    // Four other conversations, active before the long one's held messages.
    let others = ["single:a", "single:b", "group:c", "group:d"];
    for (n, conversation) in others.iter().enumerate() {
        for i in 0..60 {
            store.insert(sized(conversation, &format!("{conversation}-{i}"), 500_000 + (n * 100 + i) as i64, "peer", SIZE)).unwrap();
        }
    }
    let theirs: Vec<Vec<String>> = others.iter().map(|c| ids(&all_history(&mut store, c))).collect();
    assert!(theirs.iter().all(|h| h.len() == 60));
    // The long conversation: 1000 messages of about SIZE bytes (twice the budget), the phone holds the newest 40.
    let long = |i: usize| sized("group:long", &format!("l{i:04}"), 1_000_000 + i as i64, "peer", SIZE);
    for i in 960..1000 {
        store.insert(long(i)).unwrap();
    }
    let mut not_kept = 0;
    for i in (0..960).rev() {
        match store.insert_fetched(long(i)).unwrap() {
            InsertOutcome::Stored => assert_eq!(not_kept, 0, "{i}: stored after one was not kept"),
            InsertOutcome::NotKept { .. } => not_kept += 1,
            other => panic!("{i}: {other:?}"),
        }
    }
    assert!(not_kept > 0, "the conversation is longer than the budget");
    let report = store.report();
    assert!(report.bytes_used <= BUDGET, "{report:?}");
    for (conversation, had) in others.iter().zip(&theirs) {
        assert_eq!(&ids(&all_history(&mut store, conversation)), had, "{conversation} lost history");
    }
    // Stored: a continuous run ending with the newest.
    let stored = ids(&all_history(&mut store, "group:long"));
    let from = 1000 - stored.len();
    assert_eq!(stored, (from..1000).map(|i| format!("l{i:04}")).collect::<Vec<_>>());
    assert_eq!(stored.len(), 1000 - not_kept);

    // New messages after that evict the fetched history first, from its oldest, not the other conversations.
    for i in 1000..1200 {
        store.insert(long(i)).unwrap();
    }
    for (conversation, had) in others.iter().zip(&theirs) {
        assert_eq!(&ids(&all_history(&mut store, conversation)), had, "{conversation} lost history");
    }
    let stored = ids(&all_history(&mut store, "group:long"));
    let from = 1200 - stored.len();
    assert_eq!(stored, (from..1200).map(|i| format!("l{i:04}")).collect::<Vec<_>>());
    assert!(store.report().bytes_used <= BUDGET);
    // Deeper pages are no longer stored (no hole), and fetched records already held are repeats.
    assert!(matches!(store.insert_fetched(long(from - 1)).unwrap(), InsertOutcome::NotKept { .. }));
    assert_eq!(store.insert_fetched(long(from)).unwrap(), InsertOutcome::Duplicate);
}
