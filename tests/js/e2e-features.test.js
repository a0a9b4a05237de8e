'use strict';
// End-to-end: the second round of mpchat's contract, with real easemob-websdk clients of the release under
// test (EASEMOB_SDK, the newest by default; one module instance per device) logged in to the loopback server
// on 127.0.0.1. Every device is an mpchat chat attached to its SDK connection (chat.attach) on a wx storage of
// its own. Covered: quote replies (build({ quote }) and record.quote), typing notices (chat.typing and the
// 'typing' event), search over what arrived (chat.search), and drafts and pins (setDraft, draft, pin, and the
// conversation list) across a restart of the app. What is asserted is what a page would show.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const mpchat = require(path.join(root, 'dist', 'mpchat', 'index.js'));
const { createWxStorage } = require('./support/wx-storage.js');
const { SDK } = require('./support/sdk.js');
const { plain, arrival, nextMillisecond, sendSettled } = require('./support/records.js');
const { openWorld: openSharedWorld } = require('./support/world.js');

console.log(`easemob-websdk under test: ${SDK.version} (${SDK.build} build)`);

// ---- shared helpers ---------------------------------------------------------------------------------------

// A guard so a missing delivery fails the test instead of hanging the run; no assertion depends on time.
const GUARD = { timeout: 30000 };

// carol sends no profile: a quote of her message names her by id.
const PROFILES = {
  alice: { nickname: 'Alice 🌸', avatar: 'https://img.example/alice.png' },
  bob: { nickname: 'Bob', avatar: 'https://img.example/bob.png' },
};

/** The test's own loopback server and devices (support/world.js), each user with the profile above. */
const openWorld = (t, options) => openSharedWorld(t, { ...options, profile: (user) => PROFILES[user] });

/** Every stored record of a conversation, oldest first. */
const stored = (chat, conversation) => plain(chat.history(conversation, { limit: 1000 }));

/** sendSettled, a millisecond after the last message: the server orders messages by time. */
async function send(sender, input) {
  await nextMillisecond();
  return sendSettled(sender, input);
}

/** A text from `sender`, and the record once every `[device, conversation]` in `receivers` has stored it. */
async function deliver(sender, chatType, to, msg, receivers) {
  const sent = await send(sender, { type: 'txt', chatType, to, msg });
  assert.equal(sent.status, 'sent', msg);
  for (const [receiver, conversation] of receivers) await arrival(receiver.chat, conversation, sent.id);
  return sent;
}

/** What a chat emits as 'typing', and a way to wait for the next one. */
function typingSeen(chat) {
  const events = [];
  const waiters = [];
  const off = chat.on('typing', (event) => {
    events.push(plain(event));
    for (const resolve of waiters.splice(0)) resolve(plain(event));
  });
  return { events, next: () => new Promise((resolve) => waiters.push(resolve)), off };
}

/** Every record a chat publishes to subscribers, in order. */
function published(chat) {
  const records = [];
  const off = chat.subscribe('*', (record) => records.push(plain(record)));
  return { records, off };
}

/** The conversation list as a page shows it: [conversation, pinned, draft, unread], in order. */
const listed = (chat) => plain(chat.conversations()).map((c) => [c.conversation, c.pinned, c.draft, c.unread]);

/** Search results as [conversation, text], in the order given. */
const found = (chat, query, options) => plain(chat.search(query, options)).map((r) => {
  assert.equal(r.record.conversation, r.conversation, `${query}: the result's conversation is its record's`);
  return [r.conversation, r.record.text];
});

// ---- quote replies -----------------------------------------------------------------------------------------

