#!/usr/bin/env node
// Draws the demo's 35 emoji faces (miniprogram-demo/images/emoji/ee_1.png … ee_35.png, one per Easemob code,
// numbered as in the code table) and its default avatar, as small PNGs encoded here with zlib alone.
// The pictures are this project's own work, dedicated to the public domain (CC0 1.0).
// Run: node scripts/make-emoji-images.js   (prints each file's size and the total)
'use strict'

const fs = require('fs')
const path = require('path')
const zlib = require('zlib')

const OUT = path.join(__dirname, '..', 'miniprogram-demo', 'images')
const EMOJI_SIZE = 48
const AVATAR_SIZE = 96
const SUPERSAMPLE = 4

// ---- PNG encoding (8-bit RGBA, adaptive None/Sub/Up filter per row) ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(buf) {
  let c = 0xffffffff
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type, data) {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'ascii')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
  return Buffer.concat([head, data, crc])
}

function filteredRows(rgba, width, height) {
  const stride = width * 4
  const rows = []
  for (let y = 0; y < height; y++) {
    const row = rgba.subarray(y * stride, (y + 1) * stride)
    const up = y > 0 ? rgba.subarray((y - 1) * stride, y * stride) : null
    const candidates = [[0, row]]
    const sub = Buffer.alloc(stride)
    for (let i = 0; i < stride; i++) sub[i] = (row[i] - (i >= 4 ? row[i - 4] : 0)) & 0xff
    candidates.push([1, sub])
    if (up) {
      const upFiltered = Buffer.alloc(stride)
      for (let i = 0; i < stride; i++) upFiltered[i] = (row[i] - up[i]) & 0xff
      candidates.push([2, upFiltered])
    }
    const cost = bytes => bytes.reduce((sum, b) => sum + (b < 128 ? b : 256 - b), 0)
    candidates.sort((a, b) => cost(a[1]) - cost(b[1]))
    rows.push(Buffer.from([candidates[0][0]]), candidates[0][1])
  }
  return Buffer.concat(rows)
}

function encodePng(rgba, width, height) {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 6 // colour type RGBA
  const idat = zlib.deflateSync(filteredRows(rgba, width, height), { level: 9 })
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

// ---- A tiny canvas: shapes are inside-tests painted in order, then supersampled down ----

function makeCanvas(size) {
  const shapes = []
  return {
    shapes,
    // paint(colour, insideFn(x, y) in unit coordinates 0..1)
    paint(colour, inside) { shapes.push([colour, inside]) },
    render() {
      const rgba = Buffer.alloc(size * size * 4)
      const n = SUPERSAMPLE
      for (let py = 0; py < size; py++) {
        for (let px = 0; px < size; px++) {
          let r = 0, g = 0, b = 0, a = 0
          for (let sy = 0; sy < n; sy++) {
            for (let sx = 0; sx < n; sx++) {
              const x = (px + (sx + 0.5) / n) / size
              const y = (py + (sy + 0.5) / n) / size
              let hit = null
              for (const [colour, inside] of shapes) if (inside(x, y)) hit = colour
              if (hit) { r += hit[0]; g += hit[1]; b += hit[2]; a += 255 }
            }
          }
          const o = (py * size + px) * 4
          const samples = n * n
          const covered = a / 255
          if (covered > 0) {
            rgba[o] = Math.round(r / covered)
            rgba[o + 1] = Math.round(g / covered)
            rgba[o + 2] = Math.round(b / covered)
            rgba[o + 3] = Math.round(a / samples)
          }
        }
      }
      return rgba
    },
  }
}

const disc = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r
const ellipse = (cx, cy, rx, ry) => (x, y) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1
const box = (x0, y0, x1, y1) => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1
// An arc of a circle between angles a0..a1 (radians, y down), stroke width w.
const arc = (cx, cy, r, a0, a1, w) => (x, y) => {
  if (Math.abs(Math.hypot(x - cx, y - cy) - r) > w / 2) return false
  const angle = Math.atan2(y - cy, x - cx)
  return angle >= a0 && angle <= a1
}
const segment = (x0, y0, x1, y1, w) => (x, y) => {
  const dx = x1 - x0, dy = y1 - y0
  const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)))
  return Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) <= w / 2
}
const both = (f, g) => (x, y) => f(x, y) && g(x, y)

// ---- Faces ----

const INK = [74, 48, 20]
const YELLOW = [255, 205, 64]
const PI = Math.PI

