//! Names and faces the server gives for users (user attributes) and groups (group info), kept with the
//! time they were fetched, so pages show real names without asking the server on every visit.
//!
//! What the server says is display data anyone could have set (a user writes their own nickname), so
//! it is sanitised exactly as a sender's ext profile is ([`crate::profile`]), with the chat's policy.
//! The directory persists as one extra blob of the store (counted in its budget), bounded in entries
//! and in bytes: past either bound the least recently fetched entry is forgotten.
//!
//! Stored as `{"users":[{id, at, nickname?, avatar?}], "groups":[{id, at, name?, avatar?, description?}]}`
//! (`at`: when it was fetched, ms); the shim keeps the same objects as its lookup table.

use crate::json::{write_i64, write_list, write_str};
use crate::profile::{sanitize_avatar, sanitize_line, sanitize_nickname, ProfilePolicy};
use crate::tape::Val;
use crate::vecmap::VecMap;

/// The store's extra blob that holds the directory.
pub const DIRECTORY_EXTRA: &str = "directory";
/// Users and groups kept at most, each.
pub const MAX_USERS: usize = 1000;
pub const MAX_GROUPS: usize = 300;
/// The blob stays under this many bytes (the store refuses extras over 512 KiB).
pub const MAX_DIRECTORY_BYTES: usize = 192 * 1024;
/// A group description is shown as one line of at most this many characters.
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// Ids longer than this are no user or group id.
const MAX_ID_BYTES: usize = 256;
/// The bytes of an entry's JSON beyond its strings (keys, quotes, the time).
const ENTRY_OVERHEAD: usize = 80;

/// Users or groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    Users,
    Groups,
}

impl Shelf {
    /// The JSON key of the display name: a user's nickname, a group's name.
    fn name_key(self) -> &'static str {
        match self {
            Shelf::Users => "nickname",
            Shelf::Groups => "name",
        }
    }

    fn list_key(self) -> &'static str {
        match self {
            Shelf::Users => "users",
            Shelf::Groups => "groups",
        }
    }

    fn capacity(self) -> usize {
        match self {
            Shelf::Users => MAX_USERS,
            Shelf::Groups => MAX_GROUPS,
        }
    }
}

/// What the server said of one user or group, sanitised, and when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub name: Option<String>,
    pub avatar: Option<String>,
    /// Groups only.
    pub description: Option<String>,
    /// When it was fetched (ms since the epoch).
    pub fetched_at: i64,
}

impl Listing {
    /// Sanitises raw server fields; a field that is absent or has nothing usable is left out.
    pub fn sanitized(
        name: Option<&str>,
        avatar: Option<&str>,
        description: Option<&str>,
        fetched_at: i64,
        policy: &ProfilePolicy,
    ) -> Self {
        Listing {
            name: name.and_then(|n| sanitize_nickname(n, policy)),
            avatar: avatar.and_then(|a| sanitize_avatar(a, policy)),
            description: description.and_then(|d| sanitize_line(d, MAX_DESCRIPTION_CHARS)),
            fetched_at,
        }
    }

    fn bytes(&self, id: &str) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        ENTRY_OVERHEAD + id.len() + text(&self.name) + text(&self.avatar) + text(&self.description)
    }

    fn write_json(&self, out: &mut String, id: &str, shelf: Shelf) {
        out.push_str("{\"id\":");
        write_str(out, id);
        out.push_str(",\"at\":");
        write_i64(out, self.fetched_at);
        for (key, value) in [
            (shelf.name_key(), &self.name),
            ("avatar", &self.avatar),
            ("description", &self.description),
        ] {
            if let Some(value) = value {
                out.push_str(",\"");
                out.push_str(key);
                out.push_str("\":");
                write_str(out, value);
            }
        }
        out.push('}');
    }
}

/// What a [`Directory::put`] changed: the entries saved, as stored, and the ids forgotten to make room.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Put {
    pub saved: Vec<String>,
    pub forgotten: Vec<(Shelf, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    users: VecMap<String, Listing>,
    groups: VecMap<String, Listing>,
}

