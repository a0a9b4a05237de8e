// Storage faults through dist/mpchat on a simulated wx storage: a fault at every storage call of a chat's
// life, createChat included (a call that throws, a write that takes effect and then throws, two in a row,
// reads that keep throwing, the app killed at the fault), then a reopen on the healed storage. Each run
// counts the messages reported stored and checks that every one of them is there after the reopen.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { repoRoot } = require('./support/phone')
const { createWxStorage } = require('./support/wx-storage')

const mpchat = require(path.join(repoRoot, 'dist', 'mpchat', 'index.js'))
const T0 = 1_764_000_000_000
const MESSAGES = 120
const GROUPS = 4

function sdk(id, { from = 'bob', to = 'g1', at = Number(id), msg = `m${id}` } = {}) {
  return { id: String(id), type: 'txt', chatType: 'groupChat', from, to, time: T0 + at * 1000, msg }
}

const open = (storage) => mpchat.createChat({ user: 'alice', storage })
const ids = (records) => records.map((r) => r.id)

// A chat's life: messages over four groups (some late, some mine from another device, a few received
// twice), pages read, marks and a mute, and a restart halfway (a new chat on the same storage, so that
// faults meet an opening with history to read). Page calls may throw a storage error; createChat never
// rejects for one, and receive never throws and never ignores a message for one. Stops when the app is
// killed.
async function scenario(storage, tally) {
  let chat = await open(storage)
  for (let n = 1; n <= MESSAGES; n++) {
    if (storage.dead) return
    if (n === MESSAGES / 2) {
      // The app idle, then started again: what waited is written first (a killed run dies before).
      chat.flush()
      chat = await open(storage)
    }
    const to = `g${n % GROUPS}`
    const message = sdk(n, { to, from: n % 9 === 0 ? 'alice' : 'bob', at: n % 13 === 0 ? n - 60 : n })
    const result = chat.receive(message)
    tally.outcomes[result.outcome] = (tally.outcomes[result.outcome] || 0) + 1
    assert.notEqual(result.outcome, 'ignored', `message ${n} ignored: ${result.reason}`)
    if (result.outcome === 'stored') tally.stored.add(result.record.id)
    if (n % 37 === 0) chat.receive(sdk(n - 30, { to: `g${(n - 30) % GROUPS}` })) // a repeat
    const page = (call) => {
      try {
        call()
      } catch (err) {
        assert.match(String(err.message), /mpchat|storage|getStorageSync|setStorageSync|removeStorageSync|getStorageInfoSync|read/)
        tally.pageErrors++
      }
    }
    if (n % 30 === 0) page(() => chat.history(`group:${to}`, { limit: 20 }))
    if (n % 50 === 0) page(() => chat.markRead(`group:${to}`))
    if (n === 80) page(() => chat.mute('group:g1', true))
    if (n % 40 === 0) page(() => chat.conversations())
  }
}

// Reopens the healed storage and checks what a run promised; returns how many reported stored were found.
async function check(storage, tally, context) {
  const again = await open(storage)
  assert.equal(again.openReport().pending, 0, `${context}: a healthy storage opens whole`)
  const kept = new Set()
  for (let g = 0; g < GROUPS; g++) {
    const history = again.history(`group:g${g}`, { limit: 1000 })
    const sorted = [...history].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    assert.deepEqual(ids(history), ids(sorted), `${context}: order in group:g${g}`)
    for (const r of history) {
      assert.ok(!kept.has(r.id), `${context}: duplicate ${r.id}`)
      assert.equal(r.conversation, `group:g${g}`, `${context}: ${r.id} in the wrong conversation`)
      kept.add(r.id)
    }
  }
  let found = 0
  for (const id of tally.stored) {
    assert.ok(kept.has(id), `${context}: message ${id} was reported stored but is gone`)
    found++
  }
  const report = again.storageReport()
  assert.equal(report.skippedCorrupt, 0, `${context}: nothing corrupt`)
  assert.equal(report.bytesUsed, storage.totalBytes, `${context}: the bytes counted are the bytes stored`)
  return found
}

