//! The invariants the fuzz targets check, shared with `tests/fuzz_regressions.rs` (which includes this
//! file by path) so that an input a fuzzer found is replayed against exactly the same checks.
//! Every check panics with a message naming the broken invariant.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use mpchat::build::build_value;
use mpchat::emoji::{delete_last, parse, spans_utf16, EmojiTable, Segment};
use mpchat::normalize::{normalize_json, normalize_value, Context};
use mpchat::profile::{ExtKeys, Profile, ProfileCache, ProfilePolicy};
use mpchat::json::Json;
use mpchat::store::{
    InsertOutcome, KeyValue, MemoryStorage, Store, StoreOptions, TextBackend, UpdateOutcome, WX_KEY_LIMIT,
};
use mpchat::{ConversationId, Direction, MsgType, Record, Result, Sender, Status};
use serde_json::Value;

/// The logged-in user of every check.
pub const ME: &str = "me";

/// Tokenizer invariants for one text: segments reassemble it, UTF-16 spans agree with the
/// segments, and the delete key always leaves a strict prefix (or empty for empty text).
pub fn check_emoji(table: &EmojiTable, text: &str) {
    let segments = parse(table, text);
    let joined: String = segments.iter().map(Segment::source).collect();
    assert_eq!(joined, text, "segments do not reassemble the text");
    for pair in segments.windows(2) {
        if let [Segment::Text(_), Segment::Text(_)] = pair {
            panic!("two text segments in a row: {pair:?}");
        }
    }
    let index: HashMap<(&str, &str), u32> = table.entries().zip(0..).collect();
    let mut expected = Vec::new();
    let mut units = 0u32;
    for segment in &segments {
        let len = segment.source().encode_utf16().count() as u32;
        assert!(!segment.source().is_empty(), "empty segment");
        if let Segment::Emoji { code, file } = segment {
            let entry = index.get(&(*code, *file)).expect("an emoji segment names a table entry");
            expected.extend([units, units + len, *entry]);
        }
        units += len;
    }
    let mut spans = vec![7, 7, 7];
    spans_utf16(table, text, &mut spans);
    assert_eq!(spans, expected, "UTF-16 spans disagree with parse");

    let rest = delete_last(table, text);
    if text.is_empty() {
        assert_eq!(rest, "");
    } else {
        assert!(
            rest.len() < text.len() && text.starts_with(rest),
            "delete_last({text:?}) = {rest:?} is not a strict prefix"
        );
        if let Some(Segment::Emoji { code, .. }) = segments.last() {
            assert_eq!(rest.len(), text.len() - code.len(), "a trailing code goes whole");
        }
    }
}

/// The emoji tables the tokenizer is checked with: Easemob's, and one with short, nested-looking
/// and non-ASCII codes.
pub fn emoji_tables() -> [EmojiTable; 2] {
    let extra = [("[a]", "a.png"), ("[ab]", "ab.png"), ("[é]", "e.png"), ("[:)]", "s.png")];
    let custom = EmojiTable::easemob().with_extra(extra).expect("valid codes");
    [EmojiTable::easemob(), custom]
}

/// Runs `f` with a normalising context of user [`ME`] with default keys and policy.
pub fn with_context<T>(f: impl FnOnce(&Context) -> T) -> T {
    let (keys, policy, profiles) = (ExtKeys::default(), ProfilePolicy::default(), ProfileCache::with_capacity(8));
    f(&Context {
        me: ME,
        ext_keys: &keys,
        policy: &policy,
        profiles: &profiles,
    })
}

/// Normalising JSON text never panics; a record that comes out is well-formed, and an escaped
/// lone surrogate never makes a message unreadable.
pub fn check_normalize_json(json: &str) {
    with_context(|ctx| match normalize_json(json, ctx) {
        Ok(record) => check_record(&record),
        Err(ignored) => assert!(
            !(ignored.reason.starts_with("message is not valid JSON") && ignored.reason.contains("surrogate")),
            "a lone surrogate rejected the message: {}",
            ignored.reason
        ),
    });
}

/// Normalising a value never panics, agrees with normalising its JSON text, and yields well-formed records.
pub fn check_normalize_value(message: &Value) {
    with_context(|ctx| {
        let direct = normalize_value(message, ctx);
        if let Ok(record) = &direct {
            check_record(record);
        }
        let text = serde_json::to_string(message).expect("a Value serialises");
        let via_text = normalize_json(&text, ctx);
        assert_eq!(direct.is_ok(), via_text.is_ok(), "value and its JSON text disagree: {direct:?} / {via_text:?}");
    });
}

