// The chat page's pictures, video, voice, files and locations under miniprogram-simulate with the fake chat:
// what the "+" panel's pickers and the hold-to-talk key send, what a received media message shows, what
// tapping it does, upload progress, failure and chat.resend. The wx pickers, recorder and players are fakes
// that record their calls.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const h = require('./fixtures/simulate.js')
const { createFakeContext, record } = require('./fixtures/fake-chat.js')
const present = require('../../miniprogram-demo/lib/present.js')

const T0 = Date.UTC(2024, 4, 1, 12, 0)

// A fresh fake chat, and fake wx APIs: `ctx.wx` holds what each picker answers (an object, or an Error-like
// { errMsg } to fail), `ctx.wxCalls` every call as [name, options].
function setup() {
  const ctx = createFakeContext('alice')
  h.context.inject(ctx)
  ctx.toasts = []
  ctx.wxCalls = []
  ctx.wx = {}
  ctx.audios = []
  ctx.recorder = fakeRecorder()
  wx.showToast = options => ctx.toasts.push(options.title)
  wx.showLoading = () => {}
  wx.hideLoading = () => {}
  for (const name of ['chooseMedia', 'chooseMessageFile', 'chooseLocation', 'getImageInfo', 'downloadFile', 'openDocument']) {
    wx[name] = options => {
      ctx.wxCalls.push([name, withoutCallbacks(options)])
      const answer = typeof ctx.wx[name] === 'function' ? ctx.wx[name](options) : ctx.wx[name]
      Promise.resolve().then(() => (answer && answer.errMsg ? options.fail(answer) : options.success(answer)))
    }
  }
  for (const name of ['previewImage', 'previewMedia', 'openLocation']) wx[name] = options => ctx.wxCalls.push([name, options])
  wx.getRecorderManager = () => ctx.recorder
  wx.createInnerAudioContext = () => {
    const audio = fakeAudio(ctx.wxCalls)
    ctx.audios.push(audio)
    return audio
  }
  return ctx
}

function withoutCallbacks(options) {
  const { success, fail, complete, ...rest } = options
  return rest
}

// Like WeChat's RecorderManager: one onStop and one onError listener; `result` is what the next stop reports.
function fakeRecorder() {
  return {
    starts: [],
    stops: 0,
    result: null,
    start(options) { this.starts.push(options) },
    stop() {
      this.stops += 1
      if (this.stopped) this.stopped(this.result)
    },
    onStop(cb) { this.stopped = cb },
    onError(cb) { this.failed = cb },
  }
}

function fakeAudio(log) {
  const audio = {
    src: '',
    play() { log.push(['play', audio.src]) },
    stop() { log.push(['stop', audio.src]) },
    destroy() { audio.destroyed = true },
    onEnded(cb) { audio.ended = cb },
    onError(cb) { audio.failed = cb },
  }
  return audio
}

async function openChat(conversation = 'single:bob', seeded = []) {
  const ctx = setup()
  ctx.chat.seed(conversation, seeded)
  const page = h.mount('pages/chat/index', { conversation })
  await h.settle()
  return { ctx, page }
}

const bar = page => page.querySelector('#input-bar')
const bubbles = page => page.querySelectorAll('.message')
const sends = ctx => ctx.chat.calls.filter(c => c[0] === 'send').map(c => [c[2], c[3]])
const calls = (ctx, name) => ctx.wxCalls.filter(c => c[0] === name).map(c => c[1])
const styleOf = (root, className) => h.attr(h.withClass(root, className)[0], 'style')

async function choose(page, label) {
  bar(page).querySelector('.more').dispatchEvent('tap')
  await h.settle()
  const action = bar(page).querySelector('#panel').querySelectorAll('.action').find(a => h.textOf(a).endsWith(label))
  assert.ok(action, `no ${label} in the panel`)
  action.dispatchEvent('tap')
  await h.settle()
}

