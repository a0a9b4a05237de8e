// Pictures, video, voice and files the phone picked, sent by chat.send with `file: { path, … }`.
// No mini-program build of easemob-websdk can upload a phone path itself: its file sends upload with
// XMLHttpRequest and FormData, which WeChat does not have (4.1.6 to 4.21.1 throw "XMLHttpRequest is not
// defined"; 3.6.3 and 4.0.8 have only web builds). So mpchat uploads with wx.uploadFile, to the endpoint
// the SDK uses ({apiUrl}/{org}/{app}/chatfiles, with the connection's token), as Easemob's mini-program
// demos do, then sends the server's URL like any already uploaded file (send.js).
//
// The record is stored 'sending' with the phone's path in body.url, so a page shows the picture at once;
// while the file goes up, subscribers hear it again with `progress` (0..100, at most once per 5%, never
// written to storage); once it is up, body.url is the server's URL (store::modify, `uploaded`). A record
// whose upload failed keeps the phone's path, and chat.resend uploads from it again.
'use strict'

const FILE_TYPES = new Set(['img', 'audio', 'video', 'file'])
/** Progress is published to subscribers at most once per this many percent. */
const PROGRESS_STEP = 5

/**
 * chat.send's input with a `file` to upload: the send input with the phone's path as `url`, and the step
 * that uploads it, or null when the input has no `file`. Throws on a bad `file`.
 */
function fileSend(chat, conn, input, sdk) {
  if (!input || typeof input !== 'object' || input.file === undefined) return null
  const { type, file } = input
  if (!FILE_TYPES.has(type)) {
    throw new TypeError(`mpchat: only img, audio, video and file messages take a file to upload, not ${JSON.stringify(type)}`)
  }
  checkFile(type, file)
  if (input.url !== undefined) throw new TypeError('mpchat: pass `url` (a file already uploaded) or `file` (one to upload), not both')
  const wx = uploader(sdk)
  checkEndpoint(conn)
  if (gone(wx, file.path)) {
    throw new Error(`mpchat: send: file.path ${JSON.stringify(file.path)} is not on the phone; pass the path the picker gave (tempFilePath)`)
  }
  const sendInput = { ...input, url: file.path }
  delete sendInput.file
  const fields = { filename: file.name || baseName(file.path), file_length: file.size, width: file.width, height: file.height, length: file.duration }
  for (const key of KEPT_FIELDS[type]) if (fields[key] !== undefined) sendInput[key] = fields[key]
  if (type === 'video' && file.thumb) sendInput.thumb = file.thumb
  return { input: sendInput, upload: uploadStep(chat, conn, sendInput, wx, sdk.onProgress) }
}

/**
 * chat.resend of a file whose upload never finished (its body.url still names the phone's path): the step
 * that uploads it again, or null when there is nothing to upload. Throws when the file is gone.
 */
function fileResend(chat, conn, input, sdk) {
  if (!FILE_TYPES.has(input.type) || typeof input.url !== 'string' || !isPhonePath(input.url)) return null
  const wx = uploader(sdk)
  checkEndpoint(conn)
  if (gone(wx, input.url)) {
    throw new Error(`mpchat: resend: the file of this message (${JSON.stringify(input.url)}) is no longer on the phone `
      + '(WeChat removes temporary files when it restarts); pick it again and send it as a new message')
  }
  return uploadStep(chat, conn, input, wx, sdk.onProgress)
}

// What the send input keeps of `file`, per type (build.rs takes these and refuses the others).
const KEPT_FIELDS = {
  img: ['width', 'height', 'file_length'],
  audio: ['filename', 'length', 'file_length'],
  video: ['filename', 'length', 'file_length'],
  file: ['filename', 'file_length'],
}

function checkFile(type, file) {
  if (!file || typeof file !== 'object' || Array.isArray(file)) {
    throw new TypeError('mpchat: `file` must be { path, name?, size?, width?, height?, duration?, thumb? }')
  }
  if (typeof file.path !== 'string' || file.path === '') {
    throw new TypeError('mpchat: file.path is required: the phone\'s path of the picked file (tempFilePath)')
  }
  for (const key of ['name', 'thumb']) {
    if (file[key] !== undefined && typeof file[key] !== 'string') throw new TypeError(`mpchat: file.${key} must be a string`)
  }
  for (const key of ['size', 'width', 'height', 'duration']) {
    const n = file[key]
    if (n !== undefined && (typeof n !== 'number' || !Number.isFinite(n) || n < 0)) {
      throw new TypeError(`mpchat: file.${key} must be a number ≥ 0 (${key === 'duration' ? 'seconds' : key === 'size' ? 'bytes' : 'pixels'})`)
    }
  }
  if (file.thumb !== undefined && type !== 'video') throw new TypeError('mpchat: file.thumb (a poster) is for video only')
}

function uploader(sdk) {
  const given = sdk.wx || (typeof wx === 'object' ? wx : undefined)
  if (!given || typeof given.uploadFile !== 'function') {
    throw new TypeError('mpchat: sending a file needs wx.uploadFile (pass { wx } outside a mini-program)')
  }
  return given
}

