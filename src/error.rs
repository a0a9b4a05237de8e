//! One error type for the whole crate. Every message says what was wrong and what to do,
//! because it reaches a mini-program developer as the text of a JavaScript `Error`.

use std::fmt;

/// What went wrong, by area. The text is meant for a developer reading a console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The caller passed something mpchat cannot use (a missing `to`, an unknown type, …).
    Input(String),
    /// The key-value storage refused a call (quota, size, or a throw from `wx`).
    Storage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Error::Input(message.into())
    }

    pub fn storage(message: impl Into<String>) -> Self {
        Error::Storage(message.into())
    }

    pub fn message(&self) -> &str {
        match self {
            Error::Input(m) | Error::Storage(m) => m,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(m) => write!(f, "mpchat: {m}"),
            Error::Storage(m) => write!(f, "mpchat storage: {m}"),
        }
    }
}

impl std::error::Error for Error {}