test('the + panel offers 相册, 拍摄, 文件 and 位置, and closes once one is chosen', async () => {
  const { ctx, page } = await openChat()
  ctx.wx.chooseMedia = { errMsg: 'chooseMedia:fail cancel' }
  assert.equal(bar(page).querySelector('#panel'), undefined)
  bar(page).querySelector('.more').dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(bar(page).querySelector('#panel').querySelectorAll('.action').map(a => h.textOf(a).split(' ').pop()),
    ['相册', '拍摄', '文件', '位置'])
  bar(page).querySelector('#panel').querySelectorAll('.action')[0].dispatchEvent('tap')
  await h.settle()
  assert.equal(bar(page).querySelector('#panel'), undefined)
  assert.deepEqual(sends(ctx), []) // cancelled: nothing sent, nothing said
  assert.deepEqual(ctx.toasts, [])
})

test('相册: a compressed picture (its size from getImageInfo) and a video with its poster and length are sent and shown at once', async () => {
  const { ctx, page } = await openChat('group:g1')
  ctx.wx.chooseMedia = {
    type: 'mix',
    tempFiles: [
      { fileType: 'image', tempFilePath: 'wxfile://tmp/a.jpg', size: 204800 },
      { fileType: 'video', tempFilePath: 'wxfile://tmp/b.mp4', size: 3145728, duration: 15.2, width: 1280, height: 720, thumbTempFilePath: 'wxfile://tmp/b.jpg' },
    ],
  }
  ctx.wx.getImageInfo = { width: 1080, height: 1920 }
  ctx.chat.holdUploads = true
  await choose(page, '相册')

  assert.deepEqual(calls(ctx, 'chooseMedia'), [{ count: 9, mediaType: ['image', 'video'], sourceType: ['album'], sizeType: ['compressed'], maxDuration: 60, camera: 'back' }])
  assert.deepEqual(calls(ctx, 'getImageInfo'), [{ src: 'wxfile://tmp/a.jpg' }])
  assert.deepEqual(sends(ctx), [
    [{ type: 'img', chatType: 'groupChat', to: 'g1', file: { path: 'wxfile://tmp/a.jpg', size: 204800, width: 1080, height: 1920 } }, { WebIM: ctx.WebIM }],
    [{ type: 'video', chatType: 'groupChat', to: 'g1', file: { path: 'wxfile://tmp/b.mp4', size: 3145728, width: 1280, height: 720, duration: 15.2, thumb: 'wxfile://tmp/b.jpg' } }, { WebIM: ctx.WebIM }],
  ])
  const [picture, video] = bubbles(page)
  assert.deepEqual(h.imageSources(picture).slice(1), ['wxfile://tmp/a.jpg'])
  assert.equal(styleOf(picture, 'frame'), 'width: 203rpx; height: 360rpx;')
  assert.equal(h.textOf(picture), '发送中')
  assert.deepEqual(h.imageSources(video).slice(1), ['wxfile://tmp/b.jpg'])
  assert.equal(h.textOf(video), '▶ 0:15 发送中')
  assert.equal(styleOf(video, 'frame'), 'width: 360rpx; height: 203rpx;')
})

test('拍摄 opens the camera; 文件 sends each chosen chat file with its name and size; 位置 sends the chosen place', async () => {
  const { ctx, page } = await openChat()
  ctx.wx.chooseMedia = { type: 'image', tempFiles: [{ fileType: 'image', tempFilePath: 'wxfile://tmp/c.jpg', size: 1000 }] }
  ctx.wx.getImageInfo = { errMsg: 'getImageInfo:fail' }
  await choose(page, '拍摄')
  assert.deepEqual(calls(ctx, 'chooseMedia')[0].sourceType, ['camera'])
  assert.equal(calls(ctx, 'chooseMedia')[0].count, 1)

  ctx.wx.chooseMessageFile = { tempFiles: [{ path: 'wxfile://tmp/d.pdf', name: '行程.pdf', size: 1572864, type: 'file' }] }
  await choose(page, '文件')
  assert.deepEqual(calls(ctx, 'chooseMessageFile'), [{ count: 9, type: 'all' }])

  ctx.wx.chooseLocation = { name: '香山公园', address: '北京市海淀区买卖街40号', latitude: 39.99, longitude: 116.19 }
  await choose(page, '位置')

  assert.deepEqual(sends(ctx).map(s => s[0]), [
    { type: 'img', chatType: 'singleChat', to: 'bob', file: { path: 'wxfile://tmp/c.jpg', size: 1000 } },
    { type: 'file', chatType: 'singleChat', to: 'bob', file: { path: 'wxfile://tmp/d.pdf', name: '行程.pdf', size: 1572864 } },
    { type: 'loc', chatType: 'singleChat', to: 'bob', lat: 39.99, lng: 116.19, addr: '北京市海淀区买卖街40号', buildingName: '香山公园' },
  ])
  const shown = bubbles(page)
  assert.equal(styleOf(shown[0], 'frame'), 'width: 280rpx; height: 280rpx;') // size unknown: a square
  assert.equal(h.textOf(shown[1]), '行程.pdf 1.5 MB 📄')
  assert.equal(h.textOf(shown[2]), '香山公园 北京市海淀区买卖街40号 📍')
  assert.deepEqual(ctx.toasts, [])
})

