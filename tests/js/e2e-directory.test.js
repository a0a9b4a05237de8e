'use strict';
// End-to-end: names and faces from the server with real easemob-websdk clients of the release under test
// (EASEMOB_SDK, the newest by default) on the loopback server on 127.0.0.1. Bob sets his nickname and avatar
// (user attributes), alice's chat.refreshProfiles sees them; a group's name and avatar come through
// chat.refreshGroups. Releases without an API are skipped, saying so.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const mpchat = require(path.join(root, 'dist', 'mpchat', 'index.js'));
const { createWxStorage } = require('./support/wx-storage.js');
const { SDK, tagged } = require('./support/sdk.js');
const { openWorld } = require('./support/world.js');

const GUARD = { timeout: 60000 };
const WORLD = {
  users: ['alice', 'bob', 'carol'],
  groups: {
    g1: { members: ['alice', 'bob', 'carol'], name: '周末爬山', description: '每周六早上八点', avatar: 'https://example.invalid/g1.png' },
    g2: ['alice', 'bob'],
  },
};

test(tagged('mpchat refreshProfiles: bob sets his nickname and avatar, alice sees them (sanitised, kept across a restart)', 'users'), GUARD, async (t) => {
  const world = await openWorld(t, WORLD);
  const storage = createWxStorage();
  const alice = await world.device('alice', { storage });
  const bob = await world.device('bob');
  const conn = bob.client.conn;
  const update = conn.updateUserInfo ? conn.updateUserInfo.bind(conn) : conn.updateOwnUserInfo && conn.updateOwnUserInfo.bind(conn);
  if (!update) return t.skip(`easemob-websdk ${SDK.version} has no updateUserInfo or updateOwnUserInfo`);
  if (typeof alice.client.conn.fetchUserInfoById !== 'function' && typeof alice.client.conn.fetchUserDataById !== 'function') {
    return t.skip(`easemob-websdk ${SDK.version} has no fetchUserInfoById or fetchUserDataById`);
  }
  await update({ nickname: '\u202E鲍勃 Bob', avatarurl: 'https://example.invalid/bob.png?token=secret' });

  const got = await alice.chat.refreshProfiles(alice.client.conn, ['bob', 'carol']);
  assert.deepEqual(got, [
    { id: 'bob', nickname: '鲍勃 Bob', avatar: 'https://example.invalid/bob.png', source: 'server' },
    { id: 'carol', source: 'id' },
  ]);

  // A restart within a day shows bob's name without asking; a change on the server shows once stale.
  await update({ nickname: 'Robert' });
  const again = await mpchat.createChat({ user: 'alice', storage });
  assert.equal(again.profile('bob').nickname, '鲍勃 Bob');
  await again.refreshProfiles(alice.client.conn, ['bob']);
  assert.equal(again.profile('bob').nickname, '鲍勃 Bob', 'within maxAgeMs nothing is fetched');
  await again.refreshProfiles(alice.client.conn, ['bob'], { maxAgeMs: 0 });
  assert.equal(again.profile('bob').nickname, 'Robert');
});

test(tagged('mpchat refreshGroups: my groups with their server names, avatars and descriptions', 'groups'), GUARD, async (t) => {
  const world = await openWorld(t, WORLD);
  const carol = await world.device('carol');
  if (typeof carol.client.conn.getJoinedGroups !== 'function') {
    return t.skip(`easemob-websdk ${SDK.version} has no getJoinedGroups: refreshGroups needs SDK 4.x`);
  }
  const groups = await carol.chat.refreshGroups(carol.client.conn);
  assert.deepEqual(groups, [
    { id: 'g1', name: '周末爬山', avatar: 'https://example.invalid/g1.png', description: '每周六早上八点' },
  ]);
  assert.equal(carol.chat.groupProfile('g1').source, 'server');
  assert.deepEqual(carol.chat.groupProfile('g2'), { id: 'g2', source: 'id' }, 'not one of carol\'s groups');

  const alice = await world.device('alice');
  const mine = await alice.chat.refreshGroups(alice.client.conn);
  assert.deepEqual(mine.map((g) => [g.id, g.name]), [['g1', '周末爬山'], ['g2', 'g2']]);
});
