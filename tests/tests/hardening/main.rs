//! Hardening for the real internet (issue #13), each against the real
//! binaries or the real server: TLS end to end, slow clients cut off, fair
//! upload slots, a failed-auth limiter that never refuses a valid
//! credential. Each test prints what it tried and what was refused, on
//! lines starting `hardening:`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fairness;
mod limiter;
mod quota;
mod secrets;
mod slow_clients;
mod tls;
