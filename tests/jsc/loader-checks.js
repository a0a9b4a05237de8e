// (runs in JavaScriptCore) The loader checks of tests/js/loader.test.js, in jsc without JIT: context.check
// names one; each runs in a fresh jsc (mpchat loads once per realm) and returns what it saw, for
// tests/js/jsc.test.js to assert.
'use strict'
const mpchat = require('/mpchat/index.js')
const { createWxStorage } = require('/support/wx-storage.js')

const open = (options) => mpchat.createChat(options && { storage: createWxStorage(), ...options })

// The message of what `fn` throws or rejects with, or null.
async function failure(fn) {
  try {
    await fn()
    return null
  } catch (err) {
    return String(err && err.message)
  }
}

const checks = {
  async moduleFunctions() {
    const before = await failure(() => mpchat.parseEmoji('x'))
    await open({ user: 'alice' })
    const now = Date.UTC(2026, 10, 26, 4, 0) // 12:00 in UTC+8
    return {
      before,
      segments: mpchat.parseEmoji('hi [):]'),
      deleteCode: mpchat.deleteLast('hi [):]'),
      deleteFamily: mpchat.deleteLast('ok👨‍👩‍👧'),
      emojiTable: mpchat.emojiTable().length,
      hourAgo: mpchat.formatTime(now - 60 * 60 * 1000, { now }),
      yesterday: mpchat.formatTime(now - 24 * 60 * 60 * 1000, { now, locale: 'en' }),
    }
  },

  async reassemble({ texts }) {
    await mpchat.load()
    return {
      joined: texts.map((text) => mpchat.parseEmoji(text).map((s) => (s.type === 'emoji' ? s.code : s.data)).join('')),
      notString: await failure(() => mpchat.parseEmoji(42)),
    }
  },

  async buildAndNormalize() {
    const chat = await open({ user: 'alice', profile: { nickname: 'Alice' } })
    const options = chat.build({ type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'hi [):]' })
    const result = chat.normalize({ id: 'm1', type: 'txt', chatType: 'groupChat', from: 'bob', to: 'g1',
      msg: 'yo [:D]', time: 1700000000000, ext: { userNickname: 'Bob' } })
    const cyclic = { id: 'm2' }
    cyclic.self = cyclic
    return {
      options: { chatType: options.chatType, group: options.group, nickname: options.ext.userNickname },
      withoutTo: await failure(() => chat.build({ type: 'txt', chatType: 'groupChat', msg: 'hi' })),
      outcome: result.outcome,
      conversation: result.conversation,
      sender: result.record.sender.nickname,
      segmentTypes: result.record.segments.map((s) => s.type),
      cyclic: chat.normalize(cyclic).outcome,
      nullReason: chat.normalize(null).reason,
    }
  },

  async createChatErrors() {
    return { withoutUser: await failure(() => open({})), withoutOptions: await failure(() => mpchat.createChat()) }
  },

  async realm() {
    await open({ user: 'alice' })
    const missing = ['WebAssembly', 'TextEncoder', 'TextDecoder', 'fetch', 'URL', 'require', 'process']
    return {
      instantiateCalls: __jsc.instantiateCalls,
      globals: Object.fromEntries(missing.map((name) => [name, typeof globalThis[name]])),
      eval: await failure(() => eval('1')),
      newFunction: await failure(() => new Function('return 1')),
      functionConstructor: await failure(() => (function () {}).constructor('return 1')),
    }
  },

  async bareInstance() {
    const instantiate = WXWebAssembly.instantiate
    WXWebAssembly.instantiate = (path, imports) => instantiate(path, imports).then((result) => result.instance)
    await open({ user: 'alice' })
    return { emoji: mpchat.parseEmoji('[):]')[0].data }
  },

  // A failed load (a path outside the package, or no file there) leaves mpchat able to load from a good one.
  async wasmPaths({ bad, good }) {
    const failed = await failure(() => open({ user: 'a', wasmPath: bad }))
    await open({ user: 'a', wasmPath: good })
    return { failed, instantiateCalls: __jsc.instantiateCalls, emoji: mpchat.parseEmoji('[):]')[0].data }
  },
}

module.exports = (context) => checks[context.check](context)
