//! The owner keys this device held (`keys.json`): every key it adopted, with
//! its place in the key log, from the one it was set up with. What a
//! camera's objects name is checked against it (`key_witness`): the device
//! saw these itself, whatever log the server serves later.

use sealcam_keys::OwnerPublicKey;
use serde::{Deserialize, Serialize};

use super::Home;
use crate::error::{ClientError, Result};

/// One owner key this device held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HeldKey {
    /// Its place in the key log: `(reset, generation)`.
    pub(crate) position: (u64, u64),
    /// The key.
    pub(crate) key: OwnerPublicKey,
}

impl Home {
    /// The owner keys this device held, in the order it adopted them; empty
    /// for a device set up before this file was kept.
    pub(crate) fn key_history(&self) -> Result<Vec<HeldKey>> {
        match self.read_private("keys.json")? {
            None => Ok(Vec::new()),
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                ClientError::BadInput(format!("{}: {e}", self.file("keys.json").display()))
            }),
        }
    }

    /// Adds the keys of `held` this device did not note yet.
    pub(crate) fn note_held_keys(&self, held: &[HeldKey]) -> Result<()> {
        let mut history = self.key_history()?;
        let before = history.len();
        for k in held {
            if !history.contains(k) {
                history.push(*k);
            }
        }
        if history.len() == before {
            return Ok(());
        }
        let json = serde_json::to_vec_pretty(&history)
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.write_private("keys.json", &json)
    }
}
