'use strict';
// End-to-end: pictures, files and voice messages picked on alice's phone and sent with chat.send(conn, { …, file:
// { path } }), with real easemob-websdk clients of the release under test (EASEMOB_SDK, the newest by default) on
// the loopback server on 127.0.0.1. mpchat uploads with wx.uploadFile (the fake wx of the loopback: the SDK's own
// file upload needs XMLHttpRequest, which no mini-program has), the SDK sends the server's URL, and bob's phone and
// alice's pad receive records whose URLs download, with wx.downloadFile, to the bytes alice picked.
// Releases with only a web build (3.6.3, 4.0.8) log in over the WebSocket listener; mpchat's uploads and the
// downloads then go through a loopback wx of their own, as a mini-program shipping that release would have.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const { createFakeWx } = require(path.join(root, 'loopback', 'fake-wx.js'));
const { temporaryFiles } = require(path.join(root, 'loopback', 'client.js'));
const { tagged } = require('./support/sdk.js');
const { openWorld } = require('./support/world.js');
const { plain, arrival } = require('./support/records.js');

const GUARD = { timeout: 60000 };
const wxCall = (fn, options) => new Promise((resolve, reject) => fn({ ...options, success: resolve, fail: reject }));

/**
 * The world, with alice's phone and pad and bob's phone, a folder for the files alice picks, and the wx each
 * device uploads and downloads with (the SDK's own where it runs on one, else a loopback wx for the device).
 */
async function openFiles(t) {
  const world = await openWorld(t, { users: ['alice', 'bob'] });
  const own = [];
  const wxOf = (d) => {
    if (d.client.wx) return d.client.wx;
    const files = temporaryFiles();
    own.push(files);
    return createFakeWx({ http: world.server.wxHttp, files });
  };
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'mpchat-picked-'));
  t.after(() => {
    for (const files of own) files.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const alice = await world.device('alice');
  const pad = await world.device('alice', { device: 'pad' });
  const bob = await world.device('bob');
  const pick = (name, bytes) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };
  return { world, alice, pad, bob, wx: { alice: wxOf(alice), pad: wxOf(pad), bob: wxOf(bob) }, pick };
}

// (type, the file as picked, its bytes, what the received record's body says besides its URL)
const PICKED = [
  ['img', { name: 'trail.png', width: 640, height: 480 }, Buffer.from('89504e470d0a1a0a0000000d49484452 a picture', 'hex'),
    { width: 640, height: 480 }],
  ['file', { name: '路线.pdf' }, Buffer.from('%PDF-1.4 the route up the hill'), { filename: '路线.pdf' }],
  ['audio', { name: 'hello.mp3', duration: 3 }, Buffer.from('ID3 a voice message of three seconds'), { length: 3 }],
];

test(tagged('files: a picture, a file and a voice message picked on alice\'s phone go up with chat.send; bob and her pad download the same bytes', 'files', 'single'), GUARD, async (t) => {
  const { world, alice, pad, bob, wx, pick } = await openFiles(t);
  const chatfiles = `http://127.0.0.1:${world.server.port}/${world.server.appKey.replace('#', '/')}/chatfiles/`;
  for (const [type, picked, bytes, fields] of PICKED) {
    const filePath = pick(picked.name, bytes);
    const progress = [];
    const published = [];
    const off = alice.chat.subscribe('single:bob', (record) => published.push(plain(record)));
    const sent = plain(await alice.chat.send(alice.client.conn, {
      type, chatType: 'singleChat', to: 'bob', file: { path: filePath, size: bytes.length, ...picked },
    }, { WebIM: alice.client.WebIM, wx: wx.alice, onProgress: (p) => progress.push(p) }));
    off();
    assert.equal(sent.status, 'sent', `${type}: ${JSON.stringify(sent.error)}`);
    assert.ok(sent.body.url.startsWith(chatfiles), `${type}: ${sent.body.url}`);
    assert.equal(sent.body.file_length, bytes.length);
    // The page saw the picked file at once, the upload rise to 100%, and the message sent.
    assert.deepEqual([published[0].status, published[0].body.url], ['sending', filePath]);
    assert.equal(progress.at(-1), 100, type);
    assert.ok(published.some((r) => r.progress === 100), type);
    assert.deepEqual([published.at(-1).status, published.at(-1).id], ['sent', sent.id]);

    for (const [who, d, conversation] of [['bob', bob, 'single:alice'], ['pad', pad, 'single:bob']]) {
      const got = await arrival(d.chat, conversation, sent.id);
      assert.deepEqual([got.type, got.from, got.direction], [type, 'alice', who === 'pad' ? 'out' : 'in'], `${type} ${who}`);
      for (const [key, value] of Object.entries(fields)) assert.equal(got.body[key], value, `${type} ${who}: ${key}`);
      assert.ok(got.body.url.startsWith(chatfiles), `${type} ${who}: ${got.body.url}`);
      assert.doesNotMatch(JSON.stringify(got), /secret/i, `${type} ${who}: the file's share secret stays off the phone's storage`);
      const download = await wxCall(wx[who].downloadFile, { url: got.body.url });
      assert.equal(download.statusCode, 200, `${type} ${who}`);
      assert.deepEqual(fs.readFileSync(download.tempFilePath), bytes, `${type} ${who}: the bytes alice picked`);
    }
  }
  assert.deepEqual(alice.chat.history('single:bob').map((r) => [r.type, r.status]), [['img', 'sent'], ['file', 'sent'], ['audio', 'sent']]);
});

test(tagged('files: an upload the server refuses fails the picture; resend uploads it again and bob gets it once', 'files', 'failed'), GUARD, async (t) => {
  const { world, alice, bob, wx, pick } = await openFiles(t);
  const bytes = Buffer.from('89504e470d0a1a0a a summit picture', 'hex');
  const filePath = pick('summit.png', bytes);
  world.server.failNextUpload({ statusCode: 503, description: 'the file store is busy' });
  const input = { type: 'img', chatType: 'singleChat', to: 'bob', file: { path: filePath, width: 320, height: 240 } };
  const sdk = { WebIM: alice.client.WebIM, wx: wx.alice };
  const failed = plain(await alice.chat.send(alice.client.conn, input, sdk));
  assert.deepEqual([failed.status, failed.error.code, failed.error.status, failed.body.url], ['failed', 'upload', 503, filePath]);
  assert.match(failed.error.message, /the file store is busy/);

  const resent = plain(await alice.chat.resend(alice.client.conn, failed.id, sdk));
  assert.equal(resent.status, 'sent', JSON.stringify(resent.error));
  const got = await arrival(bob.chat, 'single:alice', resent.id);
  assert.deepEqual([got.body.width, got.body.height], [320, 240]);
  const download = await wxCall(wx.bob.downloadFile, { url: got.body.url });
  assert.deepEqual(fs.readFileSync(download.tempFilePath), bytes);
  assert.deepEqual(bob.chat.history('single:alice').map((r) => r.id), [resent.id], 'once');
  // A picked file that is gone is refused before anything is stored.
  await assert.rejects(alice.chat.send(alice.client.conn, { ...input, file: { path: `${filePath}.gone` } }, sdk), /is not on the phone/);
  assert.equal(alice.chat.history('single:bob').length, 1);
});
