// The demo's pages (chat, conversation list, login) under miniprogram-simulate, with a fake chat that
// follows the mpchat contract.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const h = require('./fixtures/simulate.js')
const { createFakeContext, record } = require('./fixtures/fake-chat.js')

const T0 = Date.UTC(2024, 4, 1, 12, 0) // 12:00 UTC; the fake formatTime prints HH:MM in UTC
const MIN = 60 * 1000

// A fresh fake chat, injected for the pages; wx navigation calls are captured.
function setup() {
  const ctx = createFakeContext('alice')
  h.context.inject(ctx)
  ctx.navigations = []
  wx.navigateTo = options => ctx.navigations.push(['navigateTo', options.url])
  wx.reLaunch = options => ctx.navigations.push(['reLaunch', options.url])
  return ctx
}

function separators(page) {
  return h.withClass(page, 'time-separator').map(n => h.textOf(n))
}

function bubbles(page) {
  return page.querySelectorAll('.message')
}

test('chat page: a group chat shows each sender\'s name and avatar (or id and default face), emoji images and time separators', async () => {
  const ctx = setup()
  ctx.chat.seed('group:g1', [
    record({ id: '1', from: 'bob', time: T0, text: 'morning [):]', sender: { id: 'bob', nickname: 'Bob', avatar: 'https://img.example/bob.png' } }),
    record({ id: '2', from: 'carol', time: T0 + 3 * MIN, text: 'hi all' }),
    record({ id: '3', from: 'alice', time: T0 + 10 * MIN, text: '[:D][(D)]', status: 'read' }),
    record({ id: '4', from: 'bob', time: T0 + 14 * MIN, type: 'file', body: { filename: 'route.gpx' }, sender: { id: 'bob', nickname: 'Bob' } }),
  ])
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()

  assert.equal(page.data.title, 'Hiking club')
  assert.deepEqual(separators(page), ['12:00', '12:10'])
  const shown = bubbles(page).map(b => [h.textOf(b), h.imageSources(b)])
  assert.deepEqual(shown, [
    ['Bob morning', ['https://img.example/bob.png', '/images/emoji/ee_1.png']],
    ['carol hi all', ['/images/default-avatar.png']],
    ['已读', ['/images/default-avatar.png', '/images/emoji/ee_2.png', '/images/emoji/ee_35.png']],
    ['Bob route.gpx 📄', ['/images/default-avatar.png']],
  ])
  assert.ok(ctx.chat.calls.some(c => c[0] === 'markRead' && c[1] === 'group:g1'))
})

test('chat page: a one-to-one chat shows no sender names, only bubbles', async () => {
  const ctx = setup()
  ctx.chat.seed('single:bob', [
    record({ id: '1', conversation: 'single:bob', from: 'bob', time: T0, text: 'ping', sender: { id: 'bob', nickname: 'Bob' } }),
  ])
  const page = h.mount('pages/chat/index', { conversation: 'single:bob' })
  await h.settle()
  assert.equal(page.data.title, 'Bob', 'the name bob\'s messages carry, while the server has given none')
  assert.deepEqual(bubbles(page).map(b => h.textOf(b)), ['ping'])
})

test('chat page: pulling down loads older pages through history({before, limit}) until none are left', async () => {
  const ctx = setup()
  ctx.chat.seed('group:g1', Array.from({ length: 45 }, (_, i) =>
    record({ id: `r${i}`, from: 'bob', time: T0 + i * MIN, text: `message ${i}` })))
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()

  const steps = [[20, 'r25'], [40, 'r5'], [45, 'r0']] // (messages shown, oldest shown)
  const seen = []
  for (let i = 0; i < steps.length; i++) {
    const texts = bubbles(page).map(b => h.textOf(b))
    seen.push([texts.length, `r${texts[0].split(' ').pop()}`])
    if (i < steps.length - 1) {
      page.querySelector('#list').dispatchEvent('refresherrefresh')
      await h.settle()
    }
  }
  assert.deepEqual(seen, steps)
  const historyCalls = ctx.chat.calls.filter(c => c[0] === 'history').map(c => c[2])
  assert.deepEqual(historyCalls, [{ before: undefined, limit: 20 }, { before: 'r25', limit: 20 }, { before: 'r5', limit: 20 }])
  assert.equal(page.data.hasMore, false)
  assert.match(h.textOf(page), /没有更多消息了/)
})

