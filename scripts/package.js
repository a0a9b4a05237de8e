#!/usr/bin/env node
// Assembles dist/mpchat/ from wasm-bindgen's bundler output (target/mpchat-build/) and js-glue/:
// optimises the wasm for WebAssembly 1.0, drops exported globals (iOS refuses them), turns the ES-module
// glue into CommonJS with its own UTF-8 codec in scope, and brotli-compresses the wasm.
'use strict'
const fs = require('fs')
const path = require('path')
const zlib = require('zlib')
const { execFileSync } = require('child_process')
const { withoutGlobalExports } = require('./wasm-binary')

const root = path.join(__dirname, '..')
// MPCHAT_NAMED (scripts/build.sh): the profiling package, function names kept in the wasm.
const named = Boolean(process.env.MPCHAT_NAMED)
const built = path.join(root, 'target', named ? 'mpchat-named-build' : 'mpchat-build')
const dist = named ? path.join(root, 'target', 'mpchat-named', 'mpchat') : path.join(root, 'dist', 'mpchat')

function optimise(input, output) {
  const wasmOpt = path.join(root, 'node_modules', '.bin', 'wasm-opt')
  // binaryen enables sign-ext by default; keep the module to WebAssembly 1.0 plus mutable globals.
  // Functions with one caller are inlined only when small: engines compile a function on its first call,
  // and inlining every once-called part of opening into one 53 KB body doubled createChat's first call
  // in Node (2.3 ms → 5.5 ms), for no speed on JavaScriptCore and 2 KB more.
  execFileSync(wasmOpt, ['--mvp-features', '--enable-mutable-globals', '-Oz', '--converge',
    '--one-caller-inline-max-function-size', '500', named ? '-g' : '--strip-debug', '--strip-producers', input, '-o', output],
  { stdio: 'inherit' })
}

// `export function f` / `export class C` / `export const x` become plain declarations collected into
// module.exports; TextEncoder/TextDecoder resolve to the codec module, native or not.
function commonJsGlue(source) {
  const names = []
  const body = source.replace(/^export (function|class|const|let) ([A-Za-z_$][\w$]*)/gm, (_, what, name) => {
    names.push(name)
    return `${what} ${name}`
  })
  if (/^\s*(import|export)\s/m.test(body)) throw new Error('glue still has ES module syntax')
  return [
    "'use strict'",
    "const { TextEncoder, TextDecoder } = require('./utf8.js')",
    body,
    `module.exports = { ${names.join(', ')} }`,
    '',
  ].join('\n')
}

function main() {
  fs.rmSync(dist, { recursive: true, force: true })
  fs.mkdirSync(dist, { recursive: true })
  const optimised = path.join(built, 'mpchat_opt.wasm')
  optimise(path.join(built, 'mpchat_bg.wasm'), optimised)
  const wasm = withoutGlobalExports(fs.readFileSync(optimised))
  fs.writeFileSync(path.join(built, 'mpchat_final.wasm'), wasm)
  const br = zlib.brotliCompressSync(wasm, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: wasm.length,
    },
  })
  fs.writeFileSync(path.join(dist, 'mpchat_bg.wasm.br'), br)
  fs.writeFileSync(path.join(dist, 'mpchat_glue.js'),
    commonJsGlue(fs.readFileSync(path.join(built, 'mpchat_bg.js'), 'utf8')))
  for (const file of fs.readdirSync(path.join(root, 'js-glue'))) {
    fs.copyFileSync(path.join(root, 'js-glue', file), path.join(dist, file))
  }
  console.log(`${path.relative(root, dist)}: mpchat_bg.wasm.br ${br.length} bytes (wasm ${wasm.length} bytes)`)
}

main()
