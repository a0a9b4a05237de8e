'use strict';
// End-to-end: mpchat's chats attached to real easemob-websdk clients of the release under test (EASEMOB_SDK,
// the newest by default; one module instance per device) logged in to the loopback server. alice has two
// devices (her pad runs mpchat loaded the way a phone loads it, with wx as its storage); bob receives through
// the legacy listen() style, the others through addEventHandler (3.x has only listen()). What is asserted is
// what a page would show: the records in history, their statuses, the conversation list and unread counts,
// over a good network and a bad one.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const { startServer } = require(path.join(root, 'loopback', 'server.js'));
const { connectClient } = require(path.join(root, 'loopback', 'client.js'));
const mpchat = require(path.join(root, 'dist', 'mpchat', 'index.js'));
const { createWxStorage } = require('./support/wx-storage.js');
const { loadLikePhone } = require('./support/phone.js');
const { SDK, tagged } = require('./support/sdk.js');
// Values from the phone realm have another realm's prototypes: records are compared as plain data.
const { plain, arrival, nextMillisecond, sendSettled: send } = require('./support/records.js');

console.log(`easemob-websdk under test: ${SDK.version} (${SDK.build} build)`);

// A guard so a missing delivery fails the test instead of hanging the run; no assertion depends on time.
const GUARD = { timeout: 20000 };

const PROFILES = {
  alice: { nickname: 'Alice 🌸', avatar: 'https://img.example/alice.png' },
  bob: { nickname: 'Bob', avatar: 'https://img.example/bob.png' },
  carol: { nickname: 'Carol', avatar: 'https://img.example/carol.png' },
};


let server;
/** name -> { client, chat, detach, name, user, style } */
const devices = {};
/** user -> the wx storage of their node-loaded chat */
const storages = {};

/** A device: an SDK client with an mpchat chat attached before login. */
async function connectDevice(name, { user, device, chat, style }, on = server) {
  let detach;
  const client = await connectClient(on, {
    user,
    device,
    beforeOpen: (conn) => { detach = chat.attach(conn, style ? { style } : {}); },
  });
  return { name, user, client, chat, detach, style: style || 'handler' };
}

/** Every stored record of a conversation, oldest first, read page by page. */
function wholeHistory(chat, conversation, limit = 100) {
  const pages = [];
  let before;
  for (;;) {
    const page = plain(chat.history(conversation, { before, limit }));
    if (page.length === 0) break;
    pages.unshift(page);
    before = page[0].id;
  }
  return pages.flat();
}

const count = (chat, conversation, id) => wholeHistory(chat, conversation).filter((r) => r.id === id).length;

test.before(async () => {
  server = await startServer({
    port: 0, // web-only releases reach the server through its listener
    users: ['alice', 'bob', 'carol', 'dave'],
    groups: { g1: ['alice', 'bob', 'carol'] },
    chatRooms: { r1: ['alice', 'bob', 'carol'] },
  });
  const chatOf = (user) => mpchat.createChat({ user, storage: (storages[user] = createWxStorage()), profile: PROFILES[user] });
  devices.alice = await connectDevice('alice', { user: 'alice', device: 'phone', chat: await chatOf('alice') });
  // alice's pad: mpchat as a phone loads it (WXWebAssembly, no WebAssembly global), wx storage by default.
  const phone = loadLikePhone({ globals: { wx: createWxStorage() } });
  const padChat = await phone.mpchat.createChat({ user: 'alice', profile: PROFILES.alice });
  devices.pad = await connectDevice('pad', { user: 'alice', device: 'pad', chat: padChat });
  devices.pad.instantiateCalls = phone.instantiateCalls;
  devices.bob = await connectDevice('bob', { user: 'bob', chat: await chatOf('bob'), style: 'listen' });
  devices.carol = await connectDevice('carol', { user: 'carol', chat: await chatOf('carol') });
});

test.after(async () => {
  for (const d of Object.values(devices)) {
    d.detach();
    await d.client.close();
  }
  await server.close();
});

test('alice\'s pad runs mpchat loaded like a phone, from the .wasm.br package path', () => {
  assert.deepEqual(devices.pad.instantiateCalls, ['/mpchat/mpchat_bg.wasm.br']);
  assert.equal(server.connectionsOf('alice').length, 2);
});

