// The conversation list: name, last message (emoji as images), time, unread badge and an "@me" marker.
// Refreshes when shown and whenever a listed conversation gets a record; also opens a chat by id.
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
      this.offs = []
      this.refresh()
    },
    detached() {
      this.unsubscribe()
    },
  },
  methods: {
    onShow() {
      if (this.offs) this.refresh()
    },

    async refresh() {
      const { chat, mpchat } = context.current()
      const summaries = await chat.conversations()
      const now = Date.now()
      const rows = summaries.map(s => present.conversationRow(s, mpchat, now, context.displayName(s.conversation)))
      this.setData({ rows, unreadTotal: await chat.unreadTotal() })
      this.unsubscribe()
      this.offs = summaries.map(s => chat.subscribe(s.conversation, () => this.refresh()))
    },

    unsubscribe() {
      for (const off of this.offs || []) off()
      this.offs = []
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
