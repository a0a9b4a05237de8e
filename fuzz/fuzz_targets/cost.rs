//! Hunts inputs whose cost grows faster than their length: a pattern repeated to 64 KiB and to eight
//! times that goes through the tokenizer and the normaliser, and the larger run may take at most
//! about twice the linear share (16× for 8× the length). Time is the measure, taken as the minimum
//! of several runs of this thread's CPU time and confirmed twice, so a busy machine does not make a
//! finding.
#![no_main]

use std::hint::black_box;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use mpchat_fuzz::checks::{emoji_tables, with_context};
use mpchat::emoji::{delete_last, parse, spans_utf16};
use mpchat::normalize::normalize_json;

const SMALL_BYTES: usize = 64 * 1024;
const GROWTH: usize = 8;
const ALLOWED_RATIO: u32 = 16;
/// Differences below this are scheduling noise, not cost.
const NOISE: Duration = Duration::from_millis(2);

/// CPU time of this thread: time spent waiting for a core shared with other work is not counted.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec for the call to fill in.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn cost_of(work: &dyn Fn()) -> Duration {
    let start = thread_cpu_time();
    work();
    thread_cpu_time().saturating_sub(start)
}

fn tokenize(text: &str) {
    let mut spans = Vec::new();
    for table in emoji_tables() {
        black_box(parse(&table, text));
        spans_utf16(&table, text, &mut spans);
        black_box(delete_last(&table, text));
    }
}

fn normalize_raw(text: &str) {
    with_context(|ctx| drop(black_box(normalize_json(text, ctx))));
}

fn normalize_embedded(text: &str) {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    let json = format!(
        r#"{{"id":"m1","from":"bob","to":"me","time":1,"type":"txt","msg":{quoted},"ext":{{"userNickname":{quoted}}}}}"#
    );
    with_context(|ctx| drop(black_box(normalize_json(&json, ctx))));
}

/// The fastest of `runs` alternating runs on each text, when the large one is over its allowance.
fn superlinear(small: &str, large: &str, work: fn(&str), runs: usize) -> Option<(Duration, Duration)> {
    let (mut t_small, mut t_large) = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        t_small = t_small.min(cost_of(&|| work(small)));
        t_large = t_large.min(cost_of(&|| work(large)));
    }
    (t_large > t_small * ALLOWED_RATIO + NOISE).then_some((t_small, t_large))
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() || data.len() > 256 {
        return;
    }
    let pattern = String::from_utf8_lossy(data);
    let copies = SMALL_BYTES.div_ceil(pattern.len());
    let small = pattern.repeat(copies);
    let large = pattern.repeat(copies * GROWTH);
    let workloads: [(&str, fn(&str)); 3] = [
        ("tokenizer", tokenize),
        ("normalize_json", normalize_raw),
        ("normalize_json (txt and nickname)", normalize_embedded),
    ];
    for (name, work) in workloads {
        // A suspect is measured again twice; only a cost that stays over the allowance is a finding.
        if superlinear(&small, &large, work, 3).is_some() && superlinear(&small, &large, work, 7).is_some() {
            if let Some((t_small, t_large)) = superlinear(&small, &large, work, 7) {
                panic!(
                    "{name}: {} bytes took {t_small:?}, {} bytes took {t_large:?} (over {ALLOWED_RATIO}×) for pattern {pattern:?}",
                    small.len(),
                    large.len()
                );
            }
        }
    }
});
