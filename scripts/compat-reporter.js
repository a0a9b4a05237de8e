// A node:test reporter for scripts/compat.js: one JSON line per finished top-level test.
'use strict'
module.exports = async function * compatReporter(source) {
  for await (const { type, data } of source) {
    if ((type !== 'test:pass' && type !== 'test:fail') || data.nesting !== 0 || !data.name) continue
    const outcome = data.skip !== undefined ? 'skip' : data.todo !== undefined ? (type === 'test:pass' ? 'pass' : 'todo') : type === 'test:pass' ? 'pass' : 'fail'
    yield `${JSON.stringify({ name: data.name, outcome, reason: typeof data.todo === 'string' ? data.todo : typeof data.skip === 'string' ? data.skip : undefined })}\n`
  }
}
