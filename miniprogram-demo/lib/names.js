// Who a row shows: a user's name and face from the server (chat.profile: the server profile, else what
// their messages' ext said, else the id) and a group's server name (chat.groupProfile, else the id); and
// how a face is drawn: the picture for an https URL, else a coloured circle with the first letter.
// refreshAll asks the server, in the background after login, for everyone the phone shows; pages render
// again on the chat's 'directory' event.

const COLORS = ['#f0a04b', '#7aa7e8', '#6cc08b', '#e87a90', '#a58be8', '#4bb8c4', '#d9b23c', '#8c9bab']

function parts(conversation) {
  const colon = conversation.indexOf(':')
  return { kind: conversation.slice(0, colon), id: conversation.slice(colon + 1) }
}

function userName(chat, id) {
  const profile = chat.profile(id)
  return profile.nickname || profile.id
}

function groupName(chat, id) {
  const group = chat.groupProfile(id)
  return group.name || group.id
}

// The title of a conversation: the peer's name, the group's name, a chat room's id.
function conversationName(chat, conversation) {
  const { kind, id } = parts(conversation)
  if (kind === 'single') return userName(chat, id)
  if (kind === 'group') return groupName(chat, id)
  return id
}

// The avatar URL of a conversation ('' when none): the peer's or the group's.
function conversationAvatar(chat, conversation) {
  const { kind, id } = parts(conversation)
  if (kind === 'single') return chat.profile(id).avatar || ''
  if (kind === 'group') return chat.groupProfile(id).avatar || ''
  return ''
}

// A message's sender: the server profile's fields first, then what this message's ext said, then the id.
function sender(chat, record) {
  const given = record.sender || {}
  const id = given.id || record.from
  const known = chat && typeof chat.profile === 'function' ? chat.profile(id) : { id, source: 'id' }
  const server = known.source === 'server' ? known : {}
  return {
    id,
    nickname: server.nickname || given.nickname || known.nickname || id,
    avatar: server.avatar || given.avatar || known.avatar || '',
  }
}

// How to draw a face: { picture } when `avatar` is an https URL, else { initial, color } from the name.
function face(name, avatar) {
  const picture = typeof avatar === 'string' && /^https:\/\/\S+$/i.test(avatar) ? avatar : ''
  const text = String(name || '').trim()
  let hash = 0
  for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0
  return { picture, initial: (Array.from(text)[0] || '?').toUpperCase(), color: COLORS[hash % COLORS.length] }
}

// The ids of my contacts (SDK 4.x conn.getContacts: { data: [id] }; 3.x getRoster: [{ name }]).
async function contactIds(conn) {
  if (conn && typeof conn.getContacts === 'function') {
    const answer = await conn.getContacts()
    return (answer && Array.isArray(answer.data) ? answer.data : []).map(String)
  }
  if (conn && typeof conn.getRoster === 'function') {
    const roster = await conn.getRoster()
    return (Array.isArray(roster) ? roster : []).map(entry => String(entry.name))
  }
  return []
}

// Asks the server for my groups and the profiles of everyone the conversation list and contacts show.
// Never rejects: what fails keeps the names known before (pages still show ext names or ids).
async function refreshAll({ chat, conn }) {
  const users = new Set()
  for (const row of chat.conversations()) {
    if (row.kind === 'single') users.add(row.id)
    else if (row.last && row.last.direction === 'in') users.add(row.last.from)
  }
  const contacts = await contactIds(conn).catch(() => [])
  for (const id of contacts) users.add(id)
  users.delete(chat.user)
  await Promise.all([
    chat.refreshGroups(conn).catch(() => null),
    chat.refreshProfiles(conn, [...users]).catch(() => null),
  ])
}

module.exports = { conversationName, conversationAvatar, userName, groupName, sender, face, contactIds, refreshAll }
