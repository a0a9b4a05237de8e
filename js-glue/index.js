// mpchat for WeChat mini-programs: the chat core (Rust compiled to WebAssembly) behind a small CommonJS API.
//   const mpchat = require('./mpchat')
//   const chat = await mpchat.createChat({ user: 'alice', profile: { nickname: 'Alice' } })
// See README.md for the whole contract.
'use strict'
const glue = require('./mpchat_glue.js')
const { createWire, utf8Length } = require('./wire.js')
const { createHost, checkStorage } = require('./host.js')
const { createEmojiParser } = require('./emoji.js')
const { searchStored } = require('./search.js')
const { Outbox, createSdkMessage, sendTimeout } = require('./send.js')
const modify = require('./modify.js')
const { fetchOlder } = require('./history.js')
const { Directory } = require('./directory.js')

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
        const wire = createWire(instance.exports)
        const joins = (codePoint) => glue.emoji_joins(codePoint)
        runtime = {
          wire,
          joins,
          projections: wire.json(glue.store_projections()),
          statuses: wire.json(glue.record_statuses()),
          headLayout: wire.json(glue.head_layout()),
          emoji: createEmojiParser(wire.json(glue.emoji_default()), joins),
        }
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

/** Writes a value onto the wire, or says why it cannot be read. */
function sendValue(wire, value, projection, what) {
  try {
    wire.send(value, projection)
    return null
  } catch (err) {
    return `${what} cannot be read: ${err && err.message}`
  }
}

// Lone UTF-16 surrogates are what JSON.stringify escapes as \udXXX (an escaped backslash before one
// is text); they become U+FFFD, as the core makes them in everything it reads.
function wellFormed(json) {
  if (json.indexOf('\\ud') === -1 && json.indexOf('\\uD') === -1) return json
  return json.replace(/(\\+)u([dD][89abAB][0-9a-fA-F]{2}|[dD][c-fC-F][0-9a-fA-F]{2})/g,
    (all, slashes) => (slashes.length % 2 === 1 ? `${slashes.slice(1)}\\ufffd` : all))
}

// SDK callbacks that carry messages, by message type. Images come to addEventHandler as onImageMessage
// and to the legacy listen() as onPictureMessage (SDK 4.21.1 calls only that one there).
const TYPING_REASON = 'a typing notice: an event for pages (chat.on(\'typing\')), never history'
const TYPING_INTERVAL_MS = 5000

const MESSAGE_EVENTS = ['onTextMessage', 'onImageMessage', 'onPictureMessage', 'onAudioMessage', 'onVideoMessage',
  'onFileMessage', 'onLocationMessage', 'onCmdMessage', 'onCustomMessage']

let handlerSerial = 0


class Chat {
  constructor(core, host, settings, options) {
    const { wire } = loaded()
    this._core = core
    this._host = host
    this._wire = wire
    this._message = settings.message
    this._build = settings.build
    this._consumed = new Set(settings.consumed)
    this._emoji = options.emoji ? createEmojiParser(settings.emoji, runtime.joins) : runtime.emoji
    this._listeners = new Map() // conversation name or '*' -> Set of listeners
    this._events = new Map() // 'evicted' | 'error' | 'typing' -> Set of listeners
    this._outbox = new Outbox(this, settings.sendTimeoutMs) // send.js
    this._typingSent = new Map() // conversation -> when my last typing notice went out
    this._fetchCursors = new Map() // conversation -> { cursor, done } of fetchOlder (history.js), this session
    this._directory = new Directory(this) // names and faces from the server (directory.js)
    this._flushTimer = null // a flush() due once the current task ends (see receive)
    this._flushSoon = () => {
      this._flushTimer = null
      const result = this.flush()
      if (result.outcome === 'unsaved') this._emit('error', new Error(`mpchat: a conversation's head is not stored yet: ${result.reason}`))
    }
    this.user = options.user
  }

  _json(length) {
    return this._wire.json(length)
  }

  _args(...values) {
    this._wire.send(values)
  }

