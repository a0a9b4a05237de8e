// The chat page's message actions: the long-press menu (复制, 引用, 编辑, 撤回, 删除 and reactions), tapping a
// reaction under a bubble, and the bar above the input while a quote or an edit waits for the next send.
// Mixed into the page's methods; `this` is the page.
const context = require('../../lib/chat-context.js')
const present = require('../../lib/present.js')
const { toast } = require('../../lib/toast.js')

const REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢']

module.exports = {
  recordById(id) {
    return this.records.find(r => r.id === id) || null
  },

  onMenu(event) {
    const record = this.recordById(event.detail.id)
    if (record) this.setData({ menu: present.menuFor(record, REACTIONS) })
  },

  closeMenu() {
    this.setData({ menu: null })
  },

  onMenuSelect(event) {
    const record = this.data.menu && this.recordById(this.data.menu.id)
    this.closeMenu()
    if (!record) return
    const key = event.detail.key
    if (key === 'copy') wx.setClipboardData({ data: record.text || '' })
    else if (key === 'quote') this.startCompose({ mode: 'quote', id: record.id, label: present.quoteLine(record) })
    else if (key === 'edit') this.startEdit(record)
    else if (key === 'recall') this.recall(record)
    else if (key === 'remove') this.removeMessage(record)
  },

  onMenuReact(event) {
    const id = this.data.menu && this.data.menu.id
    this.closeMenu()
    if (id) this.react(id, event.detail.reaction, event.detail.mine)
  },

  // A reaction under a bubble: tapping mine takes it back, tapping someone else's adds mine.
  onReact(event) {
    this.react(event.detail.id, event.detail.reaction, event.detail.mine)
  },

  async react(id, reaction, mine) {
    const { chat, conn } = context.current()
    try {
      this.showRecord(await chat.react(conn, id, reaction, !mine))
    } catch (err) {
      toast('操作失败')
    }
  },

  // The bar above the input: { mode: 'quote'|'edit', id, label } until sent or cancelled.
  startCompose(compose) {
    this.setData({ compose })
  },

  cancelCompose() {
    const editing = this.data.compose && this.data.compose.mode === 'edit'
    this.setData({ compose: null })
    const bar = this.selectComponent('#input-bar')
    if (editing && bar) bar.setValue('')
  },

  startEdit(record) {
    this.startCompose({ mode: 'edit', id: record.id, label: '编辑消息' })
    const bar = this.selectComponent('#input-bar')
    if (bar) bar.setValue(record.text || '')
  },

  async saveEdit(id, text) {
    const { chat, conn, WebIM } = context.current()
    try {
      this.showRecord(await chat.edit(conn, id, text, { WebIM }))
    } catch (err) {
      toast('编辑失败')
    }
  },

  // Recalls one of my messages (chat.recall: on the server, then in storage); the bubble reads 消息已撤回.
  async recall(record) {
    const { chat, conn } = context.current()
    try {
      this.showRecord(await chat.recall(conn, record.id))
    } catch (err) {
      toast('撤回失败')
    }
  },

  // Deletes the message from this phone; the chat tells the page (removed: true) and the bubble goes.
  removeMessage(record) {
    try {
      context.current().chat.remove(record.id)
    } catch (err) {
      toast('删除失败')
    }
  },

  showRecord(record) {
    if (!record || !this.recordById(record.id)) return
    this.merge([record])
    this.render()
  },
}
