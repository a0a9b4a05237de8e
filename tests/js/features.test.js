// Quote replies and typing notices through dist/mpchat on a simulated wx storage: what the SDK is
// handed, what pages get, and what is (not) stored.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { repoRoot } = require('./support/phone')
const { createWxStorage } = require('./support/wx-storage')

const mpchat = require(path.join(repoRoot, 'dist', 'mpchat', 'index.js'))
const T0 = 1_764_000_000_000

function sdk(id, { from = 'bob', to = 'alice', chatType = 'singleChat', type = 'txt', at = 0, ...fields } = {}) {
  return { id: String(id), type, chatType, from, to, time: T0 + at * 1000, ...fields }
}
const open = (storage, options = {}) => mpchat.createChat({ user: 'alice', storage, ...options })

test('quote: build fills ext.msgQuote from the stored record; an unknown id is an error', async () => {
  const chat = await open(createWxStorage())
  chat.receive(sdk('m1', { msg: '  周末\n去爬山吗？ [):]', ext: { userNickname: '鲍勃' } }))
  chat.receive(sdk('m2', { type: 'file', at: 1, url: 'https://x.example/f', filename: '行程.pdf', file_length: 9 }))
  const reply = chat.build({ type: 'txt', chatType: 'singleChat', to: 'bob', msg: '好啊', quote: 'm1' })
  assert.deepEqual(reply.ext.msgQuote, { msgID: 'm1', msgPreview: '周末 去爬山吗？ [):]', msgSender: '鲍勃', msgType: 'txt' })
  assert.equal(reply.msg, '好啊')
  const onFile = chat.build({ type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'got it', quote: 'm2' })
  // m2 carried no profile: its record has bob's last known name, and so has the quote.
  assert.deepEqual(onFile.ext.msgQuote, { msgID: 'm2', msgPreview: '[文件] 行程.pdf', msgSender: '鲍勃', msgType: 'file' })
  assert.throws(() => chat.build({ type: 'txt', to: 'bob', msg: 'x', quote: 'm404' }), /no stored record has id "m404"/)
  assert.throws(() => chat.build({ type: 'txt', to: 'bob', msg: 'x', quote: 7 }), /`quote` must be the id of a stored record/)
})

test('quote: a received msgQuote becomes record.quote, sanitised, and leaves ext', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  const quoted = { msgID: 'm0', msgPreview: 'see \u202Eyou\n\nthen', msgSender: ' \u200BAnn ', msgType: 'image' }
  const got = chat.receive(sdk('m3', { msg: 're', ext: { msgQuote: quoted, app: 1 } }))
  assert.equal(got.outcome, 'stored')
  assert.deepEqual(got.record.quote, { id: 'm0', preview: 'see you then', sender: 'Ann', type: 'img' })
  assert.deepEqual(got.record.ext, { app: 1 })
  const reopened = await open(storage)
  assert.deepEqual(reopened.history('single:bob')[0].quote, got.record.quote, 'a restart reads the quote back')
  const noId = chat.receive(sdk('m4', { at: 1, msg: 'x', ext: { msgQuote: { msgPreview: 'no id' } } }))
  assert.equal(noId.record.quote, undefined)
})

test('typing: a notice goes out at most once per 5 s, one-to-one only, and nothing is stored', async () => {
  const chat = await open(createWxStorage())
  const sent = []
  const conn = { send: async (message) => { sent.push(message) } }
  const WebIM = { message: { create: (options) => ({ ...options, id: `local${sent.length}` }) } }
  assert.equal(chat.typing(conn, 'single:bob', { WebIM }), true)
  assert.equal(chat.typing(conn, 'single:bob', { WebIM }), false, 'throttled')
  assert.equal(chat.typing(conn, 'single:carol', { WebIM }), true, 'per conversation')
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(sent.map((m) => [m.type, m.to, m.action, m.deliverOnlineOnly]), [['cmd', 'bob', 'TypingBegin', true], ['cmd', 'carol', 'TypingBegin', true]])
  assert.throws(() => chat.typing(conn, 'group:g1', { WebIM }), /one-to-one only/)
  assert.equal(chat.history('single:bob').length, 0)
})

test('typing: a received notice is an event, never history or unread; my other devices\' are not shown', async () => {
  const chat = await open(createWxStorage())
  const events = []
  chat.on('typing', (event) => events.push(event))
  const notice = (from, to) => sdk(`t-${from}`, { type: 'cmd', from, to, action: 'TypingBegin' })
  const result = chat.receive(notice('bob', 'alice'))
  assert.equal(result.outcome, 'ignored')
  assert.match(result.reason, /typing notice/)
  chat.receive(notice('alice', 'bob')) // typed on my phone
  assert.deepEqual(events, [{ conversation: 'single:bob', from: 'bob' }])
  assert.deepEqual([chat.history('single:bob').length, chat.unreadTotal(), chat.conversations().length], [0, 0, 0])
  assert.equal(chat.normalize(notice('bob', 'alice')).outcome, 'ignored')
  // Other cmd messages are still history.
  assert.equal(chat.receive(sdk('c1', { type: 'cmd', action: 'refresh' })).outcome, 'stored')
})
