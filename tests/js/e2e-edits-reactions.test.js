'use strict';
// End-to-end: edits and reactions with real easemob-websdk clients of the release under test (EASEMOB_SDK, the
// newest by default) on the loopback server on 127.0.0.1. Each device is an mpchat chat attached to its own SDK
// connection on a wx storage of its own. alice edits and reacts on her phone; bob's chat and alice's pad store
// the same change, and a restart of bob's app still shows it. Releases without modifyMessage / addReaction
// (3.x, 4.0.x) are skipped, saying so.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const mpchat = require(path.join(root, 'dist', 'mpchat', 'index.js'));
const { createWxStorage } = require('./support/wx-storage.js');
const { SDK, tagged } = require('./support/sdk.js');
const { openWorld } = require('./support/world.js');
const { plain, arrival } = require('./support/records.js');

const GUARD = { timeout: 30000 };

async function sendText(sender, chatType, to, msg) {
  const record = plain(await sender.chat.send(sender.client.conn, { type: 'txt', chatType, to, msg }, { WebIM: sender.client.WebIM }));
  assert.equal(record.status, 'sent', msg);
  return record;
}

const missingApi = (d, ...apis) => apis.find((api) => typeof d.client.conn[api] !== 'function');
const reactionsOf = (record) => (record.reactions || []).map((r) => [r.reaction, r.count, r.mine]);

test(tagged('mpchat edit: alice edits on her phone; bob and her pad store the new text and edited, also after a restart', 'edit', 'single'), GUARD, async (t) => {
  const world = await openWorld(t, { users: ['alice', 'bob'] });
  const alice = await world.device('alice');
  const lacking = missingApi(alice, 'modifyMessage');
  if (lacking) return t.skip(`easemob-websdk ${SDK.version} has no ${lacking}: edits need SDK 4.x's modifyMessage`);
  const pad = await world.device('alice', { device: 'pad' });
  const bobStorage = createWxStorage();
  const bob = await world.device('bob', { storage: bobStorage });

  const sent = await sendText(alice, 'singleChat', 'bob', 'see you at 8');
  await arrival(bob.chat, 'single:alice', sent.id);
  await arrival(pad.chat, 'single:bob', sent.id);

  const published = [];
  bob.chat.subscribe('single:alice', (r) => published.push(plain(r)));
  const mine = plain(await alice.chat.edit(alice.client.conn, sent.id, 'see you at 9 [):]', { WebIM: alice.client.WebIM }));
  assert.equal(mine.text, 'see you at 9 [):]');
  assert.deepEqual([mine.edited.count, mine.edited.by], [1, 'alice']);
  assert.deepEqual(mine.segments.map((s) => s.type), ['txt', 'emoji']);

  for (const [who, chat, conversation] of [['bob', bob.chat, 'single:alice'], ['pad', pad.chat, 'single:bob']]) {
    const seen = await arrival(chat, conversation, sent.id, (r) => r.edited && r.edited.count === 1);
    assert.deepEqual([seen.text, seen.edited.by, seen.segments.map((s) => s.type)], ['see you at 9 [):]', 'alice', ['txt', 'emoji']], who);
  }
  assert.ok(published.some((r) => r.id === sent.id && r.text === 'see you at 9 [):]'), 'bob\'s subscriber heard of the edit');

  await alice.chat.edit(alice.client.conn, sent.id, 'see you at 10', { WebIM: alice.client.WebIM });
  const second = await arrival(bob.chat, 'single:alice', sent.id, (r) => r.edited && r.edited.count === 2);
  assert.equal(second.text, 'see you at 10');

  // Only my own messages: bob's message is refused before anything reaches the server.
  const theirs = await sendText(bob, 'singleChat', 'alice', 'not yours to edit');
  await arrival(alice.chat, 'single:bob', theirs.id);
  await assert.rejects(alice.chat.edit(alice.client.conn, theirs.id, 'edited anyway', { WebIM: alice.client.WebIM }), /someone else's/);

  // bob's app restarts: the edit is what his storage holds.
  await world.leave(bob);
  const restarted = await mpchat.createChat({ user: 'bob', storage: bobStorage, profile: { nickname: 'bob' } });
  const kept = plain(restarted.history('single:alice', { limit: 100 })).find((r) => r.id === sent.id);
  assert.deepEqual([kept.text, kept.edited.count], ['see you at 10', 2]);
  assert.equal(restarted.storageReport().bytesUsed, bobStorage.totalBytes);
});

test(tagged('mpchat react: alice reacts on her phone; bob and her pad store the reactions, mine as each of them sees it', 'reactions', 'single', 'group'), GUARD, async (t) => {
  const world = await openWorld(t, { users: ['alice', 'bob', 'carol'], groups: { g1: ['alice', 'bob', 'carol'] } });
  const alice = await world.device('alice');
  const lacking = missingApi(alice, 'addReaction', 'deleteReaction');
  if (lacking) return t.skip(`easemob-websdk ${SDK.version} has no ${lacking}: reactions need SDK 4.x`);
  const pad = await world.device('alice', { device: 'pad' });
  const bob = await world.device('bob');

  const pizza = await sendText(bob, 'singleChat', 'alice', 'pizza tonight?');
  await arrival(alice.chat, 'single:bob', pizza.id);
  await arrival(pad.chat, 'single:bob', pizza.id);

  const mine = plain(await alice.chat.react(alice.client.conn, pizza.id, '👍', true));
  assert.deepEqual(reactionsOf(mine), [['👍', 1, true]]);
  const atBob = await arrival(bob.chat, 'single:alice', pizza.id, (r) => r.reactions);
  assert.deepEqual(reactionsOf(atBob), [['👍', 1, false]]);
  const atPad = await arrival(pad.chat, 'single:bob', pizza.id, (r) => r.reactions);
  assert.deepEqual(reactionsOf(atPad), [['👍', 1, true]]);

  await bob.chat.react(bob.client.conn, pizza.id, '👍', true);
  const both = await arrival(alice.chat, 'single:bob', pizza.id, (r) => r.reactions && r.reactions[0].count === 2);
  assert.deepEqual(reactionsOf(both), [['👍', 2, true]]);

  await alice.chat.react(alice.client.conn, pizza.id, '👍', false);
  const taken = await arrival(pad.chat, 'single:bob', pizza.id, (r) => r.reactions && r.reactions[0].count === 1);
  assert.deepEqual(reactionsOf(taken), [['👍', 1, false]]);
  const atBobAfter = await arrival(bob.chat, 'single:alice', pizza.id, (r) => r.reactions && r.reactions[0].count === 1);
  assert.deepEqual(reactionsOf(atBobAfter), [['👍', 1, true]]);

  // In a group, every member's chat stores the reaction.
  const photos = await sendText(alice, 'groupChat', 'g1', 'photos from Saturday');
  await arrival(bob.chat, 'group:g1', photos.id);
  await bob.chat.react(bob.client.conn, photos.id, '❤️', true);
  const atAlice = await arrival(alice.chat, 'group:g1', photos.id, (r) => r.reactions);
  assert.deepEqual(reactionsOf(atAlice), [['❤️', 1, false]]);
});
