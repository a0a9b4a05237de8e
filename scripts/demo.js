#!/usr/bin/env node
// `make demo`: three people plan a hike through the loopback Easemob server with the real SDK and mpchat.
// Bob and Carol set their names and faces on the server and send with chat.send: text, a photo, a voice
// message, reactions. Alice uses the demo mini-program's own pages (loaded under miniprogram-simulate): her
// conversation list (she pins the group), the chat page (she types, taps emoji, quotes and reacts through
// the long-press menu, sends a photo from the "+" panel, which mpchat uploads to the server, and leaves a
// draft), her contacts and groups. The demo prints what her pages show and the size of the demo's main
// package, and renders three pages to HTML and PNG (demo-out/, copied to docs/ for README).
//
// A morning's chat is played in seconds: Date runs on a script clock that jumps to each message's minute,
// so the pages show real time labels and separators. The scene itself is in demo-scene.js, the picked files
// and Alice's phone in demo-media.js, the printing in demo-print.js.
'use strict'

const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { GROUP, CAST, FRIENDS, AVATAR_HOST, GROUP_FACE, WORLD, SCRIPT } = require('./demo-scene.js')
const { pickedFiles, givePhone, downloadPictures } = require('./demo-media.js')
const { printChatPage, printConversationList, printDirectory, printPackageSize } = require('./demo-print.js')

const REPO = path.join(__dirname, '..')
const DEMO = path.join(REPO, 'miniprogram-demo')
const OUT = path.join(REPO, 'demo-out')
const DOCS = path.join(REPO, 'docs')
const DELIVERY_GUARD_MS = 15000 // only against a hang: a missing delivery fails the demo instead
const SCREEN_WIDTH = 420
// The height of each screenshot, in px: enough for what the page shows.
const SCREEN_HEIGHTS = { chat: 900, list: 520, contacts: 330 }

// ---- script clock --------------------------------------------------------------------------------------

function installScriptClock(startMs) {
  const RealDate = Date
  const realStart = RealDate.now()
  let offset = startMs - realStart
  const now = () => RealDate.now() + offset
  class ScriptDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(now())
      else super(...args)
    }
    static now() { return now() }
  }
  global.Date = ScriptDate
  return {
    // Jumps forward to `ms` (never back: the SDK and server see time only move on).
    jumpTo(ms) { offset = Math.max(offset, ms - RealDate.now()) },
    restore() { global.Date = RealDate },
  }
}

// `at` ('HH:MM', China time) on `day` (0 today, -1 yesterday, in China) as milliseconds.
function chinaTime(day, at) {
  const chinaNow = new Date(Date.now() + 8 * 3600 * 1000)
  const [hours, minutes] = at.split(':').map(Number)
  return Date.UTC(chinaNow.getUTCFullYear(), chinaNow.getUTCMonth(), chinaNow.getUTCDate() + day, hours - 8, minutes)
}

// ---- people --------------------------------------------------------------------------------------------

function avatarUrl(id) {
  return `${AVATAR_HOST}${id}`
}

