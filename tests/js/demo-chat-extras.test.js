// The chat page's pull-down past the phone's history (chat.fetchOlder) and its @ picker in group chats,
// under miniprogram-simulate with the fake chat.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const h = require('./fixtures/simulate.js')
const { createFakeContext, record } = require('./fixtures/fake-chat.js')

const T0 = Date.UTC(2024, 4, 1, 12, 0)
const MIN = 60 * 1000

function setup() {
  const ctx = createFakeContext('alice')
  h.context.inject(ctx)
  ctx.toasts = []
  wx.showToast = options => ctx.toasts.push(options.title)
  return ctx
}

// m0 … m{n-1}, a minute apart, from bob.
function messages(from, to) {
  return Array.from({ length: to - from }, (_, i) => record({ id: `m${from + i}`, from: 'bob', time: T0 + (from + i) * MIN, text: `message ${from + i}` }))
}

const shown = page => page.querySelectorAll('.message').map(b => h.textOf(b).split(' ').pop())
const theEnd = page => /没有更多消息了/.test(h.textOf(page))

async function pullDown(page) {
  page.querySelector('#list').dispatchEvent('refresherrefresh')
  await h.settle()
}

test('chat page: pulling down past the phone\'s history loads pages from the server until it has no more', async () => {
  const ctx = setup()
  ctx.chat.seedServer('group:g1', messages(0, 60))
  ctx.chat.seed('group:g1', messages(35, 60)) // the phone holds the newest 25
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()

  // (messages shown, oldest shown, the end shown)
  const steps = []
  const step = () => { const ids = shown(page); steps.push([ids.length, ids[0], theEnd(page)]) }
  step()
  for (let i = 0; i < 3; i++) {
    await pullDown(page)
    step()
  }
  assert.deepEqual(steps, [[20, '40', false], [45, '15', false], [60, '0', false], [60, '0', true]])
  assert.deepEqual(shown(page), Array.from({ length: 60 }, (_, i) => String(i)))

  const calls = ctx.chat.calls.filter(c => c[0] === 'history' || c[0] === 'fetchOlder')
    .map(c => (c[0] === 'history' ? ['history', c[2].before] : ['fetchOlder', c[1].name, c[2], c[3].limit]))
  assert.deepEqual(calls, [
    ['history', undefined], ['history', 'm40'], ['fetchOlder', 'fake-conn', 'group:g1', 20],
    ['fetchOlder', 'fake-conn', 'group:g1', 20], ['fetchOlder', 'fake-conn', 'group:g1', 20],
  ])
  assert.equal(page.data.hasMore, false)
  await pullDown(page) // nothing more to ask for
  assert.equal(ctx.chat.calls.filter(c => c[0] === 'fetchOlder').length, 3)
})

test('chat page: a short conversation goes to the server on the first pull; the message on top stays in view and 对方正在输入… stays', async () => {
  const ctx = setup()
  ctx.chat.seedServer('single:bob', messages(0, 8).map(r => Object.assign(r, { conversation: 'single:bob', kind: 'single', to: 'alice' })))
  ctx.chat.seed('single:bob', messages(5, 8).map(r => Object.assign(r, { conversation: 'single:bob', kind: 'single', to: 'alice' })))
  const page = h.mount('pages/chat/index', { conversation: 'single:bob' })
  await h.settle()
  assert.deepEqual(shown(page), ['5', '6', '7'])
  assert.equal(page.data.anchor, 'm-m7')
  ctx.chat.emit('typing', { conversation: 'single:bob', from: 'bob' })
  await h.settle()

  await pullDown(page)
  assert.deepEqual(shown(page), ['0', '1', '2', '3', '4', '5', '6', '7'])
  assert.equal(page.data.anchor, 'm-m5')
  assert.match(h.textOf(page), /对方正在输入…/) // old messages are not the peer's next message
  assert.equal(ctx.chat.calls.filter(c => c[0] === 'history').length, 1)
  assert.equal(theEnd(page), false)
  await pullDown(page)
  assert.equal(theEnd(page), true)
  page.detach()
})

