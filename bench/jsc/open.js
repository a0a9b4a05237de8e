// (runs in JavaScriptCore, one fresh run each time) The cold open of a full store: load the wasm, then
// the storage dumped by bench/full-store.js is restored into a fresh simulated wx storage (counting UTF-16
// units) before any clock starts. Timed: what an app does on start (createChat, conversations(), the newest
// 20-message page of the most recent conversation), against the naive app that natively JSON.parses every
// stored value (getStorageSync of each key), each starting from a settled heap (bench/measure.js); then an
// older page and conversations() again; then `arriving`, new messages into one of its conversations, where
// the budget is full and each makes room by eviction.
'use strict'
const mpchat = require('/mpchat/index.js')
const { createWxStorage } = require('/support/wx-storage.js')
const { nowMicros, median, settle } = require('/bench/measure.js')

// A clock reading around one call: [micros, value].
async function timed(fn) {
  const start = nowMicros()
  const value = await fn()
  return [nowMicros() - start, value]
}

module.exports = async function open({ file, user, naiveRounds, arriving }) {
  const [loadMicros] = await timed(() => mpchat.load())
  const { values } = JSON.parse(__jsc.readText(file))
  const storage = createWxStorage({ units: 'utf16' })
  for (const key of Object.keys(values)) storage.setStorageSync(key, values[key])

  const keys = storage.getStorageInfoSync().keys
  const naive = []
  for (let r = 0; r < naiveRounds; r++) {
    settle()
    naive.push((await timed(() => { for (const key of keys) storage.getStorageSync(key) }))[0])
  }

  // The app starts on a settled heap, as on a phone; from here on, what mpchat leaves is collected on its clock.
  settle()
  const [createMicros, chat] = await timed(() => mpchat.createChat({ user, storage }))
  const [listMicros, list] = await timed(() => chat.conversations())
  const [pageMicros, page] = await timed(() => chat.history(list[0].conversation, { limit: 20 }))
  const [listAgainMicros] = await timed(() => chat.conversations())
  const [olderMicros, older] = await timed(() => chat.history(list[0].conversation, { before: page[0].id, limit: 20 }))
  let evictedRecords = 0
  chat.on('evicted', (event) => { evictedRecords += event.records })
  let arrivedStored = 0
  const [arrivingMicros] = await timed(() => {
    for (const message of arriving) arrivedStored += chat.receive(message).outcome === 'stored' ? 1 : 0
    chat.flush() // the heads the burst left waiting, on the clock
  })
  return {
    loadMicros,
    naiveMicros: median(naive),
    storedUnits: storage.totalBytes,
    values: keys.length,
    createMicros,
    listMicros,
    pageMicros,
    listAgainMicros,
    olderMicros,
    arrivingMicros: arrivingMicros / arriving.length,
    arrivedStored,
    evictedRecords,
    conversations: list.length,
    pageRecords: page.length,
    olderRecords: older.length,
  }
}
