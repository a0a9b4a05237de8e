// mpchat for WeChat mini-programs: the chat core (Rust compiled to WebAssembly) behind a small CommonJS API.
//   const mpchat = require('./mpchat')
//   const chat = await mpchat.createChat({ user: 'alice', profile: { nickname: 'Alice' } })
// See README.md for the whole contract.
'use strict'
const glue = require('./mpchat_glue.js')
const { storageAdapter } = require('./storage.js')

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
        const memory = instance.exports.memory
        runtime = { memory, emoji: makeEmojiParser(memory, new glue.EmojiScanner('')) }
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
    // Copies, so a page that edits its picker data cannot change the parser's table.
    table() {
      return entries.map((e) => ({ code: e.code, file: e.file }))
    },
    deleteLast(text) {
      if (typeof text !== 'string') throw new TypeError(`mpchat.deleteLast expects a string, got ${typeof text}`)
      return text.slice(0, scanner.delete_last(text))
    },
  }
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

// SDK callbacks that carry messages, by message type. Images come to addEventHandler as onImageMessage
// and to the legacy listen() as onPictureMessage (SDK 4.21.1 calls only that one there).
const MESSAGE_EVENTS = ['onTextMessage', 'onImageMessage', 'onPictureMessage', 'onAudioMessage', 'onVideoMessage',
  'onFileMessage', 'onLocationMessage', 'onCmdMessage', 'onCustomMessage']

let handlerSerial = 0

