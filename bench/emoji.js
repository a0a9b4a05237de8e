// parseEmoji through dist/mpchat against the official demo's algorithm on one corpus, with Node's
// loader and with the phone-like one (no native TextEncoder/TextDecoder).
'use strict'
const path = require('path')
const { makeCorpus } = require('./corpus')
const { demoParseEmoji } = require('./demo-parser')
const { perItemMicros, fmt } = require('./measure')
const { loadLikePhone, repoRoot } = require('../tests/js/support/phone')

const dist = path.join(repoRoot, 'dist', 'mpchat')

async function run() {
  const corpus = makeCorpus(10000)
  const native = require(path.join(dist, 'index.js'))
  await native.load()
  const phone = loadLikePhone().mpchat
  await phone.load()

  const parseAll = (parse) => (texts) => { for (const t of texts) parse(t) }
  const baseline = perItemMicros(parseAll(demoParseEmoji), corpus)
  const nativeMicros = perItemMicros(parseAll(native.parseEmoji), corpus)
  const phoneMicros = perItemMicros(parseAll(phone.parseEmoji), corpus)
  const lines = [
    'parseEmoji, 10,000 realistic messages (µs per message, best of 7; lower is better)',
    `  official demo algorithm (baseline)      ${fmt(baseline)}`,
    `  mpchat, Node loader (native codecs)     ${fmt(nativeMicros)}   ${fmt(baseline / nativeMicros)}x the baseline's throughput`,
    `  mpchat, phone-like loader (JS codecs)   ${fmt(phoneMicros)}   ${fmt(baseline / phoneMicros)}x the baseline's throughput`,
  ]
  return lines.join('\n')
}

module.exports = { run }
if (require.main === module) run().then(console.log, (e) => { console.error(e); process.exit(1) })