// (send input less `to`/`chatType`, record type, text, body on the sending side)
const EVERY_TYPE = [
  [{ type: 'txt', msg: 'plain words' }, 'txt', 'plain words', undefined],
  [{ type: 'img', url: 'https://files.example/pic/p1.png', width: 640, height: 480, file_length: 2048 }, 'img', undefined,
    { url: 'https://files.example/pic/p1.png', width: 640, height: 480, file_length: 2048 }],
  [{ type: 'audio', url: 'https://files.example/voice/v1.amr', filename: 'v1.amr', length: 3, file_length: 999 }, 'audio', undefined,
    { url: 'https://files.example/voice/v1.amr', filename: 'v1.amr', length: 3, file_length: 999 }],
  [{ type: 'video', url: 'https://files.example/clip/c1.mp4', filename: 'c1.mp4', length: 12, file_length: 5000 }, 'video', undefined,
    { url: 'https://files.example/clip/c1.mp4', filename: 'c1.mp4', length: 12, file_length: 5000 }],
  [{ type: 'file', url: 'https://files.example/doc/d1.pdf', filename: 'd1.pdf', file_length: 7777 }, 'file', undefined,
    { url: 'https://files.example/doc/d1.pdf', filename: 'd1.pdf', file_length: 7777 }],
  [{ type: 'loc', addr: '北京市朝阳区', buildingName: '国贸', lat: 39.9087, lng: 116.3975 }, 'loc', undefined,
    { addr: '北京市朝阳区', buildingName: '国贸', lat: 39.9087, lng: 116.3975 }],
  [{ type: 'cmd', action: 'typing' }, 'cmd', undefined, { action: 'typing' }],
  [{ type: 'custom', customEvent: 'gift', customExts: { giftId: '7', count: '2' } }, 'custom', undefined,
    { customEvent: 'gift', customExts: { giftId: '7', count: '2' } }],
];

// 3.x and 4.0.x senders put no video thumbnail path on the wire (later ones send `<url>?vframe=true`).
const SENDS_VIDEO_THUMB = !SDK.legacy && SDK.version !== '4.0.8' && !SDK.quirks.noVideoThumb;

/**
 * The body a receiver stores. The SDK rewrites every attachment URL on receive: the host becomes the
 * receiver's own apiUrl and `?em-redirect=true` is appended; it derives a thumb for images (`&thumbnail=true`)
 * and, for addEventHandler only, videos (the sender's SDK sends `<url>?vframe=true`).
 */
function receivedBody(type, body, style) {
  // 3.x has no building name on the wire: its receivers get the address alone.
  if (type === 'loc' && SDK.legacy) {
    const { buildingName, ...rest } = body; // eslint-disable-line no-unused-vars
    return rest;
  }
  if (!body || !body.url) return body;
  const own = `http://127.0.0.1:${server.port}${new URL(body.url).pathname}`;
  const out = { ...body, url: `${own}?em-redirect=true` };
  // 3.x's listen() gives a thumb only from the thumbnail path on the wire, which 3.x senders never fill.
  if (type === 'img' && !SDK.legacy) out.thumb = `${own}?em-redirect=true&thumbnail=true`;
  if (type === 'video' && style === 'handler' && SENDS_VIDEO_THUMB) out.thumb = `${own}?vframe=true`;
  // 4.0.x's addEventHandler reads no file_length for a received image (its listen() does).
  if (type === 'img' && style === 'handler' && SDK.quirks.dropsFileLength) delete out.file_length;
  return out;
}

/**
 * The expected fields, exactly; anything else must be an SDK filler value (the legacy picture message
 * carries `filename: ''`, every file message `length: 0`).
 */
function assertBody(actual, expected, where) {
  if (expected === undefined) {
    assert.equal(actual, undefined, where);
    return;
  }
  const extra = Object.keys(actual).filter((k) => !(k in expected));
  assert.deepEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, actual[k]])), expected, where);
  assert.deepEqual(extra.filter((k) => actual[k] !== '' && actual[k] !== 0), [], `${where}: only empty extras`);
}

// (conversation kind, chatType as sent, to, wire body type, receivers: [device, their conversation name])
const KINDS = [
  ['single', 'singleChat', 'bob', 'CHAT', [['bob', 'single:alice'], ['pad', 'single:bob']]],
  ['single', 'singleChat', 'carol', 'CHAT', [['carol', 'single:alice'], ['pad', 'single:carol']]],
  ['group', 'groupChat', 'g1', 'GROUPCHAT', [['bob', 'group:g1'], ['carol', 'group:g1'], ['pad', 'group:g1']]],
  ['chatroom', 'chatRoom', 'r1', 'CHATROOM', [['bob', 'chatroom:r1'], ['carol', 'chatroom:r1'], ['pad', 'chatroom:r1']]],
];

