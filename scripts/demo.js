#!/usr/bin/env node
// `make demo`: three people chat through the loopback Easemob server with the real SDK and mpchat. Alice
// uses the demo mini-program's own pages (loaded under miniprogram-simulate): she reads her conversation
// list, types into the chat page's input bar, taps the emoji picker and the send key. Bob and Carol send
// with chat.send. The demo prints what Alice's pages show, the size of the demo's main package, and writes
// demo-out/chat.html and a screenshot of the group chat, demo-out/chat.png.
//
// A morning's chat is played in seconds: Date runs on a script clock that jumps to each message's minute,
// so the pages show real time labels and separators.
'use strict'

const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')

const REPO = path.join(__dirname, '..')
const DEMO = path.join(REPO, 'miniprogram-demo')
const OUT = path.join(REPO, 'demo-out')
const PACKAGE_LIMIT = 2 * 1024 * 1024
const DELIVERY_GUARD_MS = 15000 // only against a hang: a missing delivery fails the demo instead

const GROUP = 'g1'
const GROUP_NAME = '周末爬山群' // the group's name on the server
const CAST = {
  alice: { nickname: 'Alice', color: '#4e7fd6' },
  bob: { nickname: '鲍勃', color: '#e58a2e' },
  carol: { nickname: 'Carol', color: '#c65a8e' },
}
const AVATAR_HOST = 'https://avatars.mpchat.example/'

// The script. `at` is China time (UTC+8, where mpchat draws its time labels by default) on `day` 0 (today)
// or -1 (yesterday). Alice's lines are typed: strings go into the text box, codes are tapped on the emoji
// picker. `leave` closes Alice's chat page (she goes back to her list); `show` prints her list.
const SCRIPT = [
  { day: -1, at: '21:02', from: 'carol', group: true, text: '这周末天气不错，去爬山吗？[(H)]' },
  { day: -1, at: '21:05', from: 'alice', group: true, typed: ['好呀 ', '[:D]', ' 叫上鲍勃'] },
  { leave: `group:${GROUP}` },
  { day: 0, at: '09:30', from: 'bob', group: true, text: '早上好 [):] 周六去爬香山，大家几点方便？' },
  { day: 0, at: '09:31', from: 'carol', group: true, text: '我都可以 [;)] 八点东门见？' },
  { day: 0, at: '09:47', from: 'bob', group: true, text: '@Alice 记得带上次那根登山杖 [8-)]', mentions: ['alice'] },
  { show: 'conversations' },
  { day: 0, at: '09:48', from: 'alice', group: true, typed: ['没问题，八点见 ', '[(*)]'] },
  { day: 0, at: '09:48', from: 'alice', group: true, typed: ['登山杖在我这儿 👍 我再带点水果'] },
  { day: 0, at: '09:49', from: 'carol', group: true, text: '太好了，周六见 🎉 [(u)]' },
  { day: 0, at: '09:56', from: 'bob', text: '在吗？[:p] 上次的照片还没发我' },
  { show: 'conversations' },
  { day: 0, at: '09:57', from: 'alice', to: 'bob', typed: ['马上发你 ', '[:-*]'] },
]

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

function avatarUrl(user) {
  return `${AVATAR_HOST}${user}`
}

