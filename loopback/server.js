'use strict';
// A loopback Easemob IM server for mpchat's tests and demo. It speaks the SDK's own wire protocol (binary
// protobuf MSync frames, schema read from the installed easemob-websdk) to real SDK clients, so mpchat can be
// proven against the SDK mini-programs actually ship, without any account or network. Clients reach it
// through an in-memory `wx.connectSocket` (same process) or a WebSocket listener bound to 127.0.0.1 only,
// which also speaks SockJS under /ws for the web builds that open their socket that way (3.x up to 4.7.0).
//
// What it models: token login (any non-empty token), unread sync, send acknowledgement with a server message
// id, relay of one-to-one, group and chat-room messages (online-only ones, such as typing notices, reach only
// connected devices), chat-room join/leave, acks (read, delivery, channel), recalls and edits between clients,
// plus test controls: offline backlogs, server-side history, re-delivery, server-side recall, read and delivery
// acks, and muting. Every chat message it sees is recorded in `server.log` with its wire body type.
// Over HTTP (./rest.js, the same handler for the 127.0.0.1 listener and for the fake wx's in-memory wx.request,
// wx.uploadFile and wx.downloadFile): history roaming, reactions (with their notices over the socket), user
// attributes, contacts, groups and their members, and chat files kept in a temporary folder (./chatfiles.js).
// A bad network is made here too: a socket dropped in the middle of a send, a user held off the network,
// the server going down and coming back, an acknowledgement that never comes.

const http = require('http');
const { loadSchema } = require('./schema');
const { ChatFiles } = require('./chatfiles');
const { createRestApi } = require('./rest');

const DEFAULT_CONFIG = {
  appKey: 'mpchat#loopback',
  users: ['alice', 'bob', 'carol'],
  groups: { g1: ['alice', 'bob', 'carol'] },
  chatRooms: { r1: ['alice', 'bob', 'carol'] },
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);
const USER_DOMAIN = 'easemob.com';
const MUC_DOMAIN = 'conference.easemob.com';

// MSync commands, Meta namespaces, MessageBody types and status codes, as numbered in the SDK's schema.
const COMMAND = { SYNC: 0, UNREAD: 1, NOTICE: 2, PROVISION: 3, LOGOUT: 4 };
const NS = { STATISTIC: 0, CHAT: 1, MUC: 2, NOTIFY: 5 };
const BODY = { CHAT: 1, GROUPCHAT: 2, CHATROOM: 3, READ_ACK: 4, DELIVER_ACK: 5, RECALL: 6, CHANNEL_ACK: 7, EDIT: 8 };
const EDIT_SCOPE = { BODY: 1, BODY_AND_EXT: 2 };
const ROUTE = { ALL: 0, ONLINE: 1, DIRECT: 2 };
// How an edit notice names a conversation kind (the SDK maps these back to singleChat/groupChat/chatRoom).
const EDIT_CHAT_TYPE = { CHAT: 'chat:user', GROUPCHAT: 'chat:group', CHATROOM: 'chat:room' };
const CHAT_BODIES = ['CHAT', 'GROUPCHAT', 'CHATROOM'];
const BODY_NAME = Object.fromEntries(Object.entries(BODY).map(([k, v]) => [v, k]));
const CONTENT = { txt: 0, img: 1, video: 2, loc: 3, audio: 4, file: 5, cmd: 6, custom: 7 };
const CONTENT_NAME = ['TEXT', 'IMAGE', 'VIDEO', 'LOCATION', 'VOICE', 'FILE', 'COMMAND', 'CUSTOM', 'COMBINE'];
const STATUS = { OK: 0, FAIL: 1, UNAUTHORIZED: 2, USER_MUTED: 15 };
const MUC_OP = { JOIN: 2, LEAVE: 3 };
const KV = { BOOL: 1, INT: 2, UINT: 3, LLINT: 4, FLOAT: 5, DOUBLE: 6, STRING: 7, JSON_STRING: 8 };

function isLoopbackHost(host) {
  return LOOPBACK_HOSTS.has(String(host).toLowerCase());
}

/** Encode a plain ext object the way the SDK does (one KeyValue per key, JSON for objects). */
function encodeExt(ext) {
  const out = [];
  for (const [key, value] of Object.entries(ext || {})) {
    if (value === undefined) continue;
    if (typeof value === 'object') out.push({ key, type: KV.JSON_STRING, stringValue: JSON.stringify(value) });
    else if (typeof value === 'string') out.push({ key, type: KV.STRING, stringValue: value });
    else if (typeof value === 'boolean') out.push({ key, type: KV.BOOL, varintValue: value ? 1 : 0 });
    else if (Number.isInteger(value)) out.push({ key, type: KV.INT, varintValue: value });
    else if (typeof value === 'number' && !Number.isNaN(value)) out.push({ key, type: KV.DOUBLE, doubleValue: value });
    else out.push({ key, type: KV.STRING, stringValue: String(value) });
  }
  return out;
}

/** Decode KeyValues (as protobufjs objects with longs as strings) back into a plain ext object. */
function decodeExt(pairs) {
  const out = {};
  for (const kv of pairs || []) {
    switch (kv.type) {
      case KV.JSON_STRING:
        try { out[kv.key] = JSON.parse(kv.stringValue); } catch { out[kv.key] = kv.stringValue; }
        break;
      case KV.STRING: out[kv.key] = kv.stringValue; break;
      case KV.DOUBLE: out[kv.key] = kv.doubleValue; break;
      case KV.FLOAT: out[kv.key] = kv.floatValue; break;
      case KV.BOOL: out[kv.key] = Number(kv.varintValue) !== 0; break;
      default: out[kv.key] = Number(kv.varintValue);
    }
  }
  return out;
}

/** Content of a message body built from a test's message spec ({type, msg, action, customEvent, ...}). */
function contentFromSpec(spec) {
  const type = spec.type || 'txt';
  if (!(type in CONTENT)) throw new Error(`loopback: message type '${type}' is not one the loopback server can build (use ${Object.keys(CONTENT).join(', ')})`);
  const c = { type: CONTENT[type] };
  if (type === 'txt') c.text = String(spec.msg ?? '');
  if (type === 'cmd') c.action = String(spec.action ?? '');
  if (type === 'custom') {
    c.customEvent = String(spec.customEvent ?? '');
    c.customExts = encodeExt(spec.customExts);
  }
  if (type === 'loc') {
    c.latitude = Number(spec.lat ?? 0);
    c.longitude = Number(spec.lng ?? 0);
    c.address = String(spec.addr ?? '');
    c.buildingName = String(spec.buildingName ?? '');
  }
  if (['img', 'audio', 'video', 'file'].includes(type)) {
    c.remotePath = String(spec.url ?? '');
    c.displayName = String(spec.filename ?? '');
    c.fileLength = Number(spec.file_length ?? 0);
    if (spec.length !== undefined) c.duration = Number(spec.length);
    if (type === 'img') c.size = { width: Number(spec.width ?? 0), height: Number(spec.height ?? 0) };
  }
  return c;
}

