//! Removing records on this phone: one record, a conversation's records, a whole conversation; their
//! effects on unread counts, marks, the list, sends in flight and the budget; restarts; every fault
//! point of each removal. Native only: wasm-pack test runs tests/wasm.rs.
#![cfg(not(target_arch = "wasm32"))]
mod store_common;

use mpchat::store::{Fault, KeyValue, MemoryStorage, Store, StoreOptions, TextBackend, UpdateOutcome};
use mpchat::{Record, Status};
use store_common::*;

const PREFIX: &str = "mpchat/2/me/";

fn keys_of(mem: &MemoryStorage, part: &str) -> Vec<String> {
    mem.key_list().into_iter().filter(|k| k.starts_with(&format!("{PREFIX}{part}"))).collect()
}

fn history_ids<K: KeyValue>(store: &mut TestStore<K>, conversation: &str) -> Vec<String> {
    ids(&all_history(store, conversation))
}

fn mention(conversation: &str, id: &str, time: i64) -> Record {
    Record { mentions_me: true, ..rec(conversation, id, time, "bob", "@me") }
}

/// group:g: 40 incoming records g00..g39 (32 sealed in one chunk, 8 loose); single:bob: 3 records.
fn seeded() -> MemoryStorage {
    let mut mem = memory();
    {
        let mut store = open(&mut mem);
        for i in 0..40 {
            store.insert(sized("group:g", &format!("g{i:02}"), i * 10, "bob", 300)).unwrap();
        }
        for i in 0..3 {
            store.insert(rec("single:bob", &format!("b{i}"), 1000 + i, "bob", "hi")).unwrap();
        }
        // Written as the app's timer writes them: the bytes the tests compare are the heads' final ones.
        assert_eq!(store.write_waiting(), None);
    }
    assert_eq!((keys_of(&mem, "c/group:g/").len(), keys_of(&mem, "r/group:g/").len()), (1, 8), "the layout the tests start from");
    mem
}

/// The store's byte count equals storage's, in this session and after reopening.
fn assert_accounted(mut store: TestStore<&mut MemoryStorage>, context: &str) {
    let used = store.report().bytes_used;
    let mem: &mut MemoryStorage = store.backend().kv();
    assert_eq!(used, mem.bytes_under(PREFIX), "{context}: byte count in session");
    let reopened = Store::open(TextBackend::new(&mut *mem), "me", StoreOptions::default()).unwrap().0.report().bytes_used;
    assert_eq!(reopened, mem.bytes_under(PREFIX), "{context}: byte count after reopening");
}

fn without(all: &[String], gone: &[&str]) -> Vec<String> {
    all.iter().filter(|id| !gone.contains(&id.as_str())).cloned().collect()
}

#[test]
fn removing_a_loose_record_leaves_a_hole_and_it_stays_gone() {
    let mut mem = seeded();
    let mut store = open(&mut mem);
    let before = history_ids(&mut store, "group:g");
    let loose_keys = keys_of(store.backend().kv(), "r/group:g/").len();
    assert_eq!(store.remove("g35").unwrap(), UpdateOutcome::Updated);
    assert_eq!(history_ids(&mut store, "group:g"), without(&before, &["g35"]));
    assert_eq!(keys_of(store.backend().kv(), "r/group:g/").len(), loose_keys - 1, "its key is gone");
    assert_eq!(store.get("g35").unwrap(), None);
    assert_eq!(store.remove("g35").unwrap(), UpdateOutcome::NotFound, "removed once");
    assert_accounted(store, "loose");
    let mut store = open(&mut mem);
    assert_eq!(history_ids(&mut store, "group:g"), without(&before, &["g35"]), "not back after a restart");
    // The conversation goes on: new records store and seal as before.
    for i in 40..80 {
        store.insert(sized("group:g", &format!("g{i:02}"), i * 10, "bob", 300)).unwrap();
    }
    assert_eq!(history_ids(&mut store, "group:g").len(), 79);
    assert_accounted(store, "loose, then sealing");
}

