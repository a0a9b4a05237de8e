// Where the demo connects. By default: mpchat's loopback Easemob server on this machine, started with
// `node loopback/server.js --port 5280` (users alice, bob, carol, any non-empty token; group g1, chat room r1).
//
// To use a real Easemob app instead, set your app key from the Easemob console (format "orgname#appname")
// and remove `url`/`apiUrl`, so the SDK finds its servers itself:
//   appKey: 'your-org#your-app',
//   url: '', apiUrl: '',
// and add the Easemob socket and REST domains to the mini-program's trusted domains
// (mp.weixin.qq.com → 开发管理 → 服务器域名).
module.exports = {
  appKey: 'mpchat#loopback',
  url: 'ws://127.0.0.1:5280/websocket',
  apiUrl: 'http://127.0.0.1:5280',
  // Own display data sent with every message (ext.userNickname / ext.userAvatar); empty means "use the id".
  profile: { nickname: '', avatar: '' },
}
