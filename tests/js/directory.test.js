// Names and faces from the server through dist/mpchat with a scripted SDK connection (e2e-directory drives
// the real SDK): refreshProfiles / refreshGroups fetch only what is missing or stale, sanitise it, keep it
// across a restart, and keep what was known when the SDK fails; profile() falls back server → ext → id.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { repoRoot } = require('./support/phone')
const { createWxStorage } = require('./support/wx-storage')

const mpchat = require(path.join(repoRoot, 'dist', 'mpchat', 'index.js'))

const DAY = 24 * 60 * 60 * 1000

/** A connection answering as SDK 4.x does from `users` ({ id: attributes }) and `groups` ({ id: info }). */
function fakeConn({ users = {}, groups = {} } = {}) {
  const calls = []
  const conn = {
    users,
    groups,
    failNext: null,
    async fetchUserInfoById(ids, properties) {
      calls.push(['fetchUserInfoById', [...ids], properties])
      if (conn.failNext) throw Object.assign(new Error(conn.failNext), { type: 1 })
      return { type: 0, data: Object.fromEntries(ids.filter((id) => users[id]).map((id) => [id, { ...users[id] }])) }
    },
    async getJoinedGroups(params) {
      calls.push(['getJoinedGroups', params.pageNum, params.pageSize])
      const all = Object.keys(groups).map((id) => ({ groupid: id, groupname: groups[id].name || id }))
      return { type: 0, data: all.slice((params.pageNum - 1) * params.pageSize, params.pageNum * params.pageSize) }
    },
    async getGroupInfo({ groupId }) {
      calls.push(['getGroupInfo', [].concat(groupId)])
      if (conn.failNext) throw { statusCode: 500, data: { error_description: conn.failNext } }
      return { type: 0, data: [].concat(groupId).map((id) => ({ id, ...groups[id] })) }
    },
  }
  return { conn, calls }
}

async function alice(storage = createWxStorage(), options = {}) {
  return mpchat.createChat({ user: 'alice', storage, ...options })
}

/** Carol's message to alice, with her profile in ext. */
const fromCarol = (id, ext) => ({ id, type: 'txt', chatType: 'singleChat', from: 'carol', to: 'alice', time: 1000, msg: 'hi', ext })

test('refreshProfiles fetches only the ids missing or older than maxAgeMs, 100 per call', async (t) => {
  let now = 1_700_000_000_000
  t.mock.method(Date, 'now', () => now)
  const users = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`u${i}`, { nickname: `User ${i}` }]))
  const { conn, calls } = fakeConn({ users })
  const chat = await alice()
  const ids = Object.keys(users)

  const first = await chat.refreshProfiles(conn, ids)
  assert.deepEqual(calls.map(([name, batch]) => [name, batch.length]), [['fetchUserInfoById', 100], ['fetchUserInfoById', 100], ['fetchUserInfoById', 50]])
  assert.deepEqual(calls[0][2], ['nickname', 'avatarurl'])
  assert.equal(first.length, 250)
  assert.deepEqual(first[249], { id: 'u249', nickname: 'User 249', source: 'server' })

  calls.length = 0
  now += DAY - 1
  await chat.refreshProfiles(conn, ['u1', 'u2', 'new'])
  assert.deepEqual(calls.map(([, batch]) => batch), [['new']], 'fresh ids are not asked again within a day')

  calls.length = 0
  await chat.refreshProfiles(conn, ['u1', 'new'], { maxAgeMs: 1000 })
  assert.deepEqual(calls.map(([, batch]) => batch), [['u1']], 'u1 is older than 1 s; new was fetched just now')

  calls.length = 0
  now += 1
  await chat.refreshProfiles(conn, ['u1', 'u2', 'u2', 'new'])
  assert.deepEqual(calls.map(([, batch]) => batch), [['u2']], 'a day after the first fetch only u2 is stale')

  calls.length = 0
  await chat.refreshProfiles(conn, ['u1', 'new'], { maxAgeMs: 0 })
  assert.deepEqual(calls.map(([, batch]) => batch), [['u1', 'new']], 'maxAgeMs 0 always asks')
  await assert.rejects(chat.refreshProfiles(conn, ['u1'], { maxAgeMs: -1 }), /maxAgeMs must be 0 or more/)
})

