// A `wx` storage that behaves like the real one where mpchat can tell: values are serialised on write and
// parsed on read (stored objects are copies), '' comes back for a missing key, each entry counts its key
// plus its serialised value, and a Sync call past 1 MB for one entry or 10 MB in all throws, as Android's
// client does. Faults can be injected at any call: `failCall(n, { count, after, kill })` makes the n-th call
// from now throw (and the `count - 1` after it); with `after`, a set or remove there takes effect and then
// throws; with `kill`, the process dies at the fault: every later call throws until `heal()`.
// `flakyReads(period, { from })` makes every period-th read (getStorageSync, getStorageInfoSync) throw, from
// the from-th call on (the next one by default); `failKeys(test)` makes reading a key that passes `test` throw.
// Sizes are UTF-8 bytes by default (at least what wx counts). `units: 'utf16'` counts UTF-16 code units,
// what WeChat is reported to count: a string's length, free in any engine, where the UTF-8 count costs
// ~15 ns a character in JavaScriptCore without JIT and would inflate the storage cost of whatever the
// benchmarks measure there.
'use strict'

const MB = 1024 * 1024

// UTF-8 bytes of a string, in Node and in JavaScriptCore (tests/jsc): Buffer where there is one, else
// native encodeURIComponent, which throws only on a lone surrogate (3 bytes each, as U+FFFD).
function byteLength(text) {
  if (typeof Buffer !== 'undefined') return Buffer.byteLength(text)
  try {
    return unescape(encodeURIComponent(text)).length
  } catch (_) {
    let bytes = 0
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c < 0x80) bytes += 1
      else if (c < 0x800) bytes += 2
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        bytes += 4
        i++
      } else bytes += 3
    }
    return bytes
  }
}

function createWxStorage({ keyLimit = MB, totalLimit = 10 * MB, units = 'utf8' } = {}) {
  if (units !== 'utf8' && units !== 'utf16') throw new Error(`createWxStorage: units is 'utf8' or 'utf16', not ${units}`)
  const length = units === 'utf16' ? (text) => text.length : byteLength
  const entries = new Map() // key -> serialised value
  let total = 0
  let calls = 0
  let fault = null // { from, to, after, kill }
  let dead = false
  let flaky = 0 // every flaky-th read throws
  let flakyFrom = 0
  let reads = 0
  let badKeys = null
  let fired = 0
  let lastRead = 0
  const stats = { sets: 0, bytesWritten: 0, gets: 0 }
  const size = (key, text) => length(key) + length(text)

  // Counts a call; throws when it fails before taking effect, returns true when it must throw after.
  function call(name, key) {
    calls++
    if (dead) throw new Error(`${name}:fail the process was killed before call ${calls}`)
    const read = name === 'getStorageSync' || name === 'getStorageInfoSync'
    if (read) lastRead = calls
    if (read && badKeys && key !== undefined && badKeys(String(key))) {
      fired++
      throw new Error(`${name}:fail injected fault reading ${key}`)
    }
    const hit =
      (fault && calls >= fault.from && calls <= fault.to) || (read && flaky && calls >= flakyFrom && ++reads % flaky === 1 % flaky)
    if (!hit) return false
    fired++
    if (fault && fault.kill) dead = true
    if (fault && fault.after && !read && calls >= fault.from && calls <= fault.to) return true
    throw new Error(`${name}:fail injected fault at call ${calls}`)
  }
  const after = (effect, name) => {
    if (effect) throw new Error(`${name}:fail injected fault at call ${calls}, after it took effect`)
  }

  const storage = {
    getStorageSync(key) {
      call('getStorageSync', key)
      stats.gets++
      const text = entries.get(String(key))
      return text === undefined ? '' : JSON.parse(text)
    },
    setStorageSync(key, value) {
      const effect = call('setStorageSync')
      key = String(key)
      if (value === undefined) throw new Error('setStorageSync:fail parameter error: data is required')
      const text = JSON.stringify(value)
      const bytes = size(key, text)
      if (bytes > keyLimit) throw new Error('setStorageSync:fail entry size limit reached')
      const before = entries.has(key) ? size(key, entries.get(key)) : 0
      if (total - before + bytes > totalLimit) throw new Error('setStorageSync:fail quota reached')
      entries.set(key, text)
      total += bytes - before
      stats.sets++
      stats.bytesWritten += bytes
      after(effect, 'setStorageSync')
    },
    removeStorageSync(key) {
      const effect = call('removeStorageSync')
      key = String(key)
      if (entries.has(key)) {
        total -= size(key, entries.get(key))
        entries.delete(key)
      }
      after(effect, 'removeStorageSync')
    },
    getStorageInfoSync() {
      call('getStorageInfoSync')
      return { keys: [...entries.keys()], currentSize: Math.ceil(total / 1024), limitSize: totalLimit / 1024 }
    },
    // Test controls, not part of wx.
    failCall(n, { count = 1, after = false, kill = false } = {}) {
      fault = { from: calls + n, to: calls + n + count - 1, after, kill }
    },
    flakyReads(period, { from = calls + 1 } = {}) {
      flaky = period
      flakyFrom = from
      reads = 0
    },
    failKeys(test) { badKeys = test },
    heal() {
      fault = null
      dead = false
      flaky = 0
      badKeys = null
    },
    get dead() { return dead },
    get faultsFired() { return fired },
    get lastRead() { return lastRead },
    get calls() { return calls },
    get totalBytes() { return total },
    get stats() { return stats },
    raw: entries,
  }
  return storage
}

module.exports = { createWxStorage }