// What an avatar URL of the cast or the group shows: a coloured tile with an initial.
function avatarImage(url) {
  if (!url.startsWith(AVATAR_HOST)) return undefined
  const id = url.slice(AVATAR_HOST.length)
  const face = id === GROUP ? GROUP_FACE : CAST[id] || FRIENDS[id]
  if (!face || !face.initial) return undefined
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="80" viewBox="0 0 80 80">' +
    `<rect width="80" height="80" fill="${face.color}"/>` +
    '<text x="40" y="54" font-size="38" font-family="WenQuanYi Micro Hei, sans-serif" font-weight="bold" ' +
    `text-anchor="middle" fill="#fff">${face.initial}</text></svg>`
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`
}

// Logs `user` in with a chat whose messages carry the user's nickname in ext (the app's config.profile);
// Alice's carry her face too. Bob and Carol put their nickname and face on the server (user attributes),
// where Alice's pages look them up.
async function joinAs(server, mpchat, user) {
  const { connectClient } = require('../loopback/client.js')
  const { createWxStorage } = require('../tests/js/support/wx-storage.js')
  const client = await connectClient(server, { user })
  const profile = { nickname: CAST[user].nickname, avatar: user === 'alice' ? avatarUrl(user) : undefined }
  const chat = await mpchat.createChat({ user, storage: createWxStorage(), profile })
  const detach = chat.attach(client.conn)
  if (user !== 'alice') await client.conn.updateUserInfo({ nickname: CAST[user].nickname, avatarurl: avatarUrl(user) })
  return { user, client, chat, detach }
}

// Resolves with the first record of `conversation` in `chat` that `match` accepts, stored or yet to come.
function recordIn(chat, conversation, match, what) {
  const stored = chat.history(conversation, { limit: 100 }).find(match)
  if (stored) return Promise.resolve(stored)
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      off()
      reject(new Error(`demo: ${chat.user} never got ${what} in ${conversation}`))
    }, DELIVERY_GUARD_MS)
    const off = chat.subscribe(conversation, record => {
      if (!match(record)) return
      clearTimeout(guard)
      off()
      resolve(record)
    })
  })
}

// A file message of `conversation` on `person`'s phone, downloaded from the server as the phone would.
async function downloadedBy(person, conversation, id) {
  const record = person.chat.history(conversation, { limit: 100 }).find(r => r.id === id)
  const res = await new Promise((resolve, reject) => person.client.wx.downloadFile({ url: record.body.url, success: resolve, fail: reject }))
  return { url: record.body.url, bytes: fs.readFileSync(res.tempFilePath) }
}

// What Bob or Carol send for a step: text, or a file picked on their phone.
function inputFor(step, to, files) {
  const input = { chatType: step.group ? 'groupChat' : 'singleChat', to }
  if (step.photo) return Object.assign(input, { type: 'img', file: files.photo(step.photo.name, step.photo.hour) })
  if (step.voice) return Object.assign(input, { type: 'audio', file: files.voice(step.voice.name, step.voice.seconds) })
  return Object.assign(input, { type: 'txt', msg: step.text }, step.mentions ? { mentions: step.mentions } : {})
}

// ---- Alice's pages -------------------------------------------------------------------------------------

function mountPage(h, name, properties) {
  return h.mount(`pages/${name}/index`, properties)
}

// Types into the chat page's input bar, tapping the picker for emoji codes; with `send`, taps send.
async function typeInto(h, page, mpchat, parts, send) {
  const bar = page.querySelector('#input-bar')
  const codes = mpchat.emojiTable().map(e => e.code)
  let value = ''
  for (const part of parts) {
    const key = codes.indexOf(part)
    if (key >= 0) {
      if (!bar.querySelector('#picker')) bar.querySelector('.emoji-toggle').dispatchEvent('tap')
      await h.settle()
      bar.querySelector('#picker').querySelectorAll('.emoji-key')[key].dispatchEvent('tap')
    } else {
      value += part
      bar.querySelector('.text').dispatchEvent('input', { detail: { value } })
    }
    await h.settle()
    value = bar.instance.data.value
  }
  if (bar.querySelector('#picker')) bar.querySelector('.emoji-toggle').dispatchEvent('tap')
  if (send) bar.querySelector('.send').dispatchEvent('tap')
  await h.settle()
  return value
}

// A long press on message `id`'s bubble, then a tap on the menu's `label` (an action or a reaction).
async function fromMenu(h, page, id, label) {
  page.querySelector(`#m-${id}`).querySelector('.bubble').dispatchEvent('longpress')
  await h.settle()
  const menu = page.querySelector('#menu')
  const choice = [...menu.querySelectorAll('.action'), ...menu.querySelectorAll('.reaction')].find(n => h.textOf(n) === label)
  if (!choice) throw new Error(`demo: the menu of ${id} has no ${label}`)
  choice.dispatchEvent('tap')
  await h.settle()
}

// The "+" panel's 相册, answered by the phone with `file`.
async function pickPhoto(h, page, phone, file) {
  phone.pick(file)
  const bar = page.querySelector('#input-bar')
  bar.querySelector('.more').dispatchEvent('tap')
  await h.settle()
  bar.querySelector('#panel').querySelectorAll('.action').find(a => h.textOf(a).endsWith('相册')).dispatchEvent('tap')
  await h.settle()
}

