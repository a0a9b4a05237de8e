'use strict';
// A harness that logs real easemob-websdk clients in to a loopback server from plain Node, for every release
// in the matrix (./sdks.js): a mini-program build (what mpchat's users ship) over the server's in-memory
// `wx.connectSocket`, a web build over the server's WebSocket listener (SockJS for the builds that use it).
// The SDK captures its platform globals (`wx`, or `window`/`WebSocket`) once, when its module is evaluated, and
// keeps module-level state (message caches, offline-sync counters), so every client gets its own module
// instance compiled against its own globals: two clients in one process behave like two phones.
// The SDK also starts a one-minute interval (an event-report rate governor) that it clears only on a page's
// `beforeunload`; each instance gets its own `addEventListener`, so closing a client "unloads" it and leaves no
// timer behind.

const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const vm = require('vm');
const { createFakeWx } = require('./fake-wx');
const { NEWEST, bundlePath, sdkUnderTest } = require('./sdks');
const { isLoopbackHost } = require('./server');

const sources = new Map();
function bundleSource(filename) {
  if (!sources.has(filename)) sources.set(filename, fs.readFileSync(filename, 'utf8'));
  return sources.get(filename);
}

function unloadable() {
  const listeners = [];
  return {
    addEventListener: (type, listener) => { if (type === 'beforeunload') listeners.push(listener); },
    unload: () => { for (const listener of listeners.splice(0)) listener(); },
  };
}

function moduleExports(module) {
  const WebIM = module.exports.default || module.exports;
  if (WebIM.logger && typeof WebIM.logger.disableAll === 'function') WebIM.logger.disableAll();
  return WebIM;
}

/**
 * A fresh instance of an SDK's mini-program build bound to `wx` (the newest SDK unless `sdk` says otherwise).
 * Returns `{WebIM, unload}`; `unload()` runs the instance's `beforeunload` listeners.
 */
function loadSdk(wx, sdk = NEWEST) {
  const filename = bundlePath(sdk, 'miniProgram');
  const { addEventListener, unload } = unloadable();
  // Names the build reads unchecked are declared (with no value), as the mini-program runtime declares them.
  const scope = { addEventListener, wx, ...Object.fromEntries((sdk.miniProgram.globals || []).map((name) => [name, undefined])) };
  const names = Object.keys(scope);
  const factory = vm.compileFunction(bundleSource(filename), ['module', 'exports', 'require', ...names], { filename });
  const module = { exports: {} };
  factory.call(globalThis, module, module.exports, require, ...names.map((n) => scope[n]));
  return { WebIM: moduleExports(module), unload };
}

function safeJson(text) {
  try { return JSON.parse(text); } catch { return null; }
}

/**
 * XMLHttpRequest for a web build, enough for SockJS's /info request and for the REST calls some builds make
 * (the loopback answers those with an error); it reaches loopback hosts only.
 */
class LoopbackXMLHttpRequest {
  constructor() {
    this.readyState = 0;
    this.status = 0;
    this.responseText = '';
    this.response = '';
    this.responseType = '';
    this.withCredentials = false;
    this._headers = {};
    this._request = null;
  }

  open(method, url) {
    const target = new URL(url);
    if (!isLoopbackHost(target.hostname)) throw new Error(`loopback XMLHttpRequest: ${url} is not a loopback address`);
    this._method = method;
    this._url = target;
    this.readyState = 1;
  }

  setRequestHeader(name, value) { this._headers[name] = value; }

  send(body) {
    const request = http.request(this._url, { method: this._method, headers: this._headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => this._done(response.statusCode, text));
    });
    request.on('error', () => this._done(0, ''));
    request.end(body == null ? undefined : body);
    this._request = request;
  }

  abort() {
    if (this._request) this._request.destroy();
    this._request = null;
  }

  _done(status, text) {
    if (!this._request) return;
    this._request = null;
    this.status = status;
    this.responseText = text;
    this.response = this.responseType === 'json' ? safeJson(text) : text;
    this.readyState = 4;
    if (this.onreadystatechange) this.onreadystatechange();
  }
}

