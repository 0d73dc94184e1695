//! The pairing code a camera is given, and the proof it returns (S5).
//!
//! The code carries a *pairing secret* that never reaches the server. The
//! camera proves it received the code by returning
//! `HMAC-SHA256(secret, DOMAIN ‖ claim token ‖ owner ‖ device public key)`
//! through the server; the owner recomputes it, so a server that substitutes
//! its own device key cannot produce a matching proof.
//!
//! Text form: `SEALCAM1` followed by unpadded upper-case base32 of
//! `payload ‖ SHA-256(payload)[..4]`, which uses only characters of the QR
//! code alphanumeric mode. Payload layout (little-endian):
//!
//! ```text
//! version     1  = 2 (1: without root_key, reset, generation)
//! owner      16
//! owner_key  32  Ed25519 public key of the owner
//! root_key   32  v2: the account's root key (resets of the owner key)
//! reset       8  v2: u64, the owner key's position in the key log
//! generation  8  v2: u64
//! secret     16  the pairing secret
//! expires_at  8  u64 unix seconds
//! claim       1+n  one-time claim token (ASCII)
//! server      1+n  server URL (ASCII)
//! ```

use std::fmt;

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::codec::{Reader, Writer};
use crate::{DevicePublicKey, OwnerId, OwnerPublicKey, PairingError, RootPublicKey};

const PREFIX: &str = "SEALCAM1";
const VERSION_1: u8 = 1;
const VERSION: u8 = 2;
const PROOF_DOMAIN: &[u8] = b"sealcam pairing proof v1\x00";

/// The 16-byte secret of a pairing code. Zeroized on drop, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct PairingSecret([u8; 16]);

impl PairingSecret {
    /// A fresh random secret.
    pub fn generate() -> Self {
        let mut s = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut s);
        Self(s)
    }

    /// The secret from its bytes (for an owner device that kept it).
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The bytes, to keep on the owner device until the camera is confirmed.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    fn mac(&self, claim_token: &str, owner: OwnerId, device: &DevicePublicKey) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; 16 bytes cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(PROOF_DOMAIN);
        mac.update(&(claim_token.len() as u64).to_le_bytes());
        mac.update(claim_token.as_bytes());
        mac.update(&owner.to_bytes());
        mac.update(&device.to_bytes());
        mac
    }

    /// The proof a camera sends: it holds this secret and this device key.
    pub fn prove(
        &self,
        claim_token: &str,
        owner: OwnerId,
        device: &DevicePublicKey,
    ) -> PairingProof {
        PairingProof(
            self.mac(claim_token, owner, device)
                .finalize()
                .into_bytes()
                .into(),
        )
    }

    /// Checks, in constant time, a proof reported by the server for `device`.
    pub fn verify(
        &self,
        claim_token: &str,
        owner: OwnerId,
        device: &DevicePublicKey,
        proof: &PairingProof,
    ) -> Result<(), PairingError> {
        self.mac(claim_token, owner, device)
            .verify_slice(&proof.0)
            .map_err(|_| PairingError::ProofMismatch)
    }
}

impl fmt::Debug for PairingSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairingSecret(<redacted>)")
    }
}

/// A camera's proof that it received the pairing code.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PairingProof(pub [u8; 32]);

impl PairingProof {
    /// Standard padded base64, as the HTTP API carries it.
    pub fn to_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// Parses standard base64, padded or not.
    pub fn from_base64(s: &str) -> Result<Self, PairingError> {
        use base64::Engine;
        let s = s.trim_end_matches('=');
        let v = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(s)
            .map_err(|_| PairingError::Malformed("proof is not base64"))?;
        v.try_into()
            .map(Self)
            .map_err(|_| PairingError::Malformed("proof has the wrong length"))
    }
}

/// What a camera needs to pair with its owner.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingCode {
    /// The server the camera registers with.
    pub server_url: String,
    /// The one-time claim token the server issued to the owner.
    pub claim_token: String,
    /// The owner (account) id.
    pub owner: OwnerId,
    /// The owner signing key the camera pins (S4).
    pub owner_key: OwnerPublicKey,
    /// The account's root key and the owner key's `(reset, generation)`
    /// (owner trust v2). `None` in a version-1 code.
    pub trust: Option<(RootPublicKey, u64, u64)>,
    /// The secret that never reaches the server (S5).
    pub secret: PairingSecret,
    /// Unix seconds after which the code is refused.
    pub expires_at: u64,
}

