//! The owner record cache: the key log this device followed and the last
//! owner record it verified (`keylog.bin`, `record.json`).

use sealcam_keys::{KeyLog, OwnerKeyState};

use super::Home;
use crate::error::{ClientError, Result};
use crate::record::OwnerRecord;

impl Home {
    /// The last owner key log this device followed.
    pub fn cached_key_log(&self) -> Result<Option<KeyLog>> {
        match self.read_private("keylog.bin")? {
            None => Ok(None),
            Some(bytes) => KeyLog::from_bytes(&bytes).map(Some).map_err(|e| {
                ClientError::BadInput(format!("{}: {e}", self.file("keylog.bin").display()))
            }),
        }
    }

    /// Keeps what this device followed of a key log: the statements that
    /// carry the owner key from the root key `state` names ([`followed`]).
    pub fn cache_key_log(&self, log: &KeyLog, state: &OwnerKeyState) -> Result<()> {
        self.cache_chain(&followed(log, state))
    }

    /// Keeps a chain already taken from a log ([`followed`]).
    pub(crate) fn cache_chain(&self, chain: &KeyLog) -> Result<()> {
        self.write_private("keylog.bin", &chain.to_bytes())
    }

    /// The last owner record this device verified.
    pub fn cached_record(&self) -> Result<Option<OwnerRecord>> {
        match self.read_private("record.json")? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                ClientError::BadInput(format!("{}: {e}", self.file("record.json").display()))
            }),
        }
    }

    /// Remembers a verified owner record.
    pub fn cache_record(&self, record: &OwnerRecord) -> Result<()> {
        let json =
            serde_json::to_vec_pretty(record).map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.write_private("record.json", &json)
    }
}

/// What of `log` a device at `state` follows and checks the server never
/// rewrites: the chain from its root key ([`KeyLog::chain`]), so statements
/// that verify for nobody are neither kept nor compared. A device that knows
/// no root key yet (set up before owner trust v2) keeps the whole log.
///
/// `keylog.bin` files written before this held the whole log; their chain
/// is what is compared, so junk a server put in them is dropped too.
pub(crate) fn followed(log: &KeyLog, state: &OwnerKeyState) -> KeyLog {
    match state.root_key {
        Some(root) => log.chain(state.owner, root),
        None => log.clone(),
    }
}
