'use strict';
// The loopback server's file store: what a client uploads to /{org}/{app}/chatfiles (images, voice, video,
// files) is kept in a temporary folder of its own, created on the first upload and removed when the server
// closes, and served back at /{org}/{app}/chatfiles/{uuid}. Each file gets a share secret, as Easemob's do.

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

// What a video-frame thumbnail request (`?vframe=true`) gets: the loopback cannot decode video, so it answers
// with a fixed 1x1 grey PNG instead of the video's first frame.
const PLACEHOLDER_FRAME = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==', 'base64');

class ChatFiles {
  constructor() {
    this.dir = null;
    this.files = new Map(); // uuid -> {file, filename, contentType, size, secret, uploader, time}
  }

  /** Keeps `data` (a Buffer) and returns its record: {uuid, secret, filename, contentType, size}. */
  put(data, { filename = '', contentType = 'application/octet-stream', uploader = '' } = {}) {
    if (!this.dir) this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpchat-loopback-files-'));
    const uuid = crypto.randomUUID();
    const record = {
      uuid,
      secret: crypto.randomBytes(12).toString('base64url'),
      filename: String(filename),
      contentType: String(contentType || 'application/octet-stream'),
      size: data.length,
      uploader,
      time: Date.now(),
      file: path.join(this.dir, uuid),
    };
    fs.writeFileSync(record.file, data);
    this.files.set(uuid, record);
    return record;
  }

  get(uuid) {
    return this.files.get(String(uuid)) || null;
  }

  read(record) {
    return fs.readFileSync(record.file);
  }

  /** Removes the folder and everything in it. */
  close() {
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
    this.files.clear();
  }
}

/**
 * The parts of a multipart/form-data body: [{name, filename?, contentType?, data: Buffer}]. `contentType` is
 * the request's header (it names the boundary). Returns null when the body is not multipart.
 */
function parseMultipart(body, contentType) {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(String(contentType || ''));
  if (!/^multipart\/form-data/i.test(String(contentType || '')) || !match) return null;
  const delimiter = Buffer.from(`--${match[1] || match[2]}`);
  const parts = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    let start = at + delimiter.length;
    if (body.slice(start, start + 2).toString() === '--') break;
    if (body.slice(start, start + 2).toString() === '\r\n') start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    let end = next;
    if (body.slice(end - 2, end).toString() === '\r\n') end -= 2;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    if (headerEnd < 0 || headerEnd > end) break;
    const headers = body.slice(start, headerEnd).toString('utf8').split('\r\n');
    const part = { data: body.slice(headerEnd + 4, end) };
    for (const line of headers) {
      const [key, ...rest] = line.split(':');
      const value = rest.join(':').trim();
      if (/^content-disposition$/i.test(key.trim())) {
        const name = /\bname="([^"]*)"/i.exec(value);
        const filename = /\bfilename="([^"]*)"/i.exec(value);
        if (name) part.name = name[1];
        if (filename) part.filename = filename[1];
      } else if (/^content-type$/i.test(key.trim())) {
        part.contentType = value;
      }
    }
    parts.push(part);
    at = next;
  }
  return parts;
}

module.exports = { ChatFiles, parseMultipart, PLACEHOLDER_FRAME };