// The listener styles the receivers use: bob listen(), the others addEventHandler where the release has it.
const STYLES = SDK.legacy ? ['listen'] : ['handler', 'listen'];
// 3.x's send() gives nothing back: mpchat settles it through the message's success/fail callbacks (and
// onReceivedMessage). 4.0.x's message.create keeps no file_length: the sender's record keeps the input's.
for (const [kind, chatType, to, bodyType, receivers] of KINDS) {
  test(tagged(`${kind} to ${to}: every message type sent with chat.send arrives in each receiver's history`, kind, ...STYLES),
    GUARD, async () => {
    const alice = devices.alice;
    const ownConversation = `${kind}:${to}`;
    for (const [input, type, text, body] of EVERY_TYPE) {
      const seen = [];
      const off = alice.chat.subscribe(ownConversation, (record, info) => seen.push([record.status, record.id, info.previousId]));
      const sent = await send(alice, { ...input, chatType, to });
      off();
      const what = `${kind} ${type}`;

      // The wire: one message, with the body type of its conversation kind and alice's profile in ext.
      const logged = server.log.filter((e) => e.serverMsgId === sent.id);
      assert.equal(logged.length, 1, what);
      assert.deepEqual([logged[0].bodyType, logged[0].from, logged[0].to, logged[0].status], [bodyType, 'alice', to, 'ok'], what);
      assert.deepEqual(
        [logged[0].ext.userNickname, logged[0].ext.userAvatar, logged[0].ext.ease_chat_uikit_user_info],
        [PROFILES.alice.nickname, PROFILES.alice.avatar, { nickname: PROFILES.alice.nickname, avatarURL: PROFILES.alice.avatar }],
        what,
      );

      // The sender: send() resolved with the record re-keyed to the server id; it was 'sending' under the
      // local id first, and history holds it once.
      const localId = logged[0].localMsgId;
      assert.notEqual(localId, sent.id, what);
      assert.deepEqual(seen, [['sending', localId, undefined], ['sent', sent.id, localId]], what);
      assert.deepEqual([sent.conversation, sent.kind, sent.type, sent.direction, sent.status], [ownConversation, kind, type, 'out', 'sent'], what);
      assert.equal(sent.text, text, what);
      assert.deepEqual(sent.body, body, what);
      const own = wholeHistory(alice.chat, ownConversation);
      assert.equal(own.filter((r) => r.id === sent.id).length, 1, what);
      assert.equal(own.filter((r) => r.id === localId).length, 0, what);

      for (const [name, conversation] of receivers) {
        const receiver = devices[name];
        const got = await arrival(receiver.chat, conversation, sent.id);
        const where = `${what} at ${name} (${receiver.style})`;
        const mine = name === 'pad';
        assert.deepEqual(
          [got.conversation, got.kind, got.type, got.from, got.to, got.direction, got.status],
          [conversation, kind, type, 'alice', to, mine ? 'out' : 'in', mine ? 'sent' : 'received'],
          where,
        );
        assert.equal(got.text, text, where);
        assertBody(got.body, receivedBody(type, body, receiver.style), where);
        assert.deepEqual(got.sender, { id: 'alice', ...PROFILES.alice }, where);
        assert.equal(typeof got.time, 'number', where);
        assert.ok(!JSON.stringify(got).includes('loopback-token'), `${where}: no access token is stored`);
        assert.equal(count(receiver.chat, conversation, sent.id), 1, where);
      }
    }
  });
}

test('nickname and avatar in ext, under mpchat\'s keys and under the UIKit\'s, show on the receiving side', GUARD, async () => {
  const bob = devices.bob;
  const carol = devices.carol;
  // (ext of a message carol's other app sends, sender bob's chat shows)
  const cases = [
    [{ userNickname: 'Carol (recipe)', userAvatar: 'https://img.example/c-recipe.png' },
      { id: 'carol', nickname: 'Carol (recipe)', avatar: 'https://img.example/c-recipe.png' }],
    [{ ease_chat_uikit_user_info: { nickname: 'Carol (UIKit)', avatarURL: 'https://img.example/c-uikit.png' } },
      { id: 'carol', nickname: 'Carol (UIKit)', avatar: 'https://img.example/c-uikit.png' }],
    // No profile in ext: the last one seen from carol.
    [{}, { id: 'carol', nickname: 'Carol (UIKit)', avatar: 'https://img.example/c-uikit.png' }],
  ];
  for (const [ext, sender] of cases) {
    for (const [chatType, to, conversation] of [['singleChat', 'bob', 'single:carol'], ['groupChat', 'g1', 'group:g1']]) {
      const [id] = server.pushBacklog('bob', [{ from: 'carol', to, chatType, msg: `profile ${JSON.stringify(ext)}`, ext }]);
      const got = await arrival(bob.chat, conversation, id);
      assert.deepEqual(got.sender, sender, `${JSON.stringify(ext)} in ${conversation}`);
      assert.deepEqual(got.ext, {}, 'the profile keys are read, not kept as ext');
    }
  }
  // Carol's own mpchat chat, through chat.send: the receiving side shows her createChat profile again.
  const sent = await send(carol, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'from carol\'s mpchat' });
  const got = await arrival(bob.chat, 'single:carol', sent.id);
  assert.deepEqual(got.sender, { id: 'carol', ...PROFILES.carol });
});

