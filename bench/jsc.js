// The JavaScriptCore section of `make bench`: mpchat on WeChat's iPhone engine, jsc --useJIT=false
// (reference/wechat-platform.md), in the phone-like realm of tests/jsc. Each comparison is measured in one
// jsc run, every side on a fresh simulated wx storage counting UTF-16 units (tests/js/support/wx-storage.js).
// Times are wall time, since jsc has no CPU clock: figures move with the machine's load, so each is a
// median or a best of several, as its heading says. The jsc sides are in bench/jsc/.
'use strict'
const path = require('path')
const { runInJsc, runInJscAsync } = require('../tests/jsc/harness')
const { serveSockets } = require('../tests/jsc/socket-bridge')
const { startServer } = require('../loopback/server')
const { bundlePath, NEWEST } = require('../loopback/sdks')
const { makeMessages } = require('./corpus')
const { fullStore } = require('./full-store')
const { distSizes } = require('./load')
const { describeFailure } = require('./store')
const { fmt, median, count, kib, aim } = require('./measure')
const { modules } = require('./jsc-modules')
const { searchReport } = require('./search-body')

const repoRoot = path.join(__dirname, '..')
const ME = 'me'
const RECEIVE = { count: 2000, warmUp: 100, rounds: 3 }
const EMOJI = { lines: 10000, rounds: 5 }
const OPEN = { runs: 5, naiveRounds: 5, arriving: 300 }
const SEARCH = { rounds: 5 }
const BACKLOG = { messages: 500, conversations: 10, runs: 3 }
// The issue's aims on this engine.
const AIMS = { receiveRatio: 20, emojiRatio: 1, openRatio: 1, pageOrListShare: 0.1, brKiB: 64, searchRatio: 1 }

const main = (name) => path.join(__dirname, 'jsc', `${name}.js`)

const ms = (micros) => fmt(micros / 1000, 1)
const range = (xs, show) => `${show(Math.min(...xs))}-${show(Math.max(...xs))}`
// The run whose `key` is the median, so that the figures shown together come from one run.
const medianRun = (runs, key) => runs.find((r) => r[key] === median(runs.map((x) => x[key])))

function receive() {
  const messages = makeMessages({ count: RECEIVE.count, conversations: 1, me: ME })
  const rounds = runInJsc({ main: main('receive'), modules: modules(), context: { messages, warmUp: RECEIVE.warmUp, rounds: RECEIVE.rounds } })
  const way = (name) => ({
    micros: median(rounds.map((r) => r[name].micros)),
    units: median(rounds.map((r) => r[name].unitsWritten)),
    failure: rounds[0][name].failure,
  })
  const [mp, recipe, floor] = ['mpchat', 'recipe', 'floor'].map(way)
  const ratio = median(rounds.map((r) => r.recipe.micros / r.mpchat.micros))
  const overFloor = median(rounds.map((r) => r.mpchat.micros / r.floor.micros))
  const row = (label, w, note = '') => `  ${label.padEnd(46)}${fmt(w.micros, 1).padStart(9)}${w.failure ? '*' : ' '} ` +
    `${count(Math.round(w.units)).padStart(9)}   ${note}`.trimEnd()
  const lines = [
    `receive and store: ${count(RECEIVE.count)} SDK 4.x text messages into one conversation, each way on a fresh storage`,
    `(µs per message: median of ${RECEIVE.rounds} rounds, each after ${RECEIVE.warmUp} warm-up messages; ratios: median of ` +
      'the rounds\' ratios;',
    'written: UTF-16 units written to storage per message)',
    `  ${''.padEnd(46)}${'µs/msg'.padStart(9)}  ${'written'.padStart(9)}`,
    row('mpchat: chat.receive', mp, `${fmt(ratio, 1)}x the recipe's throughput, ${fmt(overFloor, 0)}x the floor's cost`),
    row('recipe: read the array, push, write it back', recipe),
    row('floor: each message once under its own key', floor),
  ]
  for (const [name, w] of [['mpchat', mp], ['recipe', recipe], ['floor', floor]]) {
    if (w.failure) {
      lines.push(`  * ${name} fails ${describeFailure(w.failure)}: that message and every later one of the ` +
        'conversation are lost;', `    its cost is over the ${count(w.failure.at)} messages tried`)
    }
  }
  return { lines, ratio }
}

function emoji() {
  const { demo, mpchat } = runInJsc({ main: main('emoji'), modules: modules(), context: EMOJI })
  const ratio = demo / mpchat
  const lines = [
    `parseEmoji, ${count(EMOJI.lines)} realistic chat lines (µs per line, best of ${EMOJI.rounds} passes after one)`,
    `  official demo's parser (baseline)   ${fmt(demo).padStart(7)}`,
    `  mpchat.parseEmoji                   ${fmt(mpchat).padStart(7)}   ${fmt(ratio)}x the baseline's throughput`,
  ]
  return { lines, ratio }
}