// What an avatar URL of the cast shows: a coloured tile with the nickname's first character.
function avatarImage(url) {
  if (!url.startsWith(AVATAR_HOST)) return undefined
  const person = CAST[url.slice(AVATAR_HOST.length)]
  if (!person) return undefined
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="80" viewBox="0 0 80 80">' +
    `<rect width="80" height="80" fill="${person.color}"/>` +
    '<text x="40" y="54" font-size="38" font-family="WenQuanYi Micro Hei, sans-serif" font-weight="bold" ' +
    `text-anchor="middle" fill="#fff">${Array.from(person.nickname)[0]}</text></svg>`
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`
}

async function joinAs(server, mpchat, user) {
  const { connectClient } = require('../loopback/client.js')
  const { createWxStorage } = require('../tests/js/support/wx-storage.js')
  const client = await connectClient(server, { user })
  const chat = await mpchat.createChat({
    user,
    storage: createWxStorage(),
    profile: { nickname: CAST[user].nickname, avatar: avatarUrl(user) },
  })
  const detach = chat.attach(client.conn)
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

// ---- Alice's pages -------------------------------------------------------------------------------------

function mountPage(h, name, properties) {
  return h.mount(`pages/${name}/index`, properties)
}

// Types into the chat page's input bar, tapping the picker for emoji codes, then taps send.
async function typeAndSend(h, page, mpchat, parts) {
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
  bar.querySelector('.send').dispatchEvent('tap')
  await h.settle()
  return value
}

// ---- what a person reads -------------------------------------------------------------------------------

function plainText(segments) {
  return (segments || []).map(s => (s.type === 'emoji' ? `:${s.data.replace(/\.png$/, '')}:` : s.data)).join('')
}

const STATUS_MARKS = { sending: '(sending)', failed: '(failed)', read: '(read)' }

function printChatPage(page, chat, mpchat, heading) {
  const conversation = page.data.conversation
  const records = new Map(chat.history(conversation, { limit: 100 }).map(r => [r.id, r]))
  console.log(`\n${heading}`)
  for (const item of page.data.items) {
    if (item.separator) {
      console.log(`                ── ${item.separator} ──`)
      continue
    }
    const m = item.message
    const record = records.get(m.id) || {}
    const time = mpchat.formatTime(record.time, { now: Date.now() })
    const who = m.mine ? `${m.nickname} (me)` : m.nickname
    const marks = [record.mentionsMe ? '[@me]' : '', m.mine ? STATUS_MARKS[m.status] : ''].filter(Boolean).join(' ')
    console.log(`  ${time}  ${who}: ${plainText(m.segments) || m.label}${marks ? `   ${marks}` : ''}`)
  }
}

function printConversationList(page) {
  console.log(`\nAlice's conversation list (pages/conversations), ${page.data.unreadTotal} unread:`)
  for (const row of page.data.rows) {
    const unread = row.unread > 0 ? `  [${row.badge} unread]` : ''
    const mention = row.mentioned ? '[有人@我] ' : ''
    const last = plainText(row.segments) || row.label
    console.log(`  ${row.timeLabel.padStart(5)}  ${row.name}${unread}\n         ${mention}${row.prefix}${last}`)
  }
}

function printPackageSize() {
  const { packageSizes } = require('./demo-package.js')
  const sizes = packageSizes()
  const total = sizes.reduce((sum, [, bytes]) => sum + bytes, 0)
  const kb = bytes => `${(bytes / 1024).toFixed(1)} KB`
  console.log('\nThe demo\'s main package (what WeChat uploads; README and project files left out):')
  for (const [name, bytes] of sizes) console.log(`  ${name.padEnd(12)} ${kb(bytes).padStart(9)}`)
  console.log(`  ${'total'.padEnd(12)} ${kb(total).padStart(9)}  of the 2 MB limit (${((100 * total) / PACKAGE_LIMIT).toFixed(0)}%)`)
  if (total > PACKAGE_LIMIT) throw new Error('demo: the main package is over WeChat\'s 2 MB limit')
}

// ---- screenshot ----------------------------------------------------------------------------------------

