// Types of mpchat's CommonJS API (dist/mpchat/index.js).

export type Kind = 'single' | 'group' | 'chatroom'
/** `<kind>:<id>`, e.g. `group:1234`, `single:bob`. */
export type ConversationName = string
export type MessageType = 'txt' | 'img' | 'audio' | 'video' | 'file' | 'loc' | 'cmd' | 'custom'
export type Status = 'sending' | 'sent' | 'failed' | 'delivered' | 'received' | 'read'

export interface Segment {
  type: 'txt' | 'emoji'
  /** The text, or the image file name of an emoji (`ee_1.png`). */
  data: string
  /** The emoji code as typed, for emoji segments. */
  code?: string
}

export interface Sender {
  id: string
  nickname?: string
  avatar?: string
}

export interface Record {
  /** Server message id once known; the SDK's local id while sending. */
  id: string
  conversation: ConversationName
  kind: Kind
  from: string
  to: string
  direction: 'in' | 'out'
  /** Milliseconds since the epoch, server time when known. */
  time: number
  type: MessageType
  text?: string
  /** The text parsed into emoji segments (txt messages). */
  segments?: Segment[]
  /** Other types' fields: url, filename, file_length, width, height, length, addr, lat, lng, action, customEvent, customExts… */
  body?: { [field: string]: unknown }
  sender: Sender
  mentions?: string[] | 'all'
  /** True when the message mentions the logged-in user or everyone. */
  mentionsMe?: boolean
  status: Status
  /** True once the sender recalled it; text and body are gone. */
  recalled?: boolean
  /** Set on the record a subscribe listener gets when remove(), clear() or removeConversation() took it (or,
   * for the last two, its whole conversation) off this phone. */
  removed?: boolean
  /** Why it is 'failed', on the record send() or resend() settles with: the SDK's error (`code` its number,
   * e.g. 507 for a muted sender), `code: 'timeout'` when no acknowledgement came within sendTimeoutMs, or
   * `code: 'upload'` (with the HTTP `status` when the server answered) when a picked file did not go up. */
  error?: { code?: number | string; status?: number; message: string }
  /** On the record a subscribe listener gets while its picked file uploads (send with `file`): 0..100, at
   * most once per 5%. Never stored. */
  progress?: number
  /** The sender's ext less the keys mpchat read (profile, mentions, msgQuote). Untrusted display data. */
  ext: { [key: string]: unknown }
  /** The message this one replies to, from ext.msgQuote (Easemob's UIKit convention), sanitised. */
  quote?: Quote
  /** Set once the text was edited (chat.edit, or onModifiedMessage from the sender or my other devices):
   * how many edits, when the last one was made (ms), and by whom. */
  edited?: Edited
  /** The reactions on the message, each with its count and whether I am among its users; absent when none
   * (at most 20). */
  reactions?: Reaction[]
}

export interface Edited {
  count: number
  time: number
  by: string
}

export interface Reaction {
  reaction: string
  count: number
  mine: boolean
}

/** What became of an onModifiedMessage or onReactionChange event. */
export interface ChangeResult {
  outcome: 'updated' | 'unchanged' | 'unsaved' | 'notFound' | 'ignored'
  record?: Record
  reason?: string
}

export interface Quote {
  /** The quoted message's id. */
  id: string
  /** One line for it: its text cut at 50 characters with '…', or '[图片]', '[语音]', '[文件] a.pdf', '[位置] …'. */
  preview: string
  /** Who sent it: a name, else an id; '' when the quoting message did not say. */
  sender: string
  type: MessageType
}

export interface Profile {
  nickname?: string
  avatar?: string
}

/** A user's display data: from the server ('server'), from their messages' ext ('ext'), or only the id ('id'). */
export interface UserProfile {
  id: string
  nickname?: string
  avatar?: string
  source: 'server' | 'ext' | 'id'
}

export interface GroupProfile {
  id: string
  name?: string
  avatar?: string
  description?: string
  source: 'server' | 'id'
}

/** A group I am in, as refreshGroups lists it. */
export interface GroupListing {
  id: string
  name: string
  avatar?: string
  description?: string
}

export interface EmojiEntry {
  code: string
  file: string
}

