// `node bench/profile.js cold|open|list|again|page|receive [rounds] [--self] [--tree REGEX] [--callers REGEX]`
// (or `make profile SCENARIO=… SELF=1 TREE=… CALLERS=…`): where the time of one scenario goes on WeChat's
// iPhone engine. Builds the package with the wasm's function names kept (MPCHAT_NAMED=1 scripts/build.sh,
// into target/mpchat-named), runs the scenario (bench/jsc/profiled.js) in jsc --useJIT=false under JSC's
// sampling profiler, and prints the share of each tier, then the functions by the share of samples they
// were on the stack (inclusive) and on top (self); `--self` lists them by the latter. `--tree REGEX` adds,
// for each function whose name matches, the callees it spent its samples in; `--callers REGEX` adds the
// functions that called it, with the samples of the calls from each. C frames are sampled too: without
// them, time in the wasm interpreter's own helpers shows as "(unknown C PC)" and the wasm's share reads
// low. A profile, not a benchmark: sampling slows the run.
'use strict'
const fs = require('fs')
const path = require('path')
const { execFileSync, spawnSync } = require('child_process')
const { writeBundle, jscPath, repoRoot } = require('../tests/jsc/harness')
const { makeMessages } = require('./corpus')
const { fullStore } = require('./full-store')
const { modules } = require('./jsc-modules')

const ROUNDS = { cold: 12, open: 40, list: 40, again: 200, page: 400, receive: 3 }
const RECEIVED = 1000 // messages a receive round stores
const SHOWN = 45 // functions listed
const TREE = { depth: 4, share: 0.01 } // callee levels shown, and the least share of the run a callee shows with

// JSC's names, marked by where the code runs: `mpchat.wasm.wasm-function[<mpchat[5f2a…]::tape::Val>::get]`
// → `wasm  <mpchat::tape::Val>::get` (crate hashes dropped), a JS function `js    chars`, a native one
// (or `(unknown C PC)`) `C     stringify`.
function cleanName(name, tier) {
  const wasm = /^mpchat\.wasm\.wasm-function\[(.*)\]$/.exec(name)
  if (wasm) return `wasm  ${wasm[1].replace(/\[[0-9a-f]{16}\]/g, '') || '(unnamed)'}`
  const js = tier === 'LLInt' || tier === 'js builtin'
  return `${js ? 'js  ' : 'C   '}  ${name || '(anonymous)'}`
}

const percent = (n, total) => `${(100 * n / total).toFixed(1)}%`.padStart(6)

function report({ millis, samples, functions, calls, tiers }, { tree, callers, bySelf }) {
  const name = (raw) => cleanName(raw, functions[raw][2])
  const lines = [`${samples} samples; on top, by tier: ` +
    Object.entries(tiers).sort((a, b) => b[1] - a[1]).map(([tier, n]) => `${tier} ${percent(n, samples).trim()}`).join(', ')]
  lines.push('  incl.    self  function')
  const byInclusive = Object.entries(functions).sort((a, b) => b[1][0] - a[1][0] || b[1][1] - a[1][1])
  const listed = bySelf ? [...byInclusive].sort((a, b) => b[1][1] - a[1][1]) : byInclusive
  for (const [raw, [inclusive, self]] of listed.slice(0, SHOWN)) {
    lines.push(`${percent(inclusive, samples)}  ${percent(self, samples)}  ${name(raw)}`)
  }
  if (tree) {
    const shown = (raw, samplesIn, depth, indent) => {
      lines.push(`${percent(samplesIn, samples)}  ${indent}${name(raw)}`)
      if (depth === TREE.depth) return
      const callees = Object.entries(calls[raw] || {}).filter(([, n]) => n >= samples * TREE.share).sort((a, b) => b[1] - a[1])
      for (const [callee, n] of callees) shown(callee, n, depth + 1, `${indent}  `)
    }
    for (const [raw, [inclusive]] of byInclusive.filter(([raw]) => tree.test(name(raw)))) {
      lines.push('', `callees of ${name(raw).trim()}:`)
      shown(raw, inclusive, 0, '')
    }
  }
  if (callers) {
    const byName = Object.keys(functions).filter((raw) => callers.test(name(raw)))
    for (const raw of byName) {
      lines.push('', `callers of ${name(raw).trim()}:`)
      const from = Object.entries(calls).map(([caller, callees]) => [caller, callees[raw] || 0]).filter(([, n]) => n > 0)
      for (const [caller, n] of from.sort((a, b) => b[1] - a[1]).slice(0, SHOWN)) lines.push(`${percent(n, samples)}  ${name(caller)}`)
    }
  }
  return [`rounds of ${millis.join(', ')} ms (slowed by sampling)`, ...lines].join('\n')
}

