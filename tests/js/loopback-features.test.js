'use strict';
// End-to-end: what the SDK's newer APIs ask of the server, with real easemob-websdk clients of the release under
// test (EASEMOB_SDK, the newest by default) on the loopback server: history roaming, edits, reactions, groups,
// contacts and user attributes, chat files, typing notices. One user acts; the other side and the actor's other
// device see it. Everything stays on 127.0.0.1 and in temporary folders.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const { startServer } = require(path.join(root, 'loopback', 'server.js'));
const { connectClient } = require(path.join(root, 'loopback', 'client.js'));
const { SDK, tagged } = require('./support/sdk.js');

const GUARD = { timeout: 20000 };

const EVENTS = ['onTextMessage', 'onCmdMessage', 'onImageMessage', 'onPictureMessage', 'onAudioMessage', 'onVideoMessage',
  'onFileMessage', 'onModifiedMessage', 'onReactionChange', 'onRecallMessage'];

/** Everything a client receives, with a way to wait for an event. */
function inbox(client) {
  const received = [];
  const waiters = [];
  const handlers = {};
  for (const name of EVENTS) {
    handlers[name] = (payload) => {
      received.push({ event: name, payload });
      for (const w of [...waiters]) {
        if (w.event === name && w.match(payload)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(payload);
        }
      }
    };
  }
  const stop = client.on(handlers);
  return {
    of: (event) => received.filter((r) => r.event === event).map((r) => r.payload),
    next(event, match = () => true) {
      const seen = received.find((r) => r.event === event && match(r.payload));
      if (seen) return Promise.resolve(seen.payload);
      return new Promise((resolve) => waiters.push({ event, match, resolve }));
    },
    stop,
  };
}

/** A wx API call as a promise (success resolves, fail rejects). */
const wxCall = (fn, options) => new Promise((resolve, reject) => fn({ ...options, success: resolve, fail: reject }));

