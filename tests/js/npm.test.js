// mpchat as an npm package: what `npm pack` puts in the tarball, and the route a mini-program developer takes
// with it — npm install, DevTools' 构建 npm (every file of the `miniprogram` folder copied into
// miniprogram_npm/mpchat/), then the phone loading the wasm from there. Node users get the same package
// through `main` and `types`. Everything runs offline on a tarball packed from this checkout.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync, spawnSync } = require('child_process')
const { loadLikePhone, repoRoot } = require('./support/phone')
const { createWxStorage } = require('./support/wx-storage')

const dist = path.join(repoRoot, 'dist', 'mpchat')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
// Offline and quiet: the tests never reach a registry.
const npmEnv = { ...process.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false',
  npm_config_update_notifier: 'false' }
const packJson = (args, cwd = repoRoot) =>
  JSON.parse(execFileSync(npm, ['pack', '--json', ...args], { cwd, env: npmEnv, encoding: 'utf8' }))[0]

const T0 = 1_764_000_000_000
const message = (id, extra = {}) => ({ id, type: 'txt', chatType: 'groupChat', from: 'bob', to: 'g1', time: T0,
  msg: 'hi [):]', ext: { userNickname: 'Bob' }, ...extra })

// `npm install mpchat-<version>.tgz`, done by hand: the tarball unpacked into <project>/node_modules/mpchat.
let tmp
let project
function installed() {
  if (project) return project
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mpchat-npm-'))
  const packed = packJson(['--pack-destination', tmp])
  project = path.join(tmp, 'project')
  const target = path.join(project, 'node_modules', 'mpchat')
  fs.mkdirSync(target, { recursive: true })
  execFileSync('tar', ['-xzf', path.join(tmp, packed.filename), '-C', target, '--strip-components=1'])
  return project
}
test.after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }))

// What DevTools' 构建 npm does with a package that has a `miniprogram` field: every file of that folder
// goes to miniprogram_npm/<name>/ beside the node_modules it came from.
function buildNpm(from, into) {
  const pkg = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8'))
  assert.equal(typeof pkg.miniprogram, 'string', 'package.json names its mini-program folder')
  const target = path.join(into, 'miniprogram_npm', pkg.name)
  fs.cpSync(path.join(from, pkg.miniprogram), target, { recursive: true })
  return target
}

// Values from the phone realm have that realm's prototypes; compare their JSON shape.
const plain = (value) => JSON.parse(JSON.stringify(value))

function distFiles() {
  return fs.readdirSync(dist).sort()
}

test('npm pack: the tarball holds the mini-program folder, README, LICENSE and package.json, nothing else', () => {
  const packed = packJson(['--dry-run'])
  assert.equal(packed.name, 'mpchat')
  const files = packed.files.map((f) => f.path).sort()
  const expected = ['LICENSE', 'README.md', 'package.json', ...distFiles().map((f) => `dist/mpchat/${f}`)].sort()
  assert.deepEqual(files, expected)
  // The mini-program folder is the build's output and nothing more: the shim and typings from js-glue/,
  // the CommonJS glue, and the compressed wasm (never the uncompressed one).
  const shim = fs.readdirSync(path.join(repoRoot, 'js-glue'))
  assert.deepEqual(distFiles(), [...shim, 'mpchat_glue.js', 'mpchat_bg.wasm.br'].sort())
  for (const needed of ['index.js', 'index.d.ts', 'mpchat_glue.js', 'mpchat_bg.wasm.br', 'utf8.js', 'search.js', 'send.js', 'media.js']) {
    assert.ok(files.includes(`dist/mpchat/${needed}`), needed)
  }
  for (const file of files) {
    assert.doesNotMatch(file, /^(src|tests|node_modules|target|js-glue|scripts|loopback|bench|fuzz|miniprogram-demo|docs)\//)
    assert.doesNotMatch(file, /\.wasm$|\.map$/)
  }
  // The mini-program folder counts against a 2 MB package; it stays a small part of it.
  const bytes = packed.files.filter((f) => f.path.startsWith('dist/mpchat/')).reduce((sum, f) => sum + f.size, 0)
  assert.ok(bytes < 512 * 1024, `dist/mpchat is ${bytes} bytes`)
})

test('package.json: miniprogram, main and types name files in the tarball; nothing to install beside it', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(installed(), 'node_modules', 'mpchat', 'package.json'), 'utf8'))
  assert.equal(pkg.name, 'mpchat')
  // DevTools fails on a dot in a directory name; require('mpchat') finds index.js at the folder's top.
  assert.doesNotMatch(pkg.miniprogram, /\./)
  const folder = path.join(project, 'node_modules', 'mpchat', pkg.miniprogram)
  assert.ok(fs.existsSync(path.join(folder, 'index.js')))
  assert.ok(fs.existsSync(path.join(project, 'node_modules', 'mpchat', pkg.main)))
  assert.ok(fs.existsSync(path.join(project, 'node_modules', 'mpchat', pkg.types)))
  assert.equal(pkg.dependencies, undefined)
  assert.equal(pkg.peerDependencies, undefined)
})