export interface ChatOptions {
  /** The logged-in user id. */
  user: string
  /** Storage with wx's Sync API; default: the global `wx`. */
  storage?: StorageLike
  /** Own display data, sent in every message's ext. */
  profile?: Profile
  /** ext key names to write and read; default { nickname: 'userNickname', avatar: 'userAvatar' }. */
  extKeys?: { nickname?: string; avatar?: string }
  /** Sanitising of others' profiles: nickname length, allowed avatar URL schemes (default ['https']). */
  profilePolicy?: { maxNicknameChars?: number; avatarSchemes?: string[]; maxAvatarLen?: number }
  /** Storage budget for mpchat's own keys; default 8 MiB of the 10 MB wx allows. */
  limits?: { totalBytes?: number }
  /** Package path of the wasm; default '/mpchat/mpchat_bg.wasm.br'. */
  wasmPath?: string
  /** Replace the emoji table, or extend the Easemob one. */
  emoji?: { table?: EmojiEntry[]; extra?: EmojiEntry[] }
  /** Import history kept by the official demo or the group-chat recipe, once. */
  migrate?: boolean
  /** How long a send waits for the server's acknowledgement before its record is 'failed' (an acknowledgement
   * that comes later still makes it 'sent'); default 15000 ms, 1 to 2147483647. */
  sendTimeoutMs?: number
}

export interface StorageLike {
  getStorageSync(key: string): any
  setStorageSync(key: string, value: any): void
  removeStorageSync(key: string): void
  getStorageInfoSync(): { keys: string[]; currentSize?: number; limitSize?: number }
}

export interface BuildInput {
  type: MessageType
  /** Any SDK spelling: singleChat/groupChat/chatRoom, chat/groupchat/chatroom, single/group. Default one-to-one. */
  chatType?: string
  to: string
  msg?: string
  /** Users to @mention (group and chat room), or 'all'. */
  mentions?: string[] | 'all'
  /** The id of a stored record this message replies to: ext.msgQuote is filled from it. */
  quote?: string
  ext?: { [key: string]: unknown }
  /** A file the phone picked, for img, audio, video and file: mpchat uploads it (see PickedFile). */
  file?: PickedFile
  [field: string]: unknown
}

/** What chat.send uploads with wx.uploadFile before sending the server's URL. */
export interface PickedFile {
  /** The phone's path of the file: the picker's or the recorder's tempFilePath. */
  path: string
  /** The file name receivers see (file, voice, video); the path's last part by default. */
  name?: string
  /** Bytes. */
  size?: number
  /** Pixels (images). */
  width?: number
  height?: number
  /** Seconds (voice, video). */
  duration?: number
  /** A video's poster, a phone path too: uploaded after the video. */
  thumb?: string
}

/** The SDK module, and for a send with `file` the wx that uploads it and a progress callback. */
export interface SendOptions {
  WebIM: any
  /** Default: the global wx. */
  wx?: { uploadFile(options: any): any; getFileSystemManager?(): any }
  /** Each new percent of the upload of a picked file, 0..100. */
  onProgress?: (percent: number) => void
}

export interface NormalizeResult {
  outcome: 'ok' | 'ignored'
  conversation?: ConversationName
  record?: Record
  reason?: string
}

export interface ReceiveResult {
  outcome: 'stored' | 'duplicate' | 'ignored' | 'unsaved'
  conversation?: ConversationName
  record?: Record
  /** How many subscribers were handed the record. */
  notified: number
  reason?: string
}

export interface ConversationSummary {
  conversation: ConversationName
  kind: Kind
  id: string
  last: Record | null
  unread: number
  /** An unread record mentions me (or everyone), muted or not: show [有人@我] until markRead. */
  mentionsMe: boolean
  updatedAt: number
  muted: boolean
  /** Pinned with chat.pin: pinned conversations come first, each part by last activity. */
  pinned: boolean
  /** The draft kept with chat.setDraft, '' when there is none. */
  draft: string
}

/** What a change of local state did: 'unsaved' (with the reason) when storage refused it; kept in memory. */
/** What remove(), clear() and removeConversation() did: 'unsaved' when storage refused a write (`reason`);
 * the removal then reaches storage with a later call (removeConversation: when called again). */
export interface RemoveResult {
  outcome: 'updated' | 'unchanged' | 'notFound' | 'unsaved'
  reason?: string
}

/** What a subscribe listener is told besides the record. */
export interface PublishInfo {
  /** The record was re-keyed (acknowledged): this was its id. */
  previousId?: string
  /** The record was removed from this phone (the record has `removed: true`). */
  removed?: boolean
  /** Every record of the record's conversation was removed (clear() or removeConversation()); the record
   * given is the newest of them. */
  cleared?: boolean
}

