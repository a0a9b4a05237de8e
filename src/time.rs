//! Time labels for the message list and the conversation list.
//! (stub: to be written)
