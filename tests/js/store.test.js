// The chat API end to end through dist/mpchat against a simulated wx storage: history, unread, keys,
// budget, corruption, migration, and listeners that leave nothing behind (storage faults: store-faults.test.js).
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { repoRoot } = require('./support/phone')
const { createWxStorage } = require('./support/wx-storage')

const mpchat = require(path.join(repoRoot, 'dist', 'mpchat', 'index.js'))
const T0 = 1_764_000_000_000

// An SDK 4.x addEventHandler message.
function sdk(id, { from = 'bob', to = 'g1', chatType = 'groupChat', at = Number(id), msg = `m${id}`, ext } = {}) {
  return { id: String(id), type: 'txt', chatType, from, to, time: T0 + at * 1000, msg, ext }
}

const open = (storage, options = {}) => mpchat.createChat({ user: 'alice', storage, ...options })
const ids = (records) => records.map((r) => r.id)

test('received messages are kept per conversation, in server-time order, late ones in place', async () => {
  const chat = await open(createWxStorage())
  for (const n of [1, 2, 4, 5]) assert.equal(chat.receive(sdk(n)).outcome, 'stored')
  assert.equal(chat.receive(sdk(3)).outcome, 'stored') // late, older than 4 and 5
  assert.equal(chat.receive(sdk(2)).outcome, 'duplicate')
  chat.receive(sdk(9, { chatType: 'singleChat', to: 'alice' }))
  chat.receive(sdk(10, { chatType: 'chatRoom', to: 'r1' }))
  assert.deepEqual(ids(chat.history('group:g1')), ['1', '2', '3', '4', '5'])
  assert.deepEqual(ids(chat.history('group:g1', { before: '4', limit: 2 })), ['2', '3'])
  assert.deepEqual(ids(chat.history('single:bob')), ['9'])
  assert.deepEqual(chat.conversations().map((c) => c.conversation), ['chatroom:r1', 'single:bob', 'group:g1'])
})

test('unread: my other devices and muted conversations do not count; markRead clears', async () => {
  const chat = await open(createWxStorage())
  chat.receive(sdk(1))
  chat.receive(sdk(2, { from: 'alice' })) // sent from my phone while this device was on
  chat.receive(sdk(3, { to: 'g2' }))
  assert.equal(chat.history('group:g1')[1].direction, 'out')
  assert.equal(chat.unreadTotal(), 2)
  chat.mute('group:g2', true)
  assert.equal(chat.unreadTotal(), 1)
  chat.receive(sdk(4, { to: 'g2' }))
  assert.equal(chat.unreadTotal(), 1)
  chat.markRead('group:g1')
  assert.equal(chat.unreadTotal(), 0)
  assert.equal(chat.history('group:g1')[0].status, 'read')
  chat.receive(sdk(5, { to: 'g2', ext: { em_at_list: ['alice'] } })) // muted, but it names me
  chat.receive(sdk(6, { to: 'g2' }))
  const byName = Object.fromEntries(chat.conversations().map((c) => [c.conversation, c]))
  assert.equal(byName['group:g1'].unread, 0)
  assert.equal(byName['group:g2'].muted, true)
  assert.equal(byName['group:g2'].mentionsMe, true)
  assert.equal(byName['group:g1'].mentionsMe, false)
  chat.markRead('group:g2')
  assert.equal(chat.conversations().find((c) => c.conversation === 'group:g2').mentionsMe, false)
})

test('keys are namespaced per user and never touch the app or collide across ids', async () => {
  const storage = createWxStorage()
  storage.setStorageSync('group_g1', ['the app’s own value'])
  storage.setStorageSync('token', 'secret')
  const alice = await open(storage)
  const bob = await mpchat.createChat({ user: 'bob', storage })
  alice.receive(sdk(1, { from: 'group_x', to: 'alice', chatType: 'singleChat' }))
  alice.receive(sdk(2, { from: 'carol', to: 'x', chatType: 'groupChat' }))
  alice.receive(sdk(3, { from: 'carol', to: 'a/b%2Fc', chatType: 'groupChat' }))
  alice.receive(sdk(4, { from: 'carol', to: 'a%2Fb/c', chatType: 'groupChat' }))
  bob.receive(sdk(5, { from: 'carol', to: 'x' }))
  assert.deepEqual(ids(alice.history('single:group_x')), ['1'])
  assert.deepEqual(ids(alice.history('group:x')), ['2'])
  assert.deepEqual(ids(alice.history('group:a/b%2Fc')), ['3'])
  assert.deepEqual(ids(alice.history('group:a%2Fb/c')), ['4'])
  assert.deepEqual(ids(bob.history('group:x')), ['5'])
  assert.deepEqual(storage.getStorageSync('group_g1'), ['the app’s own value'])
  assert.equal(storage.getStorageSync('token'), 'secret')
  const foreign = [...storage.raw.keys()].filter((k) => !k.startsWith('mpchat/2/'))
  assert.deepEqual(foreign.sort(), ['group_g1', 'token'])
})

