'use strict';
// End-to-end: real easemob-websdk clients (mini-program build, each its own module instance with a fake wx)
// logged in to the loopback server, checking what an app built on the SDK would see.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const WebSocket = require('ws');

const root = path.join(__dirname, '..', '..');
const { startServer } = require(path.join(root, 'loopback', 'server.js'));
const { connectClient, connectWebClient } = require(path.join(root, 'loopback', 'client.js'));
const { sdkVersion } = require(path.join(root, 'loopback', 'schema.js'));

console.log(`easemob-websdk version under test: ${sdkVersion()}`);

// A guard so a missing delivery fails the test instead of hanging the run; no assertion depends on time.
const GUARD = { timeout: 15000 };

const EVENTS = ['onTextMessage', 'onCustomMessage', 'onCmdMessage', 'onLocationMessage', 'onMessage',
  'onRecallMessage', 'onReadMessage', 'onDeliveredMessage', 'onChannelMessage',
  'onOfflineMessageSyncStart', 'onOfflineMessageSyncFinish'];

let handlerSeq = 0;
/** Everything a client receives through `addEventHandler`, with a way to wait for a given event. */
function inbox(client) {
  const id = `test-inbox-${++handlerSeq}`;
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
  client.conn.addEventHandler(id, handlers);
  return {
    received,
    of: (event) => received.filter((r) => r.event === event).map((r) => r.payload),
    next(event, match = () => true) {
      const seen = received.find((r) => r.event === event && match(r.payload));
      if (seen) return Promise.resolve(seen.payload);
      return new Promise((resolve) => waiters.push({ event, match, resolve }));
    },
    stop: () => client.conn.removeEventHandler(id),
  };
}

function text(client, to, msg, { chatType = 'singleChat', ext } = {}) {
  const message = client.WebIM.message.create({ type: 'txt', chatType, to, msg, ...(ext ? { ext } : {}) });
  return client.conn.send(message);
}

// One server and a set of clients shared by the tests below; alice has two devices.
let server;
let alice;
let alice2;
let bob;
let carol;

