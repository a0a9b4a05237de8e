// The files `make demo`'s people pick on their phones, and alice's phone under miniprogram-simulate:
// - landscape photos drawn here and encoded as real PNGs (zlib alone), and a few seconds of "voice";
// - the wx pickers the chat page calls (wx.chooseMedia answers with the photo alice picks, wx.getImageInfo
//   reads its size from the PNG header) and the file transfers, which are her SDK's fake wx's (loopback/
//   fake-wx.js: uploads to the loopback server's chatfiles, downloads from it);
// - the pictures her pages show, downloaded from the server and turned into data: URLs for the HTML render.
'use strict'

const fs = require('fs')
const os = require('os')
const path = require('path')
const zlib = require('zlib')

const PHOTO_WIDTH = 360
const PHOTO_HEIGHT = 240
const SUPERSAMPLE = 2

// ---- photos --------------------------------------------------------------------------------------------

// An RGB PNG; every row filtered Up (the sky is a vertical gradient, so rows differ little).
function encodePng(rgb, width, height) {
  const stride = width * 3
  const filtered = Buffer.alloc((stride + 1) * height)
  for (let y = 0; y < height; y++) {
    filtered[y * (stride + 1)] = 2
    for (let i = 0; i < stride; i++) {
      const above = y > 0 ? rgb[(y - 1) * stride + i] : 0
      filtered[y * (stride + 1) + 1 + i] = (rgb[y * stride + i] - above) & 0xff
    }
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(zlib.crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8 // bits per sample
  header[9] = 2 // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(filtered, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const mix = (a, b, t) => a.map((v, i) => v + (b[i] - v) * t)

// Hills seen from a summit: sky, sun, three ridges, and a row of trees on the nearest. `palette` sets the
// hour: { skyTop, skyLow, sun, ridges: [far, middle, near], trees }.
function landscape(palette) {
  const ridgeTops = [
    x => 0.48 + 0.07 * Math.sin(x * 6.5 + 1) + 0.03 * Math.sin(x * 19),
    x => 0.62 + 0.06 * Math.sin(x * 4.5 + 2.6) + 0.025 * Math.sin(x * 13 + 1),
    x => 0.8 + 0.05 * Math.sin(x * 3.2 + 0.4),
  ]
  const trees = Array.from({ length: 14 }, (_, i) => {
    const x = 0.04 + i * 0.072 + 0.02 * Math.sin(i * 2.3)
    return { x, y: ridgeTops[2](x) - 0.02, r: 0.026 + 0.012 * Math.abs(Math.sin(i * 1.7)) }
  })
  const aspect = PHOTO_HEIGHT / PHOTO_WIDTH // so that circles stay round
  const colourAt = (x, y) => {
    let colour = mix(palette.skyTop, palette.skyLow, Math.min(1, y / 0.6))
    if ((x - 0.76) ** 2 + ((y - 0.24) * aspect) ** 2 < 0.06 ** 2) colour = palette.sun
    palette.ridges.forEach((ridge, i) => {
      if (y >= ridgeTops[i](x)) colour = mix(ridge, [0, 0, 0], Math.min(0.25, (y - ridgeTops[i](x)) * 0.6))
    })
    for (const tree of trees) {
      if ((x - tree.x) ** 2 + ((y - tree.y) * aspect) ** 2 < tree.r ** 2) colour = palette.trees
    }
    return colour
  }
  const rgb = Buffer.alloc(PHOTO_WIDTH * PHOTO_HEIGHT * 3)
  for (let py = 0; py < PHOTO_HEIGHT; py++) {
    for (let px = 0; px < PHOTO_WIDTH; px++) {
      const sum = [0, 0, 0]
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const c = colourAt((px + (sx + 0.5) / SUPERSAMPLE) / PHOTO_WIDTH, (py + (sy + 0.5) / SUPERSAMPLE) / PHOTO_HEIGHT)
          for (let i = 0; i < 3; i++) sum[i] += c[i]
        }
      }
      for (let i = 0; i < 3; i++) rgb[(py * PHOTO_WIDTH + px) * 3 + i] = Math.round(sum[i] / SUPERSAMPLE ** 2)
    }
  }
  return encodePng(rgb, PHOTO_WIDTH, PHOTO_HEIGHT)
}

const PALETTES = {
  // Autumn red leaves under a clear morning sky.
  morning: { skyTop: [92, 156, 230], skyLow: [200, 226, 246], sun: [255, 246, 200], trees: [214, 64, 42],
    ridges: [[150, 172, 198], [96, 140, 110], [226, 128, 58]] },
  // The same hills at sunset.
  sunset: { skyTop: [88, 82, 160], skyLow: [250, 170, 110], sun: [255, 226, 150], trees: [70, 40, 60],
    ridges: [[150, 110, 150], [104, 72, 112], [64, 46, 76]] },
}

// A voice message's bytes: an ID3 tag and silence-sized filler (the loopback stores, never decodes, it).
function voiceBytes(seconds) {
  return Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.alloc(seconds * 1500, 0xff)])
}