fn usable_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_BYTES
}

impl Directory {
    fn shelf(&self, shelf: Shelf) -> &VecMap<String, Listing> {
        match shelf {
            Shelf::Users => &self.users,
            Shelf::Groups => &self.groups,
        }
    }

    fn shelf_mut(&mut self, shelf: Shelf) -> &mut VecMap<String, Listing> {
        match shelf {
            Shelf::Users => &mut self.users,
            Shelf::Groups => &mut self.groups,
        }
    }

    pub fn get(&self, shelf: Shelf, id: &str) -> Option<&Listing> {
        self.shelf(shelf).get(id)
    }

    pub fn len(&self, shelf: Shelf) -> usize {
        self.shelf(shelf).len()
    }

    /// Reads the stored blob, sanitising again with `policy` (a blob planted in storage, or kept from a
    /// looser policy, shows nothing the policy refuses). Entries that are not valid are left out.
    pub fn from_val(value: Val<'_>, policy: &ProfilePolicy) -> Self {
        let mut directory = Directory::default();
        for shelf in [Shelf::Users, Shelf::Groups] {
            let Some(list) = value.get(shelf.list_key()) else {
                continue;
            };
            for entry in list.items() {
                let text = |key: &str| entry.get(key).and_then(Val::as_str);
                let (Some(id), Some(at)) = (text("id"), entry.get("at").and_then(Val::as_f64))
                else {
                    continue;
                };
                if !usable_id(&id) || !at.is_finite() {
                    continue;
                }
                let description = if shelf == Shelf::Groups {
                    text("description")
                } else {
                    None
                };
                let listing = Listing::sanitized(
                    text(shelf.name_key()).as_deref(),
                    text("avatar").as_deref(),
                    description.as_deref(),
                    at as i64,
                    policy,
                );
                directory.shelf_mut(shelf).insert(id, listing);
            }
        }
        directory.make_room();
        directory
    }

    /// Keeps what the server answered for `rows` (`[id, name, avatar]` for users, `[id, name, avatar,
    /// description]` for groups; each field a string or null), fetched at `now`, sanitised. An id the
    /// server said nothing about is kept with no fields: it was asked, so it is not asked again before
    /// it is stale. Rows without a usable id are skipped.
    pub fn put(&mut self, shelf: Shelf, rows: Val<'_>, now: i64, policy: &ProfilePolicy) -> Put {
        let mut put = Put::default();
        for row in rows.items() {
            let field = |i: usize| row.items().nth(i).and_then(Val::as_str);
            let Some(id) = field(0).filter(|id| usable_id(id)) else {
                continue;
            };
            let description = if shelf == Shelf::Groups {
                field(3)
            } else {
                None
            };
            let listing = Listing::sanitized(
                field(1).as_deref(),
                field(2).as_deref(),
                description.as_deref(),
                now,
                policy,
            );
            self.shelf_mut(shelf).insert(id.clone(), listing);
            put.saved.push(id);
        }
        put.forgotten = self.make_room();
        put.saved
            .retain(|id| self.shelf(shelf).contains_key(id.as_str()));
        put
    }

    /// The entries of `ids` on `shelf`, as stored, in a JSON array (ids not kept are left out).
    pub fn entries_json(&self, shelf: Shelf, ids: &[String]) -> String {
        let mut out = String::from("[");
        let mut first = true;
        for id in ids {
            let Some(listing) = self.get(shelf, id) else {
                continue;
            };
            if !first {
                out.push(',');
            }
            first = false;
            listing.write_json(&mut out, id, shelf);
        }
        out.push(']');
        out
    }

