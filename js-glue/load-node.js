// Loads the wasm beside this file in Node (tests, benchmarks, scripts). Mini-programs never reach this
// file: they have WXWebAssembly, which takes a package path instead of bytes.
'use strict'
const fs = require('fs')
const path = require('path')
const zlib = require('zlib')

module.exports = function instantiateInNode(imports) {
  const bytes = zlib.brotliDecompressSync(fs.readFileSync(path.join(__dirname, 'mpchat_bg.wasm.br')))
  return WebAssembly.instantiate(bytes, imports)
}
