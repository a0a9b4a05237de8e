'use strict';
// A harness that logs real easemob-websdk clients in to a loopback server from plain Node: the mini-program
// build (what mpchat's users ship) over the server's in-memory `wx.connectSocket`, and the web build over the
// server's WebSocket listener.
// The SDK captures its platform globals (`wx`, or `window`/`WebSocket`) once, when its module is evaluated, and
// keeps module-level state (message caches, offline-sync counters), so every client gets its own module
// instance compiled against its own globals: two clients in one process behave like two phones.
// The SDK also starts a one-minute interval (an event-report rate governor) that it clears only on a page's
// `beforeunload`; each instance gets its own `addEventListener`, so closing a client "unloads" it and leaves no
// timer behind.

const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { createFakeWx } = require('./fake-wx');
const { sdkBundlePath } = require('./schema');

const sources = new Map();
function bundleSource(filename) {
  if (!sources.has(filename)) sources.set(filename, fs.readFileSync(filename, 'utf8'));
  return sources.get(filename);
}

/**
 * Evaluate an SDK bundle as a fresh module with `globals` ({name: value}) visible to it as free variables.
 * Returns `{WebIM, unload}`; `unload()` runs the instance's `beforeunload` listeners.
 */
function instantiate(filename, globals) {
  const unloadListeners = [];
  const scope = {
    addEventListener: (type, listener) => { if (type === 'beforeunload') unloadListeners.push(listener); },
    ...globals,
  };
  const names = Object.keys(scope);
  const factory = vm.compileFunction(bundleSource(filename), ['module', 'exports', 'require', ...names], { filename });
  const module = { exports: {} };
  factory.call(globalThis, module, module.exports, require, ...names.map((n) => scope[n]));
  const WebIM = module.exports.default || module.exports;
  if (WebIM.logger && typeof WebIM.logger.disableAll === 'function') WebIM.logger.disableAll();
  const unload = () => { for (const listener of unloadListeners.splice(0)) listener(); };
  return { WebIM, unload };
}

/** A fresh instance of the SDK's mini-program build bound to `wx`. */
function loadSdk(wx) {
  return instantiate(sdkBundlePath(), { wx });
}

/** A fresh instance of the SDK's web build, given just enough of a browser: WebSocket (ws), storage, location. */
function loadWebSdk() {
  const { WebSocket } = require('ws');
  const store = new Map();
  const localStorage = {
    getItem: (k) => (store.has(String(k)) ? store.get(String(k)) : null),
    setItem: (k, v) => { store.set(String(k), String(v)); },
    removeItem: (k) => { store.delete(String(k)); },
    clear: () => store.clear(),
  };
  const navigator = { userAgent: 'node loopback', onLine: true };
  const window = {
    WebSocket,
    localStorage,
    navigator,
    location: { protocol: 'http:', host: '127.0.0.1', hostname: '127.0.0.1', href: 'http://127.0.0.1/' },
    // Network online/offline listeners: the loopback never goes offline.
    addEventListener() {},
    removeEventListener() {},
  };
  return instantiate(path.join(path.dirname(sdkBundlePath()), '..', 'Easemob-chat.js'), {
    window, self: window, WebSocket, localStorage, navigator,
  });
}

async function login({ WebIM, unload }, server, { user, device, token, connectionOptions = {}, url, beforeOpen }) {
  if (!user) throw new Error('connectClient: `user` is required');
  const port = server.port || 5280;
  const conn = new WebIM.connection({
    appKey: server.appKey,
    isHttpDNS: false,
    url: url || `ws://127.0.0.1:${port}/websocket`,
    apiUrl: `http://127.0.0.1:${port}`,
    deviceId: device || 'webim',
    delivery: false,
    ...connectionOptions,
  });
  try {
    // An app attaches its handlers before opening, so nothing the login sync delivers is missed.
    if (beforeOpen) beforeOpen(conn, WebIM);
    await conn.open({ user, accessToken: token || `loopback-token-${user}` });
  } catch (err) {
    conn.close();
    unload();
    throw err;
  }
  let closed = false;
  return {
    conn,
    WebIM,
    user,
    async close() {
      if (closed) return;
      closed = true;
      const wasOpen = typeof conn.isOpened === 'function' ? conn.isOpened() : true;
      const disconnected = new Promise((resolve) => {
        conn.addEventHandler('loopback-harness-close', { onDisconnected: () => resolve() });
      });
      conn.close();
      unload();
      if (wasOpen) await disconnected;
    },
  };
}

/**
 * Log `user` in to `server` with the SDK's mini-program build, through the server's in-memory socket.
 * Options: `device` (tells two devices of one user apart; it becomes the SDK's deviceId), `token`,
 * `connectionOptions` (extra fields for `new connection`), `connectSocket` (another transport with the
 * signature of wx.connectSocket), `beforeOpen(conn, WebIM)` (called before login, to attach handlers). Resolves once the SDK is connected, with `{conn, WebIM, wx, user, close()}`;
 * `close()` logs out and waits until the SDK reports the disconnect.
 */
async function connectClient(server, options = {}) {
  const wx = createFakeWx({ connectSocket: options.connectSocket || server.wxConnectSocket });
  const client = await login(loadSdk(wx), server, options);
  return { ...client, wx };
}

/**
 * Log `user` in with the SDK's web build over the server's WebSocket listener (start the server with a
 * `port`). Same options and result as connectClient, without `wx`/`connectSocket`.
 */
async function connectWebClient(server, options = {}) {
  if (!server.url) throw new Error('connectWebClient: the server has no WebSocket listener; start it with {port: 0}');
  return login(loadWebSdk(), server, { ...options, url: server.url });
}

module.exports = { connectClient, connectWebClient, loadSdk, loadWebSdk };
