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

function makeCorpus(count = 10000, seed = 2026) {
  const random = makeRandom(seed)
  const pick = (list) => list[Math.floor(random() * list.length)]
  const texts = []
  for (let i = 0; i < count; i++) {
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
    texts.push(parts.join(''))
  }
  return texts
}

module.exports = { makeCorpus, CODES }
