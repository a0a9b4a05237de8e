// (runs in JavaScriptCore) Receive-and-store: messages of one conversation through chat.receive, against the
// recipe (read the conversation's array, push, write it back: bench/recipe-store.js) and against the floor
// (each message written once under its own key), each on a fresh simulated wx storage counting UTF-16
// units. Every round runs all three; wall time per message.
'use strict'
const mpchat = require('/mpchat/index.js')
const { createWxStorage } = require('/support/wx-storage.js')
const { createRecipeStore } = require('/bench/recipe-store.js')
const { nowMicros, settle } = require('/bench/measure.js')

const ME = 'me'

// Each returns a function storing one message, or throwing what storage threw; `finish`, when there is
// one, writes what waits once the messages are in, on the clock (mpchat writes a conversation's head once
// a burst is over: chat.flush, which its own timer calls after the task).
const ways = {
  async mpchat(storage) {
    const chat = await mpchat.createChat({ user: ME, storage })
    const store = (message) => {
      const { outcome, reason } = chat.receive(message)
      if (outcome !== 'stored') throw new Error(`${outcome}: ${reason}`)
    }
    store.finish = () => {
      const { outcome, reason } = chat.flush()
      if (outcome !== 'saved') throw new Error(`${outcome}: ${reason}`)
    }
    return store
  },
  recipe: (storage) => createRecipeStore(storage, ME),
  floor: (storage) => (message) => storage.setStorageSync(`floor_${message.id}`, message),
}

// Stops at the first failure (the recipe's array outgrows wx's 1 MB key): cost per message tried until then.
async function pass(way, messages) {
  const storage = createWxStorage({ units: 'utf16' })
  const store = await ways[way](storage)
  let failure = null
  let tried = 0
  settle()
  const start = nowMicros()
  while (tried < messages.length && !failure) {
    try {
      store(messages[tried++])
    } catch (err) {
      failure = { at: tried, reason: err.message }
    }
  }
  if (store.finish && !failure) store.finish()
  const micros = (nowMicros() - start) / tried
  return { micros, failure, unitsWritten: storage.stats.bytesWritten / tried }
}

module.exports = async function receive({ messages, warmUp, rounds }) {
  await mpchat.load()
  for (const way of Object.keys(ways)) await pass(way, messages.slice(0, warmUp))
  const results = []
  for (let r = 0; r < rounds; r++) {
    const round = {}
    for (const way of Object.keys(ways)) round[way] = await pass(way, messages)
    results.push(round)
  }
  return results
}
