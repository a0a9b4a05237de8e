//! Edits and reactions in the store: which records change, how they read back from storage (sealed
//! chunks and loose records), after reopening, and that the budget counts exactly what is stored.
#![cfg(not(target_arch = "wasm32"))]
mod store_common;

use mpchat::store::{EditRequest, Ignored, MemoryStorage, Reaction, UpdateOutcome, MAX_REACTIONS};
use serde_json::{json, Value};
use store_common::*;

const PREFIX: &str = "mpchat/2/me/";

/// The stored JSON of record `id`, and whether it is inside a sealed chunk.
fn stored(mem: &MemoryStorage, id: &str) -> (Value, bool) {
    for key in mem.key_list() {
        let Ok(value) = serde_json::from_str::<Value>(mem.peek(&key).unwrap_or("")) else { continue };
        if value["id"] == id {
            return (value, false);
        }
        if let Some(records) = value["r"].as_array() {
            if let Some(r) = records.iter().find(|r| r["id"] == id) {
                return (r.clone(), true);
            }
        }
    }
    panic!("record {id} is not on storage");
}

fn edit<'a>(text: &'a str, by: &'a str, time: i64, count: Option<u64>) -> EditRequest<'a> {
    EditRequest { text, by, time, count, mine_only: false }
}

fn mine<'a>(text: &'a str, time: i64) -> EditRequest<'a> {
    EditRequest { text, by: "me", time, count: None, mine_only: true }
}

fn reaction(name: &str, count: u64, mine: bool) -> Reaction {
    Reaction { reaction: name.into(), count, mine }
}

/// 60 records in group:g, alternately mine and bob's: the oldest end up in sealed chunks, the newest loose.
fn filled(mem: &mut MemoryStorage) {
    let mut store = open(&mut *mem);
    for i in 0..60 {
        let from = if i % 2 == 0 { "me" } else { "bob" };
        store.insert(rec("group:g", &format!("m{i}"), 1000 + i, from, &format!("text {i}"))).unwrap();
    }
}

#[test]
fn edits_change_sealed_and_loose_records_and_survive_reopening() {
    let mut mem = memory();
    filled(&mut mem);
    assert!(stored(&mem, "m0").1, "m0 is sealed");
    assert!(!stored(&mem, "m58").1, "m58 is loose");
    {
        let mut store = open(&mut mem);
        all_history(&mut store, "group:g");
        for id in ["m0", "m58"] {
            assert_eq!(store.edit(id, mine(&format!("{id} edited"), 5000), false).unwrap(), Ok(UpdateOutcome::Updated), "{id}");
        }
        // bob edits his own (an event, with the server's count); the same event again changes nothing.
        assert_eq!(store.edit("m1", edit("bob's new text", "bob", 6000, Some(1)), false).unwrap(), Ok(UpdateOutcome::Updated));
        assert_eq!(store.edit("m1", edit("bob's new text", "bob", 6000, Some(1)), false).unwrap(), Ok(UpdateOutcome::Unchanged));
        assert_eq!(store.edit("m58", mine("m58 edited twice", 7000), false).unwrap(), Ok(UpdateOutcome::Updated));
        let accounted = store.report().bytes_used;
        drop(store);
        assert_eq!(accounted, mem.bytes_under(PREFIX), "byte accounting after edits");
    }
    let (m0, sealed) = stored(&mem, "m0");
    assert!(sealed);
    assert_eq!((&m0["text"], &m0["edited"]), (&json!("m0 edited"), &json!({ "count": 1, "time": 5000, "by": "me" })));
    let (m58, sealed) = stored(&mem, "m58");
    assert!(!sealed);
    assert_eq!((&m58["text"], &m58["edited"]), (&json!("m58 edited twice"), &json!({ "count": 2, "time": 7000, "by": "me" })));
    assert_eq!(stored(&mem, "m1").0["edited"], json!({ "count": 1, "time": 6000, "by": "bob" }));

    // Reopened: the edits read back, and a further edit counts on from the stored count.
    let mut store = open(&mut mem);
    let history = all_history(&mut store, "group:g");
    assert_eq!(history.len(), 60);
    assert_eq!(history[0].text.as_deref(), Some("m0 edited"));
    assert_eq!(history[58].text.as_deref(), Some("m58 edited twice"));
    assert_eq!(store.edit("m0", mine("m0 once more", 8000), false).unwrap(), Ok(UpdateOutcome::Updated));
    let accounted = store.report().bytes_used;
    drop(store);
    assert_eq!(stored(&mem, "m0").0["edited"]["count"], json!(2));
    assert_eq!(accounted, mem.bytes_under(PREFIX));
}

