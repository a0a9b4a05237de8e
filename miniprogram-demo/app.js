// The demo app: reads config.js and, after login, keeps one mpchat chat and its Easemob connection in
// globalData, and asks the server for the names and faces the pages show. Pages reach them only through
// lib/chat-context.js.
const config = require('./config.js')
const mpchat = require('./mpchat/index.js') // dist/mpchat, copied in by the build
const WebIM = require('./sdk/easemob-websdk.js') // easemob-websdk's miniProgram build, copied in by the build
const names = require('./lib/names.js')

App({
  globalData: { config, mpchat, WebIM, chat: null, conn: null, user: null, detach: null },

  onLaunch() {
    if (typeof WXWebAssembly === 'undefined') {
      wx.showModal({ title: '基础库过旧', content: 'mpchat 需要基础库 2.15.0 或更高版本（WXWebAssembly）', showCancel: false })
    }
  },

  // Logs `user` in with a password or a token and sets up the chat. Resolves to the chat.
  async login({ user, password, accessToken }) {
    this.logout()
    const conn = new WebIM.connection({
      appKey: config.appKey,
      isHttpDNS: !config.url, // a fixed server (the loopback one) turns the SDK's DNS lookup off
      url: config.url || undefined,
      apiUrl: config.apiUrl || undefined,
      delivery: true,
    })
    const profile = { nickname: config.profile.nickname || user, avatar: config.profile.avatar || undefined }
    const chat = await mpchat.createChat({ user, profile })
    const detach = chat.attach(conn) // before open(), so the offline backlog is caught too
    try {
      await conn.open(accessToken ? { user, accessToken } : { user, pwd: password })
    } catch (err) {
      detach()
      throw err
    }
    Object.assign(this.globalData, { conn, chat, user, detach })
    // Names and faces from the server, in the background: pages render again when they arrive.
    names.refreshAll({ chat, conn })
    return chat
  },

  // Suspended: what a burst of messages left waiting is written now rather than by the next start.
  onHide() {
    if (this.globalData.chat) this.globalData.chat.flush()
  },

  logout() {
    const g = this.globalData
    if (g.detach) g.detach()
    if (g.chat) g.chat.flush()
    if (g.conn) g.conn.close()
    Object.assign(g, { conn: null, chat: null, user: null, detach: null })
  },
})