test.before(async () => {
  server = await startServer({
    users: ['alice', 'bob', 'carol', 'dave', 'erin'],
    groups: { g1: ['alice', 'bob', 'carol'] },
    chatRooms: { r1: ['alice', 'bob', 'carol'], lobby: [] },
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

test('each SDK client is its own module instance, and two devices of one user get distinct resources', () => {
  assert.notEqual(alice.WebIM, bob.WebIM);
  const resources = server.connectionsOf('alice').map((c) => c.resource);
  assert.equal(resources.length, 2);
  assert.notEqual(resources[0], resources[1]);
});

test('one-to-one text: bob receives it through addEventHandler with chatType, ext and text intact', GUARD, async () => {
  const bobInbox = inbox(bob);
  const ext = {
    userNickname: 'Alice', userAvatar: 'https://example.invalid/a.png',
    ease_chat_uikit_user_info: { nickname: 'Alice', avatarURL: 'https://example.invalid/a.png' },
    count: 3, ratio: 0.5, flag: true, em_at_list: ['bob'],
  };
  const body = 'hi [):] and 😀 👍🏽 👨‍👩‍👧 done';
  const sent = await text(alice, 'bob', body, { ext });
  const got = await bobInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
  bobInbox.stop();

  assert.match(sent.serverMsgId, /^\d+$/);
  assert.notEqual(sent.serverMsgId, sent.localMsgId);
  assert.equal(sent.message.id, sent.serverMsgId);
  const expected = [
    ['type', 'txt'], ['chatType', 'singleChat'], ['from', 'alice'], ['to', 'bob'], ['msg', body],
  ];
  for (const [field, value] of expected) assert.equal(got[field], value, field);
  assert.deepEqual(got.ext, ext);
  assert.equal(typeof got.time, 'number');

  const logged = server.log.find((e) => e.serverMsgId === sent.serverMsgId);
  assert.equal(logged.bodyType, 'CHAT');
  assert.equal(logged.localMsgId, sent.localMsgId);
});

test('one-to-one: the sender\'s other device receives it as from me to the peer', GUARD, async () => {
  const padInbox = inbox(alice2);
  const sent = await text(alice, 'bob', 'copy to my pad');
  const got = await padInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
  padInbox.stop();
  assert.deepEqual([got.from, got.to, got.chatType], ['alice', 'bob', 'singleChat']);
});

test('group: members receive it, the sending connection gets no echo, my other device does', GUARD, async () => {
  const inboxes = { alice, alice2, bob, carol };
  const boxes = Object.fromEntries(Object.entries(inboxes).map(([k, c]) => [k, inbox(c)]));
  const sent = await text(alice, 'g1', 'hello group', { chatType: 'groupChat' });
  const isIt = (m) => m.id === sent.serverMsgId;
  for (const who of ['bob', 'carol', 'alice2']) {
    const got = await boxes[who].next('onTextMessage', isIt);
    assert.deepEqual([got.chatType, got.from, got.to, got.msg], ['groupChat', 'alice', 'g1', 'hello group'], who);
  }
  // Deliveries to one connection are in order, so once a later marker arrives, any echo would have too.
  const marker = await text(bob, 'alice', 'marker after group');
  await boxes.alice.next('onTextMessage', (m) => m.id === marker.serverMsgId);
  assert.equal(boxes.alice.of('onTextMessage').filter(isIt).length, 0);
  for (const b of Object.values(boxes)) b.stop();
  assert.equal(server.log.find((e) => e.serverMsgId === sent.serverMsgId).bodyType, 'GROUPCHAT');
});

test('chat room: joined members receive it with chatType chatRoom', GUARD, async () => {
  const bobInbox = inbox(bob);
  const sent = await text(carol, 'r1', 'hello room', { chatType: 'chatRoom' });
  const got = await bobInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
  bobInbox.stop();
  assert.deepEqual([got.chatType, got.from, got.to], ['chatRoom', 'carol', 'r1']);
  assert.equal(server.log.find((e) => e.serverMsgId === sent.serverMsgId).bodyType, 'CHATROOM');
});

test('chat room join: only members who joined through the SDK receive; a non-member send is rejected', GUARD, async () => {
  await assert.rejects(text(bob, 'lobby', 'too early', { chatType: 'chatRoom' }), (err) => err.type === 602);
  await carol.conn.joinChatRoom({ roomId: 'lobby' });
  await bob.conn.joinChatRoom({ roomId: 'lobby' });
  const carolInbox = inbox(carol);
  const sent = await text(bob, 'lobby', 'now joined', { chatType: 'chatRoom' });
  const got = await carolInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
  carolInbox.stop();
  assert.equal(got.chatType, 'chatRoom');
  await bob.conn.leaveChatRoom({ roomId: 'lobby' });
  assert.deepEqual([...server.chatRooms.get('lobby')], ['carol']);
});

test('legacy listen style receives the same messages with conversation-kind types', GUARD, async () => {
  const legacy = [];
  let wake;
  bob.conn.listen({
    onTextMessage: (m) => { legacy.push(m); if (wake) wake(); },
  });
  const waitFor = async (id) => {
    while (!legacy.some((m) => m.id === id)) await new Promise((resolve) => { wake = resolve; });
    return legacy.find((m) => m.id === id);
  };
  const cases = [
    // (sender, to, chatType, expected legacy type)
    [alice, 'bob', 'singleChat', 'chat'],
    [alice, 'g1', 'groupChat', 'groupchat'],
    [carol, 'r1', 'chatRoom', 'chatroom'],
  ];
  for (const [sender, to, chatType, legacyType] of cases) {
    const typed = await text(sender, to, `legacy ${chatType}`, { chatType });
    const got = await waitFor(typed.serverMsgId);
    assert.equal(got.type, legacyType, chatType);
    assert.equal(got.data, `legacy ${chatType}`);
    assert.equal(got.chatType, undefined);
    assert.equal(got.contentsType, 'TEXT');
    assert.equal(typeof got.time, 'string');
  }
  bob.conn.listen({ onTextMessage: () => {} });
});

test('wire body types recorded by the server, one per conversation kind', GUARD, async () => {
  const cases = [
    // (chatType, to, wire body type)
    ['singleChat', 'bob', 'CHAT'],
    ['groupChat', 'g1', 'GROUPCHAT'],
    ['chatRoom', 'r1', 'CHATROOM'],
    [undefined, 'bob', 'CHAT'],
    ['GROUPCHAT', 'g1', 'GROUPCHAT'],
  ];
  for (const [chatType, to, bodyType] of cases) {
    const message = alice.WebIM.message.create({ type: 'txt', to, msg: 'kind', ...(chatType ? { chatType } : {}) });
    const sent = await alice.conn.send(message);
    assert.equal(server.log.find((e) => e.serverMsgId === sent.serverMsgId).bodyType, bodyType, String(chatType));
  }
});

test('an offline backlog of 500 arrives in one batch, in order, at login', GUARD, async () => {
  const backlog = Array.from({ length: 500 }, (_, i) => ({ from: 'bob', type: 'txt', msg: `backlog ${i}` }));
  const ids = server.pushBacklog('dave', backlog);
  const dave = await connectClient(server, { user: 'dave' });
  try {
    const daveInbox = inbox(dave);
    // The SDK hands each synced batch to onMessage after the per-message events; wait for the last one.
    await daveInbox.next('onMessage', (batch) => batch.some((m) => m.id === ids[499]));
    const texts = daveInbox.of('onTextMessage');
    assert.deepEqual(texts.map((m) => m.msg), backlog.map((b) => b.msg));
    assert.deepEqual(texts.map((m) => m.id), ids);
    const batches = daveInbox.of('onMessage');
    assert.deepEqual(batches.map((b) => b.length), [500]);

    // The SDK remembers only the last 100 ids: re-delivering the first backlog message reaches the app again.
    server.redeliver('dave', ids[0]);
    const again = await daveInbox.next('onTextMessage', (m) => m.id === ids[0] && daveInbox.of('onTextMessage').filter((x) => x.id === ids[0]).length === 2);
    assert.equal(again.msg, 'backlog 0');
    daveInbox.stop();
  } finally {
    await dave.close();
  }
});

test('an online backlog is delivered as one batch too', GUARD, async () => {
  const erin = await connectClient(server, { user: 'erin' });
  try {
    const erinInbox = inbox(erin);
    const ids = server.pushBacklog('erin', Array.from({ length: 50 }, (_, i) => ({ from: 'carol', msg: `live ${i}` })));
    await erinInbox.next('onMessage', (batch) => batch.some((m) => m.id === ids[49]));
    assert.deepEqual(erinInbox.of('onMessage').map((b) => b.length), [50]);
    assert.deepEqual(erinInbox.of('onTextMessage').map((m) => m.id), ids);
    erinInbox.stop();
  } finally {
    await erin.close();
  }
});

test('redelivery of a recent message is dropped by the SDK itself (it remembers the last 100 ids)', GUARD, async () => {
  const bobInbox = inbox(bob);
  const sent = await text(alice, 'bob', 'deliver me twice');
  await bobInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
  server.redeliver('bob', sent.serverMsgId);
  const marker = await text(carol, 'bob', 'marker after redelivery');
  await bobInbox.next('onTextMessage', (m) => m.id === marker.serverMsgId);
  bobInbox.stop();
  // (The backlog test shows the same redelivery reaching the app once the id has left the SDK's memory.)
  assert.equal(bobInbox.of('onTextMessage').filter((m) => m.id === sent.serverMsgId).length, 1);
});

test('recall by the server reaches the recipient and the sender\'s other device', GUARD, async () => {
  const bobInbox = inbox(bob);
  const padInbox = inbox(alice2);
  const sent = await text(alice, 'bob', 'regret this');
  await bobInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
  server.recall(sent.serverMsgId);
  const recall = await bobInbox.next('onRecallMessage', (r) => r.mid === sent.serverMsgId);
  const padRecall = await padInbox.next('onRecallMessage', (r) => r.mid === sent.serverMsgId);
  bobInbox.stop();
  padInbox.stop();
  assert.deepEqual([recall.from, recall.to], ['alice', 'bob']);
  assert.equal(padRecall.mid, sent.serverMsgId);
});

test('recall by the sender through the SDK reaches the recipient', GUARD, async () => {
  const carolInbox = inbox(carol);
  const sent = await text(alice, 'g1', 'group regret', { chatType: 'groupChat' });
  await carolInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
  await alice.conn.recallMessage({ mid: sent.serverMsgId, to: 'g1', chatType: 'groupChat' });
  const recall = await carolInbox.next('onRecallMessage', (r) => r.mid === sent.serverMsgId);
  carolInbox.stop();
  assert.deepEqual([recall.from, recall.to], ['alice', 'g1']);
  assert.equal(server.log.find((e) => e.bodyType === 'RECALL' && e.ackMessageId === sent.serverMsgId).from, 'alice');
});

test('read and delivery acks reach the sender, from the server and from the peer\'s SDK', GUARD, async () => {
  const aliceInbox = inbox(alice);
  const sent = await text(alice, 'bob', 'did you read it');
  server.sendDeliveryAck(sent.serverMsgId);
  const delivered = await aliceInbox.next('onDeliveredMessage', (a) => a.mid === sent.serverMsgId);
  assert.equal(delivered.from, 'bob');
  server.sendReadAck(sent.serverMsgId);
  const read = await aliceInbox.next('onReadMessage', (a) => a.mid === sent.serverMsgId);
  assert.deepEqual([read.from, read.to], ['bob', 'alice']);

  const second = await text(alice, 'bob', 'and this one');
  const ack = bob.WebIM.message.create({ type: 'read', chatType: 'singleChat', to: 'alice', id: second.serverMsgId });
  await bob.conn.send(ack);
  const peerRead = await aliceInbox.next('onReadMessage', (a) => a.mid === second.serverMsgId);
  aliceInbox.stop();
  assert.equal(peerRead.from, 'bob');
  assert.ok(server.log.some((e) => e.bodyType === 'READ_ACK' && e.ackMessageId === second.serverMsgId));
});

test('a muted sender\'s send is rejected (507) and logged, in every conversation kind; unmuted it goes through', GUARD, async () => {
  const cases = [
    // (conversation muted in, chatType, wire body type)
    ['g1', 'groupChat', 'GROUPCHAT'],
    ['r1', 'chatRoom', 'CHATROOM'],
    ['bob', 'singleChat', 'CHAT'],
  ];
  for (const [to, chatType, bodyType] of cases) {
    server.mute('carol', to);
    const words = `muted words to ${to}`;
    const rejected = await text(carol, to, words, { chatType }).then(
      () => assert.fail(`send to ${to} should have been rejected`),
      (err) => err,
    );
    assert.equal(rejected.type, 507, to);
    const entries = server.log.filter((e) => e.from === 'carol' && e.text === words);
    assert.deepEqual(entries.map((e) => [e.status, e.bodyType]), [['rejected', bodyType]]);
    server.unmute('carol', to);
    const ok = await text(carol, to, `free again in ${to}`, { chatType });
    assert.match(ok.serverMsgId, /^\d+$/);
  }
});

test('login as an unknown user is refused and leaves nothing running', GUARD, async () => {
  await assert.rejects(connectClient(server, { user: 'mallory' }), (err) => err.type === 204);
});

test('a send to an unknown user is rejected by the server', GUARD, async () => {
  await assert.rejects(text(alice, 'nobody', 'hello?'), (err) => err.type === 204);
});

test('the WebSocket listener serves SDK clients over 127.0.0.1 and refuses other hosts', GUARD, async () => {
  await assert.rejects(startServer({ port: 0, host: '0.0.0.0' }), /refusing to listen/);
  const wsServer = await startServer({ port: 0 });
  // The mini-program build again, but its wx.connectSocket now opens a real WebSocket to the listener.
  const viaWebSocket = (options) => {
    const socket = new WebSocket(options.url);
    socket.binaryType = 'arraybuffer';
    return {
      onOpen: (cb) => socket.on('open', () => cb({})),
      onMessage: (cb) => socket.on('message', (data) => cb({ data })),
      onClose: (cb) => socket.on('close', (code, reason) => cb({ code, reason: String(reason) })),
      onError: (cb) => socket.on('error', (err) => cb({ errMsg: err.message })),
      send: ({ data }) => socket.send(data),
      close: () => socket.close(),
    };
  };
  const a = await connectClient(wsServer, { user: 'alice', connectSocket: viaWebSocket });
  const b = await connectClient(wsServer, { user: 'bob', connectSocket: viaWebSocket });
  try {
    const bInbox = inbox(b);
    const sent = await text(a, 'bob', 'over tcp');
    const got = await bInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
    bInbox.stop();
    assert.equal(got.msg, 'over tcp');
    assert.match(wsServer.url, /^ws:\/\/127\.0\.0\.1:\d+\/websocket$/);
  } finally {
    await a.close();
    await b.close();
    await wsServer.close();
  }
});

test('the SDK\'s web build talks to the WebSocket listener and to a mini-program client', GUARD, async () => {
  const wsServer = await startServer({ port: 0 });
  const web = await connectWebClient(wsServer, { user: 'alice' });
  const mini = await connectClient(wsServer, { user: 'bob' });
  try {
    const miniInbox = inbox(mini);
    const webInbox = inbox(web);
    const toMini = await text(web, 'g1', 'from the web build', { chatType: 'groupChat' });
    const got = await miniInbox.next('onTextMessage', (m) => m.id === toMini.serverMsgId);
    assert.deepEqual([got.chatType, got.from, got.msg], ['groupChat', 'alice', 'from the web build']);
    const toWeb = await text(mini, 'alice', 'from the mini-program build');
    const back = await webInbox.next('onTextMessage', (m) => m.id === toWeb.serverMsgId);
    assert.deepEqual([back.chatType, back.from], ['singleChat', 'bob']);
    miniInbox.stop();
    webInbox.stop();
  } finally {
    await web.close();
    await mini.close();
    await wsServer.close();
  }
});
