// Edits and reactions through SDK 4.x: chat.edit (conn.modifyMessage), chat.react (conn.addReaction /
// conn.deleteReaction), and the events that bring the same changes from others and from my other devices
// (onModifiedMessage, onReactionChange). The core decides what changes; each change is published to the
// record's subscribers, as a received message is.
'use strict'

const CHAT_TYPES = { single: 'singleChat', group: 'groupChat', chatroom: 'chatRoom' }

/** A record id as the SDK's events and calls name it, or '' when there is none. */
function idOf(value) {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) ? String(value) : ''
}

function refusal(call, recordId, answer) {
  return new Error(`mpchat: ${call}: record ${JSON.stringify(recordId)}: ${answer.reason || answer.outcome}`)
}

/** Publishes a changed record and hands it back as pages get it; the stored record when nothing changed. */
function settle(chat, answer, recordId) {
  if (answer && answer.record) {
    const record = chat._present(answer.record)
    chat._publish(record)
    chat._drainEvictions()
    return record
  }
  chat._drainEvictions()
  const found = chat._recordOf(recordId)
  return found.record ? chat._present(found.record) : null
}

/**
 * chat.edit: replaces the text of one of my own sent text messages, on the server (conn.modifyMessage)
 * and then in storage. Resolves to the updated record; rejects, before anything reaches the SDK, when the
 * record is unknown, someone else's, not a text, recalled, not sent, or the text is too long, and with
 * the SDK's error when the server refuses.
 */
async function edit(chat, conn, recordId, text, sdk) {
  if (!conn) throw new TypeError('mpchat: edit needs the SDK connection')
  if (!idOf(recordId)) throw new TypeError('mpchat: edit needs the id of a stored record')
  if (typeof text !== 'string' || text.length === 0) throw new TypeError('mpchat: edit needs the new text, a non-empty string')
  if (typeof conn.modifyMessage !== 'function') {
    throw new TypeError('mpchat: edit needs easemob-websdk 4.x with modifyMessage; this connection has none')
  }
  const WebIM = sdk && sdk.WebIM
  if (!WebIM || !WebIM.message || typeof WebIM.message.create !== 'function') {
    throw new TypeError('mpchat: edit needs { WebIM } of easemob-websdk 4.x (WebIM.message.create)')
  }
  const id = idOf(recordId)
  chat._args(id, text)
  const check = chat._json(chat._core.edit_own(false, NaN, NaN))
  if (check.outcome !== 'ready') throw refusal('edit', id, check)
  const stored = chat._present(chat._recordOf(id).record)
  const modifiedMessage = WebIM.message.create({
    type: 'txt', chatType: CHAT_TYPES[stored.kind] || 'singleChat', to: stored.to || String(stored.conversation).replace(/^[^:]*:/, ''), msg: text,
  })
  const result = await conn.modifyMessage({ messageId: id, modifiedMessage })
  const info = (result && (result.modifiedInfo || (result.message && result.message.modifiedInfo))) || {}
  const time = Number(info.operationTime) > 0 ? Number(info.operationTime) : Date.now()
  chat._args(id, text)
  const answer = chat._json(chat._core.edit_own(true, time, Number(info.operationCount)))
  if (answer.outcome === 'notFound' || answer.outcome === 'ignored') throw refusal('edit', id, answer)
  return settle(chat, answer, id)
}

/**
 * chat.react: adds (`on`) or takes back my reaction on a stored message, on the server
 * (conn.addReaction / conn.deleteReaction) and then in storage. Resolves to the updated record (as it is
 * when there was nothing to change: a reaction already mine, or one not mine to take back).
 */
async function react(chat, conn, recordId, reaction, on = true) {
  if (!conn) throw new TypeError('mpchat: react needs the SDK connection')
  if (!idOf(recordId)) throw new TypeError('mpchat: react needs the id of a stored record')
  if (typeof reaction !== 'string') throw new TypeError('mpchat: react needs the reaction, a string such as \'👍\'')
  const api = on ? 'addReaction' : 'deleteReaction'
  if (typeof conn[api] !== 'function') throw new TypeError(`mpchat: react needs easemob-websdk 4.x with ${api}; this connection has none`)
  const id = idOf(recordId)
  chat._args(id, reaction)
  const check = chat._json(chat._core.react(Boolean(on), false))
  if (check.outcome === 'unchanged') return settle(chat, null, id)
  if (check.outcome !== 'ready') throw refusal('react', id, check)
  await conn[api]({ messageId: id, reaction })
  chat._args(id, reaction)
  const answer = chat._json(chat._core.react(Boolean(on), true))
  if (answer.outcome === 'notFound' || answer.outcome === 'ignored') throw refusal('react', id, answer)
  return settle(chat, answer, id)
}