    /// Forgets the least recently fetched entries until both shelves are within their counts and the
    /// whole within [`MAX_DIRECTORY_BYTES`]; returns what was forgotten.
    fn make_room(&mut self) -> Vec<(Shelf, String)> {
        let mut forgotten = Vec::new();
        let mut bytes: usize = [Shelf::Users, Shelf::Groups]
            .iter()
            .flat_map(|&s| self.shelf(s).iter())
            .map(|(id, listing)| listing.bytes(id))
            .sum();
        loop {
            let over = |s: Shelf| self.shelf(s).len() > s.capacity();
            let shelves: &[Shelf] = match (over(Shelf::Users), over(Shelf::Groups)) {
                (true, _) => &[Shelf::Users],
                (_, true) => &[Shelf::Groups],
                _ if bytes > MAX_DIRECTORY_BYTES => &[Shelf::Users, Shelf::Groups],
                _ => break,
            };
            let oldest = shelves
                .iter()
                .flat_map(|&s| {
                    self.shelf(s)
                        .iter()
                        .map(move |(id, listing)| (s, id, listing.fetched_at))
                })
                .min_by_key(|(_, _, at)| *at)
                .map(|(s, id, _)| (s, id.clone()));
            let Some((shelf, id)) = oldest else { break };
            if let Some(listing) = self.shelf_mut(shelf).remove(id.as_str()) {
                bytes = bytes.saturating_sub(listing.bytes(&id));
            }
            forgotten.push((shelf, id));
        }
        forgotten
    }