/// What every normalised record satisfies.
pub fn check_record(record: &Record) {
    assert!(!record.id.is_empty() && record.id.len() <= 256, "id {:?}", record.id);
    assert!((0..1 << 53).contains(&record.time), "time {}", record.time);
    let conversation = ConversationId::parse(&record.conversation).expect("conversation parses");
    assert_eq!(conversation.kind, record.kind, "kind agrees with conversation");
    assert_eq!(conversation.to_string(), record.conversation, "conversation is canonical");
    assert_eq!(record.direction == Direction::Out, record.from == ME, "direction follows from");
    assert_eq!(record.text.is_some(), record.msg_type == MsgType::Txt, "only txt has text");
    serde_json::from_str::<Value>(&record.to_json()).expect("a record's JSON reads back");
}

/// Building never panics; what it builds is an object with a non-empty `to` and a known `type`,
/// and the SDK's echo of it (with `id`, `from` and `time` added) normalises to my record of that type.
pub fn check_build(input: &Value, own: &Profile) {
    let keys = ExtKeys::default();
    let Ok(built) = build_value(input, own, &keys) else {
        return;
    };
    let fields = built.as_object().expect("build yields an object");
    let to = fields.get("to").and_then(Value::as_str).expect("`to` is a string");
    assert!(!to.trim().is_empty(), "empty `to`");
    let msg_type = fields
        .get("type")
        .and_then(Value::as_str)
        .and_then(MsgType::from_name)
        .expect("`type` is a known type");
    let mut echo = fields.clone();
    echo.insert("id".into(), "local-1".into());
    echo.insert("from".into(), ME.into());
    echo.insert("time".into(), 1_700_000_000_000u64.into());
    with_context(|ctx| match normalize_value(&Value::Object(echo), ctx) {
        Ok(record) => {
            assert_eq!(record.msg_type, msg_type, "the echo keeps its type");
            assert_eq!(record.direction, Direction::Out, "the echo is mine");
        }
        Err(ignored) => assert!(
            ignored.reason.contains("limit"),
            "a built message normalises, or is over a size limit: {}",
            ignored.reason
        ),
    });
}

/// The conversations of the store scenarios.
pub const CONVERSATIONS: [&str; 3] = ["single:peer", "group:g", "chatroom:r"];

/// Key prefix of user [`ME`].
pub const PREFIX: &str = "mpchat/2/me/";

/// A message of a scenario, named by namespace and number: incoming `i<n>`, my local `l<n>` and
/// its server id `s<n>`. The number fixes its conversation and time (a message delivered twice
/// is the same message), from a small alphabet so that duplicates and late inserts are common.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    In(u8),
    Local(u8),
    Server(u8),
}

impl Msg {
    pub fn id(self) -> String {
        match self {
            Msg::In(n) => format!("i{n}"),
            Msg::Local(n) => format!("l{n}"),
            Msg::Server(n) => format!("s{n}"),
        }
    }

    fn n(self) -> u8 {
        match self {
            Msg::In(n) | Msg::Local(n) | Msg::Server(n) => n,
        }
    }

    pub fn conversation(self) -> &'static str {
        CONVERSATIONS[usize::from(self.n()) % CONVERSATIONS.len()]
    }

    /// Time in ms: a few distinct values, server times a little later than local ones.
    pub fn time(self) -> i64 {
        let base = i64::from(self.n().wrapping_mul(7) % 13) * 1000;
        match self {
            Msg::Server(_) => base + 500,
            _ => base,
        }
    }

    /// The record of this message with a text of `text_bytes` bytes.
    pub fn record(self, text_bytes: usize) -> Record {
        let conversation = ConversationId::parse(self.conversation()).expect("valid");
        let mine = !matches!(self, Msg::In(_));
        let peer = if conversation.id == "peer" { "peer" } else { "bob" };
        let from = if mine { ME } else { peer };
        Record {
            id: self.id(),
            conversation: conversation.to_string(),
            kind: conversation.kind,
            from: from.into(),
            to: if mine { conversation.id.clone() } else if conversation.id == "peer" { ME.into() } else { conversation.id.clone() },
            direction: if mine { Direction::Out } else { Direction::In },
            time: self.time(),
            msg_type: MsgType::Txt,
            text: Some("x".repeat(text_bytes)),
            body: None,
            sender: Sender { id: from.into(), nickname: None, avatar: None },
            mentions: None,
            mentions_me: false,
            status: match self {
                Msg::In(_) => Status::Received,
                Msg::Local(_) => Status::Sending,
                Msg::Server(_) => Status::Sent,
            },
            recalled: false,
            ext: Json::object(),
            quote: None,
        }
    }
}

