// mpchat (dist/mpchat) on real easemob-websdk clients logged in to the loopback server, wired as an app
// wires it: chat.attach(conn) and chat.send(conn, …) on the same connection.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')

const root = path.join(__dirname, '..', '..')
const { startServer } = require(path.join(root, 'loopback', 'server.js'))
const { connectClient } = require(path.join(root, 'loopback', 'client.js'))
const mpchat = require(path.join(root, 'dist', 'mpchat', 'index.js'))
const { createWxStorage } = require('./support/wx-storage')

// A guard so a missing delivery fails the test instead of hanging the run; no assertion depends on time.
const GUARD = { timeout: 15000 }

async function join(server, user) {
  const client = await connectClient(server, { user })
  const chat = await mpchat.createChat({ user, storage: createWxStorage(), profile: { nickname: user.toUpperCase() } })
  const detach = chat.attach(client.conn)
  return { client, chat, detach, close: async () => { detach(); await client.close() } }
}

test('send on an attached connection: one record, re-keyed to the server id, sent; the peer gets that id', GUARD, async () => {
  const server = await startServer({ users: ['alice', 'bob'], groups: { g1: ['alice', 'bob'] }, chatRooms: {} })
  const alice = await join(server, 'alice')
  const bob = await join(server, 'bob')
  try {
    for (const [chatType, to, conversation, peerConversation] of [
      ['singleChat', 'bob', 'single:bob', 'single:alice'],
      ['groupChat', 'g1', 'group:g1', 'group:g1'],
    ]) {
      const published = []
      const off = alice.chat.subscribe(conversation, (record, info) => published.push([record.id, record.status, info.previousId]))
      const arrived = new Promise(resolve => {
        const stop = bob.chat.subscribe(peerConversation, record => { stop(); resolve(record) })
      })
      const sent = await alice.chat.send(alice.client.conn, { type: 'txt', chatType, to, msg: 'hi [):]' }, { WebIM: alice.client.WebIM })
      off()
      const received = await arrived

      assert.equal(sent.status, 'sent', chatType)
      assert.match(sent.id, /^\d+$/, chatType)
      assert.equal(received.id, sent.id, chatType)
      const history = alice.chat.history(conversation).filter(r => r.text === 'hi [):]')
      assert.deepEqual(history.map(r => [r.id, r.status]), [[sent.id, 'sent']], chatType)
      // What a page sees: the message as sending under its local id, then under the server id, replacing it.
      const [localId] = published[0]
      assert.deepEqual(published[0], [localId, 'sending', undefined], chatType)
      assert.deepEqual(published[published.length - 1].slice(0, 2), [sent.id, 'sent'], chatType)
      assert.ok(published.slice(1).every(([id, , previousId]) => id === sent.id && previousId === localId), chatType)
    }
  } finally {
    await alice.close()
    await bob.close()
    await server.close()
  }
})