#[test]
fn removing_a_sealed_record_rewrites_its_chunk() {
    let mut mem = seeded();
    let chunk = keys_of(&mem, "c/group:g/")[0].clone();
    let mut store = open(&mut mem);
    let before = history_ids(&mut store, "group:g");
    assert_eq!(store.remove("g05").unwrap(), UpdateOutcome::Updated);
    assert!(!store.backend().kv().peek(&chunk).unwrap().contains("\"g05\""), "the chunk is written without it");
    assert_eq!(history_ids(&mut store, "group:g"), without(&before, &["g05"]));
    assert_accounted(store, "sealed");
    let mut store = open(&mut mem);
    assert_eq!(history_ids(&mut store, "group:g"), without(&before, &["g05"]));
    assert_eq!(store.history("group:g", Some("g07"), 2).unwrap().iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["g04", "g06"]);
}

#[test]
fn removing_the_last_record_of_a_chunk_removes_the_chunk() {
    let mut mem = seeded();
    let mut store = open(&mut mem);
    all_history(&mut store, "group:g");
    for i in 0..32 {
        assert_eq!(store.remove(&format!("g{i:02}")).unwrap(), UpdateOutcome::Updated, "g{i:02}");
    }
    assert!(keys_of(store.backend().kv(), "c/group:g/").is_empty(), "the emptied chunk is removed");
    let loose: Vec<String> = (32..40).map(|i| format!("g{i:02}")).collect();
    assert_eq!(history_ids(&mut store, "group:g"), loose);
    // A late record older than everything left still finds its place.
    store.insert(rec("group:g", "late", 5, "bob", "late")).unwrap();
    assert_eq!(history_ids(&mut store, "group:g")[0], "late");
    assert_accounted(store, "emptied chunk");
    let mut store = open(&mut mem);
    assert_eq!(history_ids(&mut store, "group:g").len(), 9);
}

#[test]
fn the_list_unread_count_and_mention_mark_follow_removals() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    store.insert(rec("group:g", "a", 1, "bob", "a")).unwrap();
    store.insert(mention("group:g", "m1", 2)).unwrap();
    store.insert(mention("group:g", "m2", 3)).unwrap();
    store.insert(rec("group:g", "mine", 4, "me", "mine")).unwrap();
    store.insert(rec("single:bob", "b", 3, "bob", "b")).unwrap();
    let row = |store: &mut TestStore<&mut MemoryStorage>| {
        store.conversations().unwrap().into_iter().find(|c| c.conversation == "group:g").map(|c| (c.last.id, c.unread, c.mentions_me))
    };
    assert_eq!(row(&mut store), Some(("mine".to_string(), 3, true)));
    // The newest record goes: the list shows the one before; my own record counted no unread.
    assert_eq!(store.remove("mine").unwrap(), UpdateOutcome::Updated);
    assert_eq!(row(&mut store), Some(("m2".to_string(), 3, true)));
    assert_eq!(store.conversations().unwrap()[0].conversation, "group:g", "still newest");
    // The newest mention goes: the older one still marks the conversation.
    assert_eq!(store.remove("m2").unwrap(), UpdateOutcome::Updated);
    assert_eq!(row(&mut store), Some(("m1".to_string(), 2, true)));
    assert_eq!(store.conversations().unwrap()[0].conversation, "single:bob", "the list reorders by the last record");
    assert_eq!(store.remove("m1").unwrap(), UpdateOutcome::Updated);
    assert_eq!(row(&mut store), Some(("a".to_string(), 1, false)), "no unread mention is left");
    assert_eq!(store.unread_total(), 2);
    drop(store);
    let mut store = open(&mut mem);
    assert_eq!(row(&mut store), Some(("a".to_string(), 1, false)), "after a restart");
    // The last record goes: the conversation leaves the list, its unread with it.
    assert_eq!(store.remove("a").unwrap(), UpdateOutcome::Updated);
    assert_eq!(row(&mut store), None);
    assert_eq!(store.unread_total(), 1);
    assert_eq!(store.report().conversations, 1);
    // A new record brings it back.
    store.insert(rec("group:g", "again", 9, "bob", "again")).unwrap();
    assert_eq!(row(&mut store), Some(("again".to_string(), 1, false)));
    assert_accounted(store, "list");
}

#[test]
fn removing_a_read_record_leaves_unread_alone() {
    let mut store = open(memory());
    store.insert(rec("group:g", "a", 1, "bob", "a")).unwrap();
    store.mark_read("group:g").unwrap();
    store.insert(rec("group:g", "b", 2, "bob", "b")).unwrap();
    assert_eq!(store.remove("a").unwrap(), UpdateOutcome::Updated);
    assert_eq!(store.unread_total(), 1, "only the unread record counted");
}