const EYES = {
  dots: (c, col) => { c.paint(col, disc(0.35, 0.4, 0.055)); c.paint(col, disc(0.65, 0.4, 0.055)) },
  happy: (c, col) => { c.paint(col, arc(0.35, 0.43, 0.08, -PI, 0, 0.05)); c.paint(col, arc(0.65, 0.43, 0.08, -PI, 0, 0.05)) },
  wink: (c, col) => { c.paint(col, disc(0.35, 0.4, 0.055)); c.paint(col, segment(0.57, 0.41, 0.73, 0.41, 0.05)) },
  wide: (c, col) => {
    for (const cx of [0.35, 0.65]) { c.paint([255, 255, 255], disc(cx, 0.4, 0.1)); c.paint(col, disc(cx, 0.41, 0.05)) }
  },
  shades: (c) => {
    c.paint([30, 30, 40], ellipse(0.33, 0.41, 0.13, 0.08)); c.paint([30, 30, 40], ellipse(0.67, 0.41, 0.13, 0.08))
    c.paint([30, 30, 40], segment(0.2, 0.38, 0.8, 0.38, 0.04))
  },
  angry: (c, col) => {
    c.paint(col, disc(0.35, 0.43, 0.05)); c.paint(col, disc(0.65, 0.43, 0.05))
    c.paint(col, segment(0.24, 0.3, 0.43, 0.36, 0.045)); c.paint(col, segment(0.76, 0.3, 0.57, 0.36, 0.045))
  },
  worried: (c, col) => {
    c.paint(col, disc(0.35, 0.43, 0.05)); c.paint(col, disc(0.65, 0.43, 0.05))
    c.paint(col, segment(0.25, 0.34, 0.42, 0.29, 0.04)); c.paint(col, segment(0.75, 0.34, 0.58, 0.29, 0.04))
  },
  closed: (c, col) => { c.paint(col, segment(0.26, 0.42, 0.43, 0.42, 0.045)); c.paint(col, segment(0.57, 0.42, 0.74, 0.42, 0.045)) },
  sleepy: (c, col) => { c.paint(col, arc(0.35, 0.37, 0.08, 0, PI, 0.045)); c.paint(col, arc(0.65, 0.37, 0.08, 0, PI, 0.045)) },
  crosses: (c, col) => {
    for (const cx of [0.35, 0.65]) {
      c.paint(col, segment(cx - 0.06, 0.34, cx + 0.06, 0.46, 0.04)); c.paint(col, segment(cx - 0.06, 0.46, cx + 0.06, 0.34, 0.04))
    }
  },
  hearts: (c) => {
    const red = [226, 40, 70]
    for (const cx of [0.35, 0.65]) {
      c.paint(red, disc(cx - 0.035, 0.38, 0.045)); c.paint(red, disc(cx + 0.035, 0.38, 0.045))
      c.paint(red, (x, y) => y >= 0.38 && y <= 0.48 && Math.abs(x - cx) <= (0.48 - y) * 0.8)
    }
  },
  rolling: (c, col) => {
    for (const cx of [0.35, 0.65]) { c.paint([255, 255, 255], disc(cx, 0.4, 0.09)); c.paint(col, disc(cx, 0.345, 0.04)) }
  },
  stars: (c) => {
    const gold = [240, 140, 0]
    for (const cx of [0.35, 0.65]) {
      c.paint(gold, (x, y) => {
        const a = Math.atan2(y - 0.4, x - cx), d = Math.hypot(x - cx, y - 0.4)
        return d <= 0.05 + 0.045 * Math.cos(5 * (a + PI / 2))
      })
    }
  },
}

