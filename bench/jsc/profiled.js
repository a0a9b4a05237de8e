// (runs in JavaScriptCore, under its sampling profiler: bench/profile.js) One scenario repeated long enough
// for the profile to say where its time goes, on a fresh simulated wx storage counting UTF-16 units:
// - open: createChat of the full store (bench/full-store.js), `rounds` times on the same storage;
// - list: createChat, then the first conversations() of each of `rounds` chats;
// - page: one chat on the full store, the newest 20-message page of each conversation in turn;
// - receive: `messages` into one conversation, `rounds` times, each on a fresh storage.
// Resolves to the milliseconds each round took, so a profile can be read against its run.
'use strict'
const mpchat = require('/mpchat/index.js')
const { createWxStorage } = require('/support/wx-storage.js')
const { nowMicros } = require('/bench/measure.js')

function restored(file) {
  const { values } = JSON.parse(__jsc.readText(file))
  const storage = createWxStorage({ units: 'utf16' })
  for (const key of Object.keys(values)) storage.setStorageSync(key, values[key])
  return storage
}

const scenarios = {
  async open({ file, user, rounds }, timed) {
    const storage = restored(file)
    for (let r = 0; r < rounds; r++) await timed(() => mpchat.createChat({ user, storage }))
  },
  async list({ file, user, rounds }, timed) {
    const storage = restored(file)
    for (let r = 0; r < rounds; r++) {
      const chat = await mpchat.createChat({ user, storage })
      await timed(() => chat.conversations())
    }
  },
  async page({ file, user, rounds }, timed) {
    const chat = await mpchat.createChat({ user, storage: restored(file) })
    const list = chat.conversations()
    for (let r = 0; r < rounds; r++) await timed(() => chat.history(list[r % list.length].conversation, { limit: 20 }))
  },
  async receive({ messages, user, rounds }, timed) {
    for (let r = 0; r < rounds; r++) {
      const chat = await mpchat.createChat({ user, storage: createWxStorage({ units: 'utf16' }) })
      await timed(() => {
        for (const message of messages) chat.receive(message)
      })
    }
  },
}

module.exports = async function profiled(context) {
  await mpchat.load()
  const millis = []
  const timed = async (fn) => {
    const start = nowMicros()
    await fn()
    millis.push(Math.round(nowMicros() - start) / 1000)
  }
  await scenarios[context.scenario](context, timed)
  return millis
}
