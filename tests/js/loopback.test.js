'use strict';
// End-to-end: real easemob-websdk clients of the release under test (EASEMOB_SDK, the newest by default; each
// client its own module instance) logged in to the loopback server, checking what an app built on the SDK
// would see, over a good network and a bad one.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const WebSocket = require('ws');

const root = path.join(__dirname, '..', '..');
const { startServer } = require(path.join(root, 'loopback', 'server.js'));
const { connectClient, connectWebClient } = require(path.join(root, 'loopback', 'client.js'));
const { extractDescriptor, loadSchema } = require(path.join(root, 'loopback', 'schema.js'));
const { bundlePath, installedVersion } = require(path.join(root, 'loopback', 'sdks.js'));
const { SDK, tagged } = require('./support/sdk.js');

console.log(`easemob-websdk under test: ${SDK.version} (${SDK.build} build)`);

// A guard so a missing delivery fails the test instead of hanging the run; no assertion depends on time.
const GUARD = { timeout: 20000 };

const EVENTS = ['onTextMessage', 'onCustomMessage', 'onCmdMessage', 'onLocationMessage', 'onMessage',
  'onRecallMessage', 'onReadMessage', 'onDeliveredMessage', 'onChannelMessage', 'onMutedMessage',
  'onOfflineMessageSyncStart', 'onOfflineMessageSyncFinish'];

/** Everything a client receives (through addEventHandler, or listen() on 3.x), with a way to wait for an event. */
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
    received,
    of: (event) => received.filter((r) => r.event === event).map((r) => r.payload),
    next(event, match = () => true) {
      const seen = received.find((r) => r.event === event && match(r.payload));
      if (seen) return Promise.resolve(seen.payload);
      return new Promise((resolve) => waiters.push({ event, match, resolve }));
    },
    stop,
  };
}

const KIND = { singlechat: 'single', chat: 'single', groupchat: 'group', chatroom: 'chatroom' };
/** What an app reads off a received text message, whichever listener style delivered it. */
const view = (m) => ({ kind: KIND[String(m.chatType || m.type).toLowerCase()], from: m.from, to: m.to, text: m.msg ?? m.data });

function text(client, to, msg, { chatType = 'singleChat', ext } = {}) {
  return client.send({ type: 'txt', chatType, to, msg, ...(ext ? { ext } : {}) });
}

/** The state of a promise, readable at any later point: 'pending', 'resolved' or 'rejected'. */
function track(promise) {
  let state = 'pending';
  let value;
  promise.then((v) => { state = 'resolved'; value = v; }, (e) => { state = 'rejected'; value = e; });
  return () => ({ state, value });
}

const isText = (msg) => (m) => view(m).text === msg;

// One server and a set of clients shared by the tests below; alice has two devices.
let server;
let alice;
let alice2;
let bob;
let carol;