test('chat page: a failed server page shows a toast and leaves the list as it was; the next pull tries again', async () => {
  const ctx = setup()
  ctx.chat.seedServer('group:g1', messages(0, 10))
  ctx.chat.seed('group:g1', messages(7, 10))
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()

  ctx.chat.fetchOlderError = new Error('network down')
  await pullDown(page)
  assert.deepEqual(ctx.toasts, ['加载更早的消息失败'])
  assert.deepEqual(shown(page), ['7', '8', '9'])
  assert.equal(theEnd(page), false)
  assert.equal(page.data.refreshing, false)

  ctx.chat.fetchOlderError = null
  await pullDown(page)
  assert.deepEqual(shown(page), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
})

// A group with bob (named Bob by his messages), carol (the owner), dave and me.
async function groupChat() {
  const ctx = setup()
  ctx.conn.groups.g1 = ['carol', 'bob', 'alice', 'dave']
  ctx.chat.seed('group:g1', [record({ id: 'b1', from: 'bob', time: T0, text: 'who is in?', sender: { id: 'bob', nickname: 'Bob' } })])
  const page = h.mount('pages/chat/index', { conversation: 'group:g1' })
  await h.settle()
  return { ctx, page }
}

async function type(page, value) {
  page.querySelector('#input-bar').querySelector('.text').dispatchEvent('input', { detail: { value } })
  await h.settle()
}

async function tapSend(page) {
  page.querySelector('#input-bar').querySelector('.send').dispatchEvent('tap')
  await h.settle()
}

const inputValue = page => h.attr(h.nodes(page.querySelector('#input-bar').toJSON()).find(n => n.tagName === 'wx-input'), 'value')
const picker = page => page.querySelector('#members')
const pickerText = page => (picker(page) ? h.textOf(picker(page)) : null)

async function pick(page, name) {
  const row = picker(page).querySelectorAll('.member').find(r => h.textOf(r) === name)
  assert.ok(row, `no ${name} in the picker`)
  row.dispatchEvent('tap')
  await h.settle()
}

function sentInputs(ctx) {
  return ctx.chat.calls.filter(c => c[0] === 'send').map(c => c[2])
}

test('@ picker: typing @ in a group lists 所有人 and the members; choosing one inserts the name and the send mentions the id', async () => {
  const { ctx, page } = await groupChat()
  await type(page, 'hi')
  assert.equal(pickerText(page), null)
  await type(page, 'hi @')
  assert.equal(pickerText(page), '选择提醒的人 所有人 carol Bob dave 取消')
  assert.deepEqual(ctx.conn.memberLists.map(o => o.groupId), ['g1'])

  await pick(page, 'Bob')
  assert.equal(pickerText(page), null)
  assert.equal(inputValue(page), 'hi @Bob ')
  await type(page, 'hi @Bob and @')
  await pick(page, 'dave')
  assert.equal(inputValue(page), 'hi @Bob and @dave ')
  await type(page, 'hi @Bob and @dave see you')
  await tapSend(page)

  assert.deepEqual(sentInputs(ctx), [{ type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'hi @Bob and @dave see you', mentions: ['bob', 'dave'] }])
  assert.equal(shown(page).length, 2)
  assert.match(h.textOf(page.querySelectorAll('.message')[1]), /hi @Bob and @dave see you/)
  assert.equal(ctx.conn.memberLists.length, 1) // the list is asked for once per open chat

  await type(page, 'no one')
  await tapSend(page)
  assert.equal(sentInputs(ctx)[1].mentions, undefined)
})

test('@ picker: 所有人 sends mentions \'all\'', async () => {
  const { ctx, page } = await groupChat()
  await type(page, '@')
  await pick(page, '所有人')
  assert.equal(inputValue(page), '@所有人 ')
  await type(page, '@所有人 meeting at 3')
  await tapSend(page)
  assert.equal(sentInputs(ctx)[0].mentions, 'all')
})

test('@ picker: 取消 dismisses it and the @ stays; a name deleted before sending is not mentioned', async () => {
  const { ctx, page } = await groupChat()
  await type(page, 'a@')
  picker(page).querySelector('.cancel').dispatchEvent('tap')
  await h.settle()
  assert.equal(pickerText(page), null)
  assert.equal(inputValue(page), 'a@')
  await type(page, 'a@b')
  await tapSend(page)
  assert.equal(sentInputs(ctx)[0].mentions, undefined)

  await type(page, '@')
  await pick(page, 'carol')
  await type(page, 'never mind')
  await tapSend(page)
  assert.equal(sentInputs(ctx)[1].mentions, undefined)
})

test('@ picker: not in one-to-one chats or chat rooms; a failed member list shows a toast', async () => {
  for (const conversation of ['single:bob', 'chatroom:r1']) {
    const ctx = setup()
    const page = h.mount('pages/chat/index', { conversation })
    await h.settle()
    await type(page, 'hi @')
    assert.equal(pickerText(page), null, conversation)
    assert.equal(ctx.conn.memberLists.length, 0)
  }
  const { ctx, page } = await groupChat()
  ctx.conn.membersError = new Error('forbidden')
  await type(page, '@')
  assert.equal(pickerText(page), null)
  assert.deepEqual(ctx.toasts, ['群成员加载失败'])
})
