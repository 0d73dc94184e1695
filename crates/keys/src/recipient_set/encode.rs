//! The byte layout of a set: writing and signing it, and parsing it back.

use crate::codec::{Reader, Writer};
use crate::{CameraId, DevicePublicKey, OwnerId, OwnerSigningKey, RecipientSetError};

use super::{
    check_recipients, RecipientSet, SetBinding, SignedRecipientSet, DOMAIN, DOMAIN_V2, MAGIC,
    MAGIC_V2, MAX_RECIPIENTS, SIG_LEN,
};

impl RecipientSet {
    fn body_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(200 + 63 * self.recipients.len() + SIG_LEN);
        out.extend_from_slice(if self.binding.is_some() {
            MAGIC_V2
        } else {
            MAGIC
        });
        out.extend_from_slice(&self.owner.to_bytes());
        out.extend_from_slice(&self.camera.to_bytes());
        if let Some(b) = &self.binding {
            out.extend_from_slice(&b.device_key.to_bytes());
        }
        out.put_u64(self.epoch);
        out.put_u64(self.issued_at);
        if let Some(b) = &self.binding {
            out.put_u64(b.expires_at);
            out.put_u64(b.key_position.0);
            out.put_u64(b.key_position.1);
            let _ = out.put_bytes8(b.recovery.to_string().as_bytes());
        }
        // The constructor bounds the count by MAX_RECIPIENTS, which fits a u16.
        out.put_u16(self.recipients.len() as u16);
        for r in &self.recipients {
            // An age X25519 recipient is 62 ASCII characters, well under 255.
            let _ = out.put_bytes8(r.to_string().as_bytes());
        }
        out
    }

    /// Signs the set with the owner key.
    pub fn sign(&self, key: &OwnerSigningKey) -> SignedRecipientSet {
        let mut bytes = self.body_bytes();
        let sig = key.sign_raw(&signed_message(&bytes));
        bytes.extend_from_slice(&sig);
        SignedRecipientSet {
            set: self.clone(),
            bytes,
        }
    }
}

pub(super) fn signed_message(body: &[u8]) -> Vec<u8> {
    let domain = if body.starts_with(MAGIC_V2) {
        DOMAIN_V2
    } else {
        DOMAIN
    };
    let mut m = Vec::with_capacity(domain.len() + body.len());
    m.extend_from_slice(domain);
    m.extend_from_slice(body);
    m
}

impl SignedRecipientSet {
    /// Parses the canonical bytes. Untrusted input: every length is checked,
    /// trailing bytes are refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecipientSetError> {
        use RecipientSetError::Malformed;
        let mut r = Reader::new(bytes);
        let magic = r.array::<8>().map_err(|_| Malformed("too short"))?;
        if magic[..7] != MAGIC[..7] {
            return Err(Malformed("not a recipient set"));
        }
        let v2 = match magic[7] {
            1 => false,
            2 => true,
            v => return Err(RecipientSetError::UnsupportedVersion(v)),
        };
        let short = |_| Malformed("truncated");
        let owner = OwnerId::from_bytes(r.array().map_err(short)?);
        let camera = CameraId::from_bytes(r.array().map_err(short)?);
        let device_key = if v2 {
            Some(
                DevicePublicKey::from_bytes(&r.array().map_err(short)?)
                    .map_err(|_| Malformed("invalid device key"))?,
            )
        } else {
            None
        };
        let epoch = r.u64().map_err(short)?;
        let issued_at = r.u64().map_err(short)?;
        let mut binding = None;
        if let Some(device_key) = device_key {
            let expires_at = r.u64().map_err(short)?;
            let key_position = (r.u64().map_err(short)?, r.u64().map_err(short)?);
            let text = r.bytes8().map_err(short)?;
            let text = std::str::from_utf8(text).map_err(|_| Malformed("recipient is not text"))?;
            let recovery = text.parse().map_err(|_| Malformed("invalid recipient"))?;
            binding = Some(SetBinding {
                device_key,
                expires_at,
                key_position,
                recovery,
            });
        }
        let count = r.u16().map_err(short)? as usize;
        if count == 0 || count > MAX_RECIPIENTS {
            return Err(RecipientSetError::InvalidRecipients(
                "recipient count out of range",
            ));
        }
        let mut recipients = Vec::with_capacity(count);
        for _ in 0..count {
            let text = r.bytes8().map_err(short)?;
            let text = std::str::from_utf8(text).map_err(|_| Malformed("recipient is not text"))?;
            recipients.push(text.parse().map_err(|_| Malformed("invalid recipient"))?);
        }
        if r.remaining() < SIG_LEN {
            return Err(Malformed("signature missing or truncated"));
        }
        let _ = r.take(SIG_LEN);
        if !r.is_empty() {
            return Err(Malformed("trailing bytes"));
        }
        check_recipients(&recipients)?;
        if let Some(b) = &binding {
            if !recipients.contains(&b.recovery) {
                return Err(RecipientSetError::InvalidRecipients(
                    "the recovery key is not a recipient",
                ));
            }
        }
        Ok(Self {
            set: RecipientSet {
                owner,
                camera,
                epoch,
                issued_at,
                recipients,
                binding,
            },
            bytes: bytes.to_vec(),
        })
    }
}
