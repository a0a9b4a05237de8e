// Pictures, video, voice, files and locations in the chat: the input bar's "+" panel (相册 and 拍摄 through
// wx.chooseMedia, 文件 through wx.chooseMessageFile, 位置 through wx.chooseLocation) and its hold-to-talk
// recordings become chat.send inputs with `file` (or a location); tapping a media bubble previews the
// picture among all of the chat's pictures, plays the video, plays or stops the voice (one at a time), opens
// the file (downloaded first) or the location on a map. Mixed into the page's methods; `this` is the page.
const context = require('../../lib/chat-context.js')
const present = require('../../lib/present.js')
const { toast } = require('../../lib/toast.js')

const ALBUM_COUNT = 9
const VIDEO_MAX_S = 60
// What wx.openDocument opens; it is told the type, since a server URL's name has no extension.
const DOCUMENT_TYPES = ['doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'pdf']

// A wx API with success/fail callbacks as a promise.
function call(api, options = {}) {
  return new Promise((resolve, reject) => api(Object.assign({}, options, { success: resolve, fail: reject })))
}

function cancelled(err) {
  return /cancel/i.test(String((err && err.errMsg) || ''))
}

// A path on this phone (a picked file, or my own upload not yet done) rather than a server URL.
function isLocalPath(url) {
  return /^(wxfile:|http:\/\/tmp\/|https?:\/\/usr\/)/.test(url || '')
}

// Drops the fields a picker did not give (the shim reads what is there).
function compact(fields) {
  const out = {}
  for (const [name, value] of Object.entries(fields)) if (value !== undefined && value !== null && value !== '') out[name] = value
  return out
}

// The body a record of `input` carries while it is still on the phone: the chat's own 'sending' record
// shows the same (body.url the local path), so the page's placeholder looks no different.
function localBody(input) {
  if (input.type === 'loc') return compact({ lat: input.lat, lng: input.lng, addr: input.addr, buildingName: input.buildingName })
  const file = input.file || {}
  return compact({
    url: file.path, filename: file.name, file_length: file.size, width: file.width, height: file.height,
    length: file.duration, thumb: file.thumb,
  })
}

// What tells two of my sending records of the same message apart from others: the text, the local file,
// or the place.
function contentKey(record) {
  const body = record.body || {}
  if (record.type === 'txt') return `txt:${record.text}`
  if (record.type === 'loc') return `loc:${body.lat},${body.lng}`
  return `${record.type}:${body.url}`
}

module.exports = {
  // The input bar's panel: open the picker, then send each thing chosen.
  async onMedia(event) {
    const key = event.detail.key
    let inputs = []
    try {
      if (key === 'album' || key === 'camera') inputs = await this.pickMedia(key)
      else if (key === 'file') inputs = await this.pickFiles()
      else if (key === 'location') inputs = await this.pickLocation()
    } catch (err) {
      if (!cancelled(err)) toast(key === 'location' ? '无法获取位置' : '无法选择文件')
      return
    }
    for (const input of inputs) this.send(input)
  },

  // 相册 (pictures and videos, compressed) or 拍摄 (the camera). A picture's size comes from
  // wx.getImageInfo, so receivers can draw its bubble before it loads.
  async pickMedia(key) {
    const res = await call(wx.chooseMedia, {
      count: key === 'album' ? ALBUM_COUNT : 1,
      mediaType: ['image', 'video'],
      sourceType: [key],
      sizeType: ['compressed'],
      maxDuration: VIDEO_MAX_S,
      camera: 'back',
    })
    const inputs = []
    for (const picked of res.tempFiles || []) {
      const video = (picked.fileType || res.type) === 'video'
      const file = { path: picked.tempFilePath, size: picked.size }
      if (video) Object.assign(file, { width: picked.width, height: picked.height, duration: picked.duration, thumb: picked.thumbTempFilePath })
      else Object.assign(file, await this.imageSize(picked.tempFilePath))
      inputs.push(this.mediaInput(video ? 'video' : 'img', { file: compact(file) }))
    }
    return inputs
  },

  async imageSize(path) {
    try {
      const info = await call(wx.getImageInfo, { src: path })
      return { width: info.width, height: info.height }
    } catch (err) {
      return {}
    }
  },

  async pickFiles() {
    const res = await call(wx.chooseMessageFile, { count: ALBUM_COUNT, type: 'all' })
    return (res.tempFiles || []).map(f => this.mediaInput('file', { file: compact({ path: f.path, name: f.name, size: f.size }) }))
  },

  async pickLocation() {
    const place = await call(wx.chooseLocation, {})
    return [this.mediaInput('loc', compact({ lat: place.latitude, lng: place.longitude, addr: place.address, buildingName: place.name }))]
  },

  // A hold-to-talk recording: { path, duration (s), size }.
  onVoice(event) {
    const { path, duration, size } = event.detail
    this.send(this.mediaInput('audio', { file: compact({ path, duration, size }) }))
  },

  // The chat.send input for this conversation: `fields` are { file } or a location's.
  mediaInput(type, fields) {
    const { kind, id } = present.parseConversation(this.opened)
    return Object.assign({ type, chatType: present.CHAT_TYPES[kind], to: id }, fields)
  },

  // An upload's progress changes one bubble: only that item is set, not the whole list. False when the
  // record is not a shown sending message of mine.
  showProgress(record) {
    if (record.status !== 'sending' || typeof record.progress !== 'number') return false
    const index = this.data.items.findIndex(item => item.key === `m-${record.id}`)
    if (index < 0 || !this.recordById(record.id)) return false
    this.merge([record])
    const view = present.messageView(record, context.current().mpchat)
    this.setData({ [`items[${index}].message`]: view })
    return true
  },

  // A tap on a media bubble.
  onOpenMedia(event) {
    const record = this.recordById(event.detail.id)
    if (!record || record.recalled) return
    const body = record.body || {}
    if (record.type === 'img') this.previewImage(record)
    else if (record.type === 'video' && body.url) wx.previewMedia({ sources: [{ url: body.url, type: 'video', poster: body.thumb || '' }] })
    else if (record.type === 'audio') this.toggleVoice(record)
    else if (record.type === 'file') this.openFile(record)
    else if (record.type === 'loc') {
      wx.openLocation({ latitude: Number(body.lat), longitude: Number(body.lng), name: body.buildingName || '', address: body.addr || '', scale: 16 })
    }
  },

  // Full size, swiping through every picture of the chat in order.
  previewImage(record) {
    const urls = this.records.filter(r => r.type === 'img' && !r.recalled).map(r => r.body && (r.body.url || r.body.thumb)).filter(Boolean)
    const current = record.body.url || record.body.thumb
    if (current) wx.previewImage({ current, urls })
  },

  // Voice: one plays at a time; tapping the one playing stops it.
  toggleVoice(record) {
    const playing = this.data.playing
    this.stopVoice()
    if (playing === record.id || !record.body || !record.body.url) return
    const audio = wx.createInnerAudioContext()
    const done = () => {
      if (this.audio !== audio) return
      this.audio = null
      audio.destroy()
      this.setData({ playing: '' })
    }
    audio.onEnded(done)
    audio.onError(() => {
      done()
      toast('语音播放失败')
    })
    audio.src = record.body.url
    this.audio = audio
    this.setData({ playing: record.id })
    audio.play()
  },

  stopVoice() {
    const audio = this.audio
    this.audio = null
    if (audio) {
      audio.stop()
      audio.destroy()
    }
    if (this.data.playing) this.setData({ playing: '' })
  },

  // A received file is downloaded, then opened in WeChat's document viewer; my own not yet uploaded one
  // opens from where it is.
  async openFile(record) {
    const url = record.body && record.body.url
    if (!url) return
    let filePath = url
    try {
      if (!isLocalPath(url)) {
        if (typeof wx.showLoading === 'function') wx.showLoading({ title: '下载中' })
        const res = await call(wx.downloadFile, { url }).finally(() => {
          if (typeof wx.hideLoading === 'function') wx.hideLoading()
        })
        if (res.statusCode && res.statusCode !== 200) throw new Error(`download: HTTP ${res.statusCode}`)
        filePath = res.tempFilePath
      }
      const ext = String(record.body.filename || '').split('.').pop().toLowerCase()
      const options = { filePath, showMenu: true }
      if (DOCUMENT_TYPES.includes(ext)) options.fileType = ext
      await call(wx.openDocument, options)
    } catch (err) {
      toast('无法打开该文件')
    }
  },
}

module.exports.localBody = localBody
module.exports.contentKey = contentKey