test('a location the phone refuses shows a toast and sends nothing', async () => {
  const { ctx, page } = await openChat()
  ctx.wx.chooseLocation = { errMsg: 'chooseLocation:fail auth deny' }
  await choose(page, '位置')
  assert.deepEqual(sends(ctx), [])
  assert.deepEqual(ctx.toasts, ['无法获取位置'])
})

// Received records of every media kind, as mpchat stores them (normalize.rs file_fields).
function received() {
  const at = (i, fields) => record(Object.assign({ id: `r${i}`, conversation: 'single:bob', to: 'alice', from: 'bob', time: T0 + i * 1000 }, fields))
  return [
    at(1, { type: 'img', body: { url: 'https://files.example/p1', thumb: 'https://files.example/p1-thumb', width: 800, height: 600, file_length: 90000 } }),
    at(2, { type: 'video', body: { url: 'https://files.example/v1', thumb: 'https://files.example/v1-thumb', length: 75, file_length: 4000000 } }),
    at(3, { type: 'audio', body: { url: 'https://files.example/a1', filename: 'a1.amr', length: 3, file_length: 5000 } }),
    at(4, { type: 'audio', body: { url: 'https://files.example/a2', filename: 'a2.amr', length: 50, file_length: 80000 } }),
    at(5, { type: 'file', body: { url: 'https://files.example/f1', filename: 'route.docx', file_length: 34816 } }),
    at(6, { type: 'loc', body: { lat: 39.99, lng: 116.19, addr: '北京市海淀区买卖街40号', buildingName: '香山公园' } }),
    at(7, { type: 'img', body: { url: 'https://files.example/p2', width: 300, height: 3000 } }),
    at(8, { type: 'loc', body: { lat: 31.2, lng: 121.5, addr: '上海市黄浦区中山东一路' } }),
  ]
}

test('received media: the picture\'s thumbnail at its proportions, the video\'s poster and length, the voice\'s length, the file\'s name and size, the place', async () => {
  const { page } = await openChat('single:bob', received())
  const shown = bubbles(page)
  assert.deepEqual(h.imageSources(shown[0]).slice(1), ['https://files.example/p1-thumb'])
  assert.equal(styleOf(shown[0], 'frame'), 'width: 360rpx; height: 270rpx;')
  assert.deepEqual(h.imageSources(shown[1]).slice(1), ['https://files.example/v1-thumb'])
  assert.equal(h.textOf(shown[1]), '▶ 1:15')
  assert.equal(h.textOf(shown[2]), '🔈 3″')
  assert.equal(h.textOf(shown[3]), '🔈 50″')
  const width = i => Number(/width: (\d+)rpx/.exec(styleOf(shown[i], 'voice'))[1])
  assert.ok(width(3) > width(2), `a 50″ voice (${width(3)}) is wider than a 3″ one (${width(2)})`)
  assert.equal(h.textOf(shown[4]), 'route.docx 34 KB 📄')
  assert.equal(h.textOf(shown[5]), '香山公园 北京市海淀区买卖街40号 📍')
  assert.equal(styleOf(shown[6], 'frame'), 'width: 100rpx; height: 360rpx;') // a long strip: cropped, not a hairline
  assert.deepEqual(h.imageSources(shown[6]).slice(1), ['https://files.example/p2'])
  assert.equal(h.textOf(shown[7]), '上海市黄浦区中山东一路 📍')
})