test('chat page: a record published for the open conversation appears without reloading; detaching unsubscribes', async () => {
  const ctx = setup()
  ctx.chat.seed('group:g1', [record({ id: '1', from: 'bob', time: T0, text: 'first' })])
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()
  const historyCallsBefore = ctx.chat.calls.filter(c => c[0] === 'history').length

  ctx.chat.publish(record({ id: '2', from: 'dave', time: T0 + 30 * MIN, text: 'late [:p]', sender: { id: 'dave', nickname: 'Dave', avatar: 'https://img.example/dave.png' } }))
  ctx.chat.publish(record({ id: '9', conversation: 'group:other', from: 'erin', time: T0 + 31 * MIN, text: 'elsewhere' }))
  await h.settle()

  assert.deepEqual(bubbles(page).map(b => h.textOf(b)), ['bob first', 'Dave late'])
  assert.deepEqual(h.imageSources(bubbles(page)[1]), ['https://img.example/dave.png', '/images/emoji/ee_5.png'])
  assert.deepEqual(separators(page), ['12:00', '12:30'])
  assert.equal(ctx.chat.calls.filter(c => c[0] === 'history').length, historyCallsBefore)

  assert.equal(ctx.chat.subscriberCount('group:g1'), 1)
  page.detach()
  assert.equal(ctx.chat.subscriberCount('group:g1'), 0)
})

test('chat page: sending calls chat.send with the conversation\'s chat type and shows the returned record', async () => {
  const cases = [
    ['group:g1', { type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'hi [):]' }],
    ['single:bob', { type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'hi [):]' }],
    ['chatroom:r1', { type: 'txt', chatType: 'chatRoom', to: 'r1', msg: 'hi [):]' }],
  ]
  for (const [conversation, input] of cases) {
    const ctx = setup()
    const page = h.mount('pages/chat/index', { conversation })
    await h.settle()
    const bar = page.querySelector('#input-bar')
    bar.querySelector('.text').dispatchEvent('input', { detail: { value: 'hi [):]' } })
    await h.settle()
    bar.querySelector('.send').dispatchEvent('tap')
    await h.settle()

    const sends = ctx.chat.calls.filter(c => c[0] === 'send')
    assert.deepEqual(sends.map(c => c.slice(1)), [[ctx.conn, input, { WebIM: ctx.WebIM }]], conversation)
    assert.deepEqual(bubbles(page).map(b => [h.textOf(b), h.imageSources(b).pop()]), [['hi', '/images/emoji/ee_1.png']])
  }
})

test('chat page: a message shows "sending" until send resolves', async () => {
  const ctx = setup()
  let resolveSend
  ctx.chat.send = (conn, input) => new Promise(resolve => { resolveSend = () => resolve(record({ id: 's1', from: 'alice', time: T0, text: input.msg })) })
  const page = h.mount('pages/chat/index', { conversation: 'single:bob' })
  await h.settle()
  page.instance.onSend({ detail: { text: 'are you there' } })
  await h.settle()
  assert.deepEqual(bubbles(page).map(b => h.textOf(b)), ['are you there 发送中'])
  resolveSend()
  await h.settle()
  assert.deepEqual(bubbles(page).map(b => h.textOf(b)), ['are you there'])
})

test('chat page: a failed send shows a retry mark; tapping it sends the same record again (chat.resend)', async () => {
  const ctx = setup()
  const outcomes = ['failed', 'sent']
  ctx.chat.sendResult = () => ({ status: outcomes.shift() })
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()
  page.instance.onSend({ detail: { text: 'are we on [(H)]' } })
  await h.settle()
  assert.deepEqual(bubbles(page).map(b => h.textOf(b)), ['are we on !'])

  bubbles(page)[0].querySelector('.failed').dispatchEvent('tap')
  await h.settle()
  const calls = ctx.chat.calls.filter(c => c[0] === 'send' || c[0] === 'resend').map(c => [c[0], c[2], c[3]])
  assert.deepEqual(calls, [
    ['send', { type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'are we on [(H)]' }, { WebIM: ctx.WebIM }],
    ['resend', 'local-1', { WebIM: ctx.WebIM }],
  ])
  assert.deepEqual(bubbles(page).map(b => h.textOf(b)), ['are we on'])
})