/// One step of a store scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Insert { msg: Msg, text_bytes: usize },
    /// The SDK acknowledged local `l<n>` as `s<n>`, with the server time or without.
    Ack { n: u8, with_time: bool },
    Fail { n: u8 },
    Recall { msg: Msg },
    Delivered { n: u8 },
    MarkRead { conversation: usize },
    PeerReadAll { conversation: usize },
    Mute { conversation: usize, on: bool },
    History { conversation: usize, before: Option<Msg>, limit: usize },
    Conversations,
    /// Call number `after` (from 0) of the next step's storage calls throws.
    Fault { after: u64 },
    /// Disarms a fault armed by the step before.
    Heal,
    Reopen,
}

/// Storage left behind by someone: a whole key and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    pub key: String,
    pub value: String,
}

/// A store run: storage planted before the first open, the store's byte budget, the storage's
/// own quota, and the steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub planted: Vec<Planted>,
    pub budget: u64,
    pub quota: u64,
    pub ops: Vec<Op>,
}

/// A [`MemoryStorage`] the checks can inspect while a store writes to it.
#[derive(Clone, Default)]
pub struct Shared(pub Rc<RefCell<MemoryStorage>>);

impl KeyValue for Shared {
    fn get(&mut self, key: &str) -> Result<Option<String>> {
        self.0.borrow_mut().get(key)
    }
    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        self.0.borrow_mut().set(key, value)
    }
    fn remove(&mut self, key: &str) -> Result<()> {
        self.0.borrow_mut().remove(key)
    }
    fn keys(&mut self) -> Result<Vec<String>> {
        self.0.borrow_mut().keys()
    }
}

/// Opens the store; an open that hits an injected fault is a failed start, retried with the faults healed.
fn open(shared: &Shared, budget: u64) -> Store<TextBackend<Shared>> {
    let options = StoreOptions { total_bytes: budget };
    match Store::open(TextBackend::new(shared.clone()), ME, options.clone()) {
        Ok((store, _)) => store,
        Err(_) => {
            shared.0.borrow_mut().heal();
            Store::open(TextBackend::new(shared.clone()), ME, options).expect("open succeeds on a healthy storage").0
        }
    }
}

/// Every record of a conversation, oldest first, paging back 7 at a time.
pub fn all_history(store: &mut Store<TextBackend<Shared>>, conversation: &str) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = store.history(conversation, before.as_deref(), 7).expect("history pages");
        let Some(first) = page.first() else { break };
        before = Some(first.id.clone());
        out.splice(0..0, page);
        assert!(out.len() <= 100_000, "history pages never end");
    }
    out
}

