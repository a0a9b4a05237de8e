// `make compat`: the end-to-end suites (raw SDK and mpchat) against every easemob-websdk release in the matrix
// (loopback/sdks.js), then one table: release × what was proven. A cell is `ok` when every test filed under
// it passed, `todo` when one waits on a change to mpchat (listed below the table), `FAIL` when one failed,
// `n/a` when the release has nothing to test there. Exits non-zero on any FAIL.
'use strict'
const { spawnSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { SDKS } = require('../loopback/sdks')
const { COLUMNS } = require('../tests/js/support/sdk')

const ROOT = path.join(__dirname, '..')
const SUITES = ['tests/js/loopback.test.js', 'tests/js/loopback-features.test.js', 'tests/js/e2e.test.js', 'tests/js/e2e-media.test.js', 'tests/js/e2e-directory.test.js']
// A release that leaves a socket open can keep a suite's process alive after its tests; it gets this long.
const RUN_LIMIT_MS = 10 * 60 * 1000

function run(sdk) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mpchat-compat-')), 'results.jsonl')
  const started = Date.now()
  const child = spawnSync(process.execPath, ['--test', '--test-concurrency=1',
    '--test-reporter=dot', '--test-reporter-destination=stderr',
    `--test-reporter=${path.join(__dirname, 'compat-reporter.js')}`, `--test-reporter-destination=${out}`, ...SUITES],
  { cwd: ROOT, env: { ...process.env, EASEMOB_SDK: sdk.version }, stdio: ['ignore', 'inherit', 'pipe'], timeout: RUN_LIMIT_MS })
  const results = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []
  fs.rmSync(path.dirname(out), { recursive: true, force: true })
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  const failed = child.status !== 0 && !results.some((r) => r.outcome === 'fail')
  return { sdk, results, seconds, crashed: failed && (child.error ? child.error.message : String(child.stderr).trim().split('\n').slice(-3).join(' | ')) }
}

function cell(results, column) {
  const tagged = results.filter((r) => new RegExp(`\\[[^\\]]*\\b${column}\\b[^\\]]*\\]$`).test(r.name))
  const ran = tagged.filter((r) => r.outcome !== 'skip')
  if (ran.some((r) => r.outcome === 'fail')) return 'FAIL'
  if (ran.some((r) => r.outcome === 'todo')) return `ok ${ran.filter((r) => r.outcome === 'pass').length}/${ran.length}, todo`
  if (ran.length === 0) return 'n/a'
  return `ok ${ran.length}/${ran.length}`
}

function main() {
  const runs = []
  for (const sdk of SDKS) {
    process.stderr.write(`easemob-websdk ${sdk.version} (${sdk.build} build): `)
    const r = run(sdk)
    process.stderr.write(` ${r.seconds} s\n`)
    runs.push(r)
  }
  const headings = ['release', 'build', ...Object.values(COLUMNS), 'tests']
  const rows = runs.map(({ sdk, results, crashed }) => {
    const count = (o) => results.filter((r) => r.outcome === o).length
    return [sdk.version, sdk.build, ...Object.keys(COLUMNS).map((c) => cell(results, c)),
      crashed ? `CRASHED: ${crashed}` : `${count('pass')} pass, ${count('todo')} todo, ${count('skip')} n/a, ${count('fail')} fail`]
  })
  console.log(`| ${headings.join(' | ')} |`)
  console.log(`|${headings.map(() => '---').join('|')}|`)
  for (const row of rows) console.log(`| ${row.join(' | ')} |`)
  console.log('\ntodo (waiting on a change to mpchat): what, then each test and the releases it waits on')
  const todos = new Map() // reason -> test name -> releases
  for (const { sdk, results } of runs) {
    for (const r of results.filter((x) => x.outcome === 'todo')) {
      if (!todos.has(r.reason)) todos.set(r.reason, new Map())
      const tests = todos.get(r.reason)
      tests.set(r.name, [...(tests.get(r.name) || []), sdk.version])
    }
  }
  for (const [reason, tests] of todos) {
    console.log(`  ${reason}`)
    for (const [name, versions] of tests) console.log(`    ${name}: ${versions.join(', ')}`)
  }
  console.log('\nn/a (what a release lacks or does differently):')
  for (const { sdk, results } of runs) {
    const reasons = [...new Set(results.filter((r) => r.outcome === 'skip').map((r) => r.reason))]
    if (reasons.length) console.log(`  ${sdk.version}: ${reasons.join('; ')}`)
  }
  const bad = rows.some((row) => row.some((c) => c === 'FAIL' || String(c).startsWith('CRASHED')))
  process.exitCode = bad ? 1 : 0
}

main()
