// Real names and faces for users and groups: fetched from the server (user attributes, group info) by
// chat.refreshProfiles / chat.refreshGroups, sanitised and kept with their fetch time by the core
// (src/directory.rs, an extra blob of the store), and looked up by chat.profile / chat.groupProfile.
// A page looks up one profile per visible row, and on iPhones every wasm crossing is interpreted, so
// lookups read a JS mirror of what the core keeps, loaded once and updated with each refresh.
'use strict'

const DAY_MS = 24 * 60 * 60 * 1000
// Easemob's user-attribute API answers at most 100 users per call.
const USERS_PER_CALL = 100
// getGroupInfo takes a list of ids; kept short so one answer stays small.
const GROUPS_PER_CALL = 20
// getJoinedGroups without affiliations or roles: pages start at 1 and hold up to 500 groups.
const JOINED_PAGE_SIZE = 500
const MAX_JOINED_PAGES = 20

function byId(list) {
  const map = new Map()
  for (const entry of list || []) map.set(entry.id, entry)
  return map
}

function text(value) {
  return typeof value === 'string' ? value : null
}

/** What an SDK rejection says: an SDK error's message, or a raw REST answer's error_description. */
function describe(err) {
  if (!err) return 'no reason given'
  if (typeof err === 'string') return err
  const data = err.data && typeof err.data === 'object' ? err.data : null
  return err.message || (data && (data.error_description || data.error)) || err.errorText ||
    (err.statusCode ? `HTTP ${err.statusCode}` : JSON.stringify(err))
}

function maxAge(options) {
  const given = options && options.maxAgeMs
  if (given === undefined || given === null) return DAY_MS
  const n = Number(given)
  if (!Number.isFinite(n) || n < 0) throw new TypeError(`mpchat: maxAgeMs must be 0 or more milliseconds, got ${JSON.stringify(given)}`)
  return n
}

function chunks(list, size) {
  const out = []
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size))
  return out
}

class Directory {
  constructor(chat) {
    this._chat = chat
    this._mirror = null // { users, groups, seen }: Maps by id of what the core keeps
  }

  /** The mirror, loaded from the core on first use; null while storage cannot be read. */
  _loaded() {
    if (!this._mirror) {
      try {
        const stored = this._chat._json(this._chat._core.directory())
        this._mirror = { users: byId(stored.users), groups: byId(stored.groups), seen: byId(stored.seen) }
      } catch (_) {
        return null
      }
    }
    return this._mirror
  }

  /** An incoming record's sender, as the core just remembered it (fields it lacks keep their value). */
  sawSender(sender) {
    if (!this._mirror || !sender || !sender.id || (!sender.nickname && !sender.avatar)) return
    const known = this._mirror.seen.get(sender.id) || { id: sender.id }
    this._mirror.seen.set(sender.id, {
      id: sender.id,
      nickname: sender.nickname || known.nickname,
      avatar: sender.avatar || known.avatar,
    })
  }

  profile(id) {
    const key = String(id)
    const mirror = this._loaded()
    const server = mirror && mirror.users.get(key)
    if (server && (server.nickname || server.avatar)) return shown(key, server.nickname, server.avatar, 'server')
    const seen = mirror && mirror.seen.get(key)
    if (seen && (seen.nickname || seen.avatar)) return shown(key, seen.nickname, seen.avatar, 'ext')
    return { id: key, source: 'id' }
  }

  groupProfile(id) {
    const key = String(id)
    const mirror = this._loaded()
    const server = mirror && mirror.groups.get(key)
    if (!server || (!server.name && !server.avatar)) return { id: key, source: 'id' }
    const profile = { id: key, source: 'server' }
    if (server.name) profile.name = server.name
    if (server.avatar) profile.avatar = server.avatar
    if (server.description) profile.description = server.description
    return profile
  }

  async refreshProfiles(conn, ids, options) {
    if (!conn) throw new TypeError('mpchat: refreshProfiles needs the SDK connection')
    if (!Array.isArray(ids)) throw new TypeError('mpchat: refreshProfiles needs an array of user ids')
    const ageLimit = maxAge(options)
    const wanted = [...new Set(ids.map(String).filter((id) => id !== ''))]
    const fetch = userFetcher(conn)
    const stale = this._stale('users', wanted, ageLimit)
    for (const batch of chunks(stale, USERS_PER_CALL)) {
      let answer
      try {
        answer = await fetch(batch)
      } catch (err) {
        throw new Error(`mpchat: refreshProfiles: the server did not give the profiles of ${batch.length} user(s) (${describe(err)}); what was known is kept`)
      }
      const data = userData(answer, batch)
      this._put(false, batch.map((id) => {
        const attributes = data[id] && typeof data[id] === 'object' ? data[id] : {}
        return [id, text(attributes.nickname), text(attributes.avatarurl)]
      }))
    }
    return wanted.map((id) => this.profile(id))
  }

