// chat.fetchOlder through dist/mpchat with a scripted SDK 4.x connection (e2e-history drives the real SDK):
// the cursor starts at the oldest stored record and follows the server's, each page is stored in place
// without repeats, never unread, published, and handed back oldest first; [] when the server has no more.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { repoRoot } = require('./support/phone')
const { createWxStorage } = require('./support/wx-storage')

const mpchat = require(path.join(repoRoot, 'dist', 'mpchat', 'index.js'))

const plain = (value) => JSON.parse(JSON.stringify(value))

/** Message `i` of bob and alice's conversation on the server; even ones are bob's. */
const message = (i) => ({
  id: `s${String(i).padStart(3, '0')}`, type: 'txt', chatType: 'singleChat',
  from: i % 2 ? 'alice' : 'bob', to: i % 2 ? 'bob' : 'alice', time: 1000 + i * 10, msg: `text ${i}`,
})

/**
 * A connection serving `count` messages as the server does (SDK 4.x getHistoryMessages, searchDirection
 * 'up'): newest first from the cursor (the id of the page's first message) down; the cursor of the next
 * page, absent on the last.
 */
function server(count) {
  const all = Array.from({ length: count }, (_, i) => message(i))
  const calls = []
  const conn = {
    getHistoryMessages(options) {
      calls.push(plain(options))
      const from = options.cursor ? all.findIndex((m) => m.id === options.cursor) : all.length - 1
      const start = from < 0 ? all.length - 1 : from
      const messages = []
      for (let i = start; i >= 0 && messages.length < options.pageSize; i--) messages.push(all[i])
      const next = start - messages.length
      return Promise.resolve({ messages, cursor: next >= 0 ? all[next].id : undefined, isLast: next < 0 })
    },
  }
  return { conn, calls, all }
}

async function aliceHolding(ids, storage = createWxStorage()) {
  const chat = await mpchat.createChat({ user: 'alice', storage, profile: { nickname: 'Alice' } })
  for (const i of ids) assert.equal(chat.receive(message(i)).outcome, 'stored')
  return { chat, storage }
}

const ids = (records) => records.map((r) => r.id)
const range = (from, to) => Array.from({ length: to - from }, (_, i) => message(from + i).id)

test('fetchOlder: pages back from the oldest stored record, in place, without repeats, never unread', async () => {
  const { chat } = await aliceHolding([50, 51, 52, 53, 54])
  const { conn, calls } = server(55)
  const seen = []
  chat.subscribe('single:bob', (record, info) => seen.push([record.id, record.status, info]))
  const before = plain(chat.conversations())

  const first = plain(await chat.fetchOlder(conn, 'single:bob', { limit: 20 }))
  assert.deepEqual(calls[0], { targetId: 'bob', chatType: 'singleChat', pageSize: 20, searchDirection: 'up', cursor: 's050' })
  // The page starts at the record held already: it is left out.
  assert.deepEqual(ids(first), range(31, 50))
  assert.deepEqual(first.map((r) => r.status).slice(0, 2), ['sent', 'read'])
  assert.deepEqual(first[1].segments, [{ type: 'txt', data: 'text 32' }])
  assert.deepEqual(seen.map((s) => s[0]).sort(), range(31, 50))
  assert.ok(seen.every(([, , info]) => Object.keys(info).length === 0))

  const second = plain(await chat.fetchOlder(conn, 'single:bob'))
  assert.equal(calls[1].cursor, 's030', 'the server cursor of the last page')
  assert.deepEqual(ids(second), range(11, 31))
  const third = plain(await chat.fetchOlder(conn, 'single:bob', { limit: 500 }))
  assert.equal(calls[2].pageSize, 50, 'at most 50 a page')
  assert.deepEqual(ids(third), range(0, 11))
  assert.deepEqual(plain(await chat.fetchOlder(conn, 'single:bob')), [])
  assert.equal(calls.length, 3, 'the server said it has no more: not asked again')

  assert.deepEqual(ids(chat.history('single:bob', { limit: 100 })), range(0, 55))
  assert.deepEqual(plain(chat.conversations()), before, 'unread, activity and the last record unchanged')
  assert.equal(chat.unreadTotal(), 3)
  // What fetchOlder returned is what history returns.
  assert.deepEqual(plain(chat.history('single:bob', { before: 's011', limit: 11 })), third)
})

test('fetchOlder: a new device starts from the newest; a restart starts again from the oldest stored record', async () => {
  const storage = createWxStorage()
  const chat = await mpchat.createChat({ user: 'alice', storage, profile: { nickname: 'Alice' } })
  const { conn, calls } = server(30)
  assert.deepEqual(ids(await chat.fetchOlder(conn, 'single:bob', { limit: 10 })), range(20, 30))
  assert.equal(calls[0].cursor, undefined)
  const [row] = plain(chat.conversations())
  assert.deepEqual([row.conversation, row.unread, row.updatedAt, row.last.id], ['single:bob', 0, message(29).time, 's029'])
  assert.deepEqual(ids(await chat.fetchOlder(conn, 'single:bob', { limit: 10 })), range(10, 20))

  const again = await mpchat.createChat({ user: 'alice', storage, profile: { nickname: 'Alice' } })
  assert.deepEqual(ids(await again.fetchOlder(conn, 'single:bob', { limit: 5 })), range(6, 10))
  assert.equal(calls[2].cursor, 's010')
  assert.deepEqual(ids(again.history('single:bob', { limit: 100 })), range(6, 30))
})

test('fetchOlder: a page of records held already is passed over; a message received meanwhile stays unread', async () => {
  const { chat } = await aliceHolding([10, 12, 14, 16, 18, 20])
  const { conn, calls } = server(21)
  // The first page is the oldest record held, alone: the next page gives the new one.
  const page = plain(await chat.fetchOlder(conn, 'single:bob', { limit: 1 }))
  assert.deepEqual(calls.map((c) => c.cursor), ['s010', 's009'])
  assert.deepEqual(ids(page), ['s009'])
  chat.receive(message(22))
  assert.equal(chat.unreadTotal(), 7)
  assert.deepEqual(ids(chat.history('single:bob', { limit: 100 })), ['s009', 's010', 's012', 's014', 's016', 's018', 's020', 's022'])
})

test('fetchOlder: clear() starts paging over; a wrong conversation or an SDK without getHistoryMessages is refused', async () => {
  const { chat } = await aliceHolding([8, 9])
  const { conn, calls } = server(10)
  assert.deepEqual(ids(await chat.fetchOlder(conn, 'single:bob')), range(0, 8))
  assert.deepEqual(plain(await chat.fetchOlder(conn, 'single:bob')), [])
  chat.clear('single:bob')
  assert.deepEqual(ids(await chat.fetchOlder(conn, 'single:bob', { limit: 3 })), range(7, 10))
  assert.equal(calls.length, 2)

  await assert.rejects(chat.fetchOlder({}, 'single:bob'), /getHistoryMessages/)
  await assert.rejects(chat.fetchOlder(conn, 'bob'), /conversation/)
  await assert.rejects(chat.fetchOlder(conn, 'single:bob', { limit: 0 }), /limit/)
  await assert.rejects(chat.fetchOlder(undefined, 'single:bob'), /connection/)
  const failing = { getHistoryMessages: () => Promise.reject(new Error('not a member')) }
  await assert.rejects(chat.fetchOlder(failing, 'group:g9'), /not a member/)
})
