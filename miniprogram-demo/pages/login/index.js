// Login with a user id and a password or an Easemob user token; the app key comes from config.js.
const context = require('../../lib/chat-context.js')

Component({
  data: { appKey: '', user: '', secret: '', useToken: false, busy: false, error: '' },
  lifetimes: {
    attached() {
      const config = context.current().config || {}
      this.setData({ appKey: config.appKey || '' })
    },
  },
  methods: {
    onUser(event) {
      this.setData({ user: event.detail.value.trim(), error: '' })
    },
    onSecret(event) {
      this.setData({ secret: event.detail.value, error: '' })
    },
    toggleMode() {
      this.setData({ useToken: !this.data.useToken, secret: '', error: '' })
    },
    async submit() {
      const { user, secret, useToken, busy } = this.data
      if (busy) return
      if (!user || !secret) {
        this.setData({ error: useToken ? '请输入用户 ID 和 token' : '请输入用户 ID 和密码' })
        return
      }
      this.setData({ busy: true, error: '' })
      try {
        await context.current().login(useToken ? { user, accessToken: secret } : { user, password: secret })
        this.setData({ busy: false })
        wx.reLaunch({ url: '/pages/conversations/index' })
      } catch (err) {
        this.setData({ busy: false, error: `登录失败：${(err && (err.message || err.data || err.type)) || err}` })
      }
    },
  },
})