impl fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairingCode")
            .field("server_url", &self.server_url)
            .field("claim_token", &"<redacted>")
            .field("owner", &self.owner)
            .field("owner_key", &self.owner_key)
            .field("trust", &self.trust)
            .field("secret", &self.secret)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl PairingCode {
    /// The compact text form (QR-alphanumeric safe).
    pub fn to_text(&self) -> Result<String, PairingError> {
        let mut payload = Vec::with_capacity(160);
        payload.push(if self.trust.is_some() {
            VERSION
        } else {
            VERSION_1
        });
        payload.extend_from_slice(&self.owner.to_bytes());
        payload.extend_from_slice(&self.owner_key.to_bytes());
        if let Some((root, reset, generation)) = &self.trust {
            payload.extend_from_slice(&root.to_bytes());
            payload.put_u64(*reset);
            payload.put_u64(*generation);
        }
        payload.extend_from_slice(self.secret.as_bytes());
        payload.put_u64(self.expires_at);
        payload
            .put_bytes8(self.claim_token.as_bytes())
            .ok_or(PairingError::Malformed("claim token longer than 255 bytes"))?;
        payload
            .put_bytes8(self.server_url.as_bytes())
            .ok_or(PairingError::Malformed("server URL longer than 255 bytes"))?;
        let sum = Sha256::digest(&payload);
        payload.extend_from_slice(&sum[..4]);
        let text = format!("{PREFIX}{}", BASE32_NOPAD.encode(&payload));
        payload.zeroize();
        Ok(text)
    }

    /// Parses the text form. Case, spaces, dashes and line breaks are
    /// ignored, so a code read aloud or re-typed still parses. Untrusted input.
    pub fn from_text(text: &str) -> Result<Self, PairingError> {
        let mut compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let Some(body) = compact.strip_prefix(PREFIX) else {
            compact.zeroize();
            return Err(PairingError::NotAPairingCode);
        };
        let decoded = BASE32_NOPAD.decode(body.as_bytes());
        compact.zeroize();
        let mut raw = decoded.map_err(|_| PairingError::Malformed("not base32"))?;
        let result = Self::from_payload(&raw);
        raw.zeroize();
        result
    }

    fn from_payload(raw: &[u8]) -> Result<Self, PairingError> {
        use PairingError::Malformed;
        if raw.len() < 4 {
            return Err(Malformed("too short"));
        }
        let (payload, sum) = raw.split_at(raw.len() - 4);
        if Sha256::digest(payload)[..4] != *sum {
            return Err(PairingError::Checksum);
        }
        let short = |_| Malformed("truncated");
        let mut r = Reader::new(payload);
        let version = r.u8().map_err(short)?;
        if version != VERSION && version != VERSION_1 {
            return Err(Malformed("unsupported version"));
        }
        let owner = OwnerId::from_bytes(r.array().map_err(short)?);
        let owner_key = OwnerPublicKey::from_bytes(&r.array().map_err(short)?)
            .map_err(|_| Malformed("invalid owner key"))?;
        let trust = if version == VERSION {
            let root = RootPublicKey::from_bytes(&r.array().map_err(short)?)
                .map_err(|_| Malformed("invalid root key"))?;
            Some((root, r.u64().map_err(short)?, r.u64().map_err(short)?))
        } else {
            None
        };
        let secret = PairingSecret(r.array().map_err(short)?);
        let expires_at = r.u64().map_err(short)?;
        let claim_token = ascii(
            r.bytes8().map_err(short)?,
            "claim token is not printable ASCII",
        )?;
        let server_url = ascii(
            r.bytes8().map_err(short)?,
            "server URL is not printable ASCII",
        )?;
        if !r.is_empty() {
            return Err(Malformed("trailing bytes"));
        }
        if claim_token.is_empty() || server_url.is_empty() {
            return Err(Malformed("empty claim token or server URL"));
        }
        Ok(Self {
            server_url,
            claim_token,
            owner,
            owner_key,
            trust,
            secret,
            expires_at,
        })
    }

    /// Refuses the code if it expired before `now` (unix seconds).
    pub fn check_fresh(&self, now: u64) -> Result<(), PairingError> {
        if now > self.expires_at {
            Err(PairingError::Expired)
        } else {
            Ok(())
        }
    }
}

fn ascii(b: &[u8], what: &'static str) -> Result<String, PairingError> {
    if b.iter().all(|c| (0x21..=0x7e).contains(c)) {
        // Checked printable ASCII above, so this is valid UTF-8.
        Ok(String::from_utf8_lossy(b).into_owned())
    } else {
        Err(PairingError::Malformed(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeviceKey, OwnerSigningKey};

    fn code() -> PairingCode {
        PairingCode {
            server_url: "http://127.0.0.1:7443".into(),
            claim_token: "sck_0123456789abcdefABCDEF0123456789abcdefABC".into(),
            owner: OwnerId::random(),
            owner_key: OwnerSigningKey::generate().public(),
            trust: Some((crate::RecoveryKey::generate().root_key().public(), 1, 0)),
            secret: PairingSecret::generate(),
            expires_at: 2_000_000_000,
        }
    }

    #[test]
    fn text_round_trip_qr_safe_and_tolerant() {
        let c = code();
        let t = c.to_text().unwrap();
        assert!(
            t.chars()
                .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit()),
            "{t}"
        );
        assert_eq!(PairingCode::from_text(&t).unwrap(), c);
        let typed: String = t
            .to_lowercase()
            .as_bytes()
            .chunks(5)
            .map(|c| String::from_utf8_lossy(c) + " ")
            .collect();
        assert_eq!(PairingCode::from_text(&typed).unwrap(), c);
    }

    #[test]
    fn checksum_catches_a_typo() {
        let t = code().to_text().unwrap();
        let mut b = t.into_bytes();
        let i = b.len() / 2;
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        let err = PairingCode::from_text(std::str::from_utf8(&b).unwrap()).unwrap_err();
        assert!(
            matches!(err, PairingError::Checksum | PairingError::Malformed(_)),
            "{err:?}"
        );
    }

    #[test]
    fn proof_binds_the_device_key() {
        let c = code();
        let cam = DeviceKey::generate().public();
        let proof = c.secret.prove(&c.claim_token, c.owner, &cam);
        assert!(c
            .secret
            .verify(&c.claim_token, c.owner, &cam, &proof)
            .is_ok());
        let substituted = DeviceKey::generate().public();
        assert_eq!(
            c.secret
                .verify(&c.claim_token, c.owner, &substituted, &proof),
            Err(PairingError::ProofMismatch)
        );
        assert_eq!(
            PairingProof::from_base64(&proof.to_base64()).unwrap(),
            proof
        );
    }

    #[test]
    fn expiry() {
        let c = code();
        assert!(c.check_fresh(c.expires_at).is_ok());
        assert_eq!(c.check_fresh(c.expires_at + 1), Err(PairingError::Expired));
    }
}
