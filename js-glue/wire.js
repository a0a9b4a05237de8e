// How values cross between the shim and the core (src/tape.rs, src/wasm/wire.rs). Into wasm, a JS
// value is walked once and written as a tape of UTF-16 units: only what a projection asks for (a
// message's text never crosses, only its length), no JSON text, no UTF-8 encoding in JS. Out of wasm,
// the core writes UTF-8 text that the engine's own functions decode. On an iPhone both the shim and
// the wasm run interpreted, so every character moved by a JS loop costs; these paths move few.
'use strict'

const NULL = 0
const FALSE = 1
const TRUE = 2
const NUM = 3
const STR = 4
const LEN = 5
const ARR = 6
const OBJ = 7
const DEPTH = 8
const DEEP = 9
const DOC = 10
const PLACED = 11
/** Deepest nesting written in full (src/tape.rs MAX_NESTING). */
const MAX_NESTING = 64
/** A tape longer than this is refused: every limit of the core is far below it. */
const MAX_UNITS = 8 * 1024 * 1024
/** Left-out strings longer than this many UTF-16 units get their UTF-8 length measured (64 KiB / 3). */
const MEASURE_OVER = 21845

/** UTF-8 bytes of a string, with the engine's regular expressions rather than a loop. */
function utf8Length(text) {
  const wide = text.replace(/[\x00-\x7f]+/g, '')
  if (wide.length === 0) return text.length
  // Each non-ASCII unit adds one byte; each of U+0800 and up (not a surrogate) one more.
  const narrow = wide.replace(/[\u0800-\ud7ff\ue000-\uffff]+/g, '')
  return text.length + wide.length + (wide.length - narrow.length)
}

class TapeWriter {
  constructor() {
    this.units = new Uint16Array(1024)
    this.length = 0
    this.number = new Float64Array(1)
    this.numberUnits = new Uint16Array(this.number.buffer)
  }

  room(more) {
    const need = this.length + more
    if (need <= this.units.length) return
    if (need > MAX_UNITS) throw new RangeError('value too large to hand to mpchat')
    let size = this.units.length * 2
    while (size < need) size *= 2
    const grown = new Uint16Array(size)
    grown.set(this.units.subarray(0, this.length))
    this.units = grown
  }

  u32(n) {
    this.units[this.length++] = n & 0xffff
    this.units[this.length++] = n >>> 16
  }

  patch32(at, n) {
    this.units[at] = n & 0xffff
    this.units[at + 1] = n >>> 16
  }

  chars(text) {
    const n = text.length
    if (this.length + n + 2 > this.units.length) this.room(n + 2)
    this.u32(n)
    const units = this.units
    let at = this.length
    let i = 0
    // Four units a step: interpreted, the loop's own test and jump cost as much as a unit's copy.
    for (; i + 4 <= n; i += 4, at += 4) {
      units[at] = text.charCodeAt(i)
      units[at + 1] = text.charCodeAt(i + 1)
      units[at + 2] = text.charCodeAt(i + 2)
      units[at + 3] = text.charCodeAt(i + 3)
    }
    for (; i < n; i++) units[at++] = text.charCodeAt(i)
    this.length = at
  }

  string(text) {
    this.tag(STR)
    this.chars(text)
  }

  lengths(text) {
    this.room(5)
    this.units[this.length++] = LEN
    this.u32(text.length)
    this.u32(text.length > MEASURE_OVER ? utf8Length(text) : 0xffffffff)
  }

  num(n) {
    // Not a call to Number.isFinite: `n - n` is 0 for every finite number and NaN otherwise.
    if (n - n !== 0) return this.tag(NULL)
    if (this.length + 5 > this.units.length) this.room(5)
    this.number[0] = n
    const u = this.numberUnits
    const units = this.units
    units[this.length++] = NUM
    units[this.length++] = u[0]
    units[this.length++] = u[1]
    units[this.length++] = u[2]
    units[this.length++] = u[3]
  }

