'use strict';
// The loopback server's REST API: the HTTP requests easemob-websdk makes (paths, methods, bodies and response
// shapes read from the SDK's code, 4.1.6 to 4.21.1), answered from the server's state. Every path is under
// /{org}/{app} (the app key `org#app`); every call but a chat-file download needs `Authorization: Bearer <the
// token the user logged in with>` and acts as that user. Errors carry the `error_description` texts the SDK
// maps to its error types.
//
//   POST   users/{me}/messageroaming                      getHistoryMessages, fetchHistoryMessages
//   POST   reaction/user/{me}                              addReaction           (notice: NOTIFY 'reaction')
//   DELETE reaction/user/{me}?msgId=&message=              deleteReaction        (notice: NOTIFY 'reaction')
//   GET    reaction/user/{me}?msgIdList=&msgType=&groupId= getReactionlist / getReactionList
//   GET    reaction/user/{me}/detail?msgId=&message=&currentPage=&pageSize=   getReactionDetail
//   POST   metadata/user/get                               fetchUserInfoById
//   PUT    metadata/user/{me}                              updateUserInfo / updateOwnUserInfo
//   GET    metadata/user/{id[,id]}                         fetchUserDataById (3.x)
//   GET    users/{me}/contacts/users[?needReturnRemark=true]   getContacts (getRoster), getAllContacts
//   GET    users/{me}/contacts?needReturnRemark=true&limit=&cursor=   getContactsWithCursor
//   GET    users/{me}/joined_chatgroups[?pagenum=&pagesize=&version=v3]   getJoinedGroups
//   GET    chatgroups/user/{me}?pagenum=&pagesize=&needAffiliations=&needRole=&version=v3   getJoinedGroups
//   GET    chatgroups/{id[,id]}?joined_time=true           getGroupInfo
//   PUT    chatgroups/{id}                                 modifyGroup
//   GET    chatgroups/{id}/users?pagenum=&pagesize=[&version=v3]  listGroupMembers
//   GET    chatgroups/{id}/users?cursor=&limit=&joined_time=true getGroupMembers
//   POST   chatrooms/{id}/apply, DELETE chatrooms/{id}/quit  joinChatRoom, quitChatRoom (3.x, 4.0.x)
//   POST   chatfiles                                       upload (multipart, field `file`)
//   GET    chatfiles/{uuid}[?thumbnail=true|vframe=true]   download

const { parseMultipart, PLACEHOLDER_FRAME } = require('./chatfiles');

const APPLICATION = '0c6e1a5e-loopback-0000-0000-000000000000';
const PROFILE_KEYS = ['nickname', 'avatarurl', 'mail', 'phone', 'gender', 'sign', 'birth', 'ext'];
const MAX_REACTIONS = 20;
const MAX_PAGE = 50;

class RestError extends Error {
  constructor(statusCode, error, description, extra = {}) {
    super(description);
    this.statusCode = statusCode;
    this.body = { error, exception: `loopback.${error}`, timestamp: Date.now(), duration: 0, error_description: description, ...extra };
  }
}

const unauthorized = () => new RestError(401, 'unauthorized', 'Unable to authenticate (OAuth)');
const forbidden = (why = 'permission denied') => new RestError(403, 'forbidden_op', why);
const notFound = (why) => new RestError(404, 'resource_not_found', why);
const badRequest = (why) => new RestError(400, 'illegal_argument', why);

