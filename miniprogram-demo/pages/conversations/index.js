// The conversation list: name, last message (emoji as images) or the draft, time, unread badge and an "@me"
// marker; pinned conversations first (a long press pins or unpins). Refreshes when shown and whenever any
// conversation, listed or new, gets a record; also opens a chat by id, and the search page.
const context = require('../../lib/chat-context.js')
const present = require('../../lib/present.js')

const KINDS = [
  { kind: 'single', label: '单聊' },
  { kind: 'group', label: '群聊' },
  { kind: 'chatroom', label: '聊天室' },
]

Component({
  data: { rows: [], unreadTotal: 0, kinds: KINDS, newKind: 'single', newId: '' },
  lifetimes: {
    attached() {
      this.off = context.current().chat.subscribe('*', () => this.refresh())
      this.refresh()
    },
    detached() {
      if (this.off) this.off()
      this.off = null
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
      const rows = summaries.map(s => present.conversationRow(s, mpchat, now, context.displayName(s.conversation)))
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