// One jsc run of the scenario: what bench/jsc/profiled.js resolved to.
function sampledRun(args) {
  const run = spawnSync(jscPath(), args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  const result = run.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line)).pop()
  if (!result || result.kind !== 'result') throw new Error(`jsc: ${result ? result.error.message : run.stderr.slice(-2000)}`)
  return result.result
}

// Two runs' results as one: rounds listed together, samples summed per function, call and tier.
function merged(a, b) {
  const sum = (x, y) => {
    const out = { ...x }
    for (const [key, n] of Object.entries(y)) out[key] = (out[key] || 0) + n
    return out
  }
  const functions = { ...a.functions }
  for (const [name, [inclusive, self, tier]] of Object.entries(b.functions)) {
    const row = functions[name] || [0, 0, tier]
    functions[name] = [row[0] + inclusive, row[1] + self, tier]
  }
  const calls = { ...a.calls }
  for (const [caller, callees] of Object.entries(b.calls)) calls[caller] = sum(calls[caller] || {}, callees)
  return { millis: [...a.millis, ...b.millis], samples: a.samples + b.samples, functions, calls, tiers: sum(a.tiers, b.tiers) }
}

async function main() {
  const args = process.argv.slice(2)
  // `--flag REGEX`, taken out of the arguments; null when not given.
  const pattern = (flag) => {
    const at = args.indexOf(flag)
    return at >= 0 ? new RegExp(args.splice(at, 2)[1]) : null
  }
  const tree = pattern('--tree')
  const callers = pattern('--callers')
  const at = args.indexOf('--self')
  const bySelf = at >= 0 && args.splice(at, 1).length > 0
  const [scenario, rounds = ROUNDS[scenario]] = args
  if (!(scenario in ROUNDS) || !(Number(rounds) > 0)) {
    throw new Error(`usage: node bench/profile.js ${Object.keys(ROUNDS).join('|')} [rounds] [--self] [--tree REGEX] [--callers REGEX]`)
  }
  execFileSync('bash', [path.join(repoRoot, 'scripts', 'build.sh')], { stdio: 'inherit', env: { ...process.env, MPCHAT_NAMED: '1' } })
  const context = { scenario, rounds: Number(rounds), user: 'me', sampled: true }
  if (scenario === 'receive') context.messages = makeMessages({ count: RECEIVED, conversations: 1, me: 'me' })
  else context.file = (await fullStore(path.join(repoRoot, 'dist', 'mpchat'))).file
  const { work, bundle } = writeBundle({
    main: path.join(__dirname, 'jsc', 'profiled.js'),
    packageRoot: path.join(repoRoot, 'target', 'mpchat-named'),
    modules: modules(),
    context,
  })
  try {
    // A cold round is short and must be the first code of its run: each is a run of its own, sampled every
    // 50 µs rather than every millisecond, and the runs' samples are summed. Receive is sampled every
    // 200 µs: its steps are many and small.
    const cold = scenario === 'cold'
    const interval = cold ? 50 : scenario === 'receive' ? 200 : 1000
    const args = ['--sample', '--sampleCCode=true', `--sampleInterval=${interval}`, '--useJIT=false', bundle]
    let total = null
    for (let run = 0; run < (cold ? context.rounds : 1); run++) {
      const result = sampledRun(args)
      total = total ? merged(total, result) : result
    }
    console.log(`${scenario}: ${report(total, { tree, callers, bySelf })}`)
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err.message)
  process.exit(1)
})
