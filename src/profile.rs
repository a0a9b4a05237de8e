//! Sender display data (nickname, avatar) carried in `ext`, sanitised, with the last one seen per sender.
//!
//! `ext` is written by whoever sent the message, so everything read from it is treated as hostile
//! display data: a nickname loses the characters that reorder or hide text and is capped in length;
//! an avatar survives only as a plain URL of an allowed scheme with no credentials or tokens in it.
//!
//! Nickname rules, in order:
//! - any whitespace (tabs, newlines, line separators) becomes a space;
//! - dropped: control characters (Cc), bidi embeddings, overrides,
//!   isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), and format characters
//!   that render as nothing (soft hyphen, zero-width space, word joiner, invisible operators, BOM,
//!   interlinear annotation marks, deprecated format controls, Hangul fillers often used for "blank"
//!   names);
//! - zero-width joiner and non-joiner (U+200D, U+200C) are kept only between two visible characters,
//!   which keeps emoji ZWJ sequences and Persian/Indic spellings intact and drops them elsewhere;
//! - a variation selector is kept only directly after a visible character (one per base), and tag
//!   characters (U+E0020–U+E007F) only inside a flag sequence after U+1F3F4, so neither can smuggle
//!   invisible text;
//! - runs of spaces become one, the ends are trimmed;
//! - at most `max_nickname_chars` grapheme clusters are kept (never cutting one in half), and a cluster
//!   of more than 16 code points (stacked combining marks) is reduced to its first code point.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use unicode_segmentation::UnicodeSegmentation;

use crate::message::Sender;

/// The ext key names a chat writes its own profile under and reads others' from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtKeys {
    pub nickname: String,
    pub avatar: String,
}

impl Default for ExtKeys {
    fn default() -> Self {
        ExtKeys {
            nickname: "userNickname".into(),
            avatar: "userAvatar".into(),
        }
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

impl Profile {
    pub fn is_empty(&self) -> bool {
        self.nickname.is_none() && self.avatar.is_none()
    }
}

impl From<&Sender> for Profile {
    fn from(sender: &Sender) -> Self {
        Profile {
            nickname: sender.nickname.clone(),
            avatar: sender.avatar.clone(),
        }
    }
}

/// The ext key under which Easemob's UIKits send `{nickname, avatarURL}`.
pub const UIKIT_USER_INFO_KEY: &str = "ease_chat_uikit_user_info";

/// What a chat accepts as someone else's display data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProfilePolicy {
    /// Longest nickname kept, in user-perceived characters (grapheme clusters).
    pub max_nickname_chars: usize,
    /// URL schemes an avatar may use, compared case-insensitively (`https` only by default).
    pub avatar_schemes: Vec<String>,
    /// Longest avatar URL kept, in bytes.
    pub max_avatar_len: usize,
}

impl Default for ProfilePolicy {
    fn default() -> Self {
        ProfilePolicy {
            max_nickname_chars: 32,
            avatar_schemes: vec!["https".into()],
            max_avatar_len: 1024,
        }
    }
}

/// Code points longer clusters are reduced from (see the module docs).
const MAX_CLUSTER_CHARS: usize = 16;

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';
const BLACK_FLAG: char = '\u{1F3F4}';

/// Characters that reorder text or render as nothing, and so can hide or disguise what a name says.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{070F}' | '\u{115F}' | '\u{1160}' | '\u{180E}'
            | '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
            | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E001F}' | '\u{E0080}'..='\u{E00FF}')
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

fn is_tag(c: char) -> bool {
    matches!(c, '\u{E0020}'..='\u{E007F}')
}

fn is_joiner(c: char) -> bool {
    c == ZWJ || c == ZWNJ
}

