'use strict';
// A stand-in for the WeChat `wx` global, just enough for the Easemob SDK's mini-program build (and mpchat's
// pages) to load and run outside WeChat: capability probes, system info, an in-memory storage, app/network event
// hooks that never fire, and no network except what the caller supplies: `connectSocket` (normally the loopback
// server's in-memory socket) and `http` (normally the loopback server's in-memory HTTP, which answers loopback
// addresses only). Without `http`, wx.request, wx.uploadFile and wx.downloadFile fail at once.
// `files` gives wx.uploadFile something to read and wx.downloadFile somewhere to write: {read(path) -> bytes,
// write(bytes, nameHint) -> a temporary path, userDataPath?, exists?(path)}; with `exists`, the wx also has
// getFileSystemManager().accessSync(path), which throws for a path that is not there. This module uses no Node built-ins (it also runs
// inside JavaScriptCore for the benchmarks).
//
// http(request) -> Promise<{statusCode, headers, body: Uint8Array}>, request = {method, url, headers, body}.

function createFakeWx({ connectSocket, http, files, platform = 'devtools' } = {}) {
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

    request(opts) { return request(opts || {}); },
    uploadFile(opts) { return uploadFile(opts || {}); },
    downloadFile(opts) { return downloadFile(opts || {}); },
    env: { get USER_DATA_PATH() { return (files && files.userDataPath) || 'wxfile://usr'; } },

    connectSocket(opts) {
      if (!connectSocket) throw new Error('fake wx: no connectSocket was supplied');
      return connectSocket(opts);
    },
  };
  if (files && typeof files.exists === 'function') {
    wx.getFileSystemManager = () => ({
      accessSync(filePath) {
        if (!files.exists(String(filePath))) throw new Error(`accessSync:fail no such file or directory, access "${filePath}"`);
      },
    });
  }

  // A task whose callbacks run once the transfer settles; abort() before that makes it fail instead.
  function transfer(kind, opts, run) {
    const progress = [];
    let aborted = false;
    let settled = false;
    const task = {
      abort() { aborted = true; },
      onProgressUpdate(cb) { progress.push(cb); },
      offProgressUpdate(cb) { const i = progress.indexOf(cb); if (i >= 0) progress.splice(i, 1); },
      onHeadersReceived: noop,
      offHeadersReceived: noop,
    };
    const fail = (why) => { if (!settled) { settled = true; failed(opts, `${kind}:fail ${why}`); } };
    if (!http) {
      fail('the loopback wx has no HTTP');
      return task;
    }
    Promise.resolve()
      .then(() => run((sent, total) => {
        for (const cb of [...progress]) cb({ progress: total ? Math.round((sent / total) * 100) : 100, totalBytesSent: sent, totalBytesExpectedToSend: total, totalBytesWritten: sent, totalBytesExpectedToWrite: total });
      }, () => aborted))
      .then((res) => {
        if (settled) return;
        if (aborted) { fail('abort'); return; }
        settled = true;
        done(opts, { ...res, errMsg: `${kind}:ok` });
      }, (err) => fail(aborted ? 'abort' : (err && err.message) || String(err)));
    return task;
  }

  function request(opts) {
    return transfer('request', opts, async () => {
      const method = String(opts.method || 'GET').toUpperCase();
      const header = { ...(opts.header || {}) };
      const contentType = headerValue(header, 'content-type') || 'application/json';
      let url = String(opts.url || '');
      let body;
      const data = opts.data;
      if (method === 'GET') {
        // wx appends GET data to the URL as a query string.
        if (data && typeof data === 'object') url = appendQuery(url, formEncode(data));
        else if (typeof data === 'string' && data) url = appendQuery(url, data);
      } else if (data !== undefined && data !== null) {
        if (data instanceof ArrayBuffer) body = new Uint8Array(data);
        else if (typeof data === 'string') body = data;
        else if (/x-www-form-urlencoded/i.test(contentType)) body = formEncode(data);
        else body = JSON.stringify(data);
        if (!headerValue(header, 'content-type')) header['content-type'] = contentType;
      }
      const res = await http({ method, url, headers: header, body });
      const text = utf8Decode(res.body);
      let responseData = text;
      if (opts.responseType === 'arraybuffer') responseData = toArrayBuffer(res.body);
      else if ((opts.dataType || 'json') === 'json') { try { responseData = JSON.parse(text); } catch { responseData = text; } }
      return { data: responseData, statusCode: res.statusCode, header: res.headers || {}, cookies: [] };
    });
  }

  function uploadFile(opts) {
    return transfer('uploadFile', opts, async (report) => {
      if (!files) throw new Error('the loopback wx has no files to read');
      const bytes = files.read(String(opts.filePath || ''));
      const boundary = `----loopbackwx${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
      const chunks = [];
      for (const [key, value] of Object.entries(opts.formData || {})) {
        chunks.push(utf8Encode(`--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`));
      }
      const filename = String(opts.filePath || 'file').split('/').pop();
      chunks.push(utf8Encode(`--${boundary}\r\nContent-Disposition: form-data; name="${opts.name || 'file'}"; filename="${filename}"\r\nContent-Type: ${mimeOf(filename)}\r\n\r\n`));
      chunks.push(bytes);
      chunks.push(utf8Encode(`\r\n--${boundary}--\r\n`));
      const body = concat(chunks);
      const header = {};
      for (const [key, value] of Object.entries(opts.header || {})) if (!/^content-type$/i.test(key)) header[key] = value;
      header['content-type'] = `multipart/form-data; boundary=${boundary}`;
      report(Math.floor(body.length / 2), body.length);
      const res = await http({ method: 'POST', url: String(opts.url || ''), headers: header, body });
      report(body.length, body.length);
      return { data: utf8Decode(res.body), statusCode: res.statusCode, header: res.headers || {} };
    });
  }

  function downloadFile(opts) {
    return transfer('downloadFile', opts, async (report) => {
      if (!files) throw new Error('the loopback wx has nowhere to write');
      const res = await http({ method: 'GET', url: String(opts.url || ''), headers: { ...(opts.header || {}) } });
      const bytes = res.body || new Uint8Array(0);
      report(bytes.length, bytes.length);
      const name = String(opts.url || '').split('?')[0].split('/').pop() || 'download';
      const tempFilePath = files.write(bytes, name, opts.filePath);
      return opts.filePath ? { filePath: tempFilePath, statusCode: res.statusCode } : { tempFilePath, statusCode: res.statusCode };
    });
  }

  return wx;
}

function headerValue(header, name) {
  for (const [key, value] of Object.entries(header || {})) if (key.toLowerCase() === name) return String(value);
  return '';
}

function formEncode(data) {
  return Object.entries(data)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))}`)
    .join('&');
}

function appendQuery(url, query) {
  if (!query) return url;
  return url + (url.includes('?') ? '&' : '?') + query;
}

const MIME = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', mp3: 'audio/mpeg',
  aac: 'audio/aac', m4a: 'audio/mp4', amr: 'audio/amr', silk: 'audio/silk', mp4: 'video/mp4', mov: 'video/quicktime', txt: 'text/plain',
  pdf: 'application/pdf', json: 'application/json' };
function mimeOf(filename) {
  const ext = String(filename).split('.').pop().toLowerCase();
  return MIME[ext] || 'application/octet-stream';
}

// UTF-8 by hand: neither TextEncoder nor Buffer is certain where this runs.
function utf8Encode(text) {
  const out = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

function utf8Decode(bytes) {
  if (!bytes) return '';
  if (typeof bytes === 'string') return bytes;
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    let c;
    if (b < 0x80) { c = b; i += 1; }
    else if (b < 0xe0) { c = ((b & 31) << 6) | (bytes[i + 1] & 63); i += 2; }
    else if (b < 0xf0) { c = ((b & 15) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63); i += 3; }
    else { c = ((b & 7) << 18) | ((bytes[i + 1] & 63) << 12) | ((bytes[i + 2] & 63) << 6) | (bytes[i + 3] & 63); i += 4; }
    out += String.fromCodePoint(c);
  }
  return out;
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

function toArrayBuffer(bytes) {
  const b = bytes || new Uint8Array(0);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

module.exports = { createFakeWx };
