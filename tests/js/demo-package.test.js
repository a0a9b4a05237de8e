// The demo as a mini-program package: every page and component is complete, the images it points at
// exist, the emoji images are 35 distinct small PNGs, and the project asks for a base library with WXWebAssembly.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')

const ROOT = path.join(__dirname, '..', '..', 'miniprogram-demo')
const readJson = file => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'))
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

function pngSize(file) {
  const data = fs.readFileSync(file)
  assert.ok(data.subarray(0, 8).equals(PNG_SIGNATURE), `${file} is not a PNG`)
  assert.equal(data.toString('ascii', 12, 16), 'IHDR', file)
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20), bytes: data.length, data }
}

// Folders of every page and every component reachable from app.json, relative to the package root.
function componentFolders() {
  const seen = new Set()
  const visit = base => {
    if (seen.has(base)) return
    seen.add(base)
    const json = readJson(`${base}.json`)
    for (const using of Object.values(json.usingComponents || {})) {
      visit(path.posix.normalize(using.startsWith('/') ? using.slice(1) : path.posix.join(path.posix.dirname(base), using)))
    }
  }
  readJson('app.json').pages.forEach(visit)
  return [...seen]
}

test('the project opens in DevTools with a base library that has WXWebAssembly', () => {
  const project = readJson('project.config.json')
  assert.equal(project.appid, 'touristappid')
  assert.equal(project.miniprogramRoot, './')
  const [major, minor] = project.libVersion.split('.').map(Number)
  assert.ok(major > 2 || (major === 2 && minor >= 15), `libVersion ${project.libVersion} is below 2.15.0`)
  assert.deepEqual(readJson('app.json').pages, ['pages/login/index', 'pages/conversations/index', 'pages/chat/index', 'pages/search/index',
    'pages/contacts/index', 'pages/groups/index'])
  assert.ok(fs.existsSync(path.join(ROOT, readJson('app.json').sitemapLocation)))
})

test('every page and component has its four files and is built with Component()', () => {
  const folders = componentFolders()
  assert.deepEqual(folders.sort(), [
    'components/avatar/index', 'components/directory-list/index', 'components/emoji-picker/index',
    'components/emoji-text/index', 'components/input-bar/index', 'components/media-panel/index',
    'components/member-picker/index', 'components/message-bubble/index', 'components/message-menu/index',
    'components/voice-button/index', 'pages/chat/index', 'pages/contacts/index', 'pages/conversations/index',
    'pages/groups/index', 'pages/login/index', 'pages/search/index',
  ])
  for (const base of folders) {
    for (const ext of ['js', 'json', 'wxml', 'wxss']) assert.ok(fs.existsSync(path.join(ROOT, `${base}.${ext}`)), `${base}.${ext}`)
    const js = fs.readFileSync(path.join(ROOT, `${base}.js`), 'utf8')
    assert.match(js, /^Component\(\{/m, base)
    assert.doesNotMatch(js, /^Page\(/m, base)
  }
})

// WeChat refuses these location APIs (fail: "the api need to be declared in the requiredPrivateInfos field")
// unless app.json declares them.
const PRIVATE_APIS = ['getLocation', 'getFuzzyLocation', 'onLocationChange', 'chooseAddress', 'choosePoi', 'chooseLocation',
  'startLocationUpdate', 'startLocationUpdateBackground']

test('every location API the demo calls is declared in app.json requiredPrivateInfos', () => {
  const called = new Set()
  const visit = dir => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name)
      if (entry.isDirectory() && !['mpchat', 'sdk', 'miniprogram_npm'].includes(entry.name)) visit(file)
      else if (entry.name.endsWith('.js')) {
        for (const [, api] of fs.readFileSync(file, 'utf8').matchAll(/\bwx\.(\w+)/g)) if (PRIVATE_APIS.includes(api)) called.add(api)
      }
    }
  }
  visit(ROOT)
  assert.ok(called.has('chooseLocation'), 'the chat sends locations')
  assert.deepEqual([...called].sort(), (readJson('app.json').requiredPrivateInfos || []).slice().sort())
})

test('every image a template names by a fixed path exists in the package', () => {
  for (const base of componentFolders()) {
    const wxml = fs.readFileSync(path.join(ROOT, `${base}.wxml`), 'utf8')
    for (const [, src] of wxml.matchAll(/src="(\/[^"{]+)"/g)) {
      assert.ok(fs.existsSync(path.join(ROOT, src)), `${base}.wxml: ${src}`)
    }
  }
})

test('the emoji images are ee_1.png … ee_35.png, distinct, 48×48, and 100 KB at most together', () => {
  const dir = path.join(ROOT, 'images', 'emoji')
  const expected = Array.from({ length: 35 }, (_, i) => `ee_${i + 1}.png`)
  assert.deepEqual(fs.readdirSync(dir).sort(), expected.slice().sort())
  const images = expected.map(name => pngSize(path.join(dir, name)))
  assert.ok(images.every(img => img.width === 48 && img.height === 48))
  const distinct = new Set(images.map(img => img.data.toString('base64')))
  assert.equal(distinct.size, 35)
  const total = images.reduce((sum, img) => sum + img.bytes, 0)
  assert.ok(total <= 100 * 1024, `emoji images take ${total} bytes`)
})

test('the default avatar is a square PNG', () => {
  const avatar = pngSize(path.join(ROOT, 'images', 'default-avatar.png'))
  assert.equal(avatar.width, avatar.height)
})
