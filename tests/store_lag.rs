//! Heads that wait: a burst of received records writes each record once and its conversation's head
//! once, when it is over; a storage left with heads that waited (the app killed in the burst) opens
//! as the app had it, and the heads it then writes are the ones the app would have written.
#![cfg(not(target_arch = "wasm32"))]
mod store_common;

use mpchat::store::{InsertOutcome, KeyValue, MemoryStorage, UpdateOutcome};
use mpchat::Result;
use store_common::*;

const PREFIX: &str = "mpchat/2/me/";

fn head_of(mem: &MemoryStorage, conversation: &str) -> serde_json::Value {
    serde_json::from_str(mem.peek(&format!("{PREFIX}h/{conversation}")).unwrap_or("null")).unwrap()
}

/// What pages show of a store: the list (conversation, newest id, unread, mention, time), the unread
/// total, every conversation's history, and whether the bytes counted are the bytes stored.
fn shown(mem: &mut MemoryStorage, conversations: &[&str]) -> (Vec<(String, String, u64, bool, i64)>, u64, Vec<Vec<String>>) {
    let mut store = open(&mut *mem);
    let list = store
        .conversations()
        .unwrap()
        .into_iter()
        .map(|s| (s.conversation, s.last.id, s.unread, s.mentions_me, s.updated_at))
        .collect();
    let unread = store.unread_total();
    let histories = conversations.iter().map(|c| ids(&all_history(&mut store, c))).collect();
    let bytes = store.report().bytes_used;
    drop(store);
    assert_eq!(bytes, mem.bytes_under(PREFIX), "the bytes counted are the bytes stored");
    (list, unread, histories)
}

#[test]
fn a_burst_writes_each_record_once_and_the_head_when_it_is_over() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    assert_eq!(store.insert(rec("group:g1", "m00", 0, "bob", "first")).unwrap(), InsertOutcome::Stored);
    let calls = store.backend().kv().calls();
    for i in 1..20 {
        assert_eq!(store.insert(rec("group:g1", &format!("m{i:02}"), i, "bob", "hi")).unwrap(), InsertOutcome::Stored);
    }
    assert_eq!(store.backend().kv().calls() - calls, 19, "one write a record, nothing else");
    assert!(store.heads_waiting());
    assert_eq!(head_of(store.backend().kv(), "group:g1")["n"], 1, "the head names the first record only");
    assert_eq!(store.write_waiting(), None);
    assert!(!store.heads_waiting());
    assert_eq!(store.backend().kv().calls() - calls, 20, "and the head once");
    let head = head_of(store.backend().kv(), "group:g1");
    assert_eq!((head["n"].clone(), head["u"].clone()), (20.into(), 20.into()));
    // Any change but an append writes the head with it.
    let calls = store.backend().kv().calls();
    assert!(matches!(store.mark_read("group:g1").unwrap(), UpdateOutcome::Updated));
    assert!(!store.heads_waiting());
    assert_eq!(head_of(store.backend().kv(), "group:g1")["u"], 0);
    assert_eq!(store.backend().kv().calls() - calls, 1);
}

