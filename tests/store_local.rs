//! Drafts and pins kept by the store: written as one extra blob beside the records, counted in the
//! budget, read back after a restart; forgetting a conversation forgets its draft and pin. Native only:
//! the shim's calls over the same blob are tested through dist/mpchat (tests/js/features.test.js).
#![cfg(not(target_arch = "wasm32"))]
mod store_common;

use mpchat::local::{LocalState, LOCAL_EXTRA};
use mpchat::store::{KeyValue, MemoryStorage, UpdateOutcome};
use store_common::*;

const PREFIX: &str = "mpchat/2/me/";

fn stored_state<K: KeyValue>(store: &mut TestStore<K>) -> LocalState {
    let tape = store.extra(LOCAL_EXTRA).unwrap().expect("the blob is stored");
    LocalState::from_val(tape.root())
}

fn save<K: KeyValue>(store: &mut TestStore<K>, state: &LocalState) -> UpdateOutcome {
    store.set_extra(LOCAL_EXTRA, &state.to_json()).unwrap()
}

#[test]
fn drafts_and_pins_survive_a_restart_and_count_in_the_budget() {
    let mut mem: MemoryStorage = memory();
    let mut state = LocalState::default();
    {
        let mut store = open(&mut mem);
        store.insert(rec("single:bob", "b1", 10, "bob", "hi")).unwrap();
        let before = store.report().bytes_used;
        state.set_draft("single:bob", "周末去 🎉 \"爬山\"").unwrap();
        state.pin("group:g1", true).unwrap();
        assert_eq!(save(&mut store, &state), UpdateOutcome::Updated);
        assert!(store.report().bytes_used > before, "the blob takes room in the budget");
    }
    let counted = open(&mut mem).report().bytes_used;
    assert_eq!(counted, mem.bytes_under(PREFIX), "the budget counts exactly what is stored");
    let mut store = open(&mut mem);
    let back = stored_state(&mut store);
    assert_eq!(back, state);
    assert_eq!(back.draft("single:bob").unwrap(), "周末去 🎉 \"爬山\"");
    assert!(back.is_pinned("group:g1"));
    assert_eq!(ids(&all_history(&mut store, "single:bob")), ["b1"], "records are untouched");
}

#[test]
fn forgetting_a_conversation_and_clearing_a_draft_are_kept_too() {
    let mut mem: MemoryStorage = memory();
    {
        let mut store = open(&mut mem);
        let mut state = LocalState::default();
        state.set_draft("single:bob", "x").unwrap();
        state.set_draft("group:g1", "y").unwrap();
        state.pin("group:g1", true).unwrap();
        save(&mut store, &state);
        assert!(state.forget("group:g1"));
        state.set_draft("single:bob", "").unwrap();
        assert_eq!(save(&mut store, &state), UpdateOutcome::Updated);
        assert_eq!(save(&mut store, &state), UpdateOutcome::Unchanged);
    }
    let counted = open(&mut mem).report().bytes_used;
    assert_eq!(counted, mem.bytes_under(PREFIX));
    let mut store = open(&mut mem);
    assert_eq!(stored_state(&mut store), LocalState::default());
}
