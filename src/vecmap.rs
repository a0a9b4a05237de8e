//! A map kept as a sorted vector: what the core's maps hold (conversations, a conversation's chunks,
//! extras) is small, and in wasm a sorted vector is a fraction of a B-tree's code and, interpreted,
//! of its instructions per lookup. The place of the last key found is tried first: one operation
//! looks up the same conversation many times, and with 200 of them each binary search compares
//! eight names.

use std::borrow::Borrow;
use std::cell::Cell;

#[derive(Debug, Clone)]
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
    /// Where the last lookup found its key (checked before it is trusted: entries move).
    last: Cell<usize>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap { entries: Vec::new(), last: Cell::new(0) }
    }
}

impl<K: PartialEq, V: PartialEq> PartialEq for VecMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl<K: Eq, V: Eq> Eq for VecMap<K, V> {}

impl<K: Ord, V> VecMap<K, V> {
    pub fn new() -> Self {
        VecMap::default()
    }

    fn position<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        if let Some((k, _)) = self.entries.get(self.last.get()) {
            if k.borrow() == key {
                return Ok(self.last.get());
            }
        }
        let found = self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key));
        if let Ok(at) = found {
            self.last.set(at);
        }
        found
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        let at = self.position(key).ok()?;
        self.entries.get(at).map(|(_, v)| v)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        let at = self.position(key).ok()?;
        self.entries.get_mut(at).map(|(_, v)| v)
    }

    /// Like `position`, with one comparison for a key past the last: maps filled in key order (opening
    /// reads the heads in key order) then never search.
    fn position_or_end<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        match self.entries.last() {
            Some((last, _)) if last.borrow() < key => Err(self.entries.len()),
            _ => self.position(key),
        }
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.position_or_end(key).is_ok()
    }

    /// Sets `key`; returns the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.position_or_end(&key) {
            Ok(at) => self.entries.get_mut(at).map(|slot| std::mem::replace(&mut slot.1, value)),
            Err(at) => {
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let at = self.position(key).ok()?;
        Some(self.entries.remove(at).1)
    }

    /// The value of `key`, inserted with `make` when absent.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let at = match self.position(&key) {
            Ok(at) => at,
            Err(at) => {
                self.entries.insert(at, (key, make()));
                at
            }
        };
        // `at` is in bounds: found, or just inserted there.
        &mut self.entries[at].1
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    /// Entries in key order.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
        let mut entries: Vec<(K, V)> = items.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|a, b| a.0 == b.0);
        VecMap { entries, last: Cell::new(0) }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::VecMap;

    #[test]
    fn behaves_as_a_sorted_map() {
        let mut map: VecMap<String, u32> = VecMap::new();
        assert_eq!(map.insert("b".into(), 2), None);
        assert_eq!(map.insert("a".into(), 1), None);
        assert_eq!(map.insert("b".into(), 3), Some(2));
        *map.get_or_insert_with("c".into(), || 0) += 5;
        assert_eq!(map.keys().map(String::as_str).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!((map.get("b"), map.get("z"), map.len()), (Some(&3), None, 3));
        assert_eq!(map.remove("a"), Some(1));
        assert!(!map.contains_key("a") && map.contains_key("c"));
        let collected: VecMap<u64, char> = [(3, 'c'), (1, 'a'), (3, 'x')].into_iter().collect();
        assert_eq!(collected.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(), [(1, 'a'), (3, 'c')]);
    }

    #[test]
    fn the_last_place_found_never_answers_for_another_key() {
        let mut map: VecMap<String, u32> = ["b", "d"].into_iter().map(|k| (k.to_string(), k.len() as u32)).collect();
        *map.get_mut("d").unwrap() = 4;
        // "d" moves one place on, and a new key takes its old place.
        map.insert("a".into(), 1);
        assert_eq!((map.get("b"), map.get("d")), (Some(&1), Some(&4)));
        map.insert("c".into(), 3);
        assert_eq!(map.get("c"), Some(&3));
        assert_eq!(map.remove("b"), Some(1));
        // The last place found ("c", 2) now holds "d".
        assert_eq!((map.get("c"), map.get("d"), map.get("b")), (Some(&3), Some(&4), None));
        assert_eq!(map, ["a", "c", "d"].into_iter().map(|k| (k.to_string(), (k.as_bytes()[0] - b'a' + 1) as u32)).collect());
    }
}
