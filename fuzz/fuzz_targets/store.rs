//! The store over planted storage and arbitrary operations, faults, reopens and evictions,
//! with its invariants checked after every step.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use mpchat_fuzz::checks::run_scenario;
use mpchat_fuzz::scenario;

fuzz_target!(|data: &[u8]| {
    if let Ok(scenario) = scenario(&mut Unstructured::new(data)) {
        run_scenario(&scenario);
    }
});
