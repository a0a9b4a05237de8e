// The full store of the cold-open benchmark: dist/mpchat's default budget (limits.totalBytes, 8 MiB) filled
// in Node through the public API (chat.receive of realistic messages over many conversations), then dumped
// as { key: stored value } for JavaScriptCore to load before its clock starts: filling it through the
// interpreter would take many minutes. The layout is mpchat's own and changes from build to build, so the
// fill is redone for every build; the dump is cached under a hash of dist/mpchat and of this fill.
'use strict'
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { makeMessages } = require('./corpus')
const { createWxStorage } = require('../tests/js/support/wx-storage')

const FILL = { user: 'me', conversations: 200, messages: 40000 }
const cacheDir = path.join(os.tmpdir(), 'mpchat-bench')

function buildHash(dist) {
  const hash = crypto.createHash('sha256')
  for (const name of fs.readdirSync(dist).sort()) hash.update(name).update(fs.readFileSync(path.join(dist, name)))
  for (const file of [__filename, require.resolve('./corpus')]) hash.update(fs.readFileSync(file))
  return hash.digest('hex').slice(0, 16)
}

async function fill(dist) {
  const mpchat = require(path.join(dist, 'index.js'))
  const storage = createWxStorage()
  const chat = await mpchat.createChat({ user: FILL.user, storage })
  let notStored = 0
  for (const message of makeMessages({ count: FILL.messages, conversations: FILL.conversations, me: FILL.user })) {
    if (chat.receive(message).outcome !== 'stored') notStored++
  }
  // The heads the last messages left waiting, as the chat's timer writes them once the task is over (a
  // package from before chat.flush wrote them with each message).
  if (chat.flush) chat.flush()
  const values = {}
  for (const [key, text] of storage.raw) values[key] = JSON.parse(text)
  return { ...FILL, notStored, report: chat.storageReport(), values }
}

/**
 * The dump's file and what the fill reported: { file, user, conversations, messages, notStored, report }.
 * The file holds that plus `values`, every key of the storage with its value.
 */
async function fullStore(dist) {
  const file = path.join(cacheDir, `full-store-${buildHash(dist)}.json`)
  if (!fs.existsSync(file)) {
    const dump = await fill(dist)
    fs.mkdirSync(cacheDir, { recursive: true })
    for (const old of fs.readdirSync(cacheDir)) fs.rmSync(path.join(cacheDir, old)) // one build's dump at a time
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(dump))
    fs.renameSync(`${file}.tmp`, file)
  }
  const { values, ...about } = JSON.parse(fs.readFileSync(file, 'utf8'))
  return { file, ...about, keys: Object.keys(values).length }
}

module.exports = { fullStore }
