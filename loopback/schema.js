'use strict';
// The Easemob wire schema (MSync frames and everything inside them), read at run time from an installed
// easemob-websdk bundle, which embeds it as a protobufjs JSON descriptor written as a JavaScript object
// literal. mpchat never keeps its own copy: the newest SDK in the matrix defines the wire the server speaks
// (every older release's schema is a subset of it, which the loopback tests check).
// The literal is parsed here (not evaluated) and loaded into the standalone `protobufjs` package.

const fs = require('fs');
const protobuf = require('protobufjs');
const { NEWEST, bundlePath } = require('./sdks');

// 4.x bundles pass the literal straight to Root.fromJSON; 3.x returns it from a function first.
const MARKER = '{nested:{easemob:';

// A reader for the subset of JavaScript literal syntax a minifier emits for a descriptor:
// objects with bare or quoted keys, arrays, double-quoted strings, numbers, and !0 / !1 for booleans.
function parseLiteral(text, start) {
  let pos = start;
  const fail = (what) => {
    throw new Error(`loopback schema: ${what} at offset ${pos} of the SDK bundle (near ${JSON.stringify(text.slice(pos, pos + 40))}); the SDK's embedded descriptor changed shape`);
  };
  const skipSpace = () => { while (pos < text.length && /\s/.test(text[pos])) pos++; };
  const expect = (ch) => { skipSpace(); if (text[pos] !== ch) fail(`expected '${ch}'`); pos++; };
  function value() {
    skipSpace();
    const ch = text[pos];
    if (ch === '{') return object();
    if (ch === '[') return array();
    if (ch === '"' || ch === "'") return string();
    if (ch === '!') {
      const lit = text.slice(pos, pos + 2);
      if (lit === '!0') { pos += 2; return true; }
      if (lit === '!1') { pos += 2; return false; }
      fail('unknown ! literal');
    }
    const num = /^-?(\d+\.?\d*(e[+-]?\d+)?|\.\d+)/i.exec(text.slice(pos, pos + 40));
    if (num) { pos += num[0].length; return Number(num[0]); }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, pos)) { pos += word.length; return v; }
    }
    return fail('unexpected value');
  }
  function string() {
    const quote = text[pos++];
    let out = '';
    while (pos < text.length && text[pos] !== quote) {
      if (text[pos] === '\\') {
        const esc = text[pos + 1];
        out += { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" }[esc] ?? esc;
        pos += 2;
      } else {
        out += text[pos++];
      }
    }
    if (text[pos] !== quote) fail('unterminated string');
    pos++;
    return out;
  }
  function key() {
    skipSpace();
    if (text[pos] === '"' || text[pos] === "'") return string();
    const m = /^[A-Za-z_$][\w$]*/.exec(text.slice(pos, pos + 200));
    if (!m) fail('expected a key');
    pos += m[0].length;
    return m[0];
  }
  function object() {
    expect('{');
    const out = {};
    skipSpace();
    if (text[pos] === '}') { pos++; return out; }
    for (;;) {
      const k = key();
      expect(':');
      out[k] = value();
      skipSpace();
      if (text[pos] === ',') { pos++; continue; }
      expect('}');
      return out;
    }
  }
  function array() {
    expect('[');
    const out = [];
    skipSpace();
    if (text[pos] === ']') { pos++; return out; }
    for (;;) {
      out.push(value());
      skipSpace();
      if (text[pos] === ',') { pos++; continue; }
      expect(']');
      return out;
    }
  }
  return value();
}

/** The descriptor object embedded in the SDK bundle at `file`. */
function extractDescriptor(file) {
  const text = fs.readFileSync(file, 'utf8');
  const at = text.indexOf(MARKER);
  if (at < 0) throw new Error(`loopback schema: '${MARKER}' not found in ${file}; this easemob-websdk build embeds its schema differently`);
  return parseLiteral(text, at);
}

let cached;
/** protobufjs types for the Easemob wire, loaded once per process. */
function loadSchema() {
  if (cached) return cached;
  const root = protobuf.Root.fromJSON(extractDescriptor(bundlePath(NEWEST, 'miniProgram')));
  const t = (name) => root.lookupType(`easemob.pb.${name}`);
  cached = {
    root,
    MSync: t('MSync'),
    Provision: t('Provision'),
    CommSyncUL: t('CommSyncUL'),
    CommSyncDL: t('CommSyncDL'),
    CommNotice: t('CommNotice'),
    CommUnreadDL: t('CommUnreadDL'),
    Meta: t('Meta'),
    MessageBody: t('MessageBody'),
    MUCBody: t('MUCBody'),
    KeyValue: t('KeyValue'),
  };
  return cached;
}

module.exports = { loadSchema, extractDescriptor };
