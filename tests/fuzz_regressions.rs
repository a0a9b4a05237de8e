//! Inputs the fuzz targets (fuzz/fuzz_targets) found, replayed as ordinary tests through the same
//! invariants the fuzzers check (fuzz/src/checks.rs, included here by path).

#[allow(dead_code)]
#[path = "../fuzz/src/checks.rs"]
mod checks;

use mpchat::build::build;
use mpchat::profile::{ExtKeys, Profile};
use serde_json::{json, Value};

/// An `ext` of `levels` nested objects, `ext` itself counted: `{"k":{"k":…{"k":1}}}`.
fn ext_of_depth(levels: usize) -> Value {
    (0..levels).fold(json!(1), |inner, _| json!({ "k": inner }))
}

/// Found by `build_message`: `build` accepted an `ext` nested deeper than the 32 levels the normaliser
/// keeps, so the message went out but my own 'sending' record and every receiver dropped it.
#[test]
fn build_refuses_an_ext_receivers_would_drop() {
    let table = [
        (1, None),
        (32, None),
        (33, Some("`ext` nests deeper than 32 levels; receivers drop such messages, so flatten it")),
        (40, Some("`ext` nests deeper than 32 levels; receivers drop such messages, so flatten it")),
    ];
    for (levels, error) in table {
        let input = json!({"type": "txt", "chatType": "groupChat", "to": "g1", "msg": "hi", "ext": ext_of_depth(levels)});
        let outcome = build(&input, &Profile::default(), &ExtKeys::default());
        assert_eq!(
            outcome.as_ref().err().map(|e| e.message().to_string()).as_deref(),
            error,
            "{levels} levels"
        );
        checks::check_build(&input, &Profile::default());
    }
}
