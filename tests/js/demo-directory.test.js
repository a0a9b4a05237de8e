// Names and faces from the server in the demo (lib/names.js), under miniprogram-simulate with the fake chat:
// the conversation list and chat titles (server → ext → id), bubbles' senders, the contacts and groups pages,
// and every one of them drawn again when a refresh lands.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const h = require('./fixtures/simulate.js')
const { createFakeContext, record } = require('./fixtures/fake-chat.js')

const names = require(path.join(h.ROOT, 'lib', 'names.js'))

const T0 = Date.UTC(2024, 4, 1, 12, 0)
const BOB_FACE = 'https://img.example/bob-server.png'
const G2_FACE = 'https://img.example/g2.png'

function setup() {
  const ctx = createFakeContext('alice')
  h.context.inject(ctx)
  ctx.navigations = []
  wx.navigateTo = options => ctx.navigations.push(options.url)
  ctx.chat.serverProfiles = { bob: { nickname: 'Bob Server', avatar: BOB_FACE } }
  ctx.chat.serverGroups = { g2: { name: '登山队', avatar: G2_FACE, description: '每周六早上八点' } }
  return ctx
}

const summary = (conversation, last = null) => {
  const [kind, id] = conversation.split(':')
  return { conversation, kind, id, unread: 0, updatedAt: T0, muted: false, last }
}

/** Each row's name and face: the picture's src, or the letter drawn instead ('' for a chat room's label). */
function rows(page, rowClass) {
  return h.withClass(page, rowClass).map(row => {
    const picture = h.nodes(row).find(n => n.tagName === 'wx-image' && /\bavatar-picture\b/.test(h.attr(n, 'class') || ''))
    const letter = h.withClass(row, 'avatar-letter')[0]
    return [h.textOf(h.withClass(row, 'name')[0]), picture ? h.attr(picture, 'src') : letter ? `letter ${h.textOf(letter)}` : '']
  })
}

test('conversation list: names and faces from the server, else from messages\' ext, else the id; redrawn when the refresh lands', async () => {
  const ctx = setup()
  ctx.chat.summaries = [
    summary('single:bob', record({ id: 'b1', conversation: 'single:bob', from: 'bob', time: T0, text: 'hi', sender: { id: 'bob', nickname: 'bobby (ext)' } })),
    summary('single:carol', record({ id: 'c1', conversation: 'single:carol', from: 'carol', time: T0, text: 'yo', sender: { id: 'carol', nickname: 'Carol' } })),
    summary('single:dave'),
    summary('group:g2', record({ id: 'g', conversation: 'group:g2', from: 'erin', time: T0, text: 'up?' })),
    summary('group:g3'),
    summary('chatroom:r1'),
  ]
  ctx.chat.seed('single:carol', [ctx.chat.summaries[1].last])
  ctx.chat.seed('single:bob', [ctx.chat.summaries[0].last])
  ctx.conn.contacts = ['bob', 'frank']
  const page = h.mount('pages/conversations/index')
  await h.settle()
  assert.deepEqual(rows(page, 'row'), [
    ['bobby (ext)', 'letter B'], ['Carol', 'letter C'], ['dave', 'letter D'], ['g2', 'letter G'], ['g3', 'letter G'], ['r1', ''],
  ])

  // What app.js runs after login, in the background.
  await names.refreshAll(ctx)
  await h.settle()
  assert.deepEqual(rows(page, 'row'), [
    ['Bob Server', BOB_FACE], ['Carol', 'letter C'], ['dave', 'letter D'], ['登山队', G2_FACE], ['g3', 'letter G'], ['r1', ''],
  ])
  const asked = ctx.chat.calls.filter(c => c[0] === 'refreshProfiles' || c[0] === 'refreshGroups').map(c => [c[0], c[2]])
  assert.deepEqual(asked, [['refreshGroups', undefined], ['refreshProfiles', ['bob', 'carol', 'dave', 'erin', 'frank']]],
    'the peers, the groups\' last senders and the contacts; not me')
  assert.deepEqual(page.querySelectorAll('.contacts-entry').length + page.querySelectorAll('.groups-entry').length, 2)

  page.detach()
  assert.equal(ctx.chat.listenerCount(), 0)
})

test('a failed refresh keeps the names known before and breaks nothing', async () => {
  const ctx = setup()
  ctx.chat.summaries = [summary('group:g1'), summary('single:bob')]
  ctx.chat.directoryError = new Error('offline')
  const page = h.mount('pages/conversations/index')
  await h.settle()
  await names.refreshAll(ctx)
  await h.settle()
  assert.deepEqual(rows(page, 'row'), [['Hiking club', 'letter H'], ['bob', 'letter B']])
})