test('the conversation list and a quote still name media by type: [图片] [语音] [视频] [文件] [位置]', () => {
  const rows = received().map(r => present.conversationRow({ conversation: 'single:bob', kind: 'single', last: r, unread: 0 }, createFakeContext().mpchat, T0, 'bob').label)
  assert.deepEqual(rows, ['[图片]', '[视频]', '[语音] 3″', '[语音] 50″', '[文件] route.docx', '[位置] 北京市海淀区买卖街40号', '[图片]', '[位置] 上海市黄浦区中山东一路'])
})

test('tapping media: a picture previews full size among all of the chat\'s pictures; a video plays; a file downloads and opens; a place opens on the map', async () => {
  const { ctx, page } = await openChat('single:bob', received())
  ctx.wx.downloadFile = { statusCode: 200, tempFilePath: 'wxfile://tmp/dl1' }
  ctx.wx.openDocument = {}
  const tap = async i => {
    bubbles(page)[i].querySelector('.bubble').dispatchEvent('tap')
    await h.settle()
  }
  await tap(6)
  await tap(1)
  await tap(4)
  await tap(5)
  assert.deepEqual(ctx.wxCalls.map(c => c[0]), ['previewImage', 'previewMedia', 'downloadFile', 'openDocument', 'openLocation'])
  assert.deepEqual(calls(ctx, 'previewImage'), [{ current: 'https://files.example/p2', urls: ['https://files.example/p1', 'https://files.example/p2'] }])
  assert.deepEqual(calls(ctx, 'previewMedia'), [{ sources: [{ url: 'https://files.example/v1', type: 'video', poster: 'https://files.example/v1-thumb' }] }])
  assert.deepEqual(calls(ctx, 'downloadFile'), [{ url: 'https://files.example/f1' }])
  assert.deepEqual(calls(ctx, 'openDocument'), [{ filePath: 'wxfile://tmp/dl1', showMenu: true, fileType: 'docx' }])
  assert.deepEqual(calls(ctx, 'openLocation'), [{ latitude: 39.99, longitude: 116.19, name: '香山公园', address: '北京市海淀区买卖街40号', scale: 16 }])

  ctx.wx.downloadFile = { statusCode: 404, tempFilePath: 'wxfile://tmp/dl2' }
  await tap(4)
  assert.deepEqual(ctx.toasts, ['无法打开该文件'])
  assert.equal(calls(ctx, 'openDocument').length, 1)
})

test('tapping a voice plays it; tapping it again stops it; another voice stops the first; the end of playback clears the mark', async () => {
  const { ctx, page } = await openChat('single:bob', received())
  const voice = i => bubbles(page)[i].querySelector('.bubble')
  const playingShown = () => bubbles(page).map((b, i) => (h.withClass(b, 'playing').length ? i : -1)).filter(i => i >= 0)
  const tap = async i => {
    voice(i).dispatchEvent('tap')
    await h.settle()
  }

  await tap(2)
  assert.deepEqual(ctx.wxCalls, [['play', 'https://files.example/a1']])
  assert.deepEqual(playingShown(), [2])
  assert.equal(h.textOf(bubbles(page)[2]), '🔊 3″')
  await tap(2)
  assert.deepEqual(ctx.wxCalls.slice(1), [['stop', 'https://files.example/a1']])
  assert.deepEqual(playingShown(), [])
  assert.equal(h.textOf(bubbles(page)[2]), '🔈 3″')

  await tap(2)
  await tap(3)
  assert.deepEqual(ctx.wxCalls.slice(2), [['play', 'https://files.example/a1'], ['stop', 'https://files.example/a1'], ['play', 'https://files.example/a2']])
  assert.deepEqual(playingShown(), [3])
  assert.deepEqual(ctx.audios.map(a => !!a.destroyed), [true, true, false])
  ctx.audios[2].ended()
  await h.settle()
  assert.deepEqual(playingShown(), [])

  await tap(2)
  page.detach() // leaving the chat stops the voice
  assert.deepEqual(ctx.wxCalls.slice(-1), [['stop', 'https://files.example/a1']])
})