/** An in-memory stand-in for WeChat's SocketTask, connected to the server inside this process. */
class MemorySocketTask {
  constructor(server, options) {
    this._server = server;
    this._handlers = { open: [], message: [], close: [], error: [] };
    this.readyState = 0;
    this._session = null;
    let host = '';
    try { host = new URL(options.url).hostname; } catch { host = ''; }
    // Open on a later turn, as a real socket would; the SDK registers its handlers after connectSocket returns.
    this._later(() => {
      if (!isLoopbackHost(host)) {
        this._fail(`connectSocket:fail the loopback server only accepts 127.0.0.1 urls, got ${options.url}`, options);
        return;
      }
      if (server._closed || server._down) {
        this._fail('connectSocket:fail the loopback server is not running', options);
        return;
      }
      this.readyState = 1;
      this._session = server._attach({
        send: (bytes) => this._deliver(bytes),
        close: () => this._closeFromServer(),
      });
      if (options.success) options.success({ errMsg: 'connectSocket:ok' });
      this._emit('open', { header: {} });
    });
  }

  onOpen(cb) { this._handlers.open.push(cb); }
  onMessage(cb) { this._handlers.message.push(cb); }
  onClose(cb) { this._handlers.close.push(cb); }
  onError(cb) { this._handlers.error.push(cb); }

  send({ data, success, fail, complete } = {}) {
    if (this.readyState !== 1) {
      const res = { errMsg: 'SocketTask.send:fail SocketTask.readyState is not OPEN' };
      if (fail) fail(res);
      if (complete) complete(res);
      return;
    }
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data.slice(0)) : Uint8Array.from(data);
    const session = this._session;
    this._later(() => session && session.receive(bytes));
    const res = { errMsg: 'sendSocketMessage:ok' };
    if (success) success(res);
    if (complete) complete(res);
  }

  close({ code = 1000, reason = '', success, complete } = {}) {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    const session = this._session;
    this._later(() => {
      if (session) session.closed();
      this.readyState = 3;
      this._emit('close', { code, reason });
    });
    if (success) success({ errMsg: 'closeSocket:ok' });
    if (complete) complete({ errMsg: 'closeSocket:ok' });
  }

  _deliver(bytes) {
    // wx hands binary frames to onMessage as an ArrayBuffer.
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    this._later(() => { if (this.readyState === 1) this._emit('message', { data: buffer }); });
  }

  _closeFromServer() {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this._later(() => this._emit('close', { code: 1001, reason: 'loopback server closed' }));
  }

  _fail(errMsg, options) {
    this.readyState = 3;
    if (options.fail) options.fail({ errMsg });
    this._emit('error', { errMsg });
    this._emit('close', { code: 1006, reason: errMsg });
  }

  _emit(kind, event) { for (const cb of this._handlers[kind]) cb(event); }

  _later(fn) { this._server._later(fn); }
}

/** One logged-in (or logging-in) client connection, whatever the transport. */
class Session {
  constructor(server, transport, id) {
    this.server = server;
    this.transport = transport;
    this.id = id;
    this.user = null;
    this.resource = '';
    this.pending = new Map(); // queue key -> { queue: JID, metas: [] }
    this.open = true;
  }

  receive(bytes) {
    if (!this.open) return;
    this.server._receive(this, bytes);
  }

  closed() {
    if (!this.open) return;
    this.open = false;
    this.server._detach(this);
  }

  /** The network fails under this connection: no close handshake, the client just sees its socket close. */
  drop() {
    this.closed();
    this.transport.close();
  }

  sendFrame(command, payloadType, payload) {
    if (!this.open) return;
    const { MSync } = this.server.schema;
    const frame = { version: 0, command, encryptType: [0] };
    if (payloadType) frame.payload = payloadType.encode(payloadType.fromObject(payload)).finish();
    this.transport.send(MSync.encode(MSync.fromObject(frame)).finish());
  }
}

class LoopbackServer {
  constructor(config = {}) {
    this.schema = loadSchema();
    this.appKey = config.appKey || DEFAULT_CONFIG.appKey;
    this.users = new Set(config.users || DEFAULT_CONFIG.users);
    // A group or chat room is configured as its member list, or as {members, name?, description?, avatar?,
    // owner? (default: the first member), admins?, custom?, public?}.
    this.groups = new Map();
    this.chatRooms = new Map();
    this.groupInfo = new Map(); // group or chat room id -> {name, description, avatar, owner, admins, custom, public, created, joined}
    const created = Date.now();
    for (const [kind, table, source] of [['group', this.groups, config.groups || DEFAULT_CONFIG.groups],
      ['chat room', this.chatRooms, config.chatRooms || DEFAULT_CONFIG.chatRooms]]) {
      for (const [id, value] of Object.entries(source)) {
        const spec = Array.isArray(value) ? { members: value } : { ...value, members: value.members || [] };
        for (const m of spec.members) if (!this.users.has(m)) throw new Error(`loopback: ${kind} '${id}' lists '${m}', who is not among the users`);
        table.set(id, new Set(spec.members));
        const owner = spec.owner || spec.members[0] || '';
        this.groupInfo.set(id, {
          name: spec.name ?? id,
          description: spec.description ?? '',
          avatar: spec.avatar ?? '',
          owner,
          admins: new Set(spec.admins || []),
          custom: spec.custom ?? '',
          public: Boolean(spec.public),
          created,
          joined: new Map(spec.members.map((m) => [m, created])),
        });
      }
    }
    // User attributes (fetchUserInfoById): user -> {nickname?, avatarurl?, mail?, phone?, gender?, sign?, birth?, ext?}.
    this.profiles = new Map([...this.users].map((u) => [u, { ...((config.profiles || {})[u] || {}) }]));
    // Contacts (roster): user -> Set of users; by default everyone has everyone else.
    this.contacts = new Map([...this.users].map((u) => [u, new Set(config.contacts
      ? (config.contacts[u] || []) : [...this.users].filter((v) => v !== u))]));
    for (const [u, list] of this.contacts) {
      for (const v of list) if (!this.users.has(v)) throw new Error(`loopback: contacts of '${u}' list '${v}', who is not among the users`);
    }
    // How many times a message may be edited (Easemob's documented default is 10).
    this.editLimit = config.editLimit ?? 10;
    // Chat file downloads need the file's share secret or a user token when set (Easemob's optional
    // access restriction); by default a file's URL is enough.
    this.restrictFiles = Boolean(config.restrictFiles);
    this.tokens = new Map(); // access token -> user, from logins
    this.history = new Map(); // conversation key -> server ids of its chat messages, oldest first (roaming)
    this.reactions = new Map(); // server id -> Map(reaction -> {id, users: [user, ...], createdAt, updatedAt})
    this.files = new ChatFiles();
    this.uploadFaults = []; // what the next uploads answer instead of storing the file (failNextUpload)
    this.rest = createRestApi(this);
    /** Every chat message seen, in order: {serverMsgId, localMsgId, bodyType, contentType, from, to, text, ext, status, reason?}. */
    this.log = [];
    this.sessions = new Set();
    this.messages = new Map(); // serverMsgId -> stored delivery ({meta, queueFor, recipients})
    this.offline = new Map(); // user -> [{queue, meta}]
    this.muted = new Map(); // conversation id -> Set(user)
    // A message sent again (same sender, local id and body) is acked with its first server id, not relayed
    // twice. The body counts: releases draw local ids from more than one counter, so two messages can share one.
    this.accepted = new Map(); // `${sender}/${local id}/${body as base64}` -> server id
    this.held = new Map(); // user -> logins parked until the hold is released
    this.faults = new Map(); // user -> what happens to their next chat message
    this._nextSessionId = 1;
    this._idCounter = BigInt(Date.now()) << 22n;
    this._closed = false;
    this._down = false;
    this._immediates = new Set();
    this.httpServer = null;
    this.wsServer = null;
    this.host = null;
    this.port = null;
    this.url = null;
    this.sockJsUrl = null;
    // Same signature as wx.connectSocket: a fake wx hands this straight to the SDK.
    this.wxConnectSocket = (options) => new MemorySocketTask(this, options || {});
    // HTTP without a socket, for a fake wx (its `http`): the same handler the listener uses, reachable at
    // loopback addresses only (and, once the server listens, at its port only).
    this.wxHttp = (request) => this._memoryHttp(request);
  }

