// @ in group chats: typing '@' at the end of the input opens the member picker (所有人, then the group's
// members from the SDK's listGroupMembers, by the name their messages carry); choosing one puts `@name ` in
// the input and the next send passes `mentions` (the ids still named in the text, or 'all').
// Mixed into the page's methods; `this` is the page.
const context = require('../../lib/chat-context.js')
const present = require('../../lib/present.js')
const { toast } = require('../../lib/toast.js')

const ALL = { id: 'all', name: '所有人' }
const PAGE_SIZE = 200

module.exports = {
  // The input changed by the user's hand: an '@' just typed at the end opens the picker.
  watchForMention(value) {
    const before = this.lastInput || ''
    this.lastInput = value
    if (this.data.kind !== 'group' || !value.endsWith('@') || value.length <= before.length) return
    this.openMembers()
  },

  async openMembers() {
    const conversation = this.opened
    let members = null
    try {
      members = await this.loadMembers(conversation)
    } catch (err) {
      toast('群成员加载失败')
      return
    }
    if (members && this.opened === conversation) this.setData({ members: [ALL].concat(members) })
  },

  // The group's members but me, once per opened chat; SDK 4.x: { data: [{ owner } | { member }] }.
  async loadMembers(conversation) {
    if (this.memberCache && this.memberCache.conversation === conversation) return this.memberCache.list
    const { conn, user } = context.current()
    if (!conn || typeof conn.listGroupMembers !== 'function') return null
    const { id } = present.parseConversation(conversation)
    const res = await conn.listGroupMembers({ groupId: id, pageNum: 1, pageSize: PAGE_SIZE })
    const ids = ((res && res.data) || []).map(m => m && (m.owner || m.member)).filter(m => typeof m === 'string')
    const list = [...new Set(ids)].filter(m => m !== user).map(m => ({ id: m, name: this.memberName(m) }))
    this.memberCache = { conversation, list }
    return list
  },

  // The nickname the member's newest message here carries, else the id.
  memberName(id) {
    for (let i = this.records.length - 1; i >= 0; i--) {
      const sender = this.records[i].sender
      if (sender && sender.id === id && sender.nickname) return sender.nickname
    }
    return id
  },

  onPickMember(event) {
    const { id, name } = event.detail
    this.closeMembers()
    const bar = this.selectComponent('#input-bar')
    if (!bar) return
    const value = `${bar.data.value}${name} `
    bar.setValue(value)
    this.lastInput = value
    if (!this.picked) this.picked = new Map()
    this.picked.set(name, id)
  },

  closeMembers() {
    if (this.data.members) this.setData({ members: null })
  },

  // What the send of `text` mentions: 'all' for @所有人, else the picked ids still named; null for none.
  mentionsIn(text) {
    const picked = this.picked
    this.picked = null
    this.lastInput = ''
    if (!picked || this.data.kind !== 'group') return null
    if (picked.get(ALL.name) === ALL.id && text.includes(`@${ALL.name}`)) return 'all'
    const ids = []
    for (const [name, id] of picked) {
      if (id !== ALL.id && text.includes(`@${name}`) && !ids.includes(id)) ids.push(id)
    }
    return ids.length ? ids : null
  },

  forgetMentions() {
    this.picked = null
    this.lastInput = ''
    this.memberCache = null
  },
}
