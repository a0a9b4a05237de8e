//! The message model: a [`Record`] is what mpchat stores and hands to pages.
//!
//! It is JSON-shaped (camelCase field names) because pages read it in JavaScript and `wx` storage keeps
//! it as JSON. It never holds an access token or any other secret. In the wasm build the core decides a
//! record's fields and the shim adds the text and the ext it copied from the SDK's message, so the text
//! never crosses into wasm; natively a record is whole.

use crate::json::{write_f64, write_str, Json};
use crate::kind::Kind;
use crate::quote::Quote;
use crate::tape::Val;

/// The message types mpchat understands, as the SDK names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsgType {
    Txt,
    Img,
    Audio,
    Video,
    File,
    Loc,
    Cmd,
    Custom,
}

impl MsgType {
    pub const ALL: [MsgType; 8] = [
        MsgType::Txt,
        MsgType::Img,
        MsgType::Audio,
        MsgType::Video,
        MsgType::File,
        MsgType::Loc,
        MsgType::Cmd,
        MsgType::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MsgType::Txt => "txt",
            MsgType::Img => "img",
            MsgType::Audio => "audio",
            MsgType::Video => "video",
            MsgType::File => "file",
            MsgType::Loc => "loc",
            MsgType::Cmd => "cmd",
            MsgType::Custom => "custom",
        }
    }

    /// Reads a type name case-insensitively. Legacy names (`image`, `voice`, `location`, `text`) are accepted.
    pub fn from_name(name: &str) -> Option<MsgType> {
        const NAMES: [(&str, MsgType); 13] = [
            ("txt", MsgType::Txt),
            ("text", MsgType::Txt),
            ("img", MsgType::Img),
            ("image", MsgType::Img),
            ("audio", MsgType::Audio),
            ("voice", MsgType::Audio),
            ("video", MsgType::Video),
            ("file", MsgType::File),
            ("loc", MsgType::Loc),
            ("location", MsgType::Loc),
            ("cmd", MsgType::Cmd),
            ("command", MsgType::Cmd),
            ("custom", MsgType::Custom),
        ];
        let name = name.trim();
        NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, t)| *t)
    }
}

/// Whether a message came to me or was sent by me (from this or another of my devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }

    pub fn from_name(name: &str) -> Option<Direction> {
        match name {
            "in" => Some(Direction::In),
            "out" => Some(Direction::Out),
            _ => None,
        }
    }
}

/// Delivery state of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Sending,
    Sent,
    Failed,
    Delivered,
    Received,
    Read,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Sending,
        Status::Sent,
        Status::Failed,
        Status::Delivered,
        Status::Received,
        Status::Read,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Delivered => "delivered",
            Status::Received => "received",
            Status::Read => "read",
        }
    }

    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Who sent a message, with the display data they carried (sanitised) or that was last seen of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender {
    pub id: String,
    pub nickname: Option<String>,
    pub avatar: Option<String>,
}

/// Who a message mentions (`em_at_list`): some users, or everyone (written as the string `"all"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mentions {
    Users(Vec<String>),
    All,
}

impl Mentions {
    pub fn all() -> Self {
        Mentions::All
    }

    pub fn includes(&self, user: &str) -> bool {
        match self {
            Mentions::All => true,
            Mentions::Users(users) => users.iter().any(|u| u == user),
        }
    }
}

/// One message as mpchat keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The server message id once known; the SDK's local id while sending.
    pub id: String,
    /// `<kind>:<id>`, e.g. `group:g1`.
    pub conversation: String,
    pub kind: Kind,
    pub from: String,
    pub to: String,
    pub direction: Direction,
    /// Milliseconds since the epoch; server time when known.
    pub time: i64,
    pub msg_type: MsgType,
    /// The text of a `txt` message.
    pub text: Option<String>,
    /// The other types' fields (`url`, `filename`, `lat`, `action`, `customExts`, …): an object.
    pub body: Option<Json>,
    pub sender: Sender,
    pub mentions: Option<Mentions>,
    /// True when `mentions` names the logged-in user or everyone.
    pub mentions_me: bool,
    pub status: Status,
    /// True once the sender recalled the message; `text` and `body` are then gone.
    pub recalled: bool,
    /// The sender's ext less the keys mpchat consumed (profile, mentions, quote): an object. Untrusted
    /// display data.
    pub ext: Json,
    /// The message this one replies to, from `ext.msgQuote`.
    pub quote: Option<Quote>,
}