/// Replays a scenario, checking after every step: histories in strict (time, id) order with no id
/// twice, unread counts consistent, the byte budget kept and the byte count true, and every record
/// reported stored still there unless an eviction of its conversation was reported.
pub fn run_scenario(scenario: &Scenario) {
    let shared = Shared::default();
    {
        let mut mem = shared.0.borrow_mut();
        *mem = MemoryStorage::with_limits(WX_KEY_LIMIT, scenario.quota);
        for planted in &scenario.planted {
            mem.plant(&planted.key, &planted.value);
        }
    }
    // Storage may start over the budget (planted values, format 1 values opening moves over, each
    // with a head and an envelope of its own); the store never adds to that.
    let planted_bytes = shared.0.borrow().bytes_under("mpchat/1/me/") + shared.0.borrow().bytes_under(PREFIX);
    let storage_ceiling = scenario.budget.max(planted_bytes + 1024 * scenario.planted.len() as u64);
    // Messages reported stored: id → the ids it may now be known by.
    let mut stored: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    let mut store = open(&shared, scenario.budget);
    // The count the store starts from trusts the metas it read, which may overstate what is there.
    let mut count_ceiling = scenario.budget.max(store.report().bytes_used);
    // A fault is armed by one step and fires during the next; the checks run on a healthy storage.
    let mut armed: Option<u64> = None;
    for (step, op) in scenario.ops.iter().enumerate() {
        if let Some(after) = armed.take() {
            let mut mem = shared.0.borrow_mut();
            let call = mem.calls() + 1 + after;
            mem.fail_call(call);
        }
        match op {
            Op::Insert { msg, text_bytes } => {
                // My records being sent go through the list of sends in flight, as the shim stores them.
                let record = msg.record(*text_bytes);
                let inserted =
                    if matches!(msg, Msg::Local(_)) { store.insert_sending(record) } else { store.insert(record) };
                if let Ok(InsertOutcome::Stored) = inserted {
                    let aliases = BTreeSet::from([msg.id()]);
                    stored.entry(msg.id()).or_insert((msg.conversation().to_string(), aliases));
                }
            }
            Op::Ack { n, with_time } => {
                let (local, server) = (Msg::Local(*n), Msg::Server(*n));
                let time = with_time.then(|| server.time());
                let outcome = store.send_acked(&local.id(), &server.id(), time);
                if matches!(outcome, Ok(UpdateOutcome::Updated | UpdateOutcome::Merged | UpdateOutcome::Unsaved { .. })) {
                    if let Some((_, aliases)) = stored.get_mut(&local.id()) {
                        aliases.insert(server.id());
                    }
                }
            }
            Op::Fail { n } => drop(store.send_failed(&Msg::Local(*n).id())),
            Op::Recall { msg } => drop(store.recall(&msg.id(), "peer")),
            Op::Delivered { n } => drop(store.mark_delivered(&Msg::Server(*n).id())),
            Op::MarkRead { conversation } => drop(store.mark_read(CONVERSATIONS[conversation % 3])),
            Op::PeerReadAll { conversation } => drop(store.peer_read_all(CONVERSATIONS[conversation % 3])),
            Op::Mute { conversation, on } => drop(store.mute(CONVERSATIONS[conversation % 3], *on)),
            Op::History { conversation, before, limit } => {
                let name = CONVERSATIONS[conversation % 3];
                let before = before.map(Msg::id);
                if let Ok(page) = store.history(name, before.as_deref(), *limit) {
                    assert!(page.len() <= *limit, "history returned more than the limit");
                }
            }
            Op::Conversations => drop(store.conversations()),
            Op::Fault { after } => armed = Some(*after),
            Op::Heal => armed = None,
            Op::Reopen => {
                forget_evicted(&mut store, &mut stored);
                drop(store);
                store = open(&shared, scenario.budget);
                // What the last session left `sending` becomes `failed`, as createChat does.
                let _ = store.fail_interrupted_sends();
                count_ceiling = scenario.budget.max(store.report().bytes_used);
            }
        }
        shared.0.borrow_mut().heal();
        forget_evicted(&mut store, &mut stored);
        let ceilings = (storage_ceiling, count_ceiling, scenario.planted.is_empty());
        check_store(&mut store, &shared, &stored, ceilings, step, op);
    }
}

/// Stops expecting records of conversations the store reported evicting from.
fn forget_evicted(store: &mut Store<TextBackend<Shared>>, stored: &mut BTreeMap<String, (String, BTreeSet<String>)>) {
    for event in store.take_evictions() {
        stored.retain(|_, (conversation, _)| *conversation != event.conversation);
    }
}

fn check_store(
    store: &mut Store<TextBackend<Shared>>,
    shared: &Shared,
    stored: &BTreeMap<String, (String, BTreeSet<String>)>,
    (storage_ceiling, count_ceiling, exact_count): (u64, u64, bool),
    step: usize,
    op: &Op,
) {
    let at = format!("after step {step} ({op:?})");
    let mut seen = BTreeSet::new();
    for name in CONVERSATIONS {
        let history = all_history(store, name);
        for pair in history.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!((a.time, &a.id) < (b.time, &b.id), "{name} out of order {at}: {} then {}", a.id, b.id);
        }
        for record in &history {
            assert!(seen.insert(record.id.clone()), "id {} twice {at}", record.id);
            assert_eq!(record.conversation, name, "record {} in the wrong history {at}", record.id);
        }
    }
    for (id, (conversation, aliases)) in stored {
        assert!(
            aliases.iter().any(|a| seen.contains(a)),
            "{id} of {conversation} was reported stored and is gone, with no eviction reported, {at}"
        );
    }
    let list = store.conversations().expect("conversations list");
    let listed_unread = list.iter().filter(|c| !c.muted).map(|c| c.unread).fold(0, u64::saturating_add);
    assert_eq!(store.unread_total(), listed_unread, "unread total is not the sum of the list {at}");
    let report = store.report();
    let on_storage = shared.0.borrow().bytes_under(PREFIX);
    assert!(on_storage <= storage_ceiling, "{on_storage} bytes on storage, over the budget ({storage_ceiling}) {at}");
    assert!(
        report.bytes_used <= count_ceiling,
        "{} bytes counted, over the budget ({count_ceiling}) {at}",
        report.bytes_used
    );
    // Exact when nothing was planted: no meta of someone else's to trust.
    if report.unsaved == 0 && exact_count {
        assert_eq!(report.bytes_used, on_storage, "bytes used disagrees with the storage {at}");
    }
}
