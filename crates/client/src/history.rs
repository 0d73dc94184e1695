//! Access to past recordings: re-wrapping the age headers of stored parts so
//! that another viewer opens them too (history grant, recovery). Payloads are
//! not touched, so the camera's signature still verifies.

use sealcam_format::OpenError;
use sealcam_keys::{CameraId, ViewerIdentity, ViewerRecipient};
use serde::Serialize;

use crate::client::Client;
use crate::error::{ClientError, Result};
use crate::events::EventFilter;
use crate::fetch::{Pinned, StoredPart};
use crate::key_witness::KeyChain;
use crate::time::unix_now;

/// What a history grant (or the re-wrap of a recovery) did. Each stored
/// part is counted once, in exactly one of the three counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HistoryGrant {
    /// Parts whose header now also wraps the file key to the added viewers.
    pub rewrapped: u64,
    /// Parts this device could not open (not addressed to it), left as they were.
    pub skipped: u64,
    /// Parts left as they were because they failed verification: the header
    /// the server sent is not that of the camera's object it names (another
    /// object's, another camera's, altered), or the object is not signed by
    /// the camera's pinned key. Nothing of theirs was re-wrapped; a count
    /// above zero means the server (or its storage) is not to be trusted.
    pub refused: u64,
}

impl Client {
    /// The recipient of a viewer or household member, by id, name or key.
    async fn grantee(&self, which: &str) -> Result<ViewerRecipient> {
        let record = self.record().await?.record;
        if let Ok(v) = Self::find_viewer(&record.viewers, which) {
            return Ok(v.recipient.clone());
        }
        record
            .members
            .iter()
            .find(|m| m.account_id.to_string() == which || m.name == which)
            .map(|m| m.recipient.clone())
            .ok_or_else(|| ClientError::UnknownViewer(which.to_owned()))
    }

    /// Lets a viewer open recordings from the last `days` days (of one camera,
    /// or every owned camera): each part this device opens, once verified as
    /// the camera's object, gets a header that also wraps its file key to the
    /// viewer; its other recipients keep theirs. Payloads are not touched, so
    /// the camera's signature still verifies. `progress` is called after
    /// each part with the counts so far.
    pub async fn grant_history(
        &self,
        which: &str,
        days: u32,
        camera: Option<CameraId>,
        progress: &(dyn Fn(&HistoryGrant) + Send + Sync),
    ) -> Result<HistoryGrant> {
        let grantee = self.grantee(which).await?;
        let since = unix_now() - i64::from(days) * 86_400;
        let viewer = self.device().viewer.clone();
        let chain = self.key_chain()?;
        self.rewrap_history(
            &viewer,
            &[grantee],
            Some(since),
            camera,
            Some(&chain),
            progress,
        )
        .await
    }

    /// Adds `add` to the recipients of every stored part since `since` (of
    /// one camera, or every camera of the owner record) that `identity` can
    /// open. Recipients the parts already have keep their access.
    ///
    /// Every part is verified before any is re-wrapped: its header is
    /// fetched and the object verified with those very bytes (it binds to
    /// the owner, the camera, the event and the part, and is signed by the
    /// device key pinned in the owner record). A part not addressed to
    /// `identity` counts as `skipped`; a part that fails verification, or
    /// whose signed capture time is before `since` (the server listed it as
    /// recent), counts as `refused` and is left alone. With a `chain`, a
    /// part the camera sealed under a later owner key than this device
    /// holds, or under another key at a place where it held one
    /// (`key_witness`), stops everything before a header is written: the
    /// owner record, where the added keys come from, may then be a revoked
    /// device's. Recovery passes none: it adds only its own key.
    ///
    /// Then each verified part's header is fetched again and re-wrapped only
    /// if it is still the very bytes verified (otherwise `refused`). Other
    /// errors (network, server) stop it.
    pub(crate) async fn rewrap_history(
        &self,
        identity: &ViewerIdentity,
        add: &[ViewerRecipient],
        since: Option<i64>,
        camera: Option<CameraId>,
        chain: Option<&KeyChain>,
        progress: &(dyn Fn(&HistoryGrant) + Send + Sync),
    ) -> Result<HistoryGrant> {
        let record = self.record().await?.record;
        let mut out = HistoryGrant::default();
        let mut verified = Vec::new();
        for cam in record
            .cameras
            .iter()
            .filter(|c| camera.is_none_or(|id| id == c.camera_id))
        {
            // From the owner record, never from the server's event listing.
            let pinned = Pinned {
                owner: record.owner,
                camera: cam.camera_id,
                device_key: cam.device_key,
            };
            let events = self
                .events(&EventFilter {
                    camera: Some(cam.camera_id),
                    since,
                    ..EventFilter::default()
                })
                .await?;
            for ev in events {
                for info in &ev.parts {
                    let part = StoredPart {
                        event: ev.event_id,
                        kind: info.kind,
                        payload_len: info.payload_size,
                    };
                    match self
                        .verify_part(&part, identity, &pinned, since, chain)
                        .await?
                    {
                        Check::Verified(digest) => verified.push((part, digest)),
                        Check::NotAddressed => out.skipped += 1,
                        Check::Refused => out.refused += 1,
                    }
                    progress(&out);
                }
            }
        }
        for (part, digest) in verified {
            let id = *part.event.as_uuid();
            let header = self.api().part_header(id, part.kind).await?;
            if header_digest(&header) != digest {
                // Not the header verified a moment ago.
                out.refused += 1;
            } else {
                let new = sealcam_format::rewrap_adding(&header, &[identity], add)
                    .map_err(ClientError::from_open)?;
                self.api().replace_header(id, part.kind, new).await?;
                out.rewrapped += 1;
            }
            progress(&out);
        }
        Ok(out)
    }