test('emoji codes and Unicode emoji arrive intact and are parsed into segments', GUARD, async () => {
  const emoji = '👨‍👩‍👧 👍🏽 🇨🇳 😀';
  // (text sent, segments every receiver stores)
  const cases = [
    [`hi [):] there[(D)]${emoji}`, [
      { type: 'txt', data: 'hi ' }, { type: 'emoji', data: 'ee_1.png', code: '[):]' },
      { type: 'txt', data: ' there' }, { type: 'emoji', data: 'ee_35.png', code: '[(D)]' },
      { type: 'txt', data: emoji },
    ]],
    ['[:D][:D]', [{ type: 'emoji', data: 'ee_2.png', code: '[:D]' }, { type: 'emoji', data: 'ee_2.png', code: '[:D]' }]],
    ['eating engine ^big^ [notacode] [:d]\nnext line', [{ type: 'txt', data: 'eating engine ^big^ [notacode] [:d]\nnext line' }]],
    [emoji, [{ type: 'txt', data: emoji }]],
  ];
  for (const [msg, segments] of cases) {
    for (const [sender, chatType, to, receivers] of [
      [devices.alice, 'singleChat', 'bob', [['bob', 'single:alice'], ['pad', 'single:bob']]],
      [devices.bob, 'groupChat', 'g1', [['carol', 'group:g1'], ['alice', 'group:g1'], ['pad', 'group:g1']]],
    ]) {
      const sent = await send(sender, { type: 'txt', chatType, to, msg });
      assert.equal(server.log.find((e) => e.serverMsgId === sent.id).text, msg, 'the wire carries the text as typed');
      assert.equal(sent.status, 'sent');
      assert.deepEqual(sent.segments, segments);
      for (const [name, conversation] of receivers) {
        const got = await arrival(devices[name].chat, conversation, sent.id);
        assert.equal(got.text, msg, `${name}: ${msg}`);
        assert.deepEqual(got.segments, segments, `${name}: ${msg}`);
      }
    }
  }
});

test('@mentions travel as em_at_list and mark the mentioned receiver', GUARD, async () => {
  // (mentions sent, wire em_at_list, mentionsMe at bob, at carol)
  const cases = [
    [['bob'], ['bob'], true, false],
    ['all', 'ALL', true, true],
  ];
  for (const [mentions, wire, bobMentioned, carolMentioned] of cases) {
    const sent = await send(devices.alice, { type: 'txt', chatType: 'groupChat', to: 'g1', msg: '@bob look', mentions });
    assert.deepEqual(server.log.find((e) => e.serverMsgId === sent.id).ext.em_at_list, wire);
    for (const [name, mentioned] of [['bob', bobMentioned], ['carol', carolMentioned]]) {
      const got = await arrival(devices[name].chat, 'group:g1', sent.id);
      assert.deepEqual([got.mentions, Boolean(got.mentionsMe)], [mentions, mentioned], `${JSON.stringify(mentions)} at ${name}`);
    }
  }
});

test('my message from my other device is outgoing and not unread', GUARD, async () => {
  const pad = devices.pad;
  for (const conversation of ['single:bob', 'group:g1', 'chatroom:r1']) pad.chat.markRead(conversation);
  const before = pad.chat.unreadTotal();
  assert.equal(before, 0);
  for (const [chatType, to, conversation] of [['singleChat', 'bob', 'single:bob'], ['groupChat', 'g1', 'group:g1'], ['chatRoom', 'r1', 'chatroom:r1']]) {
    const sent = await send(devices.alice, { type: 'txt', chatType, to, msg: `from my phone to ${to}` });
    const got = await arrival(pad.chat, conversation, sent.id);
    assert.deepEqual([got.direction, got.status, got.from], ['out', 'sent', 'alice'], conversation);
    const summary = plain(pad.chat.conversations()).find((c) => c.conversation === conversation);
    assert.equal(summary.unread, 0, conversation);
    assert.equal(summary.last.id, sent.id, conversation);
  }
  assert.equal(pad.chat.unreadTotal(), 0);
});

test('a message delivered again after a reconnect is stored once (outcome duplicate)', GUARD, async () => {
  const carol = devices.carol;
  const sent = await send(devices.alice, { type: 'txt', chatType: 'singleChat', to: 'carol', msg: 'say it once' });
  await arrival(carol.chat, 'single:alice', sent.id);
  // A reconnect: a fresh SDK instance (it has no memory of seen ids), the same chat and storage.
  carol.detach();
  await carol.client.close();
  Object.assign(carol, await connectDevice('carol', { user: 'carol', chat: carol.chat }));
  const outcomes = [];
  const receive = carol.chat.receive;
  carol.chat.receive = function spy(message) {
    const result = receive.call(this, message);
    outcomes.push([message.id, result.outcome]);
    return result;
  };
  try {
    server.redeliver('carol', sent.id);
    const marker = await send(devices.bob, { type: 'txt', chatType: 'singleChat', to: 'carol', msg: 'after the redelivery' });
    await arrival(carol.chat, 'single:bob', marker.id);
  } finally {
    delete carol.chat.receive;
  }
  assert.deepEqual(outcomes.filter(([id]) => id === sent.id), [[sent.id, 'duplicate']]);
  assert.equal(count(carol.chat, 'single:alice', sent.id), 1);
});

