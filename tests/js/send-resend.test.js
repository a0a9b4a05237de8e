// Sends that do not go as planned, through dist/mpchat with a scripted SDK 4.x connection (the end-to-end
// suites drive the real SDKs): a send the app was killed during is failed after a restart and sent again with
// chat.resend as the same record; a send the SDK refused, one whose acknowledgement came after the timeout,
// and one whose socket dropped.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { repoRoot } = require('./support/phone')
const { createWxStorage } = require('./support/wx-storage')
const { fakeSdk, ack, never } = require('./support/fake-send')

const mpchat = require(path.join(repoRoot, 'dist', 'mpchat', 'index.js'))

const plain = (value) => JSON.parse(JSON.stringify(value))
const rows = (chat, conversation) => chat.history(conversation, { limit: 100 }).map((r) => [r.id, r.status, r.text])

/** wx storage an app can be killed on: after kill(), no write reaches it (the process is gone). */
function killableStorage() {
  const storage = createWxStorage()
  let dead = false
  return {
    storage: new Proxy(storage, {
      get(target, name) {
        if (dead && (name === 'setStorageSync' || name === 'removeStorageSync')) return () => { throw new Error(`${String(name)}:fail the app was killed`) }
        return target[name]
      },
    }),
    raw: storage,
    kill() { dead = true },
  }
}

function published(chat) {
  const seen = []
  chat.subscribe('*', (record, info) => seen.push([record.status, record.id, info.previousId]))
  return seen
}

test('a message being sent when the app is killed is failed after the restart, and resend sends it as the same record', async () => {
  const app = killableStorage()
  const first = fakeSdk(never)
  const chat = await mpchat.createChat({ user: 'alice', storage: app.storage, profile: { nickname: 'Alice' }, sendTimeoutMs: 200 })
  chat.receive({ id: 'in1', type: 'txt', chatType: 'singleChat', from: 'bob', to: 'alice', time: 1000, msg: 'are you there?' })
  const sending = chat.send(first.conn, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'yes! [):]' }, { WebIM: first.WebIM })
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(rows(chat, 'single:bob').at(-1), ['local1', 'sending', 'yes! [):]'])
  app.kill()
  await sending // the killed app's timer still fires here; nothing it writes reaches storage

  // The restart: opening turns what was left sending into failed, and says so.
  const restarted = await mpchat.createChat({ user: 'alice', storage: app.raw, profile: { nickname: 'Alice' } })
  assert.equal(restarted.openReport().failedSends, 1)
  assert.deepEqual(rows(restarted, 'single:bob'), [['in1', 'received', 'are you there?'], ['local1', 'failed', 'yes! [):]']])
  assert.equal(plain(restarted.conversations())[0].last.status, 'failed')

  // The user taps the failed message: it goes out again as the same message, and becomes the server's.
  const second = fakeSdk(ack('srv1', 5000))
  restarted.attach(second.conn)
  const seen = published(restarted)
  const resent = plain(await restarted.resend(second.conn, 'local1', { WebIM: second.WebIM }))
  assert.deepEqual([resent.id, resent.status, resent.text, resent.time], ['srv1', 'sent', 'yes! [):]', 5000])
  assert.deepEqual(resent.segments.map((s) => s.type), ['txt', 'emoji'])
  assert.deepEqual(seen, [['sending', 'local1', undefined], ['sent', 'srv1', 'local1']])
  assert.equal(second.sent.length, 1)
  assert.deepEqual([second.sent[0].id, second.sent[0].msg, second.sent[0].to, second.sent[0].ext.userNickname], ['local1', 'yes! [):]', 'bob', 'Alice'])
  assert.deepEqual(rows(restarted, 'single:bob'), [['in1', 'received', 'are you there?'], ['srv1', 'sent', 'yes! [):]']])

  // And nothing is failed at the next start.
  const again = await mpchat.createChat({ user: 'alice', storage: app.raw })
  assert.equal(again.openReport().failedSends, 0)
  assert.deepEqual(rows(again, 'single:bob'), [['in1', 'received', 'are you there?'], ['srv1', 'sent', 'yes! [):]']])
})

