//! Sends in flight across a crash: a record of mine left `sending` by a killed app is `failed` after the
//! next open, an acknowledged one never is, whatever write the app died at; a failed record can be
//! sent again as the same record; and a file of mine being sent takes its server URL once uploaded.
//! Native only: wasm-pack test runs tests/wasm.rs.
#![cfg(not(target_arch = "wasm32"))]
mod store_common;

use mpchat::json::Json;
use mpchat::store::{
    Ignored, InsertOutcome, KeyValue, MemoryStorage, ResendRefusal, UpdateOutcome,
};
use mpchat::{Error, MsgType, Record, Status};
use store_common::*;

const SENDS_KEY: &str = "mpchat/2/me/x/sends";

/// A record of mine being sent.
fn sending(conversation: &str, id: &str, time: i64, text: &str) -> Record {
    let mut r = rec(conversation, id, time, "me", text);
    r.status = Status::Sending;
    r
}

/// (id, status) of every record of a conversation.
fn statuses<K: KeyValue>(store: &mut TestStore<K>, conversation: &str) -> Vec<(String, Status)> {
    all_history(store, conversation).into_iter().map(|r| (r.id, r.status)).collect()
}

fn s(id: &str, status: Status) -> (String, Status) {
    (id.to_string(), status)
}

/// Opens as the shim does: open, then settle what an earlier session left `sending`.
fn reopen(mem: &mut MemoryStorage) -> (TestStore<&mut MemoryStorage>, usize) {
    let mut store = open(mem);
    let failed = store.fail_interrupted_sends().unwrap();
    (store, failed)
}

#[test]
fn a_send_the_app_was_killed_during_is_failed_at_the_next_open() {
    let mut mem = memory();
    {
        let mut store = open(&mut mem);
        store.insert(rec("single:bob", "in1", 10, "bob", "hi")).unwrap();
        assert_eq!(store.insert_sending(sending("single:bob", "local1", 20, "hello?")).unwrap(), InsertOutcome::Stored);
        assert_eq!(store.insert_sending(sending("group:g", "local2", 30, "anyone?")).unwrap(), InsertOutcome::Stored);
        assert_eq!(store.sends_in_flight(), vec!["local1", "local2"]);
        // Killed here: no ack, no failure.
    }
    let (mut store, failed) = reopen(&mut mem);
    assert_eq!(failed, 2);
    assert_eq!(statuses(&mut store, "single:bob"), vec![s("in1", Status::Received), s("local1", Status::Failed)]);
    assert_eq!(statuses(&mut store, "group:g"), vec![s("local2", Status::Failed)]);
    assert!(store.sends_in_flight().is_empty());
    assert_eq!(mem.peek(SENDS_KEY), Some("[]"));
    // Once settled, nothing is failed again.
    let (mut store, failed) = reopen(&mut mem);
    assert_eq!(failed, 0);
    assert_eq!(statuses(&mut store, "single:bob"), vec![s("in1", Status::Received), s("local1", Status::Failed)]);
}

#[test]
fn acknowledged_and_refused_sends_leave_nothing_in_flight() {
    let mut mem = memory();
    {
        let mut store = open(&mut mem);
        store.insert_sending(sending("single:bob", "local1", 20, "one")).unwrap();
        store.insert_sending(sending("single:bob", "local2", 21, "two")).unwrap();
        assert_eq!(store.send_acked("local1", "srv1", Some(25)).unwrap(), UpdateOutcome::Updated);
        assert_eq!(store.send_failed("local2").unwrap(), UpdateOutcome::Updated);
        assert!(store.sends_in_flight().is_empty());
        // A late ack after the shim gave up still turns the record sent.
        assert_eq!(store.send_acked("local2", "srv2", Some(40)).unwrap(), UpdateOutcome::Updated);
    }
    assert_eq!(mem.peek(SENDS_KEY), Some("[]"));
    let (mut store, failed) = reopen(&mut mem);
    assert_eq!(failed, 0);
    assert_eq!(statuses(&mut store, "single:bob"), vec![s("srv1", Status::Sent), s("srv2", Status::Sent)]);
}

