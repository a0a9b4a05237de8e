// What the contacts and groups pages share, as a Behavior: the ids the page's loadIds() gives, drawn as
// rows of face, name and detail (the page's rowOf(), components/directory-list), drawn again when names
// arrive from the server (the chat's 'directory' event); a tap opens the chat of kind `data.kind`.
const context = require('./chat-context.js')

module.exports = Behavior({
  data: { rows: [], status: '加载中…', kind: 'single', empty: '' },
  lifetimes: {
    attached() {
      this.ids = []
      this.offNames = context.current().chat.on('directory', () => this.render())
      this.load()
    },
    detached() {
      if (this.offNames) this.offNames()
      this.offNames = null
    },
  },
  methods: {
    async load() {
      let status = ''
      try {
        this.ids = await this.loadIds(context.current())
        if (this.ids.length === 0) status = this.data.empty
      } catch (err) {
        status = `加载失败：${(err && err.message) || err}`
      }
      this.render(status)
    },

    render(status = this.data.status) {
      const { chat } = context.current()
      this.setData({ rows: this.ids.map(id => Object.assign({ id }, this.rowOf(chat, id))), status })
    },

    open(event) {
      const conversation = `${this.data.kind}:${event.detail.id}`
      wx.navigateTo({ url: `/pages/chat/index?conversation=${encodeURIComponent(conversation)}` })
    },
  },
})
