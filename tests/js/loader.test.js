// dist/mpchat as users load it: in Node, and in a phone-like realm (WXWebAssembly with a package path,
// no WebAssembly/TextEncoder/TextDecoder/fetch/URL). The same checks run under both.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const vm = require('vm')
const { loadLikePhone, presentGlobals, repoRoot } = require('./support/phone')
const { createWxStorage } = require('./support/wx-storage')

function withStorage(mpchat) {
  return { ...mpchat, createChat: (options) => mpchat.createChat(options && { storage: createWxStorage(), ...options }) }
}

// Values from the phone realm have that realm's prototypes; compare their JSON shape.
const sameShape = (actual, expected) => assert.deepEqual(JSON.parse(JSON.stringify(actual)), expected)

const loaders = {
  // Node has no wx: storage is passed. The phone realm has a global wx, as a mini-program does.
  node: () => withStorage(require(path.join(repoRoot, 'dist', 'mpchat', 'index.js'))),
  phone: () => loadLikePhone({ globals: { wx: createWxStorage() } }).mpchat,
}

for (const [name, load] of Object.entries(loaders)) {
  test(`${name}: module functions work once a chat exists`, async () => {
    const mpchat = load()
    assert.throws(() => mpchat.parseEmoji('x'), /not loaded yet/)
    await mpchat.createChat({ user: 'alice' })
    sameShape(mpchat.parseEmoji('hi [):]'), [
      { type: 'txt', data: 'hi ' },
      { type: 'emoji', data: 'ee_1.png', code: '[):]' },
    ])
    assert.equal(mpchat.deleteLast('hi [):]'), 'hi ')
    assert.equal(mpchat.deleteLast('ok👨‍👩‍👧'), 'ok')
    assert.equal(mpchat.emojiTable().length, 35)
    const now = Date.UTC(2026, 10, 26, 4, 0) // 12:00 in UTC+8
    assert.equal(mpchat.formatTime(now - 60 * 60 * 1000, { now }), '11:00')
    assert.equal(mpchat.formatTime(now - 24 * 60 * 60 * 1000, { now, locale: 'en' }), 'Yesterday 12:00')
  })

  test(`${name}: parseEmoji slices reassemble any text, lone surrogates included`, async () => {
    const mpchat = load()
    await mpchat.load()
    const texts = ['', '[):]', 'a\uD800b[:D]\uDC00', '👍🏽[;)]🇨🇳', 'eating ^ [xx]\n[):', '中文[(H)][(D)]结束']
    for (const text of texts) {
      assert.equal(mpchat.parseEmoji(text).map((s) => (s.type === 'emoji' ? s.code : s.data)).join(''), text)
    }
    assert.throws(() => mpchat.parseEmoji(42), /expects a string/)
  })

  test(`${name}: build and normalize cross the boundary as plain objects`, async () => {
    const mpchat = load()
    const chat = await mpchat.createChat({ user: 'alice', profile: { nickname: 'Alice' } })
    const options = chat.build({ type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'hi [):]' })
    assert.equal(options.chatType, 'groupChat')
    assert.equal(options.group, 'groupchat')
    assert.equal(options.ext.userNickname, 'Alice')
    assert.throws(() => chat.build({ type: 'txt', chatType: 'groupChat', msg: 'hi' }), /`?to`?/)
    const result = chat.normalize({ id: 'm1', type: 'txt', chatType: 'groupChat', from: 'bob', to: 'g1',
      msg: 'yo [:D]', time: 1700000000000, ext: { userNickname: 'Bob' } })
    assert.equal(result.outcome, 'ok')
    assert.equal(result.conversation, 'group:g1')
    assert.equal(result.record.sender.nickname, 'Bob')
    sameShape(result.record.segments.map((s) => s.type), ['txt', 'emoji'])
    const cyclic = { id: 'm2' }
    cyclic.self = cyclic
    assert.equal(chat.normalize(cyclic).outcome, 'ignored')
    assert.match(chat.normalize(null).reason, /\S/)
  })

  test(`${name}: createChat rejects a missing user with a clear error`, async () => {
    const mpchat = load()
    await assert.rejects(mpchat.createChat({}), /user/)
    await assert.rejects(mpchat.createChat(), /options/)
  })
}

// What a phone's logic layer does not have; the phone realm must lack each, seen from code running in it.
const ABSENT = ['WebAssembly', 'TextEncoder', 'TextDecoder', 'fetch', 'URL', 'require', 'process']

test('phone: wasm loads from the package path, and the realm lacks what phones lack', async () => {
  const { mpchat, realm, instantiateCalls } = loadLikePhone({ globals: { wx: createWxStorage() } })
  await mpchat.createChat({ user: 'alice' })
  assert.deepEqual(instantiateCalls, ['/mpchat/mpchat_bg.wasm.br'])
  assert.deepEqual(presentGlobals(realm, ABSENT), [])
})

test('phone: the absence check reports each of those globals when one is planted', () => {
  for (const name of ABSENT) {
    const { realm } = loadLikePhone({ globals: { wx: createWxStorage(), [name]: {} } })
    assert.deepEqual(presentGlobals(realm, ABSENT), [name])
  }
})

test('phone: eval and new Function throw, however they are reached', () => {
  const { realm } = loadLikePhone({ globals: { wx: createWxStorage() } })
  for (const code of ['eval("1")', 'new Function("return 1")()', '(function () {}).constructor("return 1")()',
    '(async function () {}).constructor("return 1")']) {
    assert.throws(() => vm.runInContext(code, realm), (err) => err.name === 'EvalError', code)
  }
})

test('phone: WXWebAssembly refuses a package path with ..', async () => {
  const { mpchat, instantiateCalls } = loadLikePhone({ globals: { wx: createWxStorage() } })
  await assert.rejects(mpchat.createChat({ user: 'a', wasmPath: '/mpchat/../mpchat/mpchat_bg.wasm.br' }), /'\.\.' in a package path/)
  assert.deepEqual(instantiateCalls, ['/mpchat/../mpchat/mpchat_bg.wasm.br'])
})

test('phone: a WXWebAssembly that resolves to a bare Instance works too', async () => {
  const { mpchat, realm } = loadLikePhone({ globals: { wx: createWxStorage() } })
  const instantiate = realm.WXWebAssembly.instantiate
  realm.WXWebAssembly.instantiate = (p, imports) => instantiate(p, imports).then((r) => r.instance)
  await mpchat.createChat({ user: 'alice' })
  assert.equal(mpchat.parseEmoji('[):]')[0].data, 'ee_1.png')
})

test('phone: a custom wasmPath is used, and a failed load can be retried', async () => {
  const { mpchat, instantiateCalls } = loadLikePhone({ globals: { wx: createWxStorage() } })
  await assert.rejects(mpchat.createChat({ user: 'a', wasmPath: '/nowhere/x.wasm.br' }), /ENOENT|no such file/)
  await mpchat.createChat({ user: 'a', wasmPath: '/mpchat/mpchat_bg.wasm.br' })
  assert.deepEqual(instantiateCalls, ['/nowhere/x.wasm.br', '/mpchat/mpchat_bg.wasm.br'])
})
