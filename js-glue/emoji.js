// Emoji codes in text, found in JS on the caller's own string: the text never crosses into wasm.
// It is the core's tokenizer (src/emoji.rs) run with the engine's string search: the table comes from
// the core, and whether a code may end or start beside a non-ASCII character (a combining mark, a
// prepend sign) is the core's Unicode answer, asked once per character and remembered. A code is `[`,
// then no bracket, then `]`, so each `[` has one candidate: the text up to the next bracket.
// tests/js/emoji.test.js checks this scanner against the core's on edge cases and on random text.
'use strict'

const OPEN = 0x5b // [
const CLOSE = 0x5d // ]
/**
 * Record texts whose codes are remembered, a bounded amount of them: a list shown again, or a page read
 * again, parses the same texts, and where JavaScript is interpreted a native lookup of the text costs a
 * fraction of finding its codes (the list of 200 conversations shown again: 2.59 -> 2.08 ms on
 * jsc --useJIT=false).
 */
const REMEMBERED_UNITS = 1 << 17 // UTF-16 units of text kept at most (256 KiB), texts of 2,048 at most
const NO_SPANS = []

/**
 * @param {[string, string][]} table [code, file] pairs in picker order
 * @param {(codePoint: number) => number} joins the core's answer: bit 1, no code starts after it;
 *   bit 2, no code ends before it
 */
function createEmojiParser(table, joins) {
  const entries = table.map(([code, file]) => ({ code, file }))
  // text -> its spans (never handed out, so shared safely); emptied when full.
  const remembered = new Map()
  let rememberedUnits = 0
  const index = new Map(entries.map((e, i) => [e.code, i]))
  const longest = entries.reduce((n, e) => Math.max(n, e.code.length), 0)
  // The core's answer per code point, remembered: BMP ones in a table (bits + 1; 0 not asked yet), where
  // an interpreted engine reads an element in a fraction of a Map lookup; the others in a Map.
  const bmpJoins = new Uint8Array(0x10000)
  const astralJoins = new Map()
  const joinsOf = (codePoint) => {
    if (codePoint < 0x10000) {
      const known = bmpJoins[codePoint]
      if (known !== 0) return known - 1
      const bits = joins(codePoint)
      bmpJoins[codePoint] = bits + 1
      return bits
    }
    let bits = astralJoins.get(codePoint)
    if (bits === undefined) {
      bits = joins(codePoint)
      astralJoins.set(codePoint, bits)
    }
    return bits
  }
  const startsClean = (text, open) => {
    if (open === 0 || text.charCodeAt(open - 1) < 0x80) return true
    const low = text.charCodeAt(open - 1)
    const pair = open >= 2 && low >= 0xdc00 && low <= 0xdfff && (text.charCodeAt(open - 2) & 0xfc00) === 0xd800
    return (joinsOf(text.codePointAt(pair ? open - 2 : open - 1)) & 1) === 0
  }
  const endsClean = (text, end) =>
    end >= text.length || text.charCodeAt(end) < 0x80 || (joinsOf(text.codePointAt(end)) & 2) === 0

  /**
   * Codes in `text` as [start, end, entry] triples, left to right. Brackets are found by the engine's
   * `indexOf`, each part of the text searched once: the next `[` after each candidate, and the next `]`
   * only once the last one found is behind.
   */
  function spans(text) {
    const out = []
    if (longest === 0) return out
    let open = text.indexOf('[')
    let close = -1
    while (open !== -1) {
      if (close < open) close = text.indexOf(']', open + 1)
      if (close === -1) return out
      const next = text.indexOf('[', open + 1)
      // The candidate is the text up to the first bracket after `[`: a `]` within a code's length.
      if ((next !== -1 && next < close) || close >= open + longest) {
        open = next
        continue
      }
      const end = close + 1
      const entry = index.get(text.slice(open, end))
      if (entry !== undefined && startsClean(text, open) && endsClean(text, end)) out.push(open, end, entry)
      open = next
    }
    return out
  }

  // Segments from a text's spans: fresh objects each time, for pages to keep or edit.
  function segmentsOf(text, found) {
    const segments = []
    let at = 0
    for (let i = 0; i < found.length; i += 3) {
      const start = found[i]
      if (start > at) segments.push({ type: 'txt', data: text.slice(at, start) })
      const e = entries[found[i + 2]]
      segments.push({ type: 'emoji', data: e.file, code: e.code })
      at = found[i + 1]
    }
    if (at < text.length) segments.push({ type: 'txt', data: at === 0 ? text : text.slice(at) })
    return segments
  }

  return {
    spans,
    /** Segments as WXML loops over them: {type:'txt', data} and {type:'emoji', data: file, code}. */
    parse(text) {
      if (typeof text !== 'string') throw new TypeError(`mpchat.parseEmoji expects a string, got ${typeof text}`)
      return segmentsOf(text, text.indexOf('[') === -1 ? NO_SPANS : spans(text))
    },
    /** `parse` for a stored record's text, which lists and pages show again: its codes are remembered. */
    recordSegments(text) {
      if (text.indexOf('[') === -1) return segmentsOf(text, NO_SPANS)
      let found = remembered.get(text)
      if (found === undefined) {
        found = spans(text)
        if (rememberedUnits + text.length > REMEMBERED_UNITS) {
          remembered.clear()
          rememberedUnits = 0
        }
        if (text.length <= REMEMBERED_UNITS / 64) {
          remembered.set(text, found)
          rememberedUnits += text.length
        }
      }
      return segmentsOf(text, found)
    },
    /** The table in picker order, as copies a page may edit. */
    table() {
      return entries.map((e) => ({ code: e.code, file: e.file }))
    },
  }
}

module.exports = { createEmojiParser }
