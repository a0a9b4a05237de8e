// The official Easemob mini-program demo's emoji parsing, reproduced as the benchmark's baseline
// (reference/easemob.md §1): every code is replaced by ^file^, the text is split on ^, and any piece
// that looks like /^e.*g$/ is taken for an image. Newlines are stripped first, as the demo did.
// It is fast and wrong ("eating" becomes an image); mpchat must be faster and right.
'use strict'
const { CODES } = require('./corpus')

const TABLE = CODES.map((code, i) => [code, `ee_${i + 1}.png`])

function demoParseEmoji(text) {
  let marked = text.replace(/\n/g, '')
  for (const [code, file] of TABLE) {
    if (marked.indexOf(code) !== -1) marked = marked.split(code).join(`^${file}^`)
  }
  const segments = []
  for (const piece of marked.split('^')) {
    if (!piece) continue
    segments.push(/^e.*g$/.test(piece) ? { type: 'emoji', data: piece } : { type: 'txt', data: piece })
  }
  return segments
}

module.exports = { demoParseEmoji }