// Messages newer than any in the full store (a later day, ids of their own), into one of its conversations.
function arriving(count) {
  return makeMessages({ count, conversations: 1, me: ME, seed: 99 })
    .map((m) => ({ ...m, id: `new${m.id}`, time: m.time + 200 * 24 * 3600 * 1000 }))
}

async function open() {
  const store = await fullStore(path.join(repoRoot, 'dist', 'mpchat'))
  const runs = []
  const messages = arriving(OPEN.arriving)
  for (let i = 0; i < OPEN.runs; i++) {
    const run = runInJsc({ main: main('open'), modules: modules(),
      context: { file: store.file, user: store.user, naiveRounds: OPEN.naiveRounds, arriving: messages } })
    run.openMicros = run.createMicros + run.listMicros + run.pageMicros
    runs.push(run)
  }
  const pick = (key) => median(runs.map((r) => r[key]))
  const shown = (key) => `${ms(pick(key)).padStart(8)} ms (${range(runs.map((r) => r[key]), ms)})`
  const ratio = median(runs.map((r) => r.openMicros / r.naiveMicros))
  const share = (key) => median(runs.map((r) => r[key] / r.naiveMicros))
  const row = (label, key, note) => `  ${label.padEnd(60)}${shown(key)}${note ? `   ${note}` : ''}`
  const first = runs[0]
  const { report } = store
  const lines = [
    `cold open of a full store: ${count(store.messages)} messages over ${store.conversations} conversations received ` +
      'through chat.receive in Node',
    `(${count(report.bytesUsed)} of the ${count(report.totalBytes)}-byte budget used, ` +
      `${count(report.evictedRecords)} records evicted, ${store.notStored} not stored), ${count(first.values)} values ` +
      'holding',
    `${count(first.storedUnits)} UTF-16 units put in the storage before any clock starts; median of ${OPEN.runs} ` +
      'fresh jsc runs (min-max),',
    'ratios: median of the runs\' ratios to the naive app',
    row('naive app: JSON.parse every stored value (getStorageSync)', 'naiveMicros',
      `the reference (median of ${OPEN.naiveRounds} in each run)`),
    row('createChat + conversations() + the newest 20-message page', 'openMicros', `${fmt(ratio, 2)}x the reference`),
    row('  createChat', 'createMicros'),
    row(`  conversations(): ${first.conversations} conversations`, 'listMicros'),
    row(`  history(limit 20) of the most recent one: ${first.pageRecords} records`, 'pageMicros',
      `${fmt(share('pageMicros'), 2)}x`),
    row(`an older page, history(before it, limit 20): ${first.olderRecords} records`, 'olderMicros',
      `${fmt(share('olderMicros'), 2)}x`),
    row('conversations() again', 'listAgainMicros', `${fmt(share('listAgainMicros'), 2)}x`),
    `  ${`then ${count(OPEN.arriving)} new messages into ${messages[0].to}, the budget full`.padEnd(60)}` +
      `${fmt(pick('arrivingMicros'), 1).padStart(8)} µs a message (${range(runs.map((r) => r.arrivingMicros), (x) => fmt(x, 1))})`,
    `    ${count(first.arrivedStored)} stored, ${count(first.evictedRecords)} older records evicted to make room`,
    row('wasm load: mpchat.load(), first thing in a fresh run', 'loadMicros'),
  ]
  const worstShare = Math.max(share('pageMicros'), share('olderMicros'), share('listAgainMicros'))
  return { lines, ratio, worstShare }
}

async function search() {
  const store = await fullStore(path.join(repoRoot, 'dist', 'mpchat'))
  const results = runInJsc({ main: main('search'), modules: modules(),
    context: { file: store.file, user: store.user, rounds: SEARCH.rounds } })
  const { lines, worstRatio } = searchReport(results, `the full store above; median of ${SEARCH.rounds} rounds`)
  return { lines, worstRatio }
}

