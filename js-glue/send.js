// Sending: chat.send and chat.resend, and everything that settles a send — the server's acknowledgement
// (4.x conn.send's promise; 1.x/3.x the message's success/fail callbacks and onReceivedMessage), a refusal,
// a socket that drops (the same message goes out again once the SDK is connected again), and the timeout
// after which a send that heard nothing is 'failed'. The records themselves are the core's: a send stores
// its record 'sending' (named among the sends in flight, store/pending.rs), then acks or fails it.
// A file the phone picked goes up first (media.js), and the message is sent once it is on the server.
'use strict'
const { fileSend, fileResend } = require('./media.js')

/** How long a send waits for the server's acknowledgement before its record is `failed` (createChat's sendTimeoutMs). */
const DEFAULT_SEND_TIMEOUT_MS = 15000
/** setTimeout's limit (about 24.8 days). */
const MAX_SEND_TIMEOUT_MS = 2147483647
/** Tries of one send on its own (the first, and repeats after reconnects); the timeout bounds them too. */
const MAX_ATTEMPTS = 5
/** While a send waits, how often the connection is looked at (for SDKs that say nothing on a reconnect). */
const POLL_MS = 500
/**
 * SDK errors that say the socket went away, not that the server refused: the send is repeated, as the same
 * message, once the SDK is connected again. 510 MESSAGE_WEBSOCKET_DISCONNECTED (4.x), 39 WEBIM_CONNECTION_CLOSED
 * (not logged in), 16 WEBIM_CONNCTION_DISCONNECTED, 32 WEBIM_CONNCTION_CLIENT_OFFLINE.
 */
const CONNECTION_LOST = new Set([510, 39, 16, 32])
/** What SDK 4.x reports when the sender is muted; 3.x reports it only through onMutedMessage. */
const MUTED = 507
/** Failed sends whose SDK message is kept for chat.resend in this session (else it is rebuilt from the record). */
const KEPT_MESSAGES = 32
/** The input fields of a file-like message that the record keeps (normalize.rs file_fields). */
const FILE_FIELDS = ['url', 'filename', 'thumb', 'file_length', 'width', 'height', 'length']
/** …and every body field a record keeps, which an SDK's message may lack (3.x sends no buildingName). */
const BODY_FIELDS = [...FILE_FIELDS, 'addr', 'buildingName', 'lat', 'lng']
const CHAT_TYPE_OF_KIND = { single: 'singleChat', group: 'groupChat', chatroom: 'chatRoom' }

let attemptSerial = 0

/**
 * The sends of one chat still waiting for an answer, by local id, and the connections they wait on. Asks
 * `chat` (index.js) to build, store and publish records.
 */
class Outbox {
  constructor(chat, timeoutMs) {
    this._chat = chat
    this._sendTimeoutMs = timeoutMs
    this._outgoing = new Map() // local id -> a send waiting for its acknowledgement (see _dispatch)
    this._links = new Map() // SDK connection -> what mpchat knows of it while sends wait on it
    this._kept = new Map() // local id -> { message, legacy } of a failed send, for resend
  }

  /**
   * The server's acknowledgement through onReceivedMessage ({ id: localId, mid: serverId }). Returns true
   * when it concerns a send of this outbox (settled here, or by conn.send's promise), false otherwise.
   */
  acknowledged(localId, serverId) {
    const out = this._outgoing.get(localId)
    if (!out) return false
    if (out.legacy || out.ackByEvent) this._acked(out, serverId, NaN)
    return true
  }

