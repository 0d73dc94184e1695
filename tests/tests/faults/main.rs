//! Faults against the real server binary (issue #13): the blob store's disk
//! fills mid-upload. Each test prints what was injected and what was lost
//! (target: nothing acknowledged, nothing partial visible) on lines
//! starting `faults:`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod full_disk;
mod postgres_restart;
