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
  assert.throws(() => chat.typing({ send() {} }, 'single:alice', { WebIM: {} }), /not to myself/)
  // Other cmd messages are still history.
  assert.equal(chat.receive(sdk('c1', { type: 'cmd', action: 'refresh' })).outcome, 'stored')
})

// Every stored record, as a naive app would find them: parse each value, test each text.
function naiveSearch(storage, query, { conversation, limit = 20, before } = {}) {
  const needle = query.toLowerCase()
  const all = []
  for (const key of storage.getStorageInfoSync().keys) {
    if (!key.startsWith('mpchat/2/alice/r/') && !key.startsWith('mpchat/2/alice/c/')) continue
    const value = storage.getStorageSync(key)
    for (const r of Array.isArray(value.r) ? value.r : [value]) {
      const text = [r.text, r.body && r.body.filename].filter((s) => typeof s === 'string').join('\n')
      if (!r.recalled && text.toLowerCase().includes(needle) && (!conversation || r.conversation === conversation)) all.push(r)
    }
  }
  all.sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1))
  const from = before ? all.findIndex((r) => r.id === before) + 1 : 0
  return all.slice(from, from + limit).map((r) => r.id)
}

test('search: newest first over every conversation, Latin any case, CJK, emoji and codes; paged; one conversation', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  const lines = ['Eating now', 'eating later', '周末去爬山', '去爬山吗 🎉', 'cake [):]', 'EATING!!', 'nothing here']
  let n = 0
  for (let round = 0; round < 40; round++) {
    for (const [i, line] of lines.entries()) {
      const peer = ['bob', 'carol', 'dave'][(round + i) % 3]
      chat.receive(sdk(`m${n}`, { from: peer, at: n, msg: `${line} #${round}` }))
      n++
    }
  }
  chat.receive(sdk('f1', { type: 'file', from: 'bob', at: n++, url: 'https://x.example/f', filename: 'Eating-guide.pdf', file_length: 1 }))
  const ids = (results) => results.map((r) => r.record.id)
  for (const query of ['eating', 'EATING', '爬山', '🎉', '[):]', '#3', 'nothing here #39', 'absent']) {
    assert.deepEqual(ids(chat.search(query)), naiveSearch(storage, query), query)
  }
  const first = chat.search('eating', { limit: 7 })
  assert.equal(first[0].record.id, 'f1', 'file names are searched too')
  assert.deepEqual(ids(chat.search('eating', { limit: 7, before: first[6].record.id })), naiveSearch(storage, 'eating', { limit: 7, before: first[6].record.id }))
  const carol = chat.search('爬山', { conversation: 'single:carol', limit: 50 })
  assert.ok(carol.length > 0 && carol.every((r) => r.conversation === 'single:carol'))
  assert.deepEqual(ids(carol), naiveSearch(storage, '爬山', { conversation: 'single:carol', limit: 50 }))
  assert.deepEqual(first[1].record.segments.map((s) => s.type), ['txt'])
  // A restart searches the same storage.
  assert.deepEqual(ids((await open(storage)).search('🎉', { limit: 100 })), naiveSearch(storage, '🎉', { limit: 100 }))
})

test('search: any case of Latin, including letters that lower-case to ASCII from outside it', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  // The Kelvin sign lower-cases to "k", the dotted capital I to "i" and a combining dot.
  const lines = ['ZEBRA crossing', 'a zebra 9', 'zebr a', '\u212AITE flying', 'kite', 'İce', 'ice', 'Q9 zone', 'q 9']
  lines.forEach((line, i) => chat.receive(sdk(`z${i}`, { at: i, msg: line })))
  const ids = (results) => results.map((r) => r.record.id)
  for (const query of ['zebra', 'ZEBRA 9', 'kite', 'KITE FLY', 'ice', 'i̇ce', 'q9', 'Q9 ZONE', 'a 9', 'zz']) {
    assert.deepEqual(ids(chat.search(query)), naiveSearch(storage, query), query)
  }
  assert.deepEqual(ids(chat.search('kite')), ['z4', 'z3'])
})

