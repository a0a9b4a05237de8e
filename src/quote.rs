//! Quote replies, in the convention Easemob's UIKits read and write: the replying message carries
//! `ext.msgQuote = { msgID, msgPreview, msgSender, msgType }`.
//!
//! Sending, [`Quote::of`] fills it from the stored record being quoted: a short preview readable for
//! every type, and the quoted message's sender (by name when known: one UIKit puts the replier's own
//! name there, which is wrong). Receiving, [`Quote::read`] turns a message's `msgQuote` into
//! `record.quote = { id, preview, sender, type }`, sanitised as all ext is: it is written by the sender.

use unicode_segmentation::UnicodeSegmentation;

use crate::json::{write_str, Json};
use crate::message::{MsgType, Record};
use crate::profile::{sanitize_line, ProfilePolicy};
use crate::tape::Val;

/// The ext key of a quote.
pub const QUOTE_KEY: &str = "msgQuote";
/// User-perceived characters of a text's preview before it is cut with an ellipsis.
pub const PREVIEW_CHARS: usize = 50;
/// Longest preview kept from a received quote.
const RECEIVED_PREVIEW_CHARS: usize = 200;
/// Longest quoted message id kept, in bytes (ids are a few dozen).
const MAX_ID_BYTES: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The quoted message's id.
    pub id: String,
    /// One line standing for the quoted message: its text, cut short, or `[图片]`, `[文件] a.pdf`, ….
    pub preview: String,
    /// Who sent the quoted message: a name, or an id. Empty when unknown.
    pub sender: String,
    pub msg_type: MsgType,
}

impl Quote {
    /// The quote of a stored record.
    pub fn of(record: &Record) -> Quote {
        let sender = record.sender.nickname.clone().unwrap_or_else(|| record.sender.id.clone());
        Quote { id: record.id.clone(), preview: preview(record), sender, msg_type: record.msg_type }
    }

    /// A received `msgQuote`; `None` unless it names a message id.
    pub fn read(value: Val<'_>, policy: &ProfilePolicy) -> Option<Quote> {
        let [id, preview, sender, msg_type] = value.fields(["msgID", "msgPreview", "msgSender", "msgType"]);
        let id = id?.as_str().filter(|id| !id.trim().is_empty() && id.len() <= MAX_ID_BYTES)?;
        let line = |v: Option<Val<'_>>, max| v.and_then(Val::as_str).and_then(|raw| sanitize_line(&raw, max));
        Some(Quote {
            id,
            preview: line(preview, RECEIVED_PREVIEW_CHARS).unwrap_or_default(),
            sender: line(sender, policy.max_nickname_chars).unwrap_or_default(),
            msg_type: msg_type.and_then(Val::as_str).and_then(|t| MsgType::from_name(&t)).unwrap_or(MsgType::Txt),
        })
    }

    /// `record.quote` as stored; `None` when it is not one.
    pub fn from_val(value: Val<'_>) -> Option<Quote> {
        let [id, preview, sender, msg_type] = value.fields(["id", "preview", "sender", "type"]);
        Some(Quote {
            id: id?.as_str()?,
            preview: preview?.as_str()?,
            sender: sender?.as_str()?,
            msg_type: MsgType::from_name(&msg_type?.as_str()?)?,
        })
    }

    /// `{"id":…,"preview":…,"sender":…,"type":…}`, as records hold it.
    pub fn write_json(&self, out: &mut String) {
        out.push_str("{\"id\":");
        write_str(out, &self.id);
        out.push_str(",\"preview\":");
        write_str(out, &self.preview);
        out.push_str(",\"sender\":");
        write_str(out, &self.sender);
        out.push_str(",\"type\":");
        write_str(out, self.msg_type.as_str());
        out.push('}');
    }

    /// The `msgQuote` a reply carries.
    pub fn to_ext(&self) -> Json {
        let mut ext = Json::object();
        ext.insert("msgID", Json::String(self.id.clone()));
        ext.insert("msgPreview", Json::String(self.preview.clone()));
        ext.insert("msgSender", Json::String(self.sender.clone()));
        ext.insert("msgType", Json::String(self.msg_type.as_str().into()));
        ext
    }
}

