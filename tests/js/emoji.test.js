// The shim's emoji scanner (js-glue/emoji.js) against the core's tokenizer (src/emoji.rs, exported as
// ChatCore.emoji_spans): the same spans for the same text, on texts made to be hard for it.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { createWxStorage } = require('./support/wx-storage')
const mpchat = require(path.join(__dirname, '..', '..', 'dist', 'mpchat', 'index.js'))

async function scanners() {
  const chat = await mpchat.createChat({ user: 'me', storage: createWxStorage() })
  const core = (text) => {
    chat._wire.send(text)
    return chat._wire.json(chat._core.emoji_spans())
  }
  return { chat, core, shim: (text) => chat._emoji.spans(text) }
}

// A small generator, so a failure names a text that comes back on every run.
function random(seed) {
  let state = seed >>> 0
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state % n
  }
}

test('the shim finds the spans the core finds, on edge cases and on random bracket-heavy text', async () => {
  const { chat, core, shim } = await scanners()
  const codes = chat.emojiTable().map((e) => e.code)
  const edges = [
    '', '[', ']', '[]', '[[):]', '[):]]', '[):][:D]', 'x[):', '[[[[[[[[', ']]]]]]]]', '[):', '[(H)][(D)]',
    '中[):]文', 'e\u0301[):]', '[):]\u0301', '\u0600[):]', '👍[):]🇨🇳', '\uD800[):]\uDC00', `[${'x'.repeat(40)}]`,
  ]
  const pieces = [...codes, '[', ']', '[[', ']]', ')', ':', 'D', 'a', ' ', '中', '\u0301', '\u0600', '👍', '\uD800', '\uDC00']
  const next = random(9)
  const texts = [...edges]
  for (let i = 0; i < 3000; i++) {
    let text = ''
    for (let n = next(12); n > 0; n--) text += pieces[next(pieces.length)]
    texts.push(text)
  }
  let found = 0
  for (const text of texts) {
    const want = core(text)
    assert.deepEqual(shim(text), want, JSON.stringify(text))
    found += want.length / 3
  }
  // The texts are made to hold codes: a scanner that found none would fail above, and this says so.
  assert.ok(found > 3000, `${found} codes found in all`)
})

test('long runs of brackets: the same spans as the core (a scan searching on from each `[` would not finish)', async () => {
  const { core, shim } = await scanners()
  for (const text of ['['.repeat(200000), `${'['.repeat(100000)}${']'.repeat(100000)}`, '[x'.repeat(100000)]) {
    assert.deepEqual(shim(text), core(text))
  }
})