// The main package, and a subpackage holding its own package.json (DevTools then builds
// <subpackage root>/miniprogram_npm/); wasmPath is the path from the code package root either way.
for (const [where, root] of [['main package', ''], ['subpackage', 'packageChat']]) {
  test(`构建 npm into the ${where}: the phone loads /${root ? `${root}/` : ''}miniprogram_npm/mpchat, stores and reads back`,
    async () => {
      const codePackage = path.join(installed(), 'code-' + (root || 'main'))
      const built = buildNpm(path.join(project, 'node_modules', 'mpchat'), path.join(codePackage, root))
      assert.deepEqual(fs.readdirSync(built).sort(), distFiles())
      const prefix = `${root ? `/${root}` : ''}/miniprogram_npm/mpchat`
      const wasmPath = `${prefix}/mpchat_bg.wasm.br`
      const wx = createWxStorage()

      // require('mpchat') in a page resolves to miniprogram_npm/mpchat/index.js.
      const phone = loadLikePhone({ packageRoot: codePackage, entry: `${prefix}/index.js`, globals: { wx } })
      // The default path is for the folder copied by hand to /mpchat/; here it finds nothing, and the
      // failure is not sticky.
      await assert.rejects(phone.mpchat.createChat({ user: 'alice' }), /ENOENT|no such file/)
      const chat = await phone.mpchat.createChat({ user: 'alice', wasmPath })
      assert.deepEqual(phone.instantiateCalls, ['/mpchat/mpchat_bg.wasm.br', wasmPath])

      const result = chat.receive(message('m1'))
      assert.equal(result.outcome, 'stored')
      assert.equal(result.conversation, 'group:g1')
      assert.equal(chat.receive(message('m1')).outcome, 'duplicate')
      const [record] = chat.history('group:g1')
      assert.equal(record.text, 'hi [):]')
      assert.equal(record.sender.nickname, 'Bob')
      assert.deepEqual(plain(record.segments), [
        { type: 'txt', data: 'hi ' },
        { type: 'emoji', data: 'ee_1.png', code: '[):]' },
      ])
      assert.equal(chat.unreadTotal(), 1)

      // The mini-program starts again: a fresh realm, the same wx storage, the history is there.
      const again = loadLikePhone({ packageRoot: codePackage, entry: `${prefix}/index.js`, globals: { wx } })
      const reopened = await again.mpchat.createChat({ user: 'alice', wasmPath })
      assert.deepEqual(again.instantiateCalls, [wasmPath])
      assert.deepEqual(plain(reopened.history('group:g1').map((r) => [r.id, r.text])), [['m1', 'hi [):]']])
      assert.equal(reopened.conversations()[0].unread, 1)
    })
}

test('Node: require("mpchat") from the installed package works through main, and its types resolve', async () => {
  const dir = installed()
  const mpchat = require(require.resolve('mpchat', { paths: [dir] }))
  const chat = await mpchat.createChat({ user: 'alice', storage: createWxStorage() })
  assert.equal(chat.receive(message('m2')).outcome, 'stored')
  assert.deepEqual(chat.history('group:g1').map((r) => r.sender.nickname), ['Bob'])
  assert.equal(mpchat.deleteLast('hi [):]'), 'hi ')

  // A TypeScript page imports the package by name and gets the contract's types.
  const page = path.join(dir, 'page.ts')
  fs.writeFileSync(page, [
    "import * as mpchat from 'mpchat'",
    'async function open(): Promise<void> {',
    "  const chat = await mpchat.createChat({ user: 'alice' })",
    "  const records: mpchat.Record[] = chat.history('group:g1', { limit: 20 })",
    '  records.forEach((r) => r.sender.nickname)',
    '}',
    'open()',
    '',
  ].join('\n'))
  const tsc = path.join(repoRoot, 'node_modules', '.bin', 'tsc')
  const args = ['--noEmit', '--strict', '--target', 'es2020', '--moduleResolution', 'node', page]
  const ok = spawnSync(tsc, args, { cwd: dir, encoding: 'utf8' })
  assert.equal(ok.status, 0, ok.stdout + ok.stderr)
  fs.writeFileSync(page, "import * as mpchat from 'mpchat'\nmpchat.createChat({ profile: {} })\n")
  const wrong = spawnSync(tsc, args, { cwd: dir, encoding: 'utf8' })
  assert.notEqual(wrong.status, 0)
  assert.match(wrong.stdout, /user/)
})