test('a killed app\'s image send, failed at restart, is rebuilt with its fields and ext for the resend', async () => {
  const app = killableStorage()
  const first = fakeSdk(never)
  const chat = await mpchat.createChat({ user: 'alice', storage: app.storage, sendTimeoutMs: 200 })
  const input = { type: 'img', chatType: 'groupChat', to: 'g1', url: 'https://files.example/p.png', width: 64, height: 48, file_length: 999, ext: { mood: 'happy' } }
  const sending = chat.send(first.conn, input, { WebIM: first.WebIM })
  await new Promise((resolve) => setImmediate(resolve))
  app.kill()
  await sending
  const restarted = await mpchat.createChat({ user: 'alice', storage: app.raw })
  const [failed] = plain(restarted.history('group:g1'))
  assert.deepEqual([failed.id, failed.status], ['local1', 'failed'])
  const second = fakeSdk(ack('srv9'))
  const resent = plain(await restarted.resend(second.conn, failed.id, { WebIM: second.WebIM }))
  assert.deepEqual([resent.id, resent.status, resent.body], ['srv9', 'sent', { url: 'https://files.example/p.png', file_length: 999, width: 64, height: 48 }])
  const message = second.sent[0]
  assert.deepEqual([message.id, message.chatType, message.to, message.url, message.width, message.file_length, message.ext.mood],
    ['local1', 'groupChat', 'g1', 'https://files.example/p.png', 64, 999, 'happy'])
})

test('a killed app\'s quote reply with mentions, failed at restart, is resent with the quote and mentions it went out with', async () => {
  const app = killableStorage()
  const first = fakeSdk(never)
  const chat = await mpchat.createChat({ user: 'alice', storage: app.storage, sendTimeoutMs: 200 })
  chat.receive({ id: 'q1', type: 'txt', chatType: 'groupChat', from: 'bob', to: 'g1', time: 1000, msg: 'lunch at noon?', ext: { userNickname: 'Bob' } })
  const sending = chat.send(first.conn, { type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'yes', quote: 'q1', mentions: ['bob'] }, { WebIM: first.WebIM })
  await new Promise((resolve) => setImmediate(resolve))
  const quoteSent = first.sent[0].ext.msgQuote
  assert.deepEqual([quoteSent.msgID, quoteSent.msgPreview, first.sent[0].ext.em_at_list], ['q1', 'lunch at noon?', ['bob']])
  app.kill()
  await sending
  const restarted = await mpchat.createChat({ user: 'alice', storage: app.raw })
  assert.deepEqual(rows(restarted, 'group:g1').at(-1), ['local1', 'failed', 'yes'])
  const second = fakeSdk(ack('srv7'))
  const resent = plain(await restarted.resend(second.conn, 'local1', { WebIM: second.WebIM }))
  assert.deepEqual([resent.id, resent.status, resent.quote && resent.quote.id, resent.mentions], ['srv7', 'sent', 'q1', ['bob']])
  const message = second.sent[0]
  assert.deepEqual([message.id, message.msg, message.ext.msgQuote, message.ext.em_at_list], ['local1', 'yes', quoteSent, ['bob']])
})

test('a send the SDK refuses is failed with its error; resend sends the very same SDK message again', async () => {
  const sdk = fakeSdk((message, n) => (n === 1 ? Promise.reject({ type: 507, message: 'you are muted' }) : ack('srv2')(message)))
  const chat = await mpchat.createChat({ user: 'alice', storage: createWxStorage() })
  const seen = published(chat)
  const failed = plain(await chat.send(sdk.conn, { type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'hello?' }, { WebIM: sdk.WebIM }))
  assert.deepEqual([failed.id, failed.status, failed.error], ['local1', 'failed', { code: 507, message: 'you are muted' }])
  const resent = plain(await chat.resend(sdk.conn, 'local1', { WebIM: sdk.WebIM }))
  assert.deepEqual([resent.id, resent.status], ['srv2', 'sent'])
  assert.equal(sdk.sent[1], sdk.sent[0], 'the same message object, same local id')
  assert.deepEqual(seen, [['sending', 'local1', undefined], ['failed', 'local1', undefined], ['sending', 'local1', undefined], ['sent', 'srv2', 'local1']])
  assert.deepEqual(rows(chat, 'group:g1'), [['srv2', 'sent', 'hello?']])
  // Once sent, it is not sent again.
  await assert.rejects(chat.resend(sdk.conn, 'srv2', { WebIM: sdk.WebIM }), /mpchat: resend: record "srv2" is sent, not failed/)
})