test('profile(): the server profile, else the last one seen in ext, else the id', async () => {
  const { conn } = fakeConn({ users: { bob: { nickname: 'Bob', avatarurl: 'https://a.example/bob.png' }, carol: {} } })
  const chat = await alice()
  assert.deepEqual(chat.profile('bob'), { id: 'bob', source: 'id' })
  chat.receive(fromCarol('m1', { userNickname: 'Carol from ext', userAvatar: 'https://a.example/carol.png' }))
  assert.deepEqual(chat.profile('carol'), { id: 'carol', nickname: 'Carol from ext', avatar: 'https://a.example/carol.png', source: 'ext' })

  await chat.refreshProfiles(conn, ['bob', 'carol', 'dave'])
  assert.deepEqual(chat.profile('bob'), { id: 'bob', nickname: 'Bob', avatar: 'https://a.example/bob.png', source: 'server' })
  assert.deepEqual(chat.profile('carol'), { id: 'carol', nickname: 'Carol from ext', avatar: 'https://a.example/carol.png', source: 'ext' },
    'the server has no attributes for carol: her ext profile still shows')
  assert.deepEqual(chat.profile('dave'), { id: 'dave', source: 'id' })

  chat.receive(fromCarol('m2', { userNickname: 'Carol again' }))
  assert.equal(chat.profile('carol').nickname, 'Carol again', 'a newer ext profile shows at once')
  assert.equal(chat.profile('carol').avatar, 'https://a.example/carol.png', 'what the newer ext left out keeps its value')
  chat.profile('bob').nickname = 'changed by a page'
  assert.equal(chat.profile('bob').nickname, 'Bob', 'each lookup is a copy')
})

test('names and avatars from the server are sanitised as ext profiles are, with the profilePolicy', async () => {
  const users = {
    eve: { nickname: '\u202Eevil\u200B  name\nhere', avatarurl: 'javascript:alert(1)' },
    tok: { nickname: '   ', avatarurl: 'https://a.example/t.png?access_token=secret&w=1' },
    cloud: { nickname: 'Cloud', avatarurl: 'cloud://env-1/c.png' },
  }
  const { conn } = fakeConn({ users })
  const strict = await alice()
  await strict.refreshProfiles(conn, Object.keys(users))
  assert.deepEqual(strict.profile('eve'), { id: 'eve', nickname: 'evil name here', source: 'server' })
  assert.deepEqual(strict.profile('tok'), { id: 'tok', avatar: 'https://a.example/t.png?w=1', source: 'server' })
  assert.deepEqual(strict.profile('cloud'), { id: 'cloud', nickname: 'Cloud', source: 'server' })

  const wide = await alice(createWxStorage(), { profilePolicy: { avatarSchemes: ['https', 'cloud'], maxNicknameChars: 3 } })
  await wide.refreshProfiles(conn, ['cloud'])
  assert.deepEqual(wide.profile('cloud'), { id: 'cloud', nickname: 'Clo', avatar: 'cloud://env-1/c.png', source: 'server' })
})

test('what was fetched survives a restart, counts in the storage budget, and is not fetched again within maxAgeMs', async () => {
  const storage = createWxStorage()
  const { conn, calls } = fakeConn({
    users: { bob: { nickname: 'Bob' } },
    groups: { g1: { name: '周末爬山', avatar: 'https://a.example/g1.png', description: '每周六' } },
  })
  const before = await alice(storage)
  const empty = before.storageReport().bytesUsed
  await before.refreshProfiles(conn, ['bob'])
  await before.refreshGroups(conn)
  assert.ok(before.storageReport().bytesUsed > empty + 50, 'the names are stored, and counted')

  calls.length = 0
  const after = await alice(storage)
  assert.deepEqual(after.profile('bob'), { id: 'bob', nickname: 'Bob', source: 'server' })
  assert.deepEqual(after.groupProfile('g1'), { id: 'g1', name: '周末爬山', avatar: 'https://a.example/g1.png', description: '每周六', source: 'server' })
  await after.refreshProfiles(conn, ['bob'])
  const groups = await after.refreshGroups(conn)
  assert.deepEqual(calls, [['getJoinedGroups', 1, 500]], 'only the list of groups is asked; nothing is stale')
  assert.deepEqual(groups, [{ id: 'g1', name: '周末爬山', avatar: 'https://a.example/g1.png', description: '每周六' }])
})

