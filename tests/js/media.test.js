// Pictures, voice, video and files the phone picked, sent with chat.send(conn, { …, file: { path } }) through
// dist/mpchat, with a scripted SDK 4.x connection and a scripted wx.uploadFile (e2e-media.test.js drives the
// real SDKs and the loopback server): the record is stored at once with the phone's path, the upload's progress
// is published and never stored, the record ends sent under the server id with the server's URL; a failed
// upload fails the record and resend uploads again; bad input is refused before anything is stored.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { repoRoot } = require('./support/phone')
const { createWxStorage } = require('./support/wx-storage')
const { fakeSdk, ack } = require('./support/fake-send')

const mpchat = require(path.join(repoRoot, 'dist', 'mpchat', 'index.js'))

const API = 'https://a1.example.com'
const CHATFILES = `${API}/org/app/chatfiles`
const TOKEN = 'T0K-alice'
const plain = (value) => JSON.parse(JSON.stringify(value))
const tick = () => new Promise((resolve) => setImmediate(resolve))

/** The scripted SDK, with what a logged-in 4.x connection says about where files go. */
function connected(reply) {
  const sdk = fakeSdk(reply)
  Object.assign(sdk.conn, { apiUrl: API, appKey: 'org#app', context: { accessToken: TOKEN } })
  return sdk
}

/**
 * A wx with uploadFile and getFileSystemManager().accessSync over the paths in `files`. Each upload waits for
 * the test: `uploads[i].progress(p)`, `.succeed(uuid)` (the chatfiles answer) or `.refuse(status, text)`.
 */
function phone(files) {
  const uploads = []
  const wx = {
    uploadFile(options) {
      const listeners = []
      const upload = {
        options,
        progress: (p) => { for (const l of listeners) l({ progress: p, totalBytesSent: p, totalBytesExpectedToSend: 100 }) },
        succeed: (uuid) => options.success({ statusCode: 200, data: JSON.stringify({ uri: CHATFILES, entities: [{ uuid, type: 'chatfile', 'share-secret': `secret-${uuid}` }] }) }),
        refuse: (statusCode, description) => options.success({ statusCode, data: JSON.stringify({ error: 'upload_failed', error_description: description }) }),
        fail: (errMsg) => options.fail({ errMsg }),
      }
      uploads.push(upload)
      return { onProgressUpdate: (l) => listeners.push(l), abort() {} }
    },
    getFileSystemManager: () => ({
      accessSync(p) { if (!files.has(p)) throw new Error(`accessSync:fail no such file or directory ${p}`) },
    }),
  }
  return { wx, uploads, files }
}

/** Storage whose writes are counted. */
function countedStorage() {
  const storage = createWxStorage()
  const counted = { writes: 0 }
  counted.storage = new Proxy(storage, {
    get(target, name) {
      if (name === 'setStorageSync') return (...args) => { counted.writes++; return target.setStorageSync(...args) }
      return target[name]
    },
  })
  return counted
}

function published(chat) {
  const seen = []
  chat.subscribe('*', (record, info) => seen.push({ record: plain(record), previousId: info.previousId }))
  return seen
}