  /** chat.send (index.js): build, store 'sending', send, and resolve once settled. */
  async send(conn, input, sdk = {}) {
    checkConnection(conn, 'send')
    const { WebIM } = sdk
    const picked = fileSend(this._chat, conn, input, sdk)
    const options = this._chat.build(picked ? picked.input : input)
    const { message, legacy } = createSdkMessage(WebIM, options)
    if (!message.from) message.from = this._chat.user
    if (!message.time) message.time = Date.now()
    const normalized = this._chat._normalized(withInputFields(message, options), true, true)
    if (normalized.outcome !== 'ok') throw new Error(`mpchat: ${normalized.reason}`)
    const pending = this._chat._store(normalized)
    if (pending.outcome === 'ignored') throw new Error(`mpchat: ${pending.reason}`)
    const localId = pending.record.id
    if (this._outgoing.has(localId)) throw new Error(`mpchat: message ${JSON.stringify(localId)} is being sent already`)
    this._chat._publish(pending.record)
    this._chat._drainEvictions()
    if (picked) return this._uploadThenDispatch(conn, WebIM, localId, pending.record, picked.upload)
    return this._dispatch(conn, message, legacy, localId, pending.record)
  }

  /**
   * chat.resend: a 'failed' record of mine goes out again as the same message (the server knows a repeat by
   * its id) — the SDK message kept from its failed send in this session, else one rebuilt from the record.
   */
  async resend(conn, recordId, sdk = {}) {
    checkConnection(conn, 'resend')
    const { WebIM } = sdk
    if (typeof recordId !== 'string' || recordId === '') {
      throw new TypeError('mpchat: resend needs the id of a failed record (a string)')
    }
    if (this._outgoing.has(recordId)) throw new Error(`mpchat: resend: record ${JSON.stringify(recordId)} is being sent already`)
    this._chat._args(recordId)
    const found = this._chat._json(this._chat._core.resend(false))
    let kept = this._kept.get(recordId)
    let upload = null
    if (!kept) {
      const input = inputOf(this._chat._host.copy(found.record.doc))
      upload = fileResend(this._chat, conn, input, sdk)
      kept = createSdkMessage(WebIM, this._chat.build(input), recordId)
      if (!kept.message.from) kept.message.from = this._chat.user
    }
    this._chat._args(recordId)
    const started = this._chat._json(this._chat._core.resend(true))
    this._kept.delete(recordId)
    const record = started.record ? this._chat._present(started.record) : this._chat._present(found.record)
    this._chat._publish(record)
    this._chat._drainEvictions()
    if (upload) return this._uploadThenDispatch(conn, WebIM, recordId, record, upload)
    return this._dispatch(conn, kept.message, kept.legacy, recordId, record)
  }

  /**
   * A send whose file goes up first (media.js): once it is on the server the message is built again with
   * its URL (and the share secret receivers download with) and sent; a failed upload fails the record.
   */
  async _uploadThenDispatch(conn, WebIM, localId, record, upload) {
    let message
    let legacy
    try {
      const ready = await upload(record)
      ;({ message, legacy } = createSdkMessage(WebIM, this._chat.build(ready.input), localId))
      if (!message.from) message.from = this._chat.user
      if (ready.secret) (message.body || message).secret = ready.secret
      record = ready.record
    } catch (err) {
      return this._failed(localId, record, err && err.code === 'upload' ? err : sdkError(err))
    }
    return this._dispatch(conn, message, legacy, localId, record)
  }

  /** Sends a stored 'sending' record's message and resolves once it settles (see send). */
  _dispatch(conn, message, legacy, localId, record) {
    return new Promise((resolve) => {
      const out = {
        id: localId, conn, message, legacy, record, resolve,
        attempts: 0, epoch: 0, serial: 0, waiting: false, settled: false, acked: false, timer: null,
      }
      this._outgoing.set(localId, out)
      const link = this._link(conn)
      link.outgoing.add(out)
      out.timer = setTimeout(() => this._giveUp(out), this._sendTimeoutMs)
      this._attempt(out)
      this._watch(link)
    })
  }