test('search stops early only where no older record can come first: busy and quiet conversations, late arrivals', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  let seed = 7
  const random = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  const words = ['lunch', 'Lunch?', '午饭', '🍜', 'meeting', 'ok']
  for (let n = 0; n < 900; n++) {
    // One busy conversation, four quiet ones; one message in eight arrives late (an older time).
    const peer = random(3) === 0 ? ['bob', 'carol', 'dave', 'erin'][random(4)] : 'zoe'
    const at = random(8) === 0 ? Math.max(0, n - 200 - random(400)) : n
    chat.receive(sdk(`s${n}`, { from: peer, at, msg: `${words[random(words.length)]} ${words[random(words.length)]}` }))
  }
  const ids = (results) => results.map((r) => r.record.id)
  for (const query of ['lunch', '午饭', '🍜', 'meeting ok', 'zzz']) {
    for (const limit of [1, 5, 20, 300]) {
      assert.deepEqual(ids(chat.search(query, { limit })), naiveSearch(storage, query, { limit }), `${query} ${limit}`)
    }
    const page = chat.search(query, { limit: 30 })
    if (page.length === 30) {
      assert.deepEqual(ids(chat.search(query, { limit: 30, before: page[29].record.id })),
        naiveSearch(storage, query, { limit: 30, before: page[29].record.id }), `${query}, the next page`)
    }
  }
})

test('search: a record stored loose because its chunk could not be read does not hide newer matches in that chunk', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  for (let n = 0; n < 60; n++) chat.receive(sdk(`b${n}`, { from: 'bob', at: 100 + n, msg: n === 20 ? 'hiking at noon' : `note ${n}` }))
  chat.receive(sdk('c1', { from: 'carol', at: 50, msg: 'hiking maybe' }))
  // bob's chunks cannot be read when a late message of his comes: it is stored loose, older than them.
  storage.failKeys((key) => key.includes('/c/single:bob/'))
  const reopened = await open(storage)
  assert.equal(reopened.receive(sdk('late', { from: 'bob', at: 1, msg: 'late note' })).outcome, 'stored')
  storage.failKeys(() => false)
  assert.deepEqual(reopened.search('hiking', { limit: 1 }).map((r) => r.record.id), ['b20'])
  assert.deepEqual(reopened.search('note', { limit: 100 }).map((r) => r.record.id).slice(-2), ['b0', 'late'])
})

test('search: statuses as pages see them, recalled messages left out, clear errors', async () => {
  const chat = await open(createWxStorage())
  chat.receive(sdk('a1', { msg: 'see you at five' }))
  chat.receive(sdk('a2', { at: 1, msg: 'see you at six' }))
  chat.markRead('single:bob')
  assert.deepEqual(chat.search('see you').map((r) => r.record.status), ['read', 'read'])
  chat._handlers().onRecallMessage({ mid: 'a2', from: 'bob' })
  assert.deepEqual(chat.search('see you').map((r) => r.record.id), ['a1'])
  assert.throws(() => chat.search(''), /non-empty string/)
  assert.throws(() => chat.search('x', { before: 'nope' }), /no stored record has id "nope"/)
  assert.throws(() => chat.search('x', { conversation: 'nonsense' }), /conversation/)
})

test('drafts and pins: kept across a restart, pinned first, counted in the budget, clear errors', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  chat.receive(sdk('a1', { from: 'bob', at: 1, msg: 'hi' }))
  chat.receive(sdk('b1', { from: 'carol', at: 2, msg: 'hi' }))
  chat.receive(sdk('c1', { from: 'dave', at: 3, msg: 'hi' }))
  const rows = (c) => c.conversations().map((r) => [r.conversation, r.pinned, r.draft])
  assert.deepEqual(rows(chat), [['single:dave', false, ''], ['single:carol', false, ''], ['single:bob', false, '']])

  const before = chat.storageReport().bytesUsed
  assert.equal(chat.setDraft('single:bob', '周末去 🎉 "爬山"').outcome, 'updated')
  assert.equal(chat.setDraft('single:bob', '周末去 🎉 "爬山"').outcome, 'unchanged')
  assert.equal(chat.pin('single:bob').outcome, 'updated')
  assert.equal(chat.pin('single:carol', true).outcome, 'updated')
  assert.ok(chat.storageReport().bytesUsed > before, 'drafts and pins take room in the budget')
  const expected = [['single:carol', true, ''], ['single:bob', true, '周末去 🎉 "爬山"'], ['single:dave', false, '']]
  assert.deepEqual(rows(chat), expected)
  assert.equal(chat.draft('single:bob'), '周末去 🎉 "爬山"')
  assert.equal(chat.draft('single:dave'), '')

  // A restart reads them back; a new message reorders within the pinned and the rest alike.
  const again = await open(storage)
  assert.deepEqual(rows(again), expected)
  again.receive(sdk('a2', { from: 'bob', at: 9, msg: 'hi' }))
  assert.deepEqual(rows(again).map((r) => r[0]), ['single:bob', 'single:carol', 'single:dave'])
  assert.equal(again.pin('single:carol', false).outcome, 'updated')
  assert.equal(again.setDraft('single:bob', '').outcome, 'updated')
  assert.deepEqual(rows(await open(storage)), [['single:bob', true, ''], ['single:dave', false, ''], ['single:carol', false, '']])

  assert.throws(() => again.setDraft('nonsense', 'x'), /conversation "nonsense"/)
  assert.throws(() => again.setDraft('single:bob', 'x'.repeat(2001)), /2001 characters; drafts are kept up to 2000/)
  assert.throws(() => again.setDraft('single:bob', 42), /needs the draft as a string/)
  assert.throws(() => again.pin('', true), /conversation/)
})

