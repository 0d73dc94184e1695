//! The owner replaces a part's age header (a re-wrap that adds a viewer to
//! past recordings); the payload is immutable.

use bytes::Bytes;
use futures_util::Stream;
use sealcam_wire::{CameraRole, PartKind};
use uuid::Uuid;

use super::{read_to_limit, Parts, PartsError, PartsResult, Stored};
use crate::blobs::BlobStore;
use crate::store::ViewerPrincipal;

impl Parts<'_> {
    /// Replaces the header of a part of a camera the viewer device `viewer`'s
    /// account owns with `body` (at most `limits.max_header_bytes`, not
    /// empty).
    ///
    /// Access is checked before the body is read: a part the account may not
    /// see, or a camera it only shares, is [`PartsError::NotFound`]. The
    /// device is checked again after it: one removed while its body arrived
    /// is [`PartsError::Unauthorized`], and nothing is written.
    pub async fn replace_header<S, E>(
        &self,
        viewer: &ViewerPrincipal,
        event_id: Uuid,
        kind: PartKind,
        body: S,
    ) -> PartsResult<Stored>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let account_id = viewer.account_id;
        let part = self
            .db
            .viewer_part(account_id, event_id, kind)
            .await?
            .ok_or(PartsError::NotFound)?;
        let role = self.db.camera_role(account_id, part.camera_id).await?;
        if !matches!(role, Some(CameraRole::Owner)) {
            return Err(PartsError::NotFound);
        }
        let header = read_to_limit(body, self.config.limits.max_header_bytes).await?;
        if !self.db.still_there(viewer).await? {
            return Err(PartsError::Unauthorized);
        }
        if header.is_empty() {
            return Err(PartsError::Invalid("the header is empty"));
        }
        let key = BlobStore::new_key();
        let written = self.blobs.put_bytes(&key, header).await?;
        let old = self
            .db
            .replace_header(
                account_id,
                event_id,
                kind,
                &key,
                written.size,
                &written.sha256,
            )
            .await;
        let old = match old {
            Ok(Some(old)) => old,
            Ok(None) => {
                self.blobs.delete_all(vec![key]).await;
                return Err(PartsError::NotFound);
            }
            Err(e) => {
                self.blobs.delete_all(vec![key]).await;
                return Err(e.into());
            }
        };
        // The row names the new header now: the old one is an orphan
        // (unless it shares its blob with the payload, and then it is not
        // among `old`).
        self.blobs.delete_all(old).await;
        self.metrics.bytes_in.inc_by(written.size);
        Ok(Stored {
            created: false,
            header_size: written.size,
            payload_size: part.payload_size,
        })
    }
}
