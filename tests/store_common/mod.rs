//! Helpers shared by the store tests.
#![allow(dead_code)]

use mpchat::json::Json;
use mpchat::store::{KeyValue, MemoryStorage, Store, StoreOptions, TextBackend};
use mpchat::{ConversationId, Direction, MsgType, Record, Sender, Status};

/// The store tests' store: documents over a string key-value storage.
pub type TestStore<K> = Store<TextBackend<K>>;

/// A text record in `conversation` (`<kind>:<id>`), from `from` (`me` means the logged-in user "me").
pub fn rec(conversation: &str, id: &str, time: i64, from: &str, text: &str) -> Record {
    let conv = ConversationId::parse(conversation).unwrap();
    let mine = from == "me";
    Record {
        id: id.into(),
        conversation: conv.to_string(),
        kind: conv.kind,
        from: from.into(),
        to: if mine { conv.id.clone() } else { "me".into() },
        direction: if mine { Direction::Out } else { Direction::In },
        time,
        msg_type: MsgType::Txt,
        text: Some(text.into()),
        body: None,
        sender: Sender {
            id: from.into(),
            nickname: None,
            avatar: None,
        },
        mentions: None,
        mentions_me: false,
        status: if mine { Status::Sent } else { Status::Received },
        recalled: false,
        ext: Json::object(),
        quote: None,
    }
}

/// A record of about `size` bytes of JSON.
pub fn sized(conversation: &str, id: &str, time: i64, from: &str, size: usize) -> Record {
    let base = rec(conversation, id, time, from, "").to_json().len();
    rec(
        conversation,
        id,
        time,
        from,
        &"x".repeat(size.saturating_sub(base)),
    )
}

pub fn open<K: KeyValue>(kv: K) -> TestStore<K> {
    open_as(kv, "me")
}

pub fn open_as<K: KeyValue>(kv: K, user: &str) -> TestStore<K> {
    Store::open(TextBackend::new(kv), user, StoreOptions::default()).unwrap().0
}

pub fn open_with<K: KeyValue>(kv: K, total_bytes: u64) -> TestStore<K> {
    Store::open(TextBackend::new(kv), "me", StoreOptions { total_bytes }).unwrap().0
}

/// Opens and returns the report too.
pub fn open_report<K: KeyValue>(kv: K, user: &str) -> (TestStore<K>, mpchat::store::OpenReport) {
    Store::open(TextBackend::new(kv), user, StoreOptions::default()).unwrap()
}

pub fn ids(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| r.id.clone()).collect()
}

/// Every record of a conversation, oldest first, paging through history 50 at a time.
pub fn all_history<K: KeyValue>(store: &mut TestStore<K>, conversation: &str) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = store.history(conversation, before.as_deref(), 50).unwrap();
        if page.is_empty() {
            break;
        }
        before = page.first().map(|r| r.id.clone());
        let mut merged = page;
        merged.extend(out);
        out = merged;
    }
    out
}

pub fn memory() -> MemoryStorage {
    MemoryStorage::with_wx_limits()
}