  /** One try of a send through the SDK: 4.x conn.send's promise, or the legacy success/fail callbacks. */
  _attempt(out) {
    if (out.settled || out.attempts >= MAX_ATTEMPTS) return
    const link = this._link(out.conn)
    out.attempts++
    out.waiting = false
    out.epoch = link.epoch
    out.serial = ++attemptSerial
    const serial = out.serial
    const refused = (err) => this._refused(out, err, serial)
    try {
      if (out.legacy) {
        // 1.x/3.x: the callbacks ride on the message; success(localId, serverId), fail(error).
        out.message.success = (_, serverId) => (serverId ? this._acked(out, String(serverId), NaN) : undefined)
        out.message.fail = refused
        out.conn.send(out.message)
        return
      }
      Promise.resolve(out.conn.send(out.message)).then((result) => {
        const serverId = result && (result.serverMsgId || (result.message && result.message.id))
        const time = result && result.message && Number(result.message.time)
        // No server id: the acknowledgement comes through onReceivedMessage (attach).
        if (serverId) this._acked(out, String(serverId), Number.isFinite(time) && time > 0 ? time : NaN)
        else out.ackByEvent = true
      }, refused)
    } catch (err) {
      refused(err)
    }
  }

  /** The server has my message as `serverId`: the record is re-keyed and 'sent', also after a timeout. */
  _acked(out, serverId, time) {
    if (out.acked) return
    out.acked = true
    this._forget(out)
    let settled
    try {
      this._chat._args(out.id, serverId)
      settled = this._chat._json(this._chat._core.ack(time))
      // Acked already (another chat attached to the same connection): read it under the server id.
      if (!settled.record) settled = this._chat._recordOf(serverId)
    } catch (err) {
      this._chat._emit('error', err)
      settled = {}
    }
    const record = settled.record ? this._chat._present(settled.record) : out.record
    this._kept.delete(out.id)
    this._chat._publish(record, out.id)
    this._chat._drainEvictions()
    this._settle(out, record)
  }

  /** The SDK reports a failure of one try: a lost socket waits for the reconnect, anything else fails it. */
  _refused(out, err, serial) {
    if (out.settled || out.acked) return
    if (serial !== out.serial) return // an older try's failure; a newer one is under way
    if (connectionLost(err, out.conn)) {
      out.waiting = true
      // The SDK may report the loss after it is connected again (4.1.6 does): try again now.
      if (isOpen(out.conn)) setTimeout(() => { if (out.waiting) this._attempt(out) }, 0)
      return
    }
    this._fail(out, sdkError(err))
  }

  _giveUp(out) {
    if (out.settled || out.acked) return
    this._fail(out, { code: 'timeout', message: `no acknowledgement from the server within ${this._sendTimeoutMs} ms` })
  }

  /**
   * The record is 'failed' with `error`. Its tries may still be acknowledged later (a slow server, a lost
   * acknowledgement found again): then _acked makes it 'sent' and publishes it.
   */
  _fail(out, error) {
    out.settled = true
    this._forget(out)
    this._kept.delete(out.id)
    this._kept.set(out.id, { message: out.message, legacy: out.legacy })
    if (this._kept.size > KEPT_MESSAGES) this._kept.delete(this._kept.keys().next().value)
    out.resolve(this._failed(out.id, out.record, error))
  }

  /** Record `id` becomes 'failed' with `error`, and is published; returns it. */
  _failed(id, fallback, error) {
    let settled
    try {
      this._chat._args(id)
      settled = this._chat._json(this._chat._core.fail())
    } catch (err) {
      this._chat._emit('error', err)
      settled = {}
    }
    const record = settled.record ? this._chat._present(settled.record) : { ...fallback, status: 'failed' }
    record.error = error
    this._chat._publish(record)
    this._chat._drainEvictions()
    return record
  }

  _settle(out, record) {
    if (out.settled) return
    out.settled = true
    out.resolve(record)
  }

  /** The send no longer waits: no timer, no place among the connection's sends. */
  _forget(out) {
    if (out.timer !== null) clearTimeout(out.timer)
    out.timer = null
    out.waiting = false
    if (this._outgoing.get(out.id) === out) this._outgoing.delete(out.id)
    const link = this._links.get(out.conn)
    if (link) {
      link.outgoing.delete(out)
      if (link.outgoing.size === 0) this._unwatch(link)
    }
  }

  _link(conn) {
    let link = this._links.get(conn)
    if (!link) {
      link = { conn, epoch: 0, outgoing: new Set(), sawClosed: false, timer: null }
      this._links.set(conn, link)
    }
    return link
  }

