// The conversation list: face and name (from the server, lib/names.js), last message (emoji as images) or
// the draft, time, unread badge and an "@me" marker; pinned conversations first (a long press pins or
// unpins). Refreshes when shown, whenever any conversation, listed or new, gets a record, and when names
// arrive from the server; also opens a chat by id, the contacts, the groups and the search page.
const context = require('../../lib/chat-context.js')
const present = require('../../lib/present.js')
const names = require('../../lib/names.js')

const KINDS = [
  { kind: 'single', label: '单聊' },
  { kind: 'group', label: '群聊' },
  { kind: 'chatroom', label: '聊天室' },
]

Component({
  data: { rows: [], unreadTotal: 0, kinds: KINDS, newKind: 'single', newId: '' },
  lifetimes: {
    attached() {
      const { chat } = context.current()
      this.off = chat.subscribe('*', () => this.refresh())
      this.offNames = chat.on('directory', () => this.refresh())
      this.refresh()
    },
    detached() {
      if (this.off) this.off()
      if (this.offNames) this.offNames()
      this.off = null
      this.offNames = null
    },
  },
  methods: {
    onShow() {
      if (this.off) this.refresh()
    },

    async refresh() {
      const { chat, mpchat } = context.current()
      const summaries = await chat.conversations()
      const now = Date.now()
      const rows = summaries.map(s => Object.assign(present.conversationRow(s, mpchat, now, names.conversationName(chat, s.conversation)),
        { avatar: names.conversationAvatar(chat, s.conversation) }))
      this.setData({ rows, unreadTotal: await chat.unreadTotal() })
    },

    // A long press offers pinning (or unpinning) the conversation.
    rowMenu(event) {
      const { conversation, pinned } = event.currentTarget.dataset
      wx.showActionSheet({
        itemList: [pinned ? '取消置顶' : '置顶'],
        success: () => {
          context.current().chat.pin(conversation, !pinned)
          this.refresh()
        },
      })
    },

    openContacts() {
      wx.navigateTo({ url: '/pages/contacts/index' })
    },

    openGroups() {
      wx.navigateTo({ url: '/pages/groups/index' })
    },

    openSearch() {
      wx.navigateTo({ url: '/pages/search/index' })
    },

    openRow(event) {
      this.openChat(event.currentTarget.dataset.conversation)
    },

    openChat(conversation) {
      wx.navigateTo({ url: `/pages/chat/index?conversation=${encodeURIComponent(conversation)}` })
    },

    pickKind(event) {
      this.setData({ newKind: event.currentTarget.dataset.kind })
    },

    onNewId(event) {
      this.setData({ newId: event.detail.value.trim() })
    },

    startChat() {
      if (this.data.newId) this.openChat(`${this.data.newKind}:${this.data.newId}`)
    },
  },
})
