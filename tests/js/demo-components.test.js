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

test('input-bar: send emits the text and clears the box; blank text is not sent', async () => {
  const bar = h.mount('components/input-bar/index')
  const sent = []
  bar.addEventListener('send', e => sent.push(e.detail.text))
  const afterSend = []
  for (const value of ['hello [;)]', '   ', 'again']) {
    bar.querySelector('.text').dispatchEvent('input', { detail: { value } })
    await h.settle()
    bar.querySelector('.send').dispatchEvent('tap')
    await h.settle()
    afterSend.push(bar.data.value)
  }
  assert.deepEqual(sent, ['hello [;)]', 'again'])
  assert.deepEqual(afterSend, ['', '   ', ''])
})
