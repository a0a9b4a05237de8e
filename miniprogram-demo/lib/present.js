// Turns mpchat records and conversation summaries into what the WXML templates show. Functions of their
// inputs plus the mpchat module (for parseEmoji and formatTime) and the chat's names (lib/names.js), so
// pages stay thin. A picture, video, voice, file or location record becomes a `media` view its bubble
// draws (mediaView).
const context = require('./chat-context.js')
const names = require('./names.js')

const DEFAULT_AVATAR = '/images/default-avatar.png'
const SEPARATOR_GAP_MS = 5 * 60 * 1000
const LOCALE = 'zh-CN'

const TYPE_LABELS = {
  img: '[图片]',
  audio: '[语音]',
  video: '[视频]',
  file: '[文件]',
  loc: '[位置]',
  custom: '[自定义消息]',
  combine: '[聊天记录]',
}

const CHAT_TYPES = { single: 'singleChat', group: 'groupChat', chatroom: 'chatRoom' }

function parseConversation(conversation) {
  const colon = conversation.indexOf(':')
  return { kind: conversation.slice(0, colon), id: conversation.slice(colon + 1) }
}

// Who sent a record: the server profile, else the message's ext, else the id (lib/names.js).
function senderOf(record) {
  const sender = names.sender(context.current().chat, record)
  return { id: sender.id, nickname: sender.nickname, avatar: sender.avatar || DEFAULT_AVATAR }
}

// What a non-text record shows in place of its text: a type label with its most telling detail.
function typeLabel(record) {
  const body = record.body || {}
  const label = TYPE_LABELS[record.type] || `[${record.type}]`
  if (record.type === 'file' && body.filename) return `${label} ${body.filename}`
  if (record.type === 'loc' && body.addr) return `${label} ${body.addr}`
  if (record.type === 'audio' && body.length) return `${label} ${body.length}″`
  return label
}

function segmentsOf(record, mpchat) {
  if (record.type !== 'txt') return null
  if (Array.isArray(record.segments)) return record.segments
  return mpchat.parseEmoji(record.text || '')
}

// Pictures and video posters: the longer side at most MEDIA_MAX_RPX (smaller ones keep their size, read as
// rpx), the shorter at least MEDIA_MIN_RPX (a panorama is cropped); MEDIA_BOX_RPX square when the size is
// unknown.
const MEDIA_MAX_RPX = 360
const MEDIA_MIN_RPX = 100
const MEDIA_BOX_RPX = 280
// A voice bubble grows with its length, from VOICE_MIN_RPX at 1 s to VOICE_MAX_RPX at VOICE_LONGEST_S.
const VOICE_MIN_RPX = 130
const VOICE_MAX_RPX = 440
const VOICE_LONGEST_S = 60

function mediaBox(width, height) {
  if (!(width > 0 && height > 0)) return `width: ${MEDIA_BOX_RPX}rpx; height: ${MEDIA_BOX_RPX}rpx;`
  const scale = Math.min(1, MEDIA_MAX_RPX / Math.max(width, height))
  const side = n => Math.max(MEDIA_MIN_RPX, Math.round(n * scale))
  return `width: ${side(width)}rpx; height: ${side(height)}rpx;`
}

// 1536 -> '1.5 KB', 3565158 -> '3.4 MB'; '' when unknown.
function fileSize(bytes) {
  if (!(bytes >= 0)) return ''
  if (bytes < 1024) return `${bytes} B`
  const short = n => String(n >= 100 ? Math.round(n) : Math.round(n * 10) / 10)
  const kb = bytes / 1024
  return kb < 1024 ? `${short(kb)} KB` : `${short(kb / 1024)} MB`
}

