//! The wasm exports as the shim drives them, run by `wasm-pack test --node` with the shim's own host
//! and wire (js-glue/host.js, js-glue/wire.js) over an in-memory storage: values cross as tapes and
//! outbox text, bad input comes back as an `Error` whose message says what to fix, never as a trap.
#![cfg(target_arch = "wasm32")]

use mpchat::wasm::{
    delete_last_default, emoji_default, emoji_joins, emoji_spans_default, format_time, inbox, outbox,
    store_projections, ChatCore, Host,
};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

// The shim's host over a Map, the shim's tape writer for values given as JSON text, and an adopter
// for record documents. Node resolves the shim from the crate's root, where wasm-pack runs.
#[wasm_bindgen(inline_js = "
import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const root = process.cwd()
const { createHost } = require(root + '/js-glue/host.js')
const { TapeWriter } = require(root + '/js-glue/wire.js')
const { createWxStorage } = require(root + '/tests/js/support/wx-storage.js')
export function testHost(memory, projections, failSets) {
  const storage = createWxStorage()
  if (failSets) storage.setStorageSync = () => { throw new Error('setStorageSync:fail quota reached') }
  const wire = { memory, inbox() { throw new Error('unused') }, outbox() { throw new Error('unused') } }
  const { createWire } = require(root + '/js-glue/wire.js')
  return createHost(storage, createWire(wire), JSON.parse(projections))
}
export function tapeOf(json, projection) {
  const writer = new TapeWriter()
  writer.write(JSON.parse(json), JSON.parse(projection), () => 0)
  return writer.units.slice(0, writer.length)
}
export function adopt(host, json) { return host.adopt(JSON.parse(json), json) }
export function copyOf(host, doc) { return JSON.stringify(host.copy(doc)) }
export function errorMessage(value) { return value instanceof Error ? value.message : 'not an Error: ' + String(value) }
")]
extern "C" {
    #[wasm_bindgen(js_name = testHost)]
    fn test_host(memory: JsValue, projections: &str, fail_sets: bool) -> Host;
    #[wasm_bindgen(js_name = tapeOf)]
    fn tape_of(json: &str, projection: &str) -> Vec<u16>;
    fn adopt(host: &Host, json: &str) -> u32;
    #[wasm_bindgen(js_name = copyOf)]
    fn copy_of(host: &Host, doc: u32) -> String;
    #[wasm_bindgen(js_name = errorMessage)]
    fn error_message(value: JsValue) -> String;
}

/// The text an export left in the outbox.
fn out(length: u32) -> String {
    let len = (length & 0x7fff_ffff) as usize;
    // SAFETY: the outbox holds `len` bytes of UTF-8 until the next export writes it.
    let bytes = unsafe { std::slice::from_raw_parts(outbox(), len) };
    String::from_utf8_lossy(bytes).into_owned()
}

/// Puts a value (as JSON text) on the inbox under a projection (as JSON text).
fn send(json: &str, projection: &str) {
    let units = tape_of(json, projection);
    let at = inbox(units.len() as u32);
    // SAFETY: `inbox` made room for exactly these units at `at`.
    unsafe { std::ptr::copy_nonoverlapping(units.as_ptr(), at, units.len()) };
}

fn field(json: &str, name: &str) -> String {
    let key = format!("\"{name}\":");
    json.split_once(&key).map_or(String::new(), |(_, rest)| {
        let rest = rest.trim_start_matches('"');
        rest.split(['"', ',', '}']).next().unwrap_or_default().to_string()
    })
}

struct Chat {
    core: ChatCore,
    host: Host,
}

fn host(fail_sets: bool) -> Host {
    let host_projections = out(store_projections());
    test_host(wasm_bindgen::memory(), &host_projections, fail_sets)
}

fn open_chat(config: &str, fail_sets: bool) -> Result<Chat, String> {
    let host = host(fail_sets);
    send(config, "1");
    ChatCore::new(host.clone().into()).map(|core| Chat { core, host }).map_err(|e| error_message(e.into()))
}

impl Chat {
    fn settings(&self) -> String {
        out(self.core.settings())
    }