test('upload progress shows on the sending bubble until the message is sent', async () => {
  const { ctx, page } = await openChat()
  ctx.chat.holdUploads = true
  ctx.wx.chooseMessageFile = { tempFiles: [{ path: 'wxfile://tmp/e.pdf', name: 'plan.pdf', size: 2048 }] }
  await choose(page, '文件')
  const progress = () => {
    const bar = h.withClass(bubbles(page)[0], 'progress-bar')[0]
    return bar ? [h.attr(bar, 'style'), h.textOf(h.withClass(bubbles(page)[0], 'progress')[0])] : null
  }
  assert.equal(progress(), null)
  assert.equal(h.textOf(bubbles(page)[0]), 'plan.pdf 2 KB 📄 发送中')

  const [upload] = ctx.chat.uploads
  upload.progress(40)
  await h.settle()
  assert.deepEqual(progress(), ['width: 40%;', '40%'])
  upload.progress(85)
  await h.settle()
  assert.deepEqual(progress(), ['width: 85%;', '85%'])
  assert.equal(bubbles(page).length, 1)

  upload.finish()
  await h.settle()
  assert.equal(progress(), null)
  assert.equal(h.textOf(bubbles(page)[0]), 'plan.pdf 2 KB 📄')
  assert.equal(page.instance.records[0].id, 'sent-1')
})

test('a failed upload shows the failed mark; tapping it sends the same record again through chat.resend, uploading again', async () => {
  const { ctx, page } = await openChat()
  const outcomes = ['failed', 'sent']
  ctx.chat.sendResult = () => ({ status: outcomes.shift() })
  ctx.wx.chooseMedia = { type: 'image', tempFiles: [{ fileType: 'image', tempFilePath: 'wxfile://tmp/f.jpg', size: 3000 }] }
  ctx.wx.getImageInfo = { width: 100, height: 100 }
  await choose(page, '相册')
  assert.equal(bubbles(page).length, 1)
  assert.ok(bubbles(page)[0].querySelector('.failed'))
  assert.equal(h.textOf(bubbles(page)[0]), '!')

  const published = []
  ctx.chat.subscribe('single:bob', r => published.push([r.id, r.status, r.progress]))
  bubbles(page)[0].querySelector('.failed').dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(ctx.chat.calls.filter(c => c[0] === 'send' || c[0] === 'resend').map(c => [c[0], c[0] === 'send' ? c[2].type : c[2]]),
    [['send', 'img'], ['resend', 'local-1']])
  assert.deepEqual(published, [['local-1', 'sending', undefined], ['local-1', 'sending', 50], ['local-1', 'sending', 100], ['sent-2', 'sent', undefined]])
  assert.equal(bubbles(page).length, 1)
  assert.equal(bubbles(page)[0].querySelector('.failed'), undefined)
  assert.deepEqual(h.imageSources(bubbles(page)[0]).slice(1), ['https://files.example/sent-2'])
})

test('a file left failed in history (the app closed mid-upload) is sent again through chat.resend when its mark is tapped', async () => {
  const failed = record({ id: 'x1', conversation: 'single:bob', to: 'bob', from: 'alice', time: T0, type: 'file', status: 'failed', body: { url: 'wxfile://tmp/g.pdf', filename: 'g.pdf', file_length: 5000 } })
  const { ctx, page } = await openChat('single:bob', [failed])
  assert.equal(h.textOf(bubbles(page)[0]), 'g.pdf 4.9 KB 📄 !')
  bubbles(page)[0].querySelector('.failed').dispatchEvent('tap')
  await h.settle()
  assert.deepEqual(ctx.chat.calls.filter(c => c[0] === 'resend' || c[0] === 'send').map(c => [c[0], c[2], c[3]]), [['resend', 'x1', { WebIM: ctx.WebIM }]])
  assert.equal(h.textOf(bubbles(page)[0]), 'g.pdf 4.9 KB 📄')
  assert.equal(page.instance.records[0].body.url, 'https://files.example/sent-1')
})

// A fake clock for the recorder's timing; restored by the returned function.
function clockAt(ms) {
  const real = Date.now
  const clock = { now: ms, restore: () => { Date.now = real } }
  Date.now = () => clock.now
  return clock
}

async function voiceMode(page) {
  bar(page).querySelector('.voice-toggle').dispatchEvent('tap')
  await h.settle()
  return bar(page).querySelector('#voice')
}

async function touch(key, name, y) {
  key.querySelector('.hold').dispatchEvent(name, { touches: [{ x: 100, y }], changedTouches: [{ x: 100, y }] })
  await h.settle()
}

