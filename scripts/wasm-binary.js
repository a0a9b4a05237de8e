// Just enough of the WebAssembly binary format to drop exported globals from the export section.
// wasm-bindgen's runtime exports two globals that its glue never reads, and iOS refuses exported globals.
'use strict'

function readU32(bytes, offset) {
  let result = 0
  let shift = 0
  let pos = offset
  for (;;) {
    const byte = bytes[pos++]
    result |= (byte & 0x7f) << shift
    if ((byte & 0x80) === 0) break
    shift += 7
  }
  return { value: result >>> 0, next: pos }
}

function writeU32(value) {
  const out = []
  do {
    let byte = value & 0x7f
    value >>>= 7
    if (value !== 0) byte |= 0x80
    out.push(byte)
  } while (value !== 0)
  return Buffer.from(out)
}

const EXPORT_SECTION = 7
const GLOBAL_KIND = 3

function filterExports(payload) {
  const { value: count, next } = readU32(payload, 0)
  let pos = next
  const kept = []
  for (let i = 0; i < count; i++) {
    const start = pos
    const name = readU32(payload, pos)
    pos = name.next + name.value
    const kind = payload[pos++]
    pos = readU32(payload, pos).next
    if (kind !== GLOBAL_KIND) kept.push(payload.subarray(start, pos))
  }
  return Buffer.concat([writeU32(kept.length), ...kept])
}

function withoutGlobalExports(module) {
  const parts = [module.subarray(0, 8)]
  let pos = 8
  while (pos < module.length) {
    const id = module[pos]
    const size = readU32(module, pos + 1)
    const payload = module.subarray(size.next, size.next + size.value)
    if (id === EXPORT_SECTION) {
      const filtered = filterExports(payload)
      parts.push(Buffer.from([id]), writeU32(filtered.length), filtered)
    } else {
      parts.push(module.subarray(pos, size.next + size.value))
    }
    pos = size.next + size.value
  }
  return Buffer.concat(parts)
}

module.exports = { withoutGlobalExports }