test('history survives a restart: a new chat on the same storage reads what was stored', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  for (let n = 1; n <= 200; n++) chat.receive(sdk(n, { to: `g${n % 5}` }))
  const again = await open(storage)
  for (let g = 0; g < 5; g++) {
    assert.deepEqual(ids(again.history(`group:g${g}`, { limit: 1000 })), ids(chat.history(`group:g${g}`, { limit: 1000 })))
  }
  assert.equal(again.unreadTotal(), 200)
})

test('opening reads each head once, marks and all, and a broken one is still rebuilt', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  for (let n = 1; n <= 90; n++) chat.receive(sdk(n, { to: `g${n % 3}`, ext: n === 89 ? { em_at_list: ['alice'] } : undefined }))
  chat.markRead('group:g1') // heads with a read mark (g1) and a mention mark (g2)
  const heads = () => [...storage.raw.keys()].filter((k) => k.includes('/h/'))
  const reads = new Map()
  const get = storage.getStorageSync
  storage.getStorageSync = (key) => {
    reads.set(key, (reads.get(key) || 0) + 1)
    return get.call(storage, key)
  }
  const again = await open(storage)
  assert.equal(heads().length, 3)
  // Each head is read once (src/store/layout.rs decode_flat), marks and all.
  assert.deepEqual(heads().map((k) => [k.slice(-2), reads.get(k)]).sort(), [['g0', 1], ['g1', 1], ['g2', 1]])
  assert.deepEqual(again.conversations().map((c) => [c.conversation, c.unread, c.mentionsMe]),
    chat.conversations().map((c) => [c.conversation, c.unread, c.mentionsMe]))
  assert.deepEqual(ids(again.history('group:g2', { limit: 40 })), ids(chat.history('group:g2', { limit: 40 })))
  // A head whose numbers are no longer numbers is not one: the conversation is rebuilt from its records.
  const g2 = heads().find((k) => k.endsWith('g2'))
  storage.setStorageSync(g2, { ...storage.getStorageSync(g2), u: '7' })
  storage.getStorageSync = get
  const rebuilt = await open(storage)
  assert.deepEqual(ids(rebuilt.history('group:g2', { limit: 40 })), ids(chat.history('group:g2', { limit: 40 })))
})

test('a restarted list shows each newest record as stored, even where its head no longer agrees with it', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  for (let n = 1; n <= 3; n++) chat.receive(sdk(n, { msg: `第${n}条 [):]` }))
  for (let n = 4; n <= 6; n++) chat.receive(sdk(n, { to: 'g2' }))
  chat.receive(sdk(7, { to: 'g3' }))
  const shown = (list) => list.map((row) => [row.conversation, row.last.id, row.last.status, row.last.text])
  const before = shown(chat.conversations())
  assert.deepEqual(shown((await open(storage)).conversations()), before)
  assert.deepEqual((await open(storage)).conversations()[2].last.segments.map((s) => s.type), ['txt', 'emoji'])

  // Another writer changed g2's newest record after its head was written, and broke g3's.
  const newestKey = (name) => [...storage.raw.keys()].filter((k) => k.includes(`/r/${name}/`)).sort().at(-1)
  const g2 = storage.getStorageSync(newestKey('group:g2'))
  storage.setStorageSync(newestKey('group:g2'), { ...g2, status: 'read', text: 'changed' })
  storage.setStorageSync(newestKey('group:g3'), { id: '7', note: 'not a record' })
  const again = await open(storage)
  const rows = Object.fromEntries(shown(again.conversations()).map((row) => [row[0], row.slice(1)]))
  assert.deepEqual(rows['group:g2'], ['6', 'read', 'changed'])
  assert.equal(rows['group:g3'], undefined, 'a conversation whose only record is unreadable is not listed')
  assert.deepEqual(rows['group:g1'], ['3', 'received', '第3条 [):]'])
  assert.ok(again.storageReport().skippedCorrupt >= 1)
})

test('a record shown again gets segments of its own, and edits to one shown before change nothing', async () => {
  const chat = await open(createWxStorage())
  chat.receive(sdk(1, { msg: 'a [):] b' }))
  chat.receive(sdk(2, { msg: 'a [):] b' }))
  const expected = [
    { type: 'txt', data: 'a ' },
    { type: 'emoji', data: 'ee_1.png', code: '[):]' },
    { type: 'txt', data: ' b' },
  ]
  const [first, second] = chat.history('group:g1')
  assert.deepEqual([first.segments, second.segments], [expected, expected])
  first.segments[1].data = 'changed'
  first.segments.push({ type: 'txt', data: 'extra' })
  assert.deepEqual(chat.history('group:g1').map((r) => r.segments), [expected, expected])
  assert.deepEqual(chat.conversations()[0].last.segments, expected)
})