function createRestApi(server) {
  const [org, app] = server.appKey.split('#');
  const routes = [];
  const route = (method, pattern, handler) => routes.push({ method, pattern, handler });

  // ---- history roaming ---------------------------------------------------------------------------------

  route('POST', /^users\/([^/]+)\/messageroaming$/, (req, [user]) => {
    const me = own(req, user);
    const q = req.json || {};
    const conv = conversationOf(me, String(q.queue || ''));
    const viewTypes = String(q.msgType || '').split(',').map((t) => t.trim()).filter(Boolean);
    const from = q.userId ? String(q.userId) : null;
    const startTime = Number(q.startTime) || null;
    const endTime = Number(q.endTime) || null;
    const candidates = (server.history.get(conv.key) || []).filter((id) => {
      const { entry, meta } = server.messages.get(id);
      if (entry.recalled) return false;
      if (viewTypes.length > 0 && !viewTypes.includes(MSG_TYPE[entry.contentType])) return false;
      if (from && entry.from !== from) return false;
      const time = Number(meta.timestamp);
      if (startTime && time < startTime) return false;
      if (endTime && time > endTime) return false;
      return true;
    });
    // 'up' (is_positive false): newest first, from the cursor back; 'down': oldest first, from the cursor on.
    const down = q.is_positive === true || q.is_positive === 'true';
    const ordered = down ? candidates : [...candidates].reverse();
    const pageSize = Math.max(1, Math.min(MAX_PAGE, Number(q.pull_number) || 20));
    const start = cursorValue(q.start);
    let at = 0;
    if (start !== null) {
      at = ordered.findIndex((id) => (down ? BigInt(id) >= start : BigInt(id) <= start));
      if (at < 0) at = ordered.length;
    }
    const page = ordered.slice(at, at + pageSize);
    const next = ordered[at + pageSize];
    const data = {
      msgs: page.map((id) => ({ msg: server._roamedMeta(id, me), msgId: id })),
      is_last: next === undefined,
    };
    if (next !== undefined) data.next_key = next;
    return { body: envelope(req, 'post', { data }) };
  });

  /** The conversation a roaming queue (`peer@easemob.com` or `group@conference.easemob.com`) names for `me`. */
  function conversationOf(me, queue) {
    const [name, domain = ''] = queue.split('@');
    const isUser = server.users.has(name);
    // (4.1.6 names a chat room's queue with the user domain; a chat room is found by its id either way.)
    if (!domain.startsWith('conference') && isUser) return { key: `chat:${pairOf(me, name)}` };
    if (server.groups.has(name)) {
      if (!server.groups.get(name).has(me)) throw forbidden(`user ${me} is not a member of group ${name}`);
      return { key: `group:${name}` };
    }
    if (server.chatRooms.has(name)) return { key: `room:${name}` };
    throw notFound(`queue ${queue} does not exist`);
  }

  // ---- reactions -----------------------------------------------------------------------------------------

  route('POST', /^reaction\/user\/([^/]+)$/, (req, [user]) => {
    const me = own(req, user);
    const { msgId, message } = req.json || {};
    const { stored, kind } = reactable(me, msgId);
    const reaction = String(message || '');
    if (!reaction || reaction.length > 128) throw badRequest('the reaction is empty or longer than 128 characters');
    let table = server.reactions.get(stored.entry.serverMsgId);
    if (!table) server.reactions.set(stored.entry.serverMsgId, (table = new Map()));
    const existing = table.get(reaction);
    if (existing && existing.users.includes(me)) throw badRequest('the user is already operation this message');
    if (!existing && table.size >= MAX_REACTIONS) throw badRequest('The quantity has exceeded the limit!');
    const now = new Date().toISOString();
    const r = existing || { id: server._newId(), users: [], createdAt: now, updatedAt: now };
    r.users.push(me);
    r.updatedAt = now;
    table.set(reaction, r);
    announceReaction(stored, me, reaction, 'create');
    return {
      body: {
        requestStatusCode: 'ok',
        timestamp: Date.now(),
        data: {
          id: r.id, msgId: stored.entry.serverMsgId, msgType: kind, groupId: kind === 'groupchat' ? stored.entry.to : null,
          reaction, createdAt: r.createdAt, updatedAt: r.updatedAt,
        },
      },
    };
  });

  route('DELETE', /^reaction\/user\/([^/]+)$/, (req, [user]) => {
    const me = own(req, user);
    const { stored } = reactable(me, req.query.get('msgId'));
    const reaction = String(req.query.get('message') || '');
    const table = server.reactions.get(stored.entry.serverMsgId);
    const r = table && table.get(reaction);
    if (!r || !r.users.includes(me)) throw badRequest('the user operation is illegal!');
    r.users.splice(r.users.indexOf(me), 1);
    r.updatedAt = new Date().toISOString();
    if (r.users.length === 0) table.delete(reaction);
    announceReaction(stored, me, reaction, 'delete');
    return { body: { requestStatusCode: 'ok', timestamp: Date.now(), data: true } };
  });

  route('GET', /^reaction\/user\/([^/]+)$/, (req, [user]) => {
    const me = own(req, user);
    const ids = String(req.query.get('msgIdList') || '').split(',').map((id) => id.trim()).filter(Boolean);
    const msgType = req.query.get('msgType');
    const groupId = req.query.get('groupId');
    if (msgType === 'groupchat' && (!groupId || groupId === 'null')) throw badRequest('groupId can not be null!');
    if (msgType === 'groupchat' && !(server.groups.get(groupId) || new Set()).has(me)) throw badRequest('The user not in this group!');
    const data = [];
    for (const id of ids.slice(0, 20)) {
      const reactionList = server.reactionList(id, me);
      if (reactionList.length > 0) data.push({ msgId: id, reactionList });
    }
    return { body: { requestStatusCode: 'ok', timestamp: Date.now(), data } };
  });

  route('GET', /^reaction\/user\/([^/]+)\/detail$/, (req, [user]) => {
    const me = own(req, user);
    const { stored } = reactable(me, req.query.get('msgId'));
    const reaction = String(req.query.get('message') || '');
    const r = (server.reactions.get(stored.entry.serverMsgId) || new Map()).get(reaction);
    const users = r ? r.users : [];
    const size = Math.max(1, Math.min(100, Number(req.query.get('pageSize') || req.query.get('limit')) || 20));
    const from = pageCursor(req.query.get('currentPage') || req.query.get('cursor'));
    const data = { reactionId: r ? r.id : '', reaction, count: users.length, state: users.includes(me), userList: users.slice(from, from + size) };
    if (from + size < users.length) data.cursor = String(from + size);
    return { body: { requestStatusCode: 'ok', timestamp: Date.now(), data } };
  });

  /** A message `me` may react to: a stored one-to-one or group message `me` is a party of. */
  function reactable(me, msgId) {
    const stored = server.messages.get(String(msgId || ''));
    if (!stored || stored.entry.recalled || !['CHAT', 'GROUPCHAT'].includes(stored.entry.bodyType)) {
      if (stored && stored.entry.bodyType === 'CHATROOM') throw badRequest('the user operation is illegal!');
      throw notFound(`message ${msgId} not found`);
    }
    const { entry } = stored;
    if (entry.bodyType === 'GROUPCHAT') {
      if (!(server.groups.get(entry.to) || new Set()).has(me)) throw badRequest('The user not in this group!');
      return { stored, kind: 'groupchat' };
    }
    if (entry.from !== me && entry.to !== me) throw badRequest('the user operation is illegal!');
    return { stored, kind: 'chat' };
  }

  /**
   * onReactionChange for everyone who sees the message (both sides and all their devices, the acting one
   * included: a REST call has no device): from = who acted, to = the other side (the group for a group), the
   * message's reactions now, `op` on the one that changed (count 0 once its last user removed it).
   */
  function announceReaction(stored, operator, changed, reactionType) {
    const { entry, queueFor } = stored;
    const group = entry.bodyType === 'GROUPCHAT';
    const users = group ? [...server.groups.get(entry.to)] : [entry.from, entry.to];
    const to = group ? entry.to : (operator === entry.from ? entry.to : entry.from);
    server._notify(users, queueFor, (viewer) => {
      const reactions = server.reactionList(entry.serverMsgId, viewer).map(({ reaction, count, state, userList }) => ({
        reaction, count, userList, isAddedBySelf: state,
      }));
      let item = reactions.find((r) => r.reaction === changed);
      if (!item) reactions.push((item = { reaction: changed, count: 0, userList: [], isAddedBySelf: false }));
      item.op = [{ operator, reactionType }];
      return {
        type: 'reaction',
        data: [{ from: operator, to, channel_type: group ? 'groupchat' : 'chat', messageId: entry.serverMsgId, reactions, ts: Date.now() }],
      };
    });
  }

  // ---- user attributes -----------------------------------------------------------------------------------

  route('POST', /^metadata\/user\/get$/, (req) => {
    authed(req);
    const { targets = [], properties = PROFILE_KEYS } = req.json || {};
    const data = {};
    for (const target of [].concat(targets)) {
      const profile = server.profiles.get(String(target));
      if (!profile) continue;
      data[target] = Object.fromEntries([].concat(properties).filter((k) => profile[k] !== undefined).map((k) => [k, profile[k]]));
    }
    return { body: { timestamp: Date.now(), data, duration: 0 } };
  });

  // (3.x's fetchUserDataById: one user's attributes, or several users' by id.)
  route('GET', /^metadata\/user\/([^/]+)$/, (req, [ids]) => {
    authed(req);
    const users = ids.split(',').filter((id) => server.profiles.has(id));
    const data = users.length === 1 && !ids.includes(',') ? { ...server.profiles.get(users[0]) }
      : Object.fromEntries(users.map((id) => [id, { ...server.profiles.get(id) }]));
    return { body: { timestamp: Date.now(), data, duration: 0 } };
  });

  route('PUT', /^metadata\/user\/([^/]+)$/, (req, [user]) => {
    const me = own(req, user);
    const fields = req.form || req.json || {};
    const set = {};
    for (const [key, value] of Object.entries(fields)) {
      if (!PROFILE_KEYS.includes(key)) continue;
      set[key] = String(value);
    }
    Object.assign(server.profiles.get(me), set);
    return { body: { timestamp: Date.now(), data: set, duration: 0 } };
  });

  // ---- contacts ------------------------------------------------------------------------------------------

  route('GET', /^users\/([^/]+)\/contacts\/users$/, (req, [user]) => {
    const me = own(req, user);
    const names = [...server.contacts.get(me)];
    const extra = req.query.get('needReturnRemark') === 'true' ? { entities: names.map((username) => ({ username, remark: '' })) } : {};
    return { body: envelope(req, 'get', { data: names, count: names.length, ...extra }) };
  });

  route('GET', /^users\/([^/]+)\/contacts$/, (req, [user]) => {
    const me = own(req, user);
    const names = [...server.contacts.get(me)];
    const limit = Math.max(1, Math.min(MAX_PAGE, Number(req.query.get('limit')) || 20));
    const from = pageCursor(req.query.get('cursor'));
    const data = { contacts: names.slice(from, from + limit).map((username) => ({ username, remark: '' })) };
    data.cursor = from + limit < names.length ? String(from + limit) : '';
    return { body: envelope(req, 'get', { data }) };
  });

  // ---- groups --------------------------------------------------------------------------------------------

  route('GET', /^users\/([^/]+)\/joined_chatgroups$/, (req, [user]) => {
    const me = own(req, user);
    const joined = paged(joinedGroups(me), req.query.get('pagenum'), req.query.get('pagesize'));
    // The v3 answer (what 4.x sends for) names groups id/name; the old one groupid/groupname.
    const data = req.query.get('version') === 'v3'
      ? joined.map((id) => ({ id, name: server.groupInfo.get(id).name, disabled: false, permission: role(id, me) }))
      : joined.map((id) => ({ groupid: id, groupname: server.groupInfo.get(id).name }));
    return { body: envelope(req, 'get', { data, count: data.length }) };
  });

  route('GET', /^chatgroups\/user\/([^/]+)$/, (req, [user]) => {
    const me = own(req, user);
    const joined = paged(joinedGroups(me), req.query.get('pagenum'), req.query.get('pagesize'));
    const entities = joined.map((id) => {
      const info = server.groupInfo.get(id);
      return {
        groupId: id, name: info.name, affiliations_count: server.groups.get(id).size, permission: role(id, me), disabled: false,
        membersonly: !info.public, allowinvites: false, description: info.description, maxusers: 200, public: info.public,
      };
    });
    return { body: envelope(req, 'get', { entities, count: entities.length }) };
  });

  route('GET', /^chatgroups\/([^/]+)\/users$/, (req, [groupId]) => {
    const me = authed(req);
    const members = groupMembers(groupId, me);
    const info = server.groupInfo.get(groupId);
    if (req.query.get('pagenum') !== null || req.query.get('pagesize') !== null) {
      // listGroupMembers (version=v3 since 4.21): pages of {owner} / {member} (admins are members here).
      const data = paged(members, req.query.get('pagenum'), req.query.get('pagesize'))
        .map((u) => (u === info.owner ? { owner: u } : { member: u }));
      return { body: envelope(req, 'get', { data, count: data.length }) };
    }
    // getGroupMembers: a cursor, roles (owner, admin, member) and joined_time.
    const limit = Math.max(1, Math.min(MAX_PAGE, Number(req.query.get('limit')) || 50));
    const from = pageCursor(req.query.get('cursor'));
    const data = members.slice(from, from + limit).map((u) => ({ [role(groupId, u)]: u, joined_time: info.joined.get(u) || info.created }));
    const cursor = from + limit < members.length ? String(from + limit) : undefined;
    return { body: envelope(req, 'get', { data, count: data.length, ...(cursor ? { cursor } : {}) }) };
  });

  route('GET', /^chatgroups\/([^/]+)$/, (req, [ids]) => {
    const me = authed(req);
    const data = ids.split(',').map((id) => {
      const members = groupMembers(id, me);
      const info = server.groupInfo.get(id);
      return {
        id, name: info.name, description: info.description, avatar: info.avatar, custom: info.custom, owner: info.owner,
        created: info.created, membersonly: !info.public, allowinvites: false, maxusers: 200, public: info.public, mute: false,
        disabled: false, shieldgroup: false, affiliations_count: members.length,
        affiliations: members.map((u) => ({ [u === info.owner ? 'owner' : 'member']: u, joined_time: info.joined.get(u) || info.created })),
      };
    });
    return { body: envelope(req, 'get', { data, count: data.length }) };
  });

  route('PUT', /^chatgroups\/([^/]+)$/, (req, [groupId]) => {
    const me = authed(req);
    groupMembers(groupId, me);
    if (!server._isModerator(groupId, me)) throw forbidden(`user ${me} is neither the owner nor an admin of group ${groupId}`);
    const info = server.groupInfo.get(groupId);
    const changes = req.json || {};
    const data = {};
    for (const [field, key] of [['groupname', 'name'], ['description', 'description'], ['avatar', 'avatar'], ['custom', 'custom']]) {
      if (changes[field] === undefined || changes[field] === null) continue;
      info[key] = String(changes[field]);
      data[field] = true;
    }
    return { body: envelope(req, 'put', { data }) };
  });

  function joinedGroups(me) {
    return [...server.groups.keys()].filter((id) => server.groups.get(id).has(me));
  }

  /** The members of group `id` (owner first), for `me`, who must be one of them. */
  function groupMembers(id, me) {
    const members = server.groups.get(id);
    if (!members) throw notFound(`group ${id} does not exist`);
    if (!members.has(me)) throw forbidden(`user: ${me} are not members of this group`);
    const { owner } = server.groupInfo.get(id);
    return [...members].sort((a, b) => (a === owner ? -1 : b === owner ? 1 : 0));
  }

  function role(id, user) {
    const info = server.groupInfo.get(id);
    if (info.owner === user) return 'owner';
    return info.admins.has(user) ? 'admin' : 'member';
  }

  // ---- chat rooms (3.x and 4.0.x join and leave over REST; later releases over MSync) --------------------------

  route('POST', /^chatrooms\/([^/]+)\/apply$/, (req, [roomId]) => {
    const me = authed(req);
    const room = server.chatRooms.get(roomId);
    if (!room) throw notFound(`grpID ${roomId} does not exist!`);
    room.add(me);
    return { body: envelope(req, 'post', { data: { id: roomId, result: true } }) };
  });

  route('DELETE', /^chatrooms\/([^/]+)\/quit$/, (req, [roomId]) => {
    const me = authed(req);
    const room = server.chatRooms.get(roomId);
    if (!room) throw notFound(`grpID ${roomId} does not exist!`);
    room.delete(me);
    return { body: envelope(req, 'delete', { data: { result: true } }) };
  });

  // ---- chat files ----------------------------------------------------------------------------------------

  route('POST', /^chatfiles$/, (req) => {
    const me = authed(req);
    if (server.uploadFaults.length > 0) {
      const { statusCode, description } = server.uploadFaults.shift();
      throw new RestError(statusCode, 'upload_failed', description);
    }
    const parts = parseMultipart(req.body, req.headers['content-type']);
    const file = parts && parts.find((p) => p.name === 'file');
    if (!file) throw badRequest('the upload has no multipart field named file');
    if (file.data.length === 0) throw badRequest('the file is empty');
    const record = server.files.put(file.data, { filename: file.filename, contentType: file.contentType, uploader: me });
    return {
      body: envelope(req, 'post', {
        path: '/chatfiles',
        uri: `${req.origin}/${org}/${app}/chatfiles`,
        entities: [{ uuid: record.uuid, type: 'chatfile', 'share-secret': record.secret }],
      }),
    };
  });

  route('GET', /^chatfiles\/([^/]+)$/, (req, [uuid]) => {
    const record = server.files.get(uuid);
    if (!record) throw new RestError(404, 'file_expired', `file ${uuid} not found`);
    if (server.restrictFiles) {
      const secret = req.query.get('share-secret') || req.headers['share-secret'];
      if (secret !== record.secret && !userOf(req)) throw new RestError(403, 'forbidden', 'chatfile no permission');
    }
    // A video's thumbnail is its first frame, which the loopback cannot make: it answers with a placeholder.
    if (req.query.get('vframe') === 'true') return { raw: PLACEHOLDER_FRAME, contentType: 'image/png' };
    // An image's thumbnail is the image itself (the real server scales it down).
    return { raw: server.files.read(record), contentType: record.contentType, filename: record.filename };
  });

  // ---- plumbing ------------------------------------------------------------------------------------------

  function userOf(req) {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization || '');
    return match ? server.tokens.get(match[1].trim()) || null : null;
  }

  function authed(req) {
    const user = userOf(req);
    if (!user) throw unauthorized();
    return user;
  }

  /** The caller, who must be `user` (a path naming another user is refused). */
  function own(req, user) {
    const me = authed(req);
    if (decodeURIComponent(user) !== me) throw forbidden(`user ${me} cannot act as ${decodeURIComponent(user)}`);
    return me;
  }

  function envelope(req, action, fields) {
    return {
      action,
      application: APPLICATION,
      path: `/${req.path}`,
      uri: `${req.origin}/${org}/${app}/${req.path}`,
      entities: [],
      timestamp: Date.now(),
      duration: 0,
      organization: org,
      applicationName: app,
      ...fields,
    };
  }

  return async function handle(request) {
    const target = new URL(request.url, request.origin || 'http://127.0.0.1');
    const headers = Object.fromEntries(Object.entries(request.headers || {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS' };
    if (request.method === 'OPTIONS') return { statusCode: 204, headers: cors, body: Buffer.alloc(0) };
    const prefix = `/${org}/${app}/`;
    const reply = (statusCode, body) => ({ statusCode, headers: { 'content-type': 'application/json;charset=UTF-8', ...cors }, body: Buffer.from(JSON.stringify(body)) });
    try {
      if (!target.pathname.startsWith(prefix)) throw notFound(`no application at ${target.pathname}`);
      const path = decodeURI(target.pathname.slice(prefix.length)).replace(/\/+$/, '');
      const found = routes.filter((r) => r.pattern.test(path));
      const match = found.find((r) => r.method === request.method);
      if (!match) throw found.length > 0 ? new RestError(405, 'method_not_allowed', `${request.method} ${path}`) : notFound(`the loopback server does not serve ${request.method} ${path}`);
      const body = request.body || Buffer.alloc(0);
      const req = {
        method: request.method, path, headers, body, origin: target.origin === 'null' ? request.origin : target.origin,
        query: firstValues(target.searchParams), json: null, form: null,
      };
      const contentType = headers['content-type'] || '';
      const text = /multipart/i.test(contentType) ? '' : body.toString('utf8');
      if (/x-www-form-urlencoded/i.test(contentType)) req.form = Object.fromEntries(new URLSearchParams(text));
      else if (text.trim()) { try { req.json = JSON.parse(text); } catch { if (/json/i.test(contentType)) throw badRequest('Request body not readable.Please check content type is correct!'); } }
      const result = match.handler(req, match.pattern.exec(path).slice(1));
      if (result.raw) {
        const fileHeaders = { 'content-type': result.contentType, 'content-length': String(result.raw.length), ...cors };
        if (result.filename) fileHeaders['content-disposition'] = `inline; filename*=UTF-8''${encodeURIComponent(result.filename)}`;
        return { statusCode: 200, headers: fileHeaders, body: result.raw };
      }
      return reply(200, result.body);
    } catch (err) {
      if (err instanceof RestError) return reply(err.statusCode, err.body);
      return reply(500, { error: 'internal_error', error_description: String(err && err.message) });
    }
  };
}

// Roaming's msgType filter names message kinds as the SDK does.
const MSG_TYPE = { TEXT: 'txt', IMAGE: 'img', VIDEO: 'video', LOCATION: 'loc', VOICE: 'audio', FILE: 'file', COMMAND: 'cmd', CUSTOM: 'custom', COMBINE: 'combine' };

/** A roaming cursor: a server message id, or null for "from the newest" (-1, empty, null, undefined). */
function cursorValue(value) {
  const text = value === undefined || value === null ? '' : String(value);
  if (!/^\d+$/.test(text)) return null;
  return BigInt(text);
}

/** An offset cursor of the loopback's own paged lists ('' / 'undefined' / 'null' start at 0). */
function pageCursor(value) {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** Page `pagenum` (1-based; 0 counts as 1) of `pagesize` items; all of them without a page size. */
function paged(items, pagenum, pagesize) {
  const size = Number(pagesize);
  if (!Number.isInteger(size) || size <= 0) return items;
  const page = Math.max(1, Number(pagenum) || 1);
  return items.slice((page - 1) * size, page * size);
}

/** A query's parameters, first value of each (wx.request repeats a GET's data after the SDK's own query). */
function firstValues(params) {
  const out = new Map();
  for (const [key, value] of params) if (!out.has(key)) out.set(key, value);
  return { get: (key) => (out.has(key) ? out.get(key) : null) };
}

function pairOf(a, b) {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

module.exports = { createRestApi };
