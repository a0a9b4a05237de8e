// `node bench/instructions.js [package…]`: the host instructions mpchat costs on WeChat's iPhone engine,
// counted by valgrind (callgrind) while jsc --useJIT=false runs it: receiving messages into one
// conversation, and the cold open of the full store (createChat, the first conversations(), the newest
// page). Each package is a folder holding mpchat/ (default: dist); a copy of an earlier build beside the
// current one compares them. Where wall time moves ±10% from run to run on a busy machine, these counts
// repeat to a fraction of a percent, so a change of 1% shows. The engine's own collector is run
// synchronously for that; each figure is the least of two runs. A count, not a time: the bench
// (`make bench`) says what a change is worth. Needs valgrind.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { writeBundle, jscPath, repoRoot } = require('../tests/jsc/harness')
const { makeMessages } = require('./corpus')
const { fullStore } = require('./full-store')
const { modules } = require('./jsc-modules')

const MESSAGES = 400
const STEPS = { receive: ['chat opened', 'receive'], cold: ['restored', 'createChat', 'first conversations()', 'newest page'] }

// Instructions of one jsc run of the bundle, the collector made synchronous (its timers and threads
// otherwise make counts differ between runs).
function instructions(bundle) {
  const out = path.join(os.tmpdir(), `mpchat-callgrind-${process.pid}.out`)
  const run = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, jscPath(),
    '--useJIT=false', '--useConcurrentGC=false', '--sweepSynchronously=true', bundle], { encoding: 'utf8', maxBuffer: 1 << 28 })
  fs.rmSync(out, { force: true })
  const collected = /Collected : (\d+)/.exec(run.stderr || '')
  if (!collected) throw new Error(`valgrind: ${run.error ? run.error.message : (run.stderr || '').slice(-2000)}`)
  return Number(collected[1])
}

async function counts(packageRoot, scenario) {
  const context = { scenario, user: 'me' }
  if (scenario === 'receive') context.messages = makeMessages({ count: MESSAGES, conversations: 1, me: 'me' })
  else context.file = (await fullStore(path.join(packageRoot, 'mpchat'))).file
  const least = []
  for (let part = 0; part < STEPS[scenario].length; part++) {
    const { work, bundle } = writeBundle({
      main: path.join(__dirname, 'jsc', 'counted.js'),
      packageRoot,
      modules: modules(),
      context: { ...context, part },
    })
    try {
      least.push(Math.min(instructions(bundle), instructions(bundle)))
    } finally {
      fs.rmSync(work, { recursive: true, force: true })
    }
  }
  return least.slice(1).map((n, i) => n - least[i])
}

async function main() {
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('bench/instructions.js needs valgrind')
  const packages = process.argv.slice(2).map((p) => path.resolve(p))
  if (packages.length === 0) packages.push(path.join(repoRoot, 'dist'))
  const mega = (n) => `${(n / 1e6).toFixed(2)}M`.padStart(9)
  console.log(`host instructions on jsc --useJIT=false (valgrind callgrind), the least of two runs`)
  for (const packageRoot of packages) {
    const [receive] = await counts(packageRoot, 'receive')
    const cold = await counts(packageRoot, 'cold')
    const row = (label, n, unit = '') => console.log(`  ${label.padEnd(48)}${mega(n)}${unit}`)
    console.log(path.relative(process.cwd(), packageRoot) || '.')
    row(`receive, ${MESSAGES} messages into one conversation`, receive / MESSAGES, ' a message')
    cold.forEach((n, i) => row(`cold open: ${STEPS.cold[i + 1]}`, n))
    row('cold open in all', cold.reduce((a, b) => a + b, 0))
  }
}

main().catch((err) => {
  console.error(err.message)
  process.exit(1)
})