// A long press on the list's row of `conversation`; the action sheet's first item (置顶) is tapped.
async function pinFromList(h, page, conversation) {
  wx.showActionSheet = options => options.success({ tapIndex: 0 })
  const rows = page.querySelectorAll('.row')
  rows[page.data.rows.findIndex(r => r.conversation === conversation)].dispatchEvent('longpress')
  await h.settle()
}

// ---- screenshots ---------------------------------------------------------------------------------------

// Writes demo-out/<name>.html: `page` as it stands now, its server pictures downloaded by Alice's phone.
async function renderToHtml(name, page, pageName, title, phoneWx) {
  const { renderPageHtml } = require('./demo-html.js')
  const pictures = await downloadPictures(page, phoneWx)
  const htmlFile = path.join(OUT, `${name}.html`)
  fs.mkdirSync(OUT, { recursive: true })
  fs.writeFileSync(htmlFile, renderPageHtml({
    page,
    pageDir: path.join(DEMO, 'pages', pageName),
    root: DEMO,
    title,
    remoteImage: src => avatarImage(src) || pictures.get(src),
  }))
  return htmlFile
}

function screenshot(htmlFile, pngFile, height) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mpchat-demo-chromium-'))
  try {
    const run = spawnSync('chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars',
      `--user-data-dir=${profile}`, `--window-size=${SCREEN_WIDTH},${height}`, `--screenshot=${pngFile}`, `file://${htmlFile}`,
    ], { encoding: 'utf8', timeout: 120000 })
    if (run.status !== 0 || !fs.existsSync(pngFile)) {
      throw new Error(`demo: chromium gave no screenshot (exit ${run.status}): ${(run.stderr || '').trim().slice(-500)}`)
    }
  } finally {
    fs.rmSync(profile, { recursive: true, force: true })
  }
}

// Each rendered page as demo-out/<name>.png, copied to docs/demo-<name>.png (the pictures README shows).
function screenshotAll(htmlFiles) {
  const ensure = spawnSync('bash', [path.join(__dirname, 'ensure-chromium.sh')], { stdio: 'inherit' })
  if (ensure.status !== 0) throw new Error('demo: could not install Chromium for the screenshots (scripts/ensure-chromium.sh)')
  for (const [name, htmlFile] of htmlFiles) {
    const pngFile = path.join(OUT, `${name}.png`)
    screenshot(htmlFile, pngFile, SCREEN_HEIGHTS[name])
    fs.copyFileSync(pngFile, path.join(DOCS, `demo-${name}.png`))
    console.log(`Wrote ${path.relative(REPO, htmlFile)}, ${path.relative(REPO, pngFile)} and docs/demo-${name}.png.`)
  }
}

// ---- the demo ------------------------------------------------------------------------------------------