#[test]
fn a_storage_left_with_heads_waiting_opens_as_the_app_had_it() {
    let conversations = ["group:g1", "group:g2", "single:bob"];
    let mut mem = memory();
    let mut store = open(&mut mem);
    for i in 0..150i64 {
        let conversation = conversations[(i % 3) as usize];
        let from = if i % 7 == 0 { "me" } else { "bob" };
        // Late ones go into sealed chunks, and write their heads.
        let time = if i % 29 == 28 { i * 100 - 3000 } else { i * 100 };
        let mut record = sized(conversation, &format!("m{i:03}"), time, from, 300 + (i as usize % 4) * 50);
        record.mentions_me = i % 11 == 0 && from == "bob";
        assert_eq!(store.insert(record).unwrap(), InsertOutcome::Stored);
        if i == 70 {
            store.mark_read("group:g2").unwrap();
        }
        if i == 100 {
            store.recall("m097", "bob").unwrap();
        }
    }
    assert!(store.heads_waiting(), "the burst left heads to write");
    // The app is killed here: storage as it is now ...
    let mut killed = store.backend().kv().clone();
    // ... against the app that wrote its heads before it stopped.
    assert_eq!(store.write_waiting(), None);
    drop(store);
    check_heads_name_what_is_there(&killed, "killed");
    let had = shown(&mut mem, &conversations);
    assert_eq!(had.2.iter().map(Vec::len).sum::<usize>(), 150);
    assert_eq!(shown(&mut killed, &conversations), had, "opening adopts the records the heads did not name");
    // Opening took them in: the heads it writes are the ones the app would have written.
    let mut reopened = open(&mut killed);
    reopened.conversations().unwrap();
    assert_eq!(reopened.write_waiting(), None);
    drop(reopened);
    for conversation in conversations {
        assert_eq!(head_of(&killed, conversation), head_of(&mem, conversation), "{conversation}");
    }
}

/// A storage whose listing of keys throws but for opening's second and third (its check for the
/// previous format and its listing of the heads): opening cannot count the keys, and so cannot tell
/// records its heads do not name.
struct Uncounted<'a> {
    mem: &'a mut MemoryStorage,
    listings: u32,
}

impl KeyValue for Uncounted<'_> {
    fn get(&mut self, key: &str) -> Result<Option<String>> {
        self.mem.get(key)
    }
    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        self.mem.set(key, value)
    }
    fn remove(&mut self, key: &str) -> Result<()> {
        self.mem.remove(key)
    }
    fn keys(&mut self) -> Result<Vec<String>> {
        self.listings += 1;
        match self.listings {
            2 | 3 => self.mem.keys(),
            _ => Err(mpchat::Error::storage("fail:the keys cannot be listed")),
        }
    }
}

#[test]
fn records_a_head_does_not_name_keep_their_numbers_while_the_keys_cannot_be_counted() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    for i in 0..10i64 {
        store.insert(rec("group:g1", &format!("a{i}"), i, "bob", "before")).unwrap();
    }
    assert!(store.heads_waiting());
    drop(store);
    // Killed with its head naming the first record; opened again where the keys cannot be counted.
    let (mut store, report) = open_report(Uncounted { mem: &mut mem, listings: 0 }, "me");
    assert_eq!(report.pending, 1, "the count waits");
    for i in 10..15i64 {
        assert_eq!(store.insert(rec("group:g1", &format!("a{i}"), i, "bob", "after")).unwrap(), InsertOutcome::Stored);
    }
    let page = ids(&store.history("group:g1", None, 50).unwrap());
    assert_eq!(page.len(), 15, "{page:?}");
    assert_eq!(store.write_waiting(), None);
    drop(store);
    let (list, unread, histories) = shown(&mut mem, &["group:g1"]);
    assert_eq!(histories[0].len(), 15, "no record took the number of one on storage: {:?}", histories[0]);
    assert_eq!((list[0].2, unread), (15, 15));
}

#[test]
fn a_head_with_any_other_change_does_not_wait() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    for i in 0..5i64 {
        store.insert(rec("group:g1", &format!("a{i}"), i, "bob", "hi")).unwrap();
    }
    assert_eq!(store.write_waiting(), None);
    // Reading the conversation is kept in memory when its head cannot be written ...
    let next = store.backend().kv().calls() + 1;
    store.backend().kv().fail_call(next);
    assert!(matches!(store.mark_read("group:g1").unwrap(), UpdateOutcome::Unsaved { .. }));
    // ... and the next record's flush writes it: the record alone would not tell it.
    assert_eq!(store.insert(rec("group:g1", "a5", 5, "bob", "new")).unwrap(), InsertOutcome::Stored);
    let killed = store.backend().kv().clone();
    drop(store);
    let mut killed = killed;
    let (list, unread, _) = shown(&mut killed, &["group:g1"]);
    assert_eq!((list[0].2, unread), (1, 1), "the read mark survives the app killed after the record");
}