export interface UpdateResult {
  outcome: 'updated' | 'unchanged' | 'unsaved'
  reason?: string
}

export interface StorageReport {
  /** Bytes of mpchat's keys (key plus serialised value). */
  bytesUsed: number
  /** The budget, limits.totalBytes. */
  totalBytes: number
  keys: number
  conversations: number
  /** Records and chunks evicted for space since the store was created. */
  evictedRecords: number
  evictedChunks: number
  /** Values found unreadable this session. */
  skippedCorrupt: number
  /** Records inside readable values that were unreadable and left out this session. */
  skippedRecords: number
  /** Keys with changes not yet on storage, heads waiting for `flush()` included (nothing is lost by those). */
  unsaved: number
}

export interface OpenReport {
  /** Conversations holding records when the chat opened. */
  conversations: number
  /** Conversations whose head was missing, unreadable or out of step with its keys, and was rebuilt. */
  rebuilt: number
  /** Conversations moved over from the previous storage layout (`mpchat/1/…`). */
  migrated: number
  /** Conversations left in the previous layout because storage had no room to copy them: their history
   * stays where it is and the next open moves it; their new records are kept in memory (unsaved). */
  migrationPaused: number
  /** Storage reads that threw while opening (a head, the state, the key listing or count): the chat opened
   * with the rest, and each later call retries them; records of a conversation not read yet wait in memory
   * (outcome 'unsaved') until it is. */
  pending: number
  /** mpchat keys that could not be read (corrupt, foreign, another format); left in place. */
  skippedKeys: string[]
  /** Unreadable records inside otherwise readable values, left out. */
  skippedRecords: number
  /** My records the last session left 'sending' (the app was killed mid-send), now 'failed'. */
  failedSends: number
  /** With `migrate: true`: what the import of the recipe's and the demo's arrays found. */
  migration?: { keysFound: number; imported: number; duplicates: number; skipped: number; keysRemoved: number }
}

