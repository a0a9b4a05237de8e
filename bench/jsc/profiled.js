// (runs in JavaScriptCore, under its sampling profiler: bench/profile.js) One scenario repeated long enough
// for the profile to say where its time goes, on a fresh simulated wx storage counting UTF-16 units:
// - cold: what an app does on start, once, as the first code of the run: createChat of the full store
//   (bench/full-store.js), conversations() and the newest 20-message page;
// - open: createChat of the full store, `rounds` times on the same storage;
// - list: createChat, then the first conversations() of each of `rounds` chats;
// - again: one chat on the full store, conversations() once, then `rounds` times again;
// - page: one chat on the full store, the newest 20-message page of each conversation in turn;
// - receive: `messages` into one conversation, `rounds` times, each on a fresh storage.
// Resolves to the milliseconds each round took and the profiler's stack traces summed up here (a run's
// traces are too many to print): per function the samples it was on the stack (inclusive) and on top
// (self), per caller the samples of each callee, and per tier the samples on top. Names are JSC's.
'use strict'
const mpchat = require('/mpchat/index.js')
const { createWxStorage } = require('/support/wx-storage.js')
const { nowMicros } = require('/bench/measure.js')

function restored(file) {
  const { values } = JSON.parse(__jsc.readText(file))
  const storage = createWxStorage({ units: 'utf16' })
  for (const key of Object.keys(values)) storage.setStorageSync(key, values[key])
  return storage
}

const scenarios = {
  async cold({ file, user }, timed) {
    const storage = restored(file)
    if (typeof samplingProfilerStackTraces === 'function') samplingProfilerStackTraces() // restoring is not the app's
    await timed(async () => {
      const chat = await mpchat.createChat({ user, storage })
      const list = chat.conversations()
      chat.history(list[0].conversation, { limit: 20 })
    })
  },
  async open({ file, user, rounds }, timed) {
    const storage = restored(file)
    for (let r = 0; r < rounds; r++) await timed(() => mpchat.createChat({ user, storage }))
  },
  async list({ file, user, rounds }, timed) {
    const storage = restored(file)
    for (let r = 0; r < rounds; r++) {
      const chat = await mpchat.createChat({ user, storage })
      await timed(() => chat.conversations())
    }
  },
  async again({ file, user, rounds }, timed) {
    const chat = await mpchat.createChat({ user, storage: restored(file) })
    chat.conversations()
    for (let r = 0; r < rounds; r++) await timed(() => chat.conversations())
  },
  async page({ file, user, rounds }, timed) {
    const chat = await mpchat.createChat({ user, storage: restored(file) })
    const list = chat.conversations()
    for (let r = 0; r < rounds; r++) await timed(() => chat.history(list[r % list.length].conversation, { limit: 20 }))
  },
  async receive({ messages, user, rounds }, timed) {
    for (let r = 0; r < rounds; r++) {
      const chat = await mpchat.createChat({ user, storage: createWxStorage({ units: 'utf16' }) })
      await timed(() => {
        for (const message of messages) chat.receive(message)
        chat.flush()
      })
    }
  },
}

// The traces (innermost frame first) as { functions: { name: [inclusive, self, tier] }, calls: { caller: { callee:
// samples } }, tiers: { category: samples } }. A function recursing counts once per trace.
function summed(traces) {
  const functions = {}
  const calls = {}
  const tiers = {}
  const add = (table, key, n) => { table[key] = (table[key] || 0) + n }
  for (let t = 0; t < traces.length; t++) {
    const frames = traces[t].frames
    if (frames.length === 0) continue
    add(tiers, frames[0].category, 1)
    const seen = new Set()
    for (let i = 0; i < frames.length; i++) {
      const name = frames[i].name
      const row = functions[name] || (functions[name] = [0, 0, frames[i].category])
      if (i === 0) row[1]++
      if (!seen.has(name)) {
        seen.add(name)
        row[0]++
      }
      if (i > 0) {
        const pair = `${frames[i].name}\n${frames[i - 1].name}`
        if (!seen.has(pair)) {
          seen.add(pair)
          add(calls[name] || (calls[name] = {}), frames[i - 1].name, 1)
        }
      }
    }
  }
  return { functions, calls, tiers }
}

module.exports = async function profiled(context) {
  await mpchat.load()
  const millis = []
  const timed = async (fn) => {
    const start = nowMicros()
    await fn()
    millis.push(Math.round(nowMicros() - start) / 1000)
  }
  await scenarios[context.scenario](context, timed)
  // jsc's own, when bench/profile.js runs it with --sample.
  const traces = context.sampled ? samplingProfilerStackTraces().traces : []
  return { millis, samples: traces.length, ...summed(traces) }
}
