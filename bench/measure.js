// Timing helpers for the benchmarks: warm up, then take the best of several rounds (the least disturbed
// by the other core's work), reported per item in microseconds.
'use strict'

function perItemMicros(run, items, { rounds = 7, warmup = 2 } = {}) {
  for (let i = 0; i < warmup; i++) run(items)
  let best = Infinity
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint()
    run(items)
    const elapsed = Number(process.hrtime.bigint() - start) / 1000
    best = Math.min(best, elapsed / items.length)
  }
  return best
}

const fmt = (x, digits = 2) => x.toFixed(digits)

module.exports = { perItemMicros, fmt }
