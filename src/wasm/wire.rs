//! The two buffers the shim and the core pass values through, and nothing else of theirs.
//!
//! In: the shim writes a tape (see [`crate::tape`]) of UTF-16 units at the address [`inbox`] gives;
//! the export it then calls reads it. Out: an export writes UTF-8 text (JSON, mostly) to the outbox
//! and returns its length; the shim decodes it with the engine's own functions. Neither direction
//! allocates per value on the JS side or decodes a character in interpreted JS.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::tape::Tape;

thread_local! {
    static INBOX: RefCell<Vec<u16>> = const { RefCell::new(Vec::new()) };
    static OUTBOX: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Room for `units` UTF-16 units in the inbox; returns its address. The shim writes there right
/// away: a later call may move it.
#[wasm_bindgen]
pub fn inbox(units: u32) -> *mut u16 {
    INBOX.with(|inbox| {
        let mut inbox = inbox.borrow_mut();
        inbox.clear();
        inbox.resize(units as usize, 0);
        inbox.as_mut_ptr()
    })
}

/// Address of the text the last export wrote.
#[wasm_bindgen]
pub fn outbox() -> *const u8 {
    OUTBOX.with(|out| out.borrow().as_ptr())
}

/// The tape the shim wrote, taken out of the inbox.
pub fn take_tape() -> Tape {
    INBOX.with(|inbox| Tape::new(std::mem::take(&mut *inbox.borrow_mut())))
}

/// Puts `text` in the outbox; returns its length in bytes, with the top bit set when it is not all
/// ASCII (the shim then decodes it as UTF-8).
pub fn send(text: String) -> u32 {
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX >> 1) & (u32::MAX >> 1);
    let flag = if text.is_ascii() { 0 } else { 1 << 31 };
    OUTBOX.with(|out| *out.borrow_mut() = text);
    len | flag
}

/// A short text lent to the shim for one host call: its address and length.
pub struct Lent(String);

impl Lent {
    pub fn new(text: impl Into<String>) -> Self {
        Lent(text.into())
    }

    pub fn ptr(&self) -> u32 {
        self.0.as_ptr() as u32
    }

    pub fn len(&self) -> u32 {
        u32::try_from(self.0.len()).unwrap_or(u32::MAX)
    }
}