test('chat page: a send that throws is kept on screen as failed and can be retried', async () => {
  const ctx = setup()
  const realSend = ctx.chat.send.bind(ctx.chat)
  let attempts = 0
  ctx.chat.send = (...args) => (++attempts === 1 ? Promise.reject(new Error('socket closed')) : realSend(...args))
  const page = h.mount('pages/chat/index', { conversation: 'single:bob' })
  await h.settle()
  page.instance.onSend({ detail: { text: 'offline?' } })
  await h.settle()
  assert.deepEqual(bubbles(page).map(b => h.textOf(b)), ['offline? !'])
  bubbles(page)[0].querySelector('.failed').dispatchEvent('tap')
  await h.settle()
  assert.equal(attempts, 2)
  assert.deepEqual(bubbles(page).map(b => h.textOf(b)), ['offline?'])
})

// Opens the long-press menu of the i-th bubble and returns what it shows, or null when no menu is open.
async function longPress(page, i) {
  bubbles(page)[i].querySelector('.bubble').dispatchEvent('longpress')
  await h.settle()
  return menuShown(page)
}

function menuShown(page) {
  const menu = page.querySelector('#menu')
  return menu ? h.textOf(menu) : null
}

async function choose(page, label) {
  const action = page.querySelector('#menu').querySelectorAll('.action').find(a => h.textOf(a) === label)
  assert.ok(action, `no ${label} in the menu`)
  action.dispatchEvent('tap')
  await h.settle()
}

async function typeAndSend(page, text) {
  const bar = page.querySelector('#input-bar')
  bar.querySelector('.text').dispatchEvent('input', { detail: { value: text } })
  await h.settle()
  bar.querySelector('.send').dispatchEvent('tap')
  await h.settle()
}

function composeBar(page) {
  const bar = h.withClass(page, 'compose')[0]
  return bar ? h.textOf(bar) : null
}

// Three messages before 12:00, when the fake chat's sends are stamped.
function chatWithBobAndMe(ctx) {
  ctx.chat.seed('group:g1', [
    record({ id: 'b1', from: 'bob', time: T0 - 3 * MIN, text: 'lunch at noon? [):]', sender: { id: 'bob', nickname: 'Bob' } }),
    record({ id: 'a1', from: 'alice', time: T0 - 2 * MIN, text: 'sure' }),
    record({ id: 'b2', from: 'bob', time: T0 - MIN, type: 'img', body: { url: 'https://img.example/p.jpg' }, sender: { id: 'bob', nickname: 'Bob' } }),
  ])
}

test('chat page: a long press opens a menu fitting the message; the mask closes it', async () => {
  const ctx = setup()
  chatWithBobAndMe(ctx)
  ctx.chat.seed('group:g1', [record({ id: 'x1', from: 'alice', time: T0, text: 'lost', status: 'failed' })])
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()
  const reactions = '👍 ❤️ 😂 🎉 😮 😢'
  assert.equal(await longPress(page, 0), `${reactions} 复制 引用 删除 取消`) // someone else's text
  page.querySelector('#menu').querySelector('.mask').dispatchEvent('tap')
  await h.settle()
  assert.equal(menuShown(page), null)
  assert.equal(await longPress(page, 1), `${reactions} 复制 引用 编辑 撤回 删除 取消`) // my sent text
  assert.equal(await longPress(page, 2), `${reactions} 引用 删除 取消`) // a picture: nothing to copy
  assert.equal(await longPress(page, 3), '复制 删除 取消') // my failed message never reached the server
})

test('chat page: 复制 puts the message text on the clipboard', async () => {
  const ctx = setup()
  chatWithBobAndMe(ctx)
  const copied = []
  wx.setClipboardData = options => copied.push(options.data)
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()
  await longPress(page, 0)
  await choose(page, '复制')
  assert.deepEqual(copied, ['lunch at noon? [):]'])
  assert.equal(menuShown(page), null)
})

test('chat page: 引用 shows the quoted message above the input; the next send quotes it and shows it above the bubble', async () => {
  const ctx = setup()
  chatWithBobAndMe(ctx)
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()
  await longPress(page, 0)
  await choose(page, '引用')
  assert.equal(composeBar(page), '引用 Bob: lunch at noon? [):] ✕')

  await typeAndSend(page, 'me too')
  const sends = ctx.chat.calls.filter(c => c[0] === 'send').map(c => c[2])
  assert.deepEqual(sends, [{ type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'me too', quote: 'b1' }])
  assert.equal(composeBar(page), null)
  const reply = bubbles(page).pop()
  assert.equal(h.textOf(h.withClass(reply, 'quote')[0]), 'Bob: lunch at noon? [):]')
  assert.equal(h.textOf(reply), 'Bob: lunch at noon? [):] me too')

  // Quoting a picture, then cancelling: the next message quotes nothing.
  await longPress(page, 2)
  await choose(page, '引用')
  assert.equal(composeBar(page), '引用 Bob: [图片] ✕')
  page.querySelector('.compose-cancel').dispatchEvent('tap')
  await h.settle()
  assert.equal(composeBar(page), null)
  await typeAndSend(page, 'plain')
  assert.deepEqual(ctx.chat.calls.filter(c => c[0] === 'send').pop()[2], { type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'plain' })
  assert.equal(h.withClass(bubbles(page).pop(), 'quote').length, 0)
})

