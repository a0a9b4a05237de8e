// (runs in JavaScriptCore) parseEmoji on realistic chat lines against the official demo's parser
// (bench/demo-parser.js), best of several passes over the same corpus as the Node benchmark.
'use strict'
const mpchat = require('/mpchat/index.js')
const { makeCorpus } = require('/bench/corpus.js')
const { demoParseEmoji } = require('/bench/demo-parser.js')
const { perItemMicros } = require('/bench/measure.js')

module.exports = async function emoji({ lines, rounds }) {
  await mpchat.load()
  const corpus = makeCorpus(lines)
  const parseAll = (parse) => (texts) => { for (const text of texts) parse(text) }
  return {
    demo: perItemMicros(parseAll(demoParseEmoji), corpus, { rounds, warmup: 1 }),
    mpchat: perItemMicros(parseAll(mpchat.parseEmoji), corpus, { rounds, warmup: 1 }),
  }
}