test('the budget holds: oldest history of the least active conversations goes, with events', async () => {
  const storage = createWxStorage()
  const chat = await open(storage, { limits: { totalBytes: 96 * 1024 } })
  const evictions = []
  const off = chat.on('evicted', (e) => evictions.push(e))
  const text = '这是一条用来填满存储预算的消息 filling the budget [):] '.repeat(4)
  for (let n = 1; n <= 1500; n++) {
    const result = chat.receive(sdk(n, { to: n % 10 === 0 ? 'busy' : `quiet${n % 3}`, msg: text }))
    assert.equal(result.outcome, 'stored', `message ${n}`)
    assert.ok(chat.storageReport().bytesUsed <= 96 * 1024)
  }
  off()
  const report = chat.storageReport()
  assert.ok(report.evictedRecords > 0 && evictions.length > 0)
  assert.equal(evictions.reduce((sum, e) => sum + e.records, 0), report.evictedRecords)
  assert.equal(chat.history('group:busy').at(-1).id, '1500') // the newest is never evicted
  assert.ok(storage.totalBytes <= 96 * 1024)
})

test('corrupted or foreign values under mpchat keys are skipped and reported; the rest reads', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  for (let n = 1; n <= 5; n++) chat.receive(sdk(n))
  chat.receive(sdk(6, { to: 'g2' }))
  const g2Key = [...storage.raw.keys()].find((k) => k.includes('group:g2'))
  storage.setStorageSync(g2Key, '{"truncated":') // a string of broken JSON, as an older writer might leave
  storage.setStorageSync('mpchat/2/alice/c/group:g3/4294967296', { v: 99, something: 'else' })
  storage.setStorageSync('mpchat/2/alice/nonsense', 42)
  const again = await open(storage)
  assert.deepEqual(ids(again.history('group:g1')), ['1', '2', '3', '4', '5'])
  assert.ok(again.storageReport().skippedCorrupt >= 2)
  assert.equal(again.receive(sdk(7, { to: 'g4' })).outcome, 'stored')
})

test('migrate: the recipe’s group_ arrays and the demo’s rendered_ arrays are imported once', async () => {
  const storage = createWxStorage()
  storage.setStorageSync('group_g9', [
    { msg: { type: 'txt', data: [{ type: 'txt', data: 'old ' }, { type: 'emoji', data: 'ee_1.png' }] },
      info: { from: 'bob', to: 'g9' }, username: 'bob', time: T0, mid: 'txt1001', style: '' },
    { msg: { type: 'txt', data: 'mine' }, info: { from: 'alice', to: 'g9' }, username: 'alice', time: T0 + 1000,
      mid: 'txt1002', style: 'self' },
  ])
  storage.setStorageSync('rendered_bobalice', [
    { msg: { type: 'txt', data: 'hello' }, info: { from: 'bob', to: 'alice' }, time: T0 + 2000, mid: 'txt2001' },
  ])
  const chat = await open(storage, { migrate: true })
  const report = chat.openReport()
  assert.equal(report.migration.imported, 3)
  assert.deepEqual([report.conversations, report.migrationPaused, report.skippedKeys], [0, 0, []])
  assert.deepEqual(chat.history('group:g9').map((r) => [r.from, r.direction]), [['bob', 'in'], ['alice', 'out']])
  assert.equal(chat.history('single:bob')[0].text, 'hello')
  assert.equal(storage.getStorageSync('group_g9'), '')
  assert.equal(storage.getStorageSync('rendered_bobalice'), '')
  const again = await open(storage, { migrate: true })
  assert.equal(again.history('group:g9').length, 2)
})

test('receive never throws and ignores bad input with a reason, losing nothing', async () => {
  const chat = await open(createWxStorage())
  chat.receive(sdk(1))
  const cyclic = { id: 'x' }
  cyclic.self = cyclic
  let deep = {}
  for (let i = 0; i < 100000; i++) deep = { d: deep }
  const bad = [null, undefined, 42, 'text', [], cyclic, deep, () => 1, { id: '2', type: 'txt' },
    sdk(3, { msg: 'x'.repeat(1 << 20) }), sdk(4, { chatType: 'party' }), { ...sdk(5), ext: deep }]
  for (const message of bad) {
    const result = chat.receive(message)
    assert.equal(result.outcome, 'ignored')
    assert.match(result.reason, /\S/)
  }
  assert.deepEqual(ids(chat.history('group:g1')), ['1'])
})