/// Cleans a nickname from `ext`; `None` when nothing visible is left.
pub fn sanitize_nickname(raw: &str, policy: &ProfilePolicy) -> Option<String> {
    // Pass 1: drop hidden characters, keep selectors and tags only where they belong,
    // turn any whitespace into a plain space.
    let mut kept: Vec<char> = Vec::with_capacity(raw.len().min(4096));
    for c in raw.chars() {
        let prev = kept.last().copied();
        let keep = if c.is_whitespace() {
            true
        } else if is_hidden(c) {
            false
        } else if is_variation_selector(c) {
            prev.is_some_and(|p| !is_variation_selector(p) && !is_joiner(p) && p != ' ')
        } else if is_tag(c) {
            prev.is_some_and(|p| p == BLACK_FLAG || is_tag(p))
        } else {
            true
        };
        if keep {
            kept.push(if c.is_whitespace() { ' ' } else { c });
        }
    }
    // Pass 2: joiners only between two visible characters; collapse spaces.
    let mut text = String::with_capacity(kept.len());
    let mut last: Option<char> = None;
    for (i, &c) in kept.iter().enumerate() {
        if is_joiner(c) {
            let next = kept.get(i + 1).copied();
            let visible = |x: Option<char>| x.is_some_and(|x| x != ' ' && !is_joiner(x));
            if !(visible(last) && visible(next)) {
                continue;
            }
        }
        if c == ' ' && last.is_none_or(|l| l == ' ') {
            continue;
        }
        text.push(c);
        last = Some(c);
    }
    let text = text.trim_end();
    let mut out = String::with_capacity(text.len());
    for cluster in text.graphemes(true).take(policy.max_nickname_chars) {
        if cluster.chars().nth(MAX_CLUSTER_CHARS).is_some() {
            out.extend(cluster.chars().next());
        } else {
            out.push_str(cluster);
        }
    }
    let out = out.trim_end();
    (!out.is_empty()).then(|| out.to_string())
}

/// Query parameters that carry credentials; they are removed from every URL a record keeps.
const SECRET_PARAMS: [&str; 3] = ["access_token", "token", "secret"];

/// Removes `access_token`, `token` and `secret` query parameters (any case) from a URL.
pub fn strip_secret_params(url: &str) -> String {
    let (before_fragment, fragment) = match url.find('#') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let Some((base, query)) = before_fragment.split_once('?') else {
        return url.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !SECRET_PARAMS
                .iter()
                .any(|secret| secret.eq_ignore_ascii_case(name))
        })
        .collect();
    let mut out = String::with_capacity(url.len());
    out.push_str(base);
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    out.push_str(fragment);
    out
}

/// Keeps an avatar URL only if it is `<allowed scheme>://<host>…`, of sane length, with no spaces,
/// quotes, angle brackets, hidden characters or `user:password@`; secret query parameters are removed.
pub fn sanitize_avatar(raw: &str, policy: &ProfilePolicy) -> Option<String> {
    let url = raw.trim();
    if url.len() > policy.max_avatar_len {
        return None;
    }
    let forbidden = |c: char| {
        c.is_whitespace() || is_hidden(c) || matches!(c, '"' | '\'' | '`' | '<' | '>' | '\\')
    };
    if url.chars().any(forbidden) {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    let allowed = policy
        .avatar_schemes
        .iter()
        .any(|s| s.trim().trim_end_matches(':').eq_ignore_ascii_case(scheme));
    if !allowed {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return None;
    }
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return None;
    }
    Some(strip_secret_params(url))
}

/// Reads a sender's profile from a message ext: the configured keys first, then the UIKit's
/// `ease_chat_uikit_user_info` (`nickname`, `avatarURL` or `avatarurl`); each field on its own.
pub fn read_ext_profile(
    ext: &Map<String, Value>,
    keys: &ExtKeys,
    policy: &ProfilePolicy,
) -> Profile {
    let uikit = ext.get(UIKIT_USER_INFO_KEY).and_then(Value::as_object);
    let candidates = |own: &str, uikit_names: &[&str]| -> Vec<&str> {
        let mut found: Vec<&str> = ext.get(own).and_then(Value::as_str).into_iter().collect();
        if let Some(info) = uikit {
            found.extend(
                uikit_names
                    .iter()
                    .filter_map(|name| info.get(*name).and_then(Value::as_str)),
            );
        }
        found
    };
    Profile {
        nickname: candidates(&keys.nickname, &["nickname"])
            .into_iter()
            .find_map(|raw| sanitize_nickname(raw, policy)),
        avatar: candidates(&keys.avatar, &["avatarURL", "avatarurl"])
            .into_iter()
            .find_map(|raw| sanitize_avatar(raw, policy)),
    }
}

/// The last profile seen per sender, so messages without ext still show a name and a face.
///
/// Bounded: past `capacity` senders the least recently updated one is forgotten (O(log n) per update).
/// Serialises as a JSON array of `{id, nickname?, avatar?}`, least recently updated first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<CachedProfile>", into = "Vec<CachedProfile>")]
pub struct ProfileCache {
    capacity: usize,
    /// Sender id → (profile, update stamp).
    entries: HashMap<String, (Profile, u64)>,
    /// Update stamp → sender id, oldest first.
    order: BTreeMap<u64, String>,
    next_stamp: u64,
}

