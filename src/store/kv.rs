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
    m.contains("quota") || m.contains("limit") || m.contains("exceed") || m.contains("full")
}
