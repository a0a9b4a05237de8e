// (runs in JavaScriptCore, under valgrind: bench/instructions.js) One scenario stopped after `part` steps,
// so that the host instructions of each step are the difference between two runs:
// - receive: `part` 0 opens a chat on a fresh simulated wx storage, 1 then receives `messages`;
// - cold: the full store restored and collected (bench/full-store.js), then 1 createChat, 2 the first
//   conversations(), 3 the newest 20-message page.
'use strict'
const mpchat = require('/mpchat/index.js')
const { createWxStorage } = require('/support/wx-storage.js')
const { settle } = require('/bench/measure.js')

module.exports = async function counted({ scenario, part, messages, file, user }) {
  if (scenario === 'receive') {
    const chat = await mpchat.createChat({ user, storage: createWxStorage({ units: 'utf16' }) })
    settle()
    if (part >= 1) {
      for (const message of messages) chat.receive(message)
      // What the burst left waiting (a package from before chat.flush wrote it with each message).
      if (chat.flush) chat.flush()
    }
    return part
  }
  const { values } = JSON.parse(__jsc.readText(file))
  const storage = createWxStorage({ units: 'utf16' })
  for (const key of Object.keys(values)) storage.setStorageSync(key, values[key])
  await mpchat.load()
  settle()
  if (part < 1) return part
  const chat = await mpchat.createChat({ user, storage })
  if (part < 2) return part
  const list = chat.conversations()
  if (part < 3) return part
  chat.history(list[0].conversation, { limit: 20 })
  return part
}
