// WeChat sockets for code running in JavaScriptCore, carried to a server in the Node process that started
// jsc (harness runInJscAsync). jsc has no network; it has a blocking exchange with Node (`__jsc.ask`), so
// the sockets are polled in lockstep: each exchange carries the frames the code in jsc sent and brings back
// what happened on the Node side since (open, frames received, close), delivered in jsc one task each, as
// wx delivers socket events. The two halves share this file so the protocol lives in one place.
'use strict'

// ---- the jsc half ---------------------------------------------------------------------------------------

/**
 * A `wx.connectSocket` for jsc whose sockets live in the Node process. `stats` counts the exchanges and the
 * milliseconds jsc spent blocked in them: time a phone does not spend.
 */
function bridgedConnectSocket() {
  const stats = { exchanges: 0, ms: 0 }
  let serial = 0

  function connectSocket(options) {
    const id = ++serial
    const handlers = { open: [], message: [], close: [], error: [] }
    const outgoing = []
    let request = { id, url: options.url }
    let closing = null
    let state = 'connecting'
    let scheduled = false

    function schedule() {
      if (scheduled || state === 'closed') return
      scheduled = true
      setTimeout(exchange, 0)
    }

    function exchange() {
      scheduled = false
      if (state === 'closed') return
      request.send = outgoing.splice(0)
      if (closing) request.close = closing
      const start = __jsc.now()
      const events = __jsc.ask(request)
      stats.ms += __jsc.now() - start
      stats.exchanges++
      request = { id }
      for (const event of events) setTimeout(() => dispatch(event), 0)
      // Poll on while open: the server may push frames without being asked.
      schedule()
    }

    function dispatch({ type, ...event }) {
      if (state === 'closed') return
      if (type === 'open') {
        state = 'open'
        if (options.success) options.success({ errMsg: 'connectSocket:ok' })
        event = { header: {} }
      }
      if (type === 'message') event = { data: new Uint8Array(event.data).buffer }
      if (type === 'close') state = 'closed'
      for (const fn of handlers[type]) fn(event)
    }

    const bytes = (data) => Array.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data)
    schedule()
    return {
      onOpen(fn) { handlers.open.push(fn) },
      onMessage(fn) { handlers.message.push(fn) },
      onClose(fn) { handlers.close.push(fn) },
      onError(fn) { handlers.error.push(fn) },
      send({ data, success, fail, complete } = {}) {
        const result = { errMsg: state === 'open' ? 'sendSocketMessage:ok' : 'SocketTask.send:fail SocketTask.readyState is not OPEN' }
        if (state === 'open') {
          outgoing.push(bytes(data))
          schedule()
          if (success) success(result)
        } else if (fail) fail(result)
        if (complete) complete(result)
      },
      close({ code = 1000, reason = '', success, complete } = {}) {
        if (state === 'closed' || closing) return
        closing = { code, reason }
        schedule()
        if (success) success({ errMsg: 'closeSocket:ok' })
        if (complete) complete({ errMsg: 'closeSocket:ok' })
      },
    }
  }

  return { connectSocket, stats }
}

// ---- the Node half --------------------------------------------------------------------------------------

// Turns of Node's event loop with nothing new before an exchange is answered: the loopback server answers
// a frame two turns after it arrives.
const QUIET_TURNS = 3

/**
 * Answers the jsc half's exchanges (pass it as runInJscAsync's onAsk) with sockets made by `connectSocket`
 * (wx's signature; the loopback server's `wxConnectSocket`).
 */
function serveSockets(connectSocket) {
  const sockets = new Map() // id -> { task, events }
  return async function answer({ id, url, send = [], close }) {
    let socket = sockets.get(id)
    if (!socket) {
      const events = []
      const task = connectSocket({ url })
      task.onOpen(() => events.push({ type: 'open' }))
      task.onMessage(({ data }) => events.push({ type: 'message', data: Array.from(new Uint8Array(data)) }))
      task.onClose(({ code, reason }) => events.push({ type: 'close', code, reason }))
      task.onError(({ errMsg }) => events.push({ type: 'error', errMsg }))
      socket = { task, events }
      sockets.set(id, socket)
    }
    for (const frame of send) socket.task.send({ data: Uint8Array.from(frame) })
    if (close) socket.task.close(close)
    for (let quiet = 0, seen = -1; quiet < QUIET_TURNS;) {
      await new Promise((resolve) => setImmediate(resolve))
      quiet = socket.events.length === seen ? quiet + 1 : 0
      seen = socket.events.length
    }
    const answer = socket.events.splice(0)
    if (answer.some((e) => e.type === 'close')) sockets.delete(id)
    return answer
  }
}

module.exports = { bridgedConnectSocket, serveSockets }
