// Searches every message stored on the phone (chat.search): results newest first, the match's conversation
// and time on each, more loaded when the list is scrolled to its end; a tap opens the chat.
const context = require('../../lib/chat-context.js')
const present = require('../../lib/present.js')

const PAGE_SIZE = 20

Component({
  data: { query: '', results: [], searched: false, hasMore: false },
  methods: {
    onInput(event) {
      this.setData({ query: event.detail.value })
    },

    search() {
      const query = this.data.query.trim()
      this.found = []
      if (!query) {
        this.setData({ results: [], searched: false, hasMore: false })
        return
      }
      this.more(query)
    },

    // The next page: results older than the last one shown.
    more(query = this.data.query.trim()) {
      const { chat, mpchat } = context.current()
      const last = this.found[this.found.length - 1]
      const page = chat.search(query, { limit: PAGE_SIZE, before: last ? last.record.id : undefined })
      this.found = this.found.concat(page)
      const now = Date.now()
      const results = this.found.map(({ record, conversation }) => ({
        id: record.id,
        conversation,
        name: context.displayName(conversation),
        sender: record.direction === 'out' ? '我' : (record.sender && record.sender.nickname) || record.from,
        segments: record.type === 'txt' ? mpchat.parseEmoji(record.text || '') : [],
        label: record.type === 'txt' ? '' : present.typeLabel(record),
        timeLabel: mpchat.formatTime(record.time, { now }),
      }))
      this.setData({ results, searched: true, hasMore: page.length === PAGE_SIZE })
    },

    onEnd() {
      if (this.data.hasMore) this.more()
    },

    open(event) {
      const { conversation } = event.currentTarget.dataset
      wx.navigateTo({ url: `/pages/chat/index?conversation=${encodeURIComponent(conversation)}` })
    },
  },
})