test('chat page: 编辑 puts my text in the input; sending calls chat.edit and the bubble shows the new text and 已编辑', async () => {
  const ctx = setup()
  chatWithBobAndMe(ctx)
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()
  const bar = page.querySelector('#input-bar')
  await longPress(page, 1)
  await choose(page, '编辑')
  assert.equal(bar.data.value, 'sure')
  assert.equal(composeBar(page), '编辑消息 ✕')

  await typeAndSend(page, 'sure, 12:30 [:D]')
  assert.deepEqual(ctx.chat.calls.filter(c => c[0] === 'edit').map(c => c.slice(1)),
    [[ctx.conn, 'a1', 'sure, 12:30 [:D]', { WebIM: ctx.WebIM }]])
  assert.equal(ctx.chat.calls.filter(c => c[0] === 'send').length, 0)
  assert.equal(composeBar(page), null)
  assert.equal(bubbles(page).length, 3)
  assert.equal(h.textOf(bubbles(page)[1]), 'sure, 12:30 已编辑')
  assert.deepEqual(h.imageSources(bubbles(page)[1]).slice(1), ['/images/emoji/ee_2.png'])
  assert.equal(ctx.chat.find('a1').edited.count, 1)

  // Cancelling an edit empties the input and the next send is a new message.
  await longPress(page, 1)
  await choose(page, '编辑')
  page.querySelector('.compose-cancel').dispatchEvent('tap')
  await h.settle()
  assert.equal(bar.data.value, '')
  await typeAndSend(page, 'new one')
  assert.equal(ctx.chat.calls.filter(c => c[0] === 'edit').length, 1)
  assert.equal(ctx.chat.calls.filter(c => c[0] === 'send').length, 1)

  // Bob's edit, arriving through the chat, is marked too.
  ctx.chat.publish(Object.assign({}, ctx.chat.find('b1'), { text: 'lunch at 1?', segments: undefined, edited: { count: 1, time: T0 + 5 * MIN, by: 'bob' } }))
  await h.settle()
  assert.equal(h.textOf(bubbles(page)[0]), 'Bob lunch at 1? 已编辑')

  // Leaving mid-edit keeps no draft of the old text.
  await longPress(page, 1)
  await choose(page, '编辑')
  page.detach()
  assert.deepEqual(ctx.chat.calls.filter(c => c[0] === 'setDraft').pop(), ['setDraft', 'group:g1', ''])
})

test('chat page: a refused edit leaves the message as it was', async () => {
  const ctx = setup()
  chatWithBobAndMe(ctx)
  ctx.chat.edit = async () => { throw new Error('too many edits') }
  const toasts = []
  wx.showToast = options => toasts.push(options.title)
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()
  await longPress(page, 1)
  await choose(page, '编辑')
  await typeAndSend(page, 'changed')
  assert.equal(h.textOf(bubbles(page)[1]), 'sure')
  assert.deepEqual(toasts, ['编辑失败'])
})

test('chat page: 撤回 recalls my message through the SDK and the bubble reads 消息已撤回', async () => {
  const ctx = setup()
  chatWithBobAndMe(ctx)
  const toasts = []
  wx.showToast = options => toasts.push(options.title)
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()
  ctx.conn.recallResult = new Error('too late')
  await longPress(page, 1)
  await choose(page, '撤回')
  assert.equal(h.textOf(bubbles(page)[1]), 'sure')
  assert.deepEqual(toasts, ['撤回失败'])

  ctx.conn.recallResult = null
  await longPress(page, 1)
  await choose(page, '撤回')
  assert.deepEqual(ctx.conn.recalls, [
    { mid: 'a1', to: 'g1', chatType: 'groupChat' },
    { mid: 'a1', to: 'g1', chatType: 'groupChat' },
  ])
  assert.equal(h.textOf(bubbles(page)[1]), '消息已撤回')
  assert.equal(await longPress(page, 1), '删除 取消')
})

