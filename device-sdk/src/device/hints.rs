//! Slot hint keys for the recipients this camera seals to: one X25519
//! operation per recipient, made again only when the recipient list changes
//! (sealcam_keys::SlotHintKey says what they are for).

use sealcam_format::SlotRecipient;
use sealcam_keys::ViewerRecipient;

use crate::state::StateDir;

/// The recipients last sealed to, with their hint keys.
#[derive(Default)]
pub(super) struct SlotHints {
    recipients: Vec<ViewerRecipient>,
    slots: Vec<SlotRecipient>,
}

impl SlotHints {
    /// `recipients` with their hint keys under this camera's set key (none
    /// when the set key cannot be read: the stanzas then go to random slots,
    /// and viewers try every slot, as with objects sealed before hints).
    pub(super) fn for_recipients(
        &mut self,
        state: &StateDir,
        recipients: &[ViewerRecipient],
    ) -> &[SlotRecipient] {
        if self.recipients != recipients || self.slots.len() != recipients.len() {
            self.slots = match state.set_key() {
                Ok(set_key) => SlotRecipient::hinted(&set_key, recipients),
                Err(_) => SlotRecipient::unhinted(recipients),
            };
            self.recipients = recipients.to_vec();
        }
        &self.slots
    }
}