    /// The shim's receive: normalise, fill in text and ext, store. Returns the outcome's JSON.
    fn receive(&mut self, message: &str, text: &str) -> String {
        self.store(message, text, false)
    }

    /// Normalises and stores `message` as a record of mine being sent (outgoing) or as received.
    fn store(&mut self, message: &str, text: &str, outgoing: bool) -> String {
        let settings = self.settings();
        let projection = settings.split_once("\"message\":").map(|(_, p)| p).unwrap_or_default();
        let projection = &projection[..projection.find(",\"build\"").unwrap_or(projection.len())];
        send(message, projection);
        let normalized = out(self.core.normalize(true, outgoing));
        if field(&normalized, "outcome") != "ok" {
            return normalized;
        }
        // The record is the outcome's last field.
        let record = normalized.split_once("\"record\":").and_then(|(_, r)| r.strip_suffix('}')).unwrap_or_default();
        let record = record.replace("\"text\":\"\"", &format!("\"text\":\"{text}\""));
        let doc = adopt(&self.host, &record);
        out(self.core.insert(doc, record.len() as f64))
    }

    fn history(&mut self, conversation: &str) -> Vec<String> {
        send(&format!("[\"{conversation}\",null]"), "1");
        let page = out(self.core.history(20).expect("history"));
        page.split("\"doc\":")
            .skip(1)
            .map(|rest| copy_of(&self.host, rest.split(',').next().unwrap_or("0").parse().unwrap_or(0)))
            .collect()
    }
}

const GROUP_MESSAGE: &str =
    r#"{"id":"7","type":"txt","chatType":"groupChat","from":"bob","to":"g1","msg":"hi","time":1700000000000,"ext":{"userNickname":"Bob","app":{"k":1}}}"#;

