'use strict';
// End-to-end: chat.fetchOlder with real easemob-websdk clients of the release under test (EASEMOB_SDK, the newest
// by default) on the loopback server on 127.0.0.1. A group conversation of 300 messages lives on the server; bob's
// phone holds its newest 40 (delivered as his offline backlog) and pages back to its first message through
// conn.getHistoryMessages. Releases without getHistoryMessages (3.x) are skipped, saying so.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const mpchat = require(path.join(root, 'dist', 'mpchat', 'index.js'));
const { createWxStorage } = require('./support/wx-storage.js');
const { SDK, tagged } = require('./support/sdk.js');
const { openWorld } = require('./support/world.js');

const GUARD = { timeout: 60000 };
const plain = (value) => JSON.parse(JSON.stringify(value));
const SENDERS = ['alice', 'bob', 'carol'];
const WORLD = { users: SENDERS, groups: { g1: SENDERS } };

/** Resolves once `conversation` holds `count` records on `chat`. */
async function holding(chat, conversation, count) {
  for (let i = 0; i < 200; i++) {
    if (chat.history(conversation, { limit: 1000 }).length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${conversation} never held ${count} records`);
}

/** Every page fetchOlder gives until [], each oldest first. */
async function pageBack(d, conversation, limit) {
  const pages = [];
  for (let i = 0; i < 100; i++) {
    const page = plain(await d.chat.fetchOlder(d.client.conn, conversation, { limit }));
    if (page.length === 0) return pages;
    pages.push(page);
  }
  throw new Error('fetchOlder never said there is no more');
}

/** 300 group messages: the oldest 260 only in the server's history, the newest 40 in bob's offline backlog. */
function seed(server, size = 0) {
  const spec = (i) => ({ from: SENDERS[i % 3], to: 'g1', chatType: 'groupChat', msg: `m${i} ${'x'.repeat(size)}` });
  const old = server.pushHistory(Array.from({ length: 260 }, (_, i) => spec(i)));
  // Bob's own messages reach his other devices, not his backlog: the newest 40 are alice's and carol's.
  const recent = server.pushBacklog('bob', Array.from({ length: 40 }, (_, i) => ({ ...spec(260 + i), from: i % 2 ? 'alice' : 'carol' })));
  return { old, recent };
}

test(tagged('mpchat fetchOlder: a 300-message group conversation of which the phone holds 40 pages back to its first message', 'history', 'group'), GUARD, async (t) => {
  const world = await openWorld(t, WORLD);
  const { old, recent } = seed(world.server);
  const storage = createWxStorage();
  const bob = await world.device('bob', { storage });
  if (typeof bob.client.conn.getHistoryMessages !== 'function') {
    return t.skip(`easemob-websdk ${SDK.version} has no getHistoryMessages: fetchOlder needs SDK 4.x`);
  }
  await holding(bob.chat, 'group:g1', 40);
  assert.deepEqual(bob.chat.history('group:g1', { limit: 1000 }).map((r) => r.id), recent);
  const listed = () => plain(bob.chat.conversations()).find((c) => c.conversation === 'group:g1');
  const before = listed();
  assert.equal(before.unread, 40);
  const published = [];
  bob.chat.subscribe('group:g1', (r) => published.push(r.id));

  const pages = await pageBack(bob, 'group:g1', 20);
  // Each page oldest first, older than the page before, never one the phone held.
  for (const page of pages) {
    assert.ok(page.length > 0 && page.length <= 20);
    assert.deepEqual(page.map((r) => r.time), [...page.map((r) => r.time)].sort((a, b) => a - b));
  }
  const fetched = pages.slice().reverse().flat().map((r) => r.id);
  assert.deepEqual(fetched, old, 'paged back to the first message, each once');
  assert.deepEqual(pages.flat().map((r) => r.text).slice(-1), ['m0 ']);
  assert.deepEqual([...published].sort(), [...old].sort(), 'every stored record published once');
  // Someone else's fetched messages are read, my own sent.
  const oldest = pages.slice().reverse().flat();
  assert.deepEqual(oldest.slice(0, 3).map((r) => [r.from, r.status]), [['alice', 'read'], ['bob', 'sent'], ['carol', 'read']]);

  const history = bob.chat.history('group:g1', { limit: 1000 }).map((r) => r.id);
  assert.deepEqual(history, [...old, ...recent], 'history is continuous, without repeats');
  const after = listed();
  assert.deepEqual([after.unread, after.mentionsMe, after.updatedAt, after.last.id], [before.unread, before.mentionsMe, before.updatedAt, before.last.id]);
  assert.equal(bob.chat.unreadTotal(), 40);
  assert.deepEqual(plain(await bob.chat.fetchOlder(bob.client.conn, 'group:g1')), []);

  // After a restart, paging back starts from the oldest stored record: the server has nothing older.
  const again = await mpchat.createChat({ user: 'bob', storage, profile: { nickname: 'bob' } });
  assert.deepEqual(again.history('group:g1', { limit: 1000 }).map((r) => r.id), [...old, ...recent]);
  assert.deepEqual(plain(await again.fetchOlder(bob.client.conn, 'group:g1', { limit: 20 })), []);
  assert.equal(again.unreadTotal(), 40);
});

test(tagged('mpchat fetchOlder: paging back through a conversation longer than the whole budget keeps the other conversations', 'history', 'group'), GUARD, async (t) => {
  const world = await openWorld(t, WORLD);
  // About 1 KB a message: 300 KB of group history against a 128 KiB budget.
  const { old, recent } = seed(world.server, 900);
  const others = world.server.pushBacklog('bob', Array.from({ length: 30 }, (_, i) => ({ from: 'carol', msg: `hello ${i} ${'y'.repeat(500)}` })));
  const bob = await world.device('bob', { limits: { totalBytes: 128 * 1024 } });
  if (typeof bob.client.conn.getHistoryMessages !== 'function') {
    return t.skip(`easemob-websdk ${SDK.version} has no getHistoryMessages: fetchOlder needs SDK 4.x`);
  }
  await holding(bob.chat, 'group:g1', 40);
  await holding(bob.chat, 'single:carol', 30);
  const evicted = [];
  bob.chat.on('evicted', (e) => evicted.push(e));

  const pages = await pageBack(bob, 'group:g1', 50);
  assert.deepEqual(pages.slice().reverse().flat().map((r) => r.id), old, 'every page comes back, to the first message');
  assert.deepEqual(bob.chat.history('single:carol', { limit: 1000 }).map((r) => r.id), others, 'the other conversation keeps its history');
  assert.deepEqual(evicted.filter((e) => e.conversation !== 'group:g1'), []);
  // What is stored of the group is continuous from its newest message back.
  const stored = bob.chat.history('group:g1', { limit: 1000 }).map((r) => r.id);
  const all = [...old, ...recent];
  assert.ok(stored.length >= 40 && stored.length < all.length, `${stored.length} stored`);
  assert.deepEqual(stored, all.slice(all.length - stored.length));
  const report = bob.chat.storageReport();
  assert.ok(report.bytesUsed <= 128 * 1024, JSON.stringify(report));
});
