// The key-value storage the chat core writes through, over wx's Sync storage API (or anything with the
// same four methods). Values cross to the core as JSON text; wx keeps them as objects, so that what wx
// counts against its limits is the same JSON the core counts.
'use strict'

function describe(err) {
  return (err && (err.errMsg || err.message)) || String(err)
}

function storageAdapter(storage) {
  for (const method of ['getStorageSync', 'setStorageSync', 'removeStorageSync', 'getStorageInfoSync']) {
    if (!storage || typeof storage[method] !== 'function') {
      throw new TypeError(`mpchat: options.storage needs ${method} (pass wx, or an object with wx's Sync storage API)`)
    }
  }
  // Each method throws an Error whose message is wx's own text; the core reads "quota"/"limit" in it.
  const guard = (what, fn) => {
    try {
      return fn()
    } catch (err) {
      throw new Error(`${what}: ${describe(err)}`)
    }
  }
  return {
    get(key) {
      return guard('getStorageSync', () => {
        const value = storage.getStorageSync(key)
        // wx answers '' for a missing key; mpchat never stores a bare string.
        return value === '' || value === undefined || value === null ? undefined : JSON.stringify(value)
      })
    },
    set(key, json) {
      guard('setStorageSync', () => storage.setStorageSync(key, JSON.parse(json)))
    },
    remove(key) {
      guard('removeStorageSync', () => storage.removeStorageSync(key))
    },
    keys() {
      return guard('getStorageInfoSync', () => storage.getStorageInfoSync().keys || [])
    },
  }
}

module.exports = { storageAdapter }
