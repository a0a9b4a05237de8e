// A scripted SDK 4.x connection for send tests: WebIM.message.create gives a local id; conn.send hands each
// message to `reply(message, n)`, whose return value (a promise) is what conn.send returns.
// `conn.emit(event, payload)` plays an event to the handlers mpchat's attach() added. Also the replies
// most tests need: `ack(serverId, time)` acknowledges, `never` never settles.
'use strict'

function fakeSdk(reply) {
  let serial = 0
  const sent = []
  const handlers = new Map()
  const WebIM = { message: { create: (options) => ({ ...options, id: `local${++serial}`, time: Date.now() }) } }
  const conn = {
    open: true,
    isOpened() { return this.open },
    addEventHandler(id, h) { handlers.set(id, h) },
    removeEventHandler(id) { handlers.delete(id) },
    send(message) {
      sent.push(message)
      return reply(message, sent.length)
    },
    emit(event, payload) {
      for (const h of handlers.values()) if (h[event]) h[event](payload)
    },
  }
  return { WebIM, conn, sent }
}

const ack = (serverMsgId, time = Date.now()) => (message) => Promise.resolve({ localMsgId: message.id, serverMsgId, message: { ...message, id: serverMsgId, time } })
const never = () => new Promise(() => {})

module.exports = { fakeSdk, ack, never }