test('chat page: the title and the senders\' names and faces come from the server first', async () => {
  const ctx = setup()
  await ctx.chat.refreshProfiles(ctx.conn, ['bob'])
  await ctx.chat.refreshGroups(ctx.conn)
  ctx.chat.seed('group:g2', [
    record({ id: '1', conversation: 'group:g2', from: 'bob', time: T0, text: 'morning', sender: { id: 'bob', nickname: 'bobby (ext)', avatar: 'https://img.example/old.png' } }),
    record({ id: '2', conversation: 'group:g2', from: 'carol', time: T0 + 1000, text: 'hi', sender: { id: 'carol', nickname: 'Carol' } }),
    record({ id: '3', conversation: 'group:g2', from: 'dave', time: T0 + 2000, text: 'yo' }),
    record({ id: '4', conversation: 'group:g2', from: 'dave', time: T0 + 3000, text: 'same', quote: { id: '1', preview: 'morning', sender: 'bob', type: 'txt' } }),
    record({ id: '5', conversation: 'group:g2', from: 'dave', time: T0 + 4000, text: 'ok', quote: { id: '2', preview: 'hi', sender: 'Carol', type: 'txt' } }),
  ])
  const group = h.mount('pages/chat/index', { conversation: 'group:g2' })
  await h.settle()
  assert.equal(group.data.title, '登山队')
  const senders = group.querySelectorAll('.message').map(b => [h.textOf(h.withClass(b, 'name')[0]), h.imageSources(b)[0]])
  assert.deepEqual(senders.slice(0, 3), [['Bob Server', BOB_FACE], ['Carol', '/images/default-avatar.png'], ['dave', '/images/default-avatar.png']])
  // A quote names its sender by id or by the nickname their message had: an id with a server name shows it.
  assert.deepEqual(group.querySelectorAll('.message').slice(3).map(b => h.textOf(h.withClass(b, 'quote')[0])), ['Bob Server: morning', 'Carol: hi'])
  group.detach()

  const single = h.mount('pages/chat/index', { conversation: 'single:bob' })
  await h.settle()
  assert.equal(single.data.title, 'Bob Server')
  single.detach()

  // An open chat draws its title and senders again when a refresh lands.
  const open = h.mount('pages/chat/index', { conversation: 'group:g2' })
  await h.settle()
  ctx.chat.serverProfiles.carol = { nickname: '卡罗尔' }
  ctx.chat.serverGroups.g2 = { name: '周六登山队' }
  await ctx.chat.refreshGroups(ctx.conn, { maxAgeMs: 0 })
  await ctx.chat.refreshProfiles(ctx.conn, ['carol'], { maxAgeMs: 0 })
  await h.settle()
  assert.equal(open.data.title, '周六登山队')
  assert.deepEqual(open.querySelectorAll('.message').map(b => h.textOf(h.withClass(b, 'name')[0])), ['Bob Server', '卡罗尔', 'dave', 'dave', 'dave'])
  open.detach()
  assert.equal(ctx.chat.listenerCount(), 0)
  const unknown = h.mount('pages/chat/index', { conversation: 'group:g9' })
  await h.settle()
  assert.equal(unknown.data.title, 'g9')
})

test('contacts page: my contacts with their faces and names, drawn again when profiles arrive; a tap opens the chat', async () => {
  const ctx = setup()
  ctx.conn.contacts = ['bob', 'carol']
  const page = h.mount('pages/contacts/index')
  await h.settle()
  assert.deepEqual(rows(page, 'entry'), [['Bob Server', BOB_FACE], ['carol', 'letter C']])
  assert.deepEqual(ctx.chat.calls.filter(c => c[0] === 'refreshProfiles').map(c => c[2]), [['bob', 'carol']])

  // carol sets her nickname; a later refresh (anywhere in the app) lands on this page too.
  ctx.chat.serverProfiles.carol = { nickname: '卡罗尔' }
  await ctx.chat.refreshProfiles(ctx.conn, ['carol'], { maxAgeMs: 0 })
  await h.settle()
  assert.deepEqual(rows(page, 'entry'), [['Bob Server', BOB_FACE], ['卡罗尔', 'letter 卡']])

  page.querySelector('#list').querySelectorAll('.entry')[1].dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(ctx.navigations, ['/pages/chat/index?conversation=single%3Acarol'])
  page.detach()
  assert.equal(ctx.chat.listenerCount(), 0)
})

test('contacts page: no contacts says so', async () => {
  setup()
  const page = h.mount('pages/contacts/index')
  await h.settle()
  assert.match(h.textOf(page), /还没有联系人/)
})

test('groups page: my groups with their server names, faces and descriptions; a tap opens the group chat', async () => {
  const ctx = setup()
  ctx.chat.serverGroups = {
    g1: { name: '周末爬山', avatar: 'https://img.example/g1.png', description: '每周六早上八点' },
    g2: { name: '' },
  }
  const page = h.mount('pages/groups/index')
  await h.settle()
  assert.deepEqual(rows(page, 'entry'), [['周末爬山', 'https://img.example/g1.png'], ['g2', 'letter G']])
  assert.deepEqual(h.withClass(page, 'detail').map(n => h.textOf(n)), ['每周六早上八点'])
  page.querySelector('#list').querySelectorAll('.entry')[0].dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(ctx.navigations, ['/pages/chat/index?conversation=group%3Ag1'])
})

test('groups page: a failure says what went wrong', async () => {
  const ctx = setup()
  ctx.chat.directoryError = new Error('mpchat: refreshGroups: the server did not list the joined groups (offline)')
  const page = h.mount('pages/groups/index')
  await h.settle()
  assert.match(h.textOf(page), /加载失败：.*offline/)
  assert.equal(h.withClass(page, 'entry').length, 0)
})

test('a face is the https picture, else the first letter in a colour the name keeps', () => {
  assert.deepEqual(names.face('Bob', 'https://img.example/b.png').picture, 'https://img.example/b.png')
  for (const avatar of ['', 'http://img.example/b.png', 'javascript:alert(1)', '/images/x.png', undefined]) {
    assert.equal(names.face('bob', avatar).picture, '', String(avatar))
  }
  assert.equal(names.face('bob').initial, 'B')
  assert.equal(names.face('🎉 party').initial, '🎉')
  assert.equal(names.face('').initial, '?')
  assert.equal(names.face('bob').color, names.face('bob').color)
  assert.notEqual(new Set(['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map(n => names.face(n).color)).size, 1)
})
