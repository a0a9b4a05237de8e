// The demo's components under miniprogram-simulate: emoji-text, message-bubble, emoji-picker, input-bar.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const h = require('./fixtures/simulate.js')
const { createFakeContext, TABLE } = require('./fixtures/fake-chat.js')

const ctx = createFakeContext('alice')
h.context.inject(ctx)

test('emoji-text shows text pieces as text and emoji codes as their images, in order', () => {
  const cases = [
    ['hi [):]', 'hi ', ['/images/emoji/ee_1.png']],
    ['[:D][(D)] done', ' done', ['/images/emoji/ee_2.png', '/images/emoji/ee_35.png']],
    ['no emoji [here]', 'no emoji [here]', []],
  ]
  for (const [text, shownText, images] of cases) {
    const comp = h.mount('components/emoji-text/index', { segments: ctx.mpchat.parseEmoji(text) })
    assert.equal(h.textOf(comp), shownText.trim(), text)
    assert.deepEqual(h.imageSources(comp), images, text)
  }
})

test('message-bubble shows the avatar, the name when asked, and the mark of my message status', () => {
  const base = { id: 'm1', nickname: 'Bob', avatar: 'https://img.example/bob.png', segments: [{ type: 'txt', data: 'yo' }] }
  const cases = [
    // message fields, showName, expected text, expected failed mark shown
    [{ mine: false, status: 'received' }, true, 'Bob yo', false],
    [{ mine: false, status: 'received' }, false, 'yo', false],
    [{ mine: true, status: 'sending' }, false, 'yo 发送中', false],
    [{ mine: true, status: 'read' }, false, 'yo 已读', false],
    [{ mine: true, status: 'sent' }, false, 'yo', false],
    [{ mine: true, status: 'failed' }, false, 'yo !', true],
    [{ mine: false, status: 'received', recalled: true }, false, '消息已撤回', false],
    [{ mine: false, status: 'received', segments: null, label: '[文件] plan.pdf' }, false, '[文件] plan.pdf', false],
  ]
  for (const [fields, showName, text, failedMark] of cases) {
    const comp = h.mount('components/message-bubble/index', { message: Object.assign({}, base, fields), showName })
    assert.equal(h.textOf(comp), text, JSON.stringify(fields))
    assert.equal(h.imageSources(comp)[0], 'https://img.example/bob.png')
    assert.equal(!!comp.querySelector('.failed'), failedMark, JSON.stringify(fields))
  }
})

test('message-bubble falls back to the default face when there is no avatar or it fails to load', async () => {
  const noAvatar = h.mount('components/message-bubble/index', { message: { id: 'm', nickname: 'carol', avatar: '', segments: [] } })
  assert.equal(h.imageSources(noAvatar)[0], '/images/default-avatar.png')

  const broken = h.mount('components/message-bubble/index', { message: { id: 'm', nickname: 'dave', avatar: 'https://img.example/404.png', segments: [] } })
  broken.querySelector('.avatar').dispatchEvent('error')
  await h.settle()
  assert.equal(h.imageSources(broken)[0], '/images/default-avatar.png')
})

test('message-bubble: tapping the failed mark asks for a retry of that message', async () => {
  const comp = h.mount('components/message-bubble/index', { message: { id: 'm7', mine: true, status: 'failed', segments: [] } })
  const retries = []
  comp.addEventListener('retry', event => retries.push(event.detail))
  comp.querySelector('.failed').dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(retries, [{ id: 'm7' }])
})

test('emoji-picker lays out all 35 codes in pages of 20, each page with a delete key', () => {
  const comp = h.mount('components/emoji-picker/index')
  const pages = h.withClass(comp, 'grid')
  assert.deepEqual(pages.map(p => h.withClass(p, 'emoji-key').length), [20, 15])
  assert.deepEqual(pages.map(p => h.withClass(p, 'delete-key').length), [1, 1])
  assert.deepEqual(h.imageSources(comp), TABLE.map(e => `/images/emoji/${e.file}`))
})

test('emoji-picker emits the code of the tapped emoji, and delete for the delete key', async () => {
  const comp = h.mount('components/emoji-picker/index')
  const events = []
  comp.addEventListener('pick', e => events.push(['pick', e.detail.code]))
  comp.addEventListener('delete', () => events.push(['delete']))
  const keys = comp.querySelectorAll('.emoji-key')
  keys[0].dispatchEvent('tap')
  keys[34].dispatchEvent('tap')
  comp.querySelectorAll('.delete-key')[1].dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(events, [['pick', '[):]'], ['pick', '[(D)]'], ['delete']])
})

// Types into an input-bar, taps keys, and returns what its text box holds after each step.
async function inputBarSteps(steps) {
  const bar = h.mount('components/input-bar/index')
  bar.querySelector('.emoji-toggle').dispatchEvent('tap')
  await h.settle()
  const picker = bar.querySelector('#picker')
  const seen = []
  for (const step of steps) {
    if (step.type) bar.querySelector('.text').dispatchEvent('input', { detail: { value: step.type } })
    if (step.pick !== undefined) picker.querySelectorAll('.emoji-key')[step.pick].dispatchEvent('tap')
    if (step.del) picker.querySelector('.delete-key').dispatchEvent('tap')
    await h.settle()
    seen.push(bar.data.value)
  }
  return { bar, seen }
}