test('an offline backlog of 500 messages, pushed in one batch, is stored whole and in order', GUARD, async () => {
  const backlog = Array.from({ length: 500 }, (_, i) => ({ from: i % 5 === 0 ? 'carol' : 'bob', msg: `backlog ${i} [):]` }));
  const ids = server.pushBacklog('dave', backlog);
  const chat = await mpchat.createChat({ user: 'dave', storage: createWxStorage() });
  const allArrived = Promise.all([
    arrival(chat, 'single:bob', ids[499]),
    arrival(chat, 'single:carol', ids[495]),
  ]);
  const dave = await connectDevice('dave', { user: 'dave', chat });
  try {
    await allArrived;
    for (const peer of ['bob', 'carol']) {
      const expected = backlog.map((b, i) => [ids[i], b.msg, b.from]).filter(([, , from]) => from === peer);
      const stored = wholeHistory(chat, `single:${peer}`, 37);
      assert.deepEqual(stored.map((r) => [r.id, r.text, r.from]), expected, peer);
      assert.ok(stored.every((r, i) => i === 0 || r.time >= stored[i - 1].time), `${peer}: times ascend`);
    }
    assert.deepEqual(
      plain(chat.conversations()).map((c) => [c.conversation, c.unread]),
      [['single:bob', 400], ['single:carol', 100]],
    );
    assert.equal(chat.unreadTotal(), 500);
    chat.markRead('single:bob');
    assert.equal(chat.unreadTotal(), 100);
  } finally {
    dave.detach();
    await dave.client.close();
  }
});

test(tagged('a recall reaches every party and the record reads recalled', 'recall', ...STYLES), GUARD, async () => {
  for (const [chatType, to, parties] of [
    ['singleChat', 'bob', [['bob', 'single:alice'], ['pad', 'single:bob'], ['alice', 'single:bob']]],
    ['groupChat', 'g1', [['bob', 'group:g1'], ['carol', 'group:g1'], ['pad', 'group:g1'], ['alice', 'group:g1']]],
  ]) {
    const sent = await send(devices.alice, { type: 'txt', chatType, to, msg: 'I regret this' });
    for (const [name, conversation] of parties) await arrival(devices[name].chat, conversation, sent.id);
    server.recall(sent.id);
    for (const [name, conversation] of parties) {
      const got = await arrival(devices[name].chat, conversation, sent.id, (r) => r.recalled);
      assert.equal(got.recalled, true, `${to} at ${name}`);
      assert.equal(got.text, undefined, `${to} at ${name}: the text is gone`);
      assert.equal(count(devices[name].chat, conversation, sent.id), 1, `${to} at ${name}`);
    }
  }
});

test(tagged('delivery and read acks raise my record\'s status', 'acks', ...STYLES), GUARD, async () => {
  const alice = devices.alice;
  const sent = await send(alice, { type: 'txt', chatType: 'singleChat', to: 'carol', msg: 'did you read it?' });
  server.sendDeliveryAck(sent.id);
  assert.equal((await arrival(alice.chat, 'single:carol', sent.id, (r) => r.status !== 'sent')).status, 'delivered');
  server.sendReadAck(sent.id);
  assert.equal((await arrival(alice.chat, 'single:carol', sent.id, (r) => r.status === 'read')).status, 'read');

  // A read ack sent by carol's own SDK, and one to bob, whose chat listens in the legacy style.
  const second = await send(alice, { type: 'txt', chatType: 'singleChat', to: 'carol', msg: 'and this one?' });
  const carol = devices.carol;
  carol.client.send({ type: 'read', chatType: 'singleChat', to: 'alice', id: second.id });
  assert.equal((await arrival(alice.chat, 'single:carol', second.id, (r) => r.status === 'read')).status, 'read');
  const toBob = await send(devices.bob, { type: 'txt', chatType: 'singleChat', to: 'alice', msg: 'bob asks' });
  server.sendReadAck(toBob.id);
  assert.equal((await arrival(devices.bob.chat, 'single:alice', toBob.id, (r) => r.status === 'read')).status, 'read');
});

