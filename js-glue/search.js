// Search over what is stored, done where the engine is fastest: wx reads each value with its native
// JSON parser and the text is tested with native string search. The core says where records are
// (ChatCore.search_plan): per conversation its loose records (all newer than its sealed ones) and its
// chunks newest first, each chunk's records older than the next's. So the chunks are read newest first
// across conversations, and the search stops once no unread chunk can hold one of the `limit` newest.
'use strict'

// ASCII characters from least to most common in chat text. `i` and `k` are left out: outside ASCII, `İ`
// lower-cases to `i̇` and the Kelvin sign to `k`, so a text may match them without holding either case.
const RARE_FIRST = 'zqxjvbpgwyfmculdrhsnoate0123456789'

/**
 * Up to three characters every text that matches the lower-cased `needle` holds in one case or the other:
 * [lower-case forms, upper-case forms]. Only ASCII letters (no other character lower-cases to one) and
 * digits qualify.
 */
function anchorsOf(needle) {
  const lower = []
  for (const c of RARE_FIRST) if (lower.length < 3 && needle.includes(c)) lower.push(c)
  return [lower, lower.map((c) => c.toUpperCase())]
}

/**
 * The records of `records` that match `query`, pushed onto `found`: on their text, or a file's name, or a
 * location's address; Latin case-insensitive, anything else (CJK, emoji, codes) by substring; recalled
 * ones and ones not older than `before` left out. Written for an interpreter (an iPhone's), where a call
 * per record costs as much as the test: one loop, the text tested first (it settles nearly every record),
 * and no lower-casing at all for a query with no cased letters. A text is lower-cased only when it holds,
 * in some case, the query's rarest ASCII characters (see `anchorsOf`): native search for one character
 * costs a tenth of lower-casing the text, and most texts lack one of them.
 * @returns {(records: any[], found: any[]) => void}
 */
function recordScanner(query, before) {
  const needle = query.toLowerCase()
  const fold = needle !== query.toUpperCase()
  const has = (s) => typeof s === 'string' && (fold ? s.toLowerCase() : s).includes(needle)
  const bodyHas = (r) => {
    const body = r.body
    return !!body && typeof body === 'object' && (has(body.filename) || has(body.addr) || has(body.buildingName))
  }
  const kept = (r) => !r.recalled && typeof r.time === 'number' &&
    (!before || r.time < before.time || (r.time === before.time && r.id < before.id))
  if (fold) {
    const [lower, upper] = anchorsOf(needle)
    const mayHold = (text) => {
      for (let a = 0; a < lower.length; a++) {
        if (text.indexOf(lower[a]) < 0 && text.indexOf(upper[a]) < 0) return false
      }
      return true
    }
    return (records, found) => {
      for (let i = records.length - 1; i >= 0; i--) {
        const r = records[i]
        if (!r || typeof r !== 'object') continue
        const text = r.text
        const hit = typeof text === 'string' ? mayHold(text) && text.toLowerCase().includes(needle) : bodyHas(r)
        if (hit && kept(r)) found.push(r)
      }
    }
  }
  return (records, found) => {
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i]
      if (!r || typeof r !== 'object') continue
      const text = r.text
      if (typeof text === 'string' ? text.includes(needle) && kept(r) : bodyHas(r) && kept(r)) found.push(r)
    }
  }
}

/** A max-heap of cursors by `bound`: the one whose unread records may be newest on top. */
function cursorHeap(cursors) {
  const a = cursors.slice()
  const above = (i, j) => a[i].bound > a[j].bound
  const swap = (i, j) => { const t = a[i]; a[i] = a[j]; a[j] = t }
  const down = (i) => {
    for (;;) {
      let top = i
      const l = 2 * i + 1
      if (l < a.length && above(l, top)) top = l
      if (l + 1 < a.length && above(l + 1, top)) top = l + 1
      if (top === i) return
      swap(i, top)
      i = top
    }
  }
  for (let i = (a.length >> 1) - 1; i >= 0; i--) down(i)
  return {
    top: () => a[0],
    /** The top's bound lowered, or the top removed when it is `done`. */
    settle(done) {
      if (done) {
        const last = a.pop()
        if (a.length === 0) return
        a[0] = last
      }
      down(0)
    },
  }
}

/** Newest first: by time, then id (as the store orders records). */
function newestFirst(a, b) {
  if (a.time !== b.time) return b.time - a.time
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0
}

/**
 * The `limit` newest stored records matching `query` (older than `before`, a record's {time, id},
 * when given), newest first, as stored values.
 * @param storage wx, or anything with getStorageSync
 * @param plan [looseRoot, chunkRoot, [[keyPart, activity, looseFrom, looseNext, [holes], [seq… newest
 *   first], sealedTime], …]] from the core: a loose record's key is looseRoot + keyPart + n, a chunk's
 *   chunkRoot + keyPart + seq; sealedTime is the newest sealed record's (null when unknown)
 */
function searchStored(storage, plan, query, { limit, before }) {
  const scanInto = recordScanner(query, before)
  const read = (key) => {
    try {
      return storage.getStorageSync(key)
    } catch (err) {
      return undefined // an unreadable value holds nothing to find
    }
  }
  let found = []
  let trimmed = -1 // found's length when last sorted and cut
  const scan = (records) => scanInto(records, found)
  const timeOf = (r) => (r && typeof r.time === 'number' ? r.time : Infinity)
  // Per conversation, `bound` is the newest time its unread records can have: its activity at first,
  // then its newest sealed record's once its loose records are read, then each chunk's oldest (a
  // chunk's records are older than the next's). The unread part with the newest bound is read next.
  const [looseRoot, chunkRoot, rows] = plan
  const heap = cursorHeap(rows.map(([part, activity, looseFrom, looseNext, holes, chunks, sealedTime]) =>
    ({ bound: activity, part, looseFrom, looseNext, holes, chunks, sealedTime, next: -1 })))
  for (;;) {
    const at = heap.top()
    if (!at) break
    if (found.length >= limit) {
      // Sorted and cut again only when a read added matches: most reads of a rare word add none.
      if (found.length !== trimmed) found = found.sort(newestFirst).slice(0, limit)
      trimmed = found.length
      if (at.bound < found[limit - 1].time) break // every unread record is older than the limit-th match
    }
    let oldest = Infinity
    if (at.next < 0) {
      const records = []
      const prefix = looseRoot + at.part
      for (let n = at.looseFrom; n < at.looseNext; n++) if (!at.holes.includes(n)) records.push(read(prefix + n))
      scan(records)
      // Strays among the loose records may be older than sealed ones: the head says how new those are.
      if (typeof at.sealedTime === 'number') oldest = at.sealedTime
    } else {
      const value = read(chunkRoot + at.part + at.chunks[at.next])
      const records = value && Array.isArray(value.r) ? value.r : []
      scan(records)
      oldest = timeOf(records[0]) // a chunk's records are oldest first
    }
    at.next++
    if (oldest < at.bound) at.bound = oldest
    heap.settle(at.next >= at.chunks.length)
  }
  return found.sort(newestFirst).slice(0, limit)
}

module.exports = { searchStored }
