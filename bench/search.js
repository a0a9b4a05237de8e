// Search in Node: chat.search over the full store of the cold-open benchmark (bench/full-store.js),
// restored into a fresh simulated wx storage, against the naive app (bench/search-body.js).
'use strict'
const fs = require('fs')
const path = require('path')
const { fullStore } = require('./full-store')
const { measureSearch, searchReport } = require('./search-body')
const { createWxStorage } = require('../tests/js/support/wx-storage')

const ROUNDS = 5
const dist = path.join(__dirname, '..', 'dist', 'mpchat')

async function run() {
  const store = await fullStore(dist)
  const { values } = JSON.parse(fs.readFileSync(store.file, 'utf8'))
  const storage = createWxStorage({ units: 'utf16' })
  for (const key of Object.keys(values)) storage.setStorageSync(key, values[key])
  const chat = await require(path.join(dist, 'index.js')).createChat({ user: store.user, storage })
  measureSearch(chat, storage, 1) // warm-up: both sides compiled before the clock counts
  const { lines } = searchReport(measureSearch(chat, storage, ROUNDS),
    `${store.messages} messages received, the 8 MiB budget filled; median of ${ROUNDS} rounds after one`)
  return ['Node', ...lines].join('\n')
}

module.exports = { run }
if (require.main === module) run().then(console.log, (e) => { console.error(e); process.exit(1) })
