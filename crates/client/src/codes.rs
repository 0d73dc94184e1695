//! Short texts that people carry between devices: a link request, a link
//! approval, a member code and a share code. Each is a fixed prefix and the
//! unpadded base64url of a small JSON document; they are typed or pasted by
//! the user, so they travel outside the server (which is why their content can
//! be trusted as much as the user's own devices).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sealcam_keys::{
    CameraId, DevicePublicKey, OwnerId, OwnerKeyState, OwnerPublicKey, RootPublicKey,
    ViewerRecipient,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ClientError, Result};

/// A text code with a fixed prefix.
pub trait Code: Serialize + DeserializeOwned {
    /// The prefix that starts the text.
    const PREFIX: &'static str;
    /// What it is, for error messages.
    const WHAT: &'static str;

    /// The text form.
    fn to_text(&self) -> String {
        // Serializing these plain structs cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{}{}", Self::PREFIX, URL_SAFE_NO_PAD.encode(json))
    }

    /// Parses the text form (surrounding whitespace and line breaks ignored).
    fn from_text(text: &str) -> Result<Self> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let body = compact.strip_prefix(Self::PREFIX).ok_or_else(|| {
            ClientError::BadInput(format!(
                "this is not a {} (it starts with {})",
                Self::WHAT,
                Self::PREFIX
            ))
        })?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| {
            ClientError::BadInput(format!("the {} is damaged; copy it again", Self::WHAT))
        })?;
        serde_json::from_slice(&json).map_err(|_| {
            ClientError::BadInput(format!("the {} is damaged; copy it again", Self::WHAT))
        })
    }
}

/// Printed by a new device (`sealcam viewers link`): its viewer key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRequest {
    /// The server the new device will use.
    pub server_url: String,
    /// The new device's name.
    pub name: String,
    /// Its viewer key.
    pub recipient: ViewerRecipient,
}

impl Code for LinkRequest {
    const PREFIX: &'static str = "sealcam-link-request:";
    const WHAT: &'static str = "link request";
}

/// Printed by the approving device (`sealcam viewers approve`): a one-time
/// link token and the owner key the new device pins.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkApproval {
    /// The one-time link token (`scl_…`, 10 minutes).
    pub link_token: String,
    /// The account.
    pub owner: OwnerId,
    /// The owner signing key to pin.
    pub owner_key: OwnerPublicKey,
    /// The account's root key (owner trust v2; absent from older approvals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_key: Option<RootPublicKey>,
    /// `(reset, generation)` of `owner_key` in the key log.
    #[serde(default)]
    pub key_position: (u64, u64),
    /// The owner record the approving device wrote: its version and
    /// fingerprint, which the new device checks against what it reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<(u64, String)>,
}

impl LinkApproval {
    /// The owner key state the new device pins.
    pub fn key_state(&self) -> OwnerKeyState {
        OwnerKeyState::new(
            self.owner,
            self.owner_key,
            self.root_key,
            self.key_position.0,
            self.key_position.1,
        )
    }
}

impl std::fmt::Debug for LinkApproval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkApproval")
            .field("owner", &self.owner)
            .field("owner_key", &self.owner_key)
            .finish_non_exhaustive()
    }
}

impl Code for LinkApproval {
    const PREFIX: &'static str = "sealcam-link-approval:";
    const WHAT: &'static str = "link approval";
}

/// Printed by a household member (`sealcam whoami`): who to share with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberCode {
    /// The member's account.
    pub account_id: Uuid,
    /// A name for display.
    pub name: String,
    /// The member's viewer key.
    pub recipient: ViewerRecipient,
}

impl Code for MemberCode {
    const PREFIX: &'static str = "sealcam-member:";
    const WHAT: &'static str = "member code";
}

/// Printed by the owner (`sealcam share`): what the member pins to verify the
/// shared camera's objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareCode {
    /// The camera.
    pub camera_id: CameraId,
    /// Its owner.
    pub owner: OwnerId,
    /// The owner's signing key.
    pub owner_key: OwnerPublicKey,
    /// The camera's device key.
    pub device_key: DevicePublicKey,
    /// Its name.
    pub name: String,
}

impl Code for ShareCode {
    const PREFIX: &'static str = "sealcam-share:";
    const WHAT: &'static str = "share code";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_refuse_others() {
        let req = LinkRequest {
            server_url: "http://127.0.0.1:7443".into(),
            name: "phone".into(),
            recipient: sealcam_keys::ViewerIdentity::generate().to_public(),
        };
        let text = req.to_text();
        let wrapped: String = text
            .as_bytes()
            .chunks(20)
            .map(|c| String::from_utf8_lossy(c) + "\n")
            .collect();
        assert_eq!(LinkRequest::from_text(&wrapped).unwrap(), req);
        assert!(MemberCode::from_text(&text).is_err());
        assert!(LinkRequest::from_text("sealcam-link-request:!!").is_err());
    }
}
