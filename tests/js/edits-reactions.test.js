// Edits and reactions through dist/mpchat with a scripted SDK 4.x connection (e2e-features drives the real
// SDK): chat.edit and chat.react change the stored record and publish it; onModifiedMessage and
// onReactionChange, from others or from my other devices, do the same; what cannot be applied is ignored
// with a reason, never thrown; the change survives a restart and the budget counts exactly what is stored.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { repoRoot } = require('./support/phone')
const { createWxStorage } = require('./support/wx-storage')

const mpchat = require(path.join(repoRoot, 'dist', 'mpchat', 'index.js'))

/** An SDK 4.x connection whose calls are recorded and answered by `answers`; emit() plays an event. */
function fakeSdk(answers = {}) {
  const calls = []
  const handlers = new Map()
  const WebIM = { message: { create: (options) => ({ ...options, id: `local${calls.length}` }) } }
  const conn = {
    addEventHandler(id, h) { handlers.set(id, h) },
    removeEventHandler(id) { handlers.delete(id) },
    emit(event, payload) {
      for (const h of handlers.values()) if (h[event]) h[event](payload)
    },
  }
  for (const api of ['modifyMessage', 'addReaction', 'deleteReaction']) {
    conn[api] = (options) => {
      calls.push([api, options])
      return answers[api] ? answers[api](options, calls.length) : Promise.resolve({ type: 0 })
    }
  }
  return { WebIM, conn, calls }
}

const edited = (count, time = 5000 + count) => (options) => Promise.resolve({
  type: 0, message: { ...options.modifiedMessage, id: options.messageId, modifiedInfo: { operatorId: 'alice', operationCount: count, operationTime: time } },
})

function published(chat) {
  const seen = []
  chat.subscribe('*', (record) => seen.push(record))
  return seen
}

async function aliceWithHistory(storage = createWxStorage()) {
  const chat = await mpchat.createChat({ user: 'alice', storage, profile: { nickname: 'Alice' } })
  chat.receive({ id: 'b1', type: 'txt', chatType: 'singleChat', from: 'bob', to: 'alice', time: 1000, msg: 'pizza tonight?' })
  chat.receive({ id: 'a1', type: 'txt', chatType: 'singleChat', from: 'alice', to: 'bob', time: 2000, msg: 'see you at 8' })
  chat.receive({ id: 'a2', type: 'img', chatType: 'singleChat', from: 'alice', to: 'bob', time: 3000, url: 'https://example.invalid/p.png', width: 10, height: 10 })
  chat.receive({ id: 'g1m', type: 'txt', chatType: 'groupChat', from: 'alice', to: 'g1', time: 4000, msg: 'hello group' })
  return { chat, storage }
}

const find = (chat, conversation, id) => chat.history(conversation, { limit: 100 }).find((r) => r.id === id)

test('edit: my own text message is edited on the server, then stored and published with edited and new segments', async () => {
  const { chat, storage } = await aliceWithHistory()
  const sdk = fakeSdk({ modifyMessage: edited(1, 7000) })
  const seen = published(chat)
  const record = await chat.edit(sdk.conn, 'a1', 'see you at 9 [):]', { WebIM: sdk.WebIM })
  assert.equal(sdk.calls.length, 1)
  const [api, options] = sdk.calls[0]
  assert.equal(api, 'modifyMessage')
  assert.equal(options.messageId, 'a1')
  assert.deepEqual([options.modifiedMessage.type, options.modifiedMessage.chatType, options.modifiedMessage.to, options.modifiedMessage.msg],
    ['txt', 'singleChat', 'bob', 'see you at 9 [):]'])
  assert.equal(record.text, 'see you at 9 [):]')
  assert.deepEqual(record.edited, { count: 1, time: 7000, by: 'alice' })
  assert.deepEqual(record.segments.map((s) => s.type), ['txt', 'emoji'])
  assert.deepEqual(seen.map((r) => [r.id, r.text]), [['a1', 'see you at 9 [):]']])
  assert.deepEqual(find(chat, 'single:bob', 'a1').edited, { count: 1, time: 7000, by: 'alice' })

  // A group message: the SDK message names the group.
  sdk.calls.length = 0
  await chat.edit(sdk.conn, 'g1m', 'hello all', { WebIM: sdk.WebIM })
  assert.deepEqual([sdk.calls[0][1].modifiedMessage.chatType, sdk.calls[0][1].modifiedMessage.to], ['groupChat', 'g1'])

  // After a restart the edit is still there, and the budget counts exactly what storage holds.
  const again = await mpchat.createChat({ user: 'alice', storage, profile: { nickname: 'Alice' } })
  const kept = find(again, 'single:bob', 'a1')
  assert.deepEqual([kept.text, kept.edited.count], ['see you at 9 [):]', 1])
  assert.equal(again.storageReport().bytesUsed, storage.totalBytes)
})

