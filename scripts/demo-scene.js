// What `make demo` plays: who is in it, what the server knows of them, and the script of a weekend hike
// planned over a morning's chat (scripts/demo.js plays it).
'use strict'

const GROUP = 'g1'

// Who logs in. Bob and Carol set their names and faces on the server (user attributes); Alice's own come
// from her chat's profile, as the demo app's config.js gives it. `color` and `initial` draw each face.
const CAST = {
  alice: { nickname: 'Alice', initial: 'A', color: '#4e7fd6' },
  bob: { nickname: '鲍勃', initial: '鲍', color: '#e58a2e' },
  carol: { nickname: '卡罗尔', initial: '卡', color: '#c65a8e' },
}
// Two more of Alice's contacts, who stay offline: their names are on the server, and Dave's face (Erin has
// none: her pages draw a letter).
const FRIENDS = {
  dave: { nickname: '大卫', initial: '大', color: '#5b8c5a' },
  erin: { nickname: '小艺' },
}
const AVATAR_HOST = 'https://avatars.mpchat.example/'
const GROUP_FACE = { initial: '山', color: '#3f9e6e' }

// The loopback server's world: everyone (all contacts of each other), the offline friends' user
// attributes, the group with its server name and face.
const WORLD = {
  users: [...Object.keys(CAST), ...Object.keys(FRIENDS)],
  profiles: {
    dave: { nickname: FRIENDS.dave.nickname, avatarurl: `${AVATAR_HOST}dave` },
    erin: { nickname: FRIENDS.erin.nickname },
  },
  groups: {
    [GROUP]: { members: Object.keys(CAST), name: '周末爬山群', description: '每周六早上八点，东门集合', avatar: `${AVATAR_HOST}${GROUP}` },
  },
}

// The script. `at` is China time (UTC+8, where mpchat draws its time labels by default) on `day` 0 (today)
// or -1 (yesterday); a step without `group` is one-to-one, to `to` (default alice).
// - Bob and Carol send with chat.send: `text` (with `mentions`), a `photo` ({ name, hour }: a landscape PNG
//   drawn by scripts/demo-media.js) or a `voice` ({ name, seconds }).
// - Alice uses her pages: `typed` goes into the chat page's input bar (strings typed, emoji codes tapped on
//   the picker) and is sent, quoting the message tagged `quote` when given (long press → 引用); `picks` sends
//   a photo from the "+" panel's 相册; `edit` changes the text of the message tagged so (long press → 编辑);
//   `draft` types without sending.
// - `react` adds `reaction` by `by` to the message tagged so: Alice through the long-press menu, others
//   with chat.react.
// - `typing`: that peer types to Alice (chat.typing), and her open chat page says so.
// - `tag` names a message for later steps; `leave` closes Alice's chat page; `pin` pins a conversation
//   from her list (long press → 置顶); `show` prints a page (`screenshot` also renders it to docs/).
const SCRIPT = [
  { day: -1, at: '21:02', from: 'carol', group: true, text: '这周末天气不错，去爬山吗？[(H)]' },
  { day: -1, at: '21:05', from: 'alice', group: true, typed: ['好呀 ', '[:D]', ' 叫上鲍勃'] },
  { leave: `group:${GROUP}` },
  { day: -1, at: '21:20', from: 'carol', text: '去年在山顶拍的照片找到了，明天发群里 [;)]' },
  { day: 0, at: '09:30', from: 'bob', group: true, text: '早上好 [):] 周六去爬香山，大家几点方便？' },
  { day: 0, at: '09:31', from: 'carol', group: true, text: '我都可以，八点东门见？' },
  { day: 0, at: '09:32', from: 'carol', group: true, photo: { name: 'summit.png', hour: 'morning' }, tag: 'summit' },
  { day: 0, at: '09:47', from: 'bob', group: true, text: '@Alice 记得带上次那根登山杖 [8-)]', mentions: ['alice'] },
  { day: 0, at: '09:47', from: 'bob', group: true, voice: { name: 'voice.mp3', seconds: 4 } },
  { show: 'conversations' },
  { pin: `group:${GROUP}` },
  { day: 0, at: '09:48', from: 'alice', group: true, quote: 'summit', typed: ['红叶太美了 ', '[(*)]', ' 这次还上山顶！'] },
  { day: 0, at: '09:48', from: 'alice', group: true, typed: ['登山杖在我这儿 👍 我再带点水果'], tag: 'fruit' },
  { day: 0, at: '09:49', react: 'fruit', by: 'bob', reaction: '👍' },
  { day: 0, at: '09:49', react: 'fruit', by: 'carol', reaction: '👍' },
  { day: 0, at: '09:49', react: 'summit', by: 'alice', reaction: '❤️' },
  { day: 0, at: '09:49', edit: 'fruit', typed: ['登山杖在我这儿 👍 水果我来带'] },
  { day: 0, at: '09:50', from: 'carol', group: true, text: '太好了，周六见 🎉 [(u)]' },
  { show: `group:${GROUP}`, screenshot: 'chat' },
  { draft: `group:${GROUP}`, typed: ['周六我开车，顺路接你们'] },
  { leave: `group:${GROUP}` },
  { day: 0, at: '09:56', from: 'bob', text: '在吗？[:p] 上次的照片还没发我' },
  { show: 'conversations', screenshot: 'list' },
  { day: 0, at: '09:57', from: 'alice', to: 'bob', typed: ['马上发你 ', '[:-*]'] },
  { day: 0, at: '09:58', from: 'alice', to: 'bob', picks: { name: 'sunset.png', hour: 'sunset' } },
  { day: 0, at: '09:59', typing: 'bob' },
  { day: 0, at: '09:59', from: 'bob', text: '收到！真好看 [(k)]' },
  { show: 'single:bob' },
  { show: 'contacts', screenshot: 'contacts' },
  { show: 'groups' },
]

module.exports = { GROUP, CAST, FRIENDS, AVATAR_HOST, GROUP_FACE, WORLD, SCRIPT }