    /// The directory as stored (see the module docs).
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        for (i, shelf) in [Shelf::Users, Shelf::Groups].into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(shelf.list_key());
            out.push_str("\":");
            write_list(&mut out, self.shelf(shelf).iter(), |out, (id, listing)| listing.write_json(out, id, shelf));
        }
        out.push('}');
        out
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::tape::Tape;
    use serde_json::{json, Value};

    fn put(directory: &mut Directory, shelf: Shelf, rows: Value, now: i64) -> Put {
        directory.put(
            shelf,
            Tape::full(&rows).root(),
            now,
            &ProfilePolicy::default(),
        )
    }

    fn reread(directory: &Directory, policy: &ProfilePolicy) -> Directory {
        let json: Value = serde_json::from_str(&directory.to_json()).unwrap();
        Directory::from_val(Tape::full(&json).root(), policy)
    }

    #[test]
    fn server_names_and_avatars_are_sanitised_like_ext_profiles() {
        let mut directory = Directory::default();
        let rows = json!([
            [
                "bob",
                "\u{202E}Bob\u{200B}  the\nbuilder",
                "https://a.example/b.png?access_token=x"
            ],
            ["carol", "   ", "javascript:alert(1)"],
            ["dave", null, null],
            ["", "nobody", null],
            [7, "not an id", null],
        ]);
        let result = put(&mut directory, Shelf::Users, rows, 1000);
        assert_eq!(result.saved, ["bob", "carol", "dave"]);
        let bob = directory.get(Shelf::Users, "bob").unwrap();
        assert_eq!(bob.name.as_deref(), Some("Bob the builder"));
        assert_eq!(bob.avatar.as_deref(), Some("https://a.example/b.png"));
        assert_eq!(bob.fetched_at, 1000);
        let carol = directory.get(Shelf::Users, "carol").unwrap();
        assert_eq!(
            (carol.name.as_ref(), carol.avatar.as_ref()),
            (None, None),
            "kept as asked, with nothing to show"
        );
        assert_eq!(directory.len(Shelf::Users), 3);
    }

    #[test]
    fn groups_keep_a_one_line_description() {
        let mut directory = Directory::default();
        let long = "很".repeat(MAX_DESCRIPTION_CHARS + 10);
        put(
            &mut directory,
            Shelf::Groups,
            json!([
                [
                    "g1",
                    "周末爬山",
                    "https://a.example/g.png",
                    "每周六\n早上八点"
                ],
                ["g2", "G2", null, long]
            ]),
            5,
        );
        let g1 = directory.get(Shelf::Groups, "g1").unwrap();
        assert_eq!(g1.description.as_deref(), Some("每周六 早上八点"));
        assert_eq!(
            directory
                .get(Shelf::Groups, "g2")
                .unwrap()
                .description
                .as_ref()
                .unwrap()
                .chars()
                .count(),
            MAX_DESCRIPTION_CHARS
        );
        assert_eq!(
            directory.entries_json(Shelf::Groups, &["g1".into(), "missing".into()]),
            r#"[{"id":"g1","at":5,"name":"周末爬山","avatar":"https://a.example/g.png","description":"每周六 早上八点"}]"#
        );
    }

    #[test]
    fn survives_its_json_and_the_policy_applies_again_on_reading() {
        let mut directory = Directory::default();
        let wide = ProfilePolicy {
            avatar_schemes: vec!["https".into(), "cloud".into()],
            ..ProfilePolicy::default()
        };
        directory.put(
            Shelf::Users,
            Tape::full(&json!([
                ["bob", "Bob", "cloud://env/b.png"],
                ["amy", "Amy", "https://a.example/a.png"]
            ]))
            .root(),
            7,
            &wide,
        );
        put(
            &mut directory,
            Shelf::Groups,
            json!([["g1", "Hikers", null, null]]),
            8,
        );
        assert_eq!(reread(&directory, &wide), directory);
        let strict = reread(&directory, &ProfilePolicy::default());
        assert_eq!(
            strict.get(Shelf::Users, "bob").unwrap().avatar,
            None,
            "a scheme the policy no longer allows is dropped"
        );
        assert_eq!(
            strict.get(Shelf::Users, "amy").unwrap().avatar.as_deref(),
            Some("https://a.example/a.png")
        );
        assert_eq!(
            strict.get(Shelf::Groups, "g1").unwrap().name.as_deref(),
            Some("Hikers")
        );
    }

    #[test]
    fn a_planted_blob_keeps_only_what_is_valid() {
        let planted = json!({"users": [{"id": "bob", "at": 3, "nickname": "\u{202E}Bob"}, {"id": "x"}, {"at": 1}, 5,
            {"id": "amy", "at": 2, "avatar": "http://insecure.example/a.png"}], "groups": "nonsense"});
        let directory = Directory::from_val(Tape::full(&planted).root(), &ProfilePolicy::default());
        assert_eq!(
            directory.to_json(),
            r#"{"users":[{"id":"amy","at":2},{"id":"bob","at":3,"nickname":"Bob"}],"groups":[]}"#
        );
    }

    #[test]
    fn the_least_recently_fetched_are_forgotten_past_the_count() {
        let mut directory = Directory::default();
        let rows: Vec<Value> = (0..MAX_USERS)
            .map(|i| json!([format!("u{i}"), "x", null]))
            .collect();
        put(&mut directory, Shelf::Users, json!(rows), 10);
        put(
            &mut directory,
            Shelf::Users,
            json!([["u0", "refetched", null]]),
            20,
        );
        let result = put(
            &mut directory,
            Shelf::Users,
            json!([["new", "N", null]]),
            30,
        );
        assert_eq!(directory.len(Shelf::Users), MAX_USERS);
        assert_eq!(result.saved, ["new"]);
        assert_eq!(result.forgotten.len(), 1);
        assert_ne!(
            result.forgotten[0].1, "u0",
            "refetched just now, so not the oldest"
        );
        assert!(directory.get(Shelf::Users, "u0").is_some());
    }

    #[test]
    fn the_blob_stays_within_its_bytes() {
        let mut directory = Directory::default();
        let avatar = format!("https://a.example/{}", "p".repeat(900));
        for i in 0..300 {
            put(
                &mut directory,
                Shelf::Users,
                json!([[format!("user-{i}"), "某".repeat(30), avatar]]),
                i,
            );
        }
        let json = directory.to_json();
        assert!(json.len() <= MAX_DIRECTORY_BYTES, "{} bytes", json.len());
        assert!(directory.len(Shelf::Users) > 100);
        assert!(
            directory.get(Shelf::Users, "user-299").is_some(),
            "the newest are kept"
        );
        assert!(
            directory.get(Shelf::Users, "user-0").is_none(),
            "the oldest went"
        );
    }
}
