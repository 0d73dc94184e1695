//! What the [`SimOwner`] signs and stores: recipient sets (published in
//! order, or at any epoch, or as raw bytes a test forged) and the key log
//! (rotations, resets, an attacker's statements, raw bytes).

use sealcam_client::api::{Precondition, Record};
use sealcam_keys::{
    unix_now, CameraId, DevicePublicKey, KeyStatement, OwnerId, OwnerKeyState, OwnerSigningKey,
    RecipientSet, SetBinding, SignedRecipientSet, ViewerRecipient, SET_LIFETIME_SECS,
};

use super::SimOwner;
use crate::HarnessError;

impl SimOwner {
    /// Signs and publishes the next epoch of `camera`'s recipient set,
    /// valid for [`SET_LIFETIME_SECS`].
    pub fn publish(
        &mut self,
        camera: CameraId,
        recipients: Vec<ViewerRecipient>,
    ) -> Result<u64, HarnessError> {
        self.publish_until(camera, recipients, unix_now() + SET_LIFETIME_SECS)
    }

    /// Signs and publishes the next epoch of `camera`'s recipient set,
    /// expiring at `expires_at` (unix seconds).
    pub fn publish_until(
        &mut self,
        camera: CameraId,
        recipients: Vec<ViewerRecipient>,
        expires_at: u64,
    ) -> Result<u64, HarnessError> {
        let epoch = self.epoch(camera) + 1;
        self.publish_at(camera, epoch, recipients, expires_at)?;
        Ok(epoch)
    }

    /// Signs and publishes `camera`'s recipient set at `epoch` (an owner
    /// that learned a higher epoch was forced on the camera publishes above
    /// it); later [`publish`](Self::publish)es continue from there.
    pub fn publish_at(
        &mut self,
        camera: CameraId,
        epoch: u64,
        recipients: Vec<ViewerRecipient>,
        expires_at: u64,
    ) -> Result<(), HarnessError> {
        let set = self.signed_set(camera, epoch, recipients, expires_at)?;
        self.put_set_bytes(camera, epoch, set.as_bytes())?;
        self.epochs.insert(camera, epoch);
        Ok(())
    }

    /// A set for `camera` signed with the owner key in use, published by
    /// nobody (tests serve it, or a tampered copy, with
    /// [`put_set_bytes`](Self::put_set_bytes)). Version 2: bound to the
    /// device key pinned for `camera`, to the owner key's position and to
    /// `expires_at`, with the recovery key added to `recipients` when
    /// missing. A legacy owner makes a version-1 set of `recipients`.
    pub fn signed_set(
        &self,
        camera: CameraId,
        epoch: u64,
        mut recipients: Vec<ViewerRecipient>,
        expires_at: u64,
    ) -> Result<SignedRecipientSet, HarnessError> {
        if self.is_legacy() {
            return Ok(RecipientSet::new(self.account, camera, epoch, recipients)?.sign(&self.key));
        }
        let device_key = self
            .device_key(camera)
            .ok_or_else(|| format!("camera {camera} is not confirmed by this owner"))?;
        let recovery = self.recovery.to_public();
        if !recipients.contains(&recovery) {
            recipients.push(recovery.clone());
        }
        let binding = SetBinding {
            device_key,
            expires_at,
            key_position: self.keys.position(),
            recovery,
        };
        let set =
            RecipientSet::bound(self.account, camera, epoch, unix_now(), recipients, binding)?;
        Ok(set.sign(&self.key))
    }

    /// Rotates the owner key: a rotation signed by the key in use hands over
    /// to a fresh one (the next generation), appended to the key log, which
    /// is stored. A legacy owner's first rotation names the root key. Sets
    /// must be published again afterwards; cameras refuse the old key's.
    pub fn rotate(&mut self) -> Result<KeyStatement, HarnessError> {
        let (st, next) = self.rotation_from(self.keys, &self.key)?;
        self.adopt(st.clone(), next)?;
        Ok(st)
    }

    /// A rotation from `keys`, whose key is `key`, to a fresh key (a
    /// legacy owner's first names the root key).
    fn rotation_from(
        &self,
        keys: OwnerKeyState,
        key: &OwnerSigningKey,
    ) -> Result<(KeyStatement, OwnerSigningKey), HarnessError> {
        let next = OwnerSigningKey::generate();
        let from = OwnerKeyState {
            root_key: Some(self.root.public()),
            ..keys
        };
        let st = KeyStatement::rotation(&from, key, next.public(), unix_now())?;
        Ok((st, next))
    }

    /// Rotates the owner key `times` times in a row (as that many
    /// revocations and unshares would), storing the key log once at the end.
    pub fn rotate_many(&mut self, times: usize) -> Result<(), HarnessError> {
        let (mut keys, mut key, mut log) = (self.keys, self.key.clone(), self.log.clone());
        for _ in 0..times {
            let (st, next) = self.rotation_from(keys, &key)?;
            keys.apply(&st)?;
            log.push(st)?;
            key = next;
        }
        self.put_key_log_bytes(&log.to_bytes())?;
        (self.keys, self.key, self.log) = (keys, key, log);
        Ok(())
    }