// A video's length as a player shows it: 7 -> '0:07', 75 -> '1:15'; '' when unknown.
function clockLength(seconds) {
  if (!(seconds > 0)) return ''
  const s = Math.round(seconds)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

function voiceWidth(seconds) {
  const share = (Math.min(Math.max(seconds, 1), VOICE_LONGEST_S) - 1) / (VOICE_LONGEST_S - 1)
  return `width: ${Math.round(VOICE_MIN_RPX + (VOICE_MAX_RPX - VOICE_MIN_RPX) * share)}rpx;`
}

// What the bubble of a media record draws, or null for other types. `kind` picks the template; `progress`
// (0..100) is set while my message uploads.
function mediaView(record) {
  const body = record.body || {}
  let view = null
  if (record.type === 'img') {
    view = { kind: 'image', src: body.thumb || body.url || '', box: mediaBox(body.width, body.height) }
  } else if (record.type === 'video') {
    view = { kind: 'video', src: body.thumb || '', box: mediaBox(body.width, body.height), length: clockLength(body.length) }
  } else if (record.type === 'audio') {
    const seconds = Math.max(1, Math.round(body.length || 0))
    view = { kind: 'voice', length: `${seconds}″`, box: voiceWidth(seconds) }
  } else if (record.type === 'file') {
    view = { kind: 'file', name: body.filename || '文件', size: fileSize(body.file_length) }
  } else if (record.type === 'loc') {
    const addr = body.addr || ''
    view = { kind: 'location', name: body.buildingName || addr || '位置', addr: body.buildingName ? addr : '' }
  }
  if (view && record.status === 'sending' && typeof record.progress === 'number') {
    view.progress = Math.max(0, Math.min(100, Math.round(record.progress)))
  }
  return view
}

function messageView(record, mpchat) {
  const sender = senderOf(record)
  const segments = segmentsOf(record, mpchat)
  const media = record.recalled ? null : mediaView(record)
  return {
    id: record.id,
    mine: record.direction === 'out',
    nickname: sender.nickname,
    avatar: sender.avatar,
    status: record.status,
    recalled: !!record.recalled,
    segments,
    media,
    label: segments || media ? '' : typeLabel(record),
    quote: quoteView(record.quote),
    edited: !!record.edited && !record.recalled,
    reactions: (record.reactions || []).map(r => ({ reaction: r.reaction, count: r.count, mine: !!r.mine })),
  }
}

// The line above a reply's bubble: who wrote the quoted message and one line of it. The quote names its
// sender as their message did (a nickname, else the id); an id with a name on the server shows that name.
function quoteView(quote) {
  if (!quote || !quote.preview) return null
  const sender = quote.sender && quoteSender(quote.sender)
  return { id: quote.id, text: sender ? `${sender}: ${quote.preview}` : quote.preview }
}

function quoteSender(named) {
  const chat = context.current().chat
  const known = chat && typeof chat.profile === 'function' ? chat.profile(named) : null
  return known && known.source === 'server' && known.nickname ? known.nickname : named
}

// One line for a record in the bar above the input while quoting it: its sender and text (or type label).
function quoteLine(record) {
  const text = record.recalled ? '消息已撤回' : record.type === 'txt' ? record.text || '' : typeLabel(record)
  return `${senderOf(record).nickname}: ${text}`
}

// What the long-press menu offers for a record: copy text, quote, edit and recall my own sent text (recall
// any own sent message), delete from this phone; reactions on messages the server knows.
function menuFor(record, reactions) {
  const sent = record.status !== 'sending' && record.status !== 'failed'
  const mine = record.direction === 'out'
  const live = !record.recalled
  const text = live && record.type === 'txt'
  const actions = []
  if (text) actions.push({ key: 'copy', label: '复制' })
  if (live && sent) actions.push({ key: 'quote', label: '引用' })
  if (text && mine && sent) actions.push({ key: 'edit', label: '编辑' })
  if (live && mine && sent) actions.push({ key: 'recall', label: '撤回' })
  actions.push({ key: 'remove', label: '删除' })
  const own = new Set((record.reactions || []).filter(r => r.mine).map(r => r.reaction))
  return {
    id: record.id,
    actions,
    reactions: live && sent ? reactions.map(reaction => ({ reaction, mine: own.has(reaction) })) : [],
  }
}

// The chat page's list: one entry per record (oldest first), with a time separator before the first one
// and before any record more than five minutes after the one above it.
function messageItems(records, mpchat, now) {
  const items = []
  let previousTime = null
  for (const record of records) {
    if (previousTime === null || record.time - previousTime > SEPARATOR_GAP_MS) {
      items.push({ key: `t-${record.id}`, separator: mpchat.formatTime(record.time, { now, locale: LOCALE }) })
    }
    previousTime = record.time
    items.push({ key: `m-${record.id}`, message: messageView(record, mpchat) })
  }
  return items
}

// One line of the conversation list.
function conversationRow(summary, mpchat, now, name) {
  const last = summary.last || null
  let prefix = ''
  let segments = []
  let label = ''
  if (last) {
    if (last.recalled) label = '消息已撤回'
    else if (last.type === 'txt') segments = segmentsOf(last, mpchat)
    else label = typeLabel(last)
    if (summary.kind !== 'single' && last.direction === 'in') prefix = `${senderOf(last).nickname}: `
  }
  const unread = summary.unread || 0
  return {
    conversation: summary.conversation,
    name,
    kind: summary.kind,
    kindLabel: summary.kind === 'group' ? '群' : summary.kind === 'chatroom' ? '聊天室' : '',
    prefix,
    segments,
    label,
    timeLabel: last || summary.updatedAt ? mpchat.formatTime(summary.updatedAt || last.time, { now, locale: LOCALE }) : '',
    unread,
    badge: unread > 99 ? '99+' : String(unread),
    // mpchat keeps the mark until the conversation is read, muted or not; the last record is a fallback.
    mentioned: !!summary.mentionsMe || (unread > 0 && !!(last && last.mentionsMe)),
    muted: !!summary.muted,
    pinned: !!summary.pinned,
    draft: summary.draft || '',
    draftSegments: summary.draft ? mpchat.parseEmoji(summary.draft) : [],
  }
}

module.exports = {
  DEFAULT_AVATAR, CHAT_TYPES, parseConversation, messageItems, messageView, conversationRow, typeLabel, quoteLine, menuFor,
}
