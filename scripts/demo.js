#!/usr/bin/env node
// `make demo`: loads dist/mpchat the way a phone does, routes a few SDK-shaped messages of both listener
// styles, and prints each conversation as a person would read it.
'use strict'
const { loadLikePhone } = require('../tests/js/support/phone')
const { createWxStorage } = require('../tests/js/support/wx-storage')

const T0 = Date.UTC(2026, 10, 26, 1, 30) // 09:30 in UTC+8
const minutes = (n) => T0 + n * 60 * 1000

// What the SDK hands callbacks: 4.x addEventHandler shapes and legacy listen() shapes mixed, as after an upgrade.
const incoming = [
  { id: '1001', type: 'txt', chatType: 'groupChat', from: 'bob', to: 'g1', time: minutes(0), msg: '早上好 [):]',
    ext: { userNickname: '鲍勃', userAvatar: 'https://example.com/bob.png' } },
  { id: '1002', type: 'groupchat', from: 'carol', to: 'g1', time: String(minutes(1)), data: 'eating now [:D][(F)]',
    ext: { ease_chat_uikit_user_info: { nickname: 'Carol', avatarURL: 'https://example.com/carol.png' } } },
  { id: '1003', type: 'txt', chatType: 'singleChat', from: 'bob', to: 'alice', time: minutes(2), msg: '在吗？[:p]' },
  { id: '1004', type: 'txt', chatType: 'groupChat', from: 'alice', to: 'g1', time: minutes(3), msg: '到了 👍🏽',
    ext: { userNickname: 'Alice' } },
  { id: '1005', type: 'chatroom', from: 'dave', to: 'r1', time: String(minutes(4)), data: '大家好 [(H)]',
    ext: { userNickname: 'Dave' } },
  { id: '1006', type: 'txt', chatType: 'groupChat', from: 'bob', to: 'g1', time: minutes(5), msg: '@Alice 看一下文件 [8-)]',
    ext: { em_at_list: ['alice'] } },
  { id: 'bad', type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'no sender' },
]

function render(segments) {
  return segments.map((s) => (s.type === 'emoji' ? `<${s.data}>` : s.data)).join('')
}

async function main() {
  const { mpchat } = loadLikePhone({ globals: { wx: createWxStorage() } })
  const chat = await mpchat.createChat({ user: 'alice', profile: { nickname: 'Alice' } })
  const conversations = new Map()
  for (const message of incoming) {
    const result = chat.normalize(message)
    if (result.outcome !== 'ok') {
      console.log(`ignored message ${message.id}: ${result.reason}`)
      continue
    }
    if (!conversations.has(result.conversation)) conversations.set(result.conversation, [])
    conversations.get(result.conversation).push(result.record)
  }
  for (const [name, records] of conversations) {
    console.log(`\n== ${name}`)
    for (const r of records) {
      const who = r.direction === 'out' ? 'me' : r.sender.nickname || r.sender.id
      const time = mpchat.formatTime(r.time, { now: minutes(10) })
      const mention = r.mentionsMe ? ' [@me]' : ''
      console.log(`  ${time}  ${who}: ${render(r.segments)}${mention}`)
    }
  }
  const out = chat.build({ type: 'txt', chatType: 'groupChat', to: 'g1', msg: '收到 [):]', mentions: ['bob'] })
  console.log('\nbuild() for a group reply gives the SDK:', JSON.stringify(out))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
