// The modules the benchmarks' JavaScriptCore sides require besides dist/mpchat, as tests/jsc/harness's
// writeBundle takes them: package path → file.
'use strict'
const path = require('path')

const repoRoot = path.join(__dirname, '..')
const MODULES = {
  '/support/wx-storage.js': 'tests/js/support/wx-storage.js',
  '/bench/measure.js': 'bench/measure.js',
  '/bench/corpus.js': 'bench/corpus.js',
  '/bench/demo-parser.js': 'bench/demo-parser.js',
  '/bench/recipe-store.js': 'bench/recipe-store.js',
  '/bench/search-body.js': 'bench/search-body.js',
}

/** The table above with `extra` added, each file an absolute path. */
const modules = (extra = {}) =>
  Object.fromEntries(Object.entries({ ...MODULES, ...extra }).map(([at, file]) => [at, path.resolve(repoRoot, file)]))

module.exports = { modules }