#[test]
fn removing_a_record_being_sent_drops_its_send_name() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    let mut sending = rec("single:bob", "local1", 5, "me", "hi");
    sending.status = Status::Sending;
    store.insert_sending(sending).unwrap();
    assert_eq!(store.sends_in_flight(), ["local1"]);
    assert_eq!(store.remove("local1").unwrap(), UpdateOutcome::Updated);
    assert!(store.sends_in_flight().is_empty());
    assert_eq!(store.send_acked("local1", "srv1", Some(6)).unwrap(), UpdateOutcome::NotFound, "a late ack brings nothing back");
    assert_accounted(store, "send");
    let (mut store, report) = open_report(&mut mem, "me");
    store.fail_interrupted_sends().unwrap();
    assert_eq!(report.failed_sends, 0);
    assert!(all_history(&mut store, "single:bob").is_empty());
}

#[test]
fn clear_removes_every_record_and_keeps_the_conversation() {
    let mut mem = seeded();
    let mut store = open(&mut mem);
    store.mute("group:g", true).unwrap();
    assert_eq!(store.clear("group:g").unwrap(), UpdateOutcome::Updated);
    assert!(all_history(&mut store, "group:g").is_empty());
    assert_eq!(store.conversations().unwrap().iter().map(|c| c.conversation.as_str()).collect::<Vec<_>>(), ["single:bob"]);
    assert_eq!(store.unread_total(), 3);
    assert_eq!(store.get("g39").unwrap(), None);
    let kv = store.backend().kv();
    assert!(keys_of(kv, "c/group:g/").is_empty() && keys_of(kv, "r/group:g/").is_empty(), "every record key goes");
    assert_eq!(keys_of(kv, "h/group:g").len(), 1, "the head stays");
    assert_eq!(store.clear("group:g").unwrap(), UpdateOutcome::Unchanged);
    assert_eq!(store.clear("group:nobody").unwrap(), UpdateOutcome::NotFound);
    assert_accounted(store, "clear");
    let mut store = open(&mut mem);
    assert!(all_history(&mut store, "group:g").is_empty(), "not back after a restart");
    assert_eq!(all_history(&mut store, "single:bob").len(), 3);
    // Still known: its state (muted) stays, and new records count from zero.
    store.insert(rec("group:g", "new", 5000, "bob", "new")).unwrap();
    let row = store.conversations().unwrap().into_iter().find(|c| c.conversation == "group:g").unwrap();
    assert_eq!((row.last.id.as_str(), row.unread, row.muted), ("new", 0, true));
    assert_accounted(store, "clear, then a record");
}

#[test]
fn clear_of_an_unread_conversation_zeroes_its_unread() {
    let mut store = open(memory());
    store.insert(mention("group:g", "m", 1)).unwrap();
    assert_eq!(store.unread_total(), 1);
    assert_eq!(store.clear("group:g").unwrap(), UpdateOutcome::Updated);
    assert_eq!(store.unread_total(), 0);
    store.insert(rec("group:g", "n", 2, "bob", "n")).unwrap();
    let row = store.conversations().unwrap().remove(0);
    assert_eq!((row.unread, row.mentions_me), (1, false));
}

#[test]
fn remove_conversation_removes_its_head_and_every_key() {
    let mut mem = seeded();
    let mut store = open(&mut mem);
    assert_eq!(store.remove_conversation("group:g").unwrap(), UpdateOutcome::Updated);
    assert!(keys_of(store.backend().kv(), "").iter().all(|k| !k.contains("group:g")), "{:?}", keys_of(store.backend().kv(), ""));
    assert_eq!(store.conversations().unwrap().len(), 1);
    assert_eq!(store.remove_conversation("group:g").unwrap(), UpdateOutcome::NotFound);
    assert_eq!(store.remove_conversation("single:nobody").unwrap(), UpdateOutcome::NotFound);
    assert!(store.remove_conversation("no kind").is_err(), "a bad name is an error");
    assert_accounted(store, "remove conversation");
    let (mut store, report) = open_report(&mut mem, "me");
    assert_eq!((report.conversations, report.rebuilt), (1, 0));
    assert!(all_history(&mut store, "group:g").is_empty());
    store.insert(rec("group:g", "fresh", 1, "bob", "x")).unwrap();
    assert_eq!(history_ids(&mut store, "group:g"), ["fresh"]);
    assert_accounted(store, "a new conversation of the same name");
}