  /** Looks at the connection now and then while sends wait on it: a reconnect nobody announced counts. */
  _watch(link) {
    if (link.timer !== null || link.outgoing.size === 0) return
    link.timer = setTimeout(() => {
      link.timer = null
      const open = isOpen(link.conn)
      if (open === false) link.sawClosed = true
      else if (open && link.sawClosed) this.reconnected(link.conn)
      else if (open) for (const out of [...link.outgoing]) if (out.waiting) this._attempt(out)
      this._watch(link)
    }, POLL_MS)
    if (typeof link.timer === 'object' && link.timer && typeof link.timer.unref === 'function') link.timer.unref()
  }

  _unwatch(link) {
    if (link.timer !== null) clearTimeout(link.timer)
    link.timer = null
    this._links.delete(link.conn)
  }

  /**
   * The SDK is connected (again): every send still waiting that went out on an earlier socket, or whose
   * socket was lost, goes out again as the same message. The server acknowledges a repeat with the id it
   * gave the first (it knows the message by its local id), so nothing reaches anyone twice.
   */
  reconnected(conn) {
    const link = this._links.get(conn)
    if (!link) return
    link.sawClosed = false
    link.epoch++
    for (const out of [...link.outgoing]) {
      if (!out.settled && !out.acked && (out.waiting || out.epoch < link.epoch)) this._attempt(out)
    }
  }

  /** 3.x reports a send refused for a muted sender only as onMutedMessage({ mid }), without the local id. */
  muted(conn) {
    const link = this._links.get(conn)
    if (!link) return
    // The server answers one socket's sends in order: the refusal is the oldest legacy try still unanswered.
    let oldest = null
    for (const out of link.outgoing) {
      if (out.legacy && !out.settled && !out.acked && !out.waiting && out.epoch === link.epoch && (!oldest || out.serial < oldest.serial)) oldest = out
    }
    if (oldest) this._fail(oldest, { code: MUTED, message: 'the sender is muted in this conversation (onMutedMessage)' })
  }
}

/** createChat's sendTimeoutMs, checked; the default when absent. */
function sendTimeout(value) {
  const ms = value == null ? DEFAULT_SEND_TIMEOUT_MS : value
  if (typeof ms !== 'number' || !(ms > 0) || ms > MAX_SEND_TIMEOUT_MS) {
    throw new TypeError(`mpchat: sendTimeoutMs must be a number of milliseconds from 1 to ${MAX_SEND_TIMEOUT_MS} (default ${DEFAULT_SEND_TIMEOUT_MS}); got ${String(ms)}`)
  }
  return ms
}

// SDK 4.x: WebIM.message.create(options). Older SDKs: new WebIM.message(type, id) then msg.set(options);
// their group flag is msg.setGroup('groupchat'), which build() already expresses as `group`/`roomType`.
// `id`, when given, is the message's id (a resend: the same message again). Returns { message, legacy }.
function createSdkMessage(WebIM, options, id) {
  if (!WebIM || !WebIM.message) throw new TypeError('mpchat: send needs { WebIM } (the SDK module) to create the message')
  if (typeof WebIM.message.create === 'function') {
    const message = WebIM.message.create(options)
    if (!message || !message.id) throw new Error(`mpchat: WebIM.message.create gave no message for type ${options.type}`)
    if (id) message.id = id
    // 4.0.x's create drops a cmd message's ext, and with it the sender's profile; its send writes it.
    if (message.ext === undefined && options.ext) message.ext = options.ext
    // 4.0.x's create keeps an uploaded image's url but not its size or file_length, and sends them only
    // from `body`: give it the body its own upload would have made, so receivers get them too.
    if (!message.body && typeof options.url === 'string' && FILE_FIELDS.some((k) => options[k] !== undefined && message[k] === undefined)) {
      message.body = uploadedBody(options)
    }
    // Without a body, 4.0.x sends an image's size only from `size`, which its create does not make.
    if (options.type === 'img' && !message.body && message.size === undefined && (options.width !== undefined || options.height !== undefined)) {
      message.size = { width: options.width || 0, height: options.height || 0 }
    }
    return { message, legacy: false }
  }
  if (!id) {
    id = typeof WebIM.conn === 'object' && WebIM.conn && typeof WebIM.conn.getUniqueId === 'function'
      ? WebIM.conn.getUniqueId() : `${Date.now()}${Math.floor(Math.random() * 1e6)}`
  }
  // 1.x/3.x name the location message `location` (its body's type is still 'loc').
  const constructor = options.type === 'loc' && typeof WebIM.message.loc !== 'function' ? 'location' : options.type
  const legacy = new WebIM.message(constructor, id) // eslint-disable-line new-cap
  if (!legacy || typeof legacy.set !== 'function') {
    throw new Error(`mpchat: this SDK's WebIM.message has no ${JSON.stringify(constructor)} message to send a ${options.type} message with`)
  }
  legacy.set(legacyOptions(options))
  if (options.group && typeof legacy.setGroup === 'function') legacy.setGroup(options.group)
  const body = legacy.body || legacy
  if (!body.id) body.id = id
  return { message: body, legacy: true }
}

