// A deterministic corpus of realistic chat texts: Chinese and English, Easemob emoji codes, Unicode
// emoji (surrogate pairs, ZWJ sequences, skin tones, flags), brackets that are not codes, newlines.
'use strict'

const CODES = ['[):]', '[:D]', '[;)]', '[:-o]', '[:p]', '[(H)]', '[:@]', '[:s]', '[:$]', '[:(]', "[:'(]",
  '[<o)]', '[(a)]', '[8o|]', '[8-|]', '[+o(]', '[|-)]', '[:|]', '[*-)]', '[:-#]', '[^o)]', '[:-*]', '[8-)]',
  '[(|)]', '[(u)]', '[(S)]', '[(*)]', '[(#)]', '[(R)]', '[({)]', '[(})]', '[(k)]', '[(F)]', '[(W)]', '[(D)]']
const CHINESE = ['好的', '今天晚上一起吃饭吗', '收到，谢谢', '我马上到', '哈哈哈', '这个方案不错，明天再讨论一下细节',
  '周末去爬山', '文件已经发给你了', '辛苦了', '会议改到下午三点', '在吗？', '生日快乐！']
const ENGLISH = ['ok', 'see you at 8', 'sounds good to me', 'eating now, call you later', 'the engine is big',
  'did you get the file?', 'lol', 'meeting moved to 3pm', 'happy birthday!', 'on my way', 'brb', 'thanks a lot']
const UNICODE = ['😀', '👍🏽', '👨‍👩‍👧', '🇨🇳', '❤️', '🎉', '😂', '🙏🏻']
const ODD = ['[xx]', '[):', 'a^b', '\n', '[图片]', '[[', ']']

// Small deterministic generator so every run and every loader sees the same texts.
function makeRandom(seed) {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 0x100000000
  }
}

// One chat text of 1 to 5 pieces.
function makeText(random) {
  const pick = (list) => list[Math.floor(random() * list.length)]
  const parts = []
  const pieces = 1 + Math.floor(random() * 5)
  for (let p = 0; p < pieces; p++) {
    const r = random()
    if (r < 0.35) parts.push(pick(CHINESE))
    else if (r < 0.65) parts.push(pick(ENGLISH))
    else if (r < 0.85) parts.push(pick(CODES))
    else if (r < 0.95) parts.push(pick(UNICODE))
    else parts.push(pick(ODD))
    if (random() < 0.3) parts.push(' ')
  }
  return parts.join('')
}

function makeCorpus(count = 10000, seed = 2026) {
  const random = makeRandom(seed)
  const texts = []
  for (let i = 0; i < count; i++) texts.push(makeText(random))
  return texts
}

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴']
const GIVEN_NAMES = ['小明', '丽', '伟', '芳', '娜', '静', '磊', '洋', 'Amy', 'Kevin']

/**
 * `count` text messages as the SDK 4.x addEventHandler delivers them to `me`, spread over `conversations`
 * (four in five groups, the rest one-to-one): about 200 bytes of text, the sender's nickname and avatar
 * in ext (the recipe's keys), increasing server ids and times, a few sent from my other devices.
 * The same count and seed give the same messages, and a shorter list is a prefix of a longer one.
 */
function makeMessages({ count, conversations = 1, me = 'me', seed = 7 }) {
  const random = makeRandom(seed)
  const groups = Math.max(1, Math.ceil(conversations * 0.8))
  const users = Array.from({ length: 40 }, (_, i) => ({
    id: `user${i}`,
    nickname: SURNAMES[i % SURNAMES.length] + GIVEN_NAMES[Math.floor(i / 4) % GIVEN_NAMES.length],
    avatar: `https://cdn.example.com/avatars/user${i}.png?size=96`,
  }))
  const messages = []
  let serverId = 1195432387629484000n
  let time = 1767225600000
  for (let i = 0; i < count; i++) {
    const slot = Math.floor(random() * conversations)
    const group = slot < groups
    const peer = users[slot % users.length]
    const sender = random() < 0.05 ? { id: me, nickname: '我', avatar: 'https://cdn.example.com/avatars/me.png' }
      : group ? users[Math.floor(random() * users.length)] : peer
    let text = makeText(random)
    while (Buffer.byteLength(text) < 170) text += makeText(random)
    serverId += BigInt(1 + Math.floor(random() * 1000))
    time += 1 + Math.floor(random() * 5000)
    messages.push({
      id: String(serverId),
      type: 'txt',
      chatType: group ? 'groupChat' : 'singleChat',
      from: sender.id,
      to: group ? `group${slot}` : (sender.id === me ? peer.id : me),
      time,
      msg: text,
      ext: { userNickname: sender.nickname, userAvatar: sender.avatar },
      onlineState: 3,
    })
  }
  return messages
}

module.exports = { makeCorpus, makeMessages, CODES }