  tag(t) {
    if (this.length >= this.units.length) this.room(1)
    this.units[this.length++] = t
  }

  /**
   * Writes `value` under `projection` (as src/tape.rs `Projection::to_json` writes it: 0 skip, 1 full,
   * 'len', 'depth', {k, o} object, {i} items, {d} document, {f: [[key, p], …]} an object's fields by place,
   * tagged PLACED) as JSON.stringify would see it: toJSON honoured, functions and undefined left out of
   * objects and null in arrays, non-finite numbers null.
   * `adopt(value)` numbers documents. Throws what JSON.stringify would throw (a BigInt, a getter).
   */
  write(value, projection, adopt, nesting = 0) {
    if (nesting > MAX_NESTING) return this.tag(DEEP)
    if (value !== null && typeof value === 'object' && typeof value.toJSON === 'function') value = value.toJSON()
    if (projection === 'depth') {
      this.room(2)
      this.units[this.length++] = DEPTH
      this.units[this.length++] = Math.min(depthOf(value, 0), 0xffff)
      return
    }
    if (projection !== null && typeof projection === 'object' && projection.d !== undefined) {
      this.room(3)
      this.units[this.length++] = DOC
      this.u32(adopt(value))
      return this.write(value, projection.d, adopt, nesting)
    }
    switch (typeof value) {
      case 'string':
        return projection === 'len' ? this.lengths(value) : this.string(value)
      case 'number':
        return this.num(value)
      case 'boolean':
        return this.tag(value ? TRUE : FALSE)
      case 'bigint':
        throw new TypeError('a BigInt cannot be handed to mpchat')
      case 'object':
        if (value === null) return this.tag(NULL)
        if (Array.isArray(value)) return this.array(value, projection, adopt, nesting)
        return projection !== null && typeof projection === 'object' && projection.f !== undefined
          ? this.fields(value, projection.f, adopt, nesting) : this.object(value, projection, adopt, nesting)
      default:
        return this.tag(NULL)
    }
  }

  array(items, projection, adopt, nesting) {
    const item = projection !== null && typeof projection === 'object' && projection.i !== undefined ? projection.i : 1
    this.room(5)
    this.units[this.length++] = ARR
    const mark = this.length
    this.length += 4
    for (let i = 0; i < items.length; i++) {
      const v = items[i]
      const type = typeof v
      // Numbers and strings in full straight away, as `fields` writes them: a head's marks and lists.
      if (type === 'number' && item === 1) this.num(v)
      else if (type === 'string' && item === 1) this.string(v)
      else if (v === undefined || v === null || type === 'function' || type === 'symbol') this.tag(NULL)
      else this.write(v, item, adopt, nesting + 1)
    }
    this.patch32(mark, items.length)
    this.patch32(mark + 2, this.length - mark - 4)
  }

  fields(object, fields, adopt, nesting) {
    this.room(5)
    this.units[this.length++] = PLACED
    const mark = this.length
    this.length += 4
    // Indexed, not destructured: where JavaScript is interpreted, destructuring runs the iterator protocol.
    for (let i = 0; i < fields.length; i++) {
      const name = fields[i][0]
      const p = fields[i][1]
      // Read first: most named fields are absent, and then no ownership check is made.
      const v = object[name]
      const type = typeof v
      if (v === undefined || type === 'function' || type === 'symbol' || p === 0 ||
        !Object.prototype.hasOwnProperty.call(object, name)) this.tag(NULL)
      // Numbers and strings in full straight away: most of a head's or a record's fields.
      else if (type === 'number' && p === 1) this.num(v)
      else if (type === 'string' && p === 1) this.string(v)
      else this.write(v, p, adopt, nesting + 1)
    }
    this.patch32(mark, fields.length)
    this.patch32(mark + 2, this.length - mark - 4)
  }