impl Record {
    /// The record as JSON, in the field order pages and storage see.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write_json(&mut out);
        out
    }

    pub fn write_json(&self, out: &mut String) {
        let field = |out: &mut String, name: &str| {
            out.push_str(",\"");
            out.push_str(name);
            out.push_str("\":");
        };
        out.push_str("{\"id\":");
        write_str(out, &self.id);
        field(out, "conversation");
        write_str(out, &self.conversation);
        field(out, "kind");
        write_str(out, self.kind.as_str());
        field(out, "from");
        write_str(out, &self.from);
        field(out, "to");
        write_str(out, &self.to);
        field(out, "direction");
        write_str(out, self.direction.as_str());
        field(out, "time");
        write_f64(out, self.time as f64);
        field(out, "type");
        write_str(out, self.msg_type.as_str());
        if let Some(text) = &self.text {
            field(out, "text");
            write_str(out, text);
        }
        if let Some(body) = &self.body {
            field(out, "body");
            body.write(out);
        }
        field(out, "sender");
        out.push_str("{\"id\":");
        write_str(out, &self.sender.id);
        if let Some(nickname) = &self.sender.nickname {
            out.push_str(",\"nickname\":");
            write_str(out, nickname);
        }
        if let Some(avatar) = &self.sender.avatar {
            out.push_str(",\"avatar\":");
            write_str(out, avatar);
        }
        out.push('}');
        match &self.mentions {
            None => {}
            Some(Mentions::All) => {
                field(out, "mentions");
                out.push_str("\"all\"");
            }
            Some(Mentions::Users(users)) => {
                field(out, "mentions");
                Json::Array(users.iter().cloned().map(Json::String).collect()).write(out);
            }
        }
        if self.mentions_me {
            field(out, "mentionsMe");
            out.push_str("true");
        }
        if let Some(quote) = &self.quote {
            field(out, "quote");
            quote.write_json(out);
        }
        field(out, "status");
        write_str(out, self.status.as_str());
        if self.recalled {
            field(out, "recalled");
            out.push_str("true");
        }
        field(out, "ext");
        match &self.ext {
            Json::Object(_) => self.ext.write(out),
            _ => out.push_str("{}"),
        }
        out.push('}');
    }

    /// Reads a stored record back; `None` when a required field is missing or of the wrong type.
    pub fn from_val(v: Val<'_>) -> Option<Record> {
        let string = |name: &str| v.get(name).and_then(Val::as_str);
        let sender = v.get("sender")?;
        let mentions = match v.get("mentions") {
            None => None,
            Some(m) if m.is_null() => None,
            Some(m) if m.is_str("all") => Some(Mentions::All),
            Some(m) => Some(Mentions::Users(
                m.items().map(|u| u.as_str()).collect::<Option<Vec<_>>>()?,
            )),
        };
        let flag = |name: &str| match v.get(name) {
            None => Some(false),
            Some(f) => f.as_bool(),
        };
        let body = match v.get("body") {
            None => None,
            Some(b) if matches!(b.kind(), crate::tape::Kind::Object) => Some(Json::from_val(b)),
            Some(_) => return None,
        };
        let ext = match v.get("ext") {
            None => Json::object(),
            Some(e) if matches!(e.kind(), crate::tape::Kind::Object) => Json::from_val(e),
            Some(_) => return None,
        };
        let text = match v.get("text") {
            None => None,
            Some(t) => Some(t.as_str()?),
        };
        let time = v.get("time")?.as_f64()?;
        Some(Record {
            id: string("id")?,
            conversation: string("conversation")?,
            kind: Kind::from_name(&string("kind")?)?,
            from: string("from")?,
            to: string("to")?,
            direction: Direction::from_name(&string("direction")?)?,
            time: (time.fract() == 0.0 && time.abs() < 9.007_199_254_740_992e15).then_some(time as i64)?,
            msg_type: MsgType::from_name(&string("type")?)?,
            text,
            body,
            sender: Sender {
                id: sender.get("id")?.as_str()?,
                nickname: sender.get("nickname").and_then(Val::as_str),
                avatar: sender.get("avatar").and_then(Val::as_str),
            },
            mentions,
            mentions_me: flag("mentionsMe")?,
            status: Status::from_name(&string("status")?)?,
            recalled: flag("recalled")?,
            ext,
            quote: v.get("quote").and_then(Quote::from_val),
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn record_json_shape() {
        let record = Record {
            id: "m1".into(),
            conversation: "group:g1".into(),
            kind: Kind::Group,
            from: "bob".into(),
            to: "g1".into(),
            direction: Direction::In,
            time: 1_700_000_000_000,
            msg_type: MsgType::Txt,
            text: Some("hi".into()),
            body: None,
            sender: Sender { id: "bob".into(), nickname: Some("Bob".into()), avatar: None },
            mentions: Some(Mentions::all()),
            mentions_me: true,
            status: Status::Received,
            recalled: false,
            ext: Json::object(),
            quote: None,
        };
        let json = record.to_json();
        assert_eq!(
            json,
            r#"{"id":"m1","conversation":"group:g1","kind":"group","from":"bob","to":"g1","direction":"in","time":1700000000000,"type":"txt","text":"hi","sender":{"id":"bob","nickname":"Bob"},"mentions":"all","mentionsMe":true,"status":"received","ext":{}}"#
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let tape = crate::tape::Tape::full(&value);
        assert_eq!(Record::from_val(tape.root()), Some(record.clone()));
        let mut broken = value.clone();
        broken["status"] = "lost".into();
        assert_eq!(Record::from_val(crate::tape::Tape::full(&broken).root()), None);
        let mut with_body = record;
        with_body.text = None;
        with_body.msg_type = MsgType::Loc;
        with_body.body = Some(Json::from(&serde_json::json!({"lat": 39.9, "addr": "北京"})));
        with_body.mentions = Some(Mentions::Users(vec!["me".into()]));
        with_body.recalled = true;
        with_body.quote = Some(Quote { id: "m0".into(), preview: "[图片]".into(), sender: "Ann".into(), msg_type: MsgType::Img });
        let text = with_body.to_json();
        let back = serde_json::from_str::<serde_json::Value>(&text).unwrap();
        assert_eq!(Record::from_val(crate::tape::Tape::full(&back).root()), Some(with_body));
    }

    #[test]
    fn type_names() {
        for t in MsgType::ALL {
            assert_eq!(MsgType::from_name(t.as_str()), Some(t));
        }
        assert_eq!(MsgType::from_name("IMAGE"), Some(MsgType::Img));
        assert_eq!(MsgType::from_name("combine"), None);
    }
}
