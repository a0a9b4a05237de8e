//! The emoji tokenizer on any text: parse, UTF-16 spans and the delete key agree and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mpchat_fuzz::checks::{check_emoji, emoji_tables};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for table in emoji_tables() {
        check_emoji(&table, &text);
    }
});
