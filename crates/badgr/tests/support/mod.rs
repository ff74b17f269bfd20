//! What the crate's tests share.

pub(crate) mod server;