test('quote reply: the reply carries the quoted message, and the other side and my other device store record.quote', GUARD, async (t) => {
  const world = await openWorld(t, { users: ['alice', 'bob', 'carol'], groups: { g1: ['alice', 'bob', 'carol'] } });
  const alice = await world.device('alice');
  const pad = await world.device('alice', { device: 'pad' });
  const bob = await world.device('bob');
  const carol = await world.device('carol');

  const long = '这条消息很长，用来检查引用预览在五十个字符处截断 and then it keeps going well past the cut';
  // (what is quoted: who sends it, where, what alice's chat stores it under, and the quote every party stores)
  const cases = [
    {
      what: 'a one-to-one text from bob',
      quoted: () => deliver(bob, 'singleChat', 'alice', 'see you at the trailhead at 8 [):]', [[alice, 'single:bob'], [pad, 'single:bob']]),
      reply: { chatType: 'singleChat', to: 'bob', msg: 'I will be there 👍🏽' },
      parties: [[bob, 'single:alice'], [pad, 'single:bob']],
      quote: (q) => ({ id: q.id, preview: 'see you at the trailhead at 8 [):]', sender: 'Bob', type: 'txt' }),
    },
    {
      what: 'a long group text from carol, who sends no profile',
      quoted: () => deliver(carol, 'groupChat', 'g1', long, [[alice, 'group:g1'], [bob, 'group:g1'], [pad, 'group:g1']]),
      reply: { chatType: 'groupChat', to: 'g1', msg: '同意' },
      parties: [[bob, 'group:g1'], [carol, 'group:g1'], [pad, 'group:g1']],
      quote: (q) => ({ id: q.id, preview: `${[...long].slice(0, 50).join('')}…`, sender: 'carol', type: 'txt' }),
    },
    {
      what: 'a group file from bob',
      quoted: async () => {
        const sent = await send(bob, { type: 'file', chatType: 'groupChat', to: 'g1', url: 'https://files.example/doc/route.pdf', filename: 'route.pdf', file_length: 7777 });
        for (const [d, c] of [[alice, 'group:g1'], [carol, 'group:g1'], [pad, 'group:g1']]) await arrival(d.chat, c, sent.id);
        return sent;
      },
      reply: { chatType: 'groupChat', to: 'g1', msg: 'got the route' },
      parties: [[bob, 'group:g1'], [carol, 'group:g1'], [pad, 'group:g1']],
      quote: (q) => ({ id: q.id, preview: '[文件] route.pdf', sender: 'Bob', type: 'file' }),
    },
  ];

  for (const c of cases) {
    const quoted = await c.quoted();
    const expected = c.quote(quoted);
    // What build() hands the SDK: Easemob's UIKit convention, naming the quoted message's sender.
    const options = alice.chat.build({ type: 'txt', ...c.reply, quote: quoted.id });
    assert.deepEqual(options.ext.msgQuote,
      { msgID: expected.id, msgPreview: expected.preview, msgSender: expected.sender, msgType: expected.type }, c.what);

    const reply = await send(alice, { type: 'txt', ...c.reply, quote: quoted.id });
    assert.equal(reply.status, 'sent', c.what);
    assert.deepEqual(reply.quote, expected, `${c.what}: alice's own record`);
    assert.deepEqual(world.server.log.find((e) => e.serverMsgId === reply.id).ext.msgQuote, options.ext.msgQuote,
      `${c.what}: the wire carries ext.msgQuote`);
    for (const [party, conversation] of c.parties) {
      const got = await arrival(party.chat, conversation, reply.id);
      const where = `${c.what}, at ${party.user}'s ${party === pad ? 'pad' : 'phone'}`;
      assert.equal(got.text, c.reply.msg, where);
      assert.deepEqual(got.quote, expected, where);
      assert.equal(got.ext.msgQuote, undefined, `${where}: the quote is read, not left in ext`);
      // The quoted message is there to jump to.
      assert.ok(stored(party.chat, conversation).some((r) => r.id === expected.id), `${where}: the quoted record is stored`);
    }
  }

  // The quotes are kept: bob's app, started again on the same storage, shows them.
  const reopened = await mpchat.createChat({ user: 'bob', storage: bob.storage });
  const quotes = (chat) => ['single:alice', 'group:g1'].flatMap((c) => stored(chat, c)).filter((r) => r.quote).map((r) => [r.id, r.quote]);
  assert.equal(quotes(bob.chat).length, cases.length);
  assert.deepEqual(quotes(reopened), quotes(bob.chat));
});

test('quote reply: quoting a message the phone does not hold throws, and nothing is stored or sent', GUARD, async (t) => {
  const world = await openWorld(t, { users: ['alice', 'bob'] });
  const alice = await world.device('alice');
  const input = { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'replying to nothing', quote: 'no-such-message' };
  assert.throws(() => alice.chat.build(input), /no-such-message|quote/);
  const logged = world.server.log.length;
  await assert.rejects(alice.chat.send(alice.client.conn, input, { WebIM: alice.client.WebIM }), /no-such-message|quote/);
  assert.deepEqual(stored(alice.chat, 'single:bob'), []);
  assert.deepEqual(plain(alice.chat.conversations()), []);
  assert.equal(world.server.log.length, logged, 'nothing went to the server');
});

// ---- typing notices ----------------------------------------------------------------------------------------

