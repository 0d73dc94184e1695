//! Faults against the real server binary (issue #13): the blob store's disk
//! fills mid-upload, PostgreSQL stops and starts again, the S3 store answers
//! 500s, stalls and resets. Each test prints what was injected and what was
//! lost (target: nothing acknowledged, nothing partial visible) on lines
//! starting `faults:`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod full_disk;
mod postgres_restart;
mod s3_faults;