/**
 * Runs `fn` while the host's global object carries `globals`. A web build's bundler (webpack 4, in the builds
 * that use SockJS) finds its global object with `function () { return this }()`, which in Node is the host's;
 * SockJS takes WebSocket, XMLHttpRequest and location from it once, as its modules are evaluated.
 */
function withHostGlobals(globals, fn) {
  const saved = Object.keys(globals).map((name) => [name, Object.getOwnPropertyDescriptor(globalThis, name)]);
  for (const [name, value] of Object.entries(globals)) {
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  try {
    return fn();
  } finally {
    for (const [name, descriptor] of saved) {
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
      else delete globalThis[name];
    }
  }
}

// A browser's WebSocket on top of ws: an error is an event, never an exception (ws throws one nobody listens
// to, as when SockJS closes a socket still connecting after dropping its handlers).
class BrowserWebSocket extends require('ws').WebSocket {
  constructor(...args) {
    super(...args);
    this.on('error', () => {});
  }
}

/** A fresh instance of an SDK's web build, given just enough of a browser. */
function loadWebSdk(sdk = NEWEST) {
  const filename = bundlePath(sdk, 'web');
  const WebSocket = BrowserWebSocket;
  const { addEventListener, unload } = unloadable();
  const store = new Map();
  const localStorage = {
    getItem: (k) => (store.has(String(k)) ? store.get(String(k)) : null),
    setItem: (k, v) => { store.set(String(k), String(v)); },
    removeItem: (k) => { store.delete(String(k)); },
    clear: () => store.clear(),
  };
  const navigator = { userAgent: 'node loopback', onLine: true };
  const location = { protocol: 'http:', host: '127.0.0.1', hostname: '127.0.0.1', origin: 'http://127.0.0.1', href: 'http://127.0.0.1/' };
  const browser = { WebSocket, XMLHttpRequest: LoopbackXMLHttpRequest, localStorage, navigator, location };
  const window = {
    ...browser,
    // Network online/offline listeners: the loopback never goes offline.
    addEventListener,
    removeEventListener() {},
  };
  // The page never hides (4.13 to 4.19 listen for visibilitychange without checking for a document).
  const document = { hidden: false, addEventListener() {}, removeEventListener() {} };
  const scope = { window, self: window, document, ...browser, addEventListener };
  const names = Object.keys(scope);
  const factory = vm.compileFunction(bundleSource(filename), ['module', 'exports', 'require', ...names], { filename });
  const module = { exports: {} };
  withHostGlobals({ WebSocket, XMLHttpRequest: LoopbackXMLHttpRequest, location },
    () => factory.call(globalThis, module, module.exports, require, ...names.map((n) => scope[n])));
  // 3.x makes each REST request with `new global.XMLHttpRequest` at call time, on the global object it found
  // at load (the host's): as in a browser, the page keeps one (loopback hosts only) for the process's life.
  if (sdk.legacy && typeof globalThis.XMLHttpRequest === 'undefined') {
    Object.defineProperty(globalThis, 'XMLHttpRequest', { value: LoopbackXMLHttpRequest, configurable: true, writable: true });
  }
  return { WebIM: moduleExports(module), unload };
}

// What a 3.x connection's listen() can call; the harness hands each to every subscriber.
const LEGACY_EVENTS = ['onOpened', 'onClosed', 'onError', 'onTextMessage', 'onEmojiMessage', 'onPictureMessage',
  'onAudioMessage', 'onVideoMessage', 'onFileMessage', 'onLocationMessage', 'onCustomMessage', 'onCmdMessage',
  'onReceivedMessage', 'onDeliveredMessage', 'onReadMessage', 'onRecallMessage', 'onChannelMessage',
  'onMutedMessage', 'onOnline', 'onOffline'];

let handlerSerial = 0;

/**
 * Events of a connection, to any number of subscribers: `on(handlers)` returns the unsubscribe function.
 * A 4.x connection has addEventHandler for that. A 3.x one has a single set of callbacks (listen() replaces
 * them all), so the harness keeps that slot: the app's own listen() calls still replace the app's callbacks,
 * as on a plain 3.x connection, and the harness's and the tests' subscriptions stay.
 */
function eventsOf(conn) {
  if (typeof conn.addEventHandler === 'function') {
    return {
      on(handlers) {
        const id = `loopback-harness-${++handlerSerial}`;
        conn.addEventHandler(id, handlers);
        return () => conn.removeEventHandler(id);
      },
    };
  }
  const subscribers = new Set();
  let app = {};
  const dispatch = {};
  for (const name of LEGACY_EVENTS) {
    dispatch[name] = (...args) => {
      for (const handlers of [app, ...subscribers]) if (typeof handlers[name] === 'function') handlers[name](...args);
    };
  }
  conn.listen(dispatch);
  conn.listen = (handlers) => { app = handlers || {}; };
  return {
    on(handlers) {
      subscribers.add(handlers);
      return () => subscribers.delete(handlers);
    },
  };
}

/**
 * Sends through the SDK's own message API and resolves `{localMsgId, serverMsgId}` once the server acks,
 * or rejects with the SDK's error. `options` are those of 4.x `WebIM.message.create`; on 3.x they become
 * `new WebIM.message(type, id)` + `msg.set({..., success, fail})`, `setGroup('groupchat')` for a group, and
 * `roomType: true` as well for a chat room.
 */
function sendMessage({ conn, WebIM }, options) {
  if (typeof WebIM.message.create === 'function') return conn.send(WebIM.message.create(options));
  return new Promise((resolve, reject) => {
    const message = new WebIM.message(options.type, conn.getUniqueId()); // eslint-disable-line new-cap
    message.set({
      ...options,
      success: (localMsgId, serverMsgId) => resolve({ localMsgId, serverMsgId }),
      fail: reject,
    });
    const chatType = String(options.chatType || '').toLowerCase();
    if (chatType === 'groupchat' || chatType === 'chatroom') {
      message.setGroup('groupchat');
      message.body.roomType = chatType === 'chatroom';
    }
    conn.send(message.body);
  });
}

const LEGACY_TYPE = { singlechat: 'chat', groupchat: 'groupchat', chatroom: 'chatroom' };

/** Recalls a sent message through the SDK (3.x takes the conversation kind as a legacy `type`). */
function recallMessage({ conn, sdk }, { mid, to, chatType = 'singleChat' }) {
  if (!sdk.legacy) return conn.recallMessage({ mid, to, chatType });
  return new Promise((resolve, reject) => {
    conn.recallMessage({ mid, to, type: LEGACY_TYPE[chatType.toLowerCase()], success: resolve, fail: reject });
  });
}

async function login({ WebIM, unload }, server, sdk, { user, device, token, connectionOptions = {}, url, beforeOpen }) {
  if (!user) throw new Error('connectClient: `user` is required');
  const port = server.port || 5280;
  const conn = new WebIM.connection({
    appKey: server.appKey,
    isHttpDNS: false,
    url: url || `ws://127.0.0.1:${port}/websocket`,
    apiUrl: `http://127.0.0.1:${port}`,
    deviceId: device || 'webim',
    delivery: false,
    // 4.x reconnects five times by default; 3.x not at all unless the app asks, as its demo does.
    autoReconnectNumMax: 5,
    ...connectionOptions,
  });
  const events = eventsOf(conn);
  // Some releases resolve open() once the socket is asked for, before the server has let the user in.
  let stopWaiting;
  const connected = new Promise((resolve, reject) => {
    stopWaiting = events.on({ onConnected: resolve, onOpened: resolve, onError: (err) => { if (isLoginError(err)) reject(err); } });
  });
  connected.catch(() => {}); // open() may report the same refusal first
  try {
    // An app attaches its handlers before opening, so nothing the login sync delivers is missed.
    if (beforeOpen) beforeOpen(conn, WebIM);
    await conn.open({ user, accessToken: token || `loopback-token-${user}`, appKey: server.appKey });
    if (!conn.isOpened()) await connected;
  } catch (err) {
    conn.close();
    unload();
    throw err;
  } finally {
    stopWaiting();
  }
  let closed = false;
  return {
    conn,
    WebIM,
    sdk,
    user,
    /** Subscribes to the connection's events (addEventHandler names; 3.x: listen() names); returns off(). */
    on: (handlers) => events.on(handlers),
    /** Sends with the SDK's own API; see sendMessage. */
    send: (options) => sendMessage({ conn, WebIM }, options),
    /** Recalls `{mid, to, chatType}` with the SDK's own API. */
    recall: (options) => recallMessage({ conn, sdk }, options),
    /**
     * Resolves once the SDK knows its socket is gone (not every release raises an event for it, so this
     * looks at conn.isOpened()).
     */
    async disconnected() {
      while (conn.isOpened()) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    /** Resolves at the SDK's next successful login (after a reconnect). */
    reconnected() {
      return new Promise((resolve) => {
        const off = events.on({ onConnected: () => { off(); resolve(); }, onOpened: () => { off(); resolve(); } });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      const wasOpen = conn.isOpened();
      const disconnected = new Promise((resolve) => {
        events.on({ onDisconnected: () => resolve(), onClosed: () => resolve() });
      });
      conn.close();
      unload();
      if (wasOpen) await disconnected;
    },
  };
}

// A login the server refused, as releases report it: 4.x's user-not-found and token errors, 3.x's provision
// error. (4.0.x and 4.1.x report none: their login just never completes.)
function isLoginError(err) {
  return Boolean(err) && [40, 204, 206, 207, 208, 209].includes(Number(err.type));
}

/**
 * Files for a fake wx in Node: wx.uploadFile reads real paths (a test's temporary files), wx.downloadFile
 * writes into a temporary folder of this client's, made on first use; `remove()` deletes that folder.
 */
function temporaryFiles() {
  let dir = null;
  let serial = 0;
  const folder = () => dir || (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpchat-wx-')));
  return {
    read: (file) => new Uint8Array(fs.readFileSync(file)),
    exists: (file) => fs.existsSync(file),
    write(bytes, name, filePath) {
      const target = filePath || path.join(folder(), `${++serial}-${String(name).replace(/[^\w.-]/g, '_').slice(-60)}`);
      fs.writeFileSync(target, bytes);
      return target;
    },
    get userDataPath() { return folder(); },
    remove() {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      dir = null;
    },
  };
}

/**
 * Log `user` in to `server` with an SDK (`sdk`, default the one under test, ./sdks.js): its mini-program build
 * through the server's in-memory socket, or, for a release with only a web build, its web build over the
 * server's WebSocket listener (start the server with a `port`).
 * Options: `device` (tells two devices of one user apart; it becomes the SDK's deviceId), `token`,
 * `connectionOptions` (extra fields for `new connection`), `connectSocket` (another transport with the
 * signature of wx.connectSocket), `http` (another transport for wx.request/uploadFile/downloadFile, see
 * fake-wx.js; default the server's in-memory HTTP), `beforeOpen(conn, WebIM)` (called before login, to attach
 * handlers). The fake wx's uploads read real paths; its downloads land in a temporary folder of the client's,
 * removed by close().
 * Resolves once the SDK is connected, with
 * `{conn, WebIM, sdk, wx?, user, on, send, recall, disconnected, reconnected, close}`;
 * `close()` logs out and waits until the SDK reports the disconnect.
 */
async function connectClient(server, options = {}) {
  const sdk = options.sdk || sdkUnderTest();
  if (sdk.build === 'web') return connectWebClient(server, { ...options, sdk });
  const files = temporaryFiles();
  const wx = createFakeWx({ connectSocket: options.connectSocket || server.wxConnectSocket, http: options.http || server.wxHttp, files });
  let client;
  try {
    client = await login(loadSdk(wx, sdk), server, sdk, options);
  } catch (err) {
    files.remove();
    throw err;
  }
  return {
    ...client,
    wx,
    async close() {
      await client.close();
      files.remove();
    },
  };
}

/**
 * Log `user` in with an SDK's web build over the server's WebSocket listener (start the server with a
 * `port`). Same options and result as connectClient, without `wx`/`connectSocket`.
 */
async function connectWebClient(server, options = {}) {
  const sdk = options.sdk || sdkUnderTest();
  if (!server.url) throw new Error(`easemob-websdk ${sdk.version}'s web build needs the server's WebSocket listener; start it with {port: 0}`);
  return login(loadWebSdk(sdk), server, sdk, { ...options, url: sdk.web.sockjs ? server.sockJsUrl : server.url });
}

module.exports = { connectClient, connectWebClient, loadSdk, temporaryFiles };
