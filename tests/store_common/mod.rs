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

/// What a crash may leave on storage: heads naming values that are gone only when the count of keys
/// tells (opening counts the keys against what the heads name, and repairs when they differ). A
/// named value that is missing balanced by a value no head names would go unnoticed: records of
/// the head lost to a page, and bytes counted that are not there.
pub fn check_heads_name_what_is_there(mem: &MemoryStorage, context: &str) {
    const PREFIX: &str = "mpchat/2/me/";
    let keys: std::collections::BTreeSet<String> = mem.key_list().into_iter().filter(|k| k.starts_with(PREFIX)).collect();
    let mut named = std::collections::BTreeSet::new();
    for key in keys.iter().filter(|k| k.starts_with(&format!("{PREFIX}h/"))) {
        let Ok(head) = serde_json::from_str::<serde_json::Value>(mem.peek(key).unwrap_or("")) else {
            continue;
        };
        let name = &key[PREFIX.len() + 2..];
        named.insert(key.clone());
        let number = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
        let s = &head["s"];
        let (first, last) = (number(&s[0]), number(&s[1]));
        let list = |v: &serde_json::Value| -> Vec<u64> { v.as_array().map(|a| a.iter().map(number).collect()).unwrap_or_default() };
        let (holes, extra) = (list(&s[2]), list(&s[3]));
        if first > 0 {
            let mut seq = first;
            while seq <= last {
                if !holes.contains(&seq) {
                    named.insert(format!("{PREFIX}c/{name}/{seq}"));
                }
                // Chunk numbers on the main line step by 2^32 (the layout's SEQ_STEP).
                seq += 1 << 32;
            }
        }
        for seq in extra {
            named.insert(format!("{PREFIX}c/{name}/{seq}"));
        }
        let loose_holes = list(&head["lh"]);
        for n in number(&head["f"])..number(&head["n"]) {
            if !loose_holes.contains(&n) {
                named.insert(format!("{PREFIX}r/{name}/{n}"));
            }
        }
    }
    let records = |k: &&String| k.starts_with(&format!("{PREFIX}h/")) || k.starts_with(&format!("{PREFIX}c/")) || k.starts_with(&format!("{PREFIX}r/"));
    let missing: Vec<&String> = named.iter().filter(|k| !keys.contains(*k)).collect();
    let unnamed: Vec<&String> = keys.iter().filter(records).filter(|k| !named.contains(*k)).collect();
    assert!(
        missing.is_empty() || missing.len() != unnamed.len(),
        "{context}: heads name {missing:?}, which are gone, and as many values no head names ({unnamed:?}): the key count cannot tell"
    );
}