test('subscribing and unsubscribing 10,000 times leaves no listener behind', async () => {
  const chat = await open(createWxStorage())
  let seen = 0
  for (let i = 0; i < 10000; i++) {
    const off = chat.subscribe(`group:g${i % 7}`, () => seen++)
    const offAll = chat.subscribe('*', () => seen++)
    off()
    offAll()
    off() // twice is harmless
  }
  assert.equal(chat.listenerCount(), 0)
  assert.equal(chat.receive(sdk(1)).notified, 0)
  const got = []
  const off = chat.subscribe('group:g1', (r) => got.push(r.id))
  assert.equal(chat.receive(sdk(2)).notified, 1)
  chat.receive(sdk(3, { to: 'g2' }))
  off()
  assert.deepEqual(got, ['2'])
  assert.equal(seen, 0)
})

test('records with long names read back whole after reopening (a chunk past the shim\'s direct room)', async () => {
  // 32 records a chunk, each naming a 120-character group and sender: the chunk's tape is over the
  // 4,096 units the shim writes straight into wasm memory, so it crosses by the second call.
  const storage = createWxStorage()
  const group = 'g'.repeat(120)
  const from = 'b'.repeat(120)
  let chat = await open(storage)
  for (let n = 1; n <= 70; n++) {
    const message = { ...sdk(n, { from, to: group }), id: String(n).padStart(60, '0') }
    assert.equal(chat.receive(message).outcome, 'stored')
  }
  chat = await open(storage)
  const all = chat.history(`group:${group}`, { limit: 100 })
  assert.deepEqual(all.map((r) => r.text), Array.from({ length: 70 }, (_, i) => `m${i + 1}`))
  assert.equal(all[0].sender.id, from)
  const older = chat.history(`group:${group}`, { before: all[40].id, limit: 5 })
  assert.deepEqual(older.map((r) => r.text), ['m36', 'm37', 'm38', 'm39', 'm40'])
})

test('a burst writes each message once and its head once the task is over; killed before, nothing is lost', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  chat.receive(sdk(1, { to: 'g1' }))
  chat.receive(sdk(2, { to: 'g2' }))
  await new Promise((resolve) => setTimeout(resolve, 0))
  const head = (g) => JSON.parse(storage.raw.get(`mpchat/2/alice/h/group:${g}`))
  const sets = storage.stats.sets
  for (let n = 3; n <= 24; n++) assert.equal(chat.receive(sdk(n, { to: n % 4 === 0 ? 'g2' : 'g1', at: n })).outcome, 'stored')
  assert.equal(storage.stats.sets - sets, 22, 'one write a message')
  assert.equal(head('g1').u, 1, 'the heads wait')
  // The app killed here: the storage as it is now.
  const killed = createWxStorage()
  for (const [key, text] of storage.raw) killed.setStorageSync(key, JSON.parse(text))
  await new Promise((resolve) => setTimeout(resolve, 0))
  assert.equal(storage.stats.sets - sets, 24, 'and each head once, after the task')
  assert.deepEqual([head('g1').u, head('g2').u], [17, 7])
  const seen = async (s) => {
    const again = await open(s)
    const list = again.conversations().map((c) => [c.conversation, c.last.id, c.unread, c.updatedAt])
    return { list, g1: ids(again.history('group:g1', { limit: 50 })), g2: ids(again.history('group:g2', { limit: 50 })), bytes: again.storageReport().bytesUsed === s.totalBytes }
  }
  const settled = await seen(storage)
  assert.equal(settled.g1.length + settled.g2.length, 24)
  assert.deepEqual(await seen(killed), settled, 'a start after the kill shows what the app showed')
  assert.deepEqual(chat.flush(), { outcome: 'saved' }, 'nothing waits')
})

test('a head its timer cannot write is an error event, and the next flush writes it', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  const errors = []
  chat.on('error', (err) => errors.push(err.message))
  chat.receive(sdk(1))
  await new Promise((resolve) => setTimeout(resolve, 0))
  for (let n = 2; n <= 4; n++) assert.equal(chat.receive(sdk(n)).outcome, 'stored')
  storage.failCall(1) // the timer's write of the head
  await new Promise((resolve) => setTimeout(resolve, 0))
  assert.equal(errors.length, 1)
  assert.match(errors[0], /head is not stored yet: .*injected fault/)
  assert.equal(chat.storageReport().unsaved, 1)
  assert.deepEqual(chat.flush(), { outcome: 'saved' })
  assert.equal(JSON.parse(storage.raw.get('mpchat/2/alice/h/group:g1')).u, 4)
  assert.deepEqual(ids((await open(storage)).history('group:g1')), ['1', '2', '3', '4'])
})