test.before(async () => {
  server = await startServer({
    port: 0, // web-only releases reach the server through its listener
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

test('the installed release is the one named, and the server speaks every field of its wire schema', () => {
  assert.equal(installedVersion(SDK), SDK.version);
  const serverTypes = loadSchema().root;
  const walk = (nested, prefix, visit) => {
    for (const [name, node] of Object.entries(nested || {})) {
      visit(`${prefix}${name}`, node);
      walk(node.nested, `${prefix}${name}.`, visit);
    }
  };
  walk(extractDescriptor(bundlePath(SDK)).nested, '', (name, node) => {
    for (const [field, { id, type }] of Object.entries(node.fields || {})) {
      const known = serverTypes.lookupType(name).fields[field];
      assert.ok(known, `${name}.${field}`);
      assert.deepEqual([known.id, known.type], [id, type], `${name}.${field}`);
    }
  });
});

test('each SDK client is its own module instance, and two devices of one user get distinct resources', () => {
  assert.notEqual(alice.WebIM, bob.WebIM);
  const resources = server.connectionsOf('alice').map((c) => c.resource);
  assert.equal(resources.length, 2);
  assert.notEqual(resources[0], resources[1]);
});

test(tagged('one-to-one text: bob receives it with text and ext intact; alice\'s other device gets it as from her', 'single'), GUARD, async () => {
  const bobInbox = inbox(bob);
  const padInbox = inbox(alice2);
  const ext = {
    userNickname: 'Alice', userAvatar: 'https://example.invalid/a.png',
    ease_chat_uikit_user_info: { nickname: 'Alice', avatarURL: 'https://example.invalid/a.png' },
    count: 3, ratio: 0.5, flag: true, em_at_list: ['bob'],
  };
  const body = 'hi [):] and 😀 👍🏽 👨‍👩‍👧 done';
  const sent = await text(alice, 'bob', body, { ext });
  const got = await bobInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
  const copy = await padInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
  bobInbox.stop();
  padInbox.stop();

  assert.match(sent.serverMsgId, /^\d+$/);
  assert.notEqual(sent.serverMsgId, String(sent.localMsgId));
  assert.deepEqual(view(got), { kind: 'single', from: 'alice', to: 'bob', text: body });
  assert.deepEqual(got.ext, ext);
  assert.deepEqual(view(copy), { kind: 'single', from: 'alice', to: 'bob', text: body });

  const logged = server.log.find((e) => e.serverMsgId === sent.serverMsgId);
  assert.equal(logged.bodyType, 'CHAT');
  assert.equal(logged.localMsgId, String(sent.localMsgId));
});

test(tagged('group: members receive it, the sending connection gets no echo, my other device does', 'group'), GUARD, async () => {
  const inboxes = { alice, alice2, bob, carol };
  const boxes = Object.fromEntries(Object.entries(inboxes).map(([k, c]) => [k, inbox(c)]));
  const sent = await text(alice, 'g1', 'hello group', { chatType: 'groupChat' });
  const isIt = (m) => m.id === sent.serverMsgId;
  for (const who of ['bob', 'carol', 'alice2']) {
    const got = await boxes[who].next('onTextMessage', isIt);
    assert.deepEqual(view(got), { kind: 'group', from: 'alice', to: 'g1', text: 'hello group' }, who);
  }
  // Deliveries to one connection are in order, so once a later marker arrives, any echo would have too.
  const marker = await text(bob, 'alice', 'marker after group');
  await boxes.alice.next('onTextMessage', (m) => m.id === marker.serverMsgId);
  assert.equal(boxes.alice.of('onTextMessage').filter(isIt).length, 0);
  for (const b of Object.values(boxes)) b.stop();
  assert.equal(server.log.find((e) => e.serverMsgId === sent.serverMsgId).bodyType, 'GROUPCHAT');
});

test(tagged('chat room: members receive it as a chat-room message', 'chatroom'), GUARD, async () => {
  const bobInbox = inbox(bob);
  const sent = await text(carol, 'r1', 'hello room', { chatType: 'chatRoom' });
  const got = await bobInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
  bobInbox.stop();
  assert.deepEqual(view(got), { kind: 'chatroom', from: 'carol', to: 'r1', text: 'hello room' });
  assert.equal(server.log.find((e) => e.serverMsgId === sent.serverMsgId).bodyType, 'CHATROOM');
});

test(tagged('chat room join: only members who joined through the SDK receive; a non-member send is rejected', 'chatroom'),
  GUARD, async () => {
    await assert.rejects(text(bob, 'lobby', 'too early', { chatType: 'chatRoom' }), (err) => err.type === 602);
    await carol.conn.joinChatRoom({ roomId: 'lobby' });
    await bob.conn.joinChatRoom({ roomId: 'lobby' });
    const carolInbox = inbox(carol);
    const sent = await text(bob, 'lobby', 'now joined', { chatType: 'chatRoom' });
    const got = await carolInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
    carolInbox.stop();
    assert.equal(view(got).kind, 'chatroom');
    // (3.x calls it quitChatRoom.)
    await (bob.conn.leaveChatRoom || bob.conn.quitChatRoom).call(bob.conn, { roomId: 'lobby' });
    assert.deepEqual([...server.chatRooms.get('lobby')], ['carol']);
  });

// (sender, to, chatType, addEventHandler chatType, legacy type)
const KINDS = () => [
  [alice, 'bob', 'singleChat', 'singleChat', 'chat'],
  [alice, 'g1', 'groupChat', 'groupChat', 'groupchat'],
  [carol, 'r1', 'chatRoom', 'chatRoom', 'chatroom'],
];

test(tagged('addEventHandler delivers 4.x shapes: message kind in type, chatType, msg, numeric time', 'handler', 'single', 'group', 'chatroom'),
  { ...GUARD, skip: SDK.legacy && `${SDK.version} has no addEventHandler` }, async () => {
    const bobInbox = inbox(bob);
    for (const [sender, to, chatType, handlerChatType] of KINDS()) {
      const sent = await text(sender, to, `handler ${chatType}`, { chatType });
      const got = await bobInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
      assert.deepEqual([got.type, got.chatType, got.msg, typeof got.time], ['txt', handlerChatType, `handler ${chatType}`, 'number'], chatType);
    }
    bobInbox.stop();
  });

test(tagged('legacy listen() delivers legacy shapes: conversation kind in type, data, string time', 'listen', 'single', 'group', 'chatroom'), GUARD, async () => {
  const legacy = [];
  let wake;
  bob.conn.listen({
    onTextMessage: (m) => { legacy.push(m); if (wake) wake(); },
  });
  const waitFor = async (id) => {
    while (!legacy.some((m) => m.id === id)) await new Promise((resolve) => { wake = resolve; });
    return legacy.find((m) => m.id === id);
  };
  for (const [sender, to, chatType, , legacyType] of KINDS()) {
    const typed = await text(sender, to, `legacy ${chatType}`, { chatType });
    const got = await waitFor(typed.serverMsgId);
    assert.equal(got.type, legacyType, chatType);
    assert.equal(got.data, `legacy ${chatType}`);
    assert.equal(got.chatType, undefined);
    assert.equal(got.contentsType, 'TEXT');
    assert.equal(typeof got.time, 'string');
  }
  bob.conn.listen({});
});

test(tagged('wire body types recorded by the server, one per conversation kind', 'single', 'group', 'chatroom'), GUARD, async () => {
  const cases = [
    // (chatType, to, wire body type)
    ['singleChat', 'bob', 'CHAT'],
    ['groupChat', 'g1', 'GROUPCHAT'],
    ['chatRoom', 'r1', 'CHATROOM'],
    // 4.x: no chatType goes out one-to-one, and chatType is read in any case.
    ...(SDK.legacy ? [] : [[undefined, 'bob', 'CHAT'], ['GROUPCHAT', 'g1', 'GROUPCHAT']]),
  ];
  for (const [chatType, to, bodyType] of cases) {
    const sent = await alice.send({ type: 'txt', to, msg: 'kind', ...(chatType ? { chatType } : {}) });
    assert.equal(server.log.find((e) => e.serverMsgId === sent.serverMsgId).bodyType, bodyType, String(chatType));
  }
});

test('an offline backlog of 500 arrives whole and in order at login', GUARD, async () => {
  const backlog = Array.from({ length: 500 }, (_, i) => ({ from: 'bob', type: 'txt', msg: `backlog ${i}` }));
  const ids = server.pushBacklog('dave', backlog);
  const dave = await connectClient(server, { user: 'dave' });
  try {
    const daveInbox = inbox(dave);
    await daveInbox.next('onTextMessage', (m) => m.id === ids[499]);
    const texts = daveInbox.of('onTextMessage');
    assert.deepEqual(texts.map((m) => view(m).text), backlog.map((b) => b.msg));
    assert.deepEqual(texts.map((m) => m.id), ids);
    // The SDK hands each synced batch to onMessage after the per-message events.
    if (!SDK.quirks.noBatchEvent) {
      await daveInbox.next('onMessage', (batch) => batch.some((m) => m.id === ids[499]));
      assert.deepEqual(daveInbox.of('onMessage').map((b) => b.length), [500]);
    }

    // The SDK remembers only the last 100 ids: re-delivering the first backlog message reaches the app again.
    server.redeliver('dave', ids[0]);
    const again = await daveInbox.next('onTextMessage', (m) => m.id === ids[0] && daveInbox.of('onTextMessage').filter((x) => x.id === ids[0]).length === 2);
    assert.equal(view(again).text, 'backlog 0');
    daveInbox.stop();
  } finally {
    await dave.close();
  }
});

test('an online backlog arrives whole and in order', GUARD, async () => {
  const erin = await connectClient(server, { user: 'erin' });
  try {
    const erinInbox = inbox(erin);
    const ids = server.pushBacklog('erin', Array.from({ length: 50 }, (_, i) => ({ from: 'carol', msg: `live ${i}` })));
    await erinInbox.next('onTextMessage', (m) => m.id === ids[49]);
    assert.deepEqual(erinInbox.of('onTextMessage').map((m) => m.id), ids);
    if (!SDK.quirks.noBatchEvent) {
      await erinInbox.next('onMessage', (batch) => batch.some((m) => m.id === ids[49]));
      assert.deepEqual(erinInbox.of('onMessage').map((b) => b.length), [50]);
    }
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

test(tagged('recall by the server reaches the recipient and the sender\'s other device', 'recall'), GUARD, async () => {
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

test(tagged('recall by the sender through the SDK reaches the recipient', 'recall'), GUARD, async () => {
  const carolInbox = inbox(carol);
  const sent = await text(alice, 'g1', 'group regret', { chatType: 'groupChat' });
  await carolInbox.next('onTextMessage', (m) => m.id === sent.serverMsgId);
  await alice.recall({ mid: sent.serverMsgId, to: 'g1', chatType: 'groupChat' });
  const recall = await carolInbox.next('onRecallMessage', (r) => r.mid === sent.serverMsgId);
  carolInbox.stop();
  assert.deepEqual([recall.from, recall.to], ['alice', 'g1']);
  assert.equal(server.log.find((e) => e.bodyType === 'RECALL' && e.ackMessageId === sent.serverMsgId).from, 'alice');
});

test(tagged('read and delivery acks reach the sender, from the server and from the peer\'s SDK', 'acks'), GUARD, async () => {
  const aliceInbox = inbox(alice);
  const sent = await text(alice, 'bob', 'did you read it');
  server.sendDeliveryAck(sent.serverMsgId);
  const delivered = await aliceInbox.next('onDeliveredMessage', (a) => a.mid === sent.serverMsgId);
  assert.equal(delivered.from, 'bob');
  server.sendReadAck(sent.serverMsgId);
  const read = await aliceInbox.next('onReadMessage', (a) => a.mid === sent.serverMsgId);
  // 3.x's read event carries only the message id.
  if (!SDK.legacy) assert.deepEqual([read.from, read.to], ['bob', 'alice']);

  const second = await text(alice, 'bob', 'and this one');
  const acked = bob.send({ type: 'read', chatType: 'singleChat', to: 'alice', id: second.serverMsgId });
  const peerRead = await aliceInbox.next('onReadMessage', (a) => a.mid === second.serverMsgId);
  // A 3.x read ack takes no success callback, so it never reports being sent.
  if (!SDK.legacy) await acked;
  aliceInbox.stop();
  if (!SDK.legacy) assert.equal(peerRead.from, 'bob');
  assert.ok(server.log.some((e) => e.bodyType === 'READ_ACK' && e.ackMessageId === second.serverMsgId));
});

test(tagged('a muted sender\'s send is refused and logged, in every conversation kind; unmuted it goes through', 'failed'), GUARD, async () => {
  const carolInbox = inbox(carol);
  const cases = [
    // (conversation muted in, chatType, wire body type)
    ['g1', 'groupChat', 'GROUPCHAT'],
    ['r1', 'chatRoom', 'CHATROOM'],
    ['bob', 'singleChat', 'CHAT'],
  ];
  for (const [to, chatType, bodyType] of cases) {
    server.mute('carol', to);
    const words = `muted words to ${to}`;
    const sending = text(carol, to, words, { chatType });
    if (SDK.quirks.mutedWithoutFail) {
      // The refusal's server id is all onMutedMessage carries.
      await carolInbox.next('onMutedMessage', (e) => server.log.some((l) => l.serverMsgId === e.mid && l.text === words));
    } else {
      const rejected = await sending.then(() => assert.fail(`send to ${to} should have been rejected`), (err) => err);
      assert.equal(rejected.type, 507, to);
    }
    const entries = server.log.filter((e) => e.from === 'carol' && e.text === words);
    assert.deepEqual(entries.map((e) => [e.status, e.bodyType]), [['rejected', bodyType]]);
    server.unmute('carol', to);
    const ok = await text(carol, to, `free again in ${to}`, { chatType });
    assert.match(ok.serverMsgId, /^\d+$/);
  }
  carolInbox.stop();
});

test('login as an unknown user is refused and leaves nothing running', { ...GUARD, skip: SDK.quirks.silentLoginRefusal }, async () => {
  await assert.rejects(connectClient(server, { user: 'mallory' }), (err) => [40, 204].includes(err.type));
});

test(tagged('a send to an unknown user is rejected by the server', 'failed'), GUARD, async () => {
  await assert.rejects(text(alice, 'nobody', 'hello?'), (err) => typeof err.type === 'number');
  assert.deepEqual(server.log.filter((e) => e.to === 'nobody').map((e) => e.status), ['rejected']);
});

test('the WebSocket listener serves the mini-program build over 127.0.0.1 and refuses other hosts',
  { ...GUARD, skip: !SDK.miniProgram && `${SDK.version} has no mini-program build` }, async () => {
    await assert.rejects(startServer({ port: 0, host: '0.0.0.0' }), /refusing to listen/);
    const wsServer = await startServer({ port: 0 });
    // The mini-program build again, but its wx.connectSocket now opens a real WebSocket to the listener.
    const viaWebSocket = (options) => {
      const socket = new WebSocket(options.url);
      socket.binaryType = 'arraybuffer';
      return {
        // Releases up to 4.7.0 read the task's readyState before each send.
        get readyState() { return socket.readyState; },
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
      assert.equal(view(got).text, 'over tcp');
      assert.match(wsServer.url, /^ws:\/\/127\.0\.0\.1:\d+\/websocket$/);
    } finally {
      await a.close();
      await b.close();
      await wsServer.close();
    }
  });

test('the release\'s web build talks to the WebSocket listener and to a mini-program client',
  { ...GUARD, skip: !SDK.miniProgram && `${SDK.version} has no mini-program build` }, async () => {
    const wsServer = await startServer({ port: 0 });
    const web = await connectWebClient(wsServer, { user: 'alice' });
    const mini = await connectClient(wsServer, { user: 'bob' });
    try {
      const miniInbox = inbox(mini);
      const webInbox = inbox(web);
      const toMini = await text(web, 'g1', 'from the web build', { chatType: 'groupChat' });
      const got = await miniInbox.next('onTextMessage', (m) => m.id === toMini.serverMsgId);
      assert.deepEqual(view(got), { kind: 'group', from: 'alice', to: 'g1', text: 'from the web build' });
      const toWeb = await text(mini, 'alice', 'from the mini-program build');
      const back = await webInbox.next('onTextMessage', (m) => m.id === toWeb.serverMsgId);
      assert.deepEqual(view(back), { kind: 'single', from: 'bob', to: 'alice', text: 'from the mini-program build' });
      miniInbox.stop();
      webInbox.stop();
    } finally {
      await web.close();
      await mini.close();
      await wsServer.close();
    }
  });

// ---- a bad network -----------------------------------------------------------------------------------------
// Each test gets a server and clients of its own: an SDK carries what a bad network did to it into later tests.

/** Runs `fn({server, alice, bob, carol})` with a fresh server and fresh clients, then closes them all. */
async function onFreshNetwork(t, fn) {
  const own = await startServer({ port: 0, users: ['alice', 'bob', 'carol'], groups: { g1: ['alice', 'bob', 'carol'] } });
  const clients = {};
  let closing;
  // Also when the test times out, so that no socket keeps the run alive.
  const close = () => closing || (closing = (async () => {
    for (const c of Object.values(clients)) await c.close();
    await own.close();
  })());
  t.signal.addEventListener('abort', close);
  try {
    for (const user of ['alice', 'bob', 'carol']) clients[user] = await connectClient(own, { user });
    await fn({ server: own, ...clients });
  } finally {
    await close();
  }
}

/**
 * What became of a send pending when the sender's socket dropped, once the SDK is back: rejected (the SDK
 * drops its pending sends when it reconnects), or, on releases that neither reject nor resend it, pending.
 */
function expectDroppedSend(outcome) {
  assert.equal(outcome.state, SDK.quirks.unsettledOnDrop ? 'pending' : 'rejected');
}

test(tagged('a socket dropped before the server has the message: nobody gets it, the SDK reconnects and sends again', 'network'), GUARD, (t) => onFreshNetwork(t, async ({ server: net, alice: a, bob: b }) => {
  const bobInbox = inbox(b);
  net.dropNextSend('alice');
  const back = a.reconnected();
  const lost = track(text(a, 'bob', 'lost in the drop'));
  await back;
  const after = await text(a, 'bob', 'after the drop');
  await bobInbox.next('onTextMessage', (m) => m.id === after.serverMsgId);
  expectDroppedSend(lost());
  assert.equal(bobInbox.of('onTextMessage').filter(isText('lost in the drop')).length, 0);
  assert.equal(net.log.filter((e) => e.text === 'lost in the drop').length, 0);
}));

test(tagged('a socket dropped after the server has the message: the peer gets it once, the SDK reconnects', 'network'), GUARD, (t) => onFreshNetwork(t, async ({ server: net, alice: a, bob: b }) => {
  const bobInbox = inbox(b);
  net.dropNextSend('alice', { serverKeeps: true });
  const back = a.reconnected();
  const unacked = track(text(a, 'bob', 'kept by the server'));
  await back;
  const after = await text(a, 'bob', 'after the drop');
  await bobInbox.next('onTextMessage', (m) => m.id === after.serverMsgId);
  expectDroppedSend(unacked());
  assert.equal(bobInbox.of('onTextMessage').filter(isText('kept by the server')).length, 1);
}));

test(tagged('messages sent to a user off the network arrive once each when their SDK is back', 'network'), GUARD, (t) => onFreshNetwork(t, async ({ server: net, alice: a, bob: b, carol: c }) => {
  const bobInbox = inbox(b);
  const release = net.hold('bob');
  const back = b.reconnected();
  const held = [];
  for (const [sender, to, chatType] of [[a, 'bob', 'singleChat'], [c, 'g1', 'groupChat'], [a, 'bob', 'singleChat']]) {
    held.push((await text(sender, to, `while bob was away ${held.length}`, { chatType })).serverMsgId);
  }
  release();
  await back;
  for (const id of held) await bobInbox.next('onTextMessage', (m) => m.id === id);
  const marker = await text(c, 'bob', 'marker after the hold');
  await bobInbox.next('onTextMessage', (m) => m.id === marker.serverMsgId);
  // Each conversation's messages in order (conversations sync one after another, in no set order).
  const got = bobInbox.of('onTextMessage').filter((m) => held.includes(m.id));
  assert.deepEqual(got.map((m) => m.id).sort(), [...held].sort());
  assert.deepEqual(got.filter((m) => view(m).kind === 'single').map((m) => m.id), [held[0], held[2]]);
}));

test(tagged('the server restarts: every client reconnects by itself, and messaging goes on', 'network'), GUARD, (t) => onFreshNetwork(t, async ({ server: net, alice: a, bob: b, carol: c }) => {
  const bobInbox = inbox(b);
  const back = Promise.all([a, b, c].map((client) => client.reconnected()));
  await net.down();
  await a.disconnected();
  // (A release that breaks on it gets no send while the server is down: the failure is its own, unhandled.)
  const whileDown = SDK.quirks.brokenWhileDown ? null : text(a, 'bob', 'sent while the server was down');
  const outcome = whileDown && track(whileDown);
  await net.up();
  await back;
  if (whileDown && !SDK.quirks.lostWhileDown) {
    // The SDK kept it and sent it once it was back (and, but for 3.x, reports the ack).
    await bobInbox.next('onTextMessage', isText('sent while the server was down'));
    if (!SDK.quirks.unackedWhileDown) await whileDown;
  }
  const aliceInbox = inbox(a);
  const after = [];
  for (const [sender, to, chatType, receiver] of [[a, 'bob', 'singleChat', bobInbox], [c, 'g1', 'groupChat', bobInbox], [b, 'alice', 'singleChat', aliceInbox]]) {
    const { serverMsgId } = await text(sender, to, `after the restart to ${to}`, { chatType });
    await receiver.next('onTextMessage', (m) => m.id === serverMsgId);
    after.push(serverMsgId);
  }
  if (SDK.quirks.lostWhileDown) assert.equal(outcome().state, 'pending');
  assert.equal(bobInbox.of('onTextMessage').filter(isText('sent while the server was down')).length,
    whileDown && !SDK.quirks.lostWhileDown ? 1 : 0);
  // Once each, though a release may come back with a second socket (4.7.0 reconnects twice when it has a send
  // waiting): every message is delivered to both, and the SDK passes each on once.
  const marker = await text(c, 'bob', 'marker after the restart');
  await bobInbox.next('onTextMessage', (m) => m.id === marker.serverMsgId);
  const once = (box, ids) => ids.map((id) => box.of('onTextMessage').filter((m) => m.id === id).length);
  assert.deepEqual(once(bobInbox, after.slice(0, 2)), [1, 1]);
  assert.deepEqual(once(aliceInbox, after.slice(1)), [1, 1]);
}));

test(tagged('an acknowledgement that never comes: the peer has the message, the sender\'s send stays unsettled', 'network'), GUARD, (t) => onFreshNetwork(t, async ({ server: net, alice: a, bob: b }) => {
  const bobInbox = inbox(b);
  net.swallowNextAck('alice');
  const swallowed = track(text(a, 'bob', 'ack swallowed'));
  const after = await text(a, 'bob', 'acked after the swallowed one');
  // (4.13 and later give up on it after 15 s with "send message timeout".)
  assert.equal(swallowed().state, 'pending');
  await bobInbox.next('onTextMessage', (m) => m.id === after.serverMsgId);
  await bobInbox.next('onTextMessage', isText('ack swallowed'));
  assert.equal(bobInbox.of('onTextMessage').filter(isText('ack swallowed')).length, 1);
}));