// One run per storage call of a healthy run (createChat's calls first), with the fault `arm` sets at call k.
async function sweep(t, name, arm, { killed = false, reads = false, lost = Infinity } = {}) {
  const probe = createWxStorage()
  const healthy = { stored: new Set(), outcomes: {}, pageErrors: 0 }
  await scenario(probe, healthy)
  assert.equal(healthy.stored.size, MESSAGES, 'every message is stored on a healthy storage')
  const calls = probe.calls
  // The runs whose fault has a call to hit: reads throwing from call k meet none past the last read.
  const faultable = reads ? probe.lastRead : calls
  let reported = 0
  let found = 0
  let fired = 0
  for (let k = 1; k <= faultable; k++) {
    const storage = createWxStorage()
    arm(storage, k)
    const context = `${name} at call ${k}`
    const tally = { stored: new Set(), outcomes: {}, pageErrors: 0 }
    await scenario(storage, tally)
    fired += Number(k <= faultable && storage.faultsFired > 0)
    storage.heal()
    if (!killed) {
      assert.ok(tally.stored.size + lost >= MESSAGES, `${context}: ${tally.stored.size} of ${MESSAGES} reported stored`)
    }
    reported += tally.stored.size
    found += await check(storage, tally, context)
  }
  assert.equal(fired, faultable, `${name}: every run met its fault`)
  assert.equal(found, reported)
  // A sweep in which little is stored proves little.
  assert.ok(reported >= faultable * MESSAGES * (killed ? 0.25 : 0.9), `${name}: ${reported} reported stored over ${faultable} runs`)
  t.diagnostic(`${name}: ${faultable} fault points, ${reported} messages reported stored, ${found} found after reopen`)
}

test('fault sweep: a storage call that throws, at every call from createChat on', async (t) => {
  await sweep(t, 'a call that throws', (s, k) => s.failCall(k), { lost: 1 })
})

test('fault sweep: a write that takes effect and then throws, at every call', async (t) => {
  await sweep(t, 'a write that takes effect then throws', (s, k) => s.failCall(k, { after: true }), { lost: 1 })
})

test('fault sweep: two calls in a row that throw, at every call', async (t) => {
  await sweep(t, 'two in a row', (s, k) => s.failCall(k, { count: 2 }), { lost: 2 })
})

test('fault sweep: the app killed at every call (the write there taking effect, or not)', async (t) => {
  await sweep(t, 'killed at the call', (s, k) => s.failCall(k, { kill: true }), { killed: true })
  await sweep(t, 'killed after the write took effect', (s, k) => s.failCall(k, { after: true, kill: true }), { killed: true })
})

test('fault sweep: from any call on, every third read throws for good', async (t) => {
  await sweep(t, 'every third read throws', (s, k) => s.flakyReads(3, { from: k }), { reads: true, lost: 12 })
})

test('createChat opens on a storage whose every third read throws, and loses nothing', async () => {
  const storage = createWxStorage()
  const seeded = await open(storage)
  for (let n = 1; n <= 200; n++) assert.equal(seeded.receive(sdk(n, { to: `g${n % 3}` })).outcome, 'stored')
  assert.equal(seeded.flush().outcome, 'saved')
  for (let phase = 0; phase < 3; phase++) {
    const copy = createWxStorage()
    for (const [key, text] of storage.raw) copy.setStorageSync(key, JSON.parse(text))
    copy.flakyReads(3, { from: copy.calls + 1 + phase })
    const chat = await open(copy)
    const outcomes = {}
    for (let n = 201; n <= 260; n++) {
      const result = chat.receive(sdk(n, { to: `g${n % 3}`, at: n % 5 === 0 ? n - 150 : n }))
      outcomes[result.outcome] = (outcomes[result.outcome] || 0) + 1
    }
    assert.equal(outcomes.ignored, undefined, `phase ${phase}: ${JSON.stringify(outcomes)}`)
    assert.ok(outcomes.stored >= 55, `phase ${phase}: ${JSON.stringify(outcomes)}`)
    copy.heal()
    const again = await open(copy)
    const all = [0, 1, 2].flatMap((g) => ids(again.history(`group:g${g}`, { limit: 1000 })))
    assert.equal(all.length, 260, `phase ${phase}: every message is there after a reopen`)
  }
})

test('a message whose place is a chunk that cannot be read is stored, and lands in order', async () => {
  const storage = createWxStorage()
  const seeded = await open(storage)
  for (let n = 1; n <= 120; n++) seeded.receive(sdk(n))
  const chunks = [...storage.raw.keys()].filter((k) => k.includes('/c/'))
  assert.ok(chunks.length >= 2, 'history is sealed in chunks')
  storage.failKeys((key) => key.includes('/c/'))
  const chat = await open(storage)
  const late = chat.receive(sdk(500, { at: 10.5 })) // between messages 10 and 11, in the oldest chunk
  assert.equal(late.outcome, 'stored', late.reason)
  const twice = chat.receive(sdk(5)) // received again while its chunk cannot be read
  assert.notEqual(twice.outcome, 'ignored', twice.reason)
  assert.deepEqual(ids(chat.history('group:g1', { limit: 3 })), ['118', '119', '120'])
  storage.heal()
  const again = await open(storage)
  const history = ids(again.history('group:g1', { limit: 1000 }))
  assert.equal(history.length, 121, 'each message once')
  assert.deepEqual(history.slice(9, 12), ['10', '500', '11'])
  assert.equal(again.receive(sdk(500, { at: 10.5 })).outcome, 'duplicate')
})