test('typing: the peer\'s chat emits \'typing\'; nothing is stored, listed or unread; a second notice within 5 s is held back', GUARD, async (t) => {
  const world = await openWorld(t, { users: ['alice', 'bob'] });
  const alice = await world.device('alice');
  const pad = await world.device('alice', { device: 'pad' });
  const bob = await world.device('bob');
  const sdk = { WebIM: alice.client.WebIM };
  const seen = { bob: typingSeen(bob.chat), pad: typingSeen(pad.chat), alice: typingSeen(alice.chat) };
  const pages = { bob: published(bob.chat), pad: published(pad.chat), alice: published(alice.chat) };
  const commands = () => world.server.log.filter((e) => e.from === 'alice' && e.contentType === 'COMMAND').length;

  const first = seen.bob.next();
  assert.equal(alice.chat.typing(alice.client.conn, 'single:bob', sdk), true);
  assert.deepEqual(await first, { conversation: 'single:alice', from: 'alice' });
  // Typing again at once: throttled, nothing goes out.
  assert.equal(alice.chat.typing(alice.client.conn, 'single:bob', sdk), false);

  // A real message after the notices: once it has arrived everywhere, whatever the notices did has too.
  const marker = await deliver(alice, 'singleChat', 'bob', 'here is what I typed', [[bob, 'single:alice'], [pad, 'single:bob']]);
  assert.deepEqual(seen.bob.events, [{ conversation: 'single:alice', from: 'alice' }]);
  assert.deepEqual(seen.pad.events, [], 'my other device is not told I am typing');
  assert.deepEqual(seen.alice.events, []);
  assert.equal(commands(), 1, 'one notice reached the server');
  for (const [name, d, conversation] of [['bob', bob, 'single:alice'], ['pad', pad, 'single:bob'], ['alice', alice, 'single:bob']]) {
    assert.deepEqual(stored(d.chat, conversation).map((r) => r.text), ['here is what I typed'], `${name}: only the message is history`);
    assert.deepEqual(pages[name].records.filter((r) => r.text !== marker.text), [],
      `${name}: no page was handed a record for a notice`);
    assert.deepEqual(plain(d.chat.conversations()).map((c) => c.conversation), [conversation], name);
  }
  assert.equal(bob.chat.unreadTotal(), 1, 'bob: only the message is unread');
  assert.deepEqual(plain(bob.chat.conversations()).map((c) => [c.conversation, c.unread, c.last.text]), [['single:alice', 1, 'here is what I typed']]);

  // Five seconds later the user is still typing: another notice goes out.
  const realNow = Date.now;
  let again;
  const second = seen.bob.next();
  Date.now = () => realNow() + 5001;
  try {
    again = alice.chat.typing(alice.client.conn, 'single:bob', sdk);
  } finally {
    Date.now = realNow;
  }
  assert.equal(again, true);
  assert.deepEqual(await second, { conversation: 'single:alice', from: 'alice' });
  assert.equal(commands(), 2);
  assert.equal(bob.chat.unreadTotal(), 1);

  // One-to-one only.
  assert.throws(() => alice.chat.typing(alice.client.conn, 'group:g1', sdk), TypeError);
  for (const s of Object.values(seen)) s.off();
  for (const p of Object.values(pages)) p.off();
});

// Releases without deliverOnlineOnly send an ordinary cmd, which the server keeps for an offline user.
const NO_ONLINE_ONLY = SDK.quirks.noOnlineOnly && `easemob-websdk ${SDK.version} has ${SDK.quirks.noOnlineOnly}`;

test('typing: a notice is not kept for a user who is offline', { ...GUARD, skip: NO_ONLINE_ONLY }, async (t) => {
  const world = await openWorld(t, { users: ['alice', 'bob'] });
  const alice = await world.device('alice');
  assert.equal(alice.chat.typing(alice.client.conn, 'single:bob', { WebIM: alice.client.WebIM }), true);
  const after = await send(alice, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'sent while bob was away' });

  // bob opens the app: what was kept for him arrives with the login.
  const chat = await mpchat.createChat({ user: 'bob', storage: createWxStorage(), profile: PROFILES.bob });
  const seen = typingSeen(chat);
  const bob = await world.device('bob', { chat });
  await arrival(bob.chat, 'single:alice', after.id);
  assert.deepEqual(seen.events, [], 'no stale "typing…" from a notice sent while bob was offline');
  assert.deepEqual(stored(bob.chat, 'single:alice').map((r) => r.text), ['sent while bob was away']);
  assert.equal(bob.chat.unreadTotal(), 1);
  seen.off();
});

