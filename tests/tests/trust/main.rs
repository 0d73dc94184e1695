//! Owner trust v2 under attack, against the real binaries (docs/PROTOCOL.md,
//! "Owner trust v2"): one test binary, one module per attack family.

mod hidden_log;
mod hijack;
mod interrupted;
mod kept_behind;
mod members;
mod pairing;
mod retired_key;
mod revocation;
mod rewrap;
mod sets;
mod stuffed_log;
mod withheld;