test('chat page: 删除 removes the message from the phone and its bubble goes; a cleared conversation empties', async () => {
  const ctx = setup()
  chatWithBobAndMe(ctx)
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()
  await longPress(page, 0)
  await choose(page, '删除')
  assert.deepEqual(ctx.chat.calls.filter(c => c[0] === 'remove'), [['remove', 'b1']])
  assert.equal(ctx.chat.find('b1'), null)
  assert.deepEqual(bubbles(page).map(b => h.textOf(b)), ['sure', 'Bob'])

  // clear() or removeConversation() elsewhere: the newest record, removed, with info.cleared.
  const newest = ctx.chat.find('b2')
  for (const cb of [...ctx.chat.subscribers.get('group:g1')]) cb(Object.assign({}, newest, { removed: true }), { removed: true, cleared: true })
  await h.settle()
  assert.deepEqual(bubbles(page), [])
})

test('chat page: reactions from the menu and under the bubble toggle mine through chat.react', async () => {
  const ctx = setup()
  chatWithBobAndMe(ctx)
  ctx.chat.seed('group:g1', [record({ id: 'b3', from: 'bob', time: T0, text: 'see you', reactions: [{ reaction: '❤️', count: 2, mine: false }] })])
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()
  const shown = i => h.withClass(bubbles(page)[i], 'reaction').map(r => [h.textOf(r), h.withClass(r, 'own').length === 1])
  assert.deepEqual(shown(3), [['❤️ 2', false]])

  await longPress(page, 0)
  page.querySelector('#menu').querySelectorAll('.reaction')[0].dispatchEvent('tap')
  await h.settle()
  assert.equal(menuShown(page), null)
  assert.deepEqual(shown(0), [['👍 1', true]])
  assert.equal(await longPress(page, 0) !== null, true)
  assert.deepEqual(h.withClass(page.querySelector('#menu'), 'own').map(n => h.textOf(n)), ['👍'])
  page.querySelector('#menu').querySelector('.cancel').dispatchEvent('tap')
  await h.settle()

  bubbles(page)[0].querySelector('.reaction').dispatchEvent('tap') // mine: taken back
  bubbles(page)[3].querySelector('.reaction').dispatchEvent('tap') // someone else's: mine added
  await h.settle()
  assert.deepEqual(shown(0), [])
  assert.deepEqual(shown(3), [['❤️ 3', true]])
  assert.deepEqual(ctx.chat.calls.filter(c => c[0] === 'react').map(c => c.slice(1)), [
    [ctx.conn, 'b1', '👍', true],
    [ctx.conn, 'b1', '👍', false],
    [ctx.conn, 'b3', '❤️', true],
  ])
})

test('chat page: 对方正在输入… shows after a typing notice for this chat, until their next message or 5 s', async (t) => {
  const ctx = setup()
  ctx.chat.seed('single:bob', [record({ id: '1', conversation: 'single:bob', from: 'bob', time: T0, text: 'ping' })])
  const page = h.mount('pages/chat/index', { conversation: 'single:bob' })
  await h.settle()
  const typingShown = () => /对方正在输入…/.test(h.textOf(page))
  assert.equal(typingShown(), false)

  ctx.chat.emit('typing', { conversation: 'single:carol', from: 'carol' })
  await h.settle()
  assert.equal(typingShown(), false)
  ctx.chat.emit('typing', { conversation: 'single:bob', from: 'bob' })
  await h.settle()
  assert.equal(typingShown(), true)
  ctx.chat.publish(record({ id: '2', conversation: 'single:bob', from: 'bob', time: T0 + MIN, text: 'pong' }))
  await h.settle()
  assert.equal(typingShown(), false)

  t.mock.timers.enable({ apis: ['setTimeout'] })
  ctx.chat.emit('typing', { conversation: 'single:bob', from: 'bob' })
  t.mock.timers.tick(4900)
  const before = typingShown()
  t.mock.timers.tick(100)
  const after = typingShown()
  t.mock.timers.reset()
  assert.deepEqual([before, after], [true, false])

  page.detach()
  assert.equal(ctx.chat.listenerCount(), 0)
})

