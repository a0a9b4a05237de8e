// One chat page for one-to-one, group and chat-room conversations (`?conversation=group:g1`).
// Shows the newest page of history, loads older pages on pull-down (older.js: the phone's, then the
// server's), renders new records the moment the chat publishes them (and drops those removed from the
// phone), and sends what the input bar emits: a new message, a reply quoting another (menu.js), or the new
// text of an edited one; in groups with the members picked after '@' (mentions.js); pictures, video, voice,
// files and locations (media.js). typing.js shows when a one-to-one peer is typing. A failed message is sent
// again with chat.resend when tapped.
const context = require('../../lib/chat-context.js')
const present = require('../../lib/present.js')
const menu = require('./menu.js')
const typing = require('./typing.js')
const older = require('./older.js')
const mentions = require('./mentions.js')
const media = require('./media.js')
const { toast } = require('../../lib/toast.js')

Component({
  properties: {
    conversation: { type: String, value: '' }, // from the page query
  },
  data: {
    title: '',
    kind: 'single',
    items: [],
    hasMore: true,
    refreshing: false,
    anchor: '',
    menu: null, // the long-press menu open: present.menuFor()
    compose: null, // the quote or edit waiting for the next send: { mode, id, label }
    typing: false, // the one-to-one peer is typing
    members: null, // the @ picker open: [{ id, name }], 所有人 first
    playing: '', // the id of the voice message playing
  },
  lifetimes: {
    attached() {
      if (this.data.conversation) this.open(this.data.conversation)
    },
    detached() {
      this.close()
    },
  },
  methods: Object.assign({}, menu, typing, older, mentions, media, {
    onLoad(query) {
      if (query && query.conversation) this.open(decodeURIComponent(query.conversation))
    },

    async open(conversation) {
      if (this.opened === conversation) return
      this.close()
      this.opened = conversation
      this.records = []
      this.pending = new Map() // placeholder id -> the input it sends, for retry
      this.pendingCount = 0
      const { kind, id } = present.parseConversation(conversation)
      const title = context.displayName(conversation)
      this.setData({ conversation, kind, title })
      if (typeof wx.setNavigationBarTitle === 'function') wx.setNavigationBarTitle({ title })

      const { chat, conn } = context.current()
      this.off = chat.subscribe(conversation, (record, info) => this.onRecord(record, info))
      this.offNames = chat.on('directory', () => this.onNames())
      this.watchTyping(kind)
      if (kind === 'chatroom' && conn && typeof conn.joinChatRoom === 'function') {
        conn.joinChatRoom({ roomId: id }).catch(() => {})
      }
      const draft = await chat.draft(conversation)
      const bar = this.selectComponent('#input-bar')
      if (draft && bar) bar.setValue(draft)
      const newest = await chat.history(conversation, { limit: older.PAGE_SIZE })
      this.merge(newest)
      this.startPaging(newest)
      chat.markRead(conversation)
      this.render(this.lastAnchor())
    },

    close() {
      // What is left in the input is kept as the conversation's draft ('' clears it); not a text being edited.
      const bar = this.selectComponent('#input-bar')
      const editing = this.data.compose && this.data.compose.mode === 'edit'
      if (this.opened && bar) context.current().chat.setDraft(this.opened, editing ? '' : bar.data.value)
      if (this.off) this.off()
      if (this.offNames) this.offNames()
      this.off = null
      this.offNames = null
      this.unwatchTyping()
      this.forgetMentions()
      this.stopVoice()
      this.opened = null
      if (this.data.menu || this.data.compose || this.data.members) this.setData({ menu: null, compose: null, members: null })
    },

    // Names and faces arrived from the server: the title and the senders are drawn again.
    onNames() {
      const title = context.displayName(this.opened)
      if (title !== this.data.title) {
        this.setData({ title })
        if (typeof wx.setNavigationBarTitle === 'function') wx.setNavigationBarTitle({ title })
      }
      this.render()
    },

    // Adds or replaces records by id, keeping time order (oldest first).
    merge(records) {
      for (const record of records) {
        const at = this.records.findIndex(r => r.id === record.id)
        if (at >= 0) this.records[at] = record
        else this.records.push(record)
      }
      this.records.sort((a, b) => a.time - b.time)
    },

    render(anchor) {
      const mpchat = context.current().mpchat
      this.setData({ items: present.messageItems(this.records, mpchat, Date.now()), anchor: anchor || '' })
    },

    lastAnchor() {
      const last = this.records[this.records.length - 1]
      return last ? `m-${last.id}` : ''
    },

    // A new or changed record; `info.previousId` names the one it replaces (my message, re-keyed from its
    // local id to the server's once sent). A removed record (or, with `info.cleared`, every record of the
    // conversation) leaves the screen.
    onRecord(record, info) {
      if (record.removed || (info && info.removed)) {
        this.forget(info && info.cleared ? this.records.filter(r => !this.pending.has(r.id)) : [record])
        return
      }
      if (!(info && info.previousId) && this.isOlderThanShown(record)) {
        this.merge([record]) // a page of history from the server: no scrolling, nothing to mark read
        this.render()
        return
      }
      if (this.showProgress(record)) return
      if (info && info.previousId) this.removeRecord(info.previousId)
      if (record.direction === 'out') this.dropPendingFor(record)
      const isNew = !this.recordById(record.id)
      this.merge([record])
      if (record.direction === 'in') {
        if (isNew) this.hideTyping()
        context.current().chat.markRead(this.opened)
      }
      this.render(isNew ? this.lastAnchor() : '')
    },

    forget(records) {
      const compose = this.data.compose
      for (const record of records) {
        this.removeRecord(record.id)
        if (compose && compose.id === record.id) this.cancelCompose()
      }
      this.render()
    },

    onInputChange(event) {
      const value = event.detail.value || ''
      this.tellTyping(value)
      this.watchForMention(value)
    },

    onSend(event) {
      const text = event.detail.text
      const compose = this.data.compose
      const mentioned = this.mentionsIn(text)
      if (compose) this.setData({ compose: null })
      if (compose && compose.mode === 'edit') {
        this.saveEdit(compose.id, text)
        return
      }
      const { kind, id } = present.parseConversation(this.opened)
      const input = { type: 'txt', chatType: present.CHAT_TYPES[kind], to: id, msg: text }
      if (compose && compose.mode === 'quote') input.quote = compose.id
      if (mentioned) input.mentions = mentioned
      this.send(input)
    },

    // Shows the message at once as "sending", then replaces it with the record the chat returns (or
    // publishes first: the 'sending' record, its upload progress, the settled one).
    async send(input) {
      const { chat, conn, WebIM, user } = context.current()
      this.pendingCount += 1
      const placeholder = {
        id: `pending-${this.pendingCount}`,
        conversation: this.opened,
        direction: 'out',
        from: user,
        to: input.to,
        time: Date.now(),
        type: input.type,
        text: input.msg,
        body: input.type === 'txt' ? undefined : media.localBody(input),
        sender: { id: user },
        status: 'sending',
      }
      this.pending.set(placeholder.id, input)
      this.merge([placeholder])
      this.render(this.lastAnchor())
      let record = null
      try {
        record = await chat.send(conn, input, { WebIM })
      } catch (err) {
        record = null
      }
      if (record) {
        this.removeRecord(placeholder.id)
        this.merge([record])
      } else if (this.pending.has(placeholder.id)) {
        this.merge([Object.assign({}, placeholder, { status: 'failed' })])
      }
      this.render(this.lastAnchor())
    },

    // The chat publishes my record before send() resolves; it replaces its placeholder.
    dropPendingFor(record) {
      const key = media.contentKey(record)
      const placeholder = this.records.find(r => this.pending.has(r.id) && r.status === 'sending' && media.contentKey(r) === key)
      if (placeholder) this.removeRecord(placeholder.id)
    },

    removeRecord(id) {
      this.records = this.records.filter(r => r.id !== id)
      this.pending.delete(id)
    },

    // Tapping a failed mark: a message the chat stored goes again as the same record (chat.resend, which
    // uploads a file again); one that never reached the chat (its send threw) is sent anew.
    async onRetry(event) {
      const failed = this.recordById(event.detail.id)
      if (!failed || failed.status !== 'failed') return
      const input = this.pending.get(failed.id)
      if (input) {
        this.removeRecord(failed.id)
        this.send(input)
        return
      }
      const { chat, conn, WebIM } = context.current()
      try {
        this.showRecord(await chat.resend(conn, failed.id, { WebIM }))
      } catch (err) {
        toast('重发失败')
      }
    },
  }),
})