class Chat {
  constructor(core, emoji, options) {
    this._core = core
    this._emoji = emoji
    this._listeners = new Map() // conversation name or '*' -> Set of listeners
    this._events = new Map() // 'evicted' | 'updated' -> Set of listeners
    this._sending = new Set() // local ids whose send() is awaiting the SDK; send() settles them itself
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

  /**
   * Stores a message the SDK delivered and hands it to the subscribers of its conversation. Never throws.
   * @returns {{ outcome: 'stored'|'duplicate'|'ignored'|'unsaved', conversation?, record?, notified: number, reason? }}
   */
  receive(message) {
    try {
      const { json, error } = toJson(message, 'message')
      if (error) return { outcome: 'ignored', notified: 0, reason: error }
      const result = this._core.receive(json)
      result.notified = 0
      if (result.outcome === 'stored' || result.outcome === 'unsaved') {
        result.notified = this._publish(withSegments(this._emoji, result.record))
      } else if (result.record) {
        withSegments(this._emoji, result.record)
      }
      this._drainEvictions()
      return result
    } catch (err) {
      return { outcome: 'ignored', notified: 0, reason: `mpchat could not take the message: ${err && err.message}` }
    }
  }

  /**
   * Builds, stores as 'sending', sends through the SDK connection, and settles the record as 'sent' under
   * the server id or as 'failed'. Resolves to the record; rejects only when the input is wrong (before
   * anything reaches the SDK).
   */
  async send(conn, input, { WebIM } = {}) {
    const options = this.build(input)
    const message = createSdkMessage(WebIM, options)
    if (!message.from) message.from = this.user
    if (!message.time) message.time = Date.now()
    const pending = this._core.outgoing(jsonOrThrow(message, 'message'))
    if (pending.outcome === 'ignored') throw new Error(`mpchat: ${pending.reason}`)
    const localId = pending.record.id
    this._publish(withSegments(this._emoji, pending.record))
    let settled
    this._sending.add(localId)
    try {
      const result = await conn.send(message)
      const serverId = result && (result.serverMsgId || (result.message && result.message.id))
      const time = result && result.message && Number(result.message.time)
      settled = serverId
        ? this._core.ack(localId, String(serverId), Number.isFinite(time) && time > 0 ? time : undefined)
        : this._core.record(localId)
      // Acked already (another chat attached to the same connection): read it under the server id.
      if (!settled.record && serverId) settled = this._core.record(String(serverId))
    } catch (err) {
      settled = this._core.fail(localId)
      if (settled.record) settled.record.error = sdkError(err)
    } finally {
      this._sending.delete(localId)
    }
    const record = settled.record || pending.record
    this._publish(withSegments(this._emoji, record), localId)
    this._drainEvictions()
    return record
  }

  /**
   * Receives from an SDK connection: SDK 4.x addEventHandler, or the legacy listen() where that is all
   * there is ({ style: 'listen' } forces it; note listen() replaces the app's own legacy callbacks).
   * @returns {() => void} detach
   */
  attach(conn, { style } = {}) {
    if (!conn) throw new TypeError('mpchat: attach needs the SDK connection')
    const handlers = this._handlers()
    const useListen = style === 'listen' || (style !== 'handler' && typeof conn.addEventHandler !== 'function')
    if (!useListen) {
      const id = `mpchat-${this.user}-${++handlerSerial}`
      conn.addEventHandler(id, handlers)
      return () => conn.removeEventHandler(id)
    }
    if (typeof conn.listen !== 'function') throw new TypeError('mpchat: the connection has neither addEventHandler nor listen')
    conn.listen(handlers)
    return () => conn.listen({})
  }

  _handlers() {
    const safely = (fn) => (event) => {
      try {
        fn(event)
      } catch (err) {
        // Nothing is thrown into the SDK; the app can see what happened through on('error').
        this._emit('error', err)
      }
    }
    const handlers = {}
    for (const name of MESSAGE_EVENTS) handlers[name] = safely((m) => this.receive(m))
    // The SDK reports the server's ack here before send() resolves; send() settles its own messages
    // (with the server time it resolves with), so only sends made without mpchat are acked here.
    handlers.onReceivedMessage = safely((e) => e && e.id && e.mid && !this._sending.has(String(e.id))
      && this._apply(this._core.ack(String(e.id), String(e.mid), undefined), String(e.id)))
    handlers.onRecallMessage = safely((e) => e && e.mid && this._apply(this._core.recall(String(e.mid), String(e.from || ''))))
    handlers.onReadMessage = safely((e) => e && e.mid && this._apply(this._core.read_ack(String(e.mid))))
    handlers.onDeliveredMessage = safely((e) => e && e.mid && this._apply(this._core.delivery_ack(String(e.mid))))
    handlers.onChannelMessage = safely((e) => e && this._apply(this._core.channel_ack(jsonOrThrow(e, 'channel ack'))))
    return handlers
  }

  _apply(result, previousId) {
    if (result && result.record) this._publish(withSegments(this._emoji, result.record), previousId)
    if (result && result.records) for (const r of result.records) this._publish(withSegments(this._emoji, r))
    this._drainEvictions()
    return result
  }

  /**
   * Calls `listener(record, { previousId })` for each new or changed record of `conversation`
   * ('*' for every conversation). Returns the function that unsubscribes.
   */
  subscribe(conversation, listener) {
    if (typeof listener !== 'function') throw new TypeError('mpchat: subscribe needs a listener function')
    return addListener(this._listeners, String(conversation), listener)
  }

  /** 'evicted': history removed to stay within the storage budget; 'error': a callback failed. */
  on(event, listener) {
    if (typeof listener !== 'function') throw new TypeError('mpchat: on needs a listener function')
    return addListener(this._events, String(event), listener)
  }

  /** How many subscribe/on listeners are registered (pages should leave none behind). */
  listenerCount() {
    let n = 0
    for (const set of this._listeners.values()) n += set.size
    for (const set of this._events.values()) n += set.size
    return n
  }

  _publish(record, previousId) {
    let notified = 0
    const info = previousId && previousId !== record.id ? { previousId } : {}
    for (const key of [record.conversation, '*']) {
      const set = this._listeners.get(key)
      if (!set) continue
      for (const listener of [...set]) {
        notified++
        try {
          listener(record, info)
        } catch (err) {
          this._emit('error', err)
        }
      }
    }
    return notified
  }

  _emit(event, payload) {
    const set = this._events.get(event)
    if (!set) return
    for (const listener of [...set]) {
      try {
        listener(payload)
      } catch (_) {
        // A failing event listener must not stop the others.
      }
    }
  }

  _drainEvictions() {
    for (const event of this._core.take_evictions()) this._emit('evicted', event)
  }

  /** The `limit` newest records older than `before` (a record id), oldest first. */
  history(conversation, { before, limit = 20 } = {}) {
    const records = this._core.history(String(conversation), before == null ? undefined : String(before), clampLimit(limit))
    for (const r of records) withSegments(this._emoji, r)
    return records
  }

  /** [{ conversation, kind, id, last, unread, updatedAt, muted }], most recently active first. */
  conversations() {
    const list = this._core.conversations()
    for (const c of list) withSegments(this._emoji, c.last)
    return list
  }

  markRead(conversation) { return this._apply(this._core.mark_read(String(conversation))) }

  unreadTotal() { return this._core.unread_total() }

  mute(conversation, on = true) { return this._apply(this._core.mute(String(conversation), Boolean(on))) }

  storageReport() { return this._core.storage_report() }

  parseEmoji(text) { return this._emoji.parse(text) }

  deleteLast(text) { return this._emoji.deleteLast(text) }

  emojiTable() { return this._emoji.table() }
}

function addListener(map, key, listener) {
  let set = map.get(key)
  if (!set) map.set(key, (set = new Set()))
  set.add(listener)
  return () => {
    const current = map.get(key)
    if (!current) return
    current.delete(listener)
    if (current.size === 0) map.delete(key)
  }
}

function clampLimit(limit) {
  const n = Number(limit)
  if (!Number.isFinite(n) || n < 1) return 20
  return Math.min(Math.floor(n), 1000)
}

// SDK 4.x: WebIM.message.create(options). Older SDKs: new WebIM.message(type, id) then msg.set(options);
// their group flag is msg.setGroup('groupchat'), which build() already expresses as `group`/`roomType`.
function createSdkMessage(WebIM, options) {
  if (!WebIM || !WebIM.message) throw new TypeError('mpchat: send needs { WebIM } (the SDK module) to create the message')
  if (typeof WebIM.message.create === 'function') {
    const message = WebIM.message.create(options)
    if (!message || !message.id) throw new Error(`mpchat: WebIM.message.create gave no message for type ${options.type}`)
    return message
  }
  const id = typeof WebIM.conn === 'object' && WebIM.conn && typeof WebIM.conn.getUniqueId === 'function'
    ? WebIM.conn.getUniqueId() : `${Date.now()}${Math.floor(Math.random() * 1e6)}`
  const legacy = new WebIM.message(options.type, id) // eslint-disable-line new-cap
  legacy.set(options)
  if (options.group && typeof legacy.setGroup === 'function') legacy.setGroup(options.group)
  const body = legacy.body || legacy
  if (!body.id) body.id = id
  return body
}

function sdkError(err) {
  if (!err) return { message: 'send failed' }
  const code = err.type !== undefined ? err.type : err.code
  const message = err.message || err.reason || err.errorText || String(err)
  return code === undefined ? { message } : { code, message }
}

/**
 * Creates a chat for the logged-in user, opening its history in storage. See README.md for every option.
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
    limits: options.limits,
    migrate: options.migrate,
  }, 'createChat options')
  const storage = options.storage || (typeof wx !== 'undefined' ? wx : undefined)
  if (!storage) throw new TypeError('mpchat: no storage; pass options.storage (wx in a mini-program)')
  const core = new glue.ChatCore(config, storageAdapter(storage))
  const emoji = options.emoji ? makeEmojiParser(memory, core.emoji_scanner()) : runtime.emoji
  return new Chat(core, emoji, options)
}

/** Text → [{type:'txt', data}, {type:'emoji', data:'ee_1.png', code:'[):]'}] with the Easemob table. */
function parseEmoji(text) { return loaded().emoji.parse(text) }

/** What the input box's delete key leaves: a trailing emoji code goes whole, else the last character. */
function deleteLast(text) { return loaded().emoji.deleteLast(text) }

/** The 35 Easemob codes in picker order, as [{ code, file }]. */
function emojiTable() { return loaded().emoji.table() }

/** A time label: today 'HH:mm', yesterday '昨天 HH:mm', the weekday, 'M月D日', 'YYYY年M月D日'. */
function formatTime(ms, options = {}) {
  loaded()
  const { now = Date.now(), locale, utcOffsetMinutes } = options || {}
  return glue.format_time(Number(ms), jsonOrThrow({ now, locale, utcOffsetMinutes }, 'formatTime options'))
}

module.exports = { createChat, load, parseEmoji, deleteLast, emojiTable, formatTime }