test('edit: refusals are clear errors and reach no server; the server\'s refusal leaves the record as it was', async () => {
  const { chat } = await aliceWithHistory()
  const sdk = fakeSdk({ modifyMessage: () => Promise.reject(Object.assign(new Error('edit limit reached'), { type: 1 })) })
  chat.attach(sdk.conn)
  const opts = { WebIM: sdk.WebIM }
  await assert.rejects(chat.edit(sdk.conn, 'nope', 'x', opts), /nope.*no record/)
  await assert.rejects(chat.edit(sdk.conn, 'b1', 'x', opts), /someone else's/)
  await assert.rejects(chat.edit(sdk.conn, 'a2', 'x', opts), /only text messages/)
  await assert.rejects(chat.edit(sdk.conn, 'a1', 'x'.repeat(70 * 1024), opts), /over the 65536-byte limit/)
  await assert.rejects(chat.edit(sdk.conn, 'a1', '', opts), TypeError)
  await assert.rejects(chat.edit({}, 'a1', 'x', opts), /modifyMessage/)
  await assert.rejects(chat.edit(sdk.conn, 'a1', 'x', {}), /WebIM/)
  assert.equal(sdk.calls.length, 0)
  await assert.rejects(chat.edit(sdk.conn, 'a1', 'x', opts), /edit limit reached/)
  const a1 = find(chat, 'single:bob', 'a1')
  assert.deepEqual([a1.text, a1.edited], ['see you at 8', undefined])
  // A recalled message is not edited, by me or by an event.
  chat.receiveEdit({ id: 'a1', msg: 'before the recall', from: 'alice', modifiedInfo: { operatorId: 'alice', operationCount: 1 } })
  sdk.conn.emit('onRecallMessage', { mid: 'a1', from: 'alice' })
  await assert.rejects(chat.edit(sdk.conn, 'a1', 'x', opts), /recalled/)
  const late = chat.receiveEdit({ id: 'a1', msg: 'after the recall', from: 'alice', modifiedInfo: { operatorId: 'alice', operationCount: 2 } })
  assert.deepEqual([late.outcome, /recalled/.test(late.reason)], ['ignored', true])
  assert.equal(find(chat, 'single:bob', 'a1').text, undefined)
})

test('onModifiedMessage: an edit from the other side or my other device is stored and published; stale and unknown ones are ignored', async () => {
  const { chat, storage } = await aliceWithHistory()
  const sdk = fakeSdk()
  chat.attach(sdk.conn)
  const seen = published(chat)
  const errors = []
  chat.on('error', (e) => errors.push(e))
  const edit = (id, msg, count, by = 'bob') => ({ id, msg, from: by, to: 'alice', chatType: 'singleChat', modifiedInfo: { operatorId: by, operationCount: count, operationTime: 9000 + count } })
  sdk.conn.emit('onModifiedMessage', edit('b1', 'pizza tomorrow?', 1))
  assert.deepEqual(seen.map((r) => [r.id, r.text, r.edited]), [['b1', 'pizza tomorrow?', { count: 1, time: 9001, by: 'bob' }]])
  // My edit made on my other device.
  sdk.conn.emit('onModifiedMessage', edit('a1', 'see you at 10', 2, 'alice'))
  assert.deepEqual(find(chat, 'single:bob', 'a1').edited, { count: 2, time: 9002, by: 'alice' })
  // An edit older than the one stored, one of a message not stored, and nonsense change nothing.
  const stale = chat.receiveEdit(edit('b1', 'older text', 1))
  assert.equal(stale.outcome, 'unchanged')
  const unknown = chat.receiveEdit(edit('zz', 'nobody has this', 1))
  assert.deepEqual([unknown.outcome, typeof unknown.reason], ['notFound', 'string'])
  for (const junk of [null, {}, { id: 'b1' }, { id: 'b1', msg: 5 }, { id: {}, msg: 'x' }]) {
    assert.equal(chat.receiveEdit(junk).outcome, 'ignored', JSON.stringify(junk))
    sdk.conn.emit('onModifiedMessage', junk)
  }
  assert.equal(chat.receiveEdit({ id: 'a2', msg: 'caption' }).outcome, 'ignored')
  assert.deepEqual(errors, [])
  assert.equal(seen.length, 2)
  assert.equal(find(chat, 'single:bob', 'b1').text, 'pizza tomorrow?')
  assert.equal(chat.storageReport().bytesUsed, storage.totalBytes)
})

test('react: my reaction is added and taken back on the server, then in storage; reactions from events merge in', async () => {
  const { chat, storage } = await aliceWithHistory()
  const sdk = fakeSdk()
  chat.attach(sdk.conn)
  const seen = published(chat)
  let record = await chat.react(sdk.conn, 'b1', '👍', true)
  assert.deepEqual(sdk.calls, [['addReaction', { messageId: 'b1', reaction: '👍' }]])
  assert.deepEqual(record.reactions, [{ reaction: '👍', count: 1, mine: true }])
  // Reacting again changes nothing and asks no server.
  record = await chat.react(sdk.conn, 'b1', '👍', true)
  assert.equal(sdk.calls.length, 1)
  assert.deepEqual(record.reactions, [{ reaction: '👍', count: 1, mine: true }])
  // bob adds his: the event lists the message's reactions now.
  sdk.conn.emit('onReactionChange', { messageId: 'b1', from: 'bob', to: 'alice', chatType: 'singleChat', reactions: [
    { reaction: '👍', count: 2, userList: ['alice', 'bob'], isAddedBySelf: true, op: [{ operator: 'bob', reactionType: 'create' }] },
    { reaction: '🍕', count: 1, userList: ['bob'], isAddedBySelf: false },
  ] })
  assert.deepEqual(find(chat, 'single:bob', 'b1').reactions, [{ reaction: '👍', count: 2, mine: true }, { reaction: '🍕', count: 1, mine: false }])
  record = await chat.react(sdk.conn, 'b1', '👍', false)
  assert.deepEqual(sdk.calls.at(-1), ['deleteReaction', { messageId: 'b1', reaction: '👍' }])
  assert.deepEqual(record.reactions, [{ reaction: '👍', count: 1, mine: false }, { reaction: '🍕', count: 1, mine: false }])
  // The last user of a reaction takes it back: count 0 removes it; with none left the field goes.
  sdk.conn.emit('onReactionChange', { messageId: 'b1', reactions: [{ reaction: '👍', count: 0, userList: [] }, { reaction: '🍕', count: 0, userList: [] }] })
  assert.equal(find(chat, 'single:bob', 'b1').reactions, undefined)
  // Without isAddedBySelf, mine is whether I am among the users.
  chat.receiveReactions({ messageId: 'a1', reactions: [{ reaction: '❤️', count: 2, userList: ['bob', 'alice'] }] })
  assert.deepEqual(find(chat, 'single:bob', 'a1').reactions, [{ reaction: '❤️', count: 2, mine: true }])
  assert.deepEqual(seen.map((r) => r.id), ['b1', 'b1', 'b1', 'b1', 'a1'])
  const again = await mpchat.createChat({ user: 'alice', storage, profile: { nickname: 'Alice' } })
  assert.deepEqual(find(again, 'single:bob', 'a1').reactions, [{ reaction: '❤️', count: 2, mine: true }])
  assert.equal(again.storageReport().bytesUsed, storage.totalBytes)
})

test('reactions: limits and refusals; bad events are ignored with a reason, never thrown', async () => {
  const { chat } = await aliceWithHistory()
  const sdk = fakeSdk()
  await assert.rejects(chat.react(sdk.conn, 'zz', '👍'), /no record/)
  await assert.rejects(chat.react(sdk.conn, 'b1', ''), /reaction/)
  await assert.rejects(chat.react(sdk.conn, 'b1', 'x'.repeat(129)), /128 bytes/)
  await assert.rejects(chat.react(sdk.conn, 'b1', 'a\nb'), /control/)
  await assert.rejects(chat.react({}, 'b1', '👍'), /addReaction/)
  assert.equal(sdk.calls.length, 0)
  // Twenty different reactions at most: more from an event are left out, and mine is refused.
  const many = Array.from({ length: 25 }, (_, i) => ({ reaction: `r${i}`, count: 1, userList: ['bob'] }))
  chat.receiveReactions({ messageId: 'b1', reactions: many })
  assert.deepEqual(find(chat, 'single:bob', 'b1').reactions.map((r) => r.reaction), many.slice(0, 20).map((r) => r.reaction))
  await assert.rejects(chat.react(sdk.conn, 'b1', 'new one'), /20 different reactions/)
  assert.equal(sdk.calls.length, 0)
  // Bad entries are dropped, a bad event ignored.
  const out = chat.receiveReactions({ messageId: 'a1', reactions: [null, { reaction: 7 }, { reaction: '', count: 1 }, { reaction: 'ok', count: 'x', userList: ['alice'] }, { reaction: 'y'.repeat(300), count: 1 }] })
  assert.equal(out.outcome, 'updated')
  assert.deepEqual(out.record.reactions, [{ reaction: 'ok', count: 1, mine: true }])
  for (const junk of [null, {}, { messageId: 'a1' }, { messageId: 'a1', reactions: 'no' }]) {
    assert.equal(chat.receiveReactions(junk).outcome, 'ignored', JSON.stringify(junk))
  }
  assert.deepEqual(chat.receiveReactions({ messageId: 'zz', reactions: [] }).outcome, 'notFound')
})

test('edits and reactions reach records in sealed chunks as well as loose ones', async () => {
  const storage = createWxStorage()
  const chat = await mpchat.createChat({ user: 'alice', storage, profile: { nickname: 'Alice' } })
  for (let i = 0; i < 200; i++) {
    chat.receive({ id: `m${i}`, type: 'txt', chatType: 'groupChat', from: i % 2 ? 'bob' : 'alice', to: 'g1', time: 1000 + i, msg: `message ${i} ${'x'.repeat(100)}` })
  }
  const sdk = fakeSdk({ modifyMessage: edited(1) })
  for (const id of ['m0', 'm198']) {
    await chat.edit(sdk.conn, id, `edited ${id}`, { WebIM: sdk.WebIM })
    await chat.react(sdk.conn, id, '👍')
  }
  const again = await mpchat.createChat({ user: 'alice', storage, profile: { nickname: 'Alice' } })
  for (const id of ['m0', 'm198']) {
    const r = find(again, 'group:g1', id) || again.history('group:g1', { limit: 300 }).find((x) => x.id === id)
    assert.deepEqual([r.text, r.edited.count, r.reactions], [`edited ${id}`, 1, [{ reaction: '👍', count: 1, mine: true }]], id)
  }
  assert.equal(again.storageReport().bytesUsed, storage.totalBytes)
})

test('after a restart, a recall, an edit and a reaction find records this session has not read, loose or sealed', async () => {
  const storage = createWxStorage()
  const chat = await mpchat.createChat({ user: 'alice', storage })
  for (let i = 0; i < 200; i++) {
    chat.receive({ id: `g${i}`, type: 'txt', chatType: 'groupChat', from: 'bob', to: 'g1', time: 1000 + i, msg: `message ${i} ${'x'.repeat(100)}` })
  }
  chat.receive({ id: 's1', type: 'txt', chatType: 'singleChat', from: 'bob', to: 'alice', time: 5000, msg: 'delete me' })
  chat.receive({ id: 's2', type: 'txt', chatType: 'singleChat', from: 'bob', to: 'alice', time: 5001, msg: 'typo' })
  const unreadBefore = chat.unreadTotal()

  // Nothing is read after the restart: no list, no history, before the events come.
  const again = await mpchat.createChat({ user: 'alice', storage })
  const sdk = fakeSdk()
  again.attach(sdk.conn)
  const seen = published(again)
  sdk.conn.emit('onRecallMessage', { mid: 's1', from: 'bob', to: 'alice' }) // no chatType, as 4.x sends it
  sdk.conn.emit('onRecallMessage', { mid: 'g199', from: 'bob', to: 'g1' })
  sdk.conn.emit('onModifiedMessage', { id: 's2', type: 'txt', chatType: 'singleChat', from: 'bob', to: 'alice', msg: 'fixed', modifiedInfo: { operatorId: 'bob', operationCount: 1, operationTime: 6000 } })
  sdk.conn.emit('onReactionChange', { conversationId: 'g1', messageId: 'g3', reactions: [{ reaction: '🎉', count: 2, userList: ['bob', 'carol'] }] })
  sdk.conn.emit('onRecallMessage', { mid: 'nowhere', from: 'bob', to: 'g1' })
  assert.deepEqual(seen.map((r) => r.id).sort(), ['g199', 'g3', 's1', 's2'])

  const third = await mpchat.createChat({ user: 'alice', storage })
  const byId = (conversation) => Object.fromEntries(third.history(conversation, { limit: 300 }).map((r) => [r.id, r]))
  const group = byId('group:g1')
  const single = byId('single:bob')
  assert.equal(single.s1.recalled, true)
  assert.equal(single.s1.text, undefined)
  assert.equal(group.g199.recalled, true)
  assert.deepEqual([single.s2.text, single.s2.edited.count], ['fixed', 1])
  assert.deepEqual(group.g3.reactions, [{ reaction: '🎉', count: 2, mine: false }])
  assert.equal(third.unreadTotal(), unreadBefore - 2, 'the two recalled messages no longer count unread')
})