#[test]
fn opening_with_no_send_in_flight_reads_no_more_than_before() {
    let mut mem = memory();
    {
        let mut store = open(&mut mem);
        store.insert(rec("single:bob", "in1", 10, "bob", "hi")).unwrap();
        store.insert_sending(sending("single:bob", "local1", 20, "hello")).unwrap();
        store.send_acked("local1", "srv1", None).unwrap();
    }
    let start = mem.calls();
    drop(open(&mut mem));
    let plain_open = mem.calls() - start;
    let start = mem.calls();
    let (store, failed) = reopen(&mut mem);
    drop(store);
    assert_eq!((failed, mem.calls() - start), (0, plain_open), "an empty list of sends is not read");
}

#[test]
fn resend_takes_only_my_failed_records_and_names_them_again() {
    let mut mem = memory();
    let mut store = open(&mut mem);
    store.insert(rec("single:bob", "in1", 10, "bob", "hi")).unwrap();
    store.insert_sending(sending("single:bob", "local1", 20, "lost")).unwrap();
    store.insert_sending(sending("single:bob", "local2", 21, "fine")).unwrap();
    store.send_failed("local1").unwrap();
    store.send_acked("local2", "srv2", None).unwrap();
    let table = [
        ("in1", Some(ResendRefusal::NotMine)),
        ("srv2", Some(ResendRefusal::NotFailed(Status::Sent))),
        ("nope", Some(ResendRefusal::NotFound)),
        ("", Some(ResendRefusal::NotFound)),
        ("local1", None),
    ];
    for (id, refusal) in table {
        assert_eq!(store.resend_refusal(id).unwrap(), refusal, "{id:?}");
    }
    assert_eq!(store.resend_started("srv2").unwrap(), Err(ResendRefusal::NotFailed(Status::Sent)));
    assert_eq!(store.resend_started("local1").unwrap(), Ok(UpdateOutcome::Updated));
    assert_eq!(store.sends_in_flight(), vec!["local1"]);
    // Sending now: a second resend is refused.
    assert_eq!(store.resend_started("local1").unwrap(), Err(ResendRefusal::NotFailed(Status::Sending)));
    assert_eq!(statuses(&mut store, "single:bob"), vec![s("in1", Status::Received), s("local1", Status::Sending), s("srv2", Status::Sent)]);
    drop(store);
    // Killed during the resend: failed again at the next open, still one record.
    let (mut store, failed) = reopen(&mut mem);
    assert_eq!(failed, 1);
    assert_eq!(statuses(&mut store, "single:bob"), vec![s("in1", Status::Received), s("local1", Status::Failed), s("srv2", Status::Sent)]);
    // Resent after the restart (history has read it) and acknowledged: one record, under the server id.
    assert_eq!(store.resend_started("local1").unwrap(), Ok(UpdateOutcome::Updated));
    assert_eq!(store.send_acked("local1", "srv1", Some(30)).unwrap(), UpdateOutcome::Updated);
    assert_eq!(statuses(&mut store, "single:bob"), vec![s("in1", Status::Received), s("srv2", Status::Sent), s("srv1", Status::Sent)]);
    assert!(store.sends_in_flight().is_empty());
}

#[test]
fn a_send_sealed_into_a_chunk_before_the_crash_is_still_failed() {
    let mut mem = memory();
    {
        let mut store = open(&mut mem);
        store.insert_sending(sending("single:bob", "local1", 5, "early")).unwrap();
        // Enough received after it that the sending record is sealed into a chunk.
        for i in 0..40 {
            store.insert(rec("single:bob", &format!("in{i:02}"), 10 + i, "bob", "x")).unwrap();
        }
    }
    assert!(mem.key_list().iter().any(|k| k.starts_with("mpchat/2/me/c/single:bob/")), "the layout this test needs");
    let (mut store, failed) = reopen(&mut mem);
    assert_eq!(failed, 1);
    let history = statuses(&mut store, "single:bob");
    assert_eq!(history.len(), 41);
    assert_eq!(history[0], s("local1", Status::Failed));
}