function screenshot(htmlFile, pngFile) {
  const ensure = spawnSync('bash', [path.join(__dirname, 'ensure-chromium.sh')], { stdio: 'inherit' })
  if (ensure.status !== 0) throw new Error('demo: could not install Chromium for the screenshot (scripts/ensure-chromium.sh)')
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mpchat-demo-chromium-'))
  try {
    const run = spawnSync('chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars',
      `--user-data-dir=${profile}`, '--window-size=420,860', `--screenshot=${pngFile}`, `file://${htmlFile}`,
    ], { encoding: 'utf8', timeout: 120000 })
    if (run.status !== 0 || !fs.existsSync(pngFile)) {
      throw new Error(`demo: chromium gave no screenshot (exit ${run.status}): ${(run.stderr || '').trim().slice(-500)}`)
    }
  } finally {
    fs.rmSync(profile, { recursive: true, force: true })
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

  const server = await startServer({ users: Object.keys(CAST), groups: { [GROUP]: { members: Object.keys(CAST), name: GROUP_NAME } } })
  const people = {}
  const chatPages = new Map() // Alice's open chat pages by conversation
  let conversationsPage = null
  try {
    for (const user of Object.keys(CAST)) people[user] = await joinAs(server, mpchat, user)
    const alice = people.alice
    // Only now the page simulator: it gives Node a jsdom `window`, whose localStorage the SDK's login would
    // trip over, as the SDK takes any global window for a browser's.
    const h = require('../tests/js/fixtures/simulate.js')
    console.log(`Loopback Easemob server in this process; ${Object.keys(CAST).join(', ')} logged in with easemob-websdk, each with an mpchat chat.`)
    console.log('Alice uses the demo\'s pages (miniprogram-simulate); Bob and Carol send with chat.send.')

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
    // What the demo's app.js does after login: the group's name (its title) and the people's from the server.
    await require(path.join(DEMO, 'lib', 'names.js')).refreshAll({ chat: alice.chat, conn: alice.client.conn })
    conversationsPage = mountPage(h, 'conversations')
    const openChat = async conversation => {
      if (!chatPages.has(conversation)) {
        const page = mountPage(h, 'chat', { conversation })
        chatPages.set(conversation, page)
        await h.settle()
      }
      return chatPages.get(conversation)
    }

    for (const step of SCRIPT) {
      if (step.leave) {
        chatPages.get(step.leave).detach()
        chatPages.delete(step.leave)
        continue
      }
      if (step.show === 'conversations') {
        await h.settle()
        printConversationList(conversationsPage)
        continue
      }
      clock.jumpTo(times.get(step))
      const to = step.group ? GROUP : step.to || 'alice'
      const members = step.group ? Object.keys(CAST) : [step.from, to]
      const receivers = members.filter(u => u !== step.from)
      const conversationFor = user => (step.group ? `group:${GROUP}` : `single:${user === step.from ? to : step.from}`)
      let sent
      if (step.typed) {
        const page = await openChat(conversationFor('alice'))
        const text = await typeAndSend(h, page, mpchat, step.typed)
        sent = await recordIn(alice.chat, conversationFor('alice'), r => r.direction === 'out' && r.text === text && r.status !== 'sending', `her own "${text}"`)
      } else {
        const sender = people[step.from]
        const input = { type: 'txt', chatType: step.group ? 'groupChat' : 'singleChat', to, msg: step.text }
        if (step.mentions) input.mentions = step.mentions
        sent = await sender.chat.send(sender.client.conn, input, { WebIM: sender.client.WebIM })
      }
      if (sent.status === 'failed') throw new Error(`demo: ${step.from}'s message failed: ${JSON.stringify(sent.error)}`)
      await Promise.all(receivers.map(u => recordIn(people[u].chat, conversationFor(u), r => r.id === sent.id, `message ${sent.id}`)))
      await h.settle()
    }

    const groupPage = chatPages.get(`group:${GROUP}`)
    printChatPage(groupPage, alice.chat, mpchat, `${groupPage.data.title} (group:${GROUP}), as Alice's chat page shows it:`)
    printChatPage(chatPages.get('single:bob'), alice.chat, mpchat, 'bob (single:bob), as Alice\'s chat page shows it:')
    const others = ['bob', 'carol'].map(u => `${u} holds ${people[u].chat.history(`group:${GROUP}`, { limit: 100 }).length}`)
    console.log(`\nIn group:${GROUP} Alice's page shows ${groupPage.data.items.filter(i => i.message).length} messages; ${others.join(', ')}.`)
    printPackageSize()

    fs.mkdirSync(OUT, { recursive: true })
    const { renderPageHtml } = require('./demo-html.js')
    const htmlFile = path.join(OUT, 'chat.html')
    fs.writeFileSync(htmlFile, renderPageHtml({
      page: groupPage,
      pageDir: path.join(DEMO, 'pages', 'chat'),
      root: DEMO,
      title: `${groupPage.data.title}(${Object.keys(CAST).length})`,
      remoteImage: avatarImage,
    }))
    const pngFile = path.join(OUT, 'chat.png')
    screenshot(htmlFile, pngFile)
    console.log(`\nWrote ${path.relative(REPO, htmlFile)} and ${path.relative(REPO, pngFile)}.`)
  } finally {
    for (const page of [conversationsPage, ...chatPages.values()]) if (page) page.detach()
    for (const person of Object.values(people)) {
      person.detach()
      await person.client.close()
    }
    await server.close()
    clock.restore()
    if (global.window) global.window.close()
  }
}

main().catch(err => {
  console.error(err && err.stack ? err.stack : err)
  process.exitCode = 1
})