  // ---- transport plumbing -------------------------------------------------------------------------------

  _later(fn) {
    const handle = setImmediate(() => { this._immediates.delete(handle); fn(); });
    this._immediates.add(handle);
  }

  _attach(transport) {
    const session = new Session(this, transport, this._nextSessionId++);
    this.sessions.add(session);
    return session;
  }

  _detach(session) {
    this.sessions.delete(session);
    // What this connection was told of but never fetched waits for the user's next login, unless another
    // connection of theirs is up (it had its own copy).
    if (!session.user || this._online(session.user)) return;
    for (const { queue, metas } of session.pending.values()) {
      // (What was for online devices only is gone with the connection.)
      for (const meta of metas) if (meta.routetype !== ROUTE.ONLINE) this._keepOffline(session.user, queue, meta);
    }
    session.pending.clear();
  }

  _online(user) {
    return [...this.sessions].some((s) => s.user === user);
  }

  _keepOffline(user, queue, meta) {
    if (!this.offline.has(user)) this.offline.set(user, []);
    this.offline.get(user).push({ queue, meta });
  }

  async _listen({ port = 0, host = '127.0.0.1' } = {}) {
    if (!isLoopbackHost(host)) throw new Error(`loopback: refusing to listen on '${host}'; only 127.0.0.1, ::1 or localhost are allowed`);
    const { WebSocketServer } = require('ws');
    const httpServer = http.createServer((request, response) => this._http(request, response));
    await new Promise((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, host, resolve);
    });
    const wss = new WebSocketServer({ server: httpServer });
    wss.on('connection', (socket, request) => {
      // (A socket already gone by the upgrade has no address left.)
      const address = request.socket.remoteAddress;
      if (!address || !isLoopbackHost(address.replace(/^::ffff:/, ''))) { socket.terminate(); return; }
      if (SOCKJS_SOCKET.test(new URL(request.url, 'http://loopback').pathname)) this._sockJsSession(socket);
      else this._binarySession(socket);
    });
    this.httpServer = httpServer;
    this.wsServer = wss;
    this.host = host;
    this.port = httpServer.address().port;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    this.url = `ws://${shownHost}:${this.port}/websocket`;
    this.sockJsUrl = `http://${shownHost}:${this.port}${SOCKJS_PREFIX}`;
  }

  /** A WebSocket carrying one binary MSync frame per message (4.x clients). */
  _binarySession(socket) {
    const session = this._attach({
      send: (bytes) => socket.send(bytes),
      close: () => socket.terminate(),
    });
    socket.on('message', (data) => session.receive(new Uint8Array(data)));
    socket.on('close', () => session.closed());
    socket.on('error', () => session.closed());
  }

  /** SockJS's WebSocket transport: text frames ('o' open, 'a[...]' messages), each MSync frame base64. */
  _sockJsSession(socket) {
    const session = this._attach({
      send: (bytes) => socket.send(`a${JSON.stringify([Buffer.from(bytes).toString('base64')])}`),
      close: () => socket.terminate(),
    });
    socket.on('message', (data) => {
      let frames;
      try { frames = JSON.parse(String(data)); } catch { frames = null; }
      if (!Array.isArray(frames)) { this._protocolError(session, 'a SockJS message that is not a JSON array'); return; }
      for (const frame of frames) session.receive(new Uint8Array(Buffer.from(String(frame), 'base64')));
    });
    socket.on('close', () => session.closed());
    socket.on('error', () => session.closed());
    socket.send('o');
  }

  /** HTTP on the listener: SockJS's /info (asked before a SockJS client opens its socket), then the REST API. */
  _http(request, response) {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('error', () => response.destroy());
    request.on('end', () => {
      this._handleHttp({
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: Buffer.concat(chunks),
        origin: `http://${request.headers.host || `${this.host}:${this.port}`}`,
      }).then(({ statusCode, headers, body }) => {
        response.writeHead(statusCode, headers);
        response.end(body);
      }, () => response.destroy());
    });
  }

  /** One HTTP exchange: {method, url, headers, body: Buffer, origin} -> {statusCode, headers, body: Buffer}. */
  async _handleHttp(request) {
    const { pathname } = new URL(request.url, 'http://loopback');
    if (request.method === 'GET' && pathname === `${SOCKJS_PREFIX}/info`) {
      const body = Buffer.from(JSON.stringify({ websocket: true, origins: ['*:*'], cookie_needed: false, entropy: 1 }));
      return { statusCode: 200, headers: { 'content-type': 'application/json; charset=UTF-8', 'access-control-allow-origin': '*', 'cache-control': 'no-store' }, body };
    }
    return this.rest(request);
  }

  /** The in-memory HTTP a fake wx uses: {method, url (absolute), headers, body} -> {statusCode, headers, body}. */
  async _memoryHttp({ method = 'GET', url, headers = {}, body } = {}) {
    let target;
    try { target = new URL(String(url)); } catch { throw new Error(`invalid url ${url}`); }
    if (!isLoopbackHost(target.hostname)) throw new Error(`the loopback server only answers 127.0.0.1 urls, got ${url}`);
    if (this._closed || this._down) throw new Error('the loopback server is not running');
    if (this.port !== null && target.port && Number(target.port) !== this.port) throw new Error(`nothing listens at ${target.host}`);
    await new Promise((resolve) => this._later(resolve));
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const bytes = body === undefined || body === null ? Buffer.alloc(0) : Buffer.from(typeof body === 'string' ? body : body);
    const response = await this._handleHttp({ method: String(method).toUpperCase(), url: target.pathname + target.search, headers: lower, body: bytes, origin: target.origin });
    return { ...response, body: new Uint8Array(response.body) };
  }

  async _unlisten() {
    const { httpServer, wsServer } = this;
    if (!httpServer) return;
    this.httpServer = null;
    this.wsServer = null;
    for (const client of wsServer.clients) client.terminate();
    await new Promise((resolve) => wsServer.close(() => resolve()));
    httpServer.closeAllConnections();
    await new Promise((resolve) => httpServer.close(() => resolve()));
  }

  /** Close every connection and the listener; leaves no timers behind. */
  async close() {
    this._closed = true;
    for (const session of [...this.sessions]) {
      session.open = false;
      session.transport.close();
    }
    this.sessions.clear();
    await this._unlisten();
    // Let queued deliveries (socket close events) run, then drop anything still pending.
    await new Promise((resolve) => setImmediate(resolve));
    for (const handle of this._immediates) clearImmediate(handle);
    this._immediates.clear();
    this.files.close();
  }

  // ---- frames in -----------------------------------------------------------------------------------------

  _receive(session, bytes) {
    const { MSync } = this.schema;
    let frame;
    try {
      frame = MSync.decode(bytes);
    } catch (err) {
      this._protocolError(session, `undecodable MSync frame (${err.message})`);
      return;
    }
    if (frame.command !== COMMAND.PROVISION && !session.user) {
      this._protocolError(session, `command ${frame.command} before login`);
      return;
    }
    switch (frame.command) {
      case COMMAND.PROVISION: this._provision(session, frame); break;
      case COMMAND.UNREAD: this._unread(session); break;
      case COMMAND.SYNC: this._sync(session, frame.payload); break;
      case COMMAND.LOGOUT: session.drop(); break;
      default: this._protocolError(session, `unknown command ${frame.command}`);
    }
  }

  _protocolError(session, reason) {
    this.log.push({ status: 'protocol-error', reason, sessionUser: session.user });
    session.drop();
  }

  _provision(session, frame) {
    const { Provision } = this.schema;
    const provision = Provision.decode(frame.payload || new Uint8Array());
    const user = frame.guid && frame.guid.name;
    const token = frame.auth || '';
    let status = { errorCode: STATUS.OK };
    if (!user || !this.users.has(user)) status = { errorCode: STATUS.FAIL, reason: 'Sorry, user not found' };
    else if (!token || token === '$t$') status = { errorCode: STATUS.UNAUTHORIZED, reason: 'missing token' };
    if (status.errorCode !== STATUS.OK) {
      session.sendFrame(COMMAND.PROVISION, Provision, { status });
      return;
    }
    if (this.held.has(user)) {
      this.held.get(user).push({ session, frame });
      return;
    }
    // The token a user logs in with is the one their SDK sends to the REST API (4.x and 3.x prefix it here).
    this.tokens.set(token.startsWith('$t$') ? token.slice(3) : token, user);
    const resource = provision.resource || `loopback_${session.id}`;
    // A device logging in again replaces its older connection (an SDK that reconnected twice has one too many);
    // what that one was told of but never fetched comes to this one.
    for (const s of [...this.sessions]) if (s.user === user && s.resource === resource && s !== session) s.drop();
    session.user = user;
    session.resource = resource;
    // Whatever arrived while the user had no connection becomes this connection's unread backlog.
    for (const { queue, meta } of this.offline.get(user) || []) this._enqueue(session, queue, meta, false);
    this.offline.delete(user);
    session.sendFrame(COMMAND.PROVISION, Provision, { status, resource, protocolCompressType: [] });
  }

  _unread(session) {
    const unread = [...session.pending.values()]
      .filter((q) => q.metas.length > 0)
      .map((q) => ({ queue: q.queue, n: q.metas.length }));
    session.sendFrame(COMMAND.UNREAD, this.schema.CommUnreadDL, {
      status: { errorCode: STATUS.OK },
      unread,
      timestamp: String(Date.now()),
    });
  }

  _sync(session, payload) {
    const { CommSyncUL } = this.schema;
    const ul = CommSyncUL.toObject(CommSyncUL.decode(payload || new Uint8Array()), { longs: String, bytes: Uint8Array });
    if (ul.meta) {
      this._upload(session, ul.meta);
      return;
    }
    if (ul.queue) this._flushQueue(session, ul.queue);
  }

  _flushQueue(session, queue) {
    const key = queueKey(queue);
    const entry = session.pending.get(key);
    const metas = entry ? entry.metas.splice(0) : [];
    session.sendFrame(COMMAND.SYNC, this.schema.CommSyncDL, {
      status: { errorCode: STATUS.OK },
      metaId: '0',
      serverId: '0',
      metas,
      queue: entry ? entry.queue : queue,
      isLast: true,
      nextKey: '0',
      timestamp: String(Date.now()),
    });
  }

  _ack(session, metaId, serverId, status = { errorCode: STATUS.OK }) {
    session.sendFrame(COMMAND.SYNC, this.schema.CommSyncDL, {
      status,
      metaId,
      serverId,
      metas: [],
      timestamp: String(Date.now()),
    });
  }

  _upload(session, meta) {
    if (meta.ns === NS.CHAT) this._uploadChat(session, meta);
    else if (meta.ns === NS.MUC) this._uploadMuc(session, meta);
    // Statistics metas (ns 0) are client reports; the real server does not answer them either.
  }

  _uploadMuc(session, meta) {
    const { MUCBody } = this.schema;
    const body = MUCBody.decode(meta.payload || new Uint8Array());
    const roomId = body.mucId && body.mucId.name;
    const room = this.chatRooms.get(roomId);
    if (!body.isChatroom || !room) {
      this._ack(session, meta.id, '0', { errorCode: STATUS.FAIL, reason: `grpID ${roomId} does not exist!` });
      return;
    }
    if (body.operation === MUC_OP.JOIN) room.add(session.user);
    else if (body.operation === MUC_OP.LEAVE) room.delete(session.user);
    this._ack(session, meta.id, '0');
  }

  _uploadChat(session, meta) {
    const { MessageBody } = this.schema;
    const body = MessageBody.toObject(MessageBody.decode(meta.payload || new Uint8Array()), { longs: String, enums: Number, defaults: false });
    const sender = session.user;
    const accepted = `${sender}/${meta.id}/${Buffer.from(meta.payload || []).toString('base64')}`;
    if (this.accepted.has(accepted)) {
      this._ack(session, meta.id, this.accepted.get(accepted));
      return;
    }
    const fault = [BODY.CHAT, BODY.GROUPCHAT, BODY.CHATROOM].includes(body.type) ? this._takeFault(sender) : null;
    if (fault === 'drop-before') {
      session.drop();
      return;
    }
    const serverId = this._newId();
    const to = (body.to && body.to.name) || (meta.to && meta.to.name) || '';
    const content = (body.contents || [])[0] || {};
    const entry = {
      serverMsgId: serverId,
      localMsgId: meta.id,
      bodyType: BODY_NAME[body.type] || `UNKNOWN_${body.type}`,
      contentType: CONTENT_NAME[content.type || 0],
      from: sender,
      to,
      text: content.text,
      ext: decodeExt(body.ext),
      ackMessageId: body.ackMessageId,
      status: 'ok',
    };
    const reject = (status) => {
      entry.status = 'rejected';
      entry.reason = status.reason;
      this.log.push(entry);
      this._ack(session, meta.id, serverId, status);
    };

    if (body.type === BODY.EDIT) return this._edit(session, meta, body, serverId, entry, reject);

    let audience; // sessions that receive the message
    let queueFor; // the queue a receiving user sees it under
    if (body.type === BODY.CHAT || body.type === BODY.READ_ACK || body.type === BODY.DELIVER_ACK
        || body.type === BODY.CHANNEL_ACK || body.type === BODY.RECALL) {
      const groupAck = body.type !== BODY.CHAT && (this.groups.has(to) || this.chatRooms.has(to));
      if (groupAck) {
        audience = this._memberSessions(this.groups.get(to) || this.chatRooms.get(to), session);
        queueFor = () => mucJid(this.appKey, to);
      } else {
        if (!this.users.has(to)) return reject({ errorCode: STATUS.FAIL, reason: `username ${to} doesn't exist!` });
        if (body.type === BODY.CHAT && this._isMuted(sender, pairKey(sender, to))) return reject({ errorCode: STATUS.USER_MUTED, reason: 'user is muted' });
        audience = this._userTargets([to, sender], session);
        queueFor = (user) => userJid(this.appKey, user === sender ? to : sender);
      }
    } else if (body.type === BODY.GROUPCHAT || body.type === BODY.CHATROOM) {
      const table = body.type === BODY.GROUPCHAT ? this.groups : this.chatRooms;
      const members = table.get(to);
      if (!members) return reject({ errorCode: STATUS.FAIL, reason: body.type === BODY.GROUPCHAT ? 'group not found' : `grpID ${to} does not exist!` });
      if (!members.has(sender)) return reject({ errorCode: STATUS.FAIL, reason: 'not in group or chatroom' });
      if (this._isMuted(sender, to)) return reject({ errorCode: STATUS.USER_MUTED, reason: 'user is muted' });
      audience = this._userTargets([...members], session);
      queueFor = () => mucJid(this.appKey, to);
    } else {
      return reject({ errorCode: STATUS.FAIL, reason: `message body type ${entry.bodyType} is not supported by the loopback server` });
    }

    const muc = body.type === BODY.GROUPCHAT || body.type === BODY.CHATROOM;
    // A message for a group's chosen members (receiverList) reaches only them, and the sender's other devices.
    if (muc && meta.routetype === ROUTE.DIRECT && (meta.directedUsers || []).length > 0) {
      const directed = new Set(meta.directedUsers);
      audience = audience.filter((t) => directed.has(t.user) || t.user === sender);
    }
    const relayedBody = { ...body, from: { name: sender } };
    const relayed = {
      id: serverId,
      from: { appKey: this.appKey, name: sender, domain: USER_DOMAIN, clientResource: session.resource },
      to: { appKey: this.appKey, name: to, domain: muc ? MUC_DOMAIN : USER_DOMAIN },
      timestamp: String(Date.now()),
      ns: NS.CHAT,
      payload: MessageBody.encode(MessageBody.fromObject(relayedBody)).finish(),
      ext: meta.ext || [],
    };
    // deliverOnlineOnly (typing notices): connected devices only, never kept offline or in history.
    if (meta.routetype === ROUTE.ONLINE) {
      relayed.routetype = ROUTE.ONLINE;
      entry.onlineOnly = true;
    }
    this.log.push(entry);
    this.accepted.set(accepted, serverId);
    this._remember(serverId, relayed, queueFor, entry);
    if (!entry.onlineOnly && CHAT_BODIES.includes(entry.bodyType)) this._keepHistory(serverId, entry);
    if (body.type === BODY.RECALL && this.messages.has(String(body.ackMessageId))) this.messages.get(String(body.ackMessageId)).entry.recalled = true;
    this._route(audience, relayed, queueFor);
    if (fault === 'drop-after') session.drop();
    else if (fault !== 'swallow-ack') this._ack(session, meta.id, serverId);
  }

  /**
   * modifyMessage: an EDIT body naming the message (editMessageId) and carrying its new content (and, with
   * editScope BODY_AND_EXT, its new ext). The sender's ack carries a NOTIFY meta with `edit_msg`; everyone else
   * who sees the message (the other side, the sender's other devices) gets the EDIT body with `meta.edit_msg`.
   */
  _edit(session, meta, body, serverId, entry, reject) {
    const { MessageBody, CommSyncDL } = this.schema;
    const sender = session.user;
    const fail = (reason) => reject({ errorCode: STATUS.FAIL, reason });
    const originalId = String(body.editMessageId || '');
    const stored = this.messages.get(originalId);
    entry.ackMessageId = originalId;
    if (!stored || stored.entry.recalled || !CHAT_BODIES.includes(stored.entry.bodyType)) return fail('Sorry, message does not exist');
    const original = stored.entry;
    if (original.from !== sender && !(original.bodyType !== 'CHAT' && this._isModerator(original.to, sender))) return fail('Sorry, You do not have permission');
    const current = this._currentBody(stored);
    const was = (current.contents || [])[0] || {};
    const now = (body.contents || [])[0] || {};
    if ((was.type || 0) !== (now.type || 0) || (was.type || 0) === CONTENT.cmd) return fail('Sorry, format is incorrect');
    if ((stored.edit ? stored.edit.count : 0) >= this.editLimit) return fail('Sorry, edit limit reached');

    const time = Date.now();
    stored.edit = { count: (stored.edit ? stored.edit.count : 0) + 1, operator: sender, time };
    // Text and custom messages change their content; the others only their ext (Easemob's rules since 4.13).
    const keep = { ...current };
    if ([CONTENT.txt, CONTENT.custom].includes(was.type || 0)) keep.contents = [now];
    if (body.editScope === EDIT_SCOPE.BODY_AND_EXT) keep.ext = body.ext || [];
    stored.current = keep;
    const editMsg = {
      sender: original.from,
      send_time: Number(stored.meta.timestamp),
      chat_type: EDIT_CHAT_TYPE[original.bodyType],
      count: stored.edit.count,
      operator: sender,
      edit_time: time,
    };
    entry.text = now.text;
    this.log.push(entry);

    const relayedBody = { ...body, from: { name: sender }, to: { name: original.to }, meta: JSON.stringify({ edit_msg: editMsg }) };
    const relayed = {
      id: serverId,
      from: { appKey: this.appKey, name: sender, domain: USER_DOMAIN, clientResource: session.resource },
      to: stored.meta.to,
      timestamp: String(time),
      ns: NS.CHAT,
      payload: MessageBody.encode(MessageBody.fromObject(relayedBody)).finish(),
    };
    this._route(this._userTargets(this._parties(original), session), relayed, stored.queueFor);
    session.sendFrame(COMMAND.SYNC, CommSyncDL, {
      status: { errorCode: STATUS.OK },
      metaId: meta.id,
      serverId,
      metas: [{ id: serverId, timestamp: String(time), ns: NS.NOTIFY, payload: notifyPayload({ edit_msg: editMsg }) }],
      timestamp: String(time),
    });
  }

  /** The owner or an admin of a group or chat room. */
  _isModerator(id, user) {
    const info = this.groupInfo.get(id);
    return Boolean(info) && (info.owner === user || info.admins.has(user));
  }

  /** A stored chat message's body as it stands now (edits applied), as a protobufjs plain object. */
  _currentBody(stored) {
    const { MessageBody } = this.schema;
    const body = MessageBody.toObject(MessageBody.decode(stored.meta.payload), { longs: String, enums: Number, defaults: false });
    if (stored.current) Object.assign(body, stored.current);
    return body;
  }

  /**
   * A stored chat message as history roaming hands it to `viewer`: base64 of its Meta, the body as edited, and
   * `meta` JSON with `edit_msg` (when edited) and `reaction` (its reactions, `state` telling whether the viewer
   * added each).
   */
  _roamedMeta(serverId, viewer) {
    const { MessageBody, Meta } = this.schema;
    const stored = this.messages.get(String(serverId));
    const body = this._currentBody(stored);
    const extra = {};
    if (stored.edit) {
      extra.edit_msg = {
        sender: stored.entry.from,
        send_time: Number(stored.meta.timestamp),
        chat_type: EDIT_CHAT_TYPE[stored.entry.bodyType],
        count: stored.edit.count,
        operator: stored.edit.operator,
        edit_time: stored.edit.time,
      };
    }
    const reactions = this.reactionList(serverId, viewer);
    if (reactions.length > 0) extra.reaction = reactions;
    if (Object.keys(extra).length > 0) body.meta = JSON.stringify(extra);
    const roamed = { ...stored.meta, payload: MessageBody.encode(MessageBody.fromObject(body)).finish() };
    return Buffer.from(Meta.encode(Meta.fromObject(roamed)).finish()).toString('base64');
  }

  /**
   * A message's reactions as the REST API and roaming report them to `viewer`: [{reactionId, reaction, count,
   * state, userList}] in the order they were first added, userList holding the first `listed` users.
   */
  reactionList(serverId, viewer, { listed = 3 } = {}) {
    const table = this.reactions.get(String(serverId));
    if (!table) return [];
    return [...table.entries()].map(([reaction, r]) => ({
      reactionId: r.id, reaction, count: r.users.length, state: r.users.includes(viewer), userList: r.users.slice(0, listed),
    }));
  }

  /**
   * Sends each of `users` a NOTIFY meta (namespace 5) whose payload is `payloadFor(user)` as JSON, under the
   * queue `queueFor(user)`: at once to their connections, or at their next login.
   */
  _notify(users, queueFor, payloadFor) {
    for (const target of this._userTargets(users, null)) {
      const meta = {
        id: this._newId(),
        from: { appKey: this.appKey, name: 'admin', domain: USER_DOMAIN },
        to: { appKey: this.appKey, name: target.user, domain: USER_DOMAIN },
        timestamp: String(Date.now()),
        ns: NS.NOTIFY,
        payload: notifyPayload(payloadFor(target.user)),
      };
      this._route([target], meta, queueFor);
    }
  }

  // ---- routing ---------------------------------------------------------------------------------------------

  /** Every user in `users` as delivery targets: their live sessions (except `exclude`), or their offline box. */
  _userTargets(users, exclude) {
    return [...new Set(users)].map((user) => ({ user, sessions: [...this.sessions].filter((s) => s.user === user && s !== exclude) }))
      .filter((t) => t.sessions.length > 0 || !(exclude && exclude.user === t.user));
  }

  _memberSessions(members, exclude) {
    return this._userTargets([...(members || [])], exclude);
  }

  _route(targets, meta, queueFor) {
    for (const { user, sessions } of targets) {
      const queue = queueFor(user);
      if (sessions.length === 0 && meta.routetype !== ROUTE.ONLINE) this._keepOffline(user, queue, meta);
      for (const s of sessions) this._enqueue(s, queue, meta, true);
    }
  }

  _enqueue(session, queue, meta, notify) {
    const key = queueKey(queue);
    let entry = session.pending.get(key);
    if (!entry) {
      entry = { queue, metas: [] };
      session.pending.set(key, entry);
    }
    const wasEmpty = entry.metas.length === 0;
    entry.metas.push(meta);
    if (notify && wasEmpty) session.sendFrame(COMMAND.NOTICE, this.schema.CommNotice, { queue });
  }

  _remember(serverId, meta, queueFor, entry) {
    this.messages.set(serverId, { meta, queueFor, entry });
  }

  /** The history (roaming) key of a chat message's conversation. */
  _historyKey(entry) {
    if (entry.bodyType === 'GROUPCHAT') return `group:${entry.to}`;
    if (entry.bodyType === 'CHATROOM') return `room:${entry.to}`;
    return `chat:${pairKey(entry.from, entry.to)}`;
  }

  _keepHistory(serverId, entry) {
    const key = this._historyKey(entry);
    if (!this.history.has(key)) this.history.set(key, []);
    this.history.get(key).push(String(serverId));
  }

  _isMuted(user, conversation) {
    const set = this.muted.get(conversation);
    return Boolean(set && set.has(user));
  }

  _newId() {
    this._idCounter += 1n;
    return this._idCounter.toString();
  }

  _stored(serverMsgId) {
    const stored = this.messages.get(String(serverMsgId));
    if (!stored) throw new Error(`loopback: no message with server id ${serverMsgId} was relayed by this server`);
    return stored;
  }

  /** Users who should see events about a stored message: its sender and its recipients. */
  _parties(entry) {
    if (this.groups.has(entry.to) && entry.bodyType === 'GROUPCHAT') return [...this.groups.get(entry.to)];
    if (this.chatRooms.has(entry.to) && entry.bodyType === 'CHATROOM') return [...this.chatRooms.get(entry.to)];
    return [entry.from, entry.to];
  }

  /** A server-made message (ack, recall) from `from` to `to` about `ackMessageId`. */
  _controlMeta(type, from, to, ackMessageId, ext) {
    const { MessageBody } = this.schema;
    const muc = this.groups.has(to) || this.chatRooms.has(to);
    const body = { type, from: { name: from }, to: { name: to }, ackMessageId: String(ackMessageId), contents: [] };
    if (ext) body.ext = encodeExt(ext);
    return {
      id: this._newId(),
      from: { appKey: this.appKey, name: from, domain: USER_DOMAIN },
      to: { appKey: this.appKey, name: to, domain: muc ? MUC_DOMAIN : USER_DOMAIN },
      timestamp: String(Date.now()),
      ns: NS.CHAT,
      payload: MessageBody.encode(MessageBody.fromObject(body)).finish(),
    };
  }

  // ---- test and demo controls ---------------------------------------------------------------------------

  /**
   * Queue `messages` for `user` and deliver each conversation's share in one batch: at once if the user is
   * connected, otherwise at their next login (through unread sync). Each message is a spec
   * {from, to?, chatType?: 'singleChat'|'groupChat'|'chatRoom', type?: 'txt'|..., msg?, ext?, ...};
   * `to` defaults to `user` for one-to-one messages. Returns the server message ids, in order.
   */
  pushBacklog(user, messages) {
    if (!this.users.has(user)) throw new Error(`loopback: pushBacklog for unknown user '${user}'`);
    const byQueue = new Map();
    const ids = [];
    const baseTime = Date.now() - messages.length;
    messages.forEach((spec, index) => {
      const { serverId, meta, queueFor } = this._storeSpec({ ...spec, to: spec.to || user }, baseTime + index, { backlog: true });
      const queue = queueFor(user);
      const key = queueKey(queue);
      if (!byQueue.has(key)) byQueue.set(key, { queue, metas: [] });
      byQueue.get(key).metas.push(meta);
      ids.push(serverId);
    });
    const sessions = [...this.sessions].filter((s) => s.user === user);
    for (const { queue, metas } of byQueue.values()) {
      if (sessions.length === 0) {
        for (const meta of metas) this._keepOffline(user, queue, meta);
        continue;
      }
      for (const s of sessions) {
        metas.forEach((meta, i) => this._enqueue(s, queue, meta, i === metas.length - 1));
      }
    }
    return ids;
  }

  /**
   * Store `messages` in the server's history only, as if they were sent and delivered long ago: nobody is sent
   * anything, and getHistoryMessages finds them. Specs as pushBacklog's, with `from` and `to` both required;
   * `time` defaults to one millisecond apart, ending a day ago. Returns the server message ids, in order.
   */
  pushHistory(messages) {
    const baseTime = Date.now() - 86400000 - messages.length;
    return messages.map((spec, index) => {
      if (!spec.to) throw new Error('loopback: every history message needs a `to`');
      return this._storeSpec(spec, baseTime + index, { history: true }).serverId;
    });
  }

  /** Builds, logs and keeps (also in history) a server-made chat message from a spec. */
  _storeSpec(spec, defaultTime, flags) {
    const { MessageBody } = this.schema;
    const chatType = spec.chatType || 'singleChat';
    const muc = chatType === 'groupChat' || chatType === 'chatRoom';
    const { from, to } = spec;
    if (!from) throw new Error('loopback: every stored message needs a `from`');
    if (!muc && (!this.users.has(from) || !this.users.has(to))) throw new Error(`loopback: '${from}' to '${to}' is not between two users`);
    if (muc && !(chatType === 'groupChat' ? this.groups : this.chatRooms).has(to)) throw new Error(`loopback: no ${chatType} '${to}'`);
    const type = chatType === 'groupChat' ? BODY.GROUPCHAT : chatType === 'chatRoom' ? BODY.CHATROOM : BODY.CHAT;
    const body = { type, from: { name: from }, to: { name: to }, contents: [contentFromSpec(spec)], ext: encodeExt(spec.ext) };
    const serverId = this._newId();
    const meta = {
      id: serverId,
      from: { appKey: this.appKey, name: from, domain: USER_DOMAIN },
      to: { appKey: this.appKey, name: to, domain: muc ? MUC_DOMAIN : USER_DOMAIN },
      timestamp: String(spec.time ?? defaultTime),
      ns: NS.CHAT,
      payload: MessageBody.encode(MessageBody.fromObject(body)).finish(),
    };
    const queueFor = muc ? () => mucJid(this.appKey, to) : (user) => userJid(this.appKey, user === from ? to : from);
    const entry = {
      serverMsgId: serverId, bodyType: BODY_NAME[type], contentType: CONTENT_NAME[CONTENT[spec.type || 'txt']],
      from, to, text: spec.msg, ext: spec.ext || {}, status: 'ok', ...flags,
    };
    this.log.push(entry);
    this._remember(serverId, meta, queueFor, entry);
    this._keepHistory(serverId, entry);
    return { serverId, meta, queueFor };
  }

  /** Send an already relayed message to `user`'s connections again, as a reconnect or resync would. */
  redeliver(user, serverMsgId) {
    const stored = this._stored(serverMsgId);
    this._route(this._userTargets([user], null), stored.meta, stored.queueFor);
  }

  /**
   * Recall a relayed message: everyone who could see it (sender's devices and recipients) gets a RECALL.
   * `by` is who recalls it (default: its sender). Returns the recall's own server id.
   */
  recall(serverMsgId, { by } = {}) {
    const { entry, queueFor } = this._stored(serverMsgId);
    const recaller = by || entry.from;
    const meta = this._controlMeta(BODY.RECALL, recaller, entry.to, serverMsgId);
    this.log.push({ serverMsgId: meta.id, bodyType: 'RECALL', from: recaller, to: entry.to, ackMessageId: String(serverMsgId), status: 'ok' });
    entry.recalled = true;
    this._route(this._userTargets(this._parties(entry), null), meta, queueFor);
    return meta.id;
  }

  /** Tell the sender of `serverMsgId` that `by` (default: its one-to-one recipient) read it. */
  sendReadAck(serverMsgId, { by } = {}) {
    return this._sendAck(BODY.READ_ACK, 'READ_ACK', serverMsgId, by);
  }

  /** Tell the sender of `serverMsgId` that it reached `by` (default: its one-to-one recipient). */
  sendDeliveryAck(serverMsgId, { by } = {}) {
    return this._sendAck(BODY.DELIVER_ACK, 'DELIVER_ACK', serverMsgId, by);
  }

  _sendAck(type, name, serverMsgId, by) {
    const { entry } = this._stored(serverMsgId);
    const reader = by || entry.to;
    const meta = this._controlMeta(type, reader, entry.from, serverMsgId);
    this.log.push({ serverMsgId: meta.id, bodyType: name, from: reader, to: entry.from, ackMessageId: String(serverMsgId), status: 'ok' });
    this._route(this._userTargets([entry.from], null), meta, () => userJid(this.appKey, reader));
    return meta.id;
  }

  /**
   * Mute `user` in a conversation: a group or chat room id, or another user's id for one-to-one. Their sends
   * there are rejected with the server's USER_MUTED status (the SDK reports error 507).
   */
  mute(user, conversationId) {
    const key = this._conversationKey(user, conversationId);
    if (!this.muted.has(key)) this.muted.set(key, new Set());
    this.muted.get(key).add(user);
  }

  unmute(user, conversationId) {
    const set = this.muted.get(this._conversationKey(user, conversationId));
    if (set) set.delete(user);
  }

  _conversationKey(user, conversationId) {
    if (this.groups.has(conversationId) || this.chatRooms.has(conversationId)) return conversationId;
    if (this.users.has(conversationId)) return pairKey(user, conversationId);
    throw new Error(`loopback: '${conversationId}' is neither a group, a chat room nor a user`);
  }

  // ---- a bad network ---------------------------------------------------------------------------------------

  /**
   * The next chat message `user` sends drops their socket: before the server takes it (`serverKeeps`
   * false: nobody ever sees it) or right after the server stored and relayed it (`serverKeeps` true: the
   * acknowledgement is lost with the socket). The SDK reconnects by itself.
   */
  dropNextSend(user, { serverKeeps = false } = {}) {
    this._arm(user, serverKeeps ? 'drop-after' : 'drop-before');
  }

  /** The next chat message `user` sends is stored and relayed, but its acknowledgement never goes out. */
  swallowNextAck(user) {
    this._arm(user, 'swallow-ack');
  }

  _arm(user, fault) {
    if (!this.users.has(user)) throw new Error(`loopback: no user '${user}'`);
    this.faults.set(user, fault);
  }

  _takeFault(user) {
    const fault = this.faults.get(user) || null;
    this.faults.delete(user);
    return fault;
  }

  /**
   * Takes `user` off the network: their connections drop, and their SDK's reconnects reach the server but
   * wait unanswered at login until `release()` (the returned function) lets them in. Messages to them
   * meanwhile wait in their offline box and arrive with that login.
   */
  hold(user) {
    if (!this.users.has(user)) throw new Error(`loopback: no user '${user}'`);
    if (!this.held.has(user)) this.held.set(user, []);
    for (const session of [...this.sessions]) if (session.user === user) session.drop();
    return () => {
      const logins = this.held.get(user) || [];
      this.held.delete(user);
      for (const { session, frame } of logins) if (session.open) this._provision(session, frame);
    };
  }

  /**
   * The server goes down: every connection drops, the listener closes, and connection attempts fail until
   * `up()`. What the server stored (offline boxes, messages, members) survives, as it would on a restart.
   */
  async down() {
    this._down = true;
    for (const session of [...this.sessions]) session.drop();
    await this._unlisten();
  }

  /** The server comes back, listening on the port it had. */
  async up() {
    if (!this._down) return;
    this._down = false;
    if (this.port !== null) await this._listen({ port: this.port, host: this.host });
  }

  async restart() {
    await this.down();
    await this.up();
  }

  /**
   * The next chat-file upload (anyone's) is refused with HTTP `statusCode` (default 500) and nothing is stored;
   * the one after it works again. Calls add up: n calls fail the next n uploads.
   */
  failNextUpload({ statusCode = 500, description = 'the loopback server was told to refuse this upload' } = {}) {
    this.uploadFaults.push({ statusCode, description });
  }

  /** Live connections of `user` (each has `resource`). */
  connectionsOf(user) {
    return [...this.sessions].filter((s) => s.user === user).map((s) => ({ resource: s.resource }));
  }
}

