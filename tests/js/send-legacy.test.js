// Sending through an SDK older than 4.x: no WebIM.message.create, a message built with
// `new WebIM.message(type, id)` + `set`, a connection with only listen(), and send() that returns nothing;
// the server ack arrives through onReceivedMessage.
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
    this.body = { ...options, id: this.id, type: this.type }
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
  }
  return { WebIM: { message, conn }, conn, sent, handlers: () => handlers }
}

test('legacy SDK: the group flag goes out, and the server ack re-keys the sending record', async () => {
  const { WebIM, conn, sent, handlers } = legacySdk()
  const chat = await mpchat.createChat({ user: 'alice', storage: createWxStorage() })
  chat.attach(conn)
  const record = await chat.send(conn, { type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'hi [):]' }, { WebIM })
  assert.equal(sent.length, 1)
  assert.equal(sent[0].group, 'groupchat')
  assert.equal(sent[0].roomType, false)
  assert.equal(record.status, 'sending')
  assert.equal(record.conversation, 'group:g1')
  handlers().onReceivedMessage({ id: record.id, mid: 'srv1', to: 'g1' })
  const history = chat.history('group:g1')
  assert.deepEqual(history.map((r) => [r.id, r.status]), [['srv1', 'sent']])
})
