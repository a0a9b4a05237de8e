// Runs dist/mpchat the way a phone does: a realm with WXWebAssembly (which takes a package path to a
// .wasm.br) and a mini-program-style require, without WebAssembly, TextEncoder, TextDecoder, fetch or URL,
// and where eval and new Function throw, as WeChat bans them. Tests and benchmarks use it to prove the
// library needs nothing a phone lacks.
'use strict'
const fs = require('fs')
const path = require('path')
const vm = require('vm')
const zlib = require('zlib')

const repoRoot = path.join(__dirname, '..', '..', '..')

// WXWebAssembly.instantiate(path, imports): path is absolute within the code package, only .wasm or .wasm.br.
function makeWXWebAssembly(packageRoot, calls) {
  return {
    instantiate(packagePath, imports) {
      calls.push(packagePath)
      if (typeof packagePath !== 'string') return Promise.reject(new TypeError('WXWebAssembly takes a path string'))
      if (!/\.wasm(\.br)?$/.test(packagePath)) return Promise.reject(new Error(`not a .wasm file: ${packagePath}`))
      // A package path names a file inside the package; WeChat refuses one that climbs out.
      if (packagePath.split('/').includes('..')) return Promise.reject(new Error(`'..' in a package path: ${packagePath}`))
      const file = path.join(packageRoot, packagePath.replace(/^\//, ''))
      let bytes = fs.readFileSync(file)
      if (file.endsWith('.br')) bytes = zlib.brotliDecompressSync(bytes)
      // The typings promise an Instance; clients hand back { instance, module }. Give the latter.
      return WebAssembly.instantiate(bytes, imports)
    },
  }
}

function makeRealm(packageRoot, calls) {
  const context = vm.createContext({
    console,
    setTimeout,
    clearTimeout,
    WXWebAssembly: makeWXWebAssembly(packageRoot, calls),
  }, { codeGeneration: { strings: false } }) // eval('…') and new Function('…') throw an EvalError
  vm.runInContext('delete globalThis.WebAssembly', context)
  return context
}

/** Which of `names` code running in `realm` can see as globals (`typeof name !== 'undefined'` there). */
function presentGlobals(realm, names) {
  return names.filter((name) => vm.runInContext(`typeof ${name} !== 'undefined'`, realm))
}

// A CommonJS require limited to the package's own files, as a mini-program's is.
function makeRequire(context, packageRoot, fromDir, cache) {
  return function requireInPackage(spec) {
    if (!spec.startsWith('.') && !spec.startsWith('/')) throw new Error(`module '${spec}' is not defined`)
    let file = path.resolve(spec.startsWith('/') ? packageRoot : fromDir, spec.replace(/^\//, ''))
    if (!file.endsWith('.js')) file += '.js'
    if (!file.startsWith(packageRoot)) throw new Error(`module '${spec}' is outside the package`)
    if (cache.has(file)) return cache.get(file).exports
    const module = { exports: {} }
    cache.set(file, module)
    const wrapper = vm.runInContext(
      `(function (module, exports, require) {${fs.readFileSync(file, 'utf8')}\n})`, context, { filename: file })
    wrapper(module, module.exports, makeRequire(context, packageRoot, path.dirname(file), cache))
    return module.exports
  }
}

/**
 * Loads mpchat in a phone-like realm from a code package folder (by default `dist/`, which holds `mpchat/`),
 * starting at `entry`, a path from the package root (`/miniprogram_npm/mpchat/index.js` after DevTools'
 * 构建 npm).
 * @returns {{ mpchat: object, realm: object, instantiateCalls: string[] }}
 */
function loadLikePhone({ packageRoot = path.join(repoRoot, 'dist'), entry = '/mpchat/index.js', globals = {} } = {}) {
  const calls = []
  const realm = makeRealm(packageRoot, calls)
  Object.assign(realm, globals)
  const mpchat = makeRequire(realm, packageRoot, packageRoot, new Map())(entry)
  return { mpchat, realm, instantiateCalls: calls }
}

module.exports = { loadLikePhone, presentGlobals, repoRoot }
