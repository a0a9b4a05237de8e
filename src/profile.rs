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


use rustc_hash::FxHashMap;
use unicode_segmentation::UnicodeSegmentation;

use crate::error::{number_text, Error, Result};
use crate::json::write_str;
use crate::message::Sender;
use crate::tape::{Kind, Val};

/// The ext key names a chat writes its own profile under and reads others' from.
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl ExtKeys {
    /// createChat's `extKeys`: `{nickname?, avatar?}`, each a key name; what is absent keeps its default.
    pub fn from_val(value: Val<'_>) -> Result<ExtKeys> {
        let fields = OptionFields::new(value, "extKeys")?;
        let default = ExtKeys::default();
        Ok(ExtKeys {
            nickname: fields.string("nickname")?.unwrap_or(default.nickname),
            avatar: fields.string("avatar")?.unwrap_or(default.avatar),
        })
    }
}

/// A nickname and an avatar URL, each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub nickname: Option<String>,
    pub avatar: Option<String>,
}

impl Profile {
    pub fn is_empty(&self) -> bool {
        self.nickname.is_none() && self.avatar.is_none()
    }

    /// createChat's `profile`: own `{nickname?, avatar?}`, sent as given.
    pub fn from_val(value: Val<'_>) -> Result<Profile> {
        let fields = OptionFields::new(value, "profile")?;
        Ok(Profile {
            nickname: fields.string("nickname")?,
            avatar: fields.string("avatar")?,
        })
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl ProfilePolicy {
    /// createChat's `profilePolicy`: `{maxNicknameChars?, avatarSchemes?, maxAvatarLen?}`; what is
    /// absent keeps its default.
    pub fn from_val(value: Val<'_>) -> Result<ProfilePolicy> {
        let fields = OptionFields::new(value, "profilePolicy")?;
        let default = ProfilePolicy::default();
        Ok(ProfilePolicy {
            max_nickname_chars: fields
                .count("maxNicknameChars")?
                .unwrap_or(default.max_nickname_chars),
            avatar_schemes: fields
                .strings("avatarSchemes")?
                .unwrap_or(default.avatar_schemes),
            max_avatar_len: fields
                .count("maxAvatarLen")?
                .unwrap_or(default.max_avatar_len),
        })
    }
}

/// One object of createChat's options, read field by field; `null` counts as absent (JavaScript
/// `undefined` arrives as `null`), and a wrong type is an error naming the field.
struct OptionFields<'t> {
    fields: Val<'t>,
    name: &'static str,
}

impl<'t> OptionFields<'t> {
    fn new(fields: Val<'t>, name: &'static str) -> Result<Self> {
        match fields.kind() {
            Kind::Object | Kind::Null => Ok(OptionFields { fields, name }),
            _ => Err(Error::input(format!(
                "createChat: `{name}` must be an object (got {})",
                fields.describe()
            ))),
        }
    }

    fn get(&self, key: &str) -> Option<Val<'t>> {
        self.fields.get(key).filter(|v| !v.is_null())
    }

    fn wrong(&self, field: &str, expected: &str, got: Val<'_>) -> Error {
        let got = match got.kind() {
            Kind::Number(n) => number_text(n),
            _ => got.describe().to_string(),
        };
        Error::input(format!(
            "createChat: `{}.{field}` must be {expected} (got {got})",
            self.name
        ))
    }

    fn string(&self, key: &str) -> Result<Option<String>> {
        self.get(key)
            .map(|v| v.as_str().ok_or_else(|| self.wrong(key, "a string", v)))
            .transpose()
    }

    /// A whole number of 0 or more.
    fn count(&self, key: &str) -> Result<Option<usize>> {
        self.get(key)
            .map(|v| match v.kind() {
                // A saturating cast: no limit is near usize::MAX.
                Kind::Number(n) if n >= 0.0 && n.fract() == 0.0 => Ok(n as usize),
                _ => Err(self.wrong(key, "a whole number of 0 or more", v)),
            })
            .transpose()
    }

