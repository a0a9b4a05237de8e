// (runs in JavaScriptCore) An offline backlog delivered by the real SDK: the mini-program build of
// easemob-websdk logs in through a socket bridged to the loopback server in Node (tests/jsc/socket-bridge.js)
// and hands every message it syncs to mpchat's handlers (chat.attach). Times the whole from open() to the
// last message stored, the time jsc waited on the bridge, and the time spent inside mpchat's handlers.
'use strict'
const mpchat = require('/mpchat/index.js')
const { createWxStorage } = require('/support/wx-storage.js')
const { createFakeWx } = require('/loopback/fake-wx.js')
const { bridgedConnectSocket } = require('/jsc/socket-bridge.js')
const { nowMicros } = require('/bench/measure.js')

// The connection as attach() sees it, with each handler mpchat registers timed into `spent`.
function timedConnection(conn, spent) {
  const timed = (fn) => (event) => {
    const start = nowMicros()
    try {
      return fn(event)
    } finally {
      spent.micros += nowMicros() - start
      spent.calls++
    }
  }
  return {
    addEventHandler(id, handlers) {
      const wrapped = {}
      for (const [name, fn] of Object.entries(handlers)) wrapped[name] = timed(fn)
      conn.addEventHandler(id, wrapped)
    },
    removeEventHandler: (id) => conn.removeEventHandler(id),
  }
}

// Every id a chat on `storage` reads back, all conversations, paged as an app pages.
async function storedIds(user, storage) {
  const chat = await mpchat.createChat({ user, storage })
  const ids = []
  for (const { conversation } of chat.conversations()) {
    for (let page = chat.history(conversation, { limit: 50 }); page.length;
      page = chat.history(conversation, { before: page[0].id, limit: 50 })) {
      for (const record of page) ids.push(record.id)
    }
  }
  return ids
}

// guardMs: a lost message ends the run with what arrived instead of hanging it.
module.exports = async function backlog({ user, appKey, url, ids, guardMs }) {
  const bridge = bridgedConnectSocket()
  globalThis.wx = createFakeWx({ connectSocket: bridge.connectSocket }) // the SDK reads wx as it loads
  const sdk = require('/sdk/easemob-websdk.js')
  const WebIM = sdk.default || sdk
  WebIM.logger.disableAll()
  await mpchat.load()
  const storage = createWxStorage({ units: 'utf16' })
  const chat = await mpchat.createChat({ user, storage })
  const conn = new WebIM.connection({
    appKey, url, apiUrl: 'http://127.0.0.1', isHttpDNS: false, deviceId: 'webim', delivery: false,
  })
  const spent = { micros: 0, calls: 0 }
  const detach = chat.attach(timedConnection(conn, spent))
  // The heads a burst leaves are written by chat.flush, from mpchat's own timer: timed as its handlers are.
  const flush = chat.flush.bind(chat)
  chat.flush = () => {
    const start = nowMicros()
    try {
      return flush()
    } finally {
      spent.micros += nowMicros() - start
    }
  }
  const written = { ...storage.stats }
  const stored = new Set()
  const start = nowMicros()
  // The socket, and so the bridge, starts with open(); both clocks are read when the last message is stored.
  const { totalMicros, bridgeMicros, exchanges } = await new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`${stored.size} of ${ids.length} messages arrived`)), guardMs)
    chat.subscribe('*', (record) => {
      stored.add(record.id)
      if (stored.size === ids.length) {
        clearTimeout(guard)
        // What the last burst left waiting is written on the clock.
        chat.flush()
        resolve({ totalMicros: nowMicros() - start, bridgeMicros: bridge.stats.ms * 1000, exchanges: bridge.stats.exchanges })
      }
    })
    conn.open({ user, accessToken: `loopback-token-${user}` }).catch(reject)
  })
  detach()
  conn.close()
  const onStorage = new Set(await storedIds(user, storage))
  return {
    messages: ids.length,
    totalMicros,
    bridgeMicros,
    exchanges,
    handlerMicros: spent.micros,
    handlerCalls: spent.calls,
    sets: storage.stats.sets - written.sets,
    bytesWritten: storage.stats.bytesWritten - written.bytesWritten,
    storedOnReopen: ids.filter((id) => onStorage.has(id)).length,
    report: chat.storageReport(),
  }
}