#[test]
fn removals_free_their_bytes_in_the_budget() {
    let mut mem = seeded();
    let mut store = open(&mut mem);
    let full = store.report().bytes_used;
    assert_eq!(store.remove("g05").unwrap(), UpdateOutcome::NotFound, "records not read this session are not found");
    all_history(&mut store, "group:g");
    assert_eq!(store.remove("g05").unwrap(), UpdateOutcome::Updated);
    assert_eq!(store.remove("g38").unwrap(), UpdateOutcome::Updated);
    let after_two = store.report().bytes_used;
    assert!(after_two + 600 < full, "{after_two} vs {full}");
    assert_eq!(store.clear("single:bob").unwrap(), UpdateOutcome::Updated);
    assert_eq!(store.remove_conversation("group:g").unwrap(), UpdateOutcome::Updated);
    let report = store.report();
    assert!(report.bytes_used < 600, "{report:?}");
    assert_eq!(report.unsaved, 0);
    assert_accounted(store, "budget");
}

#[test]
fn a_read_that_throws_removes_nothing() {
    // g02 and g39 mention me: removing g39 looks for the older mention in the sealed chunk.
    let mut seed = memory();
    {
        let mut store = open(&mut seed);
        for i in 0..40 {
            let record = match i {
                2 | 39 => mention("group:g", &format!("g{i:02}"), i * 10),
                _ => sized("group:g", &format!("g{i:02}"), i * 10, "bob", 300),
            };
            store.insert(record).unwrap();
        }
    }
    for op in ["remove", "clear", "removeConversation"] {
        let mut mem = seed.clone();
        let mut store = open(&mut mem);
        // The loose records are read (their ids known); the chunk is not.
        assert_eq!(store.history("group:g", None, 5).unwrap().len(), 5);
        store.backend().kv().flaky_reads(1, 0);
        let result = match op {
            "remove" => store.remove("g39"),
            "clear" => store.clear("group:g"),
            _ => store.remove_conversation("group:g"),
        };
        let err = result.expect_err(op).to_string();
        assert!(err.contains("nothing was removed"), "{op}: {err}");
        store.backend().kv().heal();
        assert_eq!(all_history(&mut store, "group:g").len(), 40, "{op}: nothing removed in memory");
        let row = store.conversations().unwrap().remove(0);
        assert_eq!((row.last.id.as_str(), row.unread, row.mentions_me), ("g39", 40, true), "{op}");
        assert_accounted(store, op);
        let mut store = open(&mut mem);
        assert_eq!(all_history(&mut store, "group:g").len(), 40, "{op}: nothing removed on storage");
        // Once storage reads again, the removal goes through.
        let outcome = match op {
            "remove" => store.remove("g39"),
            "clear" => store.clear("group:g"),
            _ => store.remove_conversation("group:g"),
        };
        assert_eq!(outcome.unwrap(), UpdateOutcome::Updated, "{op}");
        if op == "remove" {
            let row = store.conversations().unwrap().remove(0);
            assert_eq!((row.last.id.as_str(), row.unread, row.mentions_me), ("g38", 39, true), "{op}: g02 still mentions me");
        }
        assert_accounted(store, op);
    }
}

/// A removal swept over its fault points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    RemoveLoose,
    RemoveSealed,
    /// The last loose record but one, then the newest record: the head's loose range empties.
    RemoveLastLoose,
    Clear,
    RemoveConversation,
}

impl Op {
    /// The records of group:g it removes.
    fn gone(self) -> Vec<String> {
        match self {
            Op::RemoveLoose => vec!["g36".into()],
            Op::RemoveSealed => vec!["g05".into()],
            Op::RemoveLastLoose => vec!["g39".into()],
            Op::Clear | Op::RemoveConversation => (0..40).map(|i| format!("g{i:02}")).collect(),
        }
    }