    /// One part of [`rewrap_history`](Self::rewrap_history): fetch its
    /// header and verify the object with it.
    async fn verify_part(
        &self,
        part: &StoredPart,
        identity: &ViewerIdentity,
        pinned: &Pinned,
        since: Option<i64>,
        chain: Option<&KeyChain>,
    ) -> Result<Check> {
        let id = *part.event.as_uuid();
        let header = self.api().part_header(id, part.kind).await?;
        let object = match self.open_with_header(part, &header, identity, pinned).await {
            Ok(o) => o,
            Err(e) => return Check::after_failed_check(e),
        };
        // The window is judged on the capture time the camera signed, not on
        // the server's listing: a server that lists older events as recent
        // must not widen a grant.
        if since.is_some_and(|s| object.meta().captured_at_ms.div_euclid(1000) < s) {
            return Ok(Check::Refused);
        }
        if let Some(chain) = chain {
            chain
                .check(object.meta().followed.as_ref())
                .map_err(|d| d.refusal(pinned.camera, "nothing was re-wrapped"))?;
        }
        Ok(Check::Verified(header_digest(&header)))
    }
}

/// The SHA-256 of a header: what the re-wrap compares with the header it
/// verified.
fn header_digest(header: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(header).into()
}

/// What the check of one part found.
#[derive(Debug, PartialEq, Eq)]
enum Check {
    /// The camera's object, opened: the digest of the header verified.
    Verified([u8; 32]),
    NotAddressed,
    Refused,
}

impl Check {
    /// How a part whose check failed counts: not addressed to this identity
    /// (skipped), failed verification (refused), or an error that is not
    /// about the object (network, server, local) and stops the re-wrap.
    fn after_failed_check(e: ClientError) -> Result<Self> {
        match e {
            ClientError::Misdelivered(OpenError::NotAddressedToViewer) => Ok(Self::NotAddressed),
            e if e.is_misdelivery() || e.is_verification_failure() => Ok(Self::Refused),
            e => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use sealcam_format::Misdelivery;

    use super::*;

    #[test]
    fn failed_checks_are_sorted_into_skipped_refused_and_errors() {
        let sort = Check::after_failed_check;
        let not_ours = ClientError::from_open(OpenError::NotAddressedToViewer);
        assert_eq!(sort(not_ours).ok(), Some(Check::NotAddressed));
        for lie in [
            OpenError::Misdelivered(Box::new(Misdelivery::HeaderOfAnotherObject)),
            OpenError::BadSignature,
            OpenError::HeaderMac,
            OpenError::Truncated("short"),
        ] {
            assert_eq!(sort(ClientError::from_open(lie)).ok(), Some(Check::Refused));
        }
        for other in [
            ClientError::Protocol("garbled".into()),
            ClientError::Unauthorized,
        ] {
            assert!(sort(other).is_err());
        }
    }
}
