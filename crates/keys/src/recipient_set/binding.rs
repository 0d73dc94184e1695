//! What a version-2 set binds beyond its recipients: the camera's device
//! key, the signing owner key's position, an expiry and the recovery key.

use crate::{CameraId, DevicePublicKey, OwnerId, RecipientSetError, ViewerRecipient};

use super::{check_recipients, RecipientSet};

/// What a version-2 set binds beyond its recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetBinding {
    /// The camera's device key, pinned by the owner at confirmation.
    pub device_key: DevicePublicKey,
    /// When the set stops being valid (unix seconds).
    pub expires_at: u64,
    /// `(reset, generation)` of the owner key that signs the set.
    pub key_position: (u64, u64),
    /// The recovery key's recipient (a camera past expiry seals to it alone).
    pub recovery: ViewerRecipient,
}

impl RecipientSet {
    /// A version-2 set (what owner devices publish): bound to the camera's
    /// device key and to the signing owner key's place in the key log. The
    /// recovery recipient must be one of `recipients`.
    pub fn bound(
        owner: OwnerId,
        camera: CameraId,
        epoch: u64,
        issued_at: u64,
        recipients: Vec<ViewerRecipient>,
        binding: SetBinding,
    ) -> Result<Self, RecipientSetError> {
        check_recipients(&recipients)?;
        if !recipients.contains(&binding.recovery) {
            return Err(RecipientSetError::InvalidRecipients(
                "the recovery key is not a recipient",
            ));
        }
        Ok(Self {
            owner,
            camera,
            epoch,
            issued_at,
            recipients,
            binding: Some(binding),
        })
    }
}