/**
 * A folder of picked files, like a phone's temporary files: photo(name, hour) writes a landscape PNG and
 * returns { path, size, width, height }, voice(name, seconds) a recording and returns { path, size,
 * duration }, as the pickers and the recorder describe them. remove() deletes the folder.
 */
function pickedFiles() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpchat-demo-picked-'))
  const write = (name, bytes) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, bytes)
    return { path: file, size: bytes.length }
  }
  return {
    photo(name, hour) {
      const file = write(name, landscape(PALETTES[hour]))
      return Object.assign(file, pngSize(file.path))
    },
    voice: (name, seconds) => Object.assign(write(name, voiceBytes(seconds)), { duration: seconds }),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  }
}

// A PNG's size from its header, as wx.getImageInfo gives it.
function pngSize(file) {
  const header = fs.readFileSync(file).subarray(16, 24)
  return { width: header.readUInt32BE(0), height: header.readUInt32BE(4) }
}

// ---- alice's phone -------------------------------------------------------------------------------------

/**
 * Gives miniprogram-simulate's global wx what alice's chat page calls for pictures: her album (pick(file)
 * sets what the next wx.chooseMedia answers), wx.getImageInfo, and her SDK's fake wx's uploadFile,
 * downloadFile and getFileSystemManager (`phoneWx`: loopback/client.js's client.wx).
 */
function givePhone(phoneWx) {
  let picked = null
  const answer = (options, result) => Promise.resolve().then(() => (result.errMsg ? options.fail(result) : options.success(result)))
  wx.chooseMedia = options => {
    const file = picked
    picked = null
    answer(options, file
      ? { type: 'image', tempFiles: [{ fileType: 'image', tempFilePath: file.path, size: file.size }], errMsg: '' }
      : { errMsg: 'chooseMedia:fail cancel' })
  }
  wx.getImageInfo = options => answer(options, Object.assign(pngSize(options.src), { path: options.src, type: 'png', errMsg: '' }))
  for (const name of ['uploadFile', 'downloadFile', 'getFileSystemManager']) wx[name] = phoneWx[name]
  return { pick(file) { picked = file } }
}

// The src of every <image> in a rendered page's tree.
function imageSources(node, out = new Set()) {
  if (!node || typeof node !== 'object') return out
  if (node.tagName === 'wx-image') {
    const src = (node.attrs || []).find(a => a.name === 'src')
    if (src && src.value) out.add(src.value)
  }
  for (const child of node.children || []) imageSources(child, out)
  return out
}

// A chat file on the server ({apiUrl}/{org}/{app}/chatfiles/{uuid}).
const CHAT_FILE = /^https?:\/\/[^/]+\/[^/]+\/[^/]+\/chatfiles\//

/**
 * The pictures on `page` that are chat files on the server, downloaded with the phone's wx.downloadFile,
 * as a Map of URL -> data: URL for the HTML render.
 */
async function downloadPictures(page, phoneWx) {
  const found = new Map()
  for (const src of imageSources(page.toJSON())) {
    if (!CHAT_FILE.test(src)) continue
    const res = await new Promise((resolve, reject) => phoneWx.downloadFile({ url: src, success: resolve, fail: reject }))
    if (res.statusCode !== 200) throw new Error(`demo: the server answered ${res.statusCode} for ${src}`)
    const bytes = fs.readFileSync(res.tempFilePath)
    const mime = bytes.subarray(1, 4).toString('latin1') === 'PNG' ? 'image/png' : 'application/octet-stream'
    found.set(src, `data:${mime};base64,${bytes.toString('base64')}`)
  }
  return found
}

module.exports = { pickedFiles, givePhone, downloadPictures }
