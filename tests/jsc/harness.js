// Runs code in JavaScriptCore, the engine of WeChat on iPhones, with the JIT off as it is there
// (reference/wechat-platform.md). A bundle is written to a temporary folder: the phone-like prelude, the
// package's modules wrapped as CommonJS factories, then a main module; `jsc --useJIT=false` runs it and
// its last printed line is the result. Tests and benchmarks share it. runInJscAsync adds a bridge: jsc
// can ask this process for something and wait for the answer (tests/jsc/socket-bridge.js uses it).
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const zlib = require('zlib')
const readline = require('readline')
const { execFileSync, spawn, spawnSync } = require('child_process')

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

// Writes the bundle to a new temporary folder: the prelude, the package's modules and `modules` wrapped as
// CommonJS factories, each wasm of the package and of `wasm` decompressed (jsc reads wasm, not brotli),
// then main.
function writeBundle({ main, modules = {}, wasm = {}, packageRoot = path.join(repoRoot, 'dist'), context = {}, quit = true }) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mpchat-jsc-'))
  const all = { ...folderModules(path.join(packageRoot, 'mpchat'), '/mpchat'), ...modules, '/main.js': main }
  const parts = [prelude]
  for (const [packagePath, file] of Object.entries(all)) {
    parts.push(`__jsc.define(${JSON.stringify(packagePath)}, function (module, exports, require) {\n` +
      `${fs.readFileSync(file, 'utf8')}\n})`)
  }
  const wasmFiles = { ...wasm }
  for (const name of fs.readdirSync(path.join(packageRoot, 'mpchat'))) {
    if (/\.wasm(\.br)?$/.test(name)) wasmFiles[`/mpchat/${name}`] = path.join(packageRoot, 'mpchat', name)
  }
  Object.entries(wasmFiles).forEach(([packagePath, source], i) => {
    let bytes = fs.readFileSync(source)
    if (source.endsWith('.br')) bytes = zlib.brotliDecompressSync(bytes)
    const file = path.join(work, `${i}.wasm`)
    fs.writeFileSync(file, bytes)
    parts.push(`__jsc.wasmFile(${JSON.stringify(packagePath)}, ${JSON.stringify(file)})`)
  })
  parts.push(`__jsc.run(__jsc.require('/main.js'), ${JSON.stringify(context)}, ${quit})`)
  const bundle = path.join(work, 'bundle.js')
  fs.writeFileSync(bundle, parts.join('\n;\n'))
  return { work, bundle }
}

function jscCommand(jit, bundle) {
  const jsc = jscPath()
  if (!jsc) throw new Error('jsc (JavaScriptCore) is not installed; run scripts/ensure-jsc.sh')
  // MPCHAT_JSC_ARGS adds options for a look inside (e.g. --sample for JSC's sampling profiler).
  const extra = (process.env.MPCHAT_JSC_ARGS || '').split(' ').filter(Boolean)
  return [jsc, [...extra, ...(jit ? [] : ['--useJIT=false']), bundle]]
}

// The run's outcome from its final line ({kind: 'result'|'error'}), else jsc's own output.
function outcome(last, status, signal, output) {
  if (last && last.kind === 'result') return last.result
  const why = last && last.kind === 'error' ? `${last.error.message}\n${last.error.stack}`
    : `jsc exited with ${status}${signal ? ` (${signal})` : ''}: ${output.slice(-4000)}`
  throw new Error(`in JavaScriptCore: ${why}`)
}

const isFinal = (message) => message && (message.kind === 'result' || message.kind === 'error')

// One of the prelude's JSON lines, or null for anything else jsc printed.
function parseLine(line) {
  if (!line.startsWith('{')) return null
  try {
    return JSON.parse(line)
  } catch (_) {
    return null
  }
}

/**
 * Runs `main` (a file exporting `function (context)`, sync or async) in JavaScriptCore.
 * @param {object} options
 * @param {string} options.main the main module's file
 * @param {Record<string,string>} [options.modules] package path -> file, besides dist/mpchat at /mpchat
 * @param {Record<string,string>} [options.wasm] package path -> .wasm or .wasm.br file, besides dist/mpchat's
 * @param {string} [options.packageRoot] folder holding mpchat/ (default dist/)
 * @param {object} [options.context] JSON handed to main
 * @param {boolean} [options.quit] false lets jsc end on its own after main, so that what it reports at exit
 *   (its sampling profiler's figures) is printed; true (default) ends it as closing a mini-program does
 * @param {boolean} [options.jit] false (default) runs as an iPhone does
 * @returns {any} what main resolved to; throws with main's error or jsc's output
 */
function runInJsc({ jit = false, timeoutMs = 20 * 60 * 1000, ...bundleOptions }) {
  const { work, bundle } = writeBundle(bundleOptions)
  try {
    const [jsc, args] = jscCommand(jit, bundle)
    const run = spawnSync(jsc, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 })
    const finals = (run.stdout || '').split('\n').map(parseLine).filter(isFinal)
    return outcome(finals[finals.length - 1], run.status, run.signal, run.stderr || run.stdout || '')
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

/**
 * runInJsc with a bridge: each `__jsc.ask(request)` in jsc is answered with what `onAsk(request)` (sync or
 * async, in this process) returns, while jsc waits. Same options otherwise.
 * @returns {Promise<any>}
 */
async function runInJscAsync({ onAsk, jit = false, timeoutMs = 20 * 60 * 1000, ...bundleOptions }) {
  const { work, bundle } = writeBundle(bundleOptions)
  try {
    const [jsc, args] = jscCommand(jit, bundle)
    const child = spawn(jsc, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    let stderr = ''
    let final = null
    let failure = null
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr = (stderr + chunk).slice(-8000) })
    child.stdin.on('error', () => {}) // jsc may end while an answer is on its way
    const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity })
    const exited = new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal })))
    try {
      for await (const line of lines) {
        const message = parseLine(line)
        if (message && message.kind === 'ask') {
          let answer
          try {
            answer = await onAsk(message.request)
          } catch (err) {
            failure = failure || err
            child.kill('SIGKILL')
            break
          }
          child.stdin.write(`${JSON.stringify(answer === undefined ? null : answer)}\n`)
        } else if (isFinal(message)) final = message
      }
    } finally {
      clearTimeout(timer)
    }
    const { status, signal } = await exited
    if (failure) throw failure
    return outcome(final, status, signal, stderr)
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

module.exports = { runInJsc, runInJscAsync, writeBundle, jscPath, repoRoot }
