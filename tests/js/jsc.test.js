// dist/mpchat in JavaScriptCore without JIT, the engine of WeChat on iPhones (tests/jsc): the loader checks
// of loader.test.js in a realm shaped like a phone's, one store scenario, and an offline backlog synced by
// the real SDK running in jsc. Each check is a fresh jsc run; jsc returns what it saw and the assertions are
// made here. Needs jsc: scripts/ensure-jsc.sh (make test installs it).
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { runInJsc, repoRoot } = require('../jsc/harness')
const { makeMessages } = require('../../bench/corpus')
const { backlogRun } = require('../../bench/jsc')

const modules = { '/support/wx-storage.js': path.join(__dirname, 'support', 'wx-storage.js') }
const check = (name, context = {}, options = {}) => runInJsc({
  main: path.join(repoRoot, 'tests', 'jsc', 'loader-checks.js'), modules, context: { check: name, ...context }, ...options,
})

test('jsc: module functions work once a chat exists', () => {
  const seen = check('moduleFunctions')
  assert.match(seen.before, /not loaded yet/)
  assert.deepEqual(seen.segments, [{ type: 'txt', data: 'hi ' }, { type: 'emoji', data: 'ee_1.png', code: '[):]' }])
  assert.equal(seen.deleteCode, 'hi ')
  assert.equal(seen.deleteFamily, 'ok')
  assert.equal(seen.emojiTable, 35)
  assert.equal(seen.hourAgo, '11:00')
  assert.equal(seen.yesterday, 'Yesterday 12:00')
})

test('jsc: parseEmoji segments reassemble any text, lone surrogates included', () => {
  const texts = ['', '[):]', 'a\uD800b[:D]\uDC00', '👍🏽[;)]🇨🇳', 'eating ^ [xx]\n[):', '中文[(H)][(D)]结束']
  const seen = check('reassemble', { texts })
  assert.deepEqual(seen.joined, texts)
  assert.match(seen.notString, /expects a string/)
})

test('jsc: build and normalize cross the boundary as plain objects', () => {
  const seen = check('buildAndNormalize')
  assert.deepEqual(seen.options, { chatType: 'groupChat', group: 'groupchat', nickname: 'Alice' })
  assert.match(seen.withoutTo, /`?to`?/)
  assert.equal(seen.outcome, 'ok')
  assert.equal(seen.conversation, 'group:g1')
  assert.equal(seen.sender, 'Bob')
  assert.deepEqual(seen.segmentTypes, ['txt', 'emoji'])
  assert.equal(seen.cyclic, 'ignored')
  assert.match(seen.nullReason, /\S/)
})

test('jsc: createChat rejects a missing user with a clear error', () => {
  const seen = check('createChatErrors')
  assert.match(seen.withoutUser, /user/)
  assert.match(seen.withoutOptions, /options/)
})

test('jsc: wasm loads from the package path through WXWebAssembly; the realm lacks what phones lack', () => {
  const seen = check('realm')
  assert.deepEqual(seen.instantiateCalls, ['/mpchat/mpchat_bg.wasm.br'])
  for (const [name, type] of Object.entries(seen.globals)) assert.equal(type, 'undefined', name)
  for (const what of ['eval', 'newFunction', 'functionConstructor']) assert.match(seen[what], /not allowed/, what)
})

test('jsc: a WXWebAssembly that resolves to a bare Instance works too', () => {
  assert.equal(check('bareInstance').emoji, 'ee_1.png')
})

test('jsc: a wasm path that leaves the package is refused, and a later load works', () => {
  const bad = '/mpchat/../mpchat/mpchat_bg.wasm.br'
  const seen = check('wasmPaths', { bad, good: '/mpchat/mpchat_bg.wasm.br' })
  assert.match(seen.failed, /leaves the package/)
  assert.deepEqual(seen.instantiateCalls, [bad, '/mpchat/mpchat_bg.wasm.br'])
  assert.equal(seen.emoji, 'ee_1.png')
})

test('jsc: a custom wasmPath is used, and a failed load can be retried', () => {
  const custom = '/packageChat/lib/mpchat_bg.wasm.br' // the wasm copied into a subpackage
  const seen = check('wasmPaths', { bad: '/nowhere/x.wasm.br', good: custom },
    { wasm: { [custom]: path.join(repoRoot, 'dist', 'mpchat', 'mpchat_bg.wasm.br') } })
  assert.match(seen.failed, /no such file/)
  assert.deepEqual(seen.instantiateCalls, ['/nowhere/x.wasm.br', custom])
  assert.equal(seen.emoji, 'ee_1.png')
})

test('jsc: history over conversations survives reopening; late and repeated messages, pages, unread, markRead', () => {
  const seen = runInJsc({ main: path.join(repoRoot, 'tests', 'jsc', 'store-scenario.js'), modules })
  const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i))
  assert.ok(Object.values(seen.outcomes).every((o) => o === 'stored'), JSON.stringify(seen.outcomes))
  assert.equal(Object.keys(seen.outcomes).length, 37)
  assert.deepEqual(seen.repeats, ['duplicate', 'duplicate'])
  // Newest page first, each oldest first; the late 25 in its place; nothing twice.
  assert.deepEqual(seen.pages, [range(11, 30), range(1, 10)])
  assert.deepEqual(seen.withEmoji, { id: '7', text: 'see you [):]', segments: [
    { type: 'txt', data: 'see you ' }, { type: 'emoji', data: 'ee_1.png', code: '[):]' }] })
  assert.deepEqual(seen.carol, [['101', 'in'], ['102', 'in'], ['103', 'in'], ['104', 'in'], ['105', 'out']])
  const list = (g1Unread) => [
    { conversation: 'chatroom:r1', unread: 2, last: '202' },
    { conversation: 'single:carol', unread: 4, last: '105' }, // my own message is not unread
    { conversation: 'group:g1', unread: g1Unread, last: '30' },
  ]
  assert.deepEqual(seen.listed, list(30))
  assert.equal(seen.unreadTotal, 36)
  assert.deepEqual(seen.afterMarkRead, { list: list(0), unreadTotal: 6 })
  assert.deepEqual(seen.afterReopen, { list: list(0), unreadTotal: 6, status: 'read' })
})

test('jsc: an offline backlog synced by the real SDK running in jsc is stored through attach, every message', async () => {
  const messages = makeMessages({ count: 40, conversations: 5, me: 'me' })
  const seen = await backlogRun(messages, { guardMs: 60 * 1000 })
  assert.equal(seen.messages, 40)
  assert.equal(seen.storedOnReopen, 40)
  assert.equal(seen.report.conversations, 5)
})
