// Timing helpers for the benchmarks, in Node and in JavaScriptCore (through the tests/jsc prelude's
// clock): warm up, then take the best of several rounds (the least disturbed by the other core's work),
// reported per item in microseconds.
'use strict'

// A monotonic clock in microseconds: Node's hrtime, or jsc's preciseTime.
const nowMicros = typeof process !== 'undefined' && process.hrtime
  ? ((origin) => () => Number(process.hrtime.bigint() - origin) / 1000)(process.hrtime.bigint())
  : () => __jsc.now() * 1000

// A full garbage collection, where the engine lets a script ask for one (jsc's shell `gc`, Node's with
// --expose-gc): called before a timed part, so that it does not pay for the garbage of what ran before it
// (restoring a simulated storage of 8 MiB, the reference's rounds), which a phone starting the app has not
// made. What the timed part itself leaves to collect still counts in it when the engine collects it then.
const settle = typeof gc === 'function' ? () => gc() : () => {}

function perItemMicros(run, items, { rounds = 7, warmup = 2 } = {}) {
  for (let i = 0; i < warmup; i++) run(items)
  let best = Infinity
  for (let i = 0; i < rounds; i++) {
    const start = nowMicros()
    run(items)
    best = Math.min(best, (nowMicros() - start) / items.length)
  }
  return best
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// Report formatting, shared by every section.
const fmt = (x, digits = 2) => x.toFixed(digits)
const count = (n) => n.toLocaleString('en-US')
const kib = (n) => `${fmt(n / 1024, 1)} KiB`
const aim = (ok) => (ok ? 'met' : 'MISSED')

module.exports = { perItemMicros, nowMicros, settle, median, fmt, count, kib, aim }
