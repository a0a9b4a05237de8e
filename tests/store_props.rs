//! Random operation sequences against the store, with faults and reopening, checked for invariants.
//! Native only: wasm-pack test runs tests/wasm.rs.
#![cfg(not(target_arch = "wasm32"))]
mod store_common;

use std::collections::BTreeMap;

use mpchat::store::{TextBackend, InsertOutcome, MemoryStorage, Store, StoreOptions, UpdateOutcome};
use mpchat::Status;
use proptest::prelude::*;
use store_common::*;

const CONVERSATIONS: [&str; 3] = ["group:g", "single:group_g", "single:a/b"];

#[derive(Debug, Clone)]
enum Op {
    Receive {
        conv: usize,
        n: u16,
        time: i64,
        size: usize,
    },
    Send {
        conv: usize,
        n: u16,
        time: i64,
    },
    Ack {
        n: u16,
        delay: i64,
    },
    Fail {
        n: u16,
    },
    Recall {
        n: u16,
    },
    Delivered {
        n: u16,
    },
    MarkRead {
        conv: usize,
    },
    PeerReadAll {
        conv: usize,
    },
    Mute {
        conv: usize,
        on: bool,
    },
    Reopen,
    FaultNextCall,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize, 0..80u16, 0..2000i64, 100..2500usize).prop_map(|(conv, n, time, size)| Op::Receive { conv, n, time, size }),
        3 => (0..3usize, 0..80u16, 0..2000i64).prop_map(|(conv, n, time)| Op::Send { conv, n, time }),
        3 => (0..80u16, -50..50i64).prop_map(|(n, delay)| Op::Ack { n, delay }),
        1 => (0..80u16).prop_map(|n| Op::Fail { n }),
        1 => (0..80u16).prop_map(|n| Op::Recall { n }),
        1 => (0..80u16).prop_map(|n| Op::Delivered { n }),
        1 => (0..3usize).prop_map(|conv| Op::MarkRead { conv }),
        1 => (0..3usize).prop_map(|conv| Op::PeerReadAll { conv }),
        1 => (0..3usize, any::<bool>()).prop_map(|(conv, on)| Op::Mute { conv, on }),
        1 => Just(Op::Reopen),
        1 => Just(Op::FaultNextCall),
    ]
}

type Snapshot = (Vec<Vec<mpchat::Record>>, u64, Vec<(String, u64)>);

fn snapshot(store: &mut TestStore<&mut MemoryStorage>) -> Snapshot {
    let histories = CONVERSATIONS
        .iter()
        .map(|c| all_history(store, c))
        .collect();
    let list = store
        .conversations()
        .unwrap()
        .into_iter()
        .map(|c| (c.conversation, c.unread))
        .collect();
    (histories, store.unread_total(), list)
}

