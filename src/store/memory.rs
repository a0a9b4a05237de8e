//! An in-memory [`KeyValue`] that behaves like `wx` storage where it matters to the store: values are
//! stored as text (so what is read is a copy), sizes count key plus value, writes past the per-key or
//! total limit throw with `wx`'s texts, and any call can be made to fail for fault-injection tests.

use std::collections::BTreeMap;

use super::kv::KeyValue;
use crate::error::{Error, Result};

/// `wx`'s limit for one key (key plus serialised value).
pub const WX_KEY_LIMIT: u64 = 1024 * 1024;
/// `wx`'s limit for all keys of one user of one mini-program.
pub const WX_TOTAL_LIMIT: u64 = 10 * 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    entries: BTreeMap<String, String>,
    key_limit: Option<u64>,
    total_limit: Option<u64>,
    calls: u64,
    fail_calls: Vec<u64>,
    bytes_written: u64,
    total: u64,
}

fn entry_bytes(key: &str, value: &str) -> u64 {
    (key.len() as u64).saturating_add(value.len() as u64)
}

impl MemoryStorage {
    /// No limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// `wx`'s limits: 1 MiB per key, 10 MiB in total.
    pub fn with_wx_limits() -> Self {
        Self::with_limits(WX_KEY_LIMIT, WX_TOTAL_LIMIT)
    }

    pub fn with_limits(key_limit: u64, total_limit: u64) -> Self {
        MemoryStorage {
            key_limit: Some(key_limit),
            total_limit: Some(total_limit),
            ..Self::default()
        }
    }

    /// Makes call number `n` (1-based, counting every call ever made) throw.
    pub fn fail_call(&mut self, n: u64) {
        self.fail_calls.push(n);
    }

    /// Clears injected faults.
    pub fn heal(&mut self) {
        self.fail_calls.clear();
    }

    /// Calls made so far (get, set, remove, keys).
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// Bytes (key plus value) passed to successful `set` calls.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }


    /// Bytes held by keys starting with `prefix` ("" for all).
    pub fn bytes_under(&self, prefix: &str) -> u64 {
        self.entries
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| entry_bytes(k, v))
            .fold(0, u64::saturating_add)
    }

    pub fn largest_entry(&self) -> u64 {
        self.entries
            .iter()
            .map(|(k, v)| entry_bytes(k, v))
            .max()
            .unwrap_or(0)
    }

    /// Reads without counting a call or failing (for test assertions).
    pub fn peek(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }

    /// Writes without counting a call, failing or checking limits (for planting test data).
    pub fn plant(&mut self, key: &str, value: &str) {
        let old = self.entries.insert(key.to_string(), value.to_string());
        self.total = self
            .total
            .saturating_add(entry_bytes(key, value))
            .saturating_sub(old.map_or(0, |v| entry_bytes(key, &v)));
    }

    pub fn key_list(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    fn call(&mut self, what: &str) -> Result<()> {
        self.calls = self.calls.saturating_add(1);
        let n = self.calls;
        if self.fail_calls.contains(&n) {
            return Err(Error::storage(format!(
                "fail:injected fault at call {n} ({what})"
            )));
        }
        Ok(())
    }
}

impl KeyValue for MemoryStorage {
    fn get(&mut self, key: &str) -> Result<Option<String>> {
        self.call("get")?;
        Ok(self.entries.get(key).cloned())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        self.call("set")?;
        let size = entry_bytes(key, value);
        if self.key_limit.is_some_and(|limit| size > limit) {
            return Err(Error::storage("fail:entry size limit reached"));
        }
        if let Some(limit) = self.total_limit {
            let old = self.entries.get(key).map_or(0, |v| entry_bytes(key, v));
            if self.total.saturating_sub(old).saturating_add(size) > limit {
                return Err(Error::storage("fail:quota reached"));
            }
        }
        let old = self.entries.insert(key.to_string(), value.to_string());
        self.total = self
            .total
            .saturating_add(size)
            .saturating_sub(old.map_or(0, |v| entry_bytes(key, &v)));
        self.bytes_written = self.bytes_written.saturating_add(size);
        Ok(())
    }

    fn remove(&mut self, key: &str) -> Result<()> {
        self.call("remove")?;
        if let Some(old) = self.entries.remove(key) {
            self.total = self.total.saturating_sub(entry_bytes(key, &old));
        }
        Ok(())
    }

    fn keys(&mut self) -> Result<Vec<String>> {
        self.call("keys")?;
        Ok(self.entries.keys().cloned().collect())
    }
}
