//! The message model: a [`Record`] is what mpchat stores and hands to pages.
//!
//! It is JSON-shaped (camelCase field names) because it crosses to JavaScript and is kept in `wx`
//! storage as JSON. It never holds an access token or any other secret.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::kind::Kind;

/// The message types mpchat understands, as the SDK names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
        let n = name.trim().to_ascii_lowercase();
        Some(match n.as_str() {
            "txt" | "text" => MsgType::Txt,
            "img" | "image" => MsgType::Img,
            "audio" | "voice" => MsgType::Audio,
            "video" => MsgType::Video,
            "file" => MsgType::File,
            "loc" | "location" => MsgType::Loc,
            "cmd" | "command" => MsgType::Cmd,
            "custom" => MsgType::Custom,
            _ => return None,
        })
    }
}

/// Whether a message came to me or was sent by me (from this or another of my devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
}

/// Delivery state of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Sending,
    Sent,
    Failed,
    Delivered,
    Received,
    Read,
}

/// Who sent a message, with the display data they carried (sanitised) or that was last seen of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sender {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// Who a message mentions (`em_at_list`): some users, or everyone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Mentions {
    Users(Vec<String>),
    /// Serialised as the string `"all"`.
    All(AllMarker),
}

/// The string `"all"` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AllMarker {
    All,
}

impl Mentions {
    pub fn all() -> Self {
        Mentions::All(AllMarker::All)
    }

    pub fn includes(&self, user: &str) -> bool {
        match self {
            Mentions::All(_) => true,
            Mentions::Users(users) => users.iter().any(|u| u == user),
        }
    }
}

/// One message as mpchat keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    #[serde(rename = "type")]
    pub msg_type: MsgType,
    /// The text of a `txt` message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The other types' fields (`url`, `filename`, `lat`, `action`, `customExts`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Map<String, Value>>,
    pub sender: Sender,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<Mentions>,
    /// True when `mentions` names the logged-in user or everyone.
    #[serde(default, skip_serializing_if = "is_false")]
    pub mentions_me: bool,
    pub status: Status,
    /// True once the sender recalled the message; `text` and `body` are then gone.
    #[serde(default, skip_serializing_if = "is_false")]
    pub recalled: bool,
    /// The sender's ext less the keys mpchat consumed (profile, mentions). Untrusted display data.
    #[serde(default)]
    pub ext: Map<String, Value>,
}

fn is_false(b: &bool) -> bool {
    !*b
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
            ext: Map::new(),
        };
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            r#"{"id":"m1","conversation":"group:g1","kind":"group","from":"bob","to":"g1","direction":"in","time":1700000000000,"type":"txt","text":"hi","sender":{"id":"bob","nickname":"Bob"},"mentions":"all","mentionsMe":true,"status":"received","ext":{}}"#
        );
        assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record);
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