// 3.x reports the refusal only through onMutedMessage, with the server id alone: mpchat fails the oldest send
// the server has not answered on that socket, with 4.x's code for it (507).
test(tagged('a send the server rejects (muted sender) resolves with a failed record that stays in history', 'failed'),
  GUARD, async () => {
  const carol = devices.carol;
  for (const [chatType, to, conversation] of [['groupChat', 'g1', 'group:g1'], ['singleChat', 'bob', 'single:bob'], ['chatRoom', 'r1', 'chatroom:r1']]) {
    server.mute('carol', to);
    try {
      const failed = await send(carol, { type: 'txt', chatType, to, msg: `muted in ${to}` });
      assert.deepEqual([failed.status, failed.direction, failed.text], ['failed', 'out', `muted in ${to}`], to);
      assert.equal(failed.error && failed.error.code, 507, to);
      const kept = wholeHistory(carol.chat, conversation).filter((r) => r.id === failed.id);
      assert.deepEqual(kept.map((r) => r.status), ['failed'], to);
      assert.deepEqual(server.log.filter((e) => e.text === `muted in ${to}`).map((e) => e.status), ['rejected'], to);
      // Still there when the app starts again on the same storage.
      const reopened = await mpchat.createChat({ user: 'carol', storage: storages.carol });
      assert.deepEqual(plain(reopened.history(conversation, { limit: 1000 })).filter((r) => r.id === failed.id).map((r) => r.status), ['failed'], to);
    } finally {
      server.unmute('carol', to);
    }
    const ok = await send(carol, { type: 'txt', chatType, to, msg: `free again in ${to}` });
    assert.equal(ok.status, 'sent', to);
    const bobSees = to === 'bob' ? 'single:carol' : conversation;
    await arrival(devices.bob.chat, bobSees, ok.id);
    const texts = wholeHistory(devices.bob.chat, bobSees).map((r) => r.text);
    assert.ok(!texts.includes(`muted in ${to}`), `${to}: the rejected message reached nobody`);
  }
});

test('an open conversation\'s subscriber gets each new record, and the list orders and counts conversations', GUARD, async () => {
  const bob = devices.bob;
  const alice = devices.alice;
  for (const chat of [bob.chat, alice.chat]) {
    for (const c of plain(chat.conversations())) chat.markRead(c.conversation);
    assert.equal(chat.unreadTotal(), 0);
  }

  const onPage = [];
  const off = bob.chat.subscribe('chatroom:r1', (record) => onPage.push(record.id));
  const listenersBefore = bob.chat.listenerCount();
  // (sender, chatType, to, messages): the last conversation to get one is first in the list.
  const script = [
    [devices.carol, 'singleChat', 'bob', 2],
    [devices.alice, 'groupChat', 'g1', 1],
    [devices.alice, 'chatRoom', 'r1', 3],
    [devices.pad, 'singleChat', 'bob', 1],
  ];
  const roomIds = [];
  for (const [sender, chatType, to, n] of script) {
    await nextMillisecond();
    for (let i = 0; i < n; i++) {
      const sent = await send(sender, { type: 'txt', chatType, to, msg: `${to} #${i}` });
      const conversation = { bob: `single:${sender.user}`, g1: 'group:g1', r1: 'chatroom:r1' }[to];
      await arrival(bob.chat, conversation, sent.id);
      if (sender === devices.pad) await arrival(alice.chat, 'single:bob', sent.id);
      if (to === 'r1') roomIds.push(sent.id);
    }
  }
  off();
  assert.deepEqual(onPage, roomIds, 'the open chat-room page got its three records, in order');
  assert.equal(bob.chat.listenerCount(), listenersBefore - 1);

  const list = plain(bob.chat.conversations());
  assert.deepEqual(list.slice(0, 4).map((c) => [c.conversation, c.unread]), [
    ['single:alice', 1], ['chatroom:r1', 3], ['group:g1', 1], ['single:carol', 2],
  ]);
  assert.ok(list.every((c, i) => i === 0 || c.updatedAt <= list[i - 1].updatedAt), 'most recent first');
  assert.equal(bob.chat.unreadTotal(), 7);
  bob.chat.markRead('chatroom:r1');
  assert.equal(bob.chat.unreadTotal(), 4);

  // alice's phone: her own sends, and her pad's, moved her conversations up without making them unread.
  assert.deepEqual(plain(alice.chat.conversations()).slice(0, 3).map((c) => [c.conversation, c.unread]), [
    ['single:bob', 0], ['chatroom:r1', 0], ['group:g1', 0],
  ]);
  assert.equal(alice.chat.unreadTotal(), 0);
});

test(tagged('a send to a user the server does not know ends failed and stays in history', 'failed'), GUARD, async () => {
  const carol = devices.carol;
  const sending = carol.chat.send(carol.client.conn, { type: 'txt', chatType: 'singleChat', to: 'nobody', msg: 'anyone there?' }, { WebIM: carol.client.WebIM });
  const failed = plain(await sending);
  assert.deepEqual([failed.status, failed.conversation], ['failed', 'single:nobody']);
  assert.deepEqual(wholeHistory(carol.chat, 'single:nobody').map((r) => [r.id, r.status]), [[failed.id, 'failed']]);
});

// ---- a bad network -----------------------------------------------------------------------------------------
// Each test gets a server and devices of its own: an SDK carries what a bad network did to it into later tests.

