// chat.fetchOlder: history older than what the phone holds, from the server (SDK 4.x
// conn.getHistoryMessages), stored through the core as fetched history (never unread; within a share of
// the storage budget, see src/store/fetched.rs) and published to subscribers as received records are.
'use strict'

const CHAT_TYPES = { single: 'singleChat', group: 'groupChat', chatroom: 'chatRoom' }
// The server hands out at most 50 messages a page.
const MAX_PAGE = 50
// Pages holding only records the phone has already are passed over, this many at most per call.
const MAX_REPEATED_PAGES = 10

function pageSizeOf(limit) {
  const n = Math.floor(Number(limit))
  if (!Number.isFinite(n) || n < 1) throw new TypeError(`mpchat: fetchOlder: limit must be a number from 1 to ${MAX_PAGE}`)
  return Math.min(n, MAX_PAGE)
}

function byMark(a, b) {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/**
 * Fetches the next page back of `conversation` from the server: from the server's cursor of the last page
 * fetched in this session, or else from the oldest record stored. Resolves to the records new to the phone,
 * oldest first, [] when the server has no more.
 */
async function fetchOlder(chat, conn, conversation, { limit = 20 } = {}) {
  if (!conn) throw new TypeError('mpchat: fetchOlder needs the SDK connection')
  const name = String(conversation)
  const colon = name.indexOf(':')
  const chatType = CHAT_TYPES[name.slice(0, colon)]
  const targetId = name.slice(colon + 1)
  if (colon < 0 || !chatType || !targetId) {
    throw new TypeError(`mpchat: fetchOlder needs a conversation '<single|group|chatroom>:<id>', not ${JSON.stringify(name)}`)
  }
  if (typeof conn.getHistoryMessages !== 'function') {
    throw new TypeError('mpchat: fetchOlder needs easemob-websdk 4.x with getHistoryMessages; this connection has none')
  }
  const pageSize = pageSizeOf(limit)
  const cursors = chat._fetchCursors
  for (let pages = 0; pages < MAX_REPEATED_PAGES; pages++) {
    let state = cursors.get(name)
    if (!state) {
      chat._args(name)
      state = { cursor: chat._json(chat._core.oldest()), done: false }
      cursors.set(name, state)
    }
    if (state.done) return []
    const request = { targetId, chatType, pageSize, searchDirection: 'up' }
    if (state.cursor) request.cursor = state.cursor
    const page = (await conn.getHistoryMessages(request)) || {}
    const messages = Array.isArray(page.messages) ? page.messages : []
    // The SDK's cursor is the first message of the next page; no cursor, or isLast, says there is none.
    const done = page.isLast === true || !page.cursor || messages.length === 0
    // A clear() or removeConversation() while the page was on its way starts paging over.
    if (cursors.get(name) !== state) continue
    state.cursor = page.cursor || null
    state.done = done
    const records = storePage(chat, name, messages)
    if (records.length > 0 || done) return records
  }
  return []
}

/** Stores a page (newest first, so a page past the budget share keeps its newer part); the new records. */
function storePage(chat, name, messages) {
  const ordered = [...messages].sort((a, b) => Number(b && b.time) - Number(a && a.time))
  const out = []
  for (const message of ordered) {
    const normalized = chat._normalized(message, true, false, true)
    if (normalized.outcome !== 'ok') continue
    if (normalized.conversation !== name) continue
    const result = chat._store(normalized)
    if (result.outcome === 'stored' || result.outcome === 'unsaved') {
      const found = chat._recordOf(result.record.id)
      const record = found.record ? chat._present(found.record) : result.record
      chat._publish(record)
      out.push(record)
    } else if (result.outcome === 'notKept') {
      out.push(result.record)
    }
  }
  chat._drainEvictions()
  return out.sort(byMark)
}

module.exports = { fetchOlder }