/** Plain HTTP to the listener: {status, headers, body (Buffer)}. */
function httpRequest(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const text = (client, to, msg, chatType = 'singleChat') => client.send({ type: 'txt', chatType, to, msg });
const missing = (client, ...apis) => apis.find((api) => typeof client.conn[api] !== 'function');
const textOf = (m) => m.msg ?? m.data;

/**
 * A rejection the server caused: the SDK's error type, or (releases that pass REST failures on raw) the
 * server's error_description.
 */
const refused = (type, description) => (err) => (SDK.quirks.rawRestErrors
  ? err.data && err.data.error_description === description
  : err.type === type);

let server;
let alice;
let alice2;
let bob;
let carol;

test.before(async () => {
  server = await startServer({
    port: 0, // web-only releases reach the server through its listener; download URLs point at it
    users: ['alice', 'bob', 'carol', 'dave'],
    groups: {
      g1: { members: ['alice', 'bob', 'carol'], name: '周末爬山', description: '每周六早上八点', avatar: 'https://example.invalid/g1.png', admins: ['bob'] },
      g2: ['bob', 'carol'],
      g3: ['alice', 'bob'],
    },
    chatRooms: { r1: ['alice', 'bob', 'carol'] },
    profiles: { bob: { nickname: 'Bob', avatarurl: 'https://example.invalid/bob.png' } },
    contacts: { alice: ['bob', 'carol'], bob: ['alice'], carol: ['alice'], dave: [] },
  });
  alice = await connectClient(server, { user: 'alice', device: 'phone' });
  alice2 = await connectClient(server, { user: 'alice', device: 'pad' });
  bob = await connectClient(server, { user: 'bob' });
  carol = await connectClient(server, { user: 'carol' });
});

test.after(async () => {
  for (const c of [alice, alice2, bob, carol]) if (c) await c.close();
  await server.close();
});

// ---- history roaming ---------------------------------------------------------------------------------------

/**
 * Every message of a conversation from the server, newest first, paging back with the SDK's cursor until it says
 * it has no more (4.x getHistoryMessages; 3.6.3 fetchHistoryMessages, which keeps the cursor itself and hands
 * each page back oldest first).
 */
async function pageBack(client, targetId, chatType, pageSize, searchOptions) {
  const pages = [];
  if (typeof client.conn.getHistoryMessages === 'function') {
    let cursor;
    for (let i = 0; i < 100; i++) {
      const page = await client.conn.getHistoryMessages({ targetId, chatType, pageSize, cursor, searchOptions });
      pages.push(page.messages);
      if (SDK.quirks.noIsLast ? !page.cursor : page.isLast) return { pages, messages: pages.flat() };
      assert.ok(page.cursor, 'a page that is not the last has a cursor');
      cursor = page.cursor;
    }
    throw new Error('more than 100 pages');
  }
  for (let i = 0; i < 100; i++) {
    const page = await client.conn.fetchHistoryMessages({ queue: targetId, isGroup: chatType !== 'singleChat', count: pageSize });
    if (page.length === 0) return { pages, messages: pages.flat() };
    pages.push([...page].reverse());
  }
  throw new Error('more than 100 pages');
}

test(tagged('history: a one-to-one conversation pages back to its first message, newest first, without repeats', 'history'), GUARD, async () => {
  // 45 messages from long ago (no phone holds them), then 3 sent now through the SDK.
  const old = server.pushHistory(Array.from({ length: 45 }, (_, i) => (
    { from: i % 2 ? 'bob' : 'alice', to: i % 2 ? 'alice' : 'bob', msg: `old ${i}` })));
  const recent = [];
  for (const [from, to] of [[alice, 'bob'], [bob, 'alice'], [alice, 'bob']]) recent.push((await text(from, to, `now ${recent.length}`)).serverMsgId);
  const all = [...old, ...recent];

  const { pages, messages } = await pageBack(bob, 'alice', 'singleChat', 20);
  assert.deepEqual(messages.map((m) => m.id), [...all].reverse());
  assert.deepEqual(pages.map((p) => p.length), [20, 20, 8]);
  assert.deepEqual(messages.map(textOf).slice(-3), ['old 2', 'old 1', 'old 0']);
  const first = messages[messages.length - 1];
  assert.deepEqual([first.from, first.to], ['alice', 'bob']);
  if (!SDK.legacy) assert.equal(first.chatType, 'singleChat');
  // alice's other device sees the same conversation from her side.
  const fromPad = await pageBack(alice2, 'bob', 'singleChat', 50);
  assert.deepEqual(fromPad.messages.map((m) => m.id), [...all].reverse());
});

test(tagged('history: searchDirection down pages forward from the oldest; a cursor starts a page at that message', 'history'), GUARD, async (t) => {
  if (missing(alice, 'getHistoryMessages')) return t.skip(`${SDK.version} has no getHistoryMessages`);
  const ids = server.pushHistory(Array.from({ length: 7 }, (_, i) => ({ from: 'carol', to: 'dave', msg: `down ${i}` })));
  const dave = await connectClient(server, { user: 'dave' });
  try {
    const first = await dave.conn.getHistoryMessages({ targetId: 'carol', chatType: 'singleChat', pageSize: 4, searchDirection: 'down' });
    assert.deepEqual(first.messages.map((m) => m.id), ids.slice(0, 4));
    if (!SDK.quirks.noIsLast) assert.equal(first.isLast, false);
    const second = await dave.conn.getHistoryMessages({ targetId: 'carol', chatType: 'singleChat', pageSize: 4, searchDirection: 'down', cursor: first.cursor });
    assert.deepEqual(second.messages.map((m) => m.id), ids.slice(4));
    if (SDK.quirks.noIsLast) assert.equal(second.cursor, undefined);
    else assert.equal(second.isLast, true);
    const from = await dave.conn.getHistoryMessages({ targetId: 'carol', chatType: 'singleChat', pageSize: 2, cursor: ids[3] });
    assert.deepEqual(from.messages.map((m) => m.id), [ids[3], ids[2]]);
  } finally {
    await dave.close();
  }
});

test(tagged('history: group and chat-room history, newest first, sent by everyone', 'history', 'group', 'chatroom'), GUARD, async () => {
  const sent = [];
  sent.push((await text(alice, 'g1', 'group 0', 'groupChat')).serverMsgId);
  sent.push((await text(bob, 'g1', 'group 1', 'groupChat')).serverMsgId);
  sent.push((await text(carol, 'g1', 'group 2', 'groupChat')).serverMsgId);
  const group = await pageBack(carol, 'g1', 'groupChat', 2);
  assert.deepEqual(group.messages.map((m) => m.id).slice(0, 3), [...sent].reverse());
  assert.deepEqual(group.messages.slice(0, 3).map((m) => [m.from, m.to]), [['carol', 'g1'], ['bob', 'g1'], ['alice', 'g1']]);
  if (!SDK.legacy) assert.ok(group.messages.every((m) => m.chatType === 'groupChat'));

  const room = (await text(carol, 'r1', 'room 0', 'chatRoom')).serverMsgId;
  const roomHistory = await pageBack(bob, 'r1', 'chatRoom', 50);
  assert.equal(roomHistory.messages[0].id, room);
  if (!SDK.legacy) assert.equal(roomHistory.messages[0].chatType, 'chatRoom');
});

test(tagged('history: filters by message type, sender and time; a non-member of the group is refused', 'history', 'group'), GUARD, async (t) => {
  if (missing(alice, 'getHistoryMessages')) return t.skip(`${SDK.version} has no getHistoryMessages`);
  if (SDK.quirks.noHistoryFilters) return t.skip(SDK.quirks.noHistoryFilters);
  const day = Date.UTC(2026, 0, 10);
  const ids = server.pushHistory([
    { from: 'alice', to: 'g3', chatType: 'groupChat', msg: 'filter 0', time: day },
    { from: 'bob', to: 'g3', chatType: 'groupChat', msg: 'filter 1', time: day + 1000 },
    { from: 'bob', to: 'g3', chatType: 'groupChat', type: 'custom', customEvent: 'poll', customExts: { q: 'where' }, time: day + 2000 },
    { from: 'alice', to: 'g3', chatType: 'groupChat', msg: 'filter 3', time: day + 3000 },
  ]);
  const page = (searchOptions) => alice.conn.getHistoryMessages({ targetId: 'g3', chatType: 'groupChat', pageSize: 50, searchOptions })
    .then((r) => r.messages.map((m) => m.id));
  assert.deepEqual(await page({ from: 'bob', msgTypes: ['txt'] }), [ids[1]]);
  assert.deepEqual(await page({ msgTypes: ['custom'] }), [ids[2]]);
  assert.deepEqual(await page({ startTime: day + 1000, endTime: day + 2000 }), [ids[2], ids[1]]);
  const custom = (await alice.conn.getHistoryMessages({ targetId: 'g3', chatType: 'groupChat', pageSize: 1, searchOptions: { msgTypes: ['custom'] } })).messages[0];
  assert.deepEqual([custom.type, custom.customEvent, custom.customExts], ['custom', 'poll', { q: 'where' }]);
  await assert.rejects(carol.conn.getHistoryMessages({ targetId: 'g3', chatType: 'groupChat', pageSize: 10 }));
});

test(tagged('history: a recalled message leaves it; an edited one comes back edited, with its reactions', 'history', 'edit', 'reactions'), GUARD, async (t) => {
  if (missing(alice, 'getHistoryMessages', 'modifyMessage', 'addReaction')) return t.skip(`${SDK.version} lacks ${missing(alice, 'getHistoryMessages', 'modifyMessage', 'addReaction')}`);
  const kept = await text(alice, 'carol', 'keep me');
  const gone = await text(alice, 'carol', 'recall me');
  await alice.recall({ mid: gone.serverMsgId, to: 'carol' });
  await alice.conn.modifyMessage({ messageId: kept.serverMsgId, modifiedMessage: alice.WebIM.message.create({ type: 'txt', chatType: 'singleChat', to: 'carol', msg: 'kept, edited' }) });
  await carol.conn.addReaction({ messageId: kept.serverMsgId, reaction: '👍' });
  const history = await carol.conn.getHistoryMessages({ targetId: 'alice', chatType: 'singleChat', pageSize: 50 });
  assert.equal(history.messages.filter((m) => m.id === gone.serverMsgId).length, 0);
  const edited = history.messages.find((m) => m.id === kept.serverMsgId);
  assert.equal(edited.msg, 'kept, edited');
  assert.deepEqual([edited.modifiedInfo.operatorId, edited.modifiedInfo.operationCount], ['alice', 1]);
  assert.deepEqual(edited.reactions.map((r) => [r.reaction, r.count, r.isAddedBySelf, r.userList]), [['👍', 1, true, ['carol']]]);
  // alice sees the same reaction as someone else's.
  const mine = await alice.conn.getHistoryMessages({ targetId: 'carol', chatType: 'singleChat', pageSize: 5 });
  assert.equal(mine.messages.find((m) => m.id === kept.serverMsgId).reactions[0].isAddedBySelf, false);
});

// ---- edits --------------------------------------------------------------------------------------------------

test(tagged('edit: modifyMessage reaches the other side and my other device as onModifiedMessage', 'edit', 'single'), GUARD, async (t) => {
  if (missing(alice, 'modifyMessage')) return t.skip(`${SDK.version} has no modifyMessage`);
  const boxes = { bob: inbox(bob), pad: inbox(alice2), phone: inbox(alice) };
  const sent = await text(alice, 'bob', 'see you at 8');
  const edit = (msg) => alice.conn.modifyMessage({
    messageId: sent.serverMsgId,
    modifiedMessage: alice.WebIM.message.create({ type: 'txt', chatType: 'singleChat', to: 'bob', msg }),
  });
  const result = await edit('see you at 9');
  // (4.7.0 puts modifiedInfo only on the message it resolves with.)
  const info = result.modifiedInfo || result.message.modifiedInfo;
  assert.deepEqual([info.operatorId, info.operationCount, result.message.msg], ['alice', 1, 'see you at 9']);
  for (const who of ['bob', 'pad']) {
    const m = await boxes[who].next('onModifiedMessage', (x) => x.id === sent.serverMsgId);
    assert.deepEqual([m.msg, m.from, m.to, m.modifiedInfo.operatorId, m.modifiedInfo.operationCount], ['see you at 9', 'alice', 'bob', 'alice', 1], who);
    assert.equal(m.chatType, 'singleChat', who);
  }
  await edit('see you at 10');
  const second = await boxes.bob.next('onModifiedMessage', (x) => x.id === sent.serverMsgId && x.modifiedInfo.operationCount === 2);
  assert.equal(second.msg, 'see you at 10');
  // The device that edited hears it from its own promise, not as an event.
  const marker = await text(bob, 'alice', 'marker after the edits');
  await boxes.phone.next('onTextMessage', (m) => m.id === marker.serverMsgId);
  assert.equal(boxes.phone.of('onModifiedMessage').length, 0);
  await assert.rejects(bob.conn.modifyMessage({ messageId: sent.serverMsgId, modifiedMessage: bob.WebIM.message.create({ type: 'txt', chatType: 'singleChat', to: 'alice', msg: 'not mine' }) }));
  for (const b of Object.values(boxes)) b.stop();
  assert.deepEqual(server.log.filter((e) => e.bodyType === 'EDIT' && e.ackMessageId === sent.serverMsgId).map((e) => e.status), ['ok', 'ok', 'rejected']);
});

test(tagged('edit: in a group an admin may edit a member\'s message, a member may not edit another\'s; ten edits at most', 'edit', 'group'), GUARD, async (t) => {
  if (missing(alice, 'modifyMessage')) return t.skip(`${SDK.version} has no modifyMessage`);
  const carolInbox = inbox(carol);
  const edit = (client, messageId, msg) => client.conn.modifyMessage({
    messageId,
    modifiedMessage: client.WebIM.message.create({ type: 'txt', chatType: 'groupChat', to: 'g1', msg }),
  });
  const sent = await text(carol, 'g1', 'meet at the north gate', 'groupChat');
  await edit(bob, sent.serverMsgId, 'meet at the south gate'); // bob is an admin of g1
  const seen = await carolInbox.next('onModifiedMessage', (m) => m.id === sent.serverMsgId);
  assert.deepEqual([seen.msg, seen.from, seen.modifiedInfo.operatorId, seen.chatType], ['meet at the south gate', 'carol', 'bob', 'groupChat']);
  carolInbox.stop();
  const owners = await text(alice, 'g1', 'the owner speaks', 'groupChat');
  await assert.rejects(edit(carol, owners.serverMsgId, 'carol is a plain member'), (err) => /permission/i.test(String(err.message || err.reason)));
  // alice owns g1, so she may edit carol's message too. Ten edits in all, then the server refuses.
  for (let i = 2; i <= 10; i++) await edit(i % 2 ? carol : alice, sent.serverMsgId, `edit ${i}`);
  await assert.rejects(edit(carol, sent.serverMsgId, 'edit 11'), (err) => /limit/i.test(String(err.message || err.reason)));
});

// ---- reactions ----------------------------------------------------------------------------------------------

test(tagged('reactions: add, list, detail, delete; onReactionChange reaches the other side and both my devices', 'reactions', 'single'), GUARD, async (t) => {
  if (missing(alice, 'addReaction')) return t.skip(`${SDK.version} has no addReaction`);
  const boxes = { bob: inbox(bob), pad: inbox(alice2), phone: inbox(alice) };
  const sent = await text(bob, 'alice', 'pizza tonight?');
  await alice.conn.addReaction({ messageId: sent.serverMsgId, reaction: '👍' });
  for (const who of ['bob', 'pad', 'phone']) {
    const change = await boxes[who].next('onReactionChange', (c) => c.messageId === sent.serverMsgId);
    assert.deepEqual([change.from, change.to, change.chatType], ['alice', 'bob', 'singleChat'], who);
    assert.deepEqual(change.reactions.map((r) => [r.reaction, r.count, r.userList, r.isAddedBySelf, r.op]),
      [['👍', 1, ['alice'], who !== 'bob', [{ operator: 'alice', reactionType: 'create' }]]], who);
  }
  await bob.conn.addReaction({ messageId: sent.serverMsgId, reaction: '👍' });
  await bob.conn.addReaction({ messageId: sent.serverMsgId, reaction: '🍕' });
  await assert.rejects(bob.conn.addReaction({ messageId: sent.serverMsgId, reaction: '🍕' }), refused(1101, 'the user is already operation this message'));

  const listCall = alice.conn.getReactionlist || alice.conn.getReactionList;
  const list = await listCall.call(alice.conn, { chatType: 'singleChat', messageId: sent.serverMsgId });
  assert.deepEqual(list.data.map((l) => [l.msgId, l.reactionList.map((r) => [r.reaction, r.count, r.isAddedBySelf, r.userList])]),
    [[sent.serverMsgId, [['👍', 2, true, ['alice', 'bob']], ['🍕', 1, false, ['bob']]]]]);
  const detail = await alice.conn.getReactionDetail({ messageId: sent.serverMsgId, reaction: '👍', pageSize: 1 });
  assert.deepEqual([detail.data.count, detail.data.isAddedBySelf, detail.data.userList], [2, true, ['alice']]);
  const rest = await alice.conn.getReactionDetail({ messageId: sent.serverMsgId, reaction: '👍', pageSize: 1, cursor: detail.data.cursor });
  assert.deepEqual(rest.data.userList, ['bob']);

  await alice.conn.deleteReaction({ messageId: sent.serverMsgId, reaction: '👍' });
  const removed = await boxes.pad.next('onReactionChange', (c) => c.reactions.some((r) => r.op && r.op[0].reactionType === 'delete'));
  assert.deepEqual(removed.reactions.map((r) => [r.reaction, r.count, r.isAddedBySelf]), [['👍', 1, false], ['🍕', 1, false]]);
  await assert.rejects(alice.conn.deleteReaction({ messageId: sent.serverMsgId, reaction: '🍕' }), refused(1103, 'the user operation is illegal!'));
  for (const b of Object.values(boxes)) b.stop();
});

test(tagged('reactions: in a group every member hears of them; a chat-room message takes none', 'reactions', 'group'), GUARD, async (t) => {
  if (missing(alice, 'addReaction')) return t.skip(`${SDK.version} has no addReaction`);
  const boxes = { alice: inbox(alice), bob: inbox(bob) };
  const sent = await text(alice, 'g1', 'photos from Saturday', 'groupChat');
  await carol.conn.addReaction({ messageId: sent.serverMsgId, reaction: '❤️' });
  for (const who of ['alice', 'bob']) {
    const change = await boxes[who].next('onReactionChange', (c) => c.messageId === sent.serverMsgId);
    assert.deepEqual([change.from, change.to, change.chatType, change.reactions[0].reaction, change.reactions[0].count], ['carol', 'g1', 'groupChat', '❤️', 1], who);
  }
  const listCall = bob.conn.getReactionlist || bob.conn.getReactionList;
  const list = await listCall.call(bob.conn, { chatType: 'groupChat', messageId: sent.serverMsgId, groupId: 'g1' });
  assert.equal(list.data[0].reactionList[0].count, 1);
  const inRoom = await text(alice, 'r1', 'room message', 'chatRoom');
  await assert.rejects(bob.conn.addReaction({ messageId: inRoom.serverMsgId, reaction: '👍' }));
  for (const b of Object.values(boxes)) b.stop();
});

// ---- groups, contacts, user attributes ----------------------------------------------------------------------

test(tagged('groups: joined groups, group info (name, description, avatar), members for an @ picker, modifyGroup', 'groups', 'group'), GUARD, async (t) => {
  if (missing(alice, 'getGroupInfo')) return t.skip(`${SDK.version} has no getGroupInfo`);
  const info = await alice.conn.getGroupInfo({ groupId: 'g1' });
  const g1 = info.data[0];
  assert.deepEqual([g1.id, g1.name, g1.description, g1.avatar, g1.owner, g1.affiliations_count], ['g1', '周末爬山', '每周六早上八点', 'https://example.invalid/g1.png', 'alice', 3]);
  assert.deepEqual(g1.affiliations.map((a) => a.owner || a.member), ['alice', 'bob', 'carol']);

  if (typeof alice.conn.getJoinedGroups === 'function') {
    const joined = await carol.conn.getJoinedGroups({ pageNum: 1, pageSize: 20 });
    assert.deepEqual(joined.data.map((g) => [g.groupid, g.groupname]), [['g1', '周末爬山'], ['g2', 'g2']]);
  }
  if (typeof alice.conn.getJoinedGroups === 'function' && !SDK.quirks.plainJoinedGroups) {
    const detailed = await carol.conn.getJoinedGroups({ pageNum: 1, pageSize: 20, needAffiliations: true, needRole: true });
    assert.deepEqual(detailed.entities.map((g) => [g.groupId, g.groupName, g.role, g.affiliationsCount]), [['g1', '周末爬山', 'member', 3], ['g2', 'g2', 'member', 2]]);
  }
  if (typeof alice.conn.listGroupMembers === 'function') {
    const page1 = await bob.conn.listGroupMembers({ groupId: 'g1', pageNum: 1, pageSize: 2 });
    const page2 = await bob.conn.listGroupMembers({ groupId: 'g1', pageNum: 2, pageSize: 2 });
    assert.deepEqual([...page1.data, ...page2.data], [{ owner: 'alice' }, { member: 'bob' }, { member: 'carol' }]);
  }
  if (typeof alice.conn.getGroupMembers === 'function') {
    const first = await bob.conn.getGroupMembers({ groupId: 'g1', limit: 2 });
    const next = await bob.conn.getGroupMembers({ groupId: 'g1', limit: 2, cursor: first.data.cursor });
    assert.deepEqual([...first.data.members, ...next.data.members].map((m) => [m.userId, m.role]), [['alice', 'owner'], ['bob', 'admin'], ['carol', 'member']]);
  }
  if (typeof alice.conn.modifyGroup === 'function') {
    await alice.conn.modifyGroup({ groupId: 'g1', groupName: '周日爬山', description: '改到周日' });
    const after = await carol.conn.getGroupInfo({ groupId: 'g1' });
    assert.deepEqual([after.data[0].name, after.data[0].description], ['周日爬山', '改到周日']);
    await assert.rejects(carol.conn.modifyGroup({ groupId: 'g1', groupName: 'not allowed' }));
    await alice.conn.modifyGroup({ groupId: 'g1', groupName: '周末爬山', description: '每周六早上八点' });
  }
  await assert.rejects(alice.conn.getGroupInfo({ groupId: 'g2' }));
});

test(tagged('contacts and user attributes: getContacts, fetchUserInfoById, updateUserInfo seen by others', 'users'), GUARD, async (t) => {
  if (missing(alice, 'fetchUserInfoById')) return t.skip(`${SDK.version} has no fetchUserInfoById`);
  const got = await alice.conn.fetchUserInfoById(['bob', 'carol']);
  assert.deepEqual(got.data, { bob: { nickname: 'Bob', avatarurl: 'https://example.invalid/bob.png' }, carol: {} });
  const update = alice.conn.updateUserInfo ? alice.conn.updateUserInfo.bind(alice.conn) : alice.conn.updateOwnUserInfo.bind(alice.conn);
  const updated = await update({ nickname: '爱丽丝 🌸', avatarurl: 'https://example.invalid/alice.png' });
  assert.deepEqual(updated.data, { nickname: '爱丽丝 🌸', avatarurl: 'https://example.invalid/alice.png' });
  await update('sign', 'on the trail');
  const seen = await bob.conn.fetchUserInfoById('alice', ['nickname', 'avatarurl', 'sign']);
  assert.deepEqual(seen.data.alice, { nickname: '爱丽丝 🌸', avatarurl: 'https://example.invalid/alice.png', sign: 'on the trail' });

  const contacts = typeof alice.conn.getContacts === 'function' ? await alice.conn.getContacts() : await alice.conn.getRoster();
  const names = Array.isArray(contacts) ? contacts.map((c) => c.name) : contacts.data;
  assert.deepEqual(names, ['bob', 'carol']);
  if (typeof alice.conn.getAllContacts === 'function') {
    const all = await alice.conn.getAllContacts();
    assert.deepEqual(all.data, [{ userId: 'bob', remark: '' }, { userId: 'carol', remark: '' }]);
  }
  if (typeof alice.conn.getContactsWithCursor === 'function') {
    const first = await alice.conn.getContactsWithCursor({ pageSize: 1 });
    const second = await alice.conn.getContactsWithCursor({ pageSize: 1, cursor: first.data.cursor });
    assert.deepEqual([...first.data.contacts, ...second.data.contacts].map((c) => c.userId), ['bob', 'carol']);
    assert.equal(second.data.cursor, '');
  }
});

// ---- chat files ---------------------------------------------------------------------------------------------

test(tagged('files: image, voice, video and file uploaded with wx.uploadFile, received with working URLs by the other side and my other device', 'files'), GUARD, async (t) => {
  if (SDK.build !== 'miniProgram') return t.skip(`${SDK.version}'s web build uploads through XMLHttpRequest and FormData; the files path driven is the mini-program's`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpchat-files-test-'));
  const boxes = { bob: inbox(bob), pad: inbox(alice2) };
  try {
    const token = alice.conn.context.accessToken || alice.conn.token;
    const chatfiles = `${alice.conn.apiUrl}/${server.appKey.replace('#', '/')}/chatfiles`;
    const upload = async (name, bytes) => {
      const filePath = path.join(dir, name);
      fs.writeFileSync(filePath, bytes);
      let progress = 0;
      const done = new Promise((resolve, reject) => {
        const task = alice.wx.uploadFile({ url: chatfiles, filePath, name: 'file', header: { Authorization: `Bearer ${token}` }, success: resolve, fail: reject });
        task.onProgressUpdate((p) => { progress = p.progress; });
      });
      const res = await done;
      assert.equal(res.statusCode, 200, name);
      assert.equal(progress, 100, name);
      const answer = JSON.parse(res.data);
      return { url: `${answer.uri}/${answer.entities[0].uuid}`, secret: answer.entities[0]['share-secret'], bytes };
    };
    const image = await upload('trail.png', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    const voice = await upload('hello.mp3', Buffer.from('ID3 a voice message'));
    const video = await upload('summit.mp4', Buffer.from('....ftypisom a video'));
    const file = await upload('route.pdf', Buffer.from('%PDF-1.4 the route'));
    const sends = [
      ['onImageMessage', image, { type: 'img', url: image.url, width: 640, height: 480, file_length: image.bytes.length }],
      ['onAudioMessage', voice, { type: 'audio', filename: 'hello.mp3', length: 3, body: { type: 'audio', url: voice.url, secret: voice.secret, filename: 'hello.mp3', length: 3, file_length: voice.bytes.length } }],
      ['onVideoMessage', video, { type: 'video', filename: 'summit.mp4', length: 12, body: { type: 'video', url: video.url, secret: video.secret, filename: 'summit.mp4', length: 12, file_length: video.bytes.length } }],
      ['onFileMessage', file, { type: 'file', filename: 'route.pdf', body: { type: 'file', url: file.url, secret: file.secret, filename: 'route.pdf', file_length: file.bytes.length } }],
    ];
    for (const [event, uploaded, options] of sends) {
      const sent = await alice.send({ chatType: 'singleChat', to: 'bob', ...options });
      for (const [who, box] of [['bob', boxes.bob], ['pad', boxes.pad]]) {
        const client = who === 'bob' ? bob : alice2;
        const got = await box.next(event, (m) => m.id === sent.serverMsgId);
        assert.ok(got.url.startsWith(uploaded.url), `${event} ${who}: ${got.url}`);
        const download = await wxCall(client.wx.downloadFile, { url: got.url });
        assert.equal(download.statusCode, 200);
        assert.deepEqual(fs.readFileSync(download.tempFilePath), uploaded.bytes, `${event} ${who}`);
        if (event === 'onImageMessage') {
          assert.deepEqual([got.width, got.height, got.file_length], [640, 480, uploaded.bytes.length]);
          const thumb = await wxCall(client.wx.downloadFile, { url: got.thumb });
          assert.equal(thumb.statusCode, 200);
        }
        if (event === 'onAudioMessage') assert.equal(got.length, 3);
        if (event === 'onVideoMessage' && !SDK.quirks.noVideoThumb) {
          const frame = await wxCall(client.wx.downloadFile, { url: got.thumb });
          assert.deepEqual([frame.statusCode, fs.readFileSync(frame.tempFilePath).subarray(1, 4).toString()], [200, 'PNG']);
        }
        if (event === 'onFileMessage') assert.equal(got.filename, 'route.pdf');
      }
    }
    // The URLs are real: plain HTTP on 127.0.0.1 gets the bytes with their type.
    const direct = await httpRequest(`${image.url}?em-redirect=true`);
    assert.deepEqual([direct.status, direct.headers['content-type'], direct.body], [200, 'image/png', image.bytes]);
    assert.match(image.url, /^http:\/\/127\.0\.0\.1:\d+\/mpchat\/loopback\/chatfiles\/[0-9a-f-]{36}$/);
    // Uploading needs a token.
    const anonymous = await wxCall(alice.wx.uploadFile, { url: chatfiles, filePath: path.join(dir, 'route.pdf'), name: 'file' });
    assert.equal(anonymous.statusCode, 401);
  } finally {
    for (const b of Object.values(boxes)) b.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('files: uploads live in a temporary folder of the server\'s, removed when it closes; access restriction and upload faults on demand', GUARD, async () => {
  const own = await startServer({ port: 0, restrictFiles: true });
  const token = 'loopback-token-alice';
  own.tokens.set(token, 'alice'); // (as a login with that token would)
  const boundary = 'loopbackTestBoundary';
  const upload = () => httpRequest(`http://127.0.0.1:${own.port}/mpchat/loopback/chatfiles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n`),
      Buffer.from('hello files'),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
  });
  own.failNextUpload({ statusCode: 503 });
  assert.equal((await upload()).status, 503);
  const res = await upload();
  assert.equal(res.status, 200);
  const { uri, entities } = JSON.parse(res.body);
  const url = `${uri}/${entities[0].uuid}`;
  assert.equal((await httpRequest(url)).status, 403);
  assert.equal((await httpRequest(`${url}?share-secret=${entities[0]['share-secret']}`)).body.toString(), 'hello files');
  assert.equal((await httpRequest(url, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  const folder = own.files.dir;
  assert.ok(folder.startsWith(os.tmpdir()) && fs.existsSync(folder));
  await own.close();
  assert.equal(fs.existsSync(folder), false);
});

// ---- typing -------------------------------------------------------------------------------------------------

test(tagged('typing: a TypingBegin cmd sent online-only reaches the peer and my other device, and never an offline user or history', 'typing'), GUARD, async () => {
  const boxes = { bob: inbox(bob), pad: inbox(alice2) };
  const typing = (to) => alice.send({ type: 'cmd', chatType: 'singleChat', to, action: 'TypingBegin', deliverOnlineOnly: true });
  const sent = await typing('bob');
  for (const who of ['bob', 'pad']) {
    const cmd = await boxes[who].next('onCmdMessage', (m) => m.id === sent.serverMsgId);
    assert.deepEqual([cmd.action, cmd.from, cmd.to], ['TypingBegin', 'alice', 'bob'], who);
  }
  for (const b of Object.values(boxes)) b.stop();

  // dave is offline: the notice is not kept for him (releases without deliverOnlineOnly send an ordinary cmd).
  const toDave = await typing('dave');
  const after = await text(alice, 'dave', 'a real message');
  const dave = await connectClient(server, { user: 'dave' });
  try {
    const daveInbox = inbox(dave);
    await daveInbox.next('onTextMessage', (m) => m.id === after.serverMsgId);
    assert.equal(daveInbox.of('onCmdMessage').filter((m) => m.id === toDave.serverMsgId).length, SDK.quirks.noOnlineOnly ? 1 : 0);
    daveInbox.stop();
  } finally {
    await dave.close();
  }
  if (!SDK.quirks.noOnlineOnly) {
    assert.equal(server.log.find((e) => e.serverMsgId === sent.serverMsgId).onlineOnly, true);
    const history = await pageBack(bob, 'alice', 'singleChat', 50);
    assert.equal(history.messages.filter((m) => m.id === sent.serverMsgId).length, 0);
  }
});

// ---- the REST API's own rules -------------------------------------------------------------------------------

test('REST: a call without a login token is refused, and so is acting as someone else', GUARD, async () => {
  const base = `http://127.0.0.1:${server.port}/mpchat/loopback`;
  const roaming = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ queue: 'bob@easemob.com', start: -1, pull_number: 5 }) };
  const anonymous = await httpRequest(`${base}/users/alice/messageroaming`, roaming);
  assert.equal(anonymous.status, 401);
  assert.equal(JSON.parse(anonymous.body).error_description, 'Unable to authenticate (OAuth)');
  const bobsToken = [...server.tokens].find(([, user]) => user === 'bob')[0];
  const asBob = await httpRequest(`${base}/users/alice/messageroaming`, { ...roaming, headers: { ...roaming.headers, authorization: `Bearer ${bobsToken}` } });
  assert.equal(asBob.status, 403);
  const unknown = await httpRequest(`${base}/no/such/path`, { headers: { authorization: `Bearer ${bobsToken}` } });
  assert.equal(unknown.status, 404);
});