test('a picked picture: stored at once with the phone\'s path, progress published but never stored, then sent with the server\'s URL', async () => {
  const { storage, ...counts } = countedStorage()
  const sdk = connected(ack('srv1', 5000))
  const { wx, uploads } = phone(new Set(['wxfile://tmp_trail.png']))
  const chat = await mpchat.createChat({ user: 'alice', storage, profile: { nickname: 'Alice' } })
  const seen = published(chat)
  const percents = []
  const sending = chat.send(sdk.conn, {
    type: 'img', chatType: 'singleChat', to: 'bob', file: { path: 'wxfile://tmp_trail.png', width: 640, height: 480, size: 2048 },
  }, { WebIM: sdk.WebIM, wx, onProgress: (p) => percents.push(p) })
  await tick()

  // At once: 'sending', showing the phone's own file.
  const [stored] = plain(chat.history('single:bob'))
  assert.deepEqual([stored.id, stored.status, stored.body], ['local1', 'sending', { url: 'wxfile://tmp_trail.png', width: 640, height: 480, file_length: 2048 }])
  assert.equal(sdk.sent.length, 0, 'nothing is sent before the file is up')
  assert.equal(uploads.length, 1)
  const { options } = uploads[0]
  assert.deepEqual([options.url, options.filePath, options.name, options.header.Authorization], [CHATFILES, 'wxfile://tmp_trail.png', 'file', `Bearer ${TOKEN}`])

  // Progress, one percent at a time: onProgress hears each, subscribers one every 5% or more, storage nothing.
  const writesBefore = counts.writes
  for (let p = 1; p <= 100; p++) uploads[0].progress(p)
  uploads[0].progress(40) // a late, lower report changes nothing
  assert.equal(counts.writes, writesBefore, 'no storage write while the file goes up')
  assert.deepEqual(percents, Array.from({ length: 100 }, (_, i) => i + 1))
  const progress = seen.filter((s) => s.record.progress !== undefined)
  const steps = progress.map((s) => s.record.progress)
  assert.equal(steps[0], 1)
  assert.equal(steps.at(-1), 100)
  for (let i = 1; i < steps.length; i++) assert.ok(steps[i] - steps[i - 1] >= 5 || steps[i] === 100, `steps ${steps}`)
  assert.ok(steps.length <= 21, `${steps.length} publishes`)
  for (const { record } of progress) assert.deepEqual([record.id, record.status, record.body.url], ['local1', 'sending', 'wxfile://tmp_trail.png'])
  assert.equal(plain(chat.history('single:bob'))[0].progress, undefined)

  uploads[0].succeed('u1')
  const sent = plain(await sending)
  assert.deepEqual([sent.id, sent.status, sent.time, sent.body], ['srv1', 'sent', 5000, { url: `${CHATFILES}/u1`, width: 640, height: 480, file_length: 2048 }])
  assert.equal(sent.progress, undefined)
  // The message went out with the server's URL, its size, the share secret and the sender's profile.
  assert.equal(sdk.sent.length, 1)
  const message = sdk.sent[0]
  assert.deepEqual([message.id, message.type, message.url, message.width, message.height, message.file_length, message.secret, message.ext.userNickname],
    ['local1', 'img', `${CHATFILES}/u1`, 640, 480, 2048, 'secret-u1', 'Alice'])
  // Subscribers: sending (phone path), progress…, sending (server URL), sent under the server id.
  const statuses = seen.filter((s) => s.record.progress === undefined).map((s) => [s.record.status, s.record.id, s.record.body.url, s.previousId])
  assert.deepEqual(statuses, [
    ['sending', 'local1', 'wxfile://tmp_trail.png', undefined],
    ['sending', 'local1', `${CHATFILES}/u1`, undefined],
    ['sent', 'srv1', `${CHATFILES}/u1`, 'local1'],
  ])
  // After a restart: the server's URL, and no token anywhere in the record.
  const reopened = await mpchat.createChat({ user: 'alice', storage })
  const [kept] = plain(reopened.history('single:bob'))
  assert.deepEqual([kept.id, kept.status, kept.body.url], ['srv1', 'sent', `${CHATFILES}/u1`])
  assert.doesNotMatch(JSON.stringify(kept), /T0K|secret-u1/)
})

test('a refused upload fails the record with the phone\'s path kept; resend uploads it again and sends it', async () => {
  const storage = createWxStorage()
  const sdk = connected(ack('srv2'))
  const { wx, uploads } = phone(new Set(['wxfile://tmp_route.pdf']))
  const chat = await mpchat.createChat({ user: 'alice', storage })
  const seen = published(chat)
  const sending = chat.send(sdk.conn, {
    type: 'file', chatType: 'groupChat', to: 'g1', file: { path: 'wxfile://tmp_route.pdf', name: '路线.pdf', size: 77 },
  }, { WebIM: sdk.WebIM, wx })
  await tick()
  uploads[0].progress(30)
  uploads[0].refuse(413, 'the file is too large')
  const failed = plain(await sending)
  assert.deepEqual([failed.id, failed.status, failed.error], ['local1', 'failed', { code: 'upload', status: 413, message: 'the server refused the upload (HTTP 413: the file is too large)' }])
  assert.deepEqual(failed.body, { url: 'wxfile://tmp_route.pdf', filename: '路线.pdf', file_length: 77 })
  assert.equal(sdk.sent.length, 0)
  assert.deepEqual(seen.at(-1).record.status, 'failed')
  assert.deepEqual(plain(chat.history('group:g1')).map((r) => [r.id, r.status, r.body.url]), [['local1', 'failed', 'wxfile://tmp_route.pdf']])

  // The user taps it: the same file goes up again, then the message goes out as the same record.
  const resending = chat.resend(sdk.conn, 'local1', { WebIM: sdk.WebIM, wx })
  await tick()
  assert.equal(uploads.length, 2)
  assert.equal(uploads[1].options.filePath, 'wxfile://tmp_route.pdf')
  uploads[1].succeed('u2')
  const resent = plain(await resending)
  assert.deepEqual([resent.id, resent.status, resent.body], ['srv2', 'sent', { url: `${CHATFILES}/u2`, filename: '路线.pdf', file_length: 77 }])
  const message = sdk.sent[0]
  assert.deepEqual([message.id, message.body.url, message.body.filename, message.body.file_length, message.body.secret], ['local1', `${CHATFILES}/u2`, '路线.pdf', 77, 'secret-u2'])
})

