//! Whatever the SDK hands a callback, as one normalised [`Record`](crate::Record).
//! (stub: to be written)