/// One line for a record: its text cut at [`PREVIEW_CHARS`] with `…`, or a label for other types
/// (with the file name or the address where there is one).
pub fn preview(record: &Record) -> String {
    if record.recalled {
        return "[消息已撤回]".into();
    }
    let body = |key: &str| match record.body.as_ref().and_then(|b| b.get(key)) {
        Some(Json::String(s)) => sanitize_line(s, PREVIEW_CHARS),
        _ => None,
    };
    let labelled = |label: &str, detail: Option<String>| match detail {
        Some(detail) => format!("{label} {detail}"),
        None => label.to_string(),
    };
    match record.msg_type {
        MsgType::Txt => {
            let line = record.text.as_deref().and_then(|t| sanitize_line(t, PREVIEW_CHARS + 1)).unwrap_or_default();
            match line.grapheme_indices(true).nth(PREVIEW_CHARS) {
                Some((cut, _)) => format!("{}…", &line[..cut]),
                None => line,
            }
        }
        MsgType::Img => "[图片]".into(),
        MsgType::Audio => "[语音]".into(),
        MsgType::Video => "[视频]".into(),
        MsgType::File => labelled("[文件]", body("filename")),
        MsgType::Loc => labelled("[位置]", body("addr")),
        MsgType::Custom => "[自定义消息]".into(),
        MsgType::Cmd => "[命令]".into(),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::kind::Kind;
    use crate::message::{Direction, Sender, Status};
    use crate::tape::Tape;
    use serde_json::json;

    fn record(msg_type: MsgType, text: Option<&str>, body: Option<serde_json::Value>) -> Record {
        Record {
            id: "m1".into(),
            conversation: "group:g1".into(),
            kind: Kind::Group,
            from: "bob".into(),
            to: "g1".into(),
            direction: Direction::In,
            time: 1,
            msg_type,
            text: text.map(Into::into),
            body: body.as_ref().map(Json::from),
            sender: Sender { id: "bob".into(), nickname: Some("鲍勃".into()), avatar: None },
            mentions: None,
            mentions_me: false,
            status: Status::Received,
            recalled: false,
            ext: Json::object(),
            quote: None,
        }
    }

    #[test]
    fn previews_read_well_for_every_type() {
        let long = "一二三四五六七八九十".repeat(6);
        let table = [
            (record(MsgType::Txt, Some("  see\nyou [):] \u{202E}later "), None), "see you [):] later"),
            (record(MsgType::Txt, Some(&long), None), "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十…"),
            (record(MsgType::Txt, Some(&"👨‍👩‍👧".repeat(51)), None), &format!("{}…", "👨‍👩‍👧".repeat(50))),
            (record(MsgType::Img, None, Some(json!({"url": "https://x/a.png"}))), "[图片]"),
            (record(MsgType::Audio, None, Some(json!({"length": 3}))), "[语音]"),
            (record(MsgType::Video, None, None), "[视频]"),
            (record(MsgType::File, None, Some(json!({"filename": "报告.pdf"}))), "[文件] 报告.pdf"),
            (record(MsgType::File, None, None), "[文件]"),
            (record(MsgType::Loc, None, Some(json!({"addr": "北京 朝阳", "lat": 1}))), "[位置] 北京 朝阳"),
            (record(MsgType::Custom, None, Some(json!({"customEvent": "gift"}))), "[自定义消息]"),
        ];
        for (record, want) in table {
            assert_eq!(preview(&record), want, "{:?}", record.msg_type);
        }
        let mut recalled = record(MsgType::Txt, None, None);
        recalled.recalled = true;
        assert_eq!(preview(&recalled), "[消息已撤回]");
    }

    #[test]
    fn a_quote_names_the_quoted_sender_by_name_else_id() {
        let mut r = record(MsgType::Txt, Some("hi"), None);
        let q = Quote::of(&r);
        assert_eq!((q.id.as_str(), q.preview.as_str(), q.sender.as_str(), q.msg_type), ("m1", "hi", "鲍勃", MsgType::Txt));
        assert_eq!(q.to_ext().to_text(), r#"{"msgID":"m1","msgPreview":"hi","msgSender":"鲍勃","msgType":"txt"}"#);
        r.sender.nickname = None;
        assert_eq!(Quote::of(&r).sender, "bob");
    }

    #[test]
    fn received_quotes_are_sanitised_and_need_an_id() {
        let read = |v: serde_json::Value| Quote::read(Tape::full(&v).root(), &ProfilePolicy::default());
        let q = read(json!({"msgID": "m9", "msgPreview": "a\u{202E}b\n\nc", "msgSender": " \u{200B}Ann ", "msgType": "IMAGE"})).unwrap();
        assert_eq!((q.id.as_str(), q.preview.as_str(), q.sender.as_str(), q.msg_type), ("m9", "ab c", "Ann", MsgType::Img));
        let q = read(json!({"msgID": "m9", "msgType": "sticker"})).unwrap();
        assert_eq!((q.preview.as_str(), q.sender.as_str(), q.msg_type), ("", "", MsgType::Txt));
        assert_eq!(read(json!({"msgPreview": "no id"})), None);
        assert_eq!(read(json!({"msgID": "  "})), None);
        assert_eq!(read(json!({"msgID": 7})), None);
        assert_eq!(read(json!({"msgID": "x".repeat(257)})), None);
        assert_eq!(read(json!("m9")), None);
        let long = read(json!({"msgID": "m9", "msgPreview": "长".repeat(500)})).unwrap();
        assert_eq!(long.preview.chars().count(), 200);
    }

    #[test]
    fn a_stored_quote_reads_back() {
        let q = Quote { id: "m1".into(), preview: "hi \"there\"".into(), sender: "鲍勃".into(), msg_type: MsgType::File };
        let mut out = String::new();
        q.write_json(&mut out);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v, json!({"id": "m1", "preview": "hi \"there\"", "sender": "鲍勃", "type": "file"}));
        assert_eq!(Quote::from_val(Tape::full(&v).root()), Some(q));
        assert_eq!(Quote::from_val(Tape::full(&json!({"id": "m1"})).root()), None);
    }
}