test('after a restart, resend uploads a file whose upload never finished; a file the phone lost is a clear error', async () => {
  const storage = createWxStorage()
  const first = connected(ack('never used'))
  const pics = phone(new Set(['wxfile://tmp_a.png', 'wxfile://tmp_b.mp3']))
  const chat = await mpchat.createChat({ user: 'alice', storage })
  const one = chat.send(first.conn, { type: 'img', chatType: 'singleChat', to: 'bob', file: { path: 'wxfile://tmp_a.png' } }, { WebIM: first.WebIM, wx: pics.wx })
  const two = chat.send(first.conn, { type: 'audio', chatType: 'singleChat', to: 'bob', file: { path: 'wxfile://tmp_b.mp3', duration: 3 } }, { WebIM: first.WebIM, wx: pics.wx })
  await tick()
  pics.uploads[0].fail('uploadFile:fail timeout')
  pics.uploads[1].fail('uploadFile:fail network down')
  assert.deepEqual((await one).error, { code: 'upload', message: 'uploadFile:fail timeout' })
  await two

  // WeChat restarted: the picture is still there, the voice message's file is gone.
  pics.files.delete('wxfile://tmp_b.mp3')
  const restarted = await mpchat.createChat({ user: 'alice', storage })
  assert.deepEqual(plain(restarted.history('single:bob')).map((r) => [r.id, r.status]), [['local1', 'failed'], ['local2', 'failed']])
  const second = connected(ack('srv3'))
  const resending = restarted.resend(second.conn, 'local1', { WebIM: second.WebIM, wx: pics.wx })
  await tick()
  assert.equal(pics.uploads.length, 3)
  pics.uploads[2].succeed('u3')
  assert.deepEqual(plain(await resending).body.url, `${CHATFILES}/u3`)
  await assert.rejects(restarted.resend(second.conn, 'local2', { WebIM: second.WebIM, wx: pics.wx }),
    /mpchat: resend: the file of this message \("wxfile:\/\/tmp_b\.mp3"\) is no longer on the phone/)
  assert.deepEqual(plain(restarted.history('single:bob')).map((r) => [r.id, r.status]), [['local2', 'failed'], ['srv3', 'sent']])
  assert.equal(pics.uploads.length, 3, 'nothing uploaded for the lost file')
})

test('a file that went up but whose message the server refused is sent again without a second upload, also after a restart', async () => {
  const storage = createWxStorage()
  const sdk = connected((message, n) => (n <= 2 ? Promise.reject({ type: 507, message: 'you are muted' }) : ack(`srv${n}`)(message)))
  const { wx, uploads } = phone(new Set(['http://tmp/clip.mp4', 'http://tmp/poster.jpg']))
  const chat = await mpchat.createChat({ user: 'alice', storage })
  const sending = chat.send(sdk.conn, {
    type: 'video', chatType: 'singleChat', to: 'bob', file: { path: 'http://tmp/clip.mp4', duration: 12, size: 5000, thumb: 'http://tmp/poster.jpg' },
  }, { WebIM: sdk.WebIM, wx })
  await tick()
  assert.equal(plain(chat.history('single:bob'))[0].body.thumb, 'http://tmp/poster.jpg')
  uploads[0].succeed('clip')
  await tick()
  assert.equal(uploads[1].options.filePath, 'http://tmp/poster.jpg', 'the poster goes up after the video')
  uploads[1].succeed('poster')
  const failed = plain(await sending)
  assert.deepEqual([failed.status, failed.error.code], ['failed', 507])
  // DevTools' http://tmp/ paths are the phone's; once up, the record names the server's files.
  assert.deepEqual(failed.body, { url: `${CHATFILES}/clip`, filename: 'clip.mp4', length: 12, file_length: 5000, thumb: `${CHATFILES}/poster` })
  assert.deepEqual([sdk.sent[0].body.url, sdk.sent[0].thumb || sdk.sent[0].body.thumb], [`${CHATFILES}/clip`, `${CHATFILES}/poster`])

  // In this session: the very message again. After a restart: rebuilt from the record, its server URLs.
  const again = plain(await chat.resend(sdk.conn, 'local1', { WebIM: sdk.WebIM, wx }))
  assert.equal(again.status, 'failed')
  assert.equal(sdk.sent[1], sdk.sent[0])
  const restarted = await mpchat.createChat({ user: 'alice', storage })
  assert.equal(plain(restarted.history('single:bob'))[0].body.url, `${CHATFILES}/clip`)
  const resent = plain(await restarted.resend(sdk.conn, 'local1', { WebIM: sdk.WebIM, wx }))
  assert.deepEqual([resent.id, resent.status, resent.body.url], ['srv3', 'sent', `${CHATFILES}/clip`])
  assert.equal(sdk.sent[2].body.url, `${CHATFILES}/clip`)
  assert.equal(uploads.length, 2, 'no second upload')
})

