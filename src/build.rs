//! Outgoing messages: options for `WebIM.message.create`, with the legacy fields older SDKs read.
//! (stub: to be written)