const MOUTHS = {
  smile: (c, col) => c.paint(col, arc(0.5, 0.55, 0.18, 0.2 * PI, 0.8 * PI, 0.05)),
  grin: (c, col) => {
    c.paint(col, both(disc(0.5, 0.56, 0.2), box(0, 0.6, 1, 1)))
    c.paint([255, 255, 255], both(disc(0.5, 0.56, 0.17), box(0, 0.62, 1, 0.68)))
  },
  open: (c, col) => c.paint(col, ellipse(0.5, 0.7, 0.07, 0.09)),
  tongue: (c, col) => {
    c.paint(col, arc(0.5, 0.58, 0.16, 0.15 * PI, 0.85 * PI, 0.045))
    c.paint([232, 90, 110], both(ellipse(0.56, 0.78, 0.07, 0.08), box(0, 0.72, 1, 1)))
  },
  flat: (c, col) => c.paint(col, segment(0.36, 0.7, 0.64, 0.7, 0.045)),
  frown: (c, col) => c.paint(col, arc(0.5, 0.86, 0.16, -0.8 * PI, -0.2 * PI, 0.045)),
  wavy: (c, col) => c.paint(col, (x, y) => x >= 0.32 && x <= 0.68 && Math.abs(y - (0.7 + 0.03 * Math.sin((x - 0.32) * 26))) <= 0.025),
  kiss: (c, col) => { c.paint(col, arc(0.5, 0.66, 0.04, -PI / 2, PI / 2, 0.035)); c.paint(col, arc(0.5, 0.74, 0.04, -PI / 2, PI / 2, 0.035)) },
  zip: (c, col) => {
    c.paint(col, segment(0.34, 0.7, 0.66, 0.7, 0.035))
    for (const x of [0.4, 0.47, 0.54, 0.61]) c.paint(col, segment(x, 0.66, x, 0.74, 0.025))
  },
  small: (c, col) => c.paint(col, arc(0.5, 0.62, 0.08, 0.2 * PI, 0.8 * PI, 0.04)),
  shout: (c, col) => c.paint(col, both(ellipse(0.5, 0.72, 0.16, 0.11), box(0, 0.68, 1, 1))),
  teeth: (c, col) => {
    c.paint(col, box(0.33, 0.64, 0.67, 0.76))
    c.paint([255, 255, 255], box(0.35, 0.66, 0.65, 0.74))
    for (const x of [0.42, 0.5, 0.58]) c.paint(col, box(x - 0.008, 0.66, x + 0.008, 0.74))
  },
}

const EXTRAS = {
  blush: (c) => { c.paint([245, 130, 120], ellipse(0.25, 0.56, 0.07, 0.04)); c.paint([245, 130, 120], ellipse(0.75, 0.56, 0.07, 0.04)) },
  tear: (c) => c.paint([80, 170, 240], (x, y) => disc(0.3, 0.58, 0.05)(x, y) || (y >= 0.47 && y <= 0.58 && Math.abs(x - 0.3) <= (y - 0.47) * 0.45)),
  sweat: (c) => c.paint([80, 170, 240], (x, y) => disc(0.8, 0.28, 0.05)(x, y) || (y >= 0.17 && y <= 0.28 && Math.abs(x - 0.8) <= (y - 0.17) * 0.45)),
  halo: (c) => c.paint([240, 200, 40], (x, y) => Math.abs(((x - 0.5) / 0.24) ** 2 + ((y - 0.075) / 0.06) ** 2 - 1) <= 0.45),
  horns: (c) => {
    c.paint([200, 40, 40], (x, y) => y <= 0.22 && y >= 0.02 && Math.abs(x - 0.22) <= (y - 0.02) * 0.35)
    c.paint([200, 40, 40], (x, y) => y <= 0.22 && y >= 0.02 && Math.abs(x - 0.78) <= (y - 0.02) * 0.35)
  },
  zzz: (c) => {
    c.paint([90, 110, 200], segment(0.72, 0.08, 0.86, 0.08, 0.035)); c.paint([90, 110, 200], segment(0.86, 0.08, 0.72, 0.2, 0.035))
    c.paint([90, 110, 200], segment(0.72, 0.2, 0.86, 0.2, 0.035))
  },
  bandage: (c) => { c.paint([250, 240, 220], segment(0.62, 0.18, 0.82, 0.3, 0.08)) },
  question: (c) => {
    c.paint([60, 120, 220], arc(0.84, 0.12, 0.06, -PI, 0.5 * PI, 0.035))
    c.paint([60, 120, 220], segment(0.84, 0.18, 0.84, 0.23, 0.035)); c.paint([60, 120, 220], disc(0.84, 0.29, 0.022))
  },
  mask: (c) => { c.paint([235, 240, 245], box(0.25, 0.58, 0.75, 0.82)); c.paint([200, 210, 220], segment(0.1, 0.5, 0.25, 0.62, 0.025)); c.paint([200, 210, 220], segment(0.9, 0.5, 0.75, 0.62, 0.025)) },
  steam: (c) => { c.paint([180, 180, 190], ellipse(0.14, 0.74, 0.07, 0.04)); c.paint([180, 180, 190], ellipse(0.86, 0.74, 0.07, 0.04)) },
}