/// One persisted entry of a [`ProfileCache`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedProfile {
    pub id: String,
    #[serde(flatten)]
    pub profile: Profile,
}

impl Default for ProfileCache {
    fn default() -> Self {
        ProfileCache::with_capacity(ProfileCache::DEFAULT_CAPACITY)
    }
}

impl ProfileCache {
    pub const DEFAULT_CAPACITY: usize = 2000;

    pub fn with_capacity(capacity: usize) -> Self {
        ProfileCache {
            capacity,
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_stamp: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Profile> {
        self.entries.get(id).map(|(profile, _)| profile)
    }

    /// Records what a message showed of a sender. A field that is `None` keeps the known value;
    /// a profile with no field at all changes nothing.
    pub fn remember(&mut self, id: &str, profile: &Profile) {
        if profile.is_empty() || self.capacity == 0 {
            return;
        }
        let stamp = self.next_stamp;
        self.next_stamp = self.next_stamp.saturating_add(1);
        match self.entries.get_mut(id) {
            Some((known, old_stamp)) => {
                if profile.nickname.is_some() {
                    known.nickname.clone_from(&profile.nickname);
                }
                if profile.avatar.is_some() {
                    known.avatar.clone_from(&profile.avatar);
                }
                self.order.remove(old_stamp);
                *old_stamp = stamp;
            }
            None => {
                self.entries
                    .insert(id.to_string(), (profile.clone(), stamp));
            }
        }
        self.order.insert(stamp, id.to_string());
        while self.entries.len() > self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
    }
}

impl From<Vec<CachedProfile>> for ProfileCache {
    fn from(entries: Vec<CachedProfile>) -> Self {
        let mut cache = ProfileCache::default();
        for entry in entries {
            cache.remember(&entry.id, &entry.profile);
        }
        cache
    }
}

impl From<ProfileCache> for Vec<CachedProfile> {
    fn from(mut cache: ProfileCache) -> Self {
        cache
            .order
            .into_values()
            .filter_map(|id| {
                let (profile, _) = cache.entries.remove(&id)?;
                Some(CachedProfile { id, profile })
            })
            .collect()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use serde_json::json;

    fn nick(raw: &str) -> Option<String> {
        sanitize_nickname(raw, &ProfilePolicy::default())
    }

    #[test]
    fn nicknames() {
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
        let england = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}";
        let long = "e\u{0301}".repeat(40); // 40 clusters of two code points
        let zalgo = format!("Z{}", "\u{0301}".repeat(50));
        let table: Vec<(&str, Option<String>)> = vec![
            ("Alice", Some("Alice".into())),
            ("  Alice  ", Some("Alice".into())),
            ("小明", Some("小明".into())),
            ("", None),
            ("   ", None),
            ("\u{202E}evilgnp.exe", Some("evilgnp.exe".into())),
            (
                "bob\u{2066}\u{2069}\u{200E}\u{200F}\u{061C}",
                Some("bob".into()),
            ),
            ("a\u{0000}b\u{0007}c\u{007F}\u{009B}d", Some("abcd".into())),
            ("line\nbreak\ttab", Some("line break tab".into())),
            ("a\u{2028}b\u{0085}c", Some("a b c".into())),
            ("many     spaces", Some("many spaces".into())),
            (
                "zero\u{200B}width\u{FEFF}\u{2060}\u{00AD}",
                Some("zerowidth".into()),
            ),
            ("\u{3164}\u{3164}", None),
            ("\u{202E}\u{200B}\u{200D}", None),
            (family, Some(family.into())),
            ("\u{200D}lead", Some("lead".into())),
            ("trail\u{200D}", Some("trail".into())),
            ("a \u{200D} b", Some("a b".into())),
            ("\u{2764}\u{FE0F}", Some("\u{2764}\u{FE0F}".into())),
            ("x\u{FE0F}\u{FE0F}\u{FE0F}", Some("x\u{FE0F}".into())),
            ("\u{FE0F}x", Some("x".into())),
            (england, Some(england.into())),
            ("hi\u{E0068}\u{E0069}", Some("hi".into())),
            ("\u{1F44D}\u{1F3FD}", Some("\u{1F44D}\u{1F3FD}".into())),
            (&long, Some("e\u{0301}".repeat(32))),
            (&zalgo, Some("Z".into())),
        ];
        for (raw, want) in table {
            assert_eq!(nick(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn nickname_is_cut_at_a_grapheme_boundary() {
        let policy = ProfilePolicy {
            max_nickname_chars: 3,
            ..ProfilePolicy::default()
        };
        let table = [
            ("abcdef", "abc"),
            (
                "ab\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}x",
                "ab\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
            ),
            (
                "\u{1F1E8}\u{1F1F3}\u{1F1FA}\u{1F1F8}\u{1F1EC}\u{1F1E7}\u{1F1EB}\u{1F1F7}",
                "\u{1F1E8}\u{1F1F3}\u{1F1FA}\u{1F1F8}\u{1F1EC}\u{1F1E7}",
            ),
            ("ab c", "ab"),
        ];
        for (raw, want) in table {
            assert_eq!(
                sanitize_nickname(raw, &policy).as_deref(),
                Some(want),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn avatars() {
        let https = ProfilePolicy::default();
        let custom = ProfilePolicy {
            avatar_schemes: vec!["https".into(), "cloud:".into(), "WXFILE".into()],
            max_avatar_len: 40,
            ..ProfilePolicy::default()
        };
        let table: [(&str, &ProfilePolicy, Option<&str>); 24] = [
            (
                "https://a.example/p.png",
                &https,
                Some("https://a.example/p.png"),
            ),
            (
                "  HTTPS://a.example/p.png ",
                &https,
                Some("HTTPS://a.example/p.png"),
            ),
            (
                "https://a.example:8443/p.png",
                &https,
                Some("https://a.example:8443/p.png"),
            ),
            ("https://[::1]/p.png", &https, Some("https://[::1]/p.png")),
            (
                "https://a.example/p.png?access_token=abc&w=1",
                &https,
                Some("https://a.example/p.png?w=1"),
            ),
            (
                "https://a.example/p.png?TOKEN=abc#x",
                &https,
                Some("https://a.example/p.png#x"),
            ),
            ("http://a.example/p.png", &https, None),
            ("javascript:alert(1)", &https, None),
            ("javascript://a.example/%0aalert(1)", &https, None),
            ("data:image/png;base64,AAAA", &https, None),
            ("//a.example/p.png", &https, None),
            ("https://", &https, None),
            ("https:///p.png", &https, None),
            ("https://:443/p.png", &https, None),
            ("https://user:pw@a.example/p.png", &https, None),
            ("https://a.example/p p.png", &https, None),
            ("https://a.example/\"onerror=\"x", &https, None),
            ("https://a.example/<script>", &https, None),
            ("https://a.example/\u{202E}gnp", &https, None),
            ("", &https, None),
            ("cloud://env-1/a.png", &custom, Some("cloud://env-1/a.png")),
            ("wxfile://tmp/a.png", &custom, Some("wxfile://tmp/a.png")),
            ("https://a.example/a-very-long-path-name.png", &custom, None),
            ("http://a.example/p.png", &custom, None),
        ];
        for (raw, policy, want) in table {
            assert_eq!(sanitize_avatar(raw, policy).as_deref(), want, "{raw:?}");
        }
        let tight = ProfilePolicy {
            max_avatar_len: 1024,
            ..ProfilePolicy::default()
        };
        let long = format!("https://a.example/{}", "x".repeat(1100));
        assert_eq!(sanitize_avatar(&long, &tight), None);
    }

    #[test]
    fn policy_reads_camel_case_with_defaults() {
        let table = [
            (json!({}), ProfilePolicy::default()),
            (
                json!({"maxNicknameChars": 8}),
                ProfilePolicy {
                    max_nickname_chars: 8,
                    ..ProfilePolicy::default()
                },
            ),
            (
                json!({"avatarSchemes": ["https", "cloud"], "maxAvatarLen": 200}),
                ProfilePolicy {
                    avatar_schemes: vec!["https".into(), "cloud".into()],
                    max_avatar_len: 200,
                    ..ProfilePolicy::default()
                },
            ),
        ];
        for (input, want) in table {
            assert_eq!(
                serde_json::from_value::<ProfilePolicy>(input.clone()).unwrap(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn ext_profile_reading_order() {
        let keys = ExtKeys::default();
        let custom_keys = ExtKeys {
            nickname: "userName".into(),
            avatar: "userPic".into(),
        };
        let a = "https://a.example/a.png";
        let u = "https://u.example/u.png";
        let p = |n: Option<&str>, a: Option<&str>| Profile {
            nickname: n.map(Into::into),
            avatar: a.map(Into::into),
        };
        let table = [
            (json!({}), &keys, p(None, None)),
            (
                json!({"userNickname": "Ann", "userAvatar": a}),
                &keys,
                p(Some("Ann"), Some(a)),
            ),
            (
                json!({"userNickname": "Ann", "userAvatar": a,
                       "ease_chat_uikit_user_info": {"nickname": "Uki", "avatarURL": u}}),
                &keys,
                p(Some("Ann"), Some(a)),
            ),
            (
                json!({"ease_chat_uikit_user_info": {"nickname": "Uki", "avatarURL": u}}),
                &keys,
                p(Some("Uki"), Some(u)),
            ),
            (
                json!({"ease_chat_uikit_user_info": {"avatarurl": u}}),
                &keys,
                p(None, Some(u)),
            ),
            // Each field falls back on its own; unusable values fall through.
            (
                json!({"userNickname": "Ann", "ease_chat_uikit_user_info": {"nickname": "Uki", "avatarURL": u}}),
                &keys,
                p(Some("Ann"), Some(u)),
            ),
            (
                json!({"userNickname": "\u{202E}", "userAvatar": "http://x.example/a.png",
                       "ease_chat_uikit_user_info": {"nickname": "Uki", "avatarURL": u}}),
                &keys,
                p(Some("Uki"), Some(u)),
            ),
            (
                json!({"userNickname": 7, "userAvatar": {"url": a}}),
                &keys,
                p(None, None),
            ),
            (
                json!({"ease_chat_uikit_user_info": "Uki"}),
                &keys,
                p(None, None),
            ),
            (
                json!({"userName": "Pat", "userPic": a, "userNickname": "Ann"}),
                &custom_keys,
                p(Some("Pat"), Some(a)),
            ),
        ];
        for (ext, keys, want) in table {
            let ext = ext.as_object().unwrap().clone();
            assert_eq!(
                read_ext_profile(&ext, keys, &ProfilePolicy::default()),
                want,
                "{ext:?}"
            );
        }
    }

    #[test]
    fn cache_merges_and_forgets_the_least_recently_updated() {
        let named = |n: &str| Profile {
            nickname: Some(n.into()),
            avatar: None,
        };
        let mut cache = ProfileCache::with_capacity(2);
        cache.remember(
            "bob",
            &Profile {
                nickname: Some("Bob".into()),
                avatar: Some("https://b/b.png".into()),
            },
        );
        cache.remember(
            "bob",
            &Profile {
                nickname: None,
                avatar: None,
            },
        );
        cache.remember("bob", &named("Bobby"));
        assert_eq!(
            cache.get("bob"),
            Some(&Profile {
                nickname: Some("Bobby".into()),
                avatar: Some("https://b/b.png".into())
            })
        );
        cache.remember("ann", &named("Ann"));
        cache.remember("bob", &named("Bob"));
        cache.remember("cid", &named("Cid"));
        assert_eq!(cache.get("ann"), None, "ann was updated least recently");
        assert_eq!(
            cache.get("bob").and_then(|p| p.nickname.as_deref()),
            Some("Bob")
        );
        assert_eq!(
            cache.get("cid").and_then(|p| p.nickname.as_deref()),
            Some("Cid")
        );
        assert_eq!(cache.len(), 2);
        cache.remember("dan", &Profile::default());
        assert_eq!(cache.get("dan"), None);
    }

    #[test]
    fn cache_persists_as_a_list() {
        let mut cache = ProfileCache::default();
        cache.remember(
            "bob",
            &Profile {
                nickname: Some("Bob".into()),
                avatar: None,
            },
        );
        cache.remember(
            "ann",
            &Profile {
                nickname: None,
                avatar: Some("https://a/a.png".into()),
            },
        );
        let json = serde_json::to_string(&cache).unwrap();
        assert_eq!(
            json,
            r#"[{"id":"bob","nickname":"Bob"},{"id":"ann","avatar":"https://a/a.png"}]"#
        );
        let back: ProfileCache = serde_json::from_str(&json).unwrap();
        assert_eq!(back.get("bob"), cache.get("bob"));
        assert_eq!(back.get("ann"), cache.get("ann"));
        assert_eq!(back.len(), 2);
    }
}
