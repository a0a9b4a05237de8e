// Runs code in JavaScriptCore, the engine of WeChat on iPhones, with the JIT off as it is there
// (reference/wechat-platform.md). A bundle is written to a temporary folder: the phone-like prelude, the
// package's modules wrapped as CommonJS factories, then a main module; `jsc --useJIT=false` runs it and
// its last printed line is the result. Tests and benchmarks share it.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const zlib = require('zlib')
const { execFileSync, spawnSync } = require('child_process')

const repoRoot = path.join(__dirname, '..', '..')
const prelude = fs.readFileSync(path.join(__dirname, 'prelude.js'), 'utf8')

/** The jsc binary, or null when JavaScriptCore is not installed (scripts/ensure-jsc.sh installs it). */
function jscPath() {
  for (const candidate of [process.env.MPCHAT_JSC, '/usr/bin/jsc', '/usr/local/bin/jsc']) {
    if (candidate && fs.existsSync(candidate)) return candidate
  }
  try {
    return execFileSync('sh', ['-c', 'command -v jsc'], { encoding: 'utf8' }).trim() || null
  } catch (_) {
    return null
  }
}

/** Every .js file under `dir` as { '<mount>/<relative path>': absolute file }. */
function folderModules(dir, mount) {
  const out = {}
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) Object.assign(out, folderModules(file, `${mount}/${entry.name}`))
    else if (entry.name.endsWith('.js')) out[`${mount}/${entry.name}`] = file
  }
  return out
}

/**
 * Runs `main` (a file exporting `function (context)`, sync or async) in JavaScriptCore.
 * @param {object} options
 * @param {string} options.main the main module's file
 * @param {Record<string,string>} [options.modules] package path -> file, besides dist/mpchat at /mpchat
 * @param {string} [options.packageRoot] folder holding mpchat/ (default dist/)
 * @param {object} [options.context] JSON handed to main
 * @param {boolean} [options.jit] false (default) runs as an iPhone does
 * @returns {any} what main resolved to; throws with main's error or jsc's output
 */
function runInJsc({ main, modules = {}, packageRoot = path.join(repoRoot, 'dist'), context = {}, jit = false,
  timeoutMs = 20 * 60 * 1000 }) {
  const jsc = jscPath()
  if (!jsc) throw new Error('jsc (JavaScriptCore) is not installed; run scripts/ensure-jsc.sh')
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mpchat-jsc-'))
  try {
    const all = { ...folderModules(path.join(packageRoot, 'mpchat'), '/mpchat'), ...modules, '/main.js': main }
    const parts = [prelude]
    for (const [packagePath, file] of Object.entries(all)) {
      parts.push(`__jsc.define(${JSON.stringify(packagePath)}, function (module, exports, require) {\n` +
        `${fs.readFileSync(file, 'utf8')}\n})`)
    }
    // jsc reads wasm, not brotli: each .wasm.br of the package is decompressed once for the loader.
    for (const name of fs.readdirSync(path.join(packageRoot, 'mpchat'))) {
      if (!name.endsWith('.wasm.br') && !name.endsWith('.wasm')) continue
      let bytes = fs.readFileSync(path.join(packageRoot, 'mpchat', name))
      if (name.endsWith('.br')) bytes = zlib.brotliDecompressSync(bytes)
      const file = path.join(work, name.replace(/\.br$/, ''))
      fs.writeFileSync(file, bytes)
      parts.push(`__jsc.wasmFile(${JSON.stringify(`/mpchat/${name}`)}, ${JSON.stringify(file)})`)
    }
    parts.push(`__jsc.run(__jsc.require('/main.js'), ${JSON.stringify(context)})`)
    const bundle = path.join(work, 'bundle.js')
    fs.writeFileSync(bundle, parts.join('\n;\n'))
    const args = jit ? [bundle] : ['--useJIT=false', bundle]
    const run = spawnSync(jsc, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 })
    const lines = (run.stdout || '').split('\n').filter((l) => l.startsWith('{'))
    const last = lines.length ? JSON.parse(lines[lines.length - 1]) : null
    if (last && last.kind === 'result') return last.result
    const why = last && last.kind === 'error' ? `${last.error.message}\n${last.error.stack}`
      : `jsc exited with ${run.status}${run.signal ? ` (${run.signal})` : ''}: ${(run.stderr || run.stdout || '').slice(-4000)}`
    throw new Error(`in JavaScriptCore: ${why}`)
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

module.exports = { runInJsc, jscPath, repoRoot }