/**
 * 1.x/3.x send an already uploaded file (a `url`, no `file` to upload) only from `body`, as their own upload
 * completion fills it: `{ type, url, filename, size: { width, height }, length, file_length }`. build() adds
 * that `body` for audio, video and file (4.x wants it too); an image gets it here.
 */
function legacyOptions(options) {
  if (typeof options.url !== 'string' || options.file || options.body) return options
  return { ...options, body: uploadedBody(options) }
}

function uploadedBody(options) {
  const body = { type: options.type, url: options.url }
  for (const key of ['filename', 'length', 'file_length']) if (options[key] !== undefined) body[key] = options[key]
  if (options.width !== undefined || options.height !== undefined) body.size = { width: options.width || 0, height: options.height || 0 }
  return body
}

/** The SDK message as the record reads it, with the input's body fields where the SDK's message has none. */
function withInputFields(message, options) {
  let view = message
  for (const key of BODY_FIELDS) {
    if (message[key] === undefined && options[key] !== undefined && options[key] !== null) {
      if (view === message) view = { ...message }
      view[key] = options[key]
    }
  }
  return view
}

/** The send input that builds a stored record's message again (its own profile is added by build). */
function inputOf(record) {
  const input = { ...(record.body || {}), type: record.type, chatType: CHAT_TYPE_OF_KIND[record.kind], to: record.to }
  if (typeof record.text === 'string') input.msg = record.text
  if (record.ext && typeof record.ext === 'object' && Object.keys(record.ext).length > 0) input.ext = record.ext
  if (record.mentions) input.mentions = record.mentions
  // The quote as it went out: the quoted record may be gone from history by now.
  const quote = record.quote
  if (quote && typeof quote === 'object') {
    input.ext = { ...(input.ext || {}), msgQuote: { msgID: quote.id, msgPreview: quote.preview, msgSender: quote.sender, msgType: quote.type } }
  }
  return input
}

function checkConnection(conn, call) {
  if (!conn || typeof conn.send !== 'function') throw new TypeError(`mpchat: ${call} needs the SDK connection (its send())`)
}

/** conn.isOpened() where the SDK has it: true, false, or undefined when it cannot tell. */
function isOpen(conn) {
  try {
    return typeof conn.isOpened === 'function' ? Boolean(conn.isOpened()) : undefined
  } catch (_) {
    return undefined
  }
}

function connectionLost(err, conn) {
  const code = err && Number(err.type !== undefined ? err.type : err.code)
  return CONNECTION_LOST.has(code) || isOpen(conn) === false
}

function sdkError(err) {
  if (!err) return { message: 'send failed' }
  const code = err.type !== undefined ? err.type : err.code
  const message = err.message || err.reason || err.errorText || String(err)
  return code === undefined ? { message } : { code, message }
}

module.exports = { Outbox, createSdkMessage, sendTimeout }
