//! The conversation store over a small key-value trait.
//! (stub: to be written)