/** Runs `fn({server, alice, bob})` on a fresh server with fresh devices (chats on fresh storage), then closes them. */
async function onFreshNetwork(t, fn, chatOptions = {}) {
  const own = await startServer({ port: 0, users: ['alice', 'bob', 'carol'], groups: { g1: ['alice', 'bob', 'carol'] } });
  const made = {};
  let closing;
  // Also when the test times out, so that no socket keeps the run alive.
  const close = () => closing || (closing = (async () => {
    for (const d of Object.values(made)) {
      d.detach();
      await d.client.close();
    }
    await own.close();
  })());
  t.signal.addEventListener('abort', close);
  try {
    for (const user of ['alice', 'bob']) {
      const chat = await mpchat.createChat({ user, storage: createWxStorage(), profile: PROFILES[user], ...chatOptions });
      made[user] = await connectDevice(user, { user, chat }, own);
    }
    await fn({ server: own, ...made });
  } finally {
    await close();
  }
}

/** chat.send without waiting for it: a send on a bad network may never settle. */
function sendAway(sender, input) {
  const sending = sender.chat.send(sender.client.conn, input, { WebIM: sender.client.WebIM });
  sending.catch(() => {});
  return sending;
}

/** Resolves once `holds()` is true, checked now and at each change to `conversation`. */
function until(chat, conversation, holds) {
  return new Promise((resolve) => {
    if (holds()) { resolve(); return; }
    const off = chat.subscribe(conversation, () => { if (holds()) { off(); resolve(); } });
  });
}

/** The statuses of the records of `conversation` whose text is `text`. */
const statuses = (chat, conversation, text) => wholeHistory(chat, conversation).filter((r) => r.text === text).map((r) => r.status);

/** Server log entries of the messages whose text is `text` (each message the server took, once). */
const logged = (net, text) => net.log.filter((e) => e.text === text).map((e) => e.status);

// A send whose socket drops goes out again, as the same message, once the SDK is connected again: the server
// knows a repeat by its local id (the loopback, like a server that de-duplicates, acks it with its first id).
// Whether the server took it before the drop or not, it ends sent and reaches the peer once.
for (const serverKeeps of [false, true]) {
  const when = serverKeeps ? 'after the server has it' : 'before the server has it';
  test(tagged(`a record sent as the socket drops, ${when}, goes out again once the SDK is back: sent, and the peer has it once`, 'network'),
    GUARD, (t) => onFreshNetwork(t, async ({ server: net, alice, bob }) => {
      const text = `dropped ${when}`;
      net.dropNextSend('alice', { serverKeeps });
      const back = alice.client.reconnected();
      const sending = sendAway(alice, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: text });
      await back;
      const record = plain(await sending);
      assert.deepEqual([record.status, record.text], ['sent', text]);
      const got = await arrival(bob.chat, 'single:alice', record.id);
      assert.equal(got.text, text);
      const after = await send(alice, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'after the drop' });
      await arrival(bob.chat, 'single:alice', after.id);
      assert.deepEqual(statuses(bob.chat, 'single:alice', text), ['received']);
      assert.deepEqual(statuses(alice.chat, 'single:bob', text), ['sent']);
      assert.deepEqual(logged(net, text), ['ok'], 'the server took it once');
    }));
}

test(tagged('a socket that drops mid-send and is not back within the send timeout: failed, never stuck sending; chat.resend once back sends it once', 'network'),
  GUARD, (t) => onFreshNetwork(t, async ({ server: net, alice, bob }) => {
    const text = 'lost while away';
    net.dropNextSend('alice');
    const sending = sendAway(alice, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: text });
    await alice.client.disconnected();
    // Her SDK's reconnects now wait at the server until released: the send times out (300 ms) first.
    const release = net.hold('alice');
    const failed = plain(await sending);
    assert.deepEqual([failed.status, failed.error && failed.error.code], ['failed', 'timeout']);
    assert.deepEqual(statuses(alice.chat, 'single:bob', text), ['failed']);

    const back = alice.client.reconnected();
    release();
    await back;
    const marker = await send(alice, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'back again' });
    await arrival(bob.chat, 'single:alice', marker.id);
    assert.deepEqual(statuses(bob.chat, 'single:alice', text), [], 'a failed record does not go out by itself');
    assert.deepEqual(statuses(alice.chat, 'single:bob', text), ['failed']);

    const published = [];
    const off = alice.chat.subscribe('single:bob', (r, info) => published.push([r.status, r.id, info.previousId]));
    const resent = plain(await alice.chat.resend(alice.client.conn, failed.id, { WebIM: alice.client.WebIM }));
    off();
    assert.deepEqual([resent.status, resent.text], ['sent', text]);
    assert.notEqual(resent.id, failed.id);
    assert.deepEqual(published, [['sending', failed.id, undefined], ['sent', resent.id, failed.id]]);
    await arrival(bob.chat, 'single:alice', resent.id);
    assert.deepEqual(statuses(bob.chat, 'single:alice', text), ['received']);
    assert.deepEqual(wholeHistory(alice.chat, 'single:bob').filter((r) => r.text === text).map((r) => [r.id, r.status]), [[resent.id, 'sent']]);
    assert.deepEqual(logged(net, text), ['ok']);
  }, { sendTimeoutMs: 300 }));