test('chat page: typing in a one-to-one chat tells the peer through chat.typing; not in a group, not for a prefilled edit', async () => {
  for (const [conversation, expected] of [['single:bob', 2], ['group:g1', 0]]) {
    const ctx = setup()
    ctx.chat.seed(conversation, [record({ id: 'a1', conversation, from: 'alice', time: T0, text: 'hey' })])
    const page = h.mount('pages/chat/index', { conversation })
    await h.settle()
    const bar = page.querySelector('#input-bar')
    bar.querySelector('.text').dispatchEvent('input', { detail: { value: 'h' } })
    bar.querySelector('.text').dispatchEvent('input', { detail: { value: 'he' } })
    await h.settle()
    await longPress(page, 0)
    await choose(page, '编辑')
    const calls = ctx.chat.calls.filter(c => c[0] === 'typing')
    assert.equal(calls.length, expected, conversation)
    for (const call of calls) assert.deepEqual(call.slice(1), [ctx.conn, conversation, { WebIM: ctx.WebIM }])
    assert.equal(ctx.chat.calls.filter(c => c[0] === 'on' && c[1] === 'typing').length, expected ? 1 : 0, conversation)
    page.detach()
  }
})

test('conversation list: names, last message with emoji images, time labels, unread badges and @me markers', async () => {
  const ctx = setup()
  ctx.chat.summaries = [
    { conversation: 'group:g1', kind: 'group', id: 'g1', unread: 3, updatedAt: T0 + 5 * MIN, muted: false,
      last: record({ id: 'a', from: 'bob', time: T0 + 5 * MIN, text: '@alice see you [:D]', mentionsMe: true, sender: { id: 'bob', nickname: 'Bob' } }) },
    { conversation: 'single:bob', kind: 'single', id: 'bob', unread: 0, updatedAt: T0 + 2 * MIN, muted: false,
      last: record({ id: 'b', conversation: 'single:bob', from: 'alice', time: T0 + 2 * MIN, text: 'ok' }) },
    { conversation: 'chatroom:r1', kind: 'chatroom', id: 'r1', unread: 120, updatedAt: T0 + 1 * MIN, muted: false,
      last: record({ id: 'c', conversation: 'chatroom:r1', from: 'zed', time: T0 + MIN, type: 'img', body: { url: 'https://img.example/p.jpg' } }) },
    { conversation: 'group:g2', kind: 'group', id: 'g2', unread: 4, updatedAt: T0, muted: true,
      last: record({ id: 'd', conversation: 'group:g2', from: 'yan', time: T0, text: 'quiet here' }) },
  ]
  const page = h.mount('pages/conversations/index')
  await h.settle()

  const rows = h.withClass(page, 'row').map(row => ({
    name: h.textOf(h.withClass(row, 'name')[0]),
    time: h.textOf(h.withClass(row, 'time')[0]),
    badge: h.withClass(row, 'badge').map(b => h.textOf(b)).join('|'),
    preview: h.textOf(h.withClass(row, 'preview')[0]),
    emoji: h.nodes(h.withClass(row, 'preview')[0]).filter(n => n.tagName === 'wx-image').map(n => h.attr(n, 'src')),
  }))
  assert.deepEqual(rows, [
    { name: 'Hiking club', time: '12:05', badge: '3', preview: '[有人@我] Bob: @alice see you', emoji: ['/images/emoji/ee_2.png'] },
    { name: 'bob', time: '12:02', badge: '', preview: 'ok', emoji: [] },
    { name: 'r1', time: '12:01', badge: '99+', preview: 'zed: [图片]', emoji: [] },
    { name: 'g2', time: '12:00', badge: '', preview: 'yan: quiet here', emoji: [] },
  ])
  assert.equal(h.withClass(page, 'dot').length, 1) // the muted group shows a dot instead of a count
  assert.match(h.textOf(h.withClass(page, 'total')[0]), /未读 127/)
})

