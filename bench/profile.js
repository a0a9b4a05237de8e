// `node bench/profile.js open|list|page|receive [rounds]` (or `make profile SCENARIO=…`): where the time of one
// scenario goes on WeChat's iPhone engine. Builds the package with the wasm's function names kept
// (MPCHAT_NAMED=1 scripts/build.sh, into target/mpchat-named), runs the scenario (bench/jsc/profiled.js) in
// jsc --useJIT=false under JSC's sampling profiler, and prints the share of each tier and the functions
// sampled most. C frames are sampled too: without them, time in the wasm interpreter's own helpers shows as
// "(unknown C PC)" and the wasm's share reads low. A profile, not a benchmark: sampling slows the run.
'use strict'
const fs = require('fs')
const path = require('path')
const { execFileSync, spawnSync } = require('child_process')
const { writeBundle, jscPath, repoRoot } = require('../tests/jsc/harness')
const { makeMessages } = require('./corpus')
const { fullStore } = require('./full-store')

const ROUNDS = { open: 20, list: 20, page: 400, receive: 3 }
const RECEIVED = 1000 // messages a receive round stores
const SHOWN = 40 // functions listed

// JSC's names, marked by where the code runs: `mpchat.wasm.wasm-function[<mpchat[5f2a…]::tape::Val>::get]#…`
// → `wasm  <mpchat::tape::Val>::get` (crate hashes dropped), `chars#CcBvDW:2` → `js    chars`, a native
// function or `(unknown C PC)` (`…#<nil>:…`) → `C     …`.
function cleanName(name) {
  const wasm = /^mpchat\.wasm\.wasm-function\[(.*)\]#[^\]]*$/.exec(name)
  if (wasm) return `wasm  ${wasm[1].replace(/\[[0-9a-f]{16}\]/g, '') || '(unnamed)'}`
  const at = name.lastIndexOf('#')
  const native = name.slice(at).startsWith('#<nil>')
  return `${native ? 'C   ' : 'js  '}  ${name.slice(0, at)}`
}

// The report JSC prints at exit: the tier table as it stands, the top functions cleaned.
function summary(report) {
  const lines = report.replace(/\r/g, '').split('\n')
  const at = (heading) => lines.findIndex((line) => line.startsWith(heading))
  const tiers = lines.slice(at('Tier breakdown'), at('Tier breakdown') + 16)
    .filter((line) => /^\S.*:\s+\d+ /.test(line) && !/:\s+0 /.test(line))
  const top = []
  for (const line of lines.slice(at('Top functions') + 1)) {
    const match = /^\s*(\d+)\s+'(.*)'$/.exec(line)
    if (!match) break
    top.push(`${match[1].padStart(7)}  ${cleanName(match[2])}`)
  }
  return [lines.find((line) => line.startsWith('Sampling rate')), ...tiers, 'samples  function', ...top]
}

async function main() {
  const scenario = process.argv[2]
  if (!(scenario in ROUNDS)) throw new Error(`usage: node bench/profile.js ${Object.keys(ROUNDS).join('|')} [rounds]`)
  const rounds = Number(process.argv[3]) || ROUNDS[scenario]
  execFileSync('bash', [path.join(repoRoot, 'scripts', 'build.sh')], { stdio: 'inherit', env: { ...process.env, MPCHAT_NAMED: '1' } })
  const context = { scenario, rounds, user: 'me' }
  if (scenario === 'receive') context.messages = makeMessages({ count: RECEIVED, conversations: 1, me: 'me' })
  else context.file = (await fullStore(path.join(repoRoot, 'dist', 'mpchat'))).file
  const { work, bundle } = writeBundle({
    main: path.join(__dirname, 'jsc', 'profiled.js'),
    packageRoot: path.join(repoRoot, 'target', 'mpchat-named'),
    modules: {
      '/support/wx-storage.js': path.join(repoRoot, 'tests', 'js', 'support', 'wx-storage.js'),
      '/bench/measure.js': path.join(__dirname, 'measure.js'),
    },
    context,
    quit: false,
  })
  try {
    const args = ['--sample', '--sampleCCode=true', `--samplingProfilerTopFunctionsCount=${SHOWN}`, '--useJIT=false', bundle]
    const run = spawnSync(jscPath(), args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    const result = run.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line)).pop()
    if (!result || result.kind !== 'result') throw new Error(`jsc: ${result ? result.error.message : run.stderr.slice(-2000)}`)
    console.log(`${scenario}: ${rounds} rounds of ${result.result.join(', ')} ms (slowed by sampling)`)
    console.log(summary(run.stderr + run.stdout).join('\n'))
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err.message)
  process.exit(1)
})