test('voice: the key swaps the text box for 按住 说话; holding records mp3 for at most 60 s, releasing sends it with its length', async (t) => {
  const { ctx, page } = await openChat()
  const clock = clockAt(T0)
  t.after(clock.restore)
  const key = await voiceMode(page)
  assert.equal(bar(page).querySelector('.text'), undefined)
  assert.equal(h.textOf(key), '按住 说话')

  await touch(key, 'touchstart', 600)
  assert.deepEqual(ctx.recorder.starts, [{ format: 'mp3', duration: 60000, sampleRate: 16000, numberOfChannels: 1, encodeBitRate: 48000 }])
  assert.equal(h.textOf(key), '松开 发送 🎙️ 手指上滑，取消发送')
  clock.now += 2600
  ctx.recorder.result = { tempFilePath: 'wxfile://tmp/v.mp3', duration: 2600, fileSize: 15600 }
  await touch(key, 'touchmove', 580) // a small slide does not cancel
  await touch(key, 'touchend', 580)
  assert.equal(h.textOf(key), '按住 说话')
  assert.deepEqual(sends(ctx).map(s => s[0]), [{ type: 'audio', chatType: 'singleChat', to: 'bob', file: { path: 'wxfile://tmp/v.mp3', duration: 3, size: 15600 } }])
  assert.equal(h.textOf(bubbles(page)[0]), '🔈 3″')

  // At 60 s the recorder stops by itself: what was said is sent, and lifting the finger then does nothing more.
  await touch(key, 'touchstart', 600)
  clock.now += 60000
  ctx.recorder.result = { tempFilePath: 'wxfile://tmp/w.mp3', duration: 60000, fileSize: 360000 }
  ctx.recorder.stop()
  await h.settle()
  assert.equal(h.textOf(key), '按住 说话')
  await touch(key, 'touchend', 600)
  assert.deepEqual(sends(ctx).map(s => s[0].file), [
    { path: 'wxfile://tmp/v.mp3', duration: 3, size: 15600 },
    { path: 'wxfile://tmp/w.mp3', duration: 60, size: 360000 },
  ])
  assert.equal(ctx.recorder.stops, 2)

  bar(page).querySelector('.voice-toggle').dispatchEvent('tap')
  await h.settle()
  assert.ok(bar(page).querySelector('.text'))
})

test('voice: shorter than 1 s is dropped with 说话时间太短', async (t) => {
  const { ctx, page } = await openChat()
  const clock = clockAt(T0)
  t.after(clock.restore)
  const key = await voiceMode(page)
  await touch(key, 'touchstart', 600)
  clock.now += 600
  ctx.recorder.result = { tempFilePath: 'wxfile://tmp/x.mp3', duration: 600, fileSize: 3000 }
  await touch(key, 'touchend', 600)
  assert.deepEqual(ctx.toasts, ['说话时间太短'])
  assert.deepEqual(sends(ctx), [])
  assert.equal(ctx.recorder.stops, 1)
  assert.equal(h.textOf(key), '按住 说话')
})

test('voice: sliding up shows 松开 取消 and releasing there sends nothing; sliding back down sends again', async (t) => {
  const { ctx, page } = await openChat()
  const clock = clockAt(T0)
  t.after(clock.restore)
  const key = await voiceMode(page)
  ctx.recorder.result = { tempFilePath: 'wxfile://tmp/y.mp3', duration: 4000, fileSize: 24000 }

  await touch(key, 'touchstart', 600)
  clock.now += 4000
  await touch(key, 'touchmove', 480)
  assert.equal(h.textOf(key), '松开 取消 ✕ 松开手指，取消发送')
  await touch(key, 'touchend', 480)
  assert.deepEqual(sends(ctx), [])
  assert.deepEqual(ctx.toasts, [])
  assert.equal(h.textOf(key), '按住 说话')

  await touch(key, 'touchstart', 600)
  clock.now += 4000
  await touch(key, 'touchmove', 480)
  await touch(key, 'touchmove', 590)
  assert.equal(h.textOf(key), '松开 发送 🎙️ 手指上滑，取消发送')
  await touch(key, 'touchend', 590)
  assert.deepEqual(sends(ctx).map(s => s[0].file), [{ path: 'wxfile://tmp/y.mp3', duration: 4, size: 24000 }])
})
