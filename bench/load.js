// Start-up cost: loading dist/mpchat (require, brotli, compile and instantiate the wasm) against loading
// the Easemob SDK's mini-program bundle, each cold in the same fresh Node process, over several processes
// (the first loaded alternates); plus the sizes of what a user copies into a mini-program.
'use strict'
const fs = require('fs')
const path = require('path')
const zlib = require('zlib')
const { execFileSync } = require('child_process')
const { fmt, median, kib } = require('./measure')
const { repoRoot } = require('../tests/js/support/phone')

const dist = path.join(repoRoot, 'dist', 'mpchat')
const PROCESSES = 9

const millisSince = (start) => Number(process.hrtime.bigint() - start) / 1e6

// Runs in the child: both loads, in the given order, each timed from nothing loaded to ready to use.
async function measureInThisProcess(order) {
  // The harness itself (fake wx, SDK loader, simulated storage) is loaded before any clock starts.
  const { loadSdk } = require('../loopback/client')
  const { createFakeWx } = require('../loopback/fake-wx')
  const { createWxStorage } = require('../tests/js/support/wx-storage')
  const times = {}
  const loads = {
    async mpchat() {
      const start = process.hrtime.bigint()
      const mpchat = require(path.join(dist, 'index.js'))
      await mpchat.load()
      times.mpchat = millisSince(start)
      await mpchat.createChat({ user: 'me', storage: createWxStorage() })
      times.mpchatWithChat = millisSince(start)
    },
    async sdk() {
      const wx = createFakeWx()
      const start = process.hrtime.bigint()
      const { WebIM, unload } = loadSdk(wx)
      times.sdk = millisSince(start)
      if (!WebIM || typeof WebIM.connection !== 'function') throw new Error('the SDK bundle gave no WebIM.connection')
      unload() // clears the SDK's report timer so the process can end
    },
  }
  for (const name of order) await loads[name]()
  return times
}

function measure() {
  const runs = []
  for (let i = 0; i < PROCESSES; i++) {
    const order = i % 2 === 0 ? 'mpchat,sdk' : 'sdk,mpchat'
    const out = execFileSync(process.execPath, [__filename, '--child', order], { encoding: 'utf8' })
    runs.push(JSON.parse(out))
  }
  const pick = (key) => median(runs.map((r) => r[key]))
  const range = (key) => `${fmt(Math.min(...runs.map((r) => r[key])), 1)}-${fmt(Math.max(...runs.map((r) => r[key])), 1)}`
  // Both loads of one process share its conditions (the machine may be busy): ratios are taken per process.
  const ratio = (key) => median(runs.map((r) => r[key] / r.sdk))
  return { pick, range, ratio }
}

/** Bytes of what a user copies into a mini-program: the wasm (shipped brotli-compressed) and each JS file. */
function distSizes() {
  const br = fs.readFileSync(path.join(dist, 'mpchat_bg.wasm.br'))
  const js = fs.readdirSync(dist).filter((f) => f.endsWith('.js')).sort()
  const jsSizes = js.map((f) => [f, fs.statSync(path.join(dist, f)).size])
  return {
    wasm: zlib.brotliDecompressSync(br).length,
    br: br.length,
    jsSizes,
    jsTotal: jsSizes.reduce((sum, [, size]) => sum + size, 0),
  }
}

function sizeLines() {
  const { wasm, br, jsSizes, jsTotal } = distSizes()
  return [
    'sizes (dist/mpchat)',
    `  mpchat_bg.wasm      ${wasm} bytes (${kib(wasm)}), shipped only brotli-compressed:`,
    `  mpchat_bg.wasm.br   ${br} bytes (${kib(br)})`,
    `  JS glue and shim    ${jsTotal} bytes (${kib(jsTotal)}): ${jsSizes.map(([f, s]) => `${f} ${s}`).join(', ')}`,
  ]
}

async function run() {
  const { pick, range, ratio } = measure()
  const lines = [
    `load time, cold in a fresh Node process (median of ${PROCESSES} processes, min-max; the first load alternates;`,
    'the ratio is the median of the per-process ratios)',
    `  Easemob SDK mini-program bundle (evaluate)   ${fmt(pick('sdk'), 1)} ms (${range('sdk')})`,
    `  mpchat: require + load() (wasm ready)        ${fmt(pick('mpchat'), 1)} ms (${range('mpchat')})   ` +
      `${fmt(ratio('mpchat'), 2)}x the SDK's load time`,
    `  mpchat: ... + createChat on empty storage    ${fmt(pick('mpchatWithChat'), 1)} ms (${range('mpchatWithChat')})   ` +
      `${fmt(ratio('mpchatWithChat'), 2)}x`,
    ...sizeLines(),
  ]
  return lines.join('\n')
}

module.exports = { run, distSizes }
if (require.main === module) {
  if (process.argv[2] === '--child') {
    measureInThisProcess(process.argv[3].split(',')).then(
      (times) => process.stdout.write(JSON.stringify(times)),
      (e) => { console.error(e); process.exit(1) })
  } else {
    run().then(console.log, (e) => { console.error(e); process.exit(1) })
  }
}