// ---- search ------------------------------------------------------------------------------------------------

test('search: what arrived through the SDK, in every conversation, Chinese, any-case English, emoji and emoji codes, newest first, paged', GUARD, async (t) => {
  const world = await openWorld(t, { users: ['alice', 'bob', 'carol'], groups: { g1: ['alice', 'bob', 'carol'] } });
  const alice = await world.device('alice');
  const bob = await world.device('bob');
  const carol = await world.device('carol');

  // Oldest first: (sender, chatType, to, text, bob's conversation). bob's own message counts too.
  const script = [
    [alice, 'singleChat', 'bob', '周末去爬山吗？', 'single:alice'],
    [carol, 'groupChat', 'g1', 'Hiking this weekend? 爬山 [):]', 'group:g1'],
    [alice, 'groupChat', 'g1', 'HIKING boots 🥾 needed', 'group:g1'],
    [carol, 'singleChat', 'bob', 'hiking poles 👍🏽 [(D)]', 'single:carol'],
    [bob, 'singleChat', 'alice', '我也想去爬山 👍🏽', 'single:alice'],
    [alice, 'singleChat', 'bob', 'lunch at noon [):]', 'single:alice'],
    [carol, 'groupChat', 'g1', '👨‍👩‍👧 family photo from the summit', 'group:g1'],
    [alice, 'singleChat', 'bob', 'recalled hiking plan', 'single:alice'],
  ];
  const ids = [];
  for (const [sender, chatType, to, text, conversation] of script) {
    ids.push((await deliver(sender, chatType, to, text, sender === bob ? [] : [[bob, conversation]])).id);
  }
  // A message its sender takes back leaves the results.
  world.server.recall(ids[7]);
  await new Promise((resolve) => {
    const done = () => stored(bob.chat, 'single:alice').some((r) => r.id === ids[7] && r.recalled);
    if (done()) return resolve();
    const off = bob.chat.subscribe('single:alice', () => { if (done()) { off(); resolve(); } });
  });

  const row = (i) => [script[i][4], script[i][3]];
  assert.deepEqual(found(bob.chat, '爬山'), [row(4), row(1), row(0)], 'Chinese, newest first');
  for (const query of ['hiking', 'HIKING', 'HiKiNg']) {
    assert.deepEqual(found(bob.chat, query), [row(3), row(2), row(1)], `${query}: Latin in any case`);
  }
  assert.deepEqual(found(bob.chat, '👍🏽'), [row(4), row(3)], 'an emoji with a skin tone');
  assert.deepEqual(found(bob.chat, '🥾'), [row(2)]);
  assert.deepEqual(found(bob.chat, '👨‍👩‍👧'), [row(6)], 'a ZWJ sequence');
  assert.deepEqual(found(bob.chat, '[):]'), [row(5), row(1)], 'an Easemob emoji code');
  assert.deepEqual(found(bob.chat, '[(D)]'), [row(3)]);
  assert.deepEqual(found(bob.chat, 'volcano'), []);
  // A result is the record as history has it, emoji parsed.
  const [lunch] = plain(bob.chat.search('LUNCH'));
  assert.deepEqual([lunch.record.id, lunch.record.from, lunch.record.direction], [ids[5], 'alice', 'in']);
  assert.deepEqual(lunch.record.segments, [{ type: 'txt', data: 'lunch at noon ' }, { type: 'emoji', data: 'ee_1.png', code: '[):]' }]);

  // In one conversation.
  assert.deepEqual(found(bob.chat, '爬山', { conversation: 'group:g1' }), [row(1)]);
  assert.deepEqual(found(bob.chat, '爬山', { conversation: 'single:alice' }), [row(4), row(0)]);
  assert.deepEqual(found(bob.chat, 'hiking', { conversation: 'single:carol' }), [row(3)]);
  assert.deepEqual(found(bob.chat, '[):]', { conversation: 'single:carol' }), []);

  // Paging: `before` the last result gives the next page, until there is none.
  const pages = [];
  let before;
  for (;;) {
    const page = plain(bob.chat.search('hiking', { limit: 2, before }));
    if (page.length === 0) break;
    pages.push(page.map((r) => r.record.text));
    before = page[page.length - 1].record.id;
  }
  assert.deepEqual(pages, [[script[3][3], script[2][3]], [script[1][3]]]);
  assert.deepEqual(found(bob.chat, '爬山', { conversation: 'single:alice', before: ids[4] }), [row(0)]);

  // alice's phone finds the same words in what she sent and received.
  assert.deepEqual(found(alice.chat, '爬山'), [['single:bob', script[4][3]], ['group:g1', script[1][3]], ['single:bob', script[0][3]]]);
});

