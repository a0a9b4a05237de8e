// The one place pages and components get mpchat from: the app's globalData in the mini-program, or
// whatever a test injects. Fields: mpchat (the module), chat, conn, WebIM, user, config, login(), logout().
let injected = null

function inject(context) {
  injected = context
}

function current() {
  if (injected) return injected
  const app = getApp()
  const g = app.globalData
  return {
    mpchat: g.mpchat,
    chat: g.chat,
    conn: g.conn,
    WebIM: g.WebIM,
    user: g.user,
    config: g.config,
    login: options => app.login(options),
    logout: () => app.logout(),
  }
}

// The name shown for a conversation: a configured group or chat-room name, else the peer or group id.
function displayName(conversation) {
  const ctx = current()
  const names = (ctx.config && ctx.config.names) || {}
  const id = conversation.slice(conversation.indexOf(':') + 1)
  return names[conversation] || names[id] || id
}

module.exports = { inject, current, displayName }
