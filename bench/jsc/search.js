// (runs in JavaScriptCore, one fresh run) Searching the full store dumped by bench/full-store.js,
// restored into a fresh simulated wx storage before any clock starts (bench/search-body.js).
'use strict'
const mpchat = require('/mpchat/index.js')
const { createWxStorage } = require('/support/wx-storage.js')
const { measureSearch } = require('/bench/search-body.js')

module.exports = async function search({ file, user, rounds }) {
  const { values } = JSON.parse(__jsc.readText(file))
  const storage = createWxStorage({ units: 'utf16' })
  for (const key of Object.keys(values)) storage.setStorageSync(key, values[key])
  const chat = await mpchat.createChat({ user, storage })
  return measureSearch(chat, storage, rounds)
}
