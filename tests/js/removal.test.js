// Removal on this phone through dist/mpchat on a simulated wx storage: chat.remove, chat.clear and
// chat.removeConversation, what subscribers are told, and what a restart finds.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { repoRoot } = require('./support/phone')
const { createWxStorage } = require('./support/wx-storage')

const mpchat = require(path.join(repoRoot, 'dist', 'mpchat', 'index.js'))
const T0 = 1_764_000_000_000

function sdk(id, { from = 'bob', to = 'g1', chatType = 'groupChat', at = Number(id), ext } = {}) {
  return { id: String(id), type: 'txt', chatType, from, to, time: T0 + at * 1000, msg: `m${id}`, ext }
}

const open = (storage) => mpchat.createChat({ user: 'alice', storage })
const ids = (records) => records.map((r) => r.id)
const row = (chat, name) => chat.conversations().find((c) => c.conversation === name)
const mpchatKeys = (storage, part) => storage.getStorageInfoSync().keys.filter((k) => k.startsWith(`mpchat/2/alice/${part}`))

test('remove takes one record: subscribers are told, the list and unread follow, a restart keeps it gone', async () => {
  const storage = createWxStorage()
  let chat = await open(storage)
  for (let n = 1; n <= 40; n++) chat.receive(sdk(n)) // 32 sealed in a chunk, 8 loose
  chat.receive(sdk(41, { ext: { em_at_list: ['alice'] } }))
  chat.receive(sdk(50, { chatType: 'singleChat', to: 'alice', at: 30 }))
  const told = []
  const off = chat.subscribe('group:g1', (record, info) => told.push([record.id, record.removed, info]))
  assert.deepEqual(row(chat, 'group:g1').mentionsMe, true)
  assert.deepEqual(chat.remove('41'), { outcome: 'updated' })
  assert.deepEqual(told, [['41', true, { removed: true }]])
  assert.equal(row(chat, 'group:g1').last.id, '40')
  assert.equal(row(chat, 'group:g1').unread, 40)
  assert.equal(row(chat, 'group:g1').mentionsMe, false)
  assert.deepEqual(chat.remove('5'), { outcome: 'updated' }) // sealed
  assert.deepEqual(chat.remove('5'), { outcome: 'notFound' })
  assert.deepEqual(chat.remove(''), { outcome: 'notFound' })
  assert.deepEqual(chat.remove(undefined), { outcome: 'notFound' })
  assert.equal(told.length, 2, 'nothing removed, nothing told')
  assert.equal(chat.unreadTotal(), 40)
  off()
  chat = await open(storage)
  const history = ids(chat.history('group:g1', { limit: 100 }))
  assert.equal(history.length, 39)
  assert.ok(!history.includes('5') && !history.includes('41'))
  assert.equal(chat.unreadTotal(), 40)
  assert.equal(row(chat, 'group:g1').mentionsMe, false)
})

test('clear empties a conversation that stays known; removeConversation forgets it with its draft and pin', async () => {
  const storage = createWxStorage()
  let chat = await open(storage)
  for (let n = 1; n <= 40; n++) chat.receive(sdk(n))
  for (let n = 41; n <= 45; n++) chat.receive(sdk(n, { to: 'g2' }))
  chat.receive(sdk(60, { chatType: 'singleChat', to: 'alice' }))
  for (const name of ['group:g1', 'group:g2']) {
    chat.setDraft(name, `draft of ${name}`)
    chat.pin(name, true)
  }
  const told = []
  chat.subscribe('*', (record, info) => told.push([record.conversation, record.id, record.removed, info]))
  assert.deepEqual(chat.clear('group:g1'), { outcome: 'updated' })
  assert.deepEqual(told, [['group:g1', '40', true, { removed: true, cleared: true }]])
  assert.deepEqual(chat.clear('group:g1'), { outcome: 'unchanged' })
  assert.deepEqual(chat.history('group:g1'), [])
  assert.equal(row(chat, 'group:g1'), undefined, 'no records, not listed')
  assert.equal(chat.unreadTotal(), 6)
  assert.equal(mpchatKeys(storage, 'c/group:g1/').length + mpchatKeys(storage, 'r/group:g1/').length, 0)

  assert.deepEqual(chat.removeConversation('group:g2'), { outcome: 'updated' })
  assert.deepEqual(told[1], ['group:g2', '45', true, { removed: true, cleared: true }])
  assert.deepEqual(chat.removeConversation('group:g2'), { outcome: 'notFound' })
  assert.equal(chat.draft('group:g2'), '')
  assert.deepEqual(mpchatKeys(storage, '').filter((k) => k.includes('group:g2')), [])
  assert.throws(() => chat.removeConversation('nokind'), /conversation/)
  assert.equal(chat.unreadTotal(), 1)

  chat = await open(storage)
  assert.deepEqual(chat.history('group:g1'), [])
  assert.deepEqual(chat.history('group:g2'), [])
  assert.deepEqual(chat.conversations().map((c) => c.conversation), ['single:bob'])
  assert.equal(chat.unreadTotal(), 1)
  assert.equal(chat.draft('group:g1'), 'draft of group:g1', 'clear keeps the draft')
  assert.equal(chat.draft('group:g2'), '', 'removeConversation forgot the draft')
  // group:g1 is still pinned and shows first once it has a record; group:g2 is not.
  chat.receive(sdk(70, { to: 'g2', at: 70 }))
  chat.receive(sdk(71, { at: 20 }))
  chat.receive(sdk(72, { chatType: 'singleChat', to: 'alice', at: 72 }))
  const list = chat.conversations()
  assert.deepEqual(list.map((c) => [c.conversation, c.pinned]), [['group:g1', true], ['single:bob', false], ['group:g2', false]])
  assert.equal(list[0].unread, 1)
  assert.equal(list[2].draft, '')
})

test('removeConversation of a conversation known only by its draft forgets the draft', async () => {
  const storage = createWxStorage()
  let chat = await open(storage)
  chat.setDraft('single:carol', 'hello?')
  chat.pin('single:carol', true)
  assert.deepEqual(chat.removeConversation('single:carol'), { outcome: 'updated' })
  chat = await open(storage)
  assert.equal(chat.draft('single:carol'), '')
  chat.receive(sdk(1, { chatType: 'singleChat', from: 'carol', to: 'alice' }))
  assert.equal(chat.conversations()[0].pinned, false)
})

test('storage that cannot be read: removals throw and remove nothing; once it reads they go through', async () => {
  const storage = createWxStorage()
  let chat = await open(storage)
  for (let n = 1; n <= 40; n++) chat.receive(sdk(n))
  chat.setDraft('group:g1', 'kept')
  chat = await open(storage)
  assert.equal(chat.history('group:g1', { limit: 3 }).length, 3) // the loose records are read
  const told = []
  chat.subscribe('*', (record) => told.push(record.id))
  storage.flakyReads(1)
  assert.throws(() => chat.clear('group:g1'), /nothing was removed/)
  assert.throws(() => chat.removeConversation('group:g1'), /nothing was removed/)
  storage.heal()
  assert.deepEqual(told, [])
  assert.equal(chat.history('group:g1', { limit: 100 }).length, 40)
  assert.equal(chat.draft('group:g1'), 'kept')
  assert.deepEqual(chat.removeConversation('group:g1'), { outcome: 'updated' })
  assert.deepEqual(told, ['40'])
  chat = await open(storage)
  assert.deepEqual(chat.history('group:g1'), [])
  assert.equal(chat.draft('group:g1'), '')
  assert.deepEqual(mpchatKeys(storage, '').filter((k) => k.includes('group:g1')), [])
})
