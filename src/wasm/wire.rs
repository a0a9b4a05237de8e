//! The two buffers the shim and the core pass values through, and nothing else of theirs.
//!
//! In: the shim writes a tape (see [`crate::tape`]) of UTF-16 units at the address [`inbox`] gives;
//! the export it then calls reads it. Out: an export writes UTF-8 text (JSON, mostly) to the outbox
//! and returns its length; the shim decodes it with the engine's own functions. Neither direction
//! allocates per value on the JS side or decodes a character in interpreted JS.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::tape::Val;

thread_local! {
    /// Grows to the longest tape yet and never shrinks or clears: the shim overwrites what it uses.
    static INBOX: RefCell<Vec<u16>> = const { RefCell::new(Vec::new()) };
    /// How much of the inbox the last tape fills.
    static INBOX_LEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static OUTBOX: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Room for `units` UTF-16 units in the inbox; returns its address. The shim writes there right
/// away: a later call may move it. The buffer is kept from call to call.
#[wasm_bindgen]
pub fn inbox(units: u32) -> *mut u16 {
    let units = units as usize;
    INBOX_LEN.with(|len| len.set(units));
    INBOX.with(|inbox| {
        let mut inbox = inbox.borrow_mut();
        if inbox.len() < units {
            inbox.resize(units, 0);
        }
        inbox.as_mut_ptr()
    })
}

/// Address of the text the last export wrote.
#[wasm_bindgen]
pub fn outbox() -> *const u8 {
    OUTBOX.with(|out| out.borrow().as_ptr())
}

/// Runs `read` on the tape the shim wrote into the inbox.
pub fn with_tape<R>(read: impl FnOnce(Val<'_>) -> R) -> R {
    let len = INBOX_LEN.with(|len| len.get());
    INBOX.with(|inbox| read(Val::root_of(inbox.borrow().get(..len).unwrap_or_default())))
}

/// An empty string holding the outbox's memory, starting with `start`: an export writes its answer
/// there and hands it to [`send`], so answers do not grow a new buffer each call.
pub fn buffer(start: &str) -> String {
    let mut out = OUTBOX.with(|out| std::mem::take(&mut *out.borrow_mut()));
    out.clear();
    out.push_str(start);
    out
}

/// Puts `text` in the outbox; returns its length in bytes, with the top bit set when it is not all
/// ASCII (the shim then decodes it as UTF-8).
pub fn send(text: String) -> u32 {
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX >> 1) & (u32::MAX >> 1);
    let flag = if text.is_ascii() { 0 } else { 1 << 31 };
    OUTBOX.with(|out| *out.borrow_mut() = text);
    len | flag
}

/// A short text lent to the shim for one host call: its address and length, the length flagged as
/// [`send`] flags it.
pub struct Lent<'a>(&'a str);

impl<'a> Lent<'a> {
    pub fn new(text: &'a str) -> Self {
        Lent(text)
    }

    pub fn ptr(&self) -> u32 {
        self.0.as_ptr() as u32
    }

    pub fn len(&self) -> u32 {
        let len = u32::try_from(self.0.len()).unwrap_or(u32::MAX >> 1) & (u32::MAX >> 1);
        len | if self.0.is_ascii() { 0 } else { 1 << 31 }
    }
}