test('resend refuses unknown ids, others\' messages and records not failed, and changes nothing', async () => {
  const sdk = fakeSdk(ack('srv1'))
  const chat = await mpchat.createChat({ user: 'alice', storage: createWxStorage() })
  chat.receive({ id: 'in1', type: 'txt', chatType: 'singleChat', from: 'bob', to: 'alice', time: 1000, msg: 'hi' })
  await chat.send(sdk.conn, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'hi bob' }, { WebIM: sdk.WebIM })
  const before = rows(chat, 'single:bob')
  const table = [
    ['nope', Error, /mpchat: resend: no record "nope" in this chat/],
    ['in1', Error, /mpchat: resend: record "in1" is a message someone else sent/],
    ['srv1', Error, /mpchat: resend: record "srv1" is sent, not failed/],
    ['', TypeError, /resend needs the id of a failed record/],
    [42, TypeError, /resend needs the id of a failed record/],
  ]
  for (const [id, type, message] of table) {
    await assert.rejects(chat.resend(sdk.conn, id, { WebIM: sdk.WebIM }), (err) => err instanceof type && message.test(err.message), String(id))
  }
  await assert.rejects(chat.resend(undefined, 'srv1', { WebIM: sdk.WebIM }), /resend needs the SDK connection/)
  assert.deepEqual(rows(chat, 'single:bob'), before)
  assert.equal(sdk.sent.length, 1)
})

test('no acknowledgement within sendTimeoutMs: failed; the acknowledgement that comes later still makes it sent', async () => {
  let late
  const sdk = fakeSdk(() => new Promise((resolve) => { late = resolve }))
  const storage = createWxStorage()
  const chat = await mpchat.createChat({ user: 'alice', storage, sendTimeoutMs: 50 })
  const seen = published(chat)
  const failed = plain(await chat.send(sdk.conn, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'slow' }, { WebIM: sdk.WebIM }))
  assert.deepEqual([failed.status, failed.error.code], ['failed', 'timeout'])
  assert.match(failed.error.message, /within 50 ms/)
  late({ serverMsgId: 'srv-late', message: { id: 'srv-late', time: 7000 } })
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(seen.at(-1), ['sent', 'srv-late', 'local1'])
  assert.deepEqual(rows(chat, 'single:bob'), [['srv-late', 'sent', 'slow']])
  const reopened = await mpchat.createChat({ user: 'alice', storage })
  assert.equal(reopened.openReport().failedSends, 0)
  assert.deepEqual(rows(reopened, 'single:bob'), [['srv-late', 'sent', 'slow']])
})

test('a socket lost mid-send: the same message goes out again once the SDK says it is connected', async () => {
  const sdk = fakeSdk((message, n) => {
    if (n === 1) {
      sdk.conn.open = false
      return Promise.reject({ type: 510, message: 'websocket disconnected' })
    }
    return ack('srv3')(message)
  })
  const chat = await mpchat.createChat({ user: 'alice', storage: createWxStorage() })
  chat.attach(sdk.conn)
  const seen = published(chat)
  const sending = chat.send(sdk.conn, { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'through the tunnel' }, { WebIM: sdk.WebIM })
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.deepEqual([sdk.sent.length, rows(chat, 'single:bob')], [1, [['local1', 'sending', 'through the tunnel']]], 'waits for the connection')
  sdk.conn.open = true
  sdk.conn.emit('onConnected')
  const record = plain(await sending)
  assert.deepEqual([record.id, record.status], ['srv3', 'sent'])
  assert.equal(sdk.sent[1], sdk.sent[0], 'the same message again')
  assert.deepEqual(seen, [['sending', 'local1', undefined], ['sent', 'srv3', 'local1']])
})

test('createChat checks sendTimeoutMs', async () => {
  for (const bad of [0, -1, Number.NaN, Infinity, '100', 2 ** 31]) {
    await assert.rejects(mpchat.createChat({ user: 'alice', storage: createWxStorage(), sendTimeoutMs: bad }),
      (err) => err instanceof TypeError && /sendTimeoutMs must be a number of milliseconds/.test(err.message), String(bad))
  }
  await mpchat.createChat({ user: 'alice', storage: createWxStorage(), sendTimeoutMs: 1 })
})