test('an SDK error rejects with a clear message and keeps what was known', async () => {
  const { conn } = fakeConn({ users: { bob: { nickname: 'Bob' } }, groups: { g1: { name: 'Hikers' } } })
  const chat = await alice()
  await chat.refreshProfiles(conn, ['bob'])
  await chat.refreshGroups(conn)
  conn.users.bob.nickname = 'Robert'
  conn.groups.g1.name = 'Climbers'
  conn.failNext = 'server is busy'
  await assert.rejects(chat.refreshProfiles(conn, ['bob'], { maxAgeMs: 0 }),
    /^Error: mpchat: refreshProfiles: the server did not give the profiles of 1 user\(s\) \(server is busy\); what was known is kept$/)
  await assert.rejects(chat.refreshGroups(conn, { maxAgeMs: 0 }), /refreshGroups: .*\(server is busy\); what was known is kept/)
  assert.equal(chat.profile('bob').nickname, 'Bob')
  assert.equal(chat.groupProfile('g1').name, 'Hikers')

  conn.failNext = null
  await chat.refreshProfiles(conn, ['bob'], { maxAgeMs: 0 })
  assert.equal(chat.profile('bob').nickname, 'Robert')
  await assert.rejects(chat.refreshProfiles({}, ['bob']), /needs conn\.fetchUserInfoById/)
  await assert.rejects(chat.refreshGroups({ getGroupInfo() {} }), /needs conn\.getJoinedGroups/)
})

test('refreshGroups: my groups with their server names and avatars, the id where the server has no name', async () => {
  const { conn, calls } = fakeConn({
    groups: {
      g1: { name: '周末爬山', avatar: 'https://a.example/g1.png', description: 'line one\nline two' },
      g2: { name: '', avatar: '' },
      g3: { name: 'Custom', custom: '{"avatar":"https://a.example/g3.png"}' },
    },
  })
  const chat = await alice()
  assert.deepEqual(chat.groupProfile('g1'), { id: 'g1', source: 'id' })
  const seen = []
  chat.on('directory', (event) => seen.push(event))
  const groups = await chat.refreshGroups(conn)
  assert.deepEqual(groups, [
    { id: 'g1', name: '周末爬山', avatar: 'https://a.example/g1.png', description: 'line one line two' },
    { id: 'g2', name: 'g2' },
    { id: 'g3', name: 'Custom', avatar: 'https://a.example/g3.png' },
  ])
  assert.deepEqual(calls, [['getJoinedGroups', 1, 500], ['getGroupInfo', ['g1', 'g2', 'g3']]])
  assert.deepEqual(chat.groupProfile('g2'), { id: 'g2', name: 'g2', source: 'server' }, 'the list names it by its id')
  assert.deepEqual(seen, [{ groups: ['g1', 'g2', 'g3'] }])
})

test('lookups cost no wasm crossing once the names are loaded', async () => {
  const { conn } = fakeConn({ users: { bob: { nickname: 'Bob' } } })
  const chat = await alice()
  await chat.refreshProfiles(conn, ['bob'])
  chat.profile('bob')
  let crossings = 0
  const core = chat._core
  chat._core = new Proxy(core, { get: (target, name) => (typeof target[name] === 'function' ? (...args) => { crossings++; return target[name](...args) } : target[name]) })
  for (let i = 0; i < 100; i++) {
    chat.profile('bob')
    chat.profile(`stranger${i}`)
    chat.groupProfile('g1')
  }
  assert.equal(crossings, 0)
  chat._core = core
})
