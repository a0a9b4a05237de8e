//! An in-memory [`KeyValue`] that behaves like `wx` storage where it matters to the store: values are
//! stored as text (so what is read is a copy), sizes count key plus value, writes past the per-key or
//! total limit throw with `wx`'s texts, and any call can be made to fail for fault-injection tests:
//! a call that throws and changes nothing, a write that takes effect and then throws, a run of calls
//! that throw, reads that throw every so often, a storage that fills up and stays full, and a process
//! killed at a call (every later call throws until [`MemoryStorage::heal`]).

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
    faults: Vec<(u64, Fault)>,
    /// From this call on, every call throws without effect (the process is gone).
    dead_from: Option<u64>,
    /// A fault kills the process: every call after it throws.
    kill_on_fault: bool,
    /// Every `period`-th read (get or keys), counting reads from the call it was set, throws.
    flaky_reads: Option<(u64, u64)>,
    reads: u64,
    /// The call from which reads are counted for `flaky_reads`.
    flaky_from: u64,
    /// From this call on, the storage is full: (call, how). See [`MemoryStorage::fill_at`].
    full_from: Option<(u64, Full)>,
    /// The quota of a storage full since `full_from` ([`Full::Quota`]).
    full_cap: Option<u64>,
    fired: u64,
    bytes_written: u64,
    total: u64,
}

/// How an injected fault at one call behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The call throws and changes nothing.
    Throw,
    /// A write (set, remove) takes effect and then throws; a read throws.
    AfterEffect,
}

/// How a storage that fills up refuses writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The quota becomes what is in use: a write that would grow the total throws `quota reached`;
    /// removing frees room, and a write that fits in it succeeds (other data filled the storage).
    Quota,
    /// Every write throws `quota reached`, whatever is removed (a storage that refuses everything).
    Refuse,
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
        self.faults.push((n, Fault::Throw));
    }

    /// Makes call number `n` fail as `fault` says.
    pub fn fault_at(&mut self, n: u64, fault: Fault) {
        self.faults.push((n, fault));
    }

    /// Makes `count` calls from call number `n` on throw.
    pub fn fail_calls(&mut self, n: u64, count: u64) {
        for k in n..n.saturating_add(count) {
            self.faults.push((k, Fault::Throw));
        }
    }

    /// The process dies at the first injected fault (after a write it lets take effect): every
    /// later call throws without effect until [`MemoryStorage::heal`].
    pub fn kill_on_fault(&mut self) {
        self.kill_on_fault = true;
    }

    /// Every `period`-th read (`get` or `keys`) from now on throws, the first after `phase` more reads.
    pub fn flaky_reads(&mut self, period: u64, phase: u64) {
        self.flaky_reads = Some((period.max(1), phase));
        self.reads = 0;
        self.flaky_from = 0;
    }

    /// From call number `n` on, every `period`-th read throws, the first being the first read at or
    /// after call `n`.
    pub fn flaky_reads_from(&mut self, n: u64, period: u64) {
        self.flaky_reads = Some((period.max(1), 0));
        self.reads = 0;
        self.flaky_from = n;
    }

    /// From call number `n` on the storage is full, as `how` says.
    pub fn fill_at(&mut self, n: u64, how: Full) {
        self.full_from = Some((n, how));
    }

    /// Clears injected faults: the storage works again, with the limits it was made with.
    pub fn heal(&mut self) {
        self.faults.clear();
        self.dead_from = None;
        self.kill_on_fault = false;
        self.flaky_reads = None;
        self.full_from = None;
        self.full_cap = None;
    }

    /// Injected faults that fired so far (calls that threw because of one, the full storage's refusals included).
    pub fn faults_fired(&self) -> u64 {
        self.fired
    }

    /// Whether a fault killed the process (see [`MemoryStorage::kill_on_fault`]).
    pub fn is_dead(&self) -> bool {
        self.dead_from.is_some()
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

    /// Counts a call; `Err` when it throws before doing anything, `Ok(true)` when it must throw after
    /// taking effect.
    fn call(&mut self, what: &str) -> Result<bool> {
        self.calls = self.calls.saturating_add(1);
        let n = self.calls;
        if self.dead_from.is_some() {
            return Err(Error::storage(format!("fail:the process was killed before call {n} ({what})")));
        }
        let read = what == "get" || what == "keys";
        let flaky = read
            && n >= self.flaky_from
            && match self.flaky_reads {
                Some((period, phase)) => {
                    self.reads = self.reads.saturating_add(1);
                    self.reads > phase && (self.reads - phase) % period == 1 % period
                }
                None => false,
            };
        let fault = self.faults.iter().find(|(k, _)| *k == n).map(|(_, f)| *f);
        let fault = match (fault, flaky) {
            (Some(f), _) => Some(f),
            (None, true) => Some(Fault::Throw),
            (None, false) => None,
        };
        let Some(fault) = fault else {
            return Ok(false);
        };
        self.fired = self.fired.saturating_add(1);
        if self.kill_on_fault {
            self.dead_from = Some(n);
        }
        if fault == Fault::AfterEffect && !read {
            return Ok(true);
        }
        Err(Error::storage(format!("fail:injected fault at call {n} ({what})")))
    }

    /// The quota reached when the storage has filled up, if it has.
    fn full(&mut self, size: u64, old: u64) -> Result<()> {
        let Some((from, how)) = self.full_from else {
            return Ok(());
        };
        if self.calls < from {
            return Ok(());
        }
        let refused = match how {
            Full::Refuse => true,
            Full::Quota => {
                // The rest of the storage was taken by someone else: what is in use is all there is.
                let cap = *self.full_cap.get_or_insert(self.total);
                self.total.saturating_sub(old).saturating_add(size) > cap
            }
        };
        if refused {
            self.fired = self.fired.saturating_add(1);
            if self.kill_on_fault {
                self.dead_from = Some(self.calls);
            }
            return Err(Error::storage("fail:quota reached"));
        }
        Ok(())
    }

    fn after(&self, effect: bool, what: &str) -> Result<()> {
        if effect {
            return Err(Error::storage(format!("fail:injected fault at call {} ({what}), after it took effect", self.calls)));
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
        let effect = self.call("set")?;
        let size = entry_bytes(key, value);
        self.full(size, self.entries.get(key).map_or(0, |v| entry_bytes(key, v)))?;
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
        self.after(effect, "set")
    }

    fn remove(&mut self, key: &str) -> Result<()> {
        let effect = self.call("remove")?;
        if let Some(old) = self.entries.remove(key) {
            self.total = self.total.saturating_sub(entry_bytes(key, &old));
        }
        self.after(effect, "remove")
    }

    fn keys(&mut self) -> Result<Vec<String>> {
        self.call("keys")?;
        Ok(self.entries.keys().cloned().collect())
    }
}