/** `{apiUrl}/{org}/{app}/chatfiles` of a connection; the token is read at each upload (it may be renewed). */
function chatFilesUrl(conn) {
  const [org, app] = conn.orgName && conn.appName ? [conn.orgName, conn.appName] : String(conn.appKey || '').split('#')
  if (typeof conn.apiUrl !== 'string' || !conn.apiUrl || !org || !app) return ''
  return `${conn.apiUrl.replace(/\/+$/, '')}/${org}/${app}/chatfiles`
}

function checkEndpoint(conn) {
  if (!chatFilesUrl(conn)) throw new TypeError('mpchat: sending a file needs the connection\'s apiUrl and appKey (org#app) to upload to')
}

function tokenOf(conn) {
  return (conn.context && conn.context.accessToken) || conn.token || ''
}

/** WeChat's own paths (wxfile://…, DevTools' http://tmp/…, a plain file path) as opposed to a server's URL. */
function isPhonePath(url) {
  return !/^https?:\/\/[^/?#]*[.:]/i.test(url)
}

/** True when wx can tell the file is not there (getFileSystemManager().accessSync throws). */
function gone(wx, path) {
  if (typeof wx.getFileSystemManager !== 'function') return false
  try {
    wx.getFileSystemManager().accessSync(path)
    return false
  } catch (_) {
    return true
  }
}

function baseName(path) {
  return path.split(/[\\/]/).pop() || path
}

/**
 * Uploads the send input's file (and a video's poster), then has the core put the server's URLs in the
 * record. Resolves `{ input, record, secret }`: the input with the server URLs, the record as stored.
 */
function uploadStep(chat, conn, input, wx, onProgress) {
  return async (record) => {
    const progress = progressReporter(chat, record, onProgress)
    const file = await uploadFile(wx, conn, input.url, progress)
    const thumb = typeof input.thumb === 'string' && isPhonePath(input.thumb) ? await uploadFile(wx, conn, input.thumb) : null
    chat._args(record.id, file.url, thumb ? thumb.url : '')
    const answer = chat._json(chat._core.uploaded())
    if (!answer.record) throw new Error(`mpchat: the uploaded file could not be kept on the record: ${answer.reason || answer.outcome}`)
    const uploaded = chat._present(answer.record)
    chat._publish(uploaded)
    chat._drainEvictions()
    const sent = { ...input, url: file.url }
    if (thumb) sent.thumb = thumb.url
    return { input: sent, record: uploaded, secret: file.secret }
  }
}

/** Calls onProgress at each new percent, and publishes the record with `progress` every PROGRESS_STEP. */
function progressReporter(chat, record, onProgress) {
  let last = -1
  let published = -1
  return (value) => {
    const percent = Math.max(0, Math.min(100, Math.floor(Number(value) || 0)))
    if (percent <= last) return
    last = percent
    if (typeof onProgress === 'function') {
      try {
        onProgress(percent)
      } catch (err) {
        chat._emit('error', err)
      }
    }
    if (published >= 0 && percent < 100 && percent - published < PROGRESS_STEP) return
    published = percent
    chat._publish({ ...record, body: { ...record.body }, progress: percent })
  }
}

/** One wx.uploadFile to the connection's chatfiles: `{ url, secret }`, or rejects with `{ code: 'upload', … }`. */
function uploadFile(wx, conn, path, onProgress) {
  return new Promise((resolve, reject) => {
    const failed = (message, status) => reject(status === undefined ? { code: 'upload', message } : { code: 'upload', status, message })
    const token = tokenOf(conn)
    if (!token) {
      failed('not logged in: the connection has no access token to upload with')
      return
    }
    const url = chatFilesUrl(conn)
    let task
    try {
      task = wx.uploadFile({
        url,
        filePath: path,
        name: 'file',
        header: { Authorization: `Bearer ${token}` },
        success: (res) => {
          const answer = parseJson(res && res.data)
          const entity = answer && Array.isArray(answer.entities) ? answer.entities[0] : null
          if (!res || res.statusCode !== 200 || !entity || typeof entity.uuid !== 'string') {
            const said = answer && (answer.error_description || answer.error)
            failed(`the server refused the upload (HTTP ${res && res.statusCode}${said ? `: ${said}` : ''})`, res && res.statusCode)
            return
          }
          const base = typeof answer.uri === 'string' && answer.uri ? answer.uri : url
          resolve({ url: `${base}/${entity.uuid}`, secret: typeof entity['share-secret'] === 'string' ? entity['share-secret'] : '' })
        },
        fail: (res) => failed((res && res.errMsg) || 'wx.uploadFile failed'),
      })
    } catch (err) {
      failed(`wx.uploadFile threw: ${(err && err.message) || err}`)
      return
    }
    if (onProgress && task && typeof task.onProgressUpdate === 'function') task.onProgressUpdate((p) => onProgress(p && p.progress))
  })
}

function parseJson(data) {
  if (data && typeof data === 'object') return data
  try {
    return JSON.parse(String(data))
  } catch (_) {
    return null
  }
}

module.exports = { fileSend, fileResend }
