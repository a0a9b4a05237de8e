// Searching a full store, measured the same way in Node and in JavaScriptCore: mpchat's chat.search
// against the naive app (read every stored value with getStorageSync, which parses it natively, test
// each text, keep the newest matches). Both sides return the same records, which the run checks.
'use strict'
const { nowMicros, median, fmt } = require('./measure')

// Queries of each kind a user types: common and rare Latin (any case), Chinese, an emoji, a code, none.
const QUERIES = ['eating', 'Happy Birthday', '爬山', '🎉', '[(H)]', 'zebra']
const LIMIT = 20

// Every stored record's texts tested, newest `limit` kept: what an app without mpchat can do.
function naiveSearch(storage, query, limit) {
  const needle = query.toLowerCase()
  const found = []
  for (const key of storage.getStorageInfoSync().keys) {
    const value = storage.getStorageSync(key)
    const items = Array.isArray(value) ? value : value && Array.isArray(value.r) ? value.r : [value]
    for (const r of items) {
      if (r && typeof r.text === 'string' && !r.recalled && r.text.toLowerCase().includes(needle)) found.push(r)
    }
  }
  found.sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1))
  return found.slice(0, limit).map((r) => r.id)
}

/** { query: { mpchatMicros, naiveMicros, matches, same } } — medians of `rounds`, alternating sides. */
function measureSearch(chat, storage, rounds) {
  const out = {}
  for (const query of QUERIES) {
    const mp = []
    const naive = []
    let mine = []
    let theirs = []
    for (let r = 0; r < rounds; r++) {
      let start = nowMicros()
      theirs = naiveSearch(storage, query, LIMIT)
      naive.push(nowMicros() - start)
      start = nowMicros()
      mine = chat.search(query, { limit: LIMIT }).map((x) => x.record.id)
      mp.push(nowMicros() - start)
    }
    out[query] = {
      mpchatMicros: median(mp),
      naiveMicros: median(naive),
      ratio: median(naive.map((n, i) => n / mp[i])),
      matches: mine.length,
      same: mine.join() === theirs.join(),
    }
  }
  return out
}

// The report's lines for measureSearch's results, under `about` (where and how it was measured).
function searchReport(results, about) {
  const lines = [
    `search: chat.search(query, { limit: ${LIMIT} }) against the naive app (getStorageSync of every value, ` +
      `each text tested; ${about})`,
    `  ${'query'.padEnd(18)}${'naive ms'.padStart(10)}${'mpchat ms'.padStart(11)}${'matches'.padStart(9)}   speed`,
  ]
  let worstRatio = Infinity
  for (const query of QUERIES) {
    const r = results[query]
    if (!r.same) throw new Error(`search for ${JSON.stringify(query)}: mpchat and the naive app found different records`)
    worstRatio = Math.min(worstRatio, r.ratio)
    lines.push(`  ${JSON.stringify(query).padEnd(18)}${fmt(r.naiveMicros / 1000, 1).padStart(10)}` +
      `${fmt(r.mpchatMicros / 1000, 1).padStart(11)}${String(r.matches).padStart(9)}   ${fmt(r.ratio, 1)}x the naive app's`)
  }
  return { lines, worstRatio }
}

module.exports = { measureSearch, naiveSearch, searchReport, QUERIES, LIMIT }
