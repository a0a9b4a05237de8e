//! The key-value storage the store writes through: `wx` storage in a mini-program, memory in tests.

use crate::error::Result;

/// A string-to-string storage. Values are JSON text. Any call may fail with [`crate::Error::Storage`]
/// (quota, per-key size, or a throw from the host); the store treats a failed `set` as not written.
pub trait KeyValue {
    fn get(&mut self, key: &str) -> Result<Option<String>>;
    fn set(&mut self, key: &str, value: &str) -> Result<()>;
    fn remove(&mut self, key: &str) -> Result<()>;
    /// Every key in the storage, the app's own and other users' included.
    fn keys(&mut self) -> Result<Vec<String>>;
}

/// Lets a store borrow a storage, so a test can reopen a new store on the same storage.
impl<K: KeyValue + ?Sized> KeyValue for &mut K {
    fn get(&mut self, key: &str) -> Result<Option<String>> {
        (**self).get(key)
    }
    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        (**self).set(key, value)
    }
    fn remove(&mut self, key: &str) -> Result<()> {
        (**self).remove(key)
    }
    fn keys(&mut self) -> Result<Vec<String>> {
        (**self).keys()
    }
}

/// Whether a storage error says the storage is full (per key or in total), so evicting may help.
/// `wx` texts differ between clients (`fail:quota reached`, `fail:entry size limit reached`, …).
pub fn is_full_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "quota",
        "limit reached",
        "exceed",
        "max size",
        "storage full",
    ]
    .iter()
    .any(|sign| m.contains(sign))
}

#[cfg(test)]
mod tests {
    use super::is_full_error;

    #[test]
    fn full_storage_errors_are_recognised() {
        let table = [
            ("fail:quota reached", true),
            ("fail:entry size limit reached", true),
            ("setStorageSync:fail exceed storage max size 10MB", true),
            ("fail:injected fault at call 3 (set)", false),
            ("fail:internal error", false),
        ];
        for (message, full) in table {
            assert_eq!(is_full_error(message), full, "{message}");
        }
    }
}