  /**
   * Before an event that names a message by id (a recall, an edit, a reaction): the core reads the
   * conversations the event's sender, receiver and chat type name until it finds the record, which
   * this session may not have read.
   */
  _seek(id, from, to, chatType) {
    const text = (v) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '')
    this._args(text(id), text(from), text(to), text(chatType))
    this._core.seek()
  }

  /** A stored record as pages get it: a copy, its status with read marks applied, segments parsed. */
  _present(ref) {
    const record = this._host.copy(ref.doc)
    record.status = ref.status
    return this._withSegments(record, this._emoji.recordSegments)
  }

  /**
   * A record with its text's segments: by `parse` for one just made (received, sent, edited), whose text
   * is not remembered; `_present` passes the parser's `recordSegments`.
   */
  _withSegments(record, segmentsOf = this._emoji.parse) {
    if (record && typeof record.text === 'string') record.segments = segmentsOf(record.text)
    return record
  }

  /** The record the core decided, with the text and the ext the SDK's message carries. */
  _assemble(message, result) {
    const record = result.record
    if (result.text) record.text = message[result.text]
    const ext = message.ext
    const kept = {}
    if (ext && typeof ext === 'object' && !Array.isArray(ext)) {
      const keys = Object.keys(ext)
      for (let i = 0; i < keys.length; i++) if (!this._consumed.has(keys[i])) kept[keys[i]] = ext[keys[i]]
    }
    record.ext = kept
    return record
  }

  /**
   * Normalises a message: the core's result, with the record whole and its JSON, or `ignored`. `fetched`:
   * a message from the server's history, kept for the insert (history.js).
   */
  _normalized(message, keep, outgoing, fetched = false) {
    const unreadable = sendValue(this._wire, message, this._message, 'message')
    if (unreadable) return { outcome: 'ignored', reason: unreadable }
    const result = this._json(fetched ? this._core.normalize_fetched() : this._core.normalize(keep, outgoing))
    if (result.outcome !== 'ok') return result
    let json
    try {
      json = wellFormed(JSON.stringify(this._assemble(message, result)))
    } catch (err) {
      return { outcome: 'ignored', reason: `message cannot be read: ${err && err.message}` }
    }
    return { outcome: 'ok', conversation: result.conversation, json }
  }

  /** Stores a normalised record; returns the core's outcome and the record for pages. */
  _store(normalized) {
    const { json } = normalized
    const bytes = utf8Length(json)
    const doc = this._host.adopt(JSON.parse(json), json)
    const result = this._json(this._core.insert(doc, bytes))
    const record = this._withSegments(JSON.parse(json))
    if (record.direction === 'in') this._directory.sawSender(record.sender)
    // The core's result is this call's own object: filled in, not spread into a new one.
    result.conversation = normalized.conversation
    result.record = record
    return result
  }

  /** Options for WebIM.message.create (SDK 4.x), legacy fields included. Throws on bad input. */
  build(input) {
    const unreadable = sendValue(this._wire, input, this._build, 'build input')
    if (unreadable) throw new TypeError(`mpchat: ${unreadable}`)
    const { options, copy, extFromInput } = this._json(this._core.build())
    for (const key of copy) options[key] = input[key]
    if (extFromInput) {
      const ext = options.ext || (options.ext = {})
      for (const key of Object.keys(input.ext)) {
        const value = input.ext[key]
        if (value == null && key in ext) continue
        ext[key] = value
      }
    }
    return options
  }

  /** Reads any SDK message shape; stores nothing. Never throws. */
  normalize(message) {
    try {
      const result = this._normalized(message, false, false)
      if (result.outcome === 'typing') return { outcome: 'ignored', conversation: result.conversation, reason: TYPING_REASON }
      if (result.outcome !== 'ok') return result
      return { outcome: 'ok', conversation: result.conversation, record: this._withSegments(JSON.parse(result.json)) }
    } catch (err) {
      return { outcome: 'ignored', reason: `mpchat could not read the message: ${err && err.message}` }
    }
  }

  /**
   * Stores a message the SDK delivered and hands it to the subscribers of its conversation. Never throws.
   * @returns {{ outcome: 'stored'|'duplicate'|'ignored'|'unsaved', conversation?, record?, notified: number, reason? }}
   */
  receive(message) {
    try {
      const normalized = this._normalized(message, true, false)
      if (normalized.outcome === 'typing') return this._typingNotice(normalized)
      if (normalized.outcome !== 'ok') return { outcome: 'ignored', notified: 0, reason: normalized.reason }
      const result = this._store(normalized)
      result.notified = result.outcome === 'stored' || result.outcome === 'unsaved' ? this._publish(result.record) : 0
      if (result.outcome === 'ignored') delete result.record
      this._drainEvictions()
      // The head it left waiting (or what storage refused, tried again) once this task is over.
      if (this._flushTimer === null && (result.outcome === 'stored' || result.outcome === 'unsaved')) {
        this._flushTimer = setTimeout(this._flushSoon, 0)
      }
      return result
    } catch (err) {
      return { outcome: 'ignored', notified: 0, reason: `mpchat could not take the message: ${err && err.message}` }
    }
  }

  /**
   * Writes what waits to be written. A record received is on storage when `receive` returns; its
   * conversation's small head (unread count, newest record) is written once the current task is over,
   * so that a burst of messages (an offline backlog, a busy group) writes it once rather than with
   * each. If the app dies first nothing is lost: opening finds the records the head does not name
   * yet and takes them in. Call it where the app is about to be suspended (`onHide`) to save that
   * work at the next start, and before a chat on the same storage is replaced by a new one (a logout
   * and login), so that no timer of the old one writes after the new one opened. Never throws.
   * @returns {{ outcome: 'saved'|'unsaved', reason?: string }}
   */
  flush() {
    if (this._flushTimer !== null) {
      clearTimeout(this._flushTimer)
      this._flushTimer = null
    }
    try {
      const result = this._json(this._core.write_waiting())
      this._drainEvictions()
      return result
    } catch (err) {
      return { outcome: 'unsaved', reason: `mpchat could not write: ${err && err.message}` }
    }
  }

  /** A typing notice received: the 'typing' event (not for my own devices' notices), nothing stored. */
  _typingNotice({ conversation, from }) {
    if (from !== this.user) this._emit('typing', { conversation, from })
    return { outcome: 'ignored', conversation, notified: 0, reason: TYPING_REASON }
  }

  /**
   * Tells a one-to-one peer I am typing (Easemob's convention: a cmd message with action 'TypingBegin',
   * delivered only to online users), at most once per 5 s per conversation. Nothing is stored.
   * @returns {boolean} true when a notice went out, false when throttled
   */
  typing(conn, conversation, { WebIM } = {}) {
    const name = String(conversation)
    const [kind, ...rest] = name.split(':')
    const peer = rest.join(':')
    if (kind !== 'single' || !peer) {
      throw new TypeError(`mpchat: typing notices are one-to-one only ('single:<user>'), not ${JSON.stringify(name)}`)
    }
    if (peer === String(this.user)) throw new TypeError('mpchat: a typing notice goes to the other person, not to myself')
    const now = Date.now()
    const last = this._typingSent.get(name)
    if (last !== undefined && now - last < TYPING_INTERVAL_MS) return false
    const options = this.build({ type: 'cmd', chatType: 'singleChat', to: peer, action: 'TypingBegin', deliverOnlineOnly: true })
    const { message } = createSdkMessage(WebIM, options)
    this._typingSent.set(name, now)
    Promise.resolve()
      .then(() => conn.send(message))
      .catch((err) => this._emit('error', err))
    return true
  }

  /**
   * Builds, stores as 'sending', sends through the SDK connection, and settles the record: 'sent' under
   * the server id once the server acknowledges it, 'failed' (with `error`) when the SDK reports a refusal
   * or no acknowledgement came within `sendTimeoutMs`. A send whose socket dropped is sent again, as the
   * same message, once the SDK is connected again. With `file: { path, … }` (img, audio, video, file) the
   * picked file is uploaded with wx.uploadFile first, its progress published (media.js). Resolves to the
   * settled record; rejects only when the input is wrong (before anything is stored or reaches the SDK).
   */
  async send(conn, input, sdk = {}) {
    return this._outbox.send(conn, input, sdk || {})
  }

  /**
   * Sends a 'failed' record of mine again, as the same record and the same message: back to 'sending',
   * settled as send() settles it. Rejects when the record is unknown, someone else's, or not 'failed'.
   */
  async resend(conn, recordId, sdk = {}) {
    return this._outbox.resend(conn, recordId, sdk || {})
  }

  /**
   * Replaces the text of one of my own sent text messages (SDK 4.x conn.modifyMessage), then in storage:
   * record.text, record.edited { count, time, by }. Resolves to the updated record; rejects when the record
   * is unknown, someone else's, not a text, recalled or not sent, or when the server refuses.
   */
  async edit(conn, recordId, text, sdk = {}) {
    return modify.edit(this, conn, recordId, text, sdk || {})
  }

  /**
   * Adds (`on`, the default) or takes back my reaction on a stored message (SDK 4.x conn.addReaction /
   * conn.deleteReaction), then in storage: record.reactions [{ reaction, count, mine }]. Resolves to the
   * updated record.
   */
  async react(conn, recordId, reaction, on = true) {
    return modify.react(this, conn, recordId, reaction, on)
  }

  /**
   * Takes back one of my own sent messages (SDK conn.recallMessage), then in storage as any recall:
   * record.recalled, text and body gone. Resolves to the updated record; rejects when the record is
   * unknown, someone else's, not sent or already recalled, or when the server refuses.
   */
  async recall(conn, recordId) {
    return modify.recall(this, conn, recordId)
  }

  /**
   * The next page back of `conversation` from the server (SDK 4.x conn.getHistoryMessages), below the
   * oldest record stored or the last page fetched: stored (never unread), published to subscribers, and
   * resolved as history() returns records, oldest first; [] when the server has no more.
   */
  async fetchOlder(conn, conversation, options = {}) {
    return fetchOlder(this, conn, conversation, options || {})
  }

  /**
   * Fetches the server profiles (user attributes: nickname, avatarurl) of the `ids` not fetched within
   * `maxAgeMs` (default one day), 100 per SDK call, sanitised and kept across restarts. Resolves to
   * profile(id) of every id; rejects when the SDK does, keeping what was known.
   */
  async refreshProfiles(conn, ids, options = {}) {
    return this._directory.refreshProfiles(conn, ids, options || {})
  }

  /**
   * `{ id, nickname?, avatar?, source }`: the server profile ('server'), else the last profile seen in
   * the user's messages' ext ('ext'), else the id alone ('id'). Costs no wasm crossing.
   */
  profile(id) {
    return this._directory.profile(id)
  }

  /**
   * Lists my groups (conn.getJoinedGroups) and fetches the details (conn.getGroupInfo: name, avatar,
   * description) of those not fetched within `maxAgeMs` (default one day), sanitised and kept across
   * restarts. Resolves to [{ id, name, avatar?, description? }] (name is the id when the server has none).
   */
  async refreshGroups(conn, options = {}) {
    return this._directory.refreshGroups(conn, options || {})
  }

  /** `{ id, name?, avatar?, description?, source: 'server' | 'id' }`. Costs no wasm crossing. */
  groupProfile(id) {
    return this._directory.groupProfile(id)
  }

  /** An onModifiedMessage event, as attach() passes it on. Never throws. */
  receiveEdit(message) {
    return modify.receiveEdit(this, message)
  }

  /** An onReactionChange event, as attach() passes it on. Never throws. */
  receiveReactions(event) {
    return modify.receiveReactions(this, event)
  }

  _recordOf(id) {
    this._args(id)
    return this._json(this._core.record())
  }

  /**
   * Receives from an SDK connection: SDK 4.x addEventHandler, or the legacy listen() where that is all
   * there is ({ style: 'listen' } forces it; note listen() replaces the app's own legacy callbacks).
   * @returns {() => void} detach
   */
  attach(conn, { style } = {}) {
    if (!conn) throw new TypeError('mpchat: attach needs the SDK connection')
    const handlers = this._handlers(conn)
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

  _handlers(conn) {
    const safely = (fn) => (event) => {
      try {
        fn(event)
      } catch (err) {
        // Nothing is thrown into the SDK; the app can see what happened through on('error').
        this._emit('error', err)
      }
    }
    const update = (call, ...args) => {
      this._args(...args)
      return this._apply(this._json(call()), args[0])
    }
    const handlers = {}
    for (const name of MESSAGE_EVENTS) handlers[name] = safely((m) => this.receive(m))
    // The SDK reports the server's ack here before send() resolves; send() settles its own 4.x messages
    // (with the server time it resolves with). Legacy sends, and sends made without mpchat, are acked here.
    handlers.onReceivedMessage = safely((e) => {
      if (!e || !e.id || !e.mid) return
      if (this._outbox.acknowledged(String(e.id), String(e.mid))) return
      this._args(String(e.id), String(e.mid))
      this._apply(this._json(this._core.ack(NaN)), String(e.id))
    })
    // A new socket: sends that waited on the old one go out again (see send.js, reconnected).
    handlers.onConnected = safely(() => this._outbox.reconnected(conn))
    handlers.onOpened = safely(() => this._outbox.reconnected(conn))
    handlers.onMutedMessage = safely(() => this._outbox.muted(conn))
    handlers.onModifiedMessage = safely((m) => this.receiveEdit(m))
    handlers.onReactionChange = safely((e) => this.receiveReactions(e))
    handlers.onRecallMessage = safely((e) => {
      if (!e || !e.mid) return
      this._seek(e.mid, e.from, e.to, e.chatType)
      update(() => this._core.recall(), String(e.mid), String(e.from || ''))
    })
    handlers.onReadMessage = safely((e) => e && e.mid && update(() => this._core.read_ack(), String(e.mid)))
    handlers.onDeliveredMessage = safely((e) => e && e.mid && update(() => this._core.delivery_ack(), String(e.mid)))
    handlers.onChannelMessage = safely((e) => {
      if (!e) return
      const unreadable = sendValue(this._wire, e, 1, 'channel ack')
      if (unreadable) throw new TypeError(`mpchat: ${unreadable}`)
      this._apply(this._json(this._core.channel_ack()))
    })
    return handlers
  }

  _apply(result, previousId) {
    if (result && result.record) this._publish(this._present(result.record), previousId)
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

  /**
   * 'evicted': history removed to stay within the storage budget; 'error': a callback failed; 'typing';
   * 'directory': names and faces arrived ({ users: [id…] } or { groups: [id…] }).
   */
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
    return this._notify(record, previousId && previousId !== record.id ? { previousId } : {})
  }

  /** Calls the listeners of the record's conversation, then those of '*', each with its own copy of `info`. */
  _notify(record, info) {
    let notified = 0
    // Two lookups, not a loop over [conversation, '*']: an array and its iterator cost where JS is interpreted.
    for (let i = 0; i < 2; i++) {
      const set = this._listeners.get(i === 0 ? record.conversation : '*')
      if (!set) continue
      for (const listener of [...set]) {
        notified++
        try {
          listener(record, { ...info })
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
    if (!this._events.has('evicted')) {
      this._core.take_evictions()
      return
    }
    for (const event of this._json(this._core.take_evictions())) this._emit('evicted', event)
  }

  /**
   * Searches everything stored: the `limit` newest records whose text (or file name, or address)
   * contains `query` — Latin case-insensitively, CJK and emoji by substring — older than `before` (a
   * record id) when given, in one conversation when `conversation` is given. Newest first.
   * @returns {{ record: object, conversation: string }[]}
   */
  search(query, { conversation, limit = 20, before } = {}) {
    if (typeof query !== 'string' || query.trim() === '') {
      throw new TypeError('mpchat: search needs a non-empty string to look for')
    }
    let bound
    if (before != null) {
      const at = this._recordOf(String(before))
      if (!at.record) throw new TypeError(`mpchat: search: no stored record has id ${JSON.stringify(String(before))} (before)`)
      bound = this._host.copy(at.record.doc)
    }
    this._args(conversation == null ? null : String(conversation))
    const plan = this._json(this._core.search_plan())
    const found = searchStored(this._storage, plan, query, { limit: clampLimit(limit), before: bound })
    this._args(...found.map((r) => [r.conversation, r.time, r.id, r.direction, r.status]))
    const statuses = this._json(this._core.presented())
    return found.map((record, i) => {
      if (statuses[i]) record.status = statuses[i]
      return { record: this._withSegments(record), conversation: record.conversation }
    })
  }

  /** The `limit` newest records older than `before` (a record id), oldest first. */
  history(conversation, { before, limit = 20 } = {}) {
    this._args(String(conversation), before == null ? null : String(before))
    return this._json(this._core.history(clampLimit(limit))).map((ref) => this._present(ref))
  }

  /** [{ conversation, kind, id, last, unread, mentionsMe, updatedAt, muted }], most recently active first. */
  conversations() {
    // The core's rows are [conversation, doc, status, unread, updatedAt, flags, draft?] (src/wasm summary_json).
    const rows = this._json(this._core.conversations())
    const list = new Array(rows.length)
    for (let i = 0; i < rows.length; i++) {
      // Indexed, not destructured: where JavaScript is interpreted, destructuring runs the iterator protocol.
      const row = rows[i]
      const conversation = row[0]
      const flags = row[5]
      const colon = conversation.indexOf(':')
      list[i] = {
        conversation,
        kind: conversation.slice(0, colon),
        id: conversation.slice(colon + 1),
        last: this._present({ doc: row[1], status: row[2] }),
        unread: row[3],
        mentionsMe: (flags & 1) !== 0,
        updatedAt: row[4],
        muted: (flags & 2) !== 0,
        pinned: (flags & 4) !== 0,
        draft: row.length > 6 ? row[6] : '',
      }
    }
    return list
  }

  markRead(conversation) {
    this._args(String(conversation))
    return this._apply(this._json(this._core.mark_read()))
  }

  unreadTotal() { return this._core.unread_total() }

  mute(conversation, on = true) {
    this._args(String(conversation))
    return this._apply(this._json(this._core.mute(Boolean(on))))
  }

  /**
   * Keeps `text` as the conversation's draft on this phone ('' clears it): shown by conversations()
   * as `draft`, read back with draft(). Survives restarts; never sent.
   */
  setDraft(conversation, text) {
    if (typeof text !== 'string') throw new TypeError('mpchat: setDraft needs the draft as a string (\'\' clears it)')
    this._args(String(conversation), text)
    return this._json(this._core.set_draft())
  }

  /** The conversation's draft, '' when there is none. */
  draft(conversation) {
    this._args(String(conversation))
    return this._json(this._core.draft())
  }

  /** Pins (or with `on` false unpins) a conversation: conversations() lists pinned ones first. */
  pin(conversation, on = true) {
    this._args(String(conversation))
    return this._json(this._core.pin(Boolean(on)))
  }

  /**
   * Removes one stored record from this phone (the server and other phones keep theirs). Subscribers of
   * its conversation get the record as it was, with `removed: true`, and the info `{ removed: true }`.
   * Throws, removing nothing, when the record cannot be read from storage now.
   * @returns {{ outcome: 'updated' | 'notFound' | 'unsaved', reason?: string }}
   */
  remove(recordId) {
    const id = String(recordId)
    const before = this._beforeRemoval('remove', () => this._recordOf(id).record)
    this._args(id)
    return this._removed(this._json(this._core.remove()), before, { removed: true })
  }

  /**
   * Removes every record of `conversation` from this phone; it stays known (unread 0) and leaves
   * conversations() until a record comes. Subscribers get its newest record, with `removed: true`, and the
   * info `{ removed: true, cleared: true }`: every record of that conversation is gone.
   * @returns {{ outcome: 'updated' | 'unchanged' | 'notFound' | 'unsaved', reason?: string }}
   */
  clear(conversation) {
    return this._removeWhole('clear', conversation, () => this._core.clear())
  }

  /**
   * Removes `conversation` whole from this phone: its records, its state, its draft and its pin. Subscribers
   * are told as by clear().
   * @returns {{ outcome: 'updated' | 'notFound' | 'unsaved', reason?: string }}
   */
  removeConversation(conversation) {
    return this._removeWhole('removeConversation', conversation, () => this._core.remove_conversation())
  }

  /** clear() and removeConversation(): `run` removes every record of the conversation named by the args. */
  _removeWhole(call, conversation, run) {
    const name = String(conversation)
    this._fetchCursors.delete(name)
    const before = this._beforeRemoval(call, () => this._newestRef(name))
    this._args(name)
    return this._removed(this._json(run()), before, { removed: true, cleared: true })
  }

  _newestRef(conversation) {
    this._args(conversation, null)
    return this._json(this._core.history(1))[0]
  }

  /** The record a removal will tell subscribers of, read (and copied) before it goes. */
  _beforeRemoval(call, read) {
    let ref
    try {
      ref = read()
    } catch (err) {
      const reason = err && err.message ? err.message : String(err)
      throw new Error(`mpchat: ${call}: storage could not be read now (${reason}); nothing was removed`)
    }
    return ref ? this._present(ref) : null
  }

  _removed(result, record, info) {
    if (record && (result.outcome === 'updated' || result.outcome === 'unsaved')) {
      record.removed = true
      this._notify(record, info)
    }
    this._drainEvictions()
    return result
  }

  storageReport() { return this._json(this._core.storage_report()) }

  /** What opening found and did: repairs, skipped keys, format moves, the `migrate: true` import. */
  openReport() { return this._json(this._core.open_report()) }

  parseEmoji(text) { return this._emoji.parse(text) }

  deleteLast(text) {
    if (typeof text !== 'string') throw new TypeError(`mpchat.deleteLast expects a string, got ${typeof text}`)
    this._wire.send(text)
    return text.slice(0, this._core.delete_last())
  }

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

/**
 * Creates a chat for the logged-in user, opening its history in storage. See README.md for every option.
 * @param {import('./index').ChatOptions} options
 */
async function createChat(options) {
  if (!options || typeof options !== 'object') throw new TypeError('mpchat.createChat needs an options object')
  const { wire, projections, statuses, headLayout } = await load(options)
  const storage = options.storage || (typeof wx !== 'undefined' ? wx : undefined)
  if (!storage) throw new TypeError('mpchat: no storage; pass options.storage (wx in a mini-program)')
  checkStorage(storage)
  const sendTimeoutMs = sendTimeout(options.sendTimeoutMs)
  const config = {
    user: options.user,
    profile: options.profile,
    extKeys: options.extKeys,
    profilePolicy: options.profilePolicy,
    emoji: options.emoji,
    limits: options.limits,
    migrate: options.migrate,
  }
  const unreadable = sendValue(wire, config, 1, 'createChat options')
  if (unreadable) throw new TypeError(`mpchat: ${unreadable}`)
  const host = createHost(storage, wire, projections, statuses, headLayout)
  const core = new glue.ChatCore(host)
  const chat = new Chat(core, host, { ...wire.json(core.settings()), sendTimeoutMs }, options)
  chat._storage = storage
  return chat
}

/** Text → [{type:'txt', data}, {type:'emoji', data:'ee_1.png', code:'[):]'}] with the Easemob table. */
function parseEmoji(text) { return loaded().emoji.parse(text) }

/** What the input box's delete key leaves: a trailing emoji code goes whole, else the last character. */
function deleteLast(text) {
  const { wire } = loaded()
  if (typeof text !== 'string') throw new TypeError(`mpchat.deleteLast expects a string, got ${typeof text}`)
  wire.send(text)
  return text.slice(0, glue.delete_last_default())
}

/** The 35 Easemob codes in picker order, as [{ code, file }]. */
function emojiTable() { return loaded().emoji.table() }

const locales = new Map()

/** A time label: today 'HH:mm', yesterday '昨天 HH:mm', the weekday, 'M月D日', 'YYYY年M月D日'. */
function formatTime(ms, options = {}) {
  const { wire } = loaded()
  const { now = Date.now(), locale, utcOffsetMinutes } = options || {}
  let code = 0
  if (locale !== undefined && locale !== null) {
    code = locales.get(locale)
    if (code === undefined) {
      wire.send(String(locale))
      code = glue.locale_number()
      locales.set(locale, code)
    }
  }
  const offset = utcOffsetMinutes === undefined || utcOffsetMinutes === null ? NaN : Number(utcOffsetMinutes)
  return wire.text(glue.format_time(Number(ms), Number(now), offset, code))
}

module.exports = { createChat, load, parseEmoji, deleteLast, emojiTable, formatTime }