test('conversation list: tapping a row opens its chat; a new record refreshes the list', async () => {
  const ctx = setup()
  ctx.chat.summaries = [{ conversation: 'group:g1', kind: 'group', id: 'g1', unread: 0, updatedAt: T0, muted: false, last: null }]
  const page = h.mount('pages/conversations/index')
  await h.settle()
  page.querySelector('.row').dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(ctx.navigations, [['navigateTo', '/pages/chat/index?conversation=group%3Ag1']])

  ctx.chat.summaries = [{ conversation: 'group:g1', kind: 'group', id: 'g1', unread: 1, updatedAt: T0 + MIN, muted: false,
    last: record({ id: 'n', from: 'bob', time: T0 + MIN, text: 'new one' }) }]
  ctx.chat.publish(ctx.chat.summaries[0].last)
  await h.settle()
  assert.equal(h.textOf(h.withClass(page, 'badge')[0]), '1')
  assert.match(h.textOf(h.withClass(page, 'preview')[0]), /bob: new one/)

  // A conversation that was not listed yet appears with its first record.
  const first = record({ id: 'c1', conversation: 'single:carol', from: 'carol', time: T0 + 2 * MIN, text: 'hello' })
  ctx.chat.summaries = [{ conversation: 'single:carol', kind: 'single', id: 'carol', unread: 1, updatedAt: T0 + 2 * MIN, muted: false, last: first },
    ...ctx.chat.summaries]
  ctx.chat.publish(first)
  await h.settle()
  assert.deepEqual(h.withClass(page, 'name').map(n => h.textOf(n)), ['carol', 'Hiking club'])
  page.detach()
  assert.equal(ctx.chat.subscriberCount('*'), 0)
})

test('conversation list: a chat can be started by kind and id', async () => {
  const ctx = setup()
  const page = h.mount('pages/conversations/index')
  await h.settle()
  assert.match(h.textOf(page), /还没有会话/)
  page.querySelectorAll('.kind')[2].dispatchEvent('tap')
  page.querySelector('.new-id').dispatchEvent('input', { detail: { value: ' lobby ' } })
  await h.settle()
  page.querySelector('.go').dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(ctx.navigations, [['navigateTo', '/pages/chat/index?conversation=chatroom%3Alobby']])
})

test('drafts: what is left in the input is kept when the chat closes, shown in the list, and restored', async () => {
  const ctx = setup()
  ctx.chat.seed('single:bob', [record({ id: '1', conversation: 'single:bob', from: 'bob', time: T0, text: 'ping' })])
  ctx.chat.summaries = [{ conversation: 'single:bob', kind: 'single', id: 'bob', unread: 0, updatedAt: T0, muted: false,
    last: record({ id: '1', conversation: 'single:bob', from: 'bob', time: T0, text: 'ping' }) }]
  const chat = h.mount('pages/chat/index', { conversation: 'single:bob' })
  await h.settle()
  chat.querySelector('#input-bar').querySelector('.text').dispatchEvent('input', { detail: { value: '周末去 [:D]' } })
  await h.settle()
  chat.detach()
  assert.deepEqual(ctx.chat.calls.filter(c => c[0] === 'setDraft'), [['setDraft', 'single:bob', '周末去 [:D]']])

  const list = h.mount('pages/conversations/index')
  await h.settle()
  const preview = h.withClass(list, 'preview')[0]
  assert.equal(h.textOf(preview), '[草稿] 周末去')
  assert.deepEqual(h.nodes(preview).filter(n => n.tagName === 'wx-image').map(n => h.attr(n, 'src')), ['/images/emoji/ee_2.png'])

  const again = h.mount('pages/chat/index', { conversation: 'single:bob' })
  await h.settle()
  assert.equal(again.querySelector('#input-bar').data.value, '周末去 [:D]')
  // Sending empties the input: leaving then clears the draft.
  again.querySelector('#input-bar').querySelector('.send').dispatchEvent('tap')
  await h.settle()
  again.detach()
  assert.deepEqual(ctx.chat.calls.filter(c => c[0] === 'setDraft').pop(), ['setDraft', 'single:bob', ''])
  assert.equal(ctx.chat.draft('single:bob'), '')
})

test('conversation list: a long press pins or unpins a conversation; pinned ones come first', async () => {
  const ctx = setup()
  ctx.chat.summaries = [
    { conversation: 'group:g1', kind: 'group', id: 'g1', unread: 0, updatedAt: T0 + MIN, muted: false, last: null },
    { conversation: 'single:bob', kind: 'single', id: 'bob', unread: 0, updatedAt: T0, muted: false, last: null },
  ]
  const sheets = []
  wx.showActionSheet = (options) => { sheets.push(options.itemList); options.success({ tapIndex: 0 }) }
  const page = h.mount('pages/conversations/index')
  await h.settle()
  const names = () => h.withClass(page, 'row').map(r => [h.textOf(h.withClass(r, 'name')[0]), /\bpinned\b/.test(h.attr(r, 'class'))])
  assert.deepEqual(names(), [['Hiking club', false], ['bob', false]])
  page.querySelectorAll('.row')[1].dispatchEvent('longpress')
  await h.settle()
  assert.deepEqual(names(), [['bob', true], ['Hiking club', false]])
  page.querySelectorAll('.row')[0].dispatchEvent('longpress')
  await h.settle()
  assert.deepEqual(sheets, [['置顶'], ['取消置顶']])
  assert.deepEqual(names(), [['Hiking club', false], ['bob', false]])
  assert.deepEqual(ctx.chat.calls.filter(c => c[0] === 'pin'), [['pin', 'single:bob', true], ['pin', 'single:bob', false]])
})

