// What `make demo` prints: Alice's pages as she reads them (her conversation list, a chat, her contacts or
// groups), from the data the pages render, and the demo's main package by part against WeChat's 2 MB limit.
'use strict'

const PACKAGE_LIMIT = 2 * 1024 * 1024

function plainText(segments) {
  return (segments || []).map(s => (s.type === 'emoji' ? `:${s.data.replace(/\.png$/, '')}:` : s.data)).join('')
}

const STATUS_MARKS = { sending: '(sending)', failed: '(failed)', read: '(read)' }
const MEDIA_LABELS = { image: () => '[图片]', voice: m => `[语音] ${m.length}`, video: m => `[视频] ${m.length}`, file: m => `[文件] ${m.name}` }

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
    const media = m.media && MEDIA_LABELS[m.media.kind] ? MEDIA_LABELS[m.media.kind](m.media) : ''
    const reactions = m.reactions.map(r => `${r.reaction}${r.count}`).join(' ')
    const marks = [record.mentionsMe ? '[@me]' : '', m.mine ? STATUS_MARKS[m.status] : '', m.edited ? '(已编辑)' : '', reactions]
      .filter(Boolean).join(' ')
    if (m.quote) console.log(`                 「${m.quote.text}」`)
    console.log(`  ${time}  ${who}: ${plainText(m.segments) || media || m.label}${marks ? `   ${marks}` : ''}`)
  }
}

function printConversationList(page) {
  console.log(`\nAlice's conversation list (pages/conversations), ${page.data.unreadTotal} unread:`)
  for (const row of page.data.rows) {
    const unread = row.unread > 0 ? `  [${row.badge} unread]` : ''
    const pinned = row.pinned ? '  (置顶)' : ''
    const mention = row.mentioned ? '[有人@我] ' : ''
    const last = row.draft ? `[草稿] ${plainText(row.draftSegments)}` : `${row.prefix}${plainText(row.segments) || row.label}`
    console.log(`  ${row.timeLabel.padStart(5)}  ${row.name}${pinned}${unread}\n         ${mention}${last}`)
  }
}

function printDirectory(page, heading) {
  console.log(`\n${heading}`)
  for (const row of page.data.rows) {
    const face = row.avatar ? row.avatar : 'a letter'
    console.log(`  ${row.name} (${row.id})${row.detail ? ` — ${row.detail}` : ''}   face: ${face}`)
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

module.exports = { printChatPage, printConversationList, printDirectory, printPackageSize }