#[wasm_bindgen_test]
fn receive_stores_and_history_reads_the_shims_record_back() {
    let mut chat = open_chat(r#"{"user":"alice"}"#, false).unwrap();
    assert_eq!(field(&chat.receive(GROUP_MESSAGE, "hi"), "outcome"), "stored");
    assert_eq!(field(&chat.receive(GROUP_MESSAGE, "hi"), "outcome"), "duplicate");
    let history = chat.history("group:g1");
    assert_eq!(history.len(), 1);
    assert_eq!(field(&history[0], "text"), "hi");
    assert_eq!(field(&history[0], "nickname"), "Bob");
    assert_eq!(chat.core.unread_total(), 1.0);
}

#[wasm_bindgen_test]
fn a_storage_that_throws_leaves_the_message_unsaved_not_lost() {
    let mut chat = open_chat(r#"{"user":"alice"}"#, true).unwrap();
    let result = chat.receive(GROUP_MESSAGE, "hi");
    assert_eq!(field(&result, "outcome"), "unsaved");
    assert!(field(&result, "reason").contains("quota"), "{result}");
    assert_eq!(chat.history("group:g1").len(), 1);
}

#[wasm_bindgen_test]
fn normalize_ignores_with_reasons() {
    let mut chat = open_chat(r#"{"user":"alice"}"#, false).unwrap();
    for bad in ["null", "[]", "\"x\"", r#"{"id":"1"}"#, r#"{"id":"1","type":"txt","from":"b","to":"a","time":1}"#] {
        let result = chat.receive(bad, "");
        assert_eq!(field(&result, "outcome"), "ignored", "{bad}");
        assert!(!field(&result, "reason").is_empty(), "{bad}: {result}");
    }
}

#[wasm_bindgen_test]
fn create_chat_and_build_errors_say_what_to_fix() {
    for (config, needle) in [("{}", "user"), (r#"{"user":""}"#, "empty"), (r#"{"user":7}"#, "string"), ("[1]", "object")] {
        let message = open_chat(config, false).err().expect("an error");
        assert!(message.contains(needle), "{config}: {message}");
    }
    let mut chat = open_chat(r#"{"user":"alice","profile":{"nickname":"Alice"}}"#, false).unwrap();
    send(r#"{"type":"txt","chatType":"chatRoom","to":"r1","msg":"hi [):]"}"#, "1");
    let built = out(chat.core.build().unwrap());
    assert_eq!(field(&built, "chatType"), "chatRoom");
    assert_eq!(field(&built, "group"), "groupchat");
    assert_eq!(field(&built, "userNickname"), "Alice");
    for (input, needle) in [(r#"{"type":"txt","msg":"hi"}"#, "to"), (r#"{"type":"gif","to":"bob"}"#, "gif")] {
        send(input, "1");
        let message = error_message(chat.core.build().err().expect("an error").into());
        assert!(message.contains(needle), "{input}: {message}");
    }
}

#[wasm_bindgen_test]
fn emoji_exports() {
    let table = out(emoji_default());
    assert!(table.starts_with("[[\"[):]\",\"ee_1.png\"],[\"[:D]\",\"ee_2.png\"]"), "{table}");
    // U+0301 extends what comes before it; U+0600 (an Arabic number sign) is a prepend mark.
    assert_eq!((emoji_joins(0x0301), emoji_joins(0x0600), emoji_joins(0x4E2D)), (2, 1, 0));
    send("\"😀[):]x[:D]\"", "1");
    assert_eq!(out(emoji_spans_default()), "[2,6,0,7,11,1]");
    send("\"a👍🏽\"", "1");
    assert_eq!(delete_last_default(), 1);
}

#[wasm_bindgen_test]
fn format_time_labels_and_errors() {
    let now = 1_764_129_600_000.0; // 2025-11-26 12:00 UTC+8
    assert_eq!(out(format_time(now - 3_600_000.0, now, f64::NAN, 0).unwrap()), "11:00");
    assert_eq!(out(format_time(now - 86_400_000.0, now, f64::NAN, 1).unwrap()), "Yesterday 12:00");
    let err = format_time(f64::NAN, now, f64::NAN, 0).err().expect("an error");
    assert!(!error_message(err.into()).is_empty());
    let err = format_time(now, now, 5000.0, 0).err().expect("an error");
    assert!(error_message(err.into()).contains("5000"));
}

#[wasm_bindgen_test]
fn a_failed_send_is_resent_as_the_same_record_and_other_records_are_refused_with_reasons() {
    let mut chat = open_chat(r#"{"user":"alice"}"#, false).unwrap();
    let mine = r#"{"id":"local1","type":"txt","chatType":"singleChat","from":"alice","to":"bob","msg":"hi","time":1700000000000}"#;
    assert_eq!(field(&chat.store(mine, "hi", true), "outcome"), "stored");
    assert_eq!(field(&chat.history("single:bob")[0], "status"), "sending");
    let resend = |chat: &mut Chat, id: &str, commit: bool| {
        send(&format!("[\"{id}\"]"), "1");
        chat.core.resend(commit).map(out).map_err(|e| error_message(e.into()))
    };
    let refused = resend(&mut chat, "local1", true).err().expect("sending is not failed");
    assert!(refused.contains("is sending, not failed"), "{refused}");
    send("[\"local1\"]", "1");
    assert_eq!(field(&out(chat.core.fail().unwrap()), "outcome"), "updated");
    assert_eq!(field(&resend(&mut chat, "local1", false).unwrap(), "outcome"), "unchanged");
    assert_eq!(field(&chat.history("single:bob")[0], "status"), "failed");
    assert_eq!(field(&resend(&mut chat, "local1", true).unwrap(), "outcome"), "updated");
    assert_eq!(field(&chat.history("single:bob")[0], "status"), "sending");
    send("[\"local1\",\"srv1\"]", "1");
    assert_eq!(field(&out(chat.core.ack(f64::NAN).unwrap()), "outcome"), "updated");
    assert_eq!(chat.history("single:bob").iter().map(|r| field(r, "id")).collect::<Vec<_>>(), ["srv1"]);
    assert_eq!(field(&chat.receive(GROUP_MESSAGE, "hi"), "outcome"), "stored");
    for (id, needle) in [("7", "someone else"), ("srv1", "is sent, not failed"), ("nope", "no record \"nope\""), ("", "no record")] {
        let message = resend(&mut chat, id, false).err().expect("refused");
        assert!(message.starts_with("mpchat: resend: ") && message.contains(needle), "{id}: {message}");
    }
}
