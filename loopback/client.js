'use strict';
// A harness that logs a real easemob-websdk client (its mini-program build) in to a loopback server from
// plain Node. The SDK captures the `wx` global once, when its module is evaluated, and keeps module-level state
// (message caches, offline-sync counters), so every client gets its own module instance compiled against its
// own fake `wx`: two clients in one process behave like two phones.
// The SDK starts a one-minute interval (an event-report rate governor) that it only clears on a page's
// `beforeunload`; each instance is given its own `addEventListener` so closing a client can "unload" it and
// leave no timer behind.

const fs = require('fs');
const vm = require('vm');
const { createFakeWx } = require('./fake-wx');
const { sdkBundlePath } = require('./schema');

let bundle;
function sdkSource() {
  if (!bundle) {
    const filename = sdkBundlePath();
    bundle = { filename, code: fs.readFileSync(filename, 'utf8') };
  }
  return bundle;
}

/**
 * A fresh, isolated instance of the SDK's mini-program build bound to `wx`. Returns `{WebIM, unload}`;
 * `unload()` runs the instance's `beforeunload` listeners.
 */
function loadSdk(wx) {
  const { filename, code } = sdkSource();
  const factory = vm.compileFunction(code, ['module', 'exports', 'require', 'wx', 'addEventListener'], { filename });
  const module = { exports: {} };
  const unloadListeners = [];
  const addEventListener = (type, listener) => { if (type === 'beforeunload') unloadListeners.push(listener); };
  factory.call(globalThis, module, module.exports, require, wx, addEventListener);
  const WebIM = module.exports.default || module.exports;
  if (WebIM.logger && typeof WebIM.logger.disableAll === 'function') WebIM.logger.disableAll();
  const unload = () => { for (const listener of unloadListeners.splice(0)) listener(); };
  return { WebIM, unload };
}

/**
 * Log `user` in to `server` through its in-memory socket. Options: `device` (a name that tells two devices of
 * one user apart; it becomes the SDK's deviceId), `connectionOptions` (extra fields for `new connection`),
 * `connectSocket` (use another transport, e.g. a real WebSocket). Resolves once the SDK reports it is
 * connected, with `{conn, WebIM, wx, close()}`; `close()` logs out and waits for the socket to close.
 */
async function connectClient(server, { user, device, connectionOptions = {}, connectSocket, token } = {}) {
  if (!user) throw new Error('connectClient: `user` is required');
  const wx = createFakeWx({ connectSocket: connectSocket || server.wxConnectSocket });
  const { WebIM, unload } = loadSdk(wx);
  const port = server.port || 5280;
  const conn = new WebIM.connection({
    appKey: server.appKey,
    isHttpDNS: false,
    url: `ws://127.0.0.1:${port}/websocket`,
    apiUrl: `http://127.0.0.1:${port}`,
    deviceId: device || 'webim',
    delivery: false,
    ...connectionOptions,
  });
  await conn.open({ user, accessToken: token || `loopback-token-${user}` });
  let closed = false;
  return {
    conn,
    WebIM,
    wx,
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

module.exports = { connectClient, loadSdk };
