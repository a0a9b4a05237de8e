//! The store over planted storage and arbitrary operations, faults, reopens and evictions,
//! with its invariants checked after every step. `MPCHAT_FUZZ_SHOW=1` prints each scenario, which is
//! how a finding becomes a test in tests/fuzz_regressions.rs.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use mpchat_fuzz::checks::run_scenario;
use mpchat_fuzz::scenario;

fuzz_target!(|data: &[u8]| {
    if let Ok(scenario) = scenario(&mut Unstructured::new(data)) {
        if std::env::var_os("MPCHAT_FUZZ_SHOW").is_some() {
            eprintln!("{scenario:#?}");
        }
        run_scenario(&scenario);
    }
});
