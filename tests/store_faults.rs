//! The store under storage faults, corruption, budget pressure and size limits.
//! Native only: wasm-pack test runs tests/wasm.rs.
#![cfg(not(target_arch = "wasm32"))]
mod store_common;

use std::collections::{BTreeMap, BTreeSet};

use mpchat::store::{Fault, Full, InsertOutcome, KeyValue, MemoryStorage, Store, StoreOptions, TextBackend, UpdateOutcome};
use mpchat::Status;
use store_common::*;

const PREFIX: &str = "mpchat/2/me/";

#[test]
fn corrupted_and_foreign_values_are_skipped_and_reported() {
    let mut seeded = memory();
    {
        let mut store = open(&mut seeded);
        for i in 0..40 {
            store.insert(sized("group:g", &format!("g{i:02}"), i, "bob", 450)).unwrap();
            store.insert(rec("single:bob", &format!("b{i:02}"), i, "bob", "x")).unwrap();
        }
        store.mute("single:carol", true).unwrap();
    }
    let of = |part: &str| -> Vec<String> {
        seeded.key_list().into_iter().filter(|k| k.starts_with(&format!("{PREFIX}{part}"))).collect()
    };
    let (chunk, loose, head) = (of("c/group:g/")[0].clone(), of("r/group:g/")[0].clone(), format!("{PREFIX}h/group:g"));
    let in_chunk = count_records(seeded.peek(&chunk).unwrap());
    assert_eq!((in_chunk, of("r/group:g/").len()), (32, 8), "the layout this test plants into");
    let whole_head = seeded.peek(&head).unwrap().to_string();
    let whole_chunk = seeded.peek(&chunk).unwrap().to_string();
    let mut bad_item = serde_json::from_str::<serde_json::Value>(&whole_chunk).unwrap();
    bad_item["r"][0] = serde_json::json!({"id": 5});
    // (what is planted, key, value, group:g records readable, skipped keys, skipped records)
    let table: Vec<(&str, String, String, usize, usize, usize)> = vec![
        ("truncated head: rebuilt from the records", head.clone(), whole_head[..whole_head.len() / 2].into(), 40, 1, 0),
        ("head is a number", head.clone(), "42".into(), 40, 1, 0),
        ("head of a future format", head.clone(), whole_head.replace(r#""v":2"#, r#""v":3"#), 40, 1, 0),
        ("head of another conversation", head.clone(), whole_head.replace(r#""c":"group:g""#, r#""c":"group:h""#), 40, 1, 0),
        ("a loose record that is not one (found when read)", loose.clone(), r#"{"id":5}"#.into(), 39, 0, 0),
        ("a bad record in a chunk", chunk.clone(), bad_item.to_string(), 39, 0, 1),
        ("a chunk truncated (found when read)", chunk.clone(), whole_chunk[..whole_chunk.len() / 2].into(), 8, 0, 0),
        ("state is an array", format!("{PREFIX}s"), "[1,2]".into(), 40, 1, 0),
        ("foreign key under the prefix", format!("{PREFIX}zzz"), r#"{"a":1}"#.into(), 40, 1, 0),
        ("chunk key with a bad sequence", format!("{PREFIX}c/group:g/012"), "{}".into(), 40, 1, 0),
        ("chunk of an unparsable conversation", format!("{PREFIX}c/nokind/4294967296"), "{}".into(), 40, 1, 0),
        ("another user's garbage", "mpchat/2/you/c/group:g/4294967296".into(), "garbage".into(), 40, 0, 0),
    ];
    for (what, key, value, readable, skipped_keys, skipped_records) in table {
        let mut mem = seeded.clone();
        mem.plant(&key, &value);
        let (mut store, report) = open_report(&mut mem, "me");
        assert_eq!(report.skipped_keys.len(), skipped_keys, "{what}: {:?}", report.skipped_keys);
        let history = all_history(&mut store, "group:g");
        assert_eq!(history.len(), readable, "{what}");
        let found_later = usize::from(what.contains("found when read"));
        assert_eq!(store.report().skipped_corrupt as usize, skipped_keys + found_later, "{what}");
        assert_eq!(store.report().skipped_records, skipped_records as u64, "{what}");
        assert_eq!(report.skipped_records, 0, "{what}: opening reads no chunk");
        assert_eq!(store.conversations().unwrap().len(), 2, "{what}");
        assert_eq!(all_history(&mut store, "single:bob").len(), 40, "{what}");
        // The store keeps working: new messages store and read back after reopening.
        assert_eq!(store.insert(rec("group:g", "new", 1000, "bob", "x")).unwrap(), InsertOutcome::Stored, "{what}");
        let accounted = store.report().bytes_used;
        drop(store);
        assert_eq!(accounted, mem.bytes_under(PREFIX), "{what}: byte accounting");
        let mut store = open(&mut mem);
        assert_eq!(store.history("group:g", None, 1).unwrap()[0].id, "new", "{what}");
    }
}

fn count_records(chunk: &str) -> usize {
    serde_json::from_str::<serde_json::Value>(chunk).unwrap()["r"].as_array().unwrap().len()
}

#[test]
fn budget_is_never_exceeded_and_evictions_are_reported() {
    let budget = 200 * 1024;
    // The storage itself refuses anything past the budget, so an overshoot at any write would show.
    let mut mem = MemoryStorage::with_limits(1024 * 1024, budget);
    let mut store = open_with(&mut mem, budget);
    let mut evicted = 0u64;
    for i in 0..2000i64 {
        let conversation = ["group:a", "group:b", "single:c"][(i % 3) as usize];
        let out = store
            .insert(sized(conversation, &format!("m{i:04}"), i, "bob", 450))
            .unwrap();
        assert_eq!(out, InsertOutcome::Stored, "message {i}");
        let report = store.report();
        assert!(report.bytes_used <= budget, "{report:?}");
        evicted += store
            .take_evictions()
            .iter()
            .map(|e| e.records)
            .sum::<u64>();
        assert_eq!(
            store.history(conversation, None, 1).unwrap()[0].id,
            format!("m{i:04}"),
            "the newest is kept"
        );
    }
    let report = store.report();
    assert!(evicted > 1000, "{report:?}");
    assert_eq!(report.evicted_records, evicted);
    drop(store);
    assert!(mem.bytes_under(PREFIX) <= budget);
    let mut store = open_with(&mut mem, budget);
    let report = store.report();
    assert_eq!(
        report.evicted_records, evicted,
        "eviction count survives reopening"
    );
    let kept: usize = ["group:a", "group:b", "single:c"]
        .iter()
        .map(|c| all_history(&mut store, c).len())
        .sum();
    assert_eq!(kept as u64 + evicted, 2000);
    drop(store);
    assert_eq!(
        report.bytes_used,
        mem.bytes_under(PREFIX),
        "accounting matches storage after reopen"
    );
}

#[test]
fn idle_conversations_go_whole_when_history_is_not_enough() {
    let budget = 64 * 1024;
    let mut store = open_with(MemoryStorage::with_wx_limits(), budget);
    for i in 0..40i64 {
        store
            .insert(sized(
                &format!("single:p{i:02}"),
                &format!("m{i}"),
                i,
                "bob",
                2000,
            ))
            .unwrap();
    }
    let events = store.take_evictions();
    assert!(events.iter().all(|e| e.whole_conversation) && !events.is_empty());
    let first_gone = &events[0].conversation;
    assert_eq!(
        first_gone, "single:p00",
        "the least recently active goes first"
    );
    let listed = store.conversations().unwrap();
    assert_eq!(listed[0].conversation, "single:p39");
    assert!(store.report().bytes_used <= budget);
}

#[test]
fn per_key_limit_is_never_hit_even_with_64_kib_records() {
    let mut mem = MemoryStorage::with_wx_limits();
    let mut store = open_with(&mut mem, 9 * 1024 * 1024);
    // Appends, then late inserts between them, all 64 KiB.
    for i in 0..40i64 {
        assert_eq!(
            store
                .insert(sized(
                    "group:g",
                    &format!("a{i:02}"),
                    i * 10,
                    "bob",
                    64 * 1024
                ))
                .unwrap(),
            InsertOutcome::Stored
        );
    }
    for i in 0..40i64 {
        assert_eq!(
            store
                .insert(sized(
                    "group:g",
                    &format!("b{i:02}"),
                    i * 10 + 5,
                    "bob",
                    64 * 1024
                ))
                .unwrap(),
            InsertOutcome::Stored
        );
    }
    for i in 0..20i64 {
        assert_eq!(
            store
                .insert(sized("group:g", &format!("c{i:02}"), 5, "bob", 64 * 1024))
                .unwrap(),
            InsertOutcome::Stored
        );
    }
    drop(store);
    assert!(
        mem.largest_entry() < 400 * 1024,
        "largest entry {}",
        mem.largest_entry()
    );
    let mut store = open_with(&mut mem, 9 * 1024 * 1024);
    assert_eq!(all_history(&mut store, "group:g").len(), 100);
}

/// One step of the fault-sweep scenario.
#[derive(Clone, Debug)]
enum Step {
    Insert(Box<mpchat::Record>),
    Ack {
        local: String,
        server: String,
        time: i64,
    },
    Recall(String),
    Read(String),
    /// The app is closed and opened again: a new store on the same storage.
    Reopen,
}

const SWEPT: [&str; 5] = ["group:g1", "group:g2", "single:bob", "single:group_x", "chatroom:r"];

/// 300 messages over five conversations (late ones, sends acknowledged, recalls, reads), with a
/// restart halfway, so that faults also hit the opening of a store that holds history.
fn scenario() -> Vec<Step> {
    scenario_of(300, &SWEPT, 1)
}

/// The sweeps' scenario, small enough to run once per storage call in a debug build: 120 messages
/// over four conversations, three times the size, so that each conversation still seals chunks and
/// takes late messages into them.
fn sweep_scenario() -> Vec<Step> {
    scenario_of(120, &SWEPT[1..], 3)
}

fn scenario_of(messages: i64, conversations: &[&str], scale: usize) -> Vec<Step> {
    let mut steps = Vec::new();
    let n = conversations.len() as i64;
    for i in 0..messages {
        if i == messages / 2 {
            steps.push(Step::Reopen);
        }
        let conversation = conversations[(i * 7 % n) as usize];
        let time = if i % 17 == 0 { i * 100 - 2500 } else { i * 100 };
        if i % 9 == 0 {
            let mut sending = sized(conversation, &format!("local{i}"), time, "me", 300 * scale);
            sending.status = Status::Sending;
            steps.push(Step::Insert(Box::new(sending)));
            steps.push(Step::Ack {
                local: format!("local{i}"),
                server: format!("srv{i:03}"),
                time: time + 30,
            });
        } else {
            steps.push(Step::Insert(Box::new(sized(
                conversation,
                &format!("srv{i:03}"),
                time,
                "peer",
                (300 + (i as usize % 5) * 100) * scale,
            ))));
        }
        if i % 23 == 0 && i > 0 {
            steps.push(Step::Recall(format!("srv{:03}", i - 3)));
        }
        if i % 31 == 0 {
            steps.push(Step::Read(conversation.to_string()));
        }
    }
    steps
}

/// What a run promised: ids reported stored (with their conversation), local ids re-keyed by an
/// acknowledgement, and records evicted (reported) per conversation.
#[derive(Default)]
struct Promises {
    stored: BTreeMap<String, String>,
    gone: BTreeSet<String>,
    evicted: BTreeMap<String, u64>,
    inserts: usize,
    /// The conversation of every record inserted, stored or not.
    conversation_of: BTreeMap<String, String>,
}

/// Runs a step, noting what it promised. Returns false when a storage call failed during the step.
fn run_step<K: KeyValue>(store: &mut TestStore<K>, step: &Step, promised: &mut Promises) -> bool {
    let update_ok = |outcome: mpchat::Result<UpdateOutcome>| matches!(outcome, Ok(o) if !matches!(o, UpdateOutcome::Unsaved { .. }));
    let ok = match step {
        Step::Insert(record) => {
            promised.inserts += 1;
            promised.conversation_of.insert(record.id.clone(), record.conversation.clone());
            match store.insert((**record).clone()) {
                Ok(InsertOutcome::Stored) => {
                    promised.stored.insert(record.id.clone(), record.conversation.clone());
                    true
                }
                Ok(InsertOutcome::Duplicate) => true,
                _ => false,
            }
        }
        Step::Ack { local, server, time } => match store.ack_sent(local, server, Some(*time)) {
            Ok(UpdateOutcome::Updated | UpdateOutcome::Merged) => {
                promised.stored.remove(local);
                let conversation = promised.conversation_of.get(local).cloned().unwrap_or_default();
                promised.stored.insert(server.clone(), conversation);
                promised.gone.insert(local.clone());
                true
            }
            other => update_ok(other),
        },
        Step::Recall(id) => update_ok(store.recall(id, "peer")),
        Step::Read(conversation) => update_ok(store.mark_read(conversation)),
        Step::Reopen => true,
    };
    for event in store.take_evictions() {
        *promised.evicted.entry(event.conversation).or_default() += event.records;
    }
    ok
}

/// Runs the scenario on `mem` as it is armed: opening again at each `Reopen`. A killed run stops
/// once its process is dead (the storage then refuses every call, as an app killed at the fault
/// makes none).
fn run_scenario(mem: &mut MemoryStorage, steps: &[Step], options: &StoreOptions) -> Promises {
    let mut promised = Promises::default();
    let mut store = Some(Store::open(TextBackend::new(&mut *mem), "me", options.clone()).expect("opening never fails on a storage fault").0);
    for step in steps {
        if let Step::Reopen = step {
            // The app is idle before it restarts: heads that waited are written (killed runs die
            // with heads waiting, and opening adopts what they would have named).
            if let Some(mut open) = store.take() {
                open.write_waiting();
                for event in open.take_evictions() {
                    *promised.evicted.entry(event.conversation).or_default() += event.records;
                }
            }
            store = Some(Store::open(TextBackend::new(&mut *mem), "me", options.clone()).expect("opening never fails on a storage fault").0);
        }
        let Some(current) = store.as_mut() else { break };
        run_step(current, step, &mut promised);
        if current.backend().kv().is_dead() {
            break;
        }
    }
    promised
}

/// Opens the healed storage and checks what a run promised: every record reported stored is there
/// (or its conversation reported evicting at least as many records as are missing), in order, once,
/// nothing re-keyed came back, nothing is skipped as corrupt, and the byte count is the storage's.
/// Returns (reported stored, found, missing but reported evicted).
fn check_store(mem: &mut MemoryStorage, promised: &Promises, options: &StoreOptions, context: &str) -> (u64, u64, u64) {
    check_heads_name_what_is_there(mem, context);
    let (mut store, report) = Store::open(TextBackend::new(&mut *mem), "me", options.clone()).unwrap();
    assert!(report.skipped_keys.is_empty(), "{context}: {:?}", report.skipped_keys);
    assert_eq!(report.pending, 0, "{context}: a healthy storage leaves nothing pending");
    let mut seen = BTreeSet::new();
    for conversation in SWEPT {
        let history = all_history(&mut store, conversation);
        for pair in history.windows(2) {
            assert!((pair[0].time, &pair[0].id) < (pair[1].time, &pair[1].id), "{context}: order in {conversation}");
        }
        for record in history {
            assert!(seen.insert(record.id.clone()), "{context}: duplicate {}", record.id);
        }
    }
    let server_id = |local: &str| format!("srv{:03}", local.trim_start_matches("local").parse::<i64>().unwrap());
    let mut missing: BTreeMap<&str, u64> = BTreeMap::new();
    let mut found = 0;
    for (id, conversation) in &promised.stored {
        // A stored sending record may since have been re-keyed by an ack whose outcome was unsaved.
        let rekeyed = id.starts_with("local") && seen.contains(&server_id(id));
        if seen.contains(id) || rekeyed {
            found += 1;
        } else {
            *missing.entry(conversation).or_default() += 1;
        }
    }
    for (conversation, n) in &missing {
        let evicted = promised.evicted.get(*conversation).copied().unwrap_or(0);
        assert!(*n <= evicted, "{context}: {n} records of {conversation} reported stored are missing ({evicted} reported evicted)");
    }
    for id in seen.iter().filter(|id| id.starts_with("local")) {
        assert!(!seen.contains(&server_id(id)), "{context}: both {id} and its server id present");
    }
    for id in &promised.gone {
        assert!(!seen.contains(id), "{context}: {id} was re-keyed and came back");
    }
    let accounted = store.report().bytes_used;
    drop(store);
    assert_eq!(accounted, mem.bytes_under(PREFIX), "{context}: byte accounting");
    (promised.stored.len() as u64, found, missing.values().sum())
}


/// How the storage fails at call k of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Model {
    /// Call k throws and changes nothing (a read or a write).
    Throw,
    /// Call k, a write, takes effect and then throws (a read just throws).
    AfterEffect,
    /// Calls k and k + 1 throw.
    TwoInARow,
    /// Calls k to k + 7 throw.
    Run,
    /// From call k on, every third read throws (the first read at or after k first), for the rest
    /// of the run: opening and every page meet reads that throw.
    Reads,
    /// From call k on the storage is full (the rest was taken by others): a write that would grow
    /// it throws `quota reached`; what mpchat removes makes room again.
    Full,
    /// From call k on every write throws `quota reached`, whatever is removed.
    Refuse,
}

impl Model {
    fn arm(self, mem: &mut MemoryStorage, k: u64) {
        match self {
            Model::Throw => mem.fail_call(k),
            Model::AfterEffect => mem.fault_at(k, Fault::AfterEffect),
            Model::TwoInARow => mem.fail_calls(k, 2),
            Model::Run => mem.fail_calls(k, 8),
            Model::Reads => mem.flaky_reads_from(k, 3),
            Model::Full => mem.fill_at(k, Full::Quota),
            Model::Refuse => mem.fill_at(k, Full::Refuse),
        }
    }

    /// Steps whose outcome one run of this model may lose (continued runs).
    fn lost_steps(self) -> Option<usize> {
        match self {
            Model::Throw | Model::AfterEffect => Some(1),
            Model::TwoInARow => Some(2),
            Model::Run | Model::Reads | Model::Full | Model::Refuse => None,
        }
    }
}

/// The figures of one sweep.
#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    /// Fault points swept: one run per storage call of the healthy run.
    points: u64,
    /// Messages reported stored, summed over the runs.
    reported: u64,
    /// Of those, found after reopening the healed storage.
    found: u64,
    /// Of those, missing from a conversation that reported evicting at least as many.
    evicted: u64,
}

/// The budget of the sweeps run under budget pressure: about a third of what the scenario stores,
/// so that flushes evict chunks (and whole conversations) all along.
const TIGHT: u64 = 64 * 1024;

/// Sweeps a fault model over every call of the scenario, each run continued (the app goes on and
/// reopens at the end) or killed (the app dies at the fault), and checks each run after a reopen
/// on the healed storage. Prints and returns the figures.
fn sweep(model: Model, killed: bool, budget: Option<u64>) -> Figures {
    let steps = sweep_scenario();
    let options = StoreOptions { total_bytes: budget.unwrap_or(StoreOptions::default().total_bytes) };
    let mut clean = MemoryStorage::with_wx_limits();
    let promised = run_scenario(&mut clean, &steps, &options);
    assert_eq!(promised.stored.len(), 120, "every message is stored on a healthy storage");
    let evicted_clean: u64 = promised.evicted.values().sum();
    assert_eq!(evicted_clean > 0, budget.is_some(), "the budget makes the scenario evict, and only it");
    let total_calls = clean.calls();
    assert!(total_calls > 300, "{total_calls}");
    // The scenario does what the sweep is meant to fault: sealing, late messages into sealed chunks.
    let mut unbounded = MemoryStorage::with_wx_limits();
    run_scenario(&mut unbounded, &steps, &StoreOptions::default());
    let sealed = unbounded.key_list().iter().filter(|k| k.contains("/c/")).count();
    assert!(sealed >= 8, "{sealed} chunks");
    let mut figures = Figures { points: total_calls, ..Figures::default() };
    let mut most_evicted = 0;
    for k in 1..=total_calls {
        let mut mem = MemoryStorage::with_wx_limits();
        model.arm(&mut mem, k);
        if killed {
            mem.kill_on_fault();
        }
        let promised = run_scenario(&mut mem, &steps, &options);
        mem.heal();
        let context = format!("{model:?} at call {k}, {}, budget {budget:?}", if killed { "killed" } else { "continued" });
        let (r, f, e) = check_store(&mut mem, &promised, &options, &context);
        figures.reported += r;
        figures.found += f;
        figures.evicted += e;
        if let (false, Some(lost)) = (killed, model.lost_steps()) {
            assert!(promised.stored.len() + lost >= promised.inserts, "{context}: lost more than {lost} steps' outcome");
        }
        if !killed && model == Model::Reads {
            // Reads that throw delay records; they do not stop the store.
            assert!(promised.stored.len() * 10 >= promised.inserts * 9, "{context}: {} of {} stored", promised.stored.len(), promised.inserts);
        }
        let evicted: u64 = promised.evicted.values().sum();
        if budget.is_none() && !matches!(model, Model::Full | Model::Refuse) {
            assert_eq!(evicted, 0, "{context}: nothing evicted without budget pressure");
        }
        if model == Model::Refuse {
            // Evicting cannot make room in a storage that refuses everything: once it made room for
            // all it was writing and storage still refused, the store stops evicting, so history
            // is not emptied trying: a chunk or two (about 32 records each) per opening of the store.
            assert!(evicted <= evicted_clean + 100, "{context}: {evicted} records evicted");
            most_evicted = most_evicted.max(evicted);
        }
    }
    assert_eq!(figures.reported, figures.found + figures.evicted);
    if budget.is_none() && !matches!(model, Model::Full | Model::Refuse) {
        assert_eq!(figures.reported, figures.found, "{model:?}: every message reported stored is found");
    }
    // A sweep that stores nothing proves nothing: most runs store most messages.
    let floor = if killed { total_calls * 120 / 4 } else { total_calls * 120 / 2 };
    assert!(figures.reported >= floor, "{model:?}: {figures:?}");
    println!(
        "fault sweep {model:?}, {}{}: {} fault points, {} messages reported stored, {} found after reopen, {} missing and reported evicted{}",
        if killed { "killed" } else { "continued" },
        budget.map_or(String::new(), |b| format!(", budget {} KiB", b / 1024)),
        figures.points,
        figures.reported,
        figures.found,
        figures.evicted,
        if model == Model::Refuse { format!(" (at most {most_evicted} records evicted in a run)") } else { String::new() },
    );
    figures
}

// The sweeps run one scenario per storage call: in a debug build that takes minutes, in release
// seconds. `make test-rust` runs them in release (`cargo test --release --test store_faults`).

#[test]
#[cfg_attr(debug_assertions, ignore = "fault sweeps run in release: cargo test --release --test store_faults")]
fn fault_sweep_a_call_that_throws() {
    sweep(Model::Throw, false, None);
    sweep(Model::Throw, true, None);
    sweep(Model::Throw, false, Some(TIGHT));
    sweep(Model::Throw, true, Some(TIGHT));
}

#[test]
#[cfg_attr(debug_assertions, ignore = "fault sweeps run in release: cargo test --release --test store_faults")]
fn fault_sweep_a_write_that_takes_effect_then_throws() {
    sweep(Model::AfterEffect, false, None);
    sweep(Model::AfterEffect, true, None);
    sweep(Model::AfterEffect, false, Some(TIGHT));
    sweep(Model::AfterEffect, true, Some(TIGHT));
}

#[test]
#[cfg_attr(debug_assertions, ignore = "fault sweeps run in release: cargo test --release --test store_faults")]
fn fault_sweep_two_faults_in_a_row() {
    sweep(Model::TwoInARow, false, None);
    sweep(Model::TwoInARow, false, Some(TIGHT));
}

#[test]
#[cfg_attr(debug_assertions, ignore = "fault sweeps run in release: cargo test --release --test store_faults")]
fn fault_sweep_eight_calls_that_throw() {
    sweep(Model::Run, false, None);
    sweep(Model::Run, false, Some(TIGHT));
}

#[test]
#[cfg_attr(debug_assertions, ignore = "fault sweeps run in release: cargo test --release --test store_faults")]
fn fault_sweep_reads_that_throw_from_any_call_on() {
    sweep(Model::Reads, false, None);
    sweep(Model::Reads, true, None);
    sweep(Model::Reads, false, Some(TIGHT));
}

#[test]
#[cfg_attr(debug_assertions, ignore = "fault sweeps run in release: cargo test --release --test store_faults")]
fn fault_sweep_a_storage_that_fills_up_and_stays_full() {
    sweep(Model::Full, false, None);
    sweep(Model::Full, true, None);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "fault sweeps run in release: cargo test --release --test store_faults")]
fn fault_sweep_a_storage_that_refuses_every_write() {
    sweep(Model::Refuse, false, None);
    sweep(Model::Refuse, true, None);
}

#[test]
fn reads_that_throw_now_and_then_from_the_first_open() {
    // Every second or third read throws, from the first open on, for the whole run.
    let steps = scenario();
    let options = StoreOptions::default();
    for (period, phase) in [(3, 0), (3, 1), (3, 2), (2, 0), (2, 1)] {
        let mut mem = MemoryStorage::with_wx_limits();
        mem.flaky_reads(period, phase);
        let promised = run_scenario(&mut mem, &steps, &options);
        mem.heal();
        let context = format!("every {period}th read throws, from read {}", phase + 1);
        let (reported, found, _) = check_store(&mut mem, &promised, &options, &context);
        assert_eq!(reported, found, "{context}");
        // Reads that throw delay records; they do not stop the store.
        assert!(promised.stored.len() * 10 >= promised.inserts * 9, "{context}: {} of {} stored", promised.stored.len(), promised.inserts);
        println!("fault sweep flaky reads (every {period}th from read {}): {reported} messages reported stored, {found} found after reopen", phase + 1);
    }
}

#[test]
fn reopened_accounting_matches_storage_after_faults() {
    for k in (5..400).step_by(7) {
        let mut mem = MemoryStorage::with_wx_limits();
        mem.fail_call(k);
        {
            let mut store = open(&mut mem);
            let mut promised = Promises::default();
            for step in scenario().iter().take(150) {
                run_step(&mut store, step, &mut promised);
            }
        }
        mem.heal();
        let accounted = open(&mut mem).report().bytes_used;
        assert_eq!(accounted, mem.bytes_under(PREFIX), "fault at {k}");
    }
}

#[test]
fn write_amplification_is_bounded_and_flat() {
    // Bytes written per appended ~450-byte record, over (messages, conversations).
    let table = [(1_000usize, 1usize), (20_000, 1), (4_000, 50), (20_000, 50)];
    let mut per_message = Vec::new();
    for (messages, conversations) in table {
        let mut mem = MemoryStorage::with_wx_limits();
        let mut store = open(&mut mem);
        let mut record_bytes = 0u64;
        let mut written_at_warm = 0;
        let warm = messages / 2;
        for i in 0..messages {
            if i == warm {
                drop(store);
                written_at_warm = mem.bytes_written();
                store = open(&mut mem);
            }
            let record = sized(
                &format!("group:g{}", i % conversations),
                &format!("m{i:06}"),
                i as i64,
                "bob",
                450,
            );
            if i >= warm {
                record_bytes += record.to_json().len() as u64;
            }
            assert_eq!(store.insert(record).unwrap(), InsertOutcome::Stored);
        }
        drop(store);
        let written = mem.bytes_written() - written_at_warm;
        let amplification = written as f64 / record_bytes as f64;
        println!(
            "{messages} messages over {conversations}: {:.2}x, {} bytes per message",
            amplification,
            written / (messages - warm) as u64
        );
        assert!(
            amplification <= 16.0,
            "{messages}/{conversations}: amplification {amplification:.2}"
        );
        per_message.push(written as f64 / (messages - warm) as f64);
    }
    assert!(per_message[1] <= per_message[0] * 1.5, "{per_message:?}");
    assert!(per_message[3] <= per_message[2] * 1.5, "{per_message:?}");
}


#[test]
fn an_evicted_chunk_goes_only_after_the_head_that_drops_it() {
    // Two conversations under a tight budget: messages to one evict the other's oldest chunks. A
    // crash at any call of such a message leaves no head naming a chunk that is gone while the
    // key count looks right (it would be read as there, its bytes counted, its eviction unreported).
    let budget = 40 * 1024;
    let options = StoreOptions { total_bytes: budget };
    let mut seeded = memory();
    {
        let mut store = open_with(&mut seeded, budget);
        for i in 0..40i64 {
            store.insert(sized("group:old", &format!("o{i:02}"), i, "bob", 600)).unwrap();
        }
        for i in 0..10i64 {
            store.insert(sized("group:new", &format!("n{i:02}"), 100 + i, "bob", 600)).unwrap();
        }
    }
    let mut evicting_calls = 0;
    for i in 10..30i64 {
        let record = sized("group:new", &format!("n{i:02}"), 100 + i, "bob", 600);
        // A healthy run of this message: does it evict, and in how many calls?
        let mut clean = seeded.clone();
        let calls_before = clean.calls();
        let evicted = {
            let mut store = Store::open(TextBackend::new(&mut clean), "me", options.clone()).unwrap().0;
            assert_eq!(store.insert(record.clone()).unwrap(), InsertOutcome::Stored);
            store.take_evictions().iter().map(|e| e.records).sum::<u64>()
        };
        let calls = clean.calls() - calls_before;
        if evicted > 0 {
            evicting_calls += calls;
        }
        for k in 1..=calls {
            let mut mem = seeded.clone();
            mem.fail_call(mem.calls() + k);
            mem.kill_on_fault();
            let stored = {
                let store = Store::open(TextBackend::new(&mut mem), "me", options.clone());
                match store {
                    Ok((mut store, _)) => matches!(store.insert(record.clone()), Ok(InsertOutcome::Stored)),
                    Err(_) => false,
                }
            };
            mem.heal();
            let context = format!("message {i}, crash at call {k} of {calls}");
            check_heads_name_what_is_there(&mem, &context);
            let mut store = open_with(&mut mem, budget);
            let history = all_history(&mut store, "group:new");
            if stored {
                assert_eq!(history.last().map(|r| r.id.as_str()), Some(record.id.as_str()), "{context}");
            }
            // What was stored before the message stays: its newest record at least.
            let previous = format!("n{:02}", i - 1);
            assert!(history.iter().any(|r| r.id == previous), "{context}: {previous} is gone");
            let accounted = store.report().bytes_used;
            drop(store);
            assert_eq!(accounted, mem.bytes_under(PREFIX), "{context}: bytes counted are the bytes on storage");
        }
        clean.heal();
        seeded = clean;
    }
    assert!(evicting_calls > 0, "the scenario evicts");
}
