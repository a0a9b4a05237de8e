//! The normaliser on any bytes as JSON text, and on SDK-like values built from the same bytes.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use mpchat_fuzz::checks::{check_normalize_json, check_normalize_value};
use mpchat_fuzz::message;

fuzz_target!(|data: &[u8]| {
    check_normalize_json(&String::from_utf8_lossy(data));
    if let Ok(value) = message(&mut Unstructured::new(data)) {
        check_normalize_value(&value);
    }
});