test(tagged('chat.resend refuses what is not a failed message of mine, and changes nothing', 'failed'), GUARD, async () => {
  const carol = devices.carol;
  const { conn, WebIM } = carol.client;
  const sent = await send(carol, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'already sent' });
  const fromBob = await send(devices.bob, { type: 'txt', chatType: 'singleChat', to: 'carol', msg: 'from bob' });
  await arrival(carol.chat, 'single:bob', fromBob.id);
  const before = wholeHistory(carol.chat, 'single:bob');
  await assert.rejects(carol.chat.resend(conn, sent.id, { WebIM }), /is sent, not failed/);
  await assert.rejects(carol.chat.resend(conn, fromBob.id, { WebIM }), /someone else/);
  await assert.rejects(carol.chat.resend(conn, 'no-such-id', { WebIM }), /no record "no-such-id"/);
  await assert.rejects(carol.chat.resend(conn, undefined, { WebIM }), TypeError);
  assert.deepEqual(wholeHistory(carol.chat, 'single:bob'), before);
});

test(tagged('messages sent to me while I am off the network arrive once each after my SDK reconnects', 'network'), GUARD,
  (t) => onFreshNetwork(t, async ({ server: net, alice, bob }) => {
    const release = net.hold('bob');
    const back = bob.client.reconnected();
    const sent = [];
    for (const [chatType, to] of [['singleChat', 'bob'], ['groupChat', 'g1'], ['singleChat', 'bob']]) {
      sent.push(await send(alice, { type: 'txt', chatType, to, msg: `while bob was away ${sent.length}` }));
    }
    release();
    await back;
    for (const record of sent) await arrival(bob.chat, record.conversation === 'group:g1' ? 'group:g1' : 'single:alice', record.id);
    const marker = await send(alice, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'marker after the hold' });
    await arrival(bob.chat, 'single:alice', marker.id);
    assert.deepEqual(wholeHistory(bob.chat, 'single:alice').map((r) => r.text),
      ['while bob was away 0', 'while bob was away 2', 'marker after the hold']);
    assert.deepEqual(wholeHistory(bob.chat, 'group:g1').map((r) => r.text), ['while bob was away 1']);
    assert.deepEqual(plain(bob.chat.conversations()).map((c) => [c.conversation, c.unread]).sort(), [['group:g1', 1], ['single:alice', 3]]);
  }));

test(tagged('the server restarts: a record sent while it was down ends sent, and chat goes on both ways', 'network'),
  GUARD, (t) => onFreshNetwork(t, async ({ server: net, alice, bob }) => {
    const back = Promise.all([alice, bob].map((d) => d.client.reconnected()));
    await net.down();
    await alice.client.disconnected();
    // (A release that breaks on it gets no send while the server is down: the failure is its own, unhandled.)
    const whileDown = !SDK.quirks.brokenWhileDown && 'sent while the server was down';
    const sending = whileDown && sendAway(alice, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: whileDown });
    await net.up();
    await back;
    const toBob = await send(alice, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'after the restart' });
    const toAlice = await send(bob, { type: 'txt', chatType: 'singleChat', to: 'alice', msg: 'back at you' });
    await arrival(bob.chat, 'single:alice', toBob.id);
    await arrival(alice.chat, 'single:bob', toAlice.id);
    assert.deepEqual([toBob.status, toAlice.status], ['sent', 'sent']);
    if (whileDown) {
      // mpchat sends it again once the SDK is back (where the SDK itself lost it, or its ack), not
      // necessarily before the sends made after.
      const record = plain(await sending);
      assert.equal(record.status, 'sent');
      await arrival(bob.chat, 'single:alice', record.id);
      assert.deepEqual(statuses(bob.chat, 'single:alice', whileDown), ['received']);
      assert.deepEqual(statuses(alice.chat, 'single:bob', whileDown), ['sent']);
      assert.deepEqual(logged(net, whileDown), ['ok']);
    }
  }));

test(tagged('an acknowledgement that never comes: the record ends failed after the time the app set', 'network'),
  GUARD, (t) => onFreshNetwork(t, async ({ server: net, alice, bob }) => {
    net.swallowNextAck('alice');
    const swallowed = sendAway(alice, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'ack swallowed' });
    const marker = await send(alice, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'acked after it' });
    await arrival(bob.chat, 'single:alice', marker.id);
    // send() settles once the 100 ms the app set have passed without an acknowledgement.
    const record = plain(await swallowed);
    assert.deepEqual([record.status, record.error && record.error.code], ['failed', 'timeout']);
    assert.deepEqual(statuses(alice.chat, 'single:bob', 'ack swallowed'), ['failed']);
    assert.deepEqual(statuses(bob.chat, 'single:alice', 'ack swallowed'), ['received']);
  }, { sendTimeoutMs: 100 }));
