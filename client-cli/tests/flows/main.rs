//! The `sealcam` command's flows against the in-process server: one test
//! binary, one module per flow family.

#[path = "../common/mod.rs"]
mod common;
mod fetch;
mod setup;
mod viewers;
