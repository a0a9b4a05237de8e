'use strict';
// A stand-in for the WeChat `wx` global, just enough for the Easemob SDK's mini-program build to load and
// run in plain Node: capability probes, system info, an in-memory storage, app/network event hooks that never
// fire, and no network at all except the `connectSocket` the caller supplies (normally the loopback server's
// in-memory socket). HTTP requests fail at once so nothing can leave the machine.

function createFakeWx({ connectSocket, platform = 'devtools' } = {}) {
  const storage = new Map();
  const ok = (cb, res) => { if (cb) cb(res); };
  const done = (opts, res) => {
    ok(opts && opts.success, res);
    ok(opts && opts.complete, res);
  };
  const failed = (opts, errMsg) => {
    const res = { errMsg };
    ok(opts && opts.fail, res);
    ok(opts && opts.complete, res);
  };
  const systemInfo = {
    brand: 'loopback', model: 'node', pixelRatio: 2, screenWidth: 375, screenHeight: 667,
    windowWidth: 375, windowHeight: 667, language: 'zh_CN', version: '8.0.0', system: 'node',
    platform, SDKVersion: '3.0.0',
  };
  const noop = () => {};
  const wx = {
    canIUse: () => true,
    getSystemInfo(opts) { done(opts, { ...systemInfo, errMsg: 'getSystemInfo:ok' }); },
    getSystemInfoSync: () => ({ ...systemInfo }),
    getDeviceInfo: () => ({ brand: systemInfo.brand, model: systemInfo.model, platform, system: systemInfo.system }),
    getAppBaseInfo: () => ({ SDKVersion: systemInfo.SDKVersion, language: systemInfo.language, version: systemInfo.version }),
    getAccountInfoSync: () => ({ miniProgram: { appId: 'loopback', envVersion: 'develop', version: '' } }),
    getNetworkType(opts) { done(opts, { networkType: 'wifi', errMsg: 'getNetworkType:ok' }); },
    onNetworkStatusChange: noop,
    offNetworkStatusChange: noop,
    onAppShow: noop,
    onAppHide: noop,
    offAppShow: noop,
    offAppHide: noop,

    getStorageSync: (key) => (storage.has(String(key)) ? storage.get(String(key)) : ''),
    setStorageSync: (key, data) => { storage.set(String(key), data); },
    removeStorageSync: (key) => { storage.delete(String(key)); },
    clearStorageSync: () => storage.clear(),
    getStorageInfoSync: () => ({ keys: [...storage.keys()], currentSize: 0, limitSize: 10240 }),
    getStorage(opts) {
      const key = String(opts.key);
      if (storage.has(key)) done(opts, { data: storage.get(key), errMsg: 'getStorage:ok' });
      else failed(opts, 'getStorage:fail data not found');
    },
    setStorage(opts) { storage.set(String(opts.key), opts.data); done(opts, { errMsg: 'setStorage:ok' }); },
    removeStorage(opts) { storage.delete(String(opts.key)); done(opts, { errMsg: 'removeStorage:ok' }); },
    clearStorage(opts) { storage.clear(); done(opts, { errMsg: 'clearStorage:ok' }); },

    request(opts) { failed(opts, 'request:fail the loopback wx has no HTTP'); return { abort: noop }; },
    uploadFile(opts) { failed(opts, 'uploadFile:fail the loopback wx has no HTTP'); return { abort: noop, onProgressUpdate: noop }; },
    downloadFile(opts) { failed(opts, 'downloadFile:fail the loopback wx has no HTTP'); return { abort: noop, onProgressUpdate: noop }; },

    connectSocket(opts) {
      if (!connectSocket) throw new Error('fake wx: no connectSocket was supplied');
      return connectSocket(opts);
    },
  };
  return wx;
}

module.exports = { createFakeWx };