#[test]
fn edits_that_do_not_apply_say_why_and_change_nothing() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    store.insert(rec("single:bob", "in", 1, "bob", "theirs")).unwrap();
    store.insert(rec("single:bob", "out", 2, "me", "mine")).unwrap();
    store.insert(rec("single:bob", "gone", 3, "me", "recalled")).unwrap();
    let mut image = rec("single:bob", "img", 4, "me", "");
    image.msg_type = mpchat::MsgType::Img;
    image.text = None;
    store.insert(image).unwrap();
    store.recall("gone", "me").unwrap();
    let before = mem_snapshot(&mut store);
    assert_eq!(store.edit("nope", mine("x", 1), false).unwrap(), Err(Ignored::NotFound));
    assert_eq!(store.edit("in", mine("x", 1), false).unwrap(), Err(Ignored::NotMine));
    assert_eq!(store.edit("gone", mine("x", 1), false).unwrap(), Err(Ignored::Recalled));
    assert_eq!(store.edit("gone", edit("x", "me", 1, Some(1)), false).unwrap(), Err(Ignored::Recalled));
    assert_eq!(store.edit("img", edit("x", "me", 1, Some(1)), false).unwrap(), Err(Ignored::NotText("img".into())));
    let long = "x".repeat(64 * 1024 + 1);
    assert_eq!(store.edit("out", mine(&long, 1), false).unwrap(), Err(Ignored::TooLong(long.len())));
    // A check changes nothing: it says the edit would apply.
    assert_eq!(store.edit("out", mine("fine", 1), true).unwrap(), Ok(UpdateOutcome::Updated));
    assert_eq!(mem_snapshot(&mut store), before);
    // Someone else's edit of a message of theirs applies (an event).
    assert_eq!(store.edit("in", edit("theirs, edited", "bob", 9, Some(1)), false).unwrap(), Ok(UpdateOutcome::Updated));
    for reason in [Ignored::NotFound, Ignored::Recalled, Ignored::NotSent, Ignored::TooManyReactions, Ignored::BadReaction] {
        assert!(!reason.reason().is_empty());
    }
}

fn mem_snapshot<K: mpchat::store::KeyValue>(store: &mut TestStore<K>) -> Vec<(Option<String>, u64)> {
    all_history(store, "single:bob").iter().map(|r| (r.text.clone(), r.time as u64)).collect::<Vec<_>>()
}

#[test]
fn reactions_merge_limit_and_survive_reopening_in_sealed_and_loose_records() {
    let mut mem = memory();
    filled(&mut mem);
    {
        let mut store = open(&mut mem);
        all_history(&mut store, "group:g");
        for id in ["m1", "m59"] {
            assert_eq!(store.react(id, "👍", true, false).unwrap(), Ok(UpdateOutcome::Updated));
            assert_eq!(store.react(id, "👍", true, false).unwrap(), Ok(UpdateOutcome::Unchanged), "already mine");
            let changed = [reaction("👍", 3, true), reaction("🍕", 1, false), reaction("  ", 4, false), reaction("bad\u{7}", 1, false)];
            assert_eq!(store.reactions_changed(id, &changed).unwrap(), Ok(UpdateOutcome::Updated));
            assert_eq!(store.react(id, "👍", false, false).unwrap(), Ok(UpdateOutcome::Updated));
            assert_eq!(store.react(id, "🍕", false, false).unwrap(), Ok(UpdateOutcome::Unchanged), "not mine to take back");
        }
        // The last user takes one back: count 0 removes it.
        assert_eq!(store.reactions_changed("m59", &[reaction("🍕", 0, false)]).unwrap(), Ok(UpdateOutcome::Updated));
        assert_eq!(store.reactions_changed("zz", &[reaction("🍕", 1, false)]).unwrap(), Err(Ignored::NotFound));
        assert_eq!(store.react("m1", "", true, false).unwrap(), Err(Ignored::BadReaction));
        assert_eq!(store.react("m1", &"y".repeat(129), true, false).unwrap(), Err(Ignored::BadReaction));
        let accounted = store.report().bytes_used;
        drop(store);
        assert_eq!(accounted, mem.bytes_under(PREFIX));
    }
    let (m1, sealed) = stored(&mem, "m1");
    assert!(sealed);
    assert_eq!(m1["reactions"], json!([{ "reaction": "👍", "count": 2, "mine": false }, { "reaction": "🍕", "count": 1, "mine": false }]));
    let (m59, sealed) = stored(&mem, "m59");
    assert!(!sealed);
    assert_eq!(m59["reactions"], json!([{ "reaction": "👍", "count": 2, "mine": false }]));

    let mut store = open(&mut mem);
    all_history(&mut store, "group:g");
    let many: Vec<Reaction> = (0..MAX_REACTIONS + 5).map(|i| reaction(&format!("r{i}"), 1, false)).collect();
    assert_eq!(store.reactions_changed("m3", &many).unwrap(), Ok(UpdateOutcome::Updated));
    assert_eq!(store.react("m3", "one more", true, false).unwrap(), Err(Ignored::TooManyReactions));
    assert_eq!(store.react("m3", "r0", true, false).unwrap(), Ok(UpdateOutcome::Updated), "an existing one may be joined");
    // Everything gone: the field goes too.
    let gone: Vec<Reaction> = (0..MAX_REACTIONS).map(|i| reaction(&format!("r{i}"), 0, false)).collect();
    assert_eq!(store.reactions_changed("m3", &gone).unwrap(), Ok(UpdateOutcome::Updated));
    store.recall("m5", "bob").unwrap();
    assert_eq!(store.react("m5", "👍", true, false).unwrap(), Err(Ignored::Recalled));
    let accounted = store.report().bytes_used;
    drop(store);
    assert_eq!(stored(&mem, "m3").0.get("reactions"), None);
    assert_eq!(accounted, mem.bytes_under(PREFIX));
}
