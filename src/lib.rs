#![doc = include_str!("../README.md")]
//!
//! The core modules are plain Rust with no JavaScript in them, tested with `cargo test`;
//! `wasm` (wasm32 only) holds every `#[wasm_bindgen]` export and the conversions.

pub mod build;
pub mod directory;
pub mod emoji;
pub mod error;
pub mod json;
pub mod kind;
pub mod local;
pub mod message;
pub mod normalize;
pub mod profile;
pub mod quote;
pub mod store;
pub mod tape;
pub mod time;
pub mod vecmap;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, Result};
pub use kind::{ConversationId, Kind};
pub use message::{Direction, MsgType, Record, Sender, Status};