export interface Chat {
  readonly user: string
  build(input: BuildInput): { [field: string]: unknown }
  /** Stores the message as 'sending', sends it and resolves once it settled: 'sent' (re-keyed to the server
   * id) or 'failed' (with `error`). A send whose socket dropped is sent again, as the same message, once the
   * SDK is connected again. Rejects only for bad input. */
  send(conn: any, input: BuildInput, sdk: SendOptions): Promise<Record>
  /** Sends a 'failed' record of mine again as the same record (back to 'sending', re-keyed to the server id
   * when acknowledged); rejects for an unknown id, someone else's record, or one that is not 'failed'. */
  resend(conn: any, recordId: string, sdk?: Partial<SendOptions>): Promise<Record>
  /** Replaces the text of one of my own sent text messages (SDK 4.x modifyMessage), then in storage:
   * record.text, record.edited. Resolves to the updated record; rejects for an unknown id, someone else's
   * message, one that is not a text, recalled or not sent, a text over 64 KiB, or the server's refusal. */
  edit(conn: any, recordId: string, text: string, sdk: { WebIM: any }): Promise<Record>
  /** Adds (`on`, default true) or takes back my reaction (SDK 4.x addReaction / deleteReaction), then in
   * storage: record.reactions. Resolves to the updated record (unchanged when there was nothing to do). */
  react(conn: any, recordId: string, reaction: string, on?: boolean): Promise<Record>
  /** The next page back of a conversation from the server (SDK 4.x getHistoryMessages), below the oldest
   * record stored (or the last page fetched this session): stored in place without repeats, never unread,
   * published, and resolved oldest first as history() returns records; [] when the server has no more.
   * limit: 1 to 50, default 20. Rejects on SDKs without getHistoryMessages and with the server's refusal. */
  fetchOlder(conn: any, conversation: ConversationName, options?: { limit?: number }): Promise<Record[]>
  /** Fetches the server profiles (user attributes nickname, avatarurl; 100 ids per SDK call) of the `ids` not
   * fetched within `maxAgeMs` (default one day), sanitised and kept across restarts; resolves to profile(id) of
   * every id. Rejects when the SDK does (or has no fetchUserInfoById / fetchUserDataById), keeping what was known. */
  refreshProfiles(conn: any, ids: string[], options?: { maxAgeMs?: number }): Promise<UserProfile[]>
  /** The server profile, else the last profile seen in the user's messages' ext, else the id alone. No wasm crossing. */
  profile(id: string): UserProfile
  /** My groups (conn.getJoinedGroups), with the details (conn.getGroupInfo) of those not fetched within
   * `maxAgeMs` (default one day) fetched, sanitised and kept. `name` is the id when the server has none. */
  refreshGroups(conn: any, options?: { maxAgeMs?: number }): Promise<GroupListing[]>
  /** The group's server name and avatar, else the id alone. No wasm crossing. */
  groupProfile(id: string): GroupProfile
  /** Takes back one of my own sent messages on the server (conn.recallMessage), then marks it recalled in storage. */
  recall(conn: any, recordId: string): Promise<Record>
  receiveEdit(message: unknown): ChangeResult
  /** An onReactionChange event, as attach() passes it on. Never throws. */
  receiveReactions(event: unknown): ChangeResult
  attach(conn: any, options?: { style?: 'handler' | 'listen' }): () => void
  normalize(message: unknown): NormalizeResult
  receive(message: unknown): ReceiveResult
  subscribe(conversation: ConversationName | '*', listener: (record: Record, info: PublishInfo) => void): () => void
  on(event: 'evicted', listener: (event: { conversation: ConversationName; records: number; wholeConversation: boolean }) => void): () => void
  on(event: 'error', listener: (error: unknown) => void): () => void
  /** A one-to-one peer is typing: show it for about 5 s, or until their next message. */
  on(event: 'typing', listener: (event: { conversation: ConversationName; from: string }) => void): () => void
  /** Names and faces arrived from the server (refreshProfiles / refreshGroups): pages showing them render again. */
  on(event: 'directory', listener: (event: { users?: string[]; groups?: string[] }) => void): () => void
  /** Tells a one-to-one peer I am typing, at most once per 5 s; true when a notice went out. */
  typing(conn: any, conversation: ConversationName, sdk: { WebIM: any }): boolean
  /** How many subscribe/on listeners are registered. */
  listenerCount(): number
  history(conversation: ConversationName, options?: { before?: string; limit?: number }): Record[]
  /**
   * The `limit` (default 20) newest stored records whose text, file name or address contains `query`
   * (Latin case-insensitively; CJK, emoji and codes by substring), older than `before` (a record id),
   * in one conversation when given; newest first. Recalled messages are left out.
   */
  search(query: string, options?: { conversation?: ConversationName; limit?: number; before?: string }): { record: Record; conversation: ConversationName }[]
  conversations(): ConversationSummary[]
  markRead(conversation: ConversationName): void
  unreadTotal(): number
  mute(conversation: ConversationName, on: boolean): void
  storageReport(): StorageReport
  openReport(): OpenReport
  /**
   * Writes what waits: the heads (unread count, newest record) of the conversations a burst of
   * received messages left, which mpchat's own timer writes once the current task is over. Nothing is
   * lost if the app dies first; calling it in `onHide` spares the next start taking those records in.
   */
  flush(): { outcome: 'saved' | 'unsaved'; reason?: string }
  /** Keeps a draft on this phone ('' clears it); at most 2,000 characters, 100 conversations. */
  setDraft(conversation: ConversationName, text: string): UpdateResult
  /** The conversation's draft, '' when there is none. */
  draft(conversation: ConversationName): string
  /** Pins (or unpins) a conversation; at most 50 are pinned. */
  pin(conversation: ConversationName, on?: boolean): UpdateResult
  /** Removes one stored record from this phone (the server and other phones keep theirs): unread count,
   * mention mark and the conversation list follow; subscribers get it with `removed: true`. Finds records
   * read or written this session (those a page shows). Throws, removing nothing, when storage cannot be
   * read now. */
  remove(recordId: string): RemoveResult
  /** Removes every record of the conversation from this phone; it stays known (unread 0) and leaves
   * conversations() until a record comes. Subscribers get its newest record with `removed: true` and
   * `info.cleared`. Throws, removing nothing, when storage cannot be read now. */
  clear(conversation: ConversationName): RemoveResult
  /** Removes the conversation whole from this phone: records, state, draft and pin. Told as by clear(). */
  removeConversation(conversation: ConversationName): RemoveResult
  parseEmoji(text: string): Segment[]
  deleteLast(text: string): string
  emojiTable(): EmojiEntry[]
}

export function createChat(options: ChatOptions): Promise<Chat>
export function load(options?: { wasmPath?: string }): Promise<unknown>
export function parseEmoji(text: string): Segment[]
export function deleteLast(text: string): string
export function emojiTable(): EmojiEntry[]
export function formatTime(ms: number, options?: { now?: number; locale?: 'zh-CN' | 'en' | string; utcOffsetMinutes?: number }): string