  object(object, projection, adopt, nesting) {
    const shaped = projection !== null && typeof projection === 'object' && projection.k !== undefined
    const keys = shaped ? projection.k : null
    const other = shaped ? projection.o : 1
    this.room(5)
    this.units[this.length++] = OBJ
    const mark = this.length
    this.length += 4
    let count = 0
    const names = Object.keys(object)
    for (let i = 0; i < names.length; i++) {
      const name = names[i]
      const p = keys !== null && Object.prototype.hasOwnProperty.call(keys, name) ? keys[name] : other
      if (p === 0) continue
      const v = object[name]
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue
      this.chars(name)
      this.write(v, p, adopt, nesting + 1)
      count++
    }
    this.patch32(mark, count)
    this.patch32(mark + 2, this.length - mark - 4)
  }
}

/** Nesting depth of a value (0 for a scalar), stopping past the core's limit. */
function depthOf(value, above) {
  if (value === null || typeof value !== 'object') return 0
  if (above > MAX_NESTING) return MAX_NESTING + 1
  let deepest = 0
  const children = Array.isArray(value) ? value : Object.keys(value).map((k) => value[k])
  for (let i = 0; i < children.length; i++) {
    const d = depthOf(children[i], above + 1)
    if (d > deepest) deepest = d
  }
  return deepest + 1
}

/** The shim's end of the wire to one wasm instance. */
function createWire(exports) {
  const writer = new TapeWriter()
  let buffer = null
  let bytes = null
  let units = null
  let f64View = null
  const views = () => {
    if (buffer !== exports.memory.buffer) {
      buffer = exports.memory.buffer
      bytes = new Uint8Array(buffer)
      units = new Uint16Array(buffer)
    }
  }
  const noAdopt = () => { throw new TypeError('mpchat: no document here') }

  return {
    writer,
    /** Writes `value` into the inbox for the next export to read. */
    send(value, projection = 1, adopt = noAdopt) {
      writer.length = 0
      writer.write(value, projection, adopt)
      this.flush()
    },
    /** Copies what the writer holds into the inbox. */
    flush() {
      const at = exports.inbox(writer.length)
      views()
      units.set(writer.units.subarray(0, writer.length), at >>> 1)
    },
    /** Copies what the writer holds to `at` (an address the core gave). */
    copyTo(at) {
      views()
      units.set(writer.units.subarray(0, writer.length), at >>> 1)
    },
    /**
     * The writer's tape copied to `at` when it fits in `room` units (else kept for a copyTo the core
     * asks for next); returns its length.
     */
    place(at, room) {
      if (writer.length <= room) this.copyTo(at)
      return writer.length
    },
    /** The text an export returned the length of (top bit: not ASCII). */
    text(length) {
      return this.at(exports.outbox(), length)
    },
    /**
     * UTF-8 text at an address: Latin-1 through fromCharCode, then, when the length's top bit says it
     * is not all ASCII, the engine's URI decoder.
     */
    at(address, length) {
      views()
      const n = length & 0x7fffffff
      let latin1 = ''
      for (let i = 0; i < n; i += 8192) {
        latin1 += String.fromCharCode.apply(null, bytes.subarray(address + i, address + Math.min(n, i + 8192)))
      }
      return length & 0x80000000 ? decodeURIComponent(escape(latin1)) : latin1
    },
    json(length) {
      return JSON.parse(this.text(length))
    },
    u32s(address, count) {
      views()
      return new Uint32Array(buffer, address, count)
    },
    /** A view of `count` numbers at `address`: the last one again when it is the same (a head a call). */
    f64s(address, count) {
      views()
      if (f64View === null || f64View.buffer !== buffer || f64View.byteOffset !== address || f64View.length !== count) {
        f64View = new Float64Array(buffer, address, count)
      }
      return f64View
    },
  }
}

module.exports = { TapeWriter, createWire, utf8Length }
