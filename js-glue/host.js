// The store's backend on the JS side (src/wasm/host.rs): `wx` storage calls, and the documents the core
// names by handle. A value read stays a JS object; the core reads only the projection it asks for.
// Records are documents too, written under their own key or inside a chunk, changed by patches the
// core decides; the engine's native JSON does every serialising. wx keeps objects, so what it counts
// against its limits is the JSON the core counts.
'use strict'
const { utf8Length } = require('./wire.js')

function describe(err) {
  return (err && (err.errMsg || err.message)) || String(err)
}

function checkStorage(storage) {
  for (const method of ['getStorageSync', 'setStorageSync', 'removeStorageSync', 'getStorageInfoSync']) {
    if (!storage || typeof storage[method] !== 'function') {
      throw new TypeError(`mpchat: options.storage needs ${method} (pass wx, or an object with wx's Sync storage API)`)
    }
  }
}

/**
 * @param storage wx, or anything with its four Sync storage methods
 * @param wire the wire of the loaded wasm (wire.js)
 * @param projections the stored shapes' projections, in the core's order
 * @param statuses a record's statuses by the place the core counts (see `isIndexed`)
 * @param headLayout the paths a head is handed over as numbers by (`flatHead`; src/wasm head_layout)
 */
function createHost(storage, wire, projections, statuses = [], headLayout = null) {
  checkStorage(storage)
  // Whether a stored value is the record the core indexed (src/store RecordMeta::code: the status's
  // place, + 8 mine, + 16 recalled, + 32 mentioning me), with the fields a page relies on typed.
  const isIndexed = (value, conversation, id, time, code) => {
    if (typeof value !== 'object' || value.id !== id || value.time !== time || value.conversation !== conversation) return false
    const flag = (v) => (v === undefined ? false : v)
    const sender = value.sender
    return value.status === statuses[code & 7] && value.direction === (code & 8 ? 'out' : 'in') &&
      flag(value.recalled) === ((code & 16) !== 0) && flag(value.mentionsMe) === ((code & 32) !== 0) &&
      typeof value.type === 'string' && sender !== null && typeof sender === 'object' && typeof sender.id === 'string' &&
      (value.text === undefined || typeof value.text === 'string')
  }
  const docs = [] // handle -> JS value
  const json = [] // handle -> its JSON text, when known
  const free = []
  let lastError = ''
  let keyList = null // every key, until a write of ours changes it

  const adopt = (value, text) => {
    const handle = free.length ? free.pop() : docs.length
    docs[handle] = value
    json[handle] = text
    return handle
  }
  const textOf = (handle) => {
    let text = json[handle]
    if (text === undefined) {
      text = JSON.stringify(docs[handle])
      json[handle] = text
    }
    return text
  }
  const fail = (what, err) => {
    lastError = `${what}: ${describe(err)}`
    return -2
  }
  // The stored value of a key, or ABSENT (wx answers '' for a missing key; mpchat never stores a bare
  // string), or THREW (the failure noted for `error`). Sentinels, not closures: the conversation list
  // reads one value a conversation, and on iPhones every call made costs.
  const ABSENT = {}
  const THREW = {}
  const valueOf = (key, keyLength) => {
    let value
    try {
      value = storage.getStorageSync(wire.at(key, keyLength))
    } catch (err) {
      fail('getStorageSync', err)
      return THREW
    }
    return value === '' || value === undefined || value === null ? ABSENT : value
  }
  // The host's answer for a value that is not there: -1 absent, -2 the read threw; 0 for a value.
  const missing = (value) => (value === ABSENT ? -1 : value === THREW ? -2 : 0)
  const keepDocument = (value) => adopt(value, undefined)
  // A stored value kept as a document: -1 when the key is absent, -2 when the read throws, -3 when
  // `accept` refuses it.
  const getValue = (key, keyLength, accept) => {
    const value = valueOf(key, keyLength)
    return missing(value) || (accept(value) ? keepDocument(value) : -3)
  }
  const keepNone = () => { throw new TypeError('mpchat: a peeked value keeps no document') }
  // A head's paths in the order flatHead hands their values over: numbers, lengths, strings.
  const headPaths = headLayout ? headLayout.numbers.concat(headLayout.lengths, headLayout.strings) : []
  const headNumbers = headLayout ? headLayout.numbers.length : 0
  const headCounted = headLayout ? headNumbers + headLayout.lengths.length : 0
  const headTexts = new Array(headPaths.length - headCounted)
  // The tape of a value's projection, in the core's room when it fits (wire.place); its length.
  const project = (value, projection, room, roomLength, keep) => {
    try {
      wire.writer.length = 0
      wire.writer.write(value, projection, keep)
      return wire.place(room, roomLength)
    } catch (err) {
      return fail('reading a stored value', err)
    }
  }
  const allKeys = () => {
    if (keyList === null) keyList = storage.getStorageInfoSync().keys || []
    return keyList
  }
  const set = (key, value) => {
    keyList = null
    storage.setStorageSync(key, value)
  }
  // The keys starting with `prefix`, or (`countOnly`) how many there are: thousands of keys, one pass,
  // nothing built to be counted.
  const withPrefix = (prefix, countOnly) => {
    const keys = allKeys()
    const out = []
    let n = 0
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]
      if (typeof k !== 'string' || !k.startsWith(prefix)) continue
      if (countOnly) n++
      else out.push(k)
    }
    return countOnly ? n : out
  }

  return {
    adopt,
    /** A record as pages get it: a copy, so a page that edits it cannot change what is stored. */
    copy(handle) {
      return JSON.parse(textOf(handle))
    },
    /** Drops the cached key list (the app may have written keys since). */
    fresh() {
      keyList = null
    },
    get(key, keyLength) {
      return getValue(key, keyLength, () => true)
    },
    getRecord(key, keyLength, name, nameLength, id, idLength, time, code) {
      return getValue(key, keyLength, (value) => isIndexed(value, wire.at(name, nameLength), wire.at(id, idLength), time, code))
    },
    peek(key, keyLength, shape, room, roomLength) {
      const value = valueOf(key, keyLength)
      return missing(value) || project(value, projections[shape], room, roomLength, keepNone)
    },
    flatHead(key, keyLength, numbers, room, roomLength) {
      if (!headLayout) return -3
      const value = valueOf(key, keyLength)
      const absent = missing(value)
      if (absent) return absent
      // Each path a key and at most an index (src/wasm head_layout), walked inline: no call each, and
      // each value put where it goes as it is read.
      const out = wire.f64s(numbers, headCounted)
      for (let i = 0; i < headPaths.length; i++) {
        const path = headPaths[i]
        let v = value[path[0]]
        if (path.length > 1) v = v !== null && typeof v === 'object' ? v[path[1]] : undefined
        if (i < headNumbers) out[i] = typeof v === 'number' ? v : NaN
        else if (i < headCounted) out[i] = Array.isArray(v) ? v.length : v === undefined ? -1 : -2
        else headTexts[i - headCounted] = typeof v === 'string' ? v : null
      }
      // `project` without its generic dispatch (toJSON, the type switch): 200 heads an open, and going
      // through it made createChat of the full store 1% dearer in instructions on jsc --useJIT=false.
      try {
        wire.writer.length = 0
        wire.writer.array(headTexts, 1, keepNone, 0)
        return wire.place(room, roomLength)
      } catch (err) {
        return fail('reading a stored value', err)
      }
    },
    read(handle, shape, room, roomLength) {
      return project(docs[handle], projections[shape], room, roomLength, keepDocument)
    },
    take(at) {
      wire.copyTo(at)
    },
    create(text, length) {
      try {
        const source = wire.at(text, length)
        return adopt(JSON.parse(source), source)
      } catch (err) {
        return fail('a record', err)
      }
    },
    release(handle) {
      if (docs[handle] === undefined) return
      docs[handle] = undefined
      json[handle] = undefined
      free.push(handle)
    },
    setJson(key, keyLength, text, length) {
      try {
        set(wire.at(key, keyLength), JSON.parse(wire.at(text, length)))
        return 0
      } catch (err) {
        return fail('setStorageSync', err)
      }
    },
    setRecord(key, keyLength, handle) {
      try {
        set(wire.at(key, keyLength), docs[handle])
        return 0
      } catch (err) {
        return fail('setStorageSync', err)
      }
    },
    setChunk(key, keyLength, envelope, length, handles, count) {
      try {
        const chunk = JSON.parse(wire.at(envelope, length))
        const list = wire.u32s(handles, count)
        const records = new Array(count)
        for (let i = 0; i < count; i++) records[i] = docs[list[i]]
        chunk.r = records
        set(wire.at(key, keyLength), chunk)
        return 0
      } catch (err) {
        return fail('setStorageSync', err)
      }
    },
    remove(key, keyLength) {
      try {
        keyList = null
        storage.removeStorageSync(wire.at(key, keyLength))
        return 0
      } catch (err) {
        return fail('removeStorageSync', err)
      }
    },
    patch(handle, text, length) {
      try {
        const change = JSON.parse(wire.at(text, length))
        const record = docs[handle]
        const before = utf8Length(textOf(handle))
        if (change.id !== undefined) record.id = change.id
        if (change.time !== undefined) record.time = change.time
        if (change.status !== undefined) record.status = change.status
        if (change.recalledBy !== undefined) {
          delete record.text
          delete record.body
          record.recalled = true
          if (!record.ext || typeof record.ext !== 'object') record.ext = {}
          record.ext.recalledBy = change.recalledBy
        }
        if (change.edit !== undefined) {
          record.text = change.edit.text
          record.edited = { count: change.edit.count, time: change.edit.time, by: change.edit.by }
        }
        if (change.reactions !== undefined) {
          if (change.reactions.length > 0) record.reactions = change.reactions
          else delete record.reactions
        }
        if (change.uploaded !== undefined) {
          if (!record.body || typeof record.body !== 'object') record.body = {}
          record.body.url = change.uploaded.url
          if (change.uploaded.thumb !== undefined) record.body.thumb = change.uploaded.thumb
        }
        json[handle] = undefined
        return before * 0x1000000 + utf8Length(textOf(handle))
      } catch (err) {
        return fail('changing a record', err)
      }
    },
    measure(handle) {
      try {
        return utf8Length(textOf(handle))
      } catch (err) {
        return fail('measuring a stored value', err)
      }
    },
    keys(prefix, length) {
      try {
        // Sorted here, natively: the core wants them in order, and sorting costs it more.
        const matching = withPrefix(wire.at(prefix, length), false).sort()
        wire.writer.length = 0
        wire.writer.write(matching, 1)
        return wire.writer.length
      } catch (err) {
        return fail('getStorageInfoSync', err)
      }
    },
    count(prefix, length) {
      try {
        return withPrefix(wire.at(prefix, length), true)
      } catch (err) {
        return fail('getStorageInfoSync', err)
      }
    },
    error() {
      wire.writer.length = 0
      wire.writer.string(lastError)
      return wire.writer.length
    },
  }
}

module.exports = { createHost, checkStorage }