#[test]
fn unreadable_lists_of_sends_are_skipped_and_never_stop_opening() {
    for planted in ["{", "42", r#"[["a"],[1,2,3],["local1","not a conversation",1],["local1","single:bob",1.5]]"#] {
        let mut mem = memory();
        {
            let mut store = open(&mut mem);
            store.insert_sending(sending("single:bob", "local1", 20, "hello")).unwrap();
        }
        mem.plant(SENDS_KEY, planted);
        let mut store = open(&mut mem);
        assert_eq!(store.fail_interrupted_sends().unwrap(), 0, "{planted}");
        assert_eq!(all_history(&mut store, "single:bob").len(), 1, "{planted}");
        // New sends are named again from an empty list.
        store.insert_sending(sending("single:bob", "local2", 30, "again")).unwrap();
        assert_eq!(store.sends_in_flight(), vec!["local2"], "{planted}");
    }
}

/// A storage that dies after `writes` more writes: every later set or remove throws, as if the app were
/// killed there. Reads keep working, so the test can look at what reached storage.
struct DiesAfter<'a> {
    inner: &'a mut MemoryStorage,
    writes: u64,
}

impl KeyValue for DiesAfter<'_> {
    fn get(&mut self, key: &str) -> mpchat::Result<Option<String>> {
        self.inner.get(key)
    }
    fn set(&mut self, key: &str, value: &str) -> mpchat::Result<()> {
        if self.writes == 0 {
            return Err(Error::storage("killed"));
        }
        self.writes -= 1;
        self.inner.set(key, value)
    }
    fn remove(&mut self, key: &str) -> mpchat::Result<()> {
        if self.writes == 0 {
            return Err(Error::storage("killed"));
        }
        self.writes -= 1;
        self.inner.remove(key)
    }
    fn keys(&mut self) -> mpchat::Result<Vec<String>> {
        self.inner.keys()
    }
}

/// The session a sweep kills: a record received, then a send acknowledged, one refused, and one resent
/// and acknowledged. Errors are what a dying storage gives; the session goes on as an app would.
fn session<K: KeyValue>(store: &mut TestStore<K>) {
    let _ = store.insert(rec("single:bob", "in1", 10, "bob", "hi"));
    let _ = store.insert_sending(sending("single:bob", "a", 20, "acked"));
    let _ = store.send_acked("a", "srvA", Some(21));
    let _ = store.insert_sending(sending("single:bob", "b", 30, "refused"));
    let _ = store.send_failed("b");
    let _ = store.insert_sending(sending("group:g", "c", 40, "resent"));
    let _ = store.send_failed("c");
    let _ = store.resend_started("c");
    let _ = store.send_acked("c", "srvC", Some(45));
}

/// What reached storage, read without settling anything: (id, status) of each conversation.
fn on_storage(mem: &mut MemoryStorage) -> Vec<(String, Status)> {
    let mut store = open(mem);
    let mut all = statuses(&mut store, "single:bob");
    all.extend(statuses(&mut store, "group:g"));
    all
}

/// Reopens after a session and checks what became of each record that reached storage: `sending` ones
/// are `failed`, every other keeps its status and id; nothing is `sending`; a third open settles nothing.
fn check_reopened(mem: &mut MemoryStorage, what: &str) -> Vec<(String, Status)> {
    let before = on_storage(mem);
    let (mut store, failed) = reopen(mem);
    let mut after = statuses(&mut store, "single:bob");
    after.extend(statuses(&mut store, "group:g"));
    drop(store);
    let what = format!("{what}: {before:?} became {after:?}");
    assert_eq!(before.iter().map(|r| &r.0).collect::<Vec<_>>(), after.iter().map(|r| &r.0).collect::<Vec<_>>(), "{what}");
    for ((id, was), (_, now)) in before.iter().zip(&after) {
        let expected = if *was == Status::Sending { Status::Failed } else { *was };
        assert_eq!(*now, expected, "{what}: {id}");
    }
    assert_eq!(failed, before.iter().filter(|r| r.1 == Status::Sending).count(), "{what}");
    let (store, failed) = reopen(mem);
    assert_eq!((failed, store.report().skipped_corrupt), (0, 0), "{what}");
    after
}

