// Pull-down on the chat's message list: first the pages the phone holds (chat.history), then, once those run
// short, pages from the server (chat.fetchOlder, stored by mpchat and also published) until the server has
// no more, when 没有更多消息了 shows. A failed fetch shows a toast and leaves the list as it was.
// Mixed into the page's methods; `this` is the page.
const context = require('../../lib/chat-context.js')
const { toast } = require('../../lib/toast.js')

const PAGE_SIZE = 20

module.exports = {
  // After the newest page is shown: a short page means the phone holds nothing older.
  startPaging(newest) {
    this.fromServer = newest.length < PAGE_SIZE
    if (!this.data.hasMore) this.setData({ hasMore: true })
  },

  async loadOlder() {
    if (!this.data.hasMore || this.loadingOlder || !this.opened) {
      this.setData({ refreshing: false })
      return
    }
    this.loadingOlder = true
    const conversation = this.opened
    const top = this.records[0]
    const { chat, conn } = context.current()
    let hasMore = true
    try {
      if (!this.fromServer) {
        const older = await chat.history(conversation, { before: top.id, limit: PAGE_SIZE })
        this.merge(older)
        if (older.length < PAGE_SIZE) this.fromServer = true
      }
      if (this.fromServer) {
        this.fetchingBelow = top ? top.time : Infinity
        const fetched = await chat.fetchOlder(conn, conversation, { limit: PAGE_SIZE })
        if (this.opened !== conversation) return
        this.merge(fetched)
        hasMore = fetched.length > 0
      }
    } catch (err) {
      toast('加载更早的消息失败')
    } finally {
      this.loadingOlder = false
      this.fetchingBelow = null
    }
    if (this.opened !== conversation) return
    this.setData({ hasMore, refreshing: false })
    this.render(top ? `m-${top.id}` : this.lastAnchor()) // keep the message that was on top in view
  },

  // A published record older than everything shown (before the server page now being fetched) is part of
  // that page, or a late arrival: history, not the newest message.
  isOlderThanShown(record) {
    const below = this.fetchingBelow != null ? this.fetchingBelow : this.records.length ? this.records[0].time : null
    return below != null && record.time < below && record.status !== 'sending' && !this.recordById(record.id)
  },
}

module.exports.PAGE_SIZE = PAGE_SIZE
