#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, at most JOBS at a time, starting from the
# committed seeds in fuzz/seeds/<target> and growing fuzz/corpus/<target>. Findings land in
# fuzz/artifacts/<target>; each run's log is fuzz/artifacts/<target>.log and its last status line is printed.
# Usage: scripts/fuzz.sh [SECONDS] [target ...]    (JOBS=2 by default)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-600}"
shift || true
jobs="${JOBS:-2}"
targets=("$@")

# cargo-fuzz first: listing the targets needs it, and a fresh machine does not have it.
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz: no fuzz target found (cargo fuzz list printed none); nothing was fuzzed" >&2
  exit 1
fi
# The crate has no unsafe code, so the address sanitizer finds nothing a panic would not; without it
# the targets run several times faster. Overflow checks and debug assertions stay on.
cargo +nightly fuzz build -s none

run() {
  local target="$1"
  mkdir -p "corpus/$target" "artifacts/$target" "seeds/$target"
  if cargo +nightly fuzz run -s none "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"artifacts/$target.log" 2>&1; then
    echo "$target: $(grep -E '^#[0-9]+[[:space:]]+DONE' "artifacts/$target.log" | tail -1)"
  else
    echo "$target: FINDING, see artifacts/$target.log and artifacts/$target/"
    grep -m1 -A2 panicked "artifacts/$target.log" || true
    return 1
  fi
}

status=0
running=0
for target in "${targets[@]}"; do
  run "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
# Each run that finished prints its DONE line; a target whose log has none did not run.
for target in "${targets[@]}"; do
  if ! grep -qE '^#[0-9]+[[:space:]]+DONE' "artifacts/$target.log" 2>/dev/null; then
    echo "fuzz: $target did not run to the end; see artifacts/$target.log" >&2
    status=1
  fi
done
exit "$status"
