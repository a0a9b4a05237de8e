'use strict';
// A loopback Easemob server of one end-to-end test, and devices on it: each a real easemob-websdk client of the
// release under test (EASEMOB_SDK) logged in with an mpchat chat attached before login. Everything is closed,
// devices first, when the test ends or times out.

const path = require('path');

const root = path.join(__dirname, '..', '..', '..');
const { startServer } = require(path.join(root, 'loopback', 'server.js'));
const { connectClient } = require(path.join(root, 'loopback', 'client.js'));
const mpchat = require(path.join(root, 'dist', 'mpchat', 'index.js'));
const { createWxStorage } = require('./wx-storage.js');

/**
 * @param t the node:test context
 * @param {{ users: string[], groups?: object, profile?: (user: string) => object }} options `profile` gives each
 *   user's own profile (their nickname by default)
 * @returns {{ server, device, leave }} `device(user, { device, storage, chat, limits })` logs `user` in on
 *   `device` ('phone' by default) with `chat` (by default a new one on `storage`) attached; `leave(d)` makes the
 *   app on that device quit: its chat lets go of the SDK and the SDK logs out.
 */
async function openWorld(t, { users, groups = {}, profile = (user) => ({ nickname: user }) }) {
  // Listening on a port: web-only releases of the SDK need the WebSocket listener.
  const server = await startServer({ port: 0, users, groups, chatRooms: {} });
  const online = new Set();
  let closing;
  const close = () => closing || (closing = (async () => {
    for (const d of [...online]) await leave(d);
    await server.close();
  })());
  t.after(close);
  t.signal.addEventListener('abort', close);

  async function device(user, { device: deviceId = 'phone', storage = createWxStorage(), chat, limits } = {}) {
    const own = chat || await mpchat.createChat({ user, storage, limits, profile: profile(user) });
    let detach;
    const client = await connectClient(server, { user, device: deviceId, beforeOpen: (conn) => { detach = own.attach(conn); } });
    const d = { user, client, chat: own, storage, detach: () => detach() };
    online.add(d);
    return d;
  }

  async function leave(d) {
    if (!online.delete(d)) return;
    d.detach();
    await d.client.close();
  }

  return { server, device, leave };
}

module.exports = { openWorld };