    fn run<K: KeyValue>(self, store: &mut TestStore<K>) -> mpchat::Result<UpdateOutcome> {
        match self {
            Op::RemoveLoose => store.remove("g36"),
            Op::RemoveSealed => store.remove("g05"),
            Op::RemoveLastLoose => store.remove("g39"),
            Op::Clear => store.clear("group:g"),
            Op::RemoveConversation => store.remove_conversation("group:g"),
        }
    }

    /// The state each run starts from: group:g read, and for `RemoveLastLoose` all loose records but
    /// the newest removed.
    fn prepare(self, mem: &mut MemoryStorage) {
        if self == Op::RemoveLastLoose {
            let mut store = open(&mut *mem);
            all_history(&mut store, "group:g");
            for i in 32..39 {
                assert_eq!(store.remove(&format!("g{i:02}")).unwrap(), UpdateOutcome::Updated);
            }
        }
    }
}

/// Every storage call of each removal made to throw (doing nothing, or after taking effect), the
/// app going on or killed there: the healed storage opens with nothing named missing and nothing
/// skipped, its byte count is the store's, the removal happened whole or not at all (whole when it
/// said `updated`), and no other record is lost.
#[test]
fn every_fault_point_of_each_removal() {
    for op in [Op::RemoveLoose, Op::RemoveSealed, Op::RemoveLastLoose, Op::Clear, Op::RemoveConversation] {
        let mut seed = seeded();
        op.prepare(&mut seed);
        let all: Vec<String> = history_ids(&mut open(&mut seed.clone()), "group:g");
        let gone = op.gone();
        // A healthy run: how many storage calls the removal makes.
        let calls = {
            let mut mem = seed.clone();
            let mut store = open(&mut mem);
            all_history(&mut store, "group:g");
            let from = store.backend().kv().calls();
            assert_eq!(op.run(&mut store).unwrap(), UpdateOutcome::Updated, "{op:?}");
            store.backend().kv().calls() - from
        };
        assert!(calls >= 2, "{op:?}: {calls} calls");
        for (fault, killed) in [(Fault::Throw, false), (Fault::Throw, true), (Fault::AfterEffect, false), (Fault::AfterEffect, true)] {
            for k in 1..=calls {
                let context = format!("{op:?}, {fault:?} at call {k} of {calls}, {}", if killed { "killed" } else { "continued" });
                let mut mem = seed.clone();
                let outcome = {
                    let mut store = open(&mut mem);
                    all_history(&mut store, "group:g");
                    let kv = store.backend().kv();
                    let at = kv.calls() + k;
                    kv.fault_at(at, fault);
                    if killed {
                        kv.kill_on_fault();
                    }
                    let outcome = op.run(&mut store);
                    if !killed {
                        // The app goes on: the next operation retries what was left unsaved.
                        store.insert(rec("single:bob", "after", 5000, "bob", "after")).unwrap();
                        let report = store.report();
                        if report.unsaved == 0 {
                            assert_eq!(report.bytes_used, store.backend().kv().bytes_under(PREFIX), "{context}: in session");
                        }
                    }
                    outcome
                };
                mem.heal();
                check_heads_name_what_is_there(&mem, &context);
                let (mut store, report) = open_report(&mut mem, "me");
                assert!(report.skipped_keys.is_empty(), "{context}: {:?}", report.skipped_keys);
                let left = history_ids(&mut store, "group:g");
                let kept: Vec<&String> = all.iter().filter(|id| !gone.contains(id)).collect();
                for id in &kept {
                    assert!(left.contains(id), "{context}: {id}, not removed, is lost");
                }
                let removed = gone.iter().filter(|id| !left.contains(id)).count();
                assert!(removed == 0 || removed == gone.len(), "{context}: {removed} of {} removed", gone.len());
                if matches!(outcome, Ok(UpdateOutcome::Updated)) {
                    assert_eq!(removed, gone.len(), "{context}: reported removed, back after a restart");
                }
                if op == Op::RemoveConversation && matches!(outcome, Ok(UpdateOutcome::Updated)) {
                    assert!(store.backend().kv().peek(&format!("{PREFIX}h/group:g")).is_none(), "{context}: head left");
                }
                assert_eq!(all_history(&mut store, "single:bob").len(), if killed { 3 } else { 4 }, "{context}");
                assert_accounted(store, &context);
            }
        }
    }
}

