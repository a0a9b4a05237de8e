//! Sender display data (nickname, avatar) carried in `ext`, sanitised, with the last one seen per sender.
//! (stub: to be written)

use serde::{Deserialize, Serialize};

/// The ext key names a chat writes its own profile under and reads others' from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtKeys {
    pub nickname: String,
    pub avatar: String,
}

impl Default for ExtKeys {
    fn default() -> Self {
        ExtKeys { nickname: "userNickname".into(), avatar: "userAvatar".into() }
    }
}

/// A nickname and an avatar URL, each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}
