// The first script of every JavaScriptCore bundle (tests/jsc/harness.js writes the bundle): a realm shaped
// like an iPhone's mini-program logic layer. Wasm loads only through WXWebAssembly.instantiate(path) with a
// package path; there is no WebAssembly, TextEncoder or TextDecoder global; eval and new Function throw;
// modules are CommonJS, resolved inside the package. Results go to stdout as one JSON line each.
// A main run with a bridge (harness runInJscAsync) can ask the Node process that started jsc for something:
// one JSON line out, one back on stdin; jsc is blocked meanwhile, so that time is the bridge's own.
'use strict'
var __jsc = (function (global) {
  const jscRead = global.read
  const jscPrint = global.print
  const jscTime = global.preciseTime
  const jscReadline = global.readline
  const jscQuit = global.quit
  const RealWebAssembly = global.WebAssembly
  const factories = Object.create(null) // package path -> function (module, exports, require)
  const modules = Object.create(null)
  const wasmFiles = Object.create(null) // package path -> file on this machine (decompressed)
  const instantiateCalls = []

  function normalise(path) {
    const out = []
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue
      if (part === '..') {
        if (out.length === 0) throw new Error(`module path ${path} leaves the package`)
        out.pop()
      } else out.push(part)
    }
    return '/' + out.join('/')
  }

  function resolve(fromDir, spec) {
    if (typeof spec !== 'string' || !(spec.startsWith('.') || spec.startsWith('/'))) {
      throw new Error(`module '${spec}' is not defined`)
    }
    let path = normalise(spec.startsWith('/') ? spec : `${fromDir}/${spec}`)
    if (!path.endsWith('.js') && !path.endsWith('.json')) path += '.js'
    return path
  }

  function makeRequire(fromDir) {
    return function require(spec) {
      const path = resolve(fromDir, spec)
      if (modules[path]) return modules[path].exports
      const factory = factories[path]
      if (!factory) throw new Error(`module '${spec}' is not defined (looked for ${path})`)
      const module = { exports: {} }
      modules[path] = module
      factory.call(module.exports, module, module.exports, makeRequire(path.slice(0, path.lastIndexOf('/'))))
      return module.exports
    }
  }

  // WXWebAssembly: a path inside the package, .wasm or .wasm.br, resolved without leaving the package.
  global.WXWebAssembly = {
    instantiate(path, imports) {
      instantiateCalls.push(path)
      if (typeof path !== 'string') return Promise.reject(new TypeError('WXWebAssembly.instantiate takes a path string'))
      if (!/^\/.*\.wasm(\.br)?$/.test(path)) return Promise.reject(new Error(`not a package path to a .wasm: ${path}`))
      if (path.split('/').includes('..')) return Promise.reject(new Error(`path leaves the package: ${path}`))
      const file = wasmFiles[path]
      if (!file) return Promise.reject(new Error(`no such file in the package: ${path}`))
      let bytes
      try {
        bytes = jscRead(file, 'binary')
      } catch (err) {
        return Promise.reject(err)
      }
      return RealWebAssembly.instantiate(bytes, imports)
    },
  }
  delete global.WebAssembly

  // Timers as a mini-program has them; jsc's own setTimeout returns no id and cannot be cancelled.
  const jscSetTimeout = global.setTimeout
  const cancelled = new Set()
  let timerSerial = 0
  global.setTimeout = function setTimeout(fn, ms, ...args) {
    const id = ++timerSerial
    jscSetTimeout(() => {
      if (cancelled.delete(id)) return
      fn(...args)
    }, Number(ms) || 0)
    return id
  }
  global.clearTimeout = function clearTimeout(id) {
    if (id) cancelled.add(id)
  }
  global.setInterval = function setInterval(fn, ms, ...args) {
    const id = ++timerSerial
    const tick = () => jscSetTimeout(() => {
      if (cancelled.has(id)) return cancelled.delete(id)
      fn(...args)
      tick()
    }, Math.max(1, Number(ms) || 0))
    tick()
    return id
  }
  global.clearInterval = global.clearTimeout
  const printErr = global.printErr
  global.console = {
    log() {},
    info() {},
    debug() {},
    warn(...args) { printErr(args.map(String).join(' ')) },
    error(...args) { printErr(args.map(String).join(' ')) },
  }

  const banned = (what) => function () { throw new EvalError(`${what} is not allowed in a mini-program`) }
  global.eval = banned('eval')
  const RealFunction = global.Function
  const bannedFunction = banned('new Function')
  RealFunction.prototype.constructor = bannedFunction
  global.Function = bannedFunction

  function emit(value) {
    jscPrint(JSON.stringify(value))
  }

  function describe(err) {
    return { message: String(err && err.message ? err.message : err), stack: String((err && err.stack) || '') }
  }

  return {
    define(path, factory) { factories[path] = factory },
    wasmFile(path, file) { wasmFiles[path] = file },
    require: makeRequire('/'),
    now: () => jscTime() * 1000, // milliseconds
    readText: (file) => jscRead(file), // a file of this machine, for a harness to load data before timing
    ask(request) {
      jscPrint(JSON.stringify({ kind: 'ask', request }))
      const line = jscReadline()
      if (typeof line !== 'string' || line === '') throw new Error('__jsc.ask: no answer (run with a bridge: runInJscAsync)')
      return JSON.parse(line)
    },
    emit,
    instantiateCalls,
    global,
    // Runs `main(context)` (sync or async), prints its result or its error as the last line and ends the
    // run, as closing a mini-program does: timers left behind (the SDK keeps a one-minute one) do not
    // keep jsc alive. With `quit` false jsc ends on its own, printing what it reports at exit (--sample).
    run(main, context, quit = true) {
      Promise.resolve()
        .then(() => main(context))
        .then((result) => emit({ kind: 'result', result: result === undefined ? null : result }),
          (err) => emit({ kind: 'error', error: describe(err) }))
        .then(() => quit && jscQuit())
    },
  }
})(globalThis)