/** A NOTIFY payload: JSON as UTF-8 bytes (the SDK percent-decodes it byte by byte). */
function notifyPayload(value) {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function userJid(appKey, name) {
  return { appKey, name, domain: USER_DOMAIN };
}

function mucJid(appKey, name) {
  return { appKey, name, domain: MUC_DOMAIN };
}

/** The mute key of a one-to-one conversation, the same whichever side names it. */
function pairKey(a, b) {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

// SockJS clients are pointed at http://127.0.0.1:<port>/ws; they open ws://…/ws/<server>/<session>/websocket.
const SOCKJS_PREFIX = '/ws';
const SOCKJS_SOCKET = /^\/ws\/[^/]+\/[^/]+\/websocket$/;

function queueKey(queue) {
  return `${queue.name || ''}@${queue.domain || ''}`;
}

/**
 * Start a loopback server. `config`: {appKey?, users?, groups?: {id: members | {members, name?, description?,
 * avatar?, owner?, admins?, custom?, public?}}, chatRooms? (the same), profiles?: {user: attributes},
 * contacts?: {user: [users]} (default: everyone), editLimit? (10), restrictFiles? (false), port?, host?}.
 * A listener on 127.0.0.1 (binary frames at /websocket, SockJS under /ws, the REST API and chat files over
 * HTTP) is started only when `port` is given (0 picks a free port); without it, clients reach the server
 * through `wxConnectSocket` and `wxHttp`.
 * Configured chat-room members count as joined; `conn.joinChatRoom` adds more.
 */
async function startServer(config = {}) {
  const server = new LoopbackServer(config);
  if (config.port !== undefined) await server._listen({ port: config.port, host: config.host });
  return server;
}

module.exports = { startServer, LoopbackServer, DEFAULT_CONFIG, isLoopbackHost };

if (require.main === module) {
  const args = process.argv.slice(2);
  const portAt = args.indexOf('--port');
  const port = portAt >= 0 ? Number(args[portAt + 1]) : 5280;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('usage: node loopback/server.js [--port N]   (listens on 127.0.0.1 only)');
    process.exit(2);
  }
  startServer({ port }).then((server) => {
    console.log(`loopback Easemob server at ${server.url} (appKey ${server.appKey}); users: ${[...server.users].join(', ')}; groups: ${[...server.groups.keys()].join(', ')}; chat rooms: ${[...server.chatRooms.keys()].join(', ')}`);
    const stop = () => server.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }).catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