    /// Resets the owner key with the root key: a fresh key at the next
    /// reset, generation 0, above any rotation.
    pub fn reset(&mut self) -> Result<KeyStatement, HarnessError> {
        let next = OwnerSigningKey::generate();
        let st = KeyStatement::reset(
            self.account,
            &self.root,
            self.keys.reset + 1,
            0,
            next.public(),
            unix_now(),
        );
        self.adopt(st.clone(), next)?;
        Ok(st)
    }

    fn adopt(&mut self, st: KeyStatement, next: OwnerSigningKey) -> Result<(), HarnessError> {
        let mut keys = self.keys;
        keys.apply(&st)?;
        let mut log = self.log.clone();
        log.push(st)?;
        self.put_key_log_bytes(&log.to_bytes())?;
        (self.keys, self.key, self.log) = (keys, next, log);
        Ok(())
    }

    /// Appends `times` copies of the statement at `index` to the key log
    /// and stores it once: what an owner device can write before its
    /// revocation (each copy verifies; none moves anyone).
    pub fn append_copies(&mut self, index: usize, times: usize) -> Result<(), HarnessError> {
        let st = self.log.statements()[index].clone();
        for _ in 0..times {
            self.log.push(st.clone())?;
        }
        self.put_key_log_bytes(&self.log.to_bytes())
    }

    /// Appends `st` to the stored key log as is, without adopting it: tests
    /// use it to serve an attacker's statements.
    pub fn append_to_key_log(&mut self, st: KeyStatement) -> Result<(), HarnessError> {
        self.log.push(st)?;
        self.put_key_log_bytes(&self.log.to_bytes())
    }

    /// Stores `bytes` as the account's key log, as is (unconditionally).
    pub fn put_key_log_bytes(&self, bytes: &[u8]) -> Result<(), HarnessError> {
        self.block_on(
            self.api
                .put_record(Record::KeyLog, bytes.to_vec(), Precondition::None),
        )?;
        Ok(())
    }

    /// Stores `bytes` as `camera`'s recipient set under `wire_epoch`, as is,
    /// replacing whatever is stored (`supersede`: the camera, not the
    /// server, enforces the signed epoch order): tests use it to serve
    /// forged, replayed or tampered sets.
    pub fn put_set_bytes(
        &self,
        camera: CameraId,
        wire_epoch: u64,
        bytes: &[u8],
    ) -> Result<(), HarnessError> {
        self.block_on(
            self.api
                .put_recipient_set(*camera.as_uuid(), wire_epoch, bytes, true),
        )?;
        Ok(())
    }
}

/// What a version-2 set says, for building sets the owner would not sign
/// as they are (another signer, device key, position or expiry).
#[derive(Debug, Clone)]
pub struct SetSpec {
    /// The owner the set names.
    pub owner: OwnerId,
    /// The camera the set names.
    pub camera: CameraId,
    /// Its epoch.
    pub epoch: u64,
    /// Its recipients.
    pub recipients: Vec<ViewerRecipient>,
    /// The device key it is bound to.
    pub device_key: DevicePublicKey,
    /// The owner key's `(reset, generation)` it claims to be signed under.
    pub key_position: (u64, u64),
    /// When it expires (unix seconds).
    pub expires_at: u64,
}

impl SetSpec {
    /// What `owner` would sign for `camera` at `epoch`: its viewer and its
    /// recovery key, its device key pin, its key position, 30 days.
    pub fn of(owner: &SimOwner, camera: CameraId, epoch: u64) -> Result<Self, HarnessError> {
        Ok(Self {
            owner: owner.account(),
            camera,
            epoch,
            recipients: vec![owner.viewer().to_public(), owner.recovery().to_public()],
            device_key: owner
                .device_key(camera)
                .ok_or_else(|| format!("camera {camera} is not confirmed by this owner"))?,
            key_position: owner.keys().position(),
            expires_at: unix_now() + SET_LIFETIME_SECS,
        })
    }

    /// Signs it with `key` (the recovery key of `owner` is the binding's).
    pub fn sign(
        &self,
        owner: &SimOwner,
        key: &OwnerSigningKey,
    ) -> Result<SignedRecipientSet, HarnessError> {
        let set = RecipientSet::bound(
            self.owner,
            self.camera,
            self.epoch,
            unix_now(),
            self.recipients.clone(),
            SetBinding {
                device_key: self.device_key,
                expires_at: self.expires_at,
                key_position: self.key_position,
                recovery: owner.recovery().to_public(),
            },
        )?;
        Ok(set.sign(key))
    }
}