test('a draft the storage refuses is unsaved but kept for this run; nothing stored before is lost', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  chat.receive(sdk('a1', { from: 'bob', at: 1, msg: 'hi' }))
  chat.setDraft('single:bob', 'first')
  storage.failCall(1)
  const refused = chat.setDraft('single:bob', 'second')
  assert.equal(refused.outcome, 'unsaved')
  assert.match(refused.reason, /setStorageSync/)
  assert.equal(chat.draft('single:bob'), 'second')
  storage.heal()
  const reopened = await open(storage)
  assert.equal(reopened.draft('single:bob'), 'first')
  assert.deepEqual(reopened.history('single:bob').map((r) => r.id), ['a1'])
})

test('drafts and pins that cannot be read are not replaced: a clear error until the read works again', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  chat.receive(sdk('a1', { from: 'bob', at: 1, msg: 'hi' }))
  chat.setDraft('single:bob', 'kept')
  chat.pin('single:bob')
  storage.failKeys((key) => key.endsWith('/x/local'))
  const reopened = await open(storage)
  assert.throws(() => reopened.setDraft('single:carol', 'new'), /getStorageSync/)
  assert.throws(() => reopened.pin('single:carol'), /getStorageSync/)
  assert.deepEqual(reopened.conversations().map((r) => [r.conversation, r.pinned, r.draft]), [['single:bob', false, '']])
  storage.failKeys(() => false)
  assert.equal(reopened.setDraft('single:carol', 'new').outcome, 'updated')
  const later = await open(storage)
  assert.deepEqual([later.draft('single:bob'), later.draft('single:carol')], ['kept', 'new'])
  assert.deepEqual(later.conversations().map((r) => [r.conversation, r.pinned]), [['single:bob', true]])
})

test('recall: my own sent message is taken back on the server, then stored as a recall; the server may refuse', async () => {
  const storage = createWxStorage()
  const chat = await open(storage)
  chat.receive(sdk('mine', { from: 'alice', to: 'bob', msg: 'oops [):]' })) // sent from my other device
  chat.receive(sdk('theirs', { from: 'bob', at: 1, msg: 'hello' }))
  const calls = []
  let refuse = true
  const conn = { recallMessage: async (options) => { calls.push(options); if (refuse) throw new Error('recall time limit exceeded') } }
  const published = []
  chat.subscribe('single:bob', (record) => published.push([record.id, !!record.recalled]))

  await assert.rejects(chat.recall(conn, 'mine'), /recall time limit exceeded/)
  assert.equal(chat.history('single:bob')[0].text, 'oops [):]', 'a refused recall changes nothing')
  refuse = false
  const recalled = await chat.recall(conn, 'mine')
  assert.deepEqual(calls, [{ mid: 'mine', to: 'bob', chatType: 'singleChat' }, { mid: 'mine', to: 'bob', chatType: 'singleChat' }])
  assert.equal(recalled.recalled, true)
  assert.equal(recalled.text, undefined)
  assert.deepEqual(published, [['mine', true]])
  const again = await open(storage)
  assert.deepEqual(again.history('single:bob').map((r) => [r.id, !!r.recalled]), [['mine', true], ['theirs', false]])

  await assert.rejects(again.recall(conn, 'theirs'), /not mine to recall/)
  await assert.rejects(again.recall(conn, 'mine'), /recalled already/)
  await assert.rejects(again.recall(conn, 'nope'), /no stored record has id "nope"/)
  await assert.rejects(again.recall({}, 'mine'), /needs the SDK connection/)
  assert.equal(calls.length, 2)
})
