//! `build` on SDK-like values: never panics, builds objects with `to` and `type` that normalise back.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use mpchat::profile::Profile;
use mpchat_fuzz::checks::check_build;
use mpchat_fuzz::message;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let own = Profile {
        nickname: u.arbitrary().unwrap_or_default(),
        avatar: u.arbitrary().unwrap_or_default(),
    };
    if let Ok(input) = message(&mut u) {
        check_build(&input, &own);
    }
});