// One fresh loopback server per run, holding the backlog for ME until the SDK in jsc logs in.
async function backlogRun(messages, { guardMs = 10 * 60 * 1000 } = {}) {
  const users = new Set([ME])
  for (const m of messages) {
    users.add(m.from)
    if (m.chatType !== 'groupChat') users.add(m.to)
  }
  const groups = {}
  for (const m of messages) if (m.chatType === 'groupChat') groups[m.to] = [...users]
  const server = await startServer({ users: [...users], groups, chatRooms: {} })
  try {
    const ids = server.pushBacklog(ME, messages.map(({ from, to, chatType, msg, ext, time }) => ({ from, to, chatType, msg, ext, time })))
    return await runInJscAsync({
      main: main('backlog'),
      modules: modules({
        '/loopback/fake-wx.js': 'loopback/fake-wx.js',
        '/jsc/socket-bridge.js': 'tests/jsc/socket-bridge.js',
        '/sdk/easemob-websdk.js': bundlePath(NEWEST, 'miniProgram'),
      }),
      context: { user: ME, appKey: server.appKey, url: 'ws://127.0.0.1/websocket', ids: ids.map(String), guardMs },
      onAsk: serveSockets(server.wxConnectSocket),
    })
  } finally {
    await server.close()
  }
}

async function backlog() {
  const messages = makeMessages({ count: BACKLOG.messages, conversations: BACKLOG.conversations, me: ME })
  const runs = []
  for (let i = 0; i < BACKLOG.runs; i++) runs.push(await backlogRun(messages))
  const r = medianRun(runs, 'totalMicros')
  const rest = r.totalMicros - r.bridgeMicros - r.handlerMicros
  return {
    lines: [
      `offline backlog: ${r.messages} messages over ${BACKLOG.conversations} conversations queued on the loopback ` +
        'server, synced at login by',
      'easemob-websdk\'s mini-program build running in jsc (its socket bridged to Node in lockstep), stored through',
      `chat.attach (the run with the median total of ${BACKLOG.runs}; totals ` +
        `${range(runs.map((x) => x.totalMicros), ms)} ms)`,
      `  total, open() to the last message stored      ${ms(r.totalMicros).padStart(8)} ms`,
      `    waiting on the bridge (no phone has it)     ${ms(r.bridgeMicros).padStart(8)} ms in ${r.exchanges} exchanges`,
      `    inside mpchat's handlers                    ${ms(r.handlerMicros).padStart(8)} ms in ${r.handlerCalls} calls, ` +
        `${ms(r.handlerMicros / r.messages)} ms a message`,
      `    the SDK and the rest                        ${ms(rest).padStart(8)} ms`,
      `  storage: ${count(r.sets)} writes, ${count(r.bytesWritten)} UTF-16 units written ` +
        `(${count(Math.round(r.bytesWritten / r.messages))} a message)`,
      `  stored: ${r.storedOnReopen} of ${r.messages} messages read back by a chat reopened on that storage`,
    ],
  }
}

function sizes() {
  const { wasm, br, jsTotal } = distSizes()
  return {
    lines: [`sizes: mpchat_bg.wasm.br ${kib(br)} (mpchat_bg.wasm ${kib(wasm)}), JS glue and shim ${kib(jsTotal)}`],
    brKiB: br / 1024,
  }
}

async function run() {
  const r = receive()
  const e = emoji()
  const o = await open()
  const f = await search()
  const b = await backlog()
  const s = sizes()
  return [
    'JavaScriptCore without JIT (jsc --useJIT=false: WeChat on iPhones), in a phone-like realm; wall time;',
    'simulated wx storage counting UTF-16 units',
    ...r.lines, ...e.lines, ...o.lines, ...f.lines, ...b.lines, ...s.lines,
    'aims on JavaScriptCore',
    `  receive: ${fmt(r.ratio, 1)}x the recipe's throughput at ${count(RECEIVE.count)} messages ` +
      `(aim >= ${AIMS.receiveRatio}x: ${aim(r.ratio >= AIMS.receiveRatio)})`,
    `  parseEmoji: ${fmt(e.ratio)}x the demo parser's throughput (aim >= ${AIMS.emojiRatio}x: ${aim(e.ratio >= AIMS.emojiRatio)})`,
    `  cold open: ${fmt(o.ratio, 2)}x the naive parse of every value (aim <= ${AIMS.openRatio}x: ${aim(o.ratio <= AIMS.openRatio)})`,
    `  a 20-message page or conversations(), the slowest: ${fmt(o.worstShare, 2)}x the naive parse ` +
      `(aim <= ${AIMS.pageOrListShare}x: ${aim(o.worstShare <= AIMS.pageOrListShare)})`,
    `  search, the slowest query: ${fmt(f.worstRatio, 1)}x the naive search's speed ` +
      `(aim >= ${AIMS.searchRatio}x: ${aim(f.worstRatio >= AIMS.searchRatio)})`,
    `  mpchat_bg.wasm.br: ${kib(s.brKiB * 1024)} (aim <= ${AIMS.brKiB} KiB: ${aim(s.brKiB <= AIMS.brKiB)})`,
  ].join('\n')
}

module.exports = { run, backlogRun }
if (require.main === module) run().then(console.log, (e) => { console.error(e); process.exit(1) })
