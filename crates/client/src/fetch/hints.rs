//! The slot hint key this device shares with each camera
//! (`sealcam_keys::SlotHintKey`): where to look first for this device's
//! stanza in a header the camera sealed, so an open costs one X25519
//! operation instead of one per slot tried.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sealcam_keys::{CameraId, SlotHintKey, ViewerRecipient};

use crate::client::Client;

/// Hint keys by camera, each with the set key it was made from (shared by
/// clones of a client).
pub(crate) type HintCache = Arc<Mutex<HashMap<CameraId, (ViewerRecipient, SlotHintKey)>>>;

impl Client {
    /// The hint key for `camera`, from the set key the owner record pins
    /// for it (the camera signed it; the owner checked that at adoption).
    /// `None` when the record pins none (a camera shared from another
    /// household, or one that has not published its set key): every slot is
    /// then tried, which costs time and changes nothing else.
    pub(crate) async fn slot_hint(&self, camera: CameraId) -> Option<SlotHintKey> {
        let record = self.verified_record(false).await.ok()?;
        let set_key = record.camera(camera)?.set_key.clone()?;
        // A poisoned lock holds whole entries only.
        let mut hints = self.hints().lock().unwrap_or_else(|e| e.into_inner());
        if let Some((made_from, hint)) = hints.get(&camera) {
            if *made_from == set_key {
                return Some(hint.clone());
            }
        }
        let hint = SlotHintKey::for_camera(&self.device().viewer, &set_key)?;
        hints.insert(camera, (set_key, hint.clone()));
        Some(hint)
    }
}