    fn strings(&self, key: &str) -> Result<Option<Vec<String>>> {
        let Some(list) = self.get(key) else {
            return Ok(None);
        };
        if !matches!(list.kind(), Kind::Array) {
            return Err(self.wrong(key, "an array of strings", list));
        }
        list.items()
            .enumerate()
            .map(|(i, item)| {
                item.as_str()
                    .ok_or_else(|| self.wrong(&format!("{key}[{i}]"), "a string", item))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
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
    sanitize_line(raw, policy.max_nickname_chars)
}

/// Cleans one line of display text from `ext` (a nickname, a quote's preview): no hidden or
/// direction-changing characters, whitespace as single spaces, at most `max_chars` user-perceived
/// characters; `None` when nothing visible is left.
pub fn sanitize_line(raw: &str, max_chars: usize) -> Option<String> {
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
    for cluster in text.graphemes(true).take(max_chars) {
        if cluster.chars().nth(MAX_CLUSTER_CHARS).is_some() {
            out.extend(cluster.chars().next());
        } else {
            out.push_str(cluster);
        }
    }
    // A cut inside "x\u{200C}y" keeps the joiner with the x it clusters with: with nothing after it,
    // it goes, as pass 2 drops such a joiner (so cleaning a cleaned line changes nothing).
    let out = out.trim_end_matches(|c: char| c == ' ' || is_joiner(c));
    (!out.is_empty()).then(|| out.to_string())
}

/// Query parameters that carry credentials; they are removed from every URL a record keeps. SDK 4.x puts
/// a chat file's `share-secret` in the URLs it hands a receiver; the user's token downloads it as well.
const SECRET_PARAMS: [&str; 4] = ["access_token", "token", "secret", "share-secret"];

/// Removes `access_token`, `token`, `secret` and `share-secret` query parameters (any case) from a URL.
pub fn strip_secret_params(url: &str) -> String {
    without_query_params(url, |name| {
        SECRET_PARAMS
            .iter()
            .any(|secret| secret.eq_ignore_ascii_case(name))
    })
}

/// Removes the query parameters whose name `drop` picks; the fragment stays.
pub(crate) fn without_query_params(url: &str, drop: impl Fn(&str) -> bool) -> String {
    let (before_fragment, fragment) = match url.find('#') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let Some((base, query)) = before_fragment.split_once('?') else {
        return url.to_string();
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(base);
    let kept = query
        .split('&')
        .filter(|pair| !drop(pair.split('=').next().unwrap_or_default()));
    for (i, pair) in kept.enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(pair);
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
    // Printable ASCII decides byte by byte; anything else by character.
    let ascii_forbidden = |b: u8| !(0x21..0x7F).contains(&b) || matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\');
    let unusable = if url.is_ascii() { url.bytes().any(ascii_forbidden) } else { url.chars().any(forbidden) };
    if unusable {
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
/// Only candidates are decoded, and only until one is usable.
///
/// `known` is the sender's last sanitised profile: a candidate equal to it is taken as it is, without
/// decoding or sanitising it again (sanitising what it returned changes nothing).
pub fn read_ext_profile(ext: Val<'_>, keys: &ExtKeys, policy: &ProfilePolicy, known: Option<&Profile>) -> Profile {
    let uikit = ext.get(UIKIT_USER_INFO_KEY);
    let usable = |value: Val<'_>, known: Option<&String>, sanitize: Sanitizer| match known {
        Some(known) if value.is_str(known) => Some(known.clone()),
        _ => value.as_str().and_then(|raw| sanitize(&raw, policy)),
    };
    let first_usable = |own: &str, uikit_names: &[&str], known: Option<&String>, sanitize: Sanitizer| {
        if let Some(found) = ext.get(own).and_then(|v| usable(v, known, sanitize)) {
            return Some(found);
        }
        let info = uikit?;
        uikit_names.iter().find_map(|name| info.get(name).and_then(|v| usable(v, known, sanitize)))
    };
    Profile {
        nickname: first_usable(&keys.nickname, &["nickname"], known.and_then(|k| k.nickname.as_ref()), sanitize_nickname),
        avatar: first_usable(&keys.avatar, &["avatarURL", "avatarurl"], known.and_then(|k| k.avatar.as_ref()), sanitize_avatar),
    }
}

type Sanitizer = fn(&str, &ProfilePolicy) -> Option<String>;

/// The last profile seen per sender, so messages without ext still show a name and a face.
///
/// Bounded: past `capacity` senders the least recently updated one is forgotten. Held by id in a hash
/// map: a lookup per message hashes the id once, where a binary search compared some ten ids (each a
/// call, interpreted on iPhones); forgetting (once the cache is full) scans.
/// Persists as a JSON array of `{id, nickname?, avatar?}`, least recently updated first.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileCache {
    capacity: usize,
    /// Sender id → (profile, update stamp).
    entries: FxHashMap<String, (Profile, u64)>,
    next_stamp: u64,
}

impl Default for ProfileCache {
    fn default() -> Self {
        ProfileCache::with_capacity(ProfileCache::DEFAULT_CAPACITY)
    }
}

impl ProfileCache {
    pub const DEFAULT_CAPACITY: usize = 2000;

    pub fn with_capacity(capacity: usize) -> Self {
        ProfileCache { capacity, entries: FxHashMap::default(), next_stamp: 0 }
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

    /// Records what a message showed of a sender. A field that is `None` keeps the known value.
    /// Returns whether anything changed: a profile with no field, or only the fields already known,
    /// changes nothing (and is no update, so it does not count as recent), so callers persist only
    /// on change.
    pub fn remember(&mut self, id: &str, profile: &Profile) -> bool {
        if profile.is_empty() || self.capacity == 0 {
            return false;
        }
        let stamp = self.next_stamp;
        match self.entries.get_mut(id) {
            Some((known, old_stamp)) => {
                let news = |given: &Option<String>, known: &Option<String>| given.is_some() && given != known;
                let (nickname, avatar) = (news(&profile.nickname, &known.nickname), news(&profile.avatar, &known.avatar));
                if !nickname && !avatar {
                    return false;
                }
                if nickname {
                    known.nickname.clone_from(&profile.nickname);
                }
                if avatar {
                    known.avatar.clone_from(&profile.avatar);
                }
                *old_stamp = stamp;
            }
            None => {
                self.entries.insert(id.to_string(), (profile.clone(), stamp));
            }
        }
        self.next_stamp = self.next_stamp.saturating_add(1);
        while self.entries.len() > self.capacity {
            let oldest = self.entries.iter().min_by_key(|(_, (_, stamp))| *stamp).map(|(id, _)| id.clone());
            match oldest {
                Some(oldest) => self.entries.remove(&oldest),
                None => break,
            };
        }
        true
    }

    /// Ids and profiles, least recently updated first.
    fn by_age(&self) -> Vec<(&String, &Profile)> {
        let mut listed: Vec<(&String, &(Profile, u64))> = self.entries.iter().collect();
        listed.sort_by_key(|(_, (_, stamp))| *stamp);
        listed.into_iter().map(|(id, (profile, _))| (id, profile)).collect()
    }

    /// Adds what this cache holds to `base`, oldest update first (so the newest stay newest there).
    /// Returns whether `base` changed.
    pub fn merge_into(&self, base: &mut ProfileCache) -> bool {
        let mut changed = false;
        for (id, profile) in self.by_age() {
            changed |= base.remember(id, profile);
        }
        changed
    }

    /// The cache as persisted: `[{"id":…,"nickname":…,"avatar":…}]`, least recently updated first.
    pub fn to_json(&self) -> String {
        let mut out = String::from("[");
        for (i, (id, profile)) in self.by_age().into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"id\":");
            write_str(&mut out, id);
            for (name, value) in [("nickname", &profile.nickname), ("avatar", &profile.avatar)] {
                if let Some(value) = value {
                    out.push_str(",\"");
                    out.push_str(name);
                    out.push_str("\":");
                    write_str(&mut out, value);
                }
            }
            out.push('}');
        }
        out.push(']');
        out
    }

    /// Reads what [`ProfileCache::to_json`] wrote, with the default capacity. Entries that are not
    /// `{id, nickname?, avatar?}` with a non-empty id and string fields are skipped.
    pub fn from_val(value: Val<'_>) -> ProfileCache {
        let mut cache = ProfileCache::default();
        for entry in value.items() {
            let field = |name: &str| match entry.get(name) {
                None => Some(None),
                Some(v) => v.as_str().map(Some),
            };
            let id = entry
                .get("id")
                .and_then(Val::as_str)
                .filter(|id| !id.is_empty());
            if let (Some(id), Some(nickname), Some(avatar)) =
                (id, field("nickname"), field("avatar"))
            {
                cache.remember(&id, &Profile { nickname, avatar });
            }
        }
        cache
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::tape::Tape;
    use serde_json::{json, Value};

    fn tape(value: &Value) -> Tape {
        Tape::full(value)
    }

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
    fn options_read_camel_case_with_defaults() {
        let policy = |v: Value| ProfilePolicy::from_val(tape(&v).root()).map_err(|e| e.to_string());
        let table = [
            (json!({}), Ok(ProfilePolicy::default())),
            (json!(null), Ok(ProfilePolicy::default())),
            (
                json!({"maxNicknameChars": 8, "maxAvatarLen": null, "unknown": 1}),
                Ok(ProfilePolicy { max_nickname_chars: 8, ..ProfilePolicy::default() }),
            ),
            (
                json!({"avatarSchemes": ["https", "cloud"], "maxAvatarLen": 200}),
                Ok(ProfilePolicy {
                    avatar_schemes: vec!["https".into(), "cloud".into()],
                    max_avatar_len: 200,
                    ..ProfilePolicy::default()
                }),
            ),
            (json!({"avatarSchemes": []}), Ok(ProfilePolicy { avatar_schemes: vec![], ..ProfilePolicy::default() })),
            (
                json!({"maxNicknameChars": "8"}),
                Err("mpchat: createChat: `profilePolicy.maxNicknameChars` must be a whole number of 0 or more (got a string)"),
            ),
            (
                json!({"maxAvatarLen": -1}),
                Err("mpchat: createChat: `profilePolicy.maxAvatarLen` must be a whole number of 0 or more (got -1)"),
            ),
            (
                json!({"maxAvatarLen": 2.5}),
                Err("mpchat: createChat: `profilePolicy.maxAvatarLen` must be a whole number of 0 or more (got 2.5)"),
            ),
            (
                json!({"avatarSchemes": "https"}),
                Err("mpchat: createChat: `profilePolicy.avatarSchemes` must be an array of strings (got a string)"),
            ),
            (
                json!({"avatarSchemes": ["https", 1]}),
                Err("mpchat: createChat: `profilePolicy.avatarSchemes[1]` must be a string (got 1)"),
            ),
            (json!([8]), Err("mpchat: createChat: `profilePolicy` must be an object (got an array)")),
        ];
        for (input, want) in table {
            assert_eq!(
                policy(input.clone()),
                want.map_err(str::to_string),
                "{input}"
            );
        }

        let keys = |v: Value| ExtKeys::from_val(tape(&v).root()).map_err(|e| e.to_string());
        let named = |nickname: &str, avatar: &str| ExtKeys {
            nickname: nickname.into(),
            avatar: avatar.into(),
        };
        assert_eq!(keys(json!(null)), Ok(ExtKeys::default()));
        assert_eq!(
            keys(json!({"nickname": "userName"})),
            Ok(named("userName", "userAvatar"))
        );
        assert_eq!(
            keys(json!({"nickname": "n", "avatar": "a"})),
            Ok(named("n", "a"))
        );
        assert_eq!(
            keys(json!({"avatar": true})),
            Err("mpchat: createChat: `extKeys.avatar` must be a string (got a boolean)".into())
        );
        assert_eq!(
            keys(json!("userName")),
            Err("mpchat: createChat: `extKeys` must be an object (got a string)".into())
        );

        let own = |v: Value| Profile::from_val(tape(&v).root()).map_err(|e| e.to_string());
        assert_eq!(own(json!(null)), Ok(Profile::default()));
        assert_eq!(
            own(json!({"nickname": "Alice", "avatar": null})),
            Ok(Profile {
                nickname: Some("Alice".into()),
                avatar: None
            })
        );
        assert_eq!(
            own(json!({"nickname": {"zh": "爱丽丝"}})),
            Err("mpchat: createChat: `profile.nickname` must be a string (got an object)".into())
        );
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
            let policy = ProfilePolicy::default();
            assert_eq!(read_ext_profile(tape(&ext).root(), keys, &policy, None), want, "{ext}");
            // The sender's last profile, when it is what the ext carries, reads the same.
            assert_eq!(read_ext_profile(tape(&ext).root(), keys, &policy, Some(&want)), want, "{ext}");
        }
    }

    #[test]
    fn a_known_profile_is_taken_only_when_the_ext_carries_it_exactly() {
        let ext = json!({"userNickname": "  Ann\u{200B}  ", "userAvatar": "https://x.example/a.png"});
        let known = Profile { nickname: Some("  Ann\u{200B}  ".into()), avatar: Some("https://x.example/b.png".into()) };
        // Raw text equal to an unsanitised "known" value is still sanitised: the cache only ever
        // holds sanitised values, and a stale one that differs never stands in for the ext.
        let read = read_ext_profile(tape(&ext).root(), &ExtKeys::default(), &ProfilePolicy::default(), Some(&known));
        assert_eq!(read.avatar.as_deref(), Some("https://x.example/a.png"));
        let sanitised = read_ext_profile(tape(&ext).root(), &ExtKeys::default(), &ProfilePolicy::default(), None);
        assert_eq!(sanitised.nickname.as_deref(), Some("Ann"));
    }

    #[test]
    fn a_line_cut_after_a_joiner_loses_the_joiner() {
        let raw = format!("{}:\u{200C}A", "a".repeat(31));
        let once = sanitize_line(&raw, 32).unwrap();
        assert_eq!(once, format!("{}:", "a".repeat(31)));
        assert_eq!(sanitize_line(&once, 32).as_deref(), Some(once.as_str()));
    }

    proptest::proptest! {
        /// What a known profile skips is sanitising a sanitised value: that must change nothing.
        #[test]
        fn sanitising_twice_is_sanitising_once(raw in "\\PC{0,40}|[ a-zA-Z\u{200B}-\u{200F}\u{FE0F}\u{E0061}\u{1F3F4}:/?#@=&]{0,40}") {
            let policy = ProfilePolicy::default();
            if let Some(once) = sanitize_nickname(&raw, &policy) {
                proptest::prop_assert_eq!(sanitize_nickname(&once, &policy), Some(once.clone()));
            }
            let url = format!("https://x.example/{raw}");
            if let Some(once) = sanitize_avatar(&url, &policy) {
                proptest::prop_assert_eq!(sanitize_avatar(&once, &policy), Some(once.clone()));
            }
        }
    }

    #[test]
    fn cache_merges_and_forgets_the_least_recently_updated() {
        let named = |n: &str| Profile {
            nickname: Some(n.into()),
            avatar: None,
        };
        let bob = Profile {
            nickname: Some("Bob".into()),
            avatar: Some("https://b/b.png".into()),
        };
        let mut cache = ProfileCache::with_capacity(2);
        // (sender, profile shown, whether that changed the cache)
        let steps = [
            ("bob", bob.clone(), true),
            ("bob", Profile::default(), false),
            ("bob", bob.clone(), false),
            ("bob", named("Bob"), false),
            ("bob", named("Bobby"), true),
            ("ann", named("Ann"), true),
            ("bob", named("Bob"), true),
            ("cid", named("Cid"), true),
            ("dan", Profile::default(), false),
        ];
        for (i, (id, profile, changed)) in steps.into_iter().enumerate() {
            assert_eq!(
                cache.remember(id, &profile),
                changed,
                "step {i}: {id} {profile:?}"
            );
        }
        assert_eq!(cache.get("ann"), None, "ann was updated least recently");
        assert_eq!(
            cache.get("bob"),
            Some(&bob),
            "a field not shown keeps the known value"
        );
        assert_eq!(cache.get("cid"), Some(&named("Cid")));
        assert_eq!(cache.get("dan"), None);
        assert_eq!(cache.len(), 2);
        // Showing what is known is no update: ann, updated after bob's last change, outlives bob.
        let mut cache = ProfileCache::with_capacity(2);
        cache.remember("bob", &named("Bob"));
        cache.remember("ann", &named("Ann"));
        assert!(!cache.remember("bob", &named("Bob")));
        cache.remember("cid", &named("Cid"));
        assert_eq!((cache.get("bob"), cache.get("ann").is_some()), (None, true));
        assert!(!ProfileCache::with_capacity(0).remember("bob", &named("Bob")));
    }

    #[test]
    fn cache_persists_as_a_list() {
        let mut cache = ProfileCache::default();
        cache.remember(
            "bob",
            &Profile {
                nickname: Some("Bob \"B\"".into()),
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
        let json = cache.to_json();
        assert_eq!(
            json,
            r#"[{"id":"bob","nickname":"Bob \"B\""},{"id":"ann","avatar":"https://a/a.png"}]"#
        );
        let back = ProfileCache::from_val(tape(&serde_json::from_str(&json).unwrap()).root());
        assert_eq!(back, cache);
        assert_eq!(ProfileCache::default().to_json(), "[]");
        // Entries that are not {id, nickname?, avatar?} are skipped; the rest is read.
        let stored = json!([
            {"id": "bob", "nickname": "Bob"},
            {"id": "", "nickname": "Nobody"},
            {"id": 7, "nickname": "Seven"},
            {"id": "eve", "nickname": 5},
            {"id": "fay", "avatar": null},
            {"id": "gus"},
            "hal",
            null,
            {"id": "ann", "avatar": "https://a/a.png", "extra": true},
        ]);
        let read = ProfileCache::from_val(tape(&stored).root());
        assert_eq!(
            read.to_json(),
            r#"[{"id":"bob","nickname":"Bob"},{"id":"ann","avatar":"https://a/a.png"}]"#
        );
        for not_a_list in [
            json!({"id": "bob", "nickname": "Bob"}),
            json!("[]"),
            json!(null),
        ] {
            assert!(
                ProfileCache::from_val(tape(&not_a_list).root()).is_empty(),
                "{not_a_list}"
            );
        }
    }
}
