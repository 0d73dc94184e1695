//! The device SDK against the real server: one test binary, one module per
//! behaviour family (pairing and recording, recipient sets, owner key
//! rotation and reset, set expiry, legacy upgrade, the spool, the CLI).

mod cli;
mod key_reset;
mod key_rotation;
mod legacy_upgrade;
mod middleboxes;
mod pair_and_record;
mod recipient_set;
mod set_expiry;
mod spool;
