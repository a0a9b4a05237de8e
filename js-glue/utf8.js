// UTF-8 for the wasm-bindgen glue. Phones have no TextEncoder/TextDecoder (WeChat DevTools does), and the
// glue creates a decoder when it loads, so the glue gets these names from here: the platform's own codec
// when there is one, else this small one.
'use strict'

class Utf8Encoder {
  get encoding() { return 'utf-8' }

  encode(text = '') {
    const bytes = new Uint8Array(text.length * 3)
    return bytes.subarray(0, this.encodeInto(text, bytes).written)
  }

  // Writes whole characters only; a lone surrogate becomes U+FFFD, as the platform encoder does.
  encodeInto(text, bytes) {
    const length = text.length
    const capacity = bytes.length
    let read = 0
    let written = 0
    while (read < length) {
      let code = text.charCodeAt(read)
      let units = 1
      if (code >= 0xd800 && code <= 0xdbff && read + 1 < length) {
        const low = text.charCodeAt(read + 1)
        if (low >= 0xdc00 && low <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00)
          units = 2
        }
      }
      if (units === 1 && code >= 0xd800 && code <= 0xdfff) code = 0xfffd
      if (code < 0x80) {
        if (written + 1 > capacity) break
        bytes[written++] = code
      } else if (code < 0x800) {
        if (written + 2 > capacity) break
        bytes[written++] = 0xc0 | (code >> 6)
        bytes[written++] = 0x80 | (code & 0x3f)
      } else if (code < 0x10000) {
        if (written + 3 > capacity) break
        bytes[written++] = 0xe0 | (code >> 12)
        bytes[written++] = 0x80 | ((code >> 6) & 0x3f)
        bytes[written++] = 0x80 | (code & 0x3f)
      } else {
        if (written + 4 > capacity) break
        bytes[written++] = 0xf0 | (code >> 18)
        bytes[written++] = 0x80 | ((code >> 12) & 0x3f)
        bytes[written++] = 0x80 | ((code >> 6) & 0x3f)
        bytes[written++] = 0x80 | (code & 0x3f)
      }
      read += units
    }
    return { read, written }
  }
}

const CHUNK = 0x2000

class Utf8Decoder {
  constructor(label = 'utf-8', options = {}) {
    if (!/^utf-?8$/i.test(label)) throw new RangeError(`mpchat utf8: unsupported encoding ${label}`)
    this.ignoreBOM = Boolean(options.ignoreBOM)
  }

  get encoding() { return 'utf-8' }

  // Malformed sequences become U+FFFD, one per maximal invalid subpart, as the platform decoder does.
  decode(input) {
    if (input === undefined) return ''
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input.buffer || input)
    let pos = 0
    if (!this.ignoreBOM && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) pos = 3
    const units = []
    const pieces = []
    const end = bytes.length
    while (pos < end) {
      const b0 = bytes[pos]
      let code = 0xfffd
      let size = 1
      if (b0 < 0x80) {
        code = b0
      } else if (b0 >= 0xc2 && b0 <= 0xdf) {
        const b1 = bytes[pos + 1]
        if ((b1 & 0xc0) === 0x80) { code = ((b0 & 0x1f) << 6) | (b1 & 0x3f); size = 2 }
      } else if (b0 >= 0xe0 && b0 <= 0xef) {
        const b1 = bytes[pos + 1]
        const lo = b0 === 0xe0 ? 0xa0 : 0x80
        const hi = b0 === 0xed ? 0x9f : 0xbf
        if (b1 >= lo && b1 <= hi) {
          const b2 = bytes[pos + 2]
          if ((b2 & 0xc0) === 0x80) {
            code = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f); size = 3
          } else size = 2
        }
      } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        const b1 = bytes[pos + 1]
        const lo = b0 === 0xf0 ? 0x90 : 0x80
        const hi = b0 === 0xf4 ? 0x8f : 0xbf
        if (b1 >= lo && b1 <= hi) {
          const b2 = bytes[pos + 2]
          if ((b2 & 0xc0) === 0x80) {
            const b3 = bytes[pos + 3]
            if ((b3 & 0xc0) === 0x80) {
              code = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f); size = 4
            } else size = 3
          } else size = 2
        }
      }
      if (code > 0xffff) {
        code -= 0x10000
        units.push(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff))
      } else {
        units.push(code)
      }
      pos += size
      if (units.length >= CHUNK) {
        pieces.push(String.fromCharCode.apply(null, units))
        units.length = 0
      }
    }
    pieces.push(String.fromCharCode.apply(null, units))
    return pieces.join('')
  }
}

const native = typeof TextEncoder === 'function' && typeof TextDecoder === 'function'

module.exports = {
  TextEncoder: native ? TextEncoder : Utf8Encoder,
  TextDecoder: native ? TextDecoder : Utf8Decoder,
  Utf8Encoder,
  Utf8Decoder,
}