  async refreshGroups(conn, options) {
    if (!conn) throw new TypeError('mpchat: refreshGroups needs the SDK connection')
    if (typeof conn.getJoinedGroups !== 'function') {
      throw new TypeError('mpchat: refreshGroups needs conn.getJoinedGroups (easemob-websdk 4.x); this SDK has none')
    }
    const ageLimit = maxAge(options)
    const joined = await this._joinedGroups(conn)
    const stale = new Set(this._stale('groups', joined.map((g) => g.id), ageLimit))
    const details = typeof conn.getGroupInfo === 'function'
    const fromList = joined.filter((g) => stale.has(g.id) && !details)
    if (fromList.length) this._put(true, fromList.map((g) => [g.id, g.name, null, null]))
    if (details) {
      for (const batch of chunks([...stale], GROUPS_PER_CALL)) {
        let answer
        try {
          answer = await conn.getGroupInfo({ groupId: batch })
        } catch (err) {
          throw new Error(`mpchat: refreshGroups: the server did not give the details of ${batch.length} group(s) (${describe(err)}); what was known is kept`)
        }
        const infos = byId((answer && Array.isArray(answer.data) ? answer.data : []).filter((g) => g && g.id != null)
          .map((g) => ({ ...g, id: String(g.id) })))
        const names = byId(joined)
        this._put(true, batch.map((id) => {
          const info = infos.get(id) || {}
          return [id, text(info.name) || names.get(id).name, text(info.avatar) || customAvatar(info.custom), text(info.description)]
        }))
      }
    }
    return joined.map((g) => {
      const { source, ...known } = this.groupProfile(g.id)
      return { ...known, name: known.name || g.id }
    })
  }

  /** Every group I am in: [{ id, name }] from conn.getJoinedGroups, page by page. */
  async _joinedGroups(conn) {
    const joined = []
    for (let pageNum = 1; pageNum <= MAX_JOINED_PAGES; pageNum++) {
      let answer
      try {
        answer = await conn.getJoinedGroups({ pageNum, pageSize: JOINED_PAGE_SIZE })
      } catch (err) {
        throw new Error(`mpchat: refreshGroups: the server did not list the joined groups (${describe(err)}); what was known is kept`)
      }
      const page = answer && Array.isArray(answer.data) ? answer.data : []
      for (const g of page) {
        const id = g && firstGiven(g.groupid, g.groupId, g.id)
        if (id == null || id === '') continue
        joined.push({ id: String(id), name: text(firstGiven(g.groupname, g.groupName, g.name)) })
      }
      if (page.length < JOINED_PAGE_SIZE) break
    }
    return joined
  }

  /** The ids whose server entry is missing or at least `ageLimit` ms old. */
  _stale(shelf, ids, ageLimit) {
    const mirror = this._loaded()
    if (!mirror) {
      throw new Error('mpchat: the stored names and avatars cannot be read from storage now; try again later')
    }
    const now = Date.now()
    return ids.filter((id) => {
      const entry = mirror[shelf].get(id)
      return !entry || now - entry.at >= ageLimit
    })
  }

  /** Hands rows to the core, which sanitises and keeps them; the mirror follows; pages are told. */
  _put(groups, rows) {
    const chat = this._chat
    chat._args(...rows)
    const result = chat._json(chat._core.directory_put(groups, Date.now()))
    const mirror = this._loaded()
    const shelf = groups ? mirror.groups : mirror.users
    for (const entry of result.saved) shelf.set(entry.id, entry)
    for (const [forgottenShelf, id] of result.forgotten) mirror[forgottenShelf].delete(id)
    chat._emit('directory', { [groups ? 'groups' : 'users']: result.saved.map((e) => e.id) })
    if (result.outcome === 'unsaved') chat._emit('error', new Error(`mpchat: names and avatars kept for now but not stored: ${result.reason}`))
  }
}

// The SDK's answers name a group's fields differently by release and call (groupid / groupId / id).
function firstGiven(...values) {
  return values.find((v) => v !== undefined && v !== null)
}

function shown(id, nickname, avatar, source) {
  const profile = { id, source }
  if (nickname) profile.nickname = nickname
  if (avatar) profile.avatar = avatar
  return profile
}

/** An avatar a group's custom field carries as JSON ({ "avatar": "https://…" }), when it does. */
function customAvatar(custom) {
  if (typeof custom !== 'string' || custom[0] !== '{') return null
  try {
    return text(JSON.parse(custom).avatar)
  } catch (_) {
    return null
  }
}

/** The SDK call that fetches user attributes: fetchUserInfoById (4.x, 3.6), else 3.x's fetchUserDataById. */
function userFetcher(conn) {
  if (typeof conn.fetchUserInfoById === 'function') return (ids) => conn.fetchUserInfoById(ids, ['nickname', 'avatarurl'])
  if (typeof conn.fetchUserDataById === 'function') return (ids) => conn.fetchUserDataById(ids)
  throw new TypeError('mpchat: refreshProfiles needs conn.fetchUserInfoById (or 3.x\'s fetchUserDataById); this SDK has neither')
}

/** `{ id: attributes }` from an answer; fetchUserDataById answers one id with its attributes alone. */
function userData(answer, batch) {
  const data = answer && answer.data && typeof answer.data === 'object' ? answer.data : {}
  if (batch.length === 1 && !(batch[0] in data) && ('nickname' in data || 'avatarurl' in data)) return { [batch[0]]: data }
  return data
}

module.exports = { Directory, DAY_MS }
