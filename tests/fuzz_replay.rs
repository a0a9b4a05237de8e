//! Every fuzz input kept in the repository (fuzz/seeds/<target>) and every finding on this machine
//! (fuzz/artifacts/<target>, left by scripts/fuzz.sh) replayed through its target's own decoding and
//! invariants, as ordinary tests: a finding fails `make test` until it is fixed. `MPCHAT_FUZZ_CORPUS=1`
//! replays the local corpus (fuzz/corpus/<target>) too. The hand-written tests of what the fuzzers found
//! are in tests/fuzz_regressions.rs.
#![cfg(not(target_arch = "wasm32"))]

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz;

use std::path::{Path, PathBuf};

use arbitrary::Unstructured;
use fuzz::checks;
use mpchat::profile::Profile;

/// The inputs kept for `target`, by file; at least one committed seed.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut dirs = vec![root.join("seeds").join(target), root.join("artifacts").join(target)];
    if std::env::var_os("MPCHAT_FUZZ_CORPUS").is_some() {
        dirs.push(root.join("corpus").join(target));
    }
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(listing) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = listing.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            out.push((file, data));
        }
    }
    let seeds = out.iter().filter(|(p, _)| p.starts_with(root.join("seeds"))).count();
    assert!(seeds > 0, "no seed for fuzz target {target} in fuzz/seeds/{target}");
    out
}

/// Runs `body` on each input of `target`, naming the file of the one that fails.
fn replay(target: &str, body: impl Fn(&[u8])) {
    for (file, data) in inputs(target) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&data)));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("fuzz input {} ({target}) fails: {message}", file.display());
        }
    }
}

#[test]
fn emoji_inputs_replay() {
    replay("emoji", |data| {
        let text = String::from_utf8_lossy(data);
        for table in checks::emoji_tables() {
            checks::check_emoji(&table, &text);
        }
    });
}

#[test]
fn normalize_inputs_replay() {
    replay("normalize", |data| {
        checks::check_normalize_json(&String::from_utf8_lossy(data));
        if let Ok(value) = fuzz::message(&mut Unstructured::new(data)) {
            checks::check_normalize_value(&value);
        }
    });
}

#[test]
fn build_message_inputs_replay() {
    replay("build_message", |data| {
        let mut u = Unstructured::new(data);
        let own = Profile { nickname: u.arbitrary().unwrap_or_default(), avatar: u.arbitrary().unwrap_or_default() };
        if let Ok(input) = fuzz::message(&mut u) {
            checks::check_build(&input, &own);
        }
    });
}

#[test]
fn store_inputs_replay() {
    replay("store", |data| {
        if let Ok(scenario) = fuzz::scenario(&mut Unstructured::new(data)) {
            checks::run_scenario(&scenario);
        }
    });
}

/// The cost target times its inputs repeated to 64 KiB and 512 KiB; timing is left to the fuzzer
/// (a shared CI machine is too noisy for it). Here its patterns, repeated, go through the same
/// tokenizer and normaliser invariants the other targets check.
#[test]
fn cost_inputs_replay() {
    replay("cost", |data| {
        if data.is_empty() || data.len() > 256 {
            return;
        }
        let pattern = String::from_utf8_lossy(data);
        let text = pattern.repeat((4096usize).div_ceil(pattern.len()));
        for table in checks::emoji_tables() {
            checks::check_emoji(&table, &text);
        }
        checks::check_normalize_json(&text);
        let quoted = serde_json::to_string(&text).unwrap_or_default();
        checks::check_normalize_json(&format!(
            r#"{{"id":"m1","from":"bob","to":"me","time":1,"type":"txt","msg":{quoted},"ext":{{"userNickname":{quoted}}}}}"#
        ));
    });
}