async function main() {
  require('./demo-package.js').copyDemoDependencies()
  const times = new Map(SCRIPT.filter(step => step.at).map(step => [step, chinaTime(step.day, step.at)]))
  const clock = installScriptClock(Math.min(...times.values()))

  const { startServer } = require('../loopback/server.js')
  const mpchat = require(path.join(DEMO, 'mpchat', 'index.js'))
  const config = require(path.join(DEMO, 'config.js'))

  const server = await startServer(WORLD)
  const files = pickedFiles()
  const people = {}
  const pages = new Map() // Alice's open pages: chat pages by conversation, 'contacts', 'groups'
  const tagged = new Map() // a step's tag -> the id of the message it sent
  const htmlFiles = new Map() // screenshot name -> its HTML
  let conversationsPage = null
  try {
    for (const user of Object.keys(CAST)) people[user] = await joinAs(server, mpchat, user)
    const alice = people.alice
    // Only now the page simulator: it gives Node a jsdom `window`, whose localStorage the SDK's login would
    // trip over, as the SDK takes any global window for a browser's.
    const h = require('../tests/js/fixtures/simulate.js')
    const phone = givePhone(alice.client.wx)
    console.log(`Loopback Easemob server in this process; ${Object.keys(CAST).join(', ')} logged in with easemob-websdk, each with an mpchat chat.`)
    console.log('Bob and Carol set their nicknames and avatars on the server (updateUserInfo) and send with chat.send;')
    console.log('Alice uses the demo\'s pages (miniprogram-simulate).')

    h.context.inject({
      mpchat,
      chat: alice.chat,
      conn: alice.client.conn,
      WebIM: alice.client.WebIM,
      user: 'alice',
      config,
      login: () => Promise.reject(new Error('the demo logs in before the pages open')),
      logout: () => {},
    })
    // What the demo's app.js does after login: the group's name and face, and the people's, from the server.
    await require(path.join(DEMO, 'lib', 'names.js')).refreshAll({ chat: alice.chat, conn: alice.client.conn })
    const known = [...['bob', 'carol'].map(u => alice.chat.profile(u)), alice.chat.groupProfile(GROUP)]
    console.log(`From the server, Alice's phone knows ${known.map(p => `${p.id} as ${p.name || p.nickname} (${p.source}, face ${p.avatar ? 'set' : 'none'})`).join(', ')}.`)
    conversationsPage = mountPage(h, 'conversations')
    const openPage = async (key, name, properties) => {
      if (!pages.has(key)) {
        pages.set(key, mountPage(h, name, properties))
        await h.settle()
      }
      return pages.get(key)
    }
    const openChat = conversation => openPage(conversation, 'chat', { conversation })
    const conversationOf = (step, user) => {
      if (step.group) return `group:${GROUP}`
      const to = step.to || 'alice'
      return `single:${user === step.from ? to : step.from}`
    }

    // Alice's turn on her chat page: typed text (quoting, with `quote`) or a photo from the "+" panel.
    const aliceSends = async (step, photo) => {
      const conversation = conversationOf(step, 'alice')
      const page = await openChat(conversation)
      if (photo) {
        await pickPhoto(h, page, phone, photo)
        return recordIn(alice.chat, conversation, r => r.direction === 'out' && r.type === 'img' && r.status !== 'sending', 'her photo sent')
      }
      if (step.quote) await fromMenu(h, page, tagged.get(step.quote), '引用')
      const text = await typeInto(h, page, mpchat, step.typed, true)
      return recordIn(alice.chat, conversation, r => r.direction === 'out' && r.text === text && r.status !== 'sending', `her own "${text}"`)
    }

    const send = async step => {
      const to = step.group ? GROUP : step.to || 'alice'
      let sent
      const photo = step.picks ? files.photo(step.picks.name, step.picks.hour) : null
      if (step.from === 'alice') {
        sent = await aliceSends(step, photo)
      } else {
        const { chat, client } = people[step.from]
        const input = inputFor(step, to, files)
        sent = await chat.send(client.conn, input, input.file ? { WebIM: client.WebIM, wx: client.wx } : { WebIM: client.WebIM })
      }
      if (sent.status === 'failed') throw new Error(`demo: ${step.from}'s message failed: ${JSON.stringify(sent.error)}`)
      const members = step.group ? Object.keys(CAST) : [step.from, to]
      const receivers = members.filter(u => u !== step.from)
      await Promise.all(receivers.map(u => recordIn(people[u].chat, conversationOf(step, u), r => r.id === sent.id, `message ${sent.id}`)))
      if (step.tag) tagged.set(step.tag, sent.id)
      if (photo) {
        const got = await downloadedBy(people[to], conversationOf(step, to), sent.id)
        if (!got.bytes.equals(fs.readFileSync(photo.path))) throw new Error(`demo: ${to} downloaded other bytes than Alice picked`)
        console.log(`\nAlice's photo went up from her chat page's + panel; ${to}'s phone downloads the same ${got.bytes.length} bytes from ${got.url.split('?')[0]}`)
      }
    }

    // Alice edits her message from the long-press menu (编辑); done once everyone in the group has the new text.
    const edit = async step => {
      const conversation = `group:${GROUP}`
      const id = tagged.get(step.edit)
      await fromMenu(h, await openChat(conversation), id, '编辑')
      const text = await typeInto(h, pages.get(conversation), mpchat, step.typed, true)
      await Promise.all(Object.keys(CAST).map(u => recordIn(people[u].chat, conversation, r => r.id === id && r.edited && r.text === text, `the edit of ${id}`)))
    }

    // A peer types to Alice (chat.typing); her open chat page shows it.
    const typing = async step => {
      const { chat, client } = people[step.typing]
      chat.typing(client.conn, 'single:alice', { WebIM: client.WebIM })
      const page = pages.get(`single:${step.typing}`)
      for (let i = 0; i < 100 && !page.data.typing; i++) await h.settle()
      if (!page.data.typing) throw new Error(`demo: Alice's chat page never showed ${step.typing} typing`)
      console.log(`\n${page.data.title} is typing: Alice's chat page shows 对方正在输入…`)
    }

    // A reaction: Alice's from the long-press menu, the others' with chat.react; done once Alice's page has it.
    const react = async step => {
      const conversation = `group:${GROUP}`
      const id = tagged.get(step.react)
      let count
      if (step.by === 'alice') {
        await fromMenu(h, await openChat(conversation), id, step.reaction)
      } else {
        const { chat, client } = people[step.by]
        const record = await chat.react(client.conn, id, step.reaction)
        count = record.reactions.find(r => r.reaction === step.reaction).count
      }
      const shows = r => r.id === id && (r.reactions || []).some(x => x.reaction === step.reaction && (count ? x.count === count : x.mine))
      await recordIn(alice.chat, conversation, shows, `${step.by}'s ${step.reaction}`)
    }

    const show = async step => {
      await h.settle()
      let page
      let rendered = null // [page folder, navigation bar title]
      if (step.show === 'conversations') {
        page = conversationsPage
        printConversationList(page)
        rendered = ['conversations', '消息']
      } else if (step.show === 'contacts' || step.show === 'groups') {
        page = await openPage(step.show, step.show)
        await h.settle() // the profiles the page asked for
        printDirectory(page, `Alice's ${step.show} (pages/${step.show}):`)
        rendered = [step.show, step.show === 'contacts' ? '通讯录' : '群组']
      } else {
        page = await openChat(step.show)
        const members = step.show.startsWith('group:') ? `(${Object.keys(CAST).length})` : ''
        printChatPage(page, alice.chat, mpchat, `${page.data.title} (${step.show}), as Alice's chat page shows it:`)
        rendered = ['chat', `${page.data.title}${members}`]
      }
      if (step.screenshot) htmlFiles.set(step.screenshot, await renderToHtml(step.screenshot, page, ...rendered, alice.client.wx))
    }

    for (const step of SCRIPT) {
      if (step.at) clock.jumpTo(times.get(step))
      if (step.leave) {
        pages.get(step.leave).detach()
        pages.delete(step.leave)
      } else if (step.show) {
        await show(step)
      } else if (step.pin) {
        await pinFromList(h, conversationsPage, step.pin)
      } else if (step.react) {
        await react(step)
      } else if (step.edit) {
        await edit(step)
      } else if (step.typing) {
        await typing(step)
      } else if (step.draft) {
        await typeInto(h, await openChat(step.draft), mpchat, step.typed, false)
      } else {
        await send(step)
      }
      await h.settle()
    }

    const counts = Object.keys(CAST).map(u => `${u} ${people[u].chat.history(`group:${GROUP}`, { limit: 100 }).length}`)
    console.log(`\nMessages in group:${GROUP} on each phone: ${counts.join(', ')}.`)
    printPackageSize()
    console.log('')
    screenshotAll(htmlFiles)
  } finally {
    for (const page of [conversationsPage, ...pages.values()]) if (page) page.detach()
    for (const person of Object.values(people)) {
      person.detach()
      await person.client.close()
    }
    await server.close()
    files.remove()
    clock.restore()
    if (global.window) global.window.close()
  }
}

main().catch(err => {
  console.error(err && err.stack ? err.stack : err)
  process.exitCode = 1
})