test('search page: results newest first with conversation, sender and emoji; more on scroll; a tap opens the chat', async () => {
  const ctx = setup()
  ctx.chat.seed('group:g1', Array.from({ length: 25 }, (_, i) =>
    record({ id: `g${i}`, from: 'bob', time: T0 + i * MIN, text: `Lunch ${i} [):]`, sender: { id: 'bob', nickname: 'Bob' } })))
  ctx.chat.seed('single:carol', [record({ id: 'c1', conversation: 'single:carol', from: 'alice', time: T0 + 30 * MIN, text: 'lunch?' })])
  const list = h.mount('pages/conversations/index')
  await h.settle()
  list.querySelector('.search-entry').dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(ctx.navigations.pop(), ['navigateTo', '/pages/search/index'])

  const page = h.mount('pages/search/index')
  await h.settle()
  page.querySelector('.query').dispatchEvent('input', { detail: { value: ' LUNCH ' } })
  page.querySelector('.go').dispatchEvent('tap')
  await h.settle()
  const shown = () => h.withClass(page, 'result').map(r => h.textOf(r))
  assert.equal(shown().length, 20)
  assert.deepEqual(shown().slice(0, 2), ['carol 12:30 我: lunch?', 'Hiking club 12:24 Bob: Lunch 24'])
  assert.deepEqual(h.nodes(h.withClass(page, 'result')[1]).filter(n => n.tagName === 'wx-image').map(n => h.attr(n, 'src')), ['/images/emoji/ee_1.png'])
  page.querySelector('#results').dispatchEvent('scrolltolower')
  await h.settle()
  assert.equal(shown().length, 26)
  assert.deepEqual(ctx.chat.calls.filter(c => c[0] === 'search').map(c => c[2].before), [undefined, 'g6'])
  page.querySelector('.result').dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(ctx.navigations.pop(), ['navigateTo', '/pages/chat/index?conversation=single%3Acarol'])

  page.querySelector('.query').dispatchEvent('input', { detail: { value: 'zebra' } })
  page.querySelector('.go').dispatchEvent('tap')
  await h.settle()
  assert.match(h.textOf(page), /没有找到相关消息/)
})

test('login page: logs in with a password or a token, then opens the conversation list', async () => {
  const cases = [
    [false, { user: 'alice', password: 's3cret' }],
    [true, { user: 'alice', accessToken: 's3cret' }],
  ]
  for (const [useToken, expected] of cases) {
    const ctx = setup()
    const page = h.mount('pages/login/index')
    assert.match(h.textOf(page), /test#app/)
    if (useToken) page.querySelector('.mode').dispatchEvent('tap')
    page.querySelector('#user').dispatchEvent('input', { detail: { value: 'alice' } })
    page.querySelector('#secret').dispatchEvent('input', { detail: { value: 's3cret' } })
    await h.settle()
    page.querySelector('#submit').dispatchEvent('tap')
    await h.settle()
    assert.deepEqual(ctx.logins, [expected])
    assert.deepEqual(ctx.navigations, [['reLaunch', '/pages/conversations/index']])
  }
})

test('login page: a missing field or a refused login shows an error and stays', async () => {
  const ctx = setup()
  ctx.login = async () => { throw new Error('invalid password') }
  const page = h.mount('pages/login/index')
  page.querySelector('#submit').dispatchEvent('tap')
  await h.settle()
  assert.match(h.textOf(h.withClass(page, 'error')[0]), /请输入用户 ID 和密码/)

  page.querySelector('#user').dispatchEvent('input', { detail: { value: 'alice' } })
  page.querySelector('#secret').dispatchEvent('input', { detail: { value: 'nope' } })
  await h.settle()
  page.querySelector('#submit').dispatchEvent('tap')
  await h.settle()
  assert.match(h.textOf(h.withClass(page, 'error')[0]), /invalid password/)
  assert.deepEqual(ctx.navigations, [])
})
