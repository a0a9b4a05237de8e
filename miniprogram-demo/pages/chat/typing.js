// "对方正在输入…" in one-to-one chats: shown for 5 s after the peer's typing notice, or until their next
// message; and typing here tells the peer (mpchat sends at most one notice per 5 s). Mixed into the page's
// methods; `this` is the page.
const context = require('../../lib/chat-context.js')

const TYPING_MS = 5000

module.exports = {
  watchTyping(kind) {
    if (kind !== 'single') return
    this.offTyping = context.current().chat.on('typing', event => {
      if (event && event.conversation === this.opened) this.showTyping()
    })
  },

  unwatchTyping() {
    if (this.offTyping) this.offTyping()
    this.offTyping = null
    this.hideTyping()
  },

  showTyping() {
    clearTimeout(this.typingTimer)
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_MS)
    if (!this.data.typing) this.setData({ typing: true })
  },

  hideTyping() {
    clearTimeout(this.typingTimer)
    this.typingTimer = null
    if (this.data.typing) this.setData({ typing: false })
  },

  // The input changed by the user's hand to `value`.
  tellTyping(value) {
    if (this.data.kind !== 'single' || !this.opened || !value) return
    const { chat, conn, WebIM } = context.current()
    try {
      chat.typing(conn, this.opened, { WebIM })
    } catch (err) {
      // A typing notice is a nicety; the message itself is what matters.
    }
  },
}
