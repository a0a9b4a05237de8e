// Sending through an SDK older than 4.x: no WebIM.message.create, a message built with
// `new WebIM.message(type, id)` + `set({..., success, fail})`, a connection with only listen(), and send()
// that returns nothing. The server's answer comes through the message's success/fail callbacks, and (for a
// muted sender, 3.x) only through onMutedMessage; send() settles on whichever comes.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { repoRoot } = require('./support/phone')
const { createWxStorage } = require('./support/wx-storage')

const mpchat = require(path.join(repoRoot, 'dist', 'mpchat', 'index.js'))

function legacySdk() {
  let serial = 0
  function message(type, id) {
    this.type = type
    this.id = id
    this.body = {}
  }
  message.prototype.set = function set(options) {
    // As 3.x does: the callbacks ride on the body the app hands to conn.send.
    this.body = { ...options, id: this.id, type: this.type, success: options.success, fail: options.fail }
  }
  message.prototype.setGroup = function setGroup(group) {
    this.body.group = group
  }
  const sent = []
  let handlers = {}
  const conn = {
    getUniqueId: () => `local${++serial}`,
    listen(h) { handlers = h },
    send(body) { sent.push(body) }, // 1.x/3.x: no promise
    isOpened: () => true,
  }
  return { WebIM: { message, conn }, conn, sent, handlers: () => handlers }
}

/** Lets send() reach the SDK (it is async up to the store). */
const tick = () => new Promise((resolve) => setImmediate(resolve))

async function legacyChat() {
  const sdk = legacySdk()
  const chat = await mpchat.createChat({ user: 'alice', storage: createWxStorage() })
  chat.attach(sdk.conn)
  const published = []
  chat.subscribe('*', (record, info) => published.push([record.status, record.id, info.previousId]))
  return { ...sdk, chat, published }
}

test('legacy SDK: the group flag goes out, and the server ack through onReceivedMessage settles send() as sent', async () => {
  const { WebIM, conn, sent, handlers, chat, published } = await legacyChat()
  const sending = chat.send(conn, { type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'hi [):]' }, { WebIM })
  await tick()
  assert.equal(sent.length, 1)
  assert.deepEqual([sent[0].group, sent[0].roomType], ['groupchat', false])
  assert.deepEqual(chat.history('group:g1').map((r) => [r.id, r.status]), [['local1', 'sending']])
  handlers().onReceivedMessage({ id: 'local1', mid: 'srv1', to: 'g1' })
  const record = await sending
  assert.deepEqual([record.id, record.status, record.conversation], ['srv1', 'sent', 'group:g1'])
  assert.deepEqual(chat.history('group:g1').map((r) => [r.id, r.status]), [['srv1', 'sent']])
  assert.deepEqual(published, [['sending', 'local1', undefined], ['sent', 'srv1', 'local1']])
})

test('legacy SDK: the success callback settles send() as sent, and the fail callback as failed with the SDK\'s error', async () => {
  const { WebIM, conn, sent, chat } = await legacyChat()
  const ok = chat.send(conn, { type: 'txt', to: 'bob', msg: 'one' }, { WebIM })
  const refused = chat.send(conn, { type: 'txt', to: 'nobody', msg: 'two' }, { WebIM })
  await tick()
  assert.equal(sent.length, 2)
  sent[0].success('local1', 'srv1')
  sent[1].fail({ type: 604, reason: 'username nobody doesn\'t exist!' })
  const [one, two] = await Promise.all([ok, refused])
  assert.deepEqual([one.id, one.status], ['srv1', 'sent'])
  assert.deepEqual([two.id, two.status, two.error], ['local2', 'failed', { code: 604, message: 'username nobody doesn\'t exist!' }])
  assert.deepEqual(chat.history('single:bob').map((r) => [r.id, r.status]), [['srv1', 'sent']])
  assert.deepEqual(chat.history('single:nobody').map((r) => [r.id, r.status]), [['local2', 'failed']])
})

test('legacy SDK: a muted sender\'s send, reported only by onMutedMessage, ends failed (507); the next one is sent', async () => {
  const { WebIM, conn, sent, handlers, chat } = await legacyChat()
  const muted = chat.send(conn, { type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'shh' }, { WebIM })
  await tick()
  handlers().onMutedMessage({ mid: 'srv-refused' })
  const failed = await muted
  assert.deepEqual([failed.id, failed.status, failed.error.code], ['local1', 'failed', 507])
  const next = chat.send(conn, { type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'free' }, { WebIM })
  await tick()
  sent[1].success('local2', 'srv2')
  assert.equal((await next).status, 'sent')
  assert.deepEqual(chat.history('group:g1').map((r) => [r.id, r.status]), [['local1', 'failed'], ['srv2', 'sent']])
})