fn reopen(mem: &mut MemoryStorage) -> TestStore<&mut MemoryStorage> {
    mem.heal();
    let (store, report) = Store::open(TextBackend::new(mem), "me", StoreOptions::default()).unwrap();
    assert!(report.skipped_keys.is_empty(), "{:?}", report.skipped_keys);
    store
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_the_store_consistent(ops in proptest::collection::vec(op(), 1..120)) {
        let mut mem = MemoryStorage::with_wx_limits();
        // Ids reported stored, with the id an ack may have re-keyed them to.
        let mut stored: BTreeMap<String, String> = BTreeMap::new();
        let mut local_ids = std::collections::BTreeSet::new();
        let mut store = reopen(&mut mem);
        for op in &ops {
            match op.clone() {
                Op::Receive { conv, n, time, size } => {
                    if let Ok(InsertOutcome::Stored) = store.insert(sized(CONVERSATIONS[conv], &format!("S{n}"), time, "peer", size)) {
                        stored.insert(format!("S{n}"), format!("S{n}"));
                    }
                }
                // The SDK never reuses a local id.
                Op::Send { conv, n, time } if local_ids.insert(n) => {
                    let mut record = rec(CONVERSATIONS[conv], &format!("L{n}"), time, "me", "hello");
                    record.status = Status::Sending;
                    if let Ok(InsertOutcome::Stored) = store.insert(record) {
                        stored.insert(format!("L{n}"), format!("T{n}"));
                    }
                }
                Op::Send { .. } => {}
                Op::Ack { n, delay } => {
                    let time = store.history_contains(&format!("L{n}")).map(|t| t + delay);
                    let _ = store.ack_sent(&format!("L{n}"), &format!("T{n}"), time);
                }
                Op::Fail { n } => { let _ = store.mark_failed(&format!("L{n}")); }
                Op::Recall { n } => { let _ = store.recall(&format!("S{n}"), "peer"); }
                Op::Delivered { n } => { let _ = store.mark_delivered(&format!("T{n}")); }
                Op::MarkRead { conv } => { let _ = store.mark_read(CONVERSATIONS[conv]); }
                Op::PeerReadAll { conv } => { let _ = store.peer_read_all(CONVERSATIONS[conv]); }
                Op::Mute { conv, on } => { let _ = store.mute(CONVERSATIONS[conv], on); }
                Op::Reopen => {
                    drop(store);
                    store = reopen(&mut mem);
                }
                Op::FaultNextCall => {
                    drop(store);
                    mem.fail_call(mem.calls() + 1);
                    // The open after a fault may itself fail: that is a failed start, tried again.
                    store = match Store::open(TextBackend::new(&mut mem), "me", StoreOptions::default()) {
                        Ok((s, _)) => s,
                        Err(_) => reopen(&mut mem),
                    };
                }
            }
            // Invariants at every step: order, no duplicates, nothing reported stored missing.
            let histories: Vec<_> = CONVERSATIONS.iter().map(|c| all_history(&mut store, c)).collect();
            let mut seen = BTreeMap::new();
            for history in &histories {
                for pair in history.windows(2) {
                    prop_assert!((pair[0].time, &pair[0].id) < (pair[1].time, &pair[1].id));
                }
                for r in history {
                    prop_assert!(seen.insert(r.id.clone(), ()).is_none(), "duplicate {}", r.id);
                }
            }
            for (id, rekeyed) in &stored {
                prop_assert!(seen.contains_key(id) || seen.contains_key(rekeyed), "{} missing after {:?}", id, op);
            }
            for id in seen.keys().filter(|id| id.starts_with('L')) {
                prop_assert!(!seen.contains_key(&id.replacen('L', "T", 1)), "{} and its server id", id);
            }
            let unsaved = store.report().unsaved;
            if unsaved == 0 {
                // Everything is on storage: a fresh open sees exactly the same store.
                let before = snapshot(&mut store);
                drop(store);
                store = reopen(&mut mem);
                prop_assert_eq!(snapshot(&mut store), before);
            }
        }
        prop_assert!(store.report().bytes_used <= StoreOptions::default().total_bytes);
    }
}

/// Looks up a record's time through history (test helper).
trait HistoryLookup {
    fn history_contains(&mut self, id: &str) -> Option<i64>;
}

impl HistoryLookup for TestStore<&mut MemoryStorage> {
    fn history_contains(&mut self, id: &str) -> Option<i64> {
        CONVERSATIONS
            .iter()
            .flat_map(|c| all_history(self, c))
            .find(|r| r.id == id)
            .map(|r| r.time)
    }
}

#[test]
fn unsaved_outcomes_become_durable_with_the_next_operation() {
    let mut mem = MemoryStorage::with_wx_limits();
    let mut store = reopen(&mut mem);
    store.insert(rec("group:g", "m1", 1, "peer", "x")).unwrap();
    drop(store);
    // The insert's last call (its head's write) fails: found by a run on a copy.
    let mut probe = mem.clone();
    let mut probe_store = reopen(&mut probe);
    probe_store.insert(rec("group:g", "m2", 2, "peer", "x")).unwrap();
    drop(probe_store);
    mem.fail_call(probe.calls());
    let mut store = Store::open(TextBackend::new(&mut mem), "me", StoreOptions::default())
        .unwrap()
        .0;
    let outcome = store.insert(rec("group:g", "m2", 2, "peer", "x")).unwrap();
    assert!(
        matches!(outcome, InsertOutcome::Unsaved { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        ids(&store.history("group:g", None, 10).unwrap()),
        ["m1", "m2"],
        "kept in memory"
    );
    assert_eq!(store.report().unsaved, 1);
    assert_eq!(store.mark_read("group:g").unwrap(), UpdateOutcome::Updated);
    assert_eq!(store.report().unsaved, 0);
    drop(store);
    let mut store = reopen(&mut mem);
    assert_eq!(
        ids(&store.history("group:g", None, 10).unwrap()),
        ["m1", "m2"]
    );
}
