//! Pending pairings: a pairing code's secret, kept until its camera is
//! confirmed (`pairings/*.json`).

use std::fs;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sealcam_keys::{secret_file, PairingSecret};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::Home;
use crate::error::{ClientError, Result};

/// A pairing code's secret, kept until its camera is confirmed (S5).
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingPairing {
    /// The claim token the camera registers with.
    pub claim_token: String,
    /// The pairing secret, base64.
    secret: String,
    /// When the claim expires (unix seconds).
    pub expires_at: i64,
    /// The camera's name, chosen at `pair`.
    pub name: String,
    /// When this device made the code (unix seconds, its own clock);
    /// absent in pairings kept before it was noted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_at: Option<i64>,
}

/// How long a pairing code's secret may confirm a camera. A camera
/// registers within the claim's lifetime (15 minutes by default); this
/// leaves the owner a day to confirm it. After it, a code someone saw
/// confirms nothing the server lists, whatever expiry the server gave the
/// claim.
pub const PAIRING_CONFIRMS_FOR_SECS: i64 = 24 * 60 * 60;

impl PendingPairing {
    /// A pending pairing for `secret`, made now.
    pub fn new(claim_token: String, secret: &PairingSecret, expires_at: i64, name: String) -> Self {
        Self {
            claim_token,
            secret: STANDARD.encode(secret.as_bytes()),
            expires_at,
            name,
            made_at: Some(crate::time::unix_now()),
        }
    }

    /// Whether the code is too old to confirm a camera at `now`: a day after
    /// it was made (for a pairing kept before that was noted, a day after
    /// the claim's expiry).
    pub fn is_stale(&self, now: i64) -> bool {
        let from = self.made_at.unwrap_or(self.expires_at);
        now > from.saturating_add(PAIRING_CONFIRMS_FOR_SECS)
    }

    /// The secret.
    pub fn secret(&self) -> Result<PairingSecret> {
        let raw = Zeroizing::new(
            STANDARD
                .decode(&self.secret)
                .map_err(|_| ClientError::BadInput("a kept pairing secret is damaged".into()))?,
        );
        let bytes: [u8; 16] = raw[..]
            .try_into()
            .map_err(|_| ClientError::BadInput("a kept pairing secret is damaged".into()))?;
        Ok(PairingSecret::from_bytes(bytes))
    }
}

impl Drop for PendingPairing {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.secret.zeroize();
        self.claim_token.zeroize();
    }
}

impl std::fmt::Debug for PendingPairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingPairing")
            .field("name", &self.name)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}
impl Home {
    fn pairing_name(claim_token: &str) -> String {
        let h = Sha256::digest(claim_token.as_bytes());
        let hex: String = h[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("pairings/{hex}.json")
    }

    /// Keeps a pairing secret until its camera is confirmed.
    pub fn save_pairing(&self, p: &PendingPairing) -> Result<()> {
        let json = Zeroizing::new(
            serde_json::to_vec(p).map_err(|e| ClientError::Protocol(e.to_string()))?,
        );
        self.write_private(&Self::pairing_name(&p.claim_token), &json)
    }

    /// Every kept pairing.
    pub fn pairings(&self) -> Result<Vec<PendingPairing>> {
        let dir = self.file("pairings");
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ClientError::io(&dir)(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry.map_err(ClientError::io(&dir))?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let bytes = secret_file::read(&path)?;
                if let Ok(p) = serde_json::from_slice::<PendingPairing>(&bytes) {
                    out.push(p);
                }
            }
        }
        Ok(out)
    }

    /// Forgets a pairing (its camera was confirmed).
    pub fn remove_pairing(&self, claim_token: &str) -> Result<()> {
        let path = self.file(&Self::pairing_name(claim_token));
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ClientError::io(path)(e)),
        }
    }
}
