// index.d.ts types the contract: a page written against it compiles, and a wrong call does not.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { repoRoot } = require('./support/phone')

const tsc = path.join(repoRoot, 'node_modules', '.bin', 'tsc')
const compile = (file) => spawnSync(tsc, ['--noEmit', '--strict', '--target', 'es2020', '--moduleResolution', 'node', file],
  { encoding: 'utf8' })

test('a page using the whole contract type-checks against dist/mpchat/index.d.ts', () => {
  const result = compile(path.join(repoRoot, 'tests', 'types', 'usage.ts'))
  assert.equal(result.status, 0, result.stdout + result.stderr)
})

test('a wrong call does not type-check', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpchat-types-'))
  const file = path.join(dir, 'wrong.ts')
  const dts = path.join(repoRoot, 'dist', 'mpchat', 'index').replace(/\\/g, '/')
  fs.writeFileSync(file, `import * as mpchat from '${dts}'\nmpchat.createChat({ profile: {} })\n`)
  const result = compile(file)
  assert.notEqual(result.status, 0)
  assert.match(result.stdout, /user/)
})
