//! The wasm exports as JavaScript sees them, run by `wasm-pack test --node`: values come back as plain
//! objects, and bad input comes back as an `Error` whose message says what to fix, never as a trap.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Error, Reflect};
use mpchat::wasm::{format_time, ChatCore, EmojiScanner, JsStorage};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

// The storage adapter's shape (js-glue/storage.js) over a Map; `failSets` makes every set throw as wx
// does when it is full.
#[wasm_bindgen(inline_js = "
export function memoryStorage(failSets) {
  const map = new Map()
  return {
    get: (key) => map.get(key),
    set: (key, value) => { if (failSets) throw new Error('setStorageSync: fail quota reached'); map.set(key, value) },
    remove: (key) => { map.delete(key) },
    keys: () => [...map.keys()],
  }
}")]
extern "C" {
    #[wasm_bindgen(js_name = memoryStorage)]
    fn memory_storage(fail_sets: bool) -> JsStorage;
}

fn get(value: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(value.clone(), |v, key| Reflect::get(&v, &key.into()).unwrap_or(JsValue::UNDEFINED))
}

fn error_message(value: JsValue) -> String {
    value.dyn_into::<Error>().map(|e| String::from(e.message())).unwrap_or_else(|v| format!("not an Error: {v:?}"))
}

fn chat(config: &str) -> ChatCore {
    ChatCore::new(config, memory_storage(false)).unwrap_or_else(|e| panic!("{}", error_message(e)))
}

#[wasm_bindgen_test]
fn build_returns_sdk_options_as_an_object() {
    let chat = chat(r#"{"user":"alice","profile":{"nickname":"Alice","avatar":"https://x.test/a.png"}}"#);
    let options = chat.build(r#"{"type":"txt","chatType":"chatRoom","to":"r1","msg":"hi [):]"}"#).unwrap();
    assert_eq!(get(&options, "chatType"), "chatRoom");
    assert_eq!(get(&options, "group"), "groupchat");
    assert_eq!(get(&options, "roomType"), JsValue::TRUE);
    assert_eq!(get(&options, "ext.userNickname"), "Alice");
    assert_eq!(get(&options, "ext.ease_chat_uikit_user_info.avatarURL"), "https://x.test/a.png");
}

#[wasm_bindgen_test]
fn build_errors_are_js_errors_that_say_what_to_fix() {
    let chat = chat(r#"{"user":"alice"}"#);
    let table = [
        (r#"{"type":"txt","msg":"hi"}"#, "to"),
        (r#"{"type":"txt","to":"bob","msg":""}"#, "empty"),
        (r#"{"type":"gif","to":"bob"}"#, "gif"),
        (r#"{"type":"txt","chatType":"party","to":"bob","msg":"x"}"#, "party"),
        ("[1,2]", "object"),
        ("{", "build input"),
    ];
    for (input, needle) in table {
        let message = error_message(chat.build(input).unwrap_err());
        assert!(message.contains(needle), "{input}: {message}");
    }
}

#[wasm_bindgen_test]
fn normalize_routes_and_ignores_with_reasons() {
    let chat = chat(r#"{"user":"alice"}"#);
    let ok = chat
        .normalize(r#"{"id":"1","type":"chatroom","from":"bob","to":"r1","data":"x","time":"1700000000000"}"#)
        .unwrap();
    assert_eq!(get(&ok, "outcome"), "ok");
    assert_eq!(get(&ok, "conversation"), "chatroom:r1");
    assert_eq!(get(&ok, "record.time").as_f64(), Some(1_700_000_000_000.0));
    for bad in ["null", "[]", "\"x\"", r#"{"id":"1"}"#, "{\"a\":", &"[".repeat(10_000)] {
        let ignored = chat.normalize(bad).unwrap();
        assert_eq!(get(&ignored, "outcome"), "ignored", "{bad:.40}");
        assert!(get(&ignored, "reason").as_string().is_some_and(|r| !r.is_empty()));
    }
}

#[wasm_bindgen_test]
fn create_chat_needs_a_user() {
    for (config, needle) in [("{}", "user"), (r#"{"user":""}"#, "empty"), (r#"{"user":7}"#, "string")] {
        let message = error_message(ChatCore::new(config, memory_storage(false)).err().expect("an error"));
        assert!(message.contains(needle), "{config}: {message}");
    }
}

#[wasm_bindgen_test]
fn emoji_scanner_reports_utf16_spans() {
    let mut scanner = EmojiScanner::new("").unwrap();
    assert_eq!(scanner.scan("😀[):]x[:D]"), 2);
    let entries = Array::from(&scanner.entries().unwrap());
    assert_eq!(entries.length(), 35);
    assert_eq!(get(&entries.get(1), "code"), "[:D]");
    assert_eq!(scanner.delete_last("a👍🏽"), 1);
    let custom = EmojiScanner::new(r#"{"extra":[{"code":"[ok]","file":"ok.png"}]}"#).unwrap();
    assert_eq!(Array::from(&custom.entries().unwrap()).length(), 36);
    let bad = EmojiScanner::new(r#"{"extra":[{"code":"[del]","file":"x.png"}]}"#).err().expect("rejected");
    assert!(error_message(bad).contains("[del]"));
}

#[wasm_bindgen_test]
fn format_time_labels_and_errors() {
    let now = 1_764_129_600_000.0; // 2025-11-26 12:00 UTC+8
    assert_eq!(format_time(now - 3_600_000.0, &format!(r#"{{"now":{now}}}"#)).unwrap(), "11:00");
    let err = format_time(f64::NAN, &format!(r#"{{"now":{now}}}"#)).unwrap_err();
    assert!(!error_message(err).is_empty());
    let err = format_time(now, &format!(r#"{{"now":{now},"locale":"fr"}}"#)).unwrap_err();
    assert!(error_message(err).contains("fr"));
}

const GROUP_MESSAGE: &str =
    r#"{"id":"7","type":"txt","chatType":"groupChat","from":"bob","to":"g1","msg":"hi","time":1700000000000}"#;

#[wasm_bindgen_test]
fn receive_stores_and_history_reads_it_back() {
    let mut chat = chat(r#"{"user":"alice"}"#);
    assert_eq!(get(&chat.receive(GROUP_MESSAGE).unwrap(), "outcome"), "stored");
    assert_eq!(get(&chat.receive(GROUP_MESSAGE).unwrap(), "outcome"), "duplicate");
    let history = Array::from(&chat.history("group:g1", None, 20).unwrap());
    assert_eq!(history.length(), 1);
    assert_eq!(get(&history.get(0), "text"), "hi");
    assert_eq!(chat.unread_total(), 1.0);
}

#[wasm_bindgen_test]
fn a_storage_that_throws_leaves_the_message_unsaved_not_lost() {
    let mut chat = ChatCore::new(r#"{"user":"alice"}"#, memory_storage(true)).unwrap();
    let result = chat.receive(GROUP_MESSAGE).unwrap();
    assert_eq!(get(&result, "outcome"), "unsaved");
    assert!(get(&result, "reason").as_string().is_some_and(|r| r.contains("quota")));
    assert_eq!(Array::from(&chat.history("group:g1", None, 20).unwrap()).length(), 1);
}