// ---- drafts and pins ---------------------------------------------------------------------------------------

test('drafts and pins survive a restart of the app on the same storage; new messages do not lift a conversation above a pinned one', GUARD, async (t) => {
  const world = await openWorld(t, { users: ['alice', 'bob', 'carol'], groups: { g1: ['alice', 'bob', 'carol'] } });
  const storage = createWxStorage();
  let alice = await world.device('alice', { storage });
  const bob = await world.device('bob');
  const carol = await world.device('carol');

  await deliver(bob, 'singleChat', 'alice', 'bob first', [[alice, 'single:bob']]);
  await deliver(carol, 'groupChat', 'g1', 'group second', [[alice, 'group:g1']]);
  await deliver(carol, 'singleChat', 'alice', 'carol third', [[alice, 'single:carol']]);
  assert.deepEqual(listed(alice.chat), [
    ['single:carol', false, '', 1], ['group:g1', false, '', 1], ['single:bob', false, '', 1],
  ]);

  const draft = '半句话 half-typed [):] 👍🏽';
  assert.equal(alice.chat.pin('single:bob', true).outcome, 'updated');
  assert.equal(alice.chat.setDraft('group:g1', draft).outcome, 'updated');
  assert.equal(alice.chat.draft('group:g1'), draft);
  assert.equal(alice.chat.draft('single:carol'), '');
  assert.deepEqual(listed(alice.chat), [
    ['single:bob', true, '', 1], ['single:carol', false, '', 1], ['group:g1', false, draft, 1],
  ]);

  // New messages in unpinned conversations move them up among the unpinned only.
  await deliver(carol, 'groupChat', 'g1', 'group fourth', [[alice, 'group:g1']]);
  assert.deepEqual(listed(alice.chat), [
    ['single:bob', true, '', 1], ['group:g1', false, draft, 2], ['single:carol', false, '', 1],
  ]);
  await deliver(alice, 'singleChat', 'carol', 'alice answers carol', [[carol, 'single:alice']]);
  assert.deepEqual(listed(alice.chat).map(([c]) => c), ['single:bob', 'single:carol', 'group:g1']);

  // The app quits; carol writes meanwhile; the app starts again on the same storage and logs in.
  await world.leave(alice);
  const whileAway = await send(carol, { type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'while alice was away' });
  const reopened = await mpchat.createChat({ user: 'alice', storage, profile: PROFILES.alice });
  assert.equal(reopened.draft('group:g1'), draft);
  assert.deepEqual(listed(reopened).map(([c, pinned, d]) => [c, pinned, d]), [
    ['single:bob', true, ''], ['single:carol', false, ''], ['group:g1', false, draft],
  ]);
  alice = await world.device('alice', { chat: reopened, storage });
  await arrival(alice.chat, 'group:g1', whileAway.id);
  assert.deepEqual(listed(alice.chat), [
    ['single:bob', true, '', 1], ['group:g1', false, draft, 3], ['single:carol', false, '', 1],
  ]);

  // Reading conversations changes neither pins nor drafts.
  for (const c of ['single:bob', 'group:g1', 'single:carol']) alice.chat.markRead(c);
  assert.deepEqual(listed(alice.chat), [
    ['single:bob', true, '', 0], ['group:g1', false, draft, 0], ['single:carol', false, '', 0],
  ]);

  // Unpinned, bob's conversation takes its place by activity; an empty draft clears it. Both are kept.
  assert.equal(alice.chat.pin('single:bob', false).outcome, 'updated');
  assert.equal(alice.chat.setDraft('group:g1', '').outcome, 'updated');
  assert.equal(alice.chat.draft('group:g1'), '');
  await deliver(bob, 'singleChat', 'alice', 'bob again', [[alice, 'single:bob']]);
  const expected = [['single:bob', false, '', 1], ['group:g1', false, '', 0], ['single:carol', false, '', 0]];
  assert.deepEqual(listed(alice.chat), expected);
  await world.leave(alice);
  assert.deepEqual(listed(await mpchat.createChat({ user: 'alice', storage })), expected);
});