#[test]
fn a_write_that_throws_anywhere_in_the_session_leaves_no_acked_record_failed_and_none_sending() {
    let calls = {
        let mut probe = memory();
        let mut store = open(&mut probe);
        let start = store.backend().kv().calls();
        session(&mut store);
        store.backend().kv().calls() - start
    };
    assert!(calls > 20, "{calls}");
    for k in 1..=calls {
        let mut mem = memory();
        {
            let mut store = open(&mut mem);
            let at = store.backend().kv().calls() + k;
            store.backend().kv().fail_call(at);
            // The session goes on past the throw (the next flushes retry), then the app is killed.
            session(&mut store);
        }
        mem.heal();
        check_reopened(&mut mem, &format!("call {k} of {calls} threw"));
    }
}

#[test]
fn killed_at_any_write_of_sends_and_acks_no_acked_record_is_failed_and_none_stays_sending() {
    let writes = {
        let mut probe = memory();
        let mut counting = DiesAfter { inner: &mut probe, writes: u64::MAX };
        session(&mut open(&mut counting));
        u64::MAX - counting.writes
    };
    assert!(writes > 20, "{writes}");
    let (mut failed_some, mut kept_acked) = (0, 0);
    for k in 0..=writes {
        let mut mem = memory();
        {
            let mut dying = DiesAfter { inner: &mut mem, writes: k };
            session(&mut open(&mut dying));
        }
        let before = on_storage(&mut mem);
        let after = check_reopened(&mut mem, &format!("killed after {k} of {writes} writes"));
        failed_some += usize::from(before.iter().any(|r| r.1 == Status::Sending));
        kept_acked += usize::from(after.iter().any(|r| r.0 == "srvA" && r.1 == Status::Sent));
        // A list killed before the state recorded its size can stay on storage, unread: what it names is
        // not `sending` (the record was never written, or is failed), so it changes nothing.
        let named: serde_json::Value = serde_json::from_str(mem.peek(SENDS_KEY).unwrap_or("[]")).unwrap();
        for name in named.as_array().unwrap() {
            assert!(!after.iter().any(|r| r.0 == name[0] && r.1 == Status::Sending), "after {k}: {name}");
        }
        if k == writes {
            assert_eq!(after, vec![s("in1", Status::Received), s("srvA", Status::Sent), s("b", Status::Failed), s("srvC", Status::Sent)]);
        }
    }
    // The sweep went through both cases: kills while a record was stored sending, and after an ack landed.
    assert!(failed_some >= 3 && kept_acked >= 10, "{failed_some} {kept_acked}");
}

/// A file-like record of mine being sent, its body naming the phone's own path.
fn sending_file(id: &str, time: i64, msg_type: MsgType, path: &str) -> Record {
    let mut r = sending("single:bob", id, time, "");
    r.msg_type = msg_type;
    r.text = None;
    let mut body = Json::object();
    body.insert("url", Json::String(path.into()));
    body.insert("filename", Json::String("f".into()));
    r.body = Some(body);
    r
}

fn body_of<K: KeyValue>(store: &mut TestStore<K>, id: &str) -> (Option<String>, Option<String>) {
    let record = all_history(store, "single:bob")
        .into_iter()
        .find(|r| r.id == id)
        .expect("record kept");
    let body = record.body.expect("a body");
    (
        body.get("url").and_then(Json::as_str).map(str::to_string),
        body.get("thumb").and_then(Json::as_str).map(str::to_string),
    )
}

