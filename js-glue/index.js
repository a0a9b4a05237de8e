// mpchat for WeChat mini-programs: the chat core (Rust compiled to WebAssembly) behind a small CommonJS API.
//   const mpchat = require('./mpchat')
//   const chat = await mpchat.createChat({ user: 'alice', profile: { nickname: 'Alice' } })
// See README.md for the whole contract.
'use strict'
const glue = require('./mpchat_glue.js')

const DEFAULT_WASM_PATH = '/mpchat/mpchat_bg.wasm.br'

let loading = null
let runtime = null

function platformInstantiate(wasmPath, imports) {
  // Phones have only WXWebAssembly, which takes a package path; DevTools has both, so it is tried first.
  if (typeof WXWebAssembly !== 'undefined') return WXWebAssembly.instantiate(wasmPath, imports)
  if (typeof WebAssembly !== 'undefined') return require('./load-node.js')(imports)
  return Promise.reject(new Error(
    'mpchat: this runtime has no WebAssembly; WeChat provides WXWebAssembly from base library 2.13.0'))
}

/**
 * Loads the wasm once; later calls return the same promise. createChat calls it for you.
 * @param {{ wasmPath?: string }} [options]
 */
function load(options = {}) {
  if (!loading) {
    const wasmPath = options.wasmPath || DEFAULT_WASM_PATH
    loading = Promise.resolve()
      .then(() => platformInstantiate(wasmPath, { './mpchat_bg.js': glue }))
      .then((result) => {
        // The typings say an Instance; real clients give { instance, module }. Accept both.
        const instance = result && result.instance ? result.instance : result
        if (!instance || !instance.exports) throw new Error(`mpchat: instantiating ${wasmPath} gave no exports`)
        glue.__wbg_set_wasm(instance.exports)
        runtime = makeRuntime(instance.exports.memory, new glue.EmojiScanner(''))
        return runtime
      })
      .catch((err) => {
        loading = null
        throw err
      })
  }
  return loading
}

function loaded() {
  if (!runtime) throw new Error('mpchat: not loaded yet; await mpchat.createChat(...) or mpchat.load() first')
  return runtime
}

// Emoji parsing crosses the boundary once per text: wasm reports where the codes are (UTF-16 offsets
// and table indices) and the segments are slices of the caller's own string.
function makeEmojiParser(memory, scanner) {
  const entries = scanner.entries()
  return {
    entries,
    parse(text) {
      if (typeof text !== 'string') throw new TypeError(`mpchat.parseEmoji expects a string, got ${typeof text}`)
      const count = scanner.scan(text)
      const segments = []
      let at = 0
      if (count > 0) {
        const spans = new Uint32Array(memory.buffer, scanner.spans_ptr(), count * 3)
        for (let i = 0; i < spans.length; i += 3) {
          const start = spans[i]
          if (start > at) segments.push({ type: 'txt', data: text.slice(at, start) })
          const entry = entries[spans[i + 2]]
          segments.push({ type: 'emoji', data: entry.file, code: entry.code })
          at = spans[i + 1]
        }
      }
      if (at < text.length) segments.push({ type: 'txt', data: at === 0 ? text : text.slice(at) })
      return segments
    },
    deleteLast(text) {
      if (typeof text !== 'string') throw new TypeError(`mpchat.deleteLast expects a string, got ${typeof text}`)
      return text.slice(0, scanner.delete_last(text))
    },
  }
}

function makeRuntime(memory, defaultScanner) {
  return { memory, emoji: makeEmojiParser(memory, defaultScanner) }
}

// Values go into wasm as JSON text: JSON.stringify copes with getters, drops functions, and fails cleanly
// on cycles, where a field-by-field walk could recurse without end.
function toJson(value, what) {
  try {
    const json = JSON.stringify(value)
    if (json === undefined) return { error: `${what} is ${typeof value}, not an object` }
    return { json }
  } catch (err) {
    return { error: `${what} cannot be read as JSON: ${err && err.message}` }
  }
}

function jsonOrThrow(value, what) {
  const { json, error } = toJson(value, what)
  if (error) throw new TypeError(`mpchat: ${error}`)
  return json
}

function withSegments(emoji, record) {
  if (record && typeof record.text === 'string') record.segments = emoji.parse(record.text)
  return record
}

class Chat {
  constructor(core, emoji, options) {
    this._core = core
    this._emoji = emoji
    this.user = options.user
  }

  /** Options for WebIM.message.create (SDK 4.x), legacy fields included. Throws on bad input. */
  build(input) {
    return this._core.build(jsonOrThrow(input, 'build input'))
  }

  /** Reads any SDK message shape; stores nothing. Never throws. */
  normalize(message) {
    const { json, error } = toJson(message, 'message')
    if (error) return { outcome: 'ignored', reason: error }
    const result = this._core.normalize(json)
    withSegments(this._emoji, result.record)
    return result
  }

  parseEmoji(text) { return this._emoji.parse(text) }

  deleteLast(text) { return this._emoji.deleteLast(text) }

  emojiTable() { return this._emoji.entries.map((e) => ({ code: e.code, file: e.file })) }
}

/**
 * Creates a chat for the logged-in user. See README.md for every option.
 * @param {import('./index').ChatOptions} options
 */
async function createChat(options) {
  if (!options || typeof options !== 'object') throw new TypeError('mpchat.createChat needs an options object')
  const { memory } = await load(options)
  const config = jsonOrThrow({
    user: options.user,
    profile: options.profile,
    extKeys: options.extKeys,
    profilePolicy: options.profilePolicy,
    emoji: options.emoji,
  }, 'createChat options')
  const core = new glue.ChatCore(config)
  const emoji = options.emoji ? makeEmojiParser(memory, core.emoji_scanner()) : runtime.emoji
  return new Chat(core, emoji, options)
}

/** Text → [{type:'txt', data}, {type:'emoji', data:'ee_1.png', code:'[):]'}] with the Easemob table. */
function parseEmoji(text) { return loaded().emoji.parse(text) }

/** What the input box's delete key leaves: a trailing emoji code goes whole, else the last character. */
function deleteLast(text) { return loaded().emoji.deleteLast(text) }

/** The 35 Easemob codes in picker order, as [{ code, file }]. */
function emojiTable() { return loaded().emoji.entries.map((e) => ({ code: e.code, file: e.file })) }

/** A time label: today 'HH:mm', yesterday '昨天 HH:mm', the weekday, 'M月D日', 'YYYY年M月D日'. */
function formatTime(ms, options = {}) {
  loaded()
  return glue.format_time(ms, jsonOrThrow(options, 'formatTime options'))
}

module.exports = { createChat, load, parseEmoji, deleteLast, emojiTable, formatTime }