/**
 * onModifiedMessage: someone's edit (mine from another device too). Never throws.
 * @returns {{ outcome: string, record?: object, reason?: string }}
 */
function receiveEdit(chat, message) {
  try {
    const id = message && idOf(message.id)
    if (!id) return { outcome: 'ignored', reason: 'the edit names no message id' }
    const text = typeof message.msg === 'string' ? message.msg : message.data
    if (typeof text !== 'string') return { outcome: 'ignored', reason: 'the edit carries no text (only text messages are edited)' }
    const info = (message.modifiedInfo && typeof message.modifiedInfo === 'object') ? message.modifiedInfo : {}
    const by = idOf(info.operatorId) || idOf(message.from)
    const time = Number(info.operationTime) > 0 ? Number(info.operationTime) : Date.now()
    chat._seek(id, message.from, message.to, message.chatType)
    chat._args(id, text, by)
    return result(chat, chat._json(chat._core.edit_event(time, Number(info.operationCount))), id)
  } catch (err) {
    return { outcome: 'ignored', reason: `mpchat could not take the edit: ${err && err.message}` }
  }
}

/**
 * onReactionChange: the reactions a message has now (each with its count, whether I am among its users,
 * a count of 0 when the last one went). Never throws.
 * @returns {{ outcome: string, record?: object, reason?: string }}
 */
function receiveReactions(chat, event) {
  try {
    const id = event && idOf(event.messageId)
    if (!id) return { outcome: 'ignored', reason: 'the reaction change names no message id' }
    if (!Array.isArray(event.reactions)) return { outcome: 'ignored', reason: 'the reaction change carries no reactions' }
    const changed = []
    for (const r of event.reactions) {
      if (!r || typeof r.reaction !== 'string') continue
      const users = Array.isArray(r.userList) ? r.userList : []
      const mine = typeof r.isAddedBySelf === 'boolean' ? r.isAddedBySelf : users.includes(chat.user)
      const count = Number(r.count)
      changed.push([r.reaction, Number.isFinite(count) && count >= 0 ? count : 0, mine])
    }
    chat._seek(id, '', event.conversationId, event.chatType)
    chat._args(id, changed)
    return result(chat, chat._json(chat._core.reactions_changed()), id)
  } catch (err) {
    return { outcome: 'ignored', reason: `mpchat could not take the reaction change: ${err && err.message}` }
  }
}

function result(chat, answer, id) {
  const out = { outcome: answer.outcome }
  if (answer.reason) out.reason = answer.reason
  if (answer.record) out.record = settle(chat, answer, id)
  else chat._drainEvictions()
  return out
}

/**
 * chat.recall: takes back one of my own sent messages on the server (conn.recallMessage), then marks it
 * recalled in storage as a recall from the other side is. Resolves to the updated record; rejects, before
 * the SDK is called, when the record is unknown, someone else's, not sent or already recalled, and with
 * the SDK's error when the server refuses (Easemob allows recalling for a limited time).
 */
async function recall(chat, conn, recordId) {
  if (!conn || typeof conn.recallMessage !== 'function') {
    throw new TypeError('mpchat: recall needs the SDK connection (conn.recallMessage)')
  }
  const id = idOf(recordId)
  const found = id ? chat._recordOf(id).record : null
  if (!found) throw new TypeError(`mpchat: recall: no stored record has id ${JSON.stringify(String(recordId))}`)
  const stored = chat._present(found)
  if (stored.direction !== 'out') throw new TypeError(`mpchat: recall: record ${JSON.stringify(id)} is not mine to recall`)
  if (stored.recalled) throw new TypeError(`mpchat: recall: record ${JSON.stringify(id)} is recalled already`)
  if (stored.status === 'sending' || stored.status === 'failed') {
    throw new TypeError(`mpchat: recall: record ${JSON.stringify(id)} is ${stored.status}, not on the server`)
  }
  const to = stored.to || String(stored.conversation).replace(/^[^:]*:/, '')
  await conn.recallMessage({ mid: id, to, chatType: CHAT_TYPES[stored.kind] || 'singleChat' })
  chat._args(id, String(chat.user))
  return settle(chat, chat._json(chat._core.recall()), id)
}

module.exports = { edit, react, recall, receiveEdit, receiveReactions }