#[test]
fn an_upload_replaces_the_phones_path_while_sending_and_nothing_else() {
    let mut mem = memory();
    {
        let mut store = open(&mut mem);
        store
            .insert_sending(sending_file(
                "local1",
                10,
                MsgType::Img,
                "wxfile://tmp_1.png",
            ))
            .unwrap();
        store
            .insert_sending(sending_file(
                "local2",
                11,
                MsgType::Video,
                "http://tmp/2.mp4",
            ))
            .unwrap();
        store
            .insert_sending(sending_file(
                "local3",
                12,
                MsgType::File,
                "wxfile://tmp_3.pdf",
            ))
            .unwrap();
        store
            .insert_sending(sending("single:bob", "local4", 13, "a text"))
            .unwrap();
        store
            .insert(rec("single:bob", "in1", 14, "bob", "theirs"))
            .unwrap();
        let up = |store: &mut TestStore<_>, id: &str, url: &str, thumb: Option<&str>| {
            store.uploaded(id, url, thumb).unwrap()
        };

        // Secret query parameters never reach a record; a poster is kept for a video only.
        assert_eq!(
            up(
                &mut store,
                "local1",
                "https://a1.easemob.com/o/a/chatfiles/u1?secret=S",
                Some("https://x/t")
            ),
            Ok(UpdateOutcome::Updated)
        );
        assert_eq!(
            up(
                &mut store,
                "local2",
                "https://a1.easemob.com/o/a/chatfiles/u2",
                Some("https://a1.easemob.com/o/a/chatfiles/u3")
            ),
            Ok(UpdateOutcome::Updated)
        );
        assert_eq!(
            body_of(&mut store, "local1"),
            (Some("https://a1.easemob.com/o/a/chatfiles/u1".into()), None)
        );
        assert_eq!(
            body_of(&mut store, "local2"),
            (
                Some("https://a1.easemob.com/o/a/chatfiles/u2".into()),
                Some("https://a1.easemob.com/o/a/chatfiles/u3".into())
            )
        );

        // Refused: not a file, not mine, not sending, unknown, no URL. Nothing changes.
        assert_eq!(
            up(&mut store, "local4", "https://x/u", None),
            Err(Ignored::NotFile("txt".into()))
        );
        assert_eq!(
            up(&mut store, "in1", "https://x/u", None),
            Err(Ignored::NotMine)
        );
        assert_eq!(
            up(&mut store, "nope", "https://x/u", None),
            Err(Ignored::NotFound)
        );
        assert_eq!(up(&mut store, "local3", "", None), Err(Ignored::NoUrl));
        assert_eq!(store.send_failed("local3").unwrap(), UpdateOutcome::Updated);
        assert_eq!(
            up(&mut store, "local3", "https://x/u", None),
            Err(Ignored::NotSending)
        );
        assert_eq!(
            body_of(&mut store, "local3"),
            (Some("wxfile://tmp_3.pdf".into()), None)
        );
        for why in [
            Ignored::NotFile("txt".into()),
            Ignored::NotSending,
            Ignored::NoUrl,
        ] {
            assert!(!why.reason().is_empty());
        }

        // The acknowledgement keeps the server URL under the server id.
        assert_eq!(
            store.send_acked("local1", "srv1", Some(20)).unwrap(),
            UpdateOutcome::Updated
        );
        let accounted = store.report().bytes_used;
        drop(store);
        assert_eq!(
            accounted,
            mem.bytes_under("mpchat/2/me/"),
            "byte accounting after uploads"
        );
    }
    // Reopened: the upload read back; the failed one still names the phone's path (resend uploads it).
    let (mut store, _) = reopen(&mut mem);
    assert_eq!(
        body_of(&mut store, "srv1"),
        (Some("https://a1.easemob.com/o/a/chatfiles/u1".into()), None)
    );
    assert_eq!(
        body_of(&mut store, "local3"),
        (Some("wxfile://tmp_3.pdf".into()), None)
    );
}