test('a voice message takes its duration and file name from the path; the token is read at upload time', async () => {
  const sdk = connected(ack('srv1'))
  sdk.conn.context = {}
  const { wx, uploads } = phone(new Set(['wxfile://tmp_voice_123.aac']))
  const chat = await mpchat.createChat({ user: 'alice', storage: createWxStorage() })
  const failed = plain(await chat.send(sdk.conn, { type: 'audio', chatType: 'singleChat', to: 'bob', file: { path: 'wxfile://tmp_voice_123.aac', duration: 4 } }, { WebIM: sdk.WebIM, wx }))
  assert.deepEqual([failed.status, failed.error.code, uploads.length], ['failed', 'upload', 0])
  assert.match(failed.error.message, /not logged in/)
  sdk.conn.token = 'T0K-renewed'
  const resending = chat.resend(sdk.conn, 'local1', { WebIM: sdk.WebIM, wx })
  await tick()
  assert.equal(uploads[0].options.header.Authorization, 'Bearer T0K-renewed')
  uploads[0].succeed('v1')
  const sent = plain(await resending)
  assert.deepEqual(sent.body, { url: `${CHATFILES}/v1`, filename: 'tmp_voice_123.aac', length: 4 })
  assert.deepEqual([sdk.sent[0].body.length, sdk.sent[0].body.filename], [4, 'tmp_voice_123.aac'])
})

test('bad file input is refused with what to fix, before anything is stored or uploaded', async () => {
  const sdk = connected(ack('srv1'))
  const { wx, uploads } = phone(new Set(['wxfile://tmp_ok.png']))
  const chat = await mpchat.createChat({ user: 'alice', storage: createWxStorage() })
  const base = { chatType: 'singleChat', to: 'bob' }
  const ok = { path: 'wxfile://tmp_ok.png' }
  const table = [
    [{ type: 'txt', msg: 'hi', file: ok }, TypeError, /only img, audio, video and file messages take a file to upload, not "txt"/],
    [{ type: 'loc', lat: 1, lng: 2, file: ok }, TypeError, /not "loc"/],
    [{ type: 'img', file: 'wxfile://tmp_ok.png' }, TypeError, /`file` must be \{ path, name\?/],
    [{ type: 'img', file: {} }, TypeError, /file\.path is required/],
    [{ type: 'img', file: { path: '' } }, TypeError, /file\.path is required/],
    [{ type: 'img', file: { ...ok, size: -1 } }, TypeError, /file\.size must be a number ≥ 0 \(bytes\)/],
    [{ type: 'audio', file: { ...ok, duration: '3s' } }, TypeError, /file\.duration must be a number ≥ 0 \(seconds\)/],
    [{ type: 'file', file: { ...ok, name: 7 } }, TypeError, /file\.name must be a string/],
    [{ type: 'img', file: { ...ok, thumb: 'wxfile://tmp_ok.png' } }, TypeError, /file\.thumb \(a poster\) is for video only/],
    [{ type: 'img', url: 'https://x/p.png', file: ok }, TypeError, /pass `url` \(a file already uploaded\) or `file` \(one to upload\), not both/],
    [{ type: 'img', file: { path: 'wxfile://tmp_missing.png' } }, Error, /file\.path "wxfile:\/\/tmp_missing\.png" is not on the phone/],
    [{ type: 'img', chatType: 'nonsense', file: ok }, Error, /chatType/],
  ]
  for (const [input, type, message] of table) {
    await assert.rejects(chat.send(sdk.conn, { ...base, ...input }, { WebIM: sdk.WebIM, wx }),
      (err) => err instanceof type && message.test(err.message), JSON.stringify(input))
  }
  // Without wx.uploadFile (outside a mini-program, no { wx }), or a connection that names no server.
  await assert.rejects(chat.send(sdk.conn, { ...base, type: 'img', file: ok }, { WebIM: sdk.WebIM }), /sending a file needs wx\.uploadFile/)
  const nowhere = connected(ack('srv1'))
  delete nowhere.conn.apiUrl
  await assert.rejects(chat.send(nowhere.conn, { ...base, type: 'img', file: ok }, { WebIM: nowhere.WebIM, wx }), /needs the connection's apiUrl and appKey/)
  assert.deepEqual(chat.conversations(), [])
  assert.equal(uploads.length, 0)
  assert.equal(sdk.sent.length, 0)
})