test('input-bar: picked codes are appended and the delete key removes a whole code or one character', async () => {
  const { seen } = await inputBarSteps([
    { type: 'hi' }, { pick: 0 }, { pick: 13 }, { del: true }, { del: true }, { del: true }, { del: true }, { del: true },
  ])
  assert.deepEqual(seen, ['hi', 'hi[):]', 'hi[):][8o|]', 'hi[):]', 'hi', 'h', '', ''])
  assert.ok(seen.every(v => !v.includes('[del]')))
})

test('input-bar: the text box shows the edited value', async () => {
  const { bar } = await inputBarSteps([{ type: 'a' }, { pick: 1 }])
  const input = h.nodes(bar.toJSON()).find(n => n.tagName === 'wx-input')
  assert.equal(h.attr(input, 'value'), 'a[:D]')
})

test('input-bar: send emits the text and clears the box; blank text shows no send key and is not sent', async () => {
  const bar = h.mount('components/input-bar/index')
  const sent = []
  bar.addEventListener('send', e => sent.push(e.detail.text))
  const afterSend = []
  const keys = []
  for (const value of ['hello [;)]', '   ', 'again']) {
    bar.querySelector('.text').dispatchEvent('input', { detail: { value } })
    await h.settle()
    const send = bar.querySelector('.send')
    keys.push(send ? '发送' : h.textOf(bar.querySelector('.more')))
    if (send) send.dispatchEvent('tap')
    else bar.querySelector('.text').dispatchEvent('confirm') // the keyboard's send key
    await h.settle()
    afterSend.push(bar.data.value)
  }
  assert.deepEqual(sent, ['hello [;)]', 'again'])
  assert.deepEqual(keys, ['发送', '+', '发送'])
  assert.deepEqual(afterSend, ['', '   ', ''])
})

test('message-bubble shows the quoted message above the text, 已编辑 once edited, and the reactions under it', () => {
  const message = {
    id: 'm2', mine: false, nickname: 'Bob', segments: [{ type: 'txt', data: 'me too' }],
    quote: { id: 'm1', text: 'Carol: lunch at noon?' }, edited: true,
    reactions: [{ reaction: '👍', count: 2, mine: true }, { reaction: '🎉', count: 1, mine: false }],
  }
  const comp = h.mount('components/message-bubble/index', { message })
  assert.equal(h.textOf(comp), 'Carol: lunch at noon? me too 已编辑 👍 2 🎉 1')
  assert.equal(h.textOf(h.withClass(comp, 'quote')[0]), 'Carol: lunch at noon?')
  assert.deepEqual(h.withClass(comp, 'reaction').map(r => [h.textOf(r), h.withClass(r, 'own').length === 1]),
    [['👍 2', true], ['🎉 1', false]])

  const plain = h.mount('components/message-bubble/index', { message: { id: 'm3', segments: [{ type: 'txt', data: 'yo' }], reactions: [] } })
  assert.equal(h.textOf(plain), 'yo')
  assert.equal(h.withClass(plain, 'reactions').length, 0)
})

test('message-bubble: a long press on the bubble asks for the menu; tapping a reaction asks to toggle it', async () => {
  const message = { id: 'm4', segments: [{ type: 'txt', data: 'yo' }], reactions: [{ reaction: '😂', count: 1, mine: true }, { reaction: '👍', count: 3, mine: false }] }
  const comp = h.mount('components/message-bubble/index', { message })
  const events = []
  comp.addEventListener('menu', e => events.push(['menu', e.detail]))
  comp.addEventListener('react', e => events.push(['react', e.detail]))
  comp.querySelector('.bubble').dispatchEvent('longpress')
  comp.querySelectorAll('.reaction')[0].dispatchEvent('tap')
  comp.querySelectorAll('.reaction')[1].dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(events, [
    ['menu', { id: 'm4' }],
    ['react', { id: 'm4', reaction: '😂', mine: true }],
    ['react', { id: 'm4', reaction: '👍', mine: false }],
  ])
})

test('message-menu shows the reactions (mine highlighted) and the actions, and says which was tapped', async () => {
  const menu = {
    id: 'm1',
    actions: [{ key: 'copy', label: '复制' }, { key: 'remove', label: '删除' }],
    reactions: [{ reaction: '👍', mine: false }, { reaction: '❤️', mine: true }],
  }
  const comp = h.mount('components/message-menu/index', { menu })
  assert.equal(h.textOf(comp), '👍 ❤️ 复制 删除 取消')
  assert.deepEqual(h.withClass(comp, 'reaction').map(r => h.withClass(r, 'own').length), [0, 1])
  const events = []
  for (const name of ['select', 'react', 'close']) comp.addEventListener(name, e => events.push([name, e.detail]))
  comp.querySelectorAll('.action')[1].dispatchEvent('tap')
  comp.querySelectorAll('.reaction')[1].dispatchEvent('tap')
  comp.querySelector('.cancel').dispatchEvent('tap')
  comp.querySelector('.mask').dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(events, [
    ['select', { key: 'remove' }],
    ['react', { reaction: '❤️', mine: true }],
    ['close', {}],
    ['close', {}],
  ])
})

test('input-bar: what the user types or picks is reported as a change; a value set by the page is not', async () => {
  const bar = h.mount('components/input-bar/index')
  const changes = []
  bar.addEventListener('change', e => changes.push(e.detail.value))
  bar.querySelector('.text').dispatchEvent('input', { detail: { value: 'ok' } })
  bar.querySelector('.emoji-toggle').dispatchEvent('tap')
  await h.settle()
  bar.querySelector('#picker').querySelectorAll('.emoji-key')[1].dispatchEvent('tap')
  await h.settle()
  bar.instance.setValue('from the page')
  await h.settle()
  assert.deepEqual(changes, ['ok', 'ok[:D]'])
})
