// The one place pages and components get mpchat from: the app's globalData in the mini-program, or
// whatever a test injects. Fields: mpchat (the module), chat, conn, WebIM, user, config, login(), logout().
const names = require('./names.js')

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

// The name shown for a conversation: the peer's or the group's name from the server, else what the
// peer's messages said, else the id (lib/names.js).
function displayName(conversation) {
  return names.conversationName(current().chat, conversation)
}

module.exports = { inject, current, displayName }
