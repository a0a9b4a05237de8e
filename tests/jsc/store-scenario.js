// (runs in JavaScriptCore) One user's history through dist/mpchat on a simulated wx storage: messages over
// three conversations, a late one and repeats, a reopen, history paged with `before`, the conversation list,
// unread counts and markRead, and a second reopen. Returns what the user would see at each step, for
// tests/js/jsc.test.js to assert.
'use strict'
const mpchat = require('/mpchat/index.js')
const { createWxStorage } = require('/support/wx-storage.js')

const T0 = 1764000000000

// An SDK 4.x addEventHandler message, sent `id` seconds after T0.
function sdk(id, { from = 'bob', to = 'g1', chatType = 'groupChat', msg = `m${id}` } = {}) {
  return { id: String(id), type: 'txt', chatType, from, to, time: T0 + id * 1000, msg }
}
const fromCarol = (id) => sdk(id, { chatType: 'singleChat', from: 'carol', to: 'alice' })

module.exports = async function storeScenario() {
  const storage = createWxStorage()
  const open = () => mpchat.createChat({ user: 'alice', storage })
  const ids = (records) => records.map((r) => r.id)
  const summaries = (chat) => chat.conversations().map((c) => ({ conversation: c.conversation, unread: c.unread, last: c.last && c.last.id }))

  const first = await open()
  const outcomes = {}
  const deliver = (message) => { outcomes[message.id] = first.receive(message).outcome }
  for (let id = 1; id <= 30; id++) if (id !== 25) deliver(sdk(id, id === 7 ? { msg: 'see you [):]' } : {}))
  for (const id of [101, 102, 103, 104]) deliver(fromCarol(id))
  deliver(sdk(105, { chatType: 'singleChat', from: 'alice', to: 'carol' })) // from my other device
  for (const id of [201, 202]) deliver(sdk(id, { chatType: 'chatRoom', to: 'r1' }))
  deliver(sdk(25)) // late: older than what came before it
  const repeats = [sdk(10), fromCarol(104)].map((m) => first.receive(m).outcome)

  const chat = await open()
  const pages = []
  for (let page = chat.history('group:g1', { limit: 20 }); page.length;
    page = chat.history('group:g1', { before: page[0].id, limit: 20 })) pages.push(ids(page))
  const withEmoji = chat.history('group:g1', { before: '8', limit: 1 })[0]
  const carol = chat.history('single:carol')
  const listed = summaries(chat)
  const unreadTotal = chat.unreadTotal()
  chat.markRead('group:g1')
  const afterMarkRead = { list: summaries(chat), unreadTotal: chat.unreadTotal() }
  const again = await open()
  return {
    outcomes,
    repeats,
    pages,
    withEmoji: { id: withEmoji.id, text: withEmoji.text, segments: withEmoji.segments },
    carol: carol.map((r) => [r.id, r.direction]),
    listed,
    unreadTotal,
    afterMarkRead,
    afterReopen: { list: summaries(again), unreadTotal: again.unreadTotal(), status: again.history('group:g1', { limit: 1 })[0].status },
  }
}
