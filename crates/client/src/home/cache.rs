//! The owner record cache: the last key log this device followed and the
//! last owner record it verified (`keylog.bin`, `record.json`).

use sealcam_keys::KeyLog;

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

    /// Keeps the key log this device followed.
    pub fn cache_key_log(&self, log: &KeyLog) -> Result<()> {
        self.write_private("keylog.bin", &log.to_bytes())
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