// One face per code, in the order of the Easemob table ([):] is ee_1 … [(D)] is ee_35).
// [face colour, eyes, mouth, extras…]
const FACES = [
  [YELLOW, 'dots', 'smile'],                        // 1  [):]  smile
  [YELLOW, 'happy', 'grin'],                        // 2  [:D]  laugh
  [YELLOW, 'wink', 'smile'],                        // 3  [;)]  wink
  [YELLOW, 'wide', 'open'],                         // 4  [:-o] surprised
  [YELLOW, 'dots', 'tongue'],                       // 5  [:p]  tongue
  [YELLOW, 'shades', 'smile'],                      // 6  [(H)] cool
  [[250, 120, 80], 'angry', 'frown'],               // 7  [:@]  angry
  [YELLOW, 'worried', 'wavy'],                      // 8  [:s]  confused
  [YELLOW, 'closed', 'small', 'blush'],             // 9  [:$]  embarrassed
  [YELLOW, 'worried', 'frown'],                     // 10 [:(]  sad
  [YELLOW, 'closed', 'frown', 'tear'],              // 11 [:'(] crying
  [YELLOW, 'dots', 'flat', 'question'],             // 12 [<o)] puzzled
  [YELLOW, 'happy', 'small', 'halo'],               // 13 [(a)] angel
  [YELLOW, 'rolling', 'teeth'],                     // 14 [8o|] grimace
  [YELLOW, 'rolling', 'flat'],                      // 15 [8-|] eye roll
  [[150, 210, 110], 'crosses', 'wavy'],             // 16 [+o(] sick
  [YELLOW, 'sleepy', 'open', 'zzz'],                // 17 [|-)] sleepy
  [YELLOW, 'dots', 'flat'],                         // 18 [:|]  neutral
  [YELLOW, 'worried', 'small', 'sweat'],            // 19 [*-)] thinking
  [YELLOW, 'dots', 'zip'],                          // 20 [:-#] zipped
  [YELLOW, 'wide', 'smile', 'bandage'],             // 21 [^o)] sarcastic
  [YELLOW, 'closed', 'kiss', 'blush'],              // 22 [:-*] kiss
  [YELLOW, 'stars', 'grin'],                        // 23 [8-)] star-struck
  [YELLOW, 'happy', 'small', 'blush'],              // 24 [(|)] shy
  [YELLOW, 'hearts', 'smile'],                      // 25 [(u)] in love
  [[240, 150, 60], 'angry', 'shout', 'steam'],      // 26 [(S)] furious
  [YELLOW, 'stars', 'smile', 'blush'],              // 27 [(*)] delighted
  [[190, 120, 230], 'angry', 'grin', 'horns'],      // 28 [(#)] devil
  [[120, 190, 250], 'wide', 'shout'],               // 29 [(R)] shocked
  [YELLOW, 'closed', 'smile', 'mask'],              // 30 [({)] masked
  [YELLOW, 'sleepy', 'frown', 'sweat'],             // 31 [(})] tired
  [YELLOW, 'hearts', 'kiss'],                       // 32 [(k)] blowing a kiss
  [[255, 170, 190], 'happy', 'tongue', 'blush'],    // 33 [(F)] playful
  [YELLOW, 'crosses', 'flat', 'sweat'],             // 34 [(W)] exhausted
  [[255, 225, 120], 'closed', 'grin', 'tear'],      // 35 [(D)] tears of joy
]

function drawFace([skin, eyes, mouth, ...extras]) {
  const c = makeCanvas(EMOJI_SIZE)
  const outline = skin.map(v => Math.round(v * 0.72))
  c.paint(outline, disc(0.5, 0.52, 0.45))
  c.paint(skin, disc(0.5, 0.52, 0.42))
  EYES[eyes](c, INK)
  MOUTHS[mouth](c, INK)
  for (const extra of extras) EXTRAS[extra](c)
  return encodePng(c.render(), EMOJI_SIZE, EMOJI_SIZE)
}

function drawDefaultAvatar() {
  const c = makeCanvas(AVATAR_SIZE)
  const figure = [250, 252, 255]
  c.paint([196, 204, 214], box(0, 0, 1, 1))
  c.paint(figure, disc(0.5, 0.38, 0.17))
  c.paint(figure, both(ellipse(0.5, 0.95, 0.33, 0.3), box(0, 0, 1, 1)))
  return encodePng(c.render(), AVATAR_SIZE, AVATAR_SIZE)
}

function main() {
  fs.mkdirSync(path.join(OUT, 'emoji'), { recursive: true })
  let total = 0
  FACES.forEach((face, i) => {
    const png = drawFace(face)
    fs.writeFileSync(path.join(OUT, 'emoji', `ee_${i + 1}.png`), png)
    total += png.length
  })
  const avatar = drawDefaultAvatar()
  fs.writeFileSync(path.join(OUT, 'default-avatar.png'), avatar)
  console.log(`emoji: ${FACES.length} files, ${total} bytes; default-avatar.png: ${avatar.length} bytes`)
}

main()
