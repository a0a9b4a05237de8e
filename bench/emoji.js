// parseEmoji through dist/mpchat against the official demo's algorithm on one corpus, with Node's
// loader and with the phone-like one (no native TextEncoder/TextDecoder), plus the shipped sizes.
'use strict'
const fs = require('fs')
const path = require('path')
const zlib = require('zlib')
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

  const br = fs.readFileSync(path.join(dist, 'mpchat_bg.wasm.br'))
  const wasm = zlib.brotliDecompressSync(br)
  const glueBytes = ['index.js', 'mpchat_glue.js', 'utf8.js', 'load-node.js']
    .reduce((sum, f) => sum + fs.statSync(path.join(dist, f)).size, 0)
  const lines = [
    'parseEmoji, 10,000 realistic messages (µs per message, best of 7; lower is better)',
    `  official demo algorithm (baseline)      ${fmt(baseline)}`,
    `  mpchat, Node loader (native codecs)     ${fmt(nativeMicros)}   ${fmt(baseline / nativeMicros)}x the baseline's throughput`,
    `  mpchat, phone-like loader (JS codecs)   ${fmt(phoneMicros)}   ${fmt(baseline / phoneMicros)}x the baseline's throughput`,
    'sizes',
    `  mpchat_bg.wasm      ${wasm.length} bytes (${fmt(wasm.length / 1024, 1)} KiB)`,
    `  mpchat_bg.wasm.br   ${br.length} bytes (${fmt(br.length / 1024, 1)} KiB)`,
    `  JS (index, glue, utf8, loader)  ${glueBytes} bytes`,
  ]
  return lines.join('\n')
}

module.exports = { run }
if (require.main === module) run().then(console.log, (e) => { console.error(e); process.exit(1) })
