//! The camera: pairing, recipient-set sync, recording and the spool drain.

use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use sealcam_format::{Binding, ObjectMeta, Sealer};
use sealcam_keys::{
    unix_now, Acceptance, CameraId, DeviceKey, DevicePublicKey, EventId, KeyLog, KeyStatementError,
    OwnerId, OwnerKeyState, PairingCode, RecipientSetError, SignedRecipientSet,
    VerifiedRecipientSet,
};
use sealcam_wire::{CameraStatus, PartKind, RegisterCameraRequest};

use crate::api::{Api, Failure, HttpTimeouts};
use crate::backoff::{Backoff, BackoffPolicy};
use crate::sealing::SealingReader;
use crate::spool::{Loss, LossReason, Spool, SpoolEntry, SpoolLimits, Staged, Tee};
use crate::state::{Pairing, StateDir};
use crate::{b64, DeviceError, EventRecord};

/// How a camera is tuned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceConfig {
    /// How much the offline spool may hold.
    pub spool: SpoolLimits,
    /// Retry timing while the server is unreachable or overloaded.
    pub backoff: BackoffPolicy,
    /// HTTP timeouts.
    pub timeouts: HttpTimeouts,
}

/// Something the camera reports as it works (the SDK never prints).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Notice {
    /// A part reached the server (`created: false` when it was there already).
    Uploaded {
        /// The event.
        event: EventId,
        /// The part.
        kind: PartKind,
        /// Sealed bytes sent.
        bytes: u64,
        /// Whether this upload stored it (a retry of a stored part answers `false`).
        created: bool,
    },
    /// A part was sealed into the spool, to be uploaded later.
    Spooled {
        /// The event.
        event: EventId,
        /// The part.
        kind: PartKind,
        /// Sealed bytes kept.
        bytes: u64,
    },
    /// A part will never reach the server.
    Lost(Loss),
    /// The server is unreachable or overloaded; the next attempt is not before `after`.
    Retrying {
        /// The wait before the next attempt.
        after: Duration,
        /// What failed.
        why: String,
    },
    /// The server refuses this camera's credential (401) or the owner has not
    /// confirmed it yet (403); spooled parts wait.
    Blocked {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// A newer recipient set was accepted.
    RecipientSetUpdated {
        /// The previous epoch, if any.
        from: Option<u64>,
        /// The new epoch.
        to: u64,
    },
    /// A recipient set offered by the server was refused; the camera keeps
    /// sealing to its last good set (S4).
    RecipientSetRefused {
        /// Why.
        reason: RecipientSetError,
        /// The epoch still in use, if any.
        kept: Option<u64>,
    },
    /// The owner key the camera follows moved (a rotation signed by the
    /// previous owner key, or a reset signed by the root key, from the
    /// owner's key log). Sets signed by the previous key are refused from now
    /// on; the last good set stays in use until the owner's next set arrives.
    OwnerKeyChanged {
        /// `(reset, generation)` before.
        from: (u64, u64),
        /// `(reset, generation)` now.
        to: (u64, u64),
    },
    /// A statement of the owner's key log was refused, for a reason other
    /// than being older than the key held (the log keeps its history, so old
    /// entries are normal): a fork, a bad signature, another root key — signs
    /// of an attack on the owner's account or the server.
    KeyStatementRefused {
        /// Its index in the log.
        index: usize,
        /// Why.
        reason: KeyStatementError,
    },
    /// The key log the server sent is malformed; nothing of it was used.
    KeyLogRefused {
        /// Why.
        reason: KeyStatementError,
    },
    /// The recipient set in use expired (the owner's devices did not renew
    /// it, or the server withholds the renewal): what is recorded now is
    /// sealed to the recovery key alone until a new set is accepted.
    RecipientSetExpired {
        /// The epoch of the expired set.
        epoch: u64,
        /// When it expired (unix seconds).
        expires_at: u64,
    },
    /// The owner key moved on (a rotation after a revocation, or a reset)
    /// since the set in use was accepted, and no set of the new key has
    /// arrived: what is recorded now is sealed to the recovery key alone, so
    /// a revoked viewer in the old set opens nothing more.
    RecipientSetRetired {
        /// The epoch of the set in use.
        epoch: u64,
        /// `(reset, generation)` of the key that signed it.
        signed_under: (u64, u64),
        /// `(reset, generation)` of the owner key now.
        current: (u64, u64),
    },
}

/// The result of a recipient-set sync.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncOutcome {
    /// A newer set was accepted.
    Updated {
        /// The previous epoch, if any.
        from: Option<u64>,
        /// The new epoch.
        to: u64,
    },
    /// The server offered the set already in use.
    Unchanged {
        /// Its epoch.
        epoch: u64,
    },
    /// The owner has not published a set yet.
    NotPublished,
    /// The offered set was refused; the last good set stays in use.
    Refused {
        /// Why it was refused.
        reason: RecipientSetError,
        /// The epoch still in use, if any.
        kept: Option<u64>,
    },
}

/// What happened to one part of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartOutcome {
    /// Uploaded while it was sealed.
    Uploaded {
        /// `false` when the server had it already.
        created: bool,
    },
    /// Sealed into the spool; it will be uploaded by a drain.
    Spooled,
    /// It will never reach the server.
    Lost(LossReason),
}

/// One part of a recorded event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartReport {
    /// Which part.
    pub kind: PartKind,
    /// Media bytes sealed.
    pub body_bytes: u64,
    /// Sealed bytes (header ‖ payload).
    pub sealed_bytes: u64,
    /// What happened to it.
    pub outcome: PartOutcome,
}

/// The result of recording one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordReport {
    /// The event id (UUIDv7, made by the camera).
    pub event: EventId,
    /// The recipient-set epoch the parts were sealed to.
    pub epoch: u64,
    /// One report per part, in upload order (thumbnail, clip, record).
    pub parts: Vec<PartReport>,
    /// The set had expired, or its owner key was replaced since it was
    /// accepted: the parts were sealed to the recovery key alone.
    pub recovery_only: bool,
}

/// Whether to try the network while recording.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Delivery {
    /// Upload each part as it is sealed; spool it when the server is
    /// unreachable, overloaded, or parts are already waiting in the spool.
    #[default]
    UploadNow,
    /// Seal into the spool only (the firmware knows the link is down, or
    /// wants to upload later); a drain uploads it.
    SpoolOnly,
}

/// One event to record. Build with [`NewEvent::now`] and the setters.
pub struct NewEvent<'a> {
    /// Capture time, unix milliseconds.
    pub captured_at_ms: i64,
    /// The thumbnail (a JPEG, `image/jpeg` unless `thumbnail_type` says otherwise).
    pub thumbnail: Option<&'a [u8]>,
    /// The thumbnail's media type.
    pub thumbnail_type: &'a str,
    /// The clip, read to its end (its length need not be known).
    pub clip: Option<&'a mut dyn Read>,
    /// The clip's media type.
    pub clip_type: &'a str,
    /// The event record.
    pub record: Option<&'a EventRecord>,
    /// Upload now or spool.
    pub delivery: Delivery,
}

impl<'a> NewEvent<'a> {
    /// An event captured now, with no parts yet.
    pub fn now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Self {
            captured_at_ms: ms,
            thumbnail: None,
            thumbnail_type: "image/jpeg",
            clip: None,
            clip_type: "video/mp4",
            record: None,
            delivery: Delivery::UploadNow,
        }
    }

    /// Sets the thumbnail.
    pub fn thumbnail(mut self, jpeg: &'a [u8]) -> Self {
        self.thumbnail = Some(jpeg);
        self
    }

    /// Sets the clip source.
    pub fn clip(mut self, clip: &'a mut dyn Read) -> Self {
        self.clip = Some(clip);
        self
    }

    /// Sets the event record.
    pub fn record(mut self, record: &'a EventRecord) -> Self {
        self.record = Some(record);
        self
    }

    /// Sets the delivery.
    pub fn delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }
}

/// One step of draining the spool.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DrainStep {
    /// Nothing is spooled.
    Empty,
    /// The oldest part was delivered (`created: false` when the server had it already).
    Delivered {
        /// The delivered part.
        entry: SpoolEntry,
        /// Whether this upload stored it.
        created: bool,
    },
    /// The oldest part was refused for good and dropped.
    Rejected {
        /// The dropped part.
        entry: SpoolEntry,
        /// The HTTP status.
        status: u16,
    },
    /// The server is unreachable or overloaded; try again after `after`.
    Retry {
        /// The wait.
        after: Duration,
        /// What failed.
        why: String,
    },
    /// The server refuses this camera (401/403); try again after `after`.
    Blocked {
        /// The HTTP status.
        status: u16,
        /// The wait.
        after: Duration,
    },
    /// Backing off: the next attempt is due after `after`.
    Wait {
        /// The wait.
        after: Duration,
    },
}

/// The totals of a blocking drain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Parts delivered.
    pub delivered: u64,
    /// Parts the server had already (a re-upload after a crash), counted in `delivered` too.
    pub already_stored: u64,
    /// Attempts that failed transiently and will be retried.
    pub retried: u64,
    /// Parts refused for good and dropped.
    pub rejected: u64,
    /// Parts still spooled when the drain stopped.
    pub remaining: u64,
    /// Whether it stopped because the server refuses this camera.
    pub blocked: bool,
}

type Observer = Box<dyn FnMut(&Notice) + Send>;

/// A paired (or not yet paired) camera, backed by its state directory.
///
/// Blocking: every call does its I/O on the calling thread. One `Device`
/// serves one camera; share it between threads behind a `Mutex`.
pub struct Device {
    state: StateDir,
    config: DeviceConfig,
    key: Option<DeviceKey>,
    pairing: Option<Pairing>,
    set: Option<VerifiedRecipientSet>,
    api: Option<Api>,
    spool: Spool,
    backoff: Backoff,
    blocked: bool,
    observer: Option<Observer>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("state", &self.state)
            .field("pairing", &self.pairing)
            .field("epoch", &self.epoch())
            .field("spooled", &self.spool.entries().len())
            .finish_non_exhaustive()
    }
}

impl Device {
    /// Opens the camera state in `state_dir` (created 0700 if missing). A
    /// stored recipient set is re-verified against the owner key state it
    /// was accepted under.
    pub fn open(state_dir: &Path, config: DeviceConfig) -> Result<Self, DeviceError> {
        let state = StateDir::open(state_dir)?;
        let mut pairing = state.pairing()?;
        let (key, set, api) = match pairing.as_mut() {
            Some(p) => {
                let key = state.device_key()?;
                let set = stored_set(&state, p, key.public())?;
                let api = Api::new(&p.server_url, config.timeouts);
                (Some(key), set, Some(api))
            }
            None => (state.existing_device_key()?, None, None),
        };
        let spool = Spool::open(&state.spool_dir(), config.spool)?;
        Ok(Self {
            state,
            config,
            key,
            pairing,
            set,
            api,
            spool,
            backoff: Backoff::default(),
            blocked: false,
            observer: None,
        })
    }

    /// Receives every [`Notice`] (uploads, spooling, losses, refused sets).
    pub fn set_observer(&mut self, observer: impl FnMut(&Notice) + Send + 'static) {
        self.observer = Some(Box::new(observer));
    }

    fn notify(&mut self, notice: Notice) {
        emit(&mut self.observer, notice);
    }

    /// The camera id, once paired.
    pub fn camera_id(&self) -> Option<CameraId> {
        self.pairing.as_ref().map(|p| p.camera_id)
    }

    /// The owner id, once paired.
    pub fn owner_id(&self) -> Option<OwnerId> {
        self.pairing.as_ref().map(|p| p.owner_id)
    }

    /// The server URL, once paired.
    pub fn server_url(&self) -> Option<&str> {
        self.pairing.as_ref().map(|p| p.server_url.as_str())
    }

    /// The device public key (generating the device key on first use).
    pub fn device_public_key(&mut self) -> Result<DevicePublicKey, DeviceError> {
        if self.key.is_none() {
            self.key = Some(self.state.device_key()?);
        }
        match &self.key {
            Some(k) => Ok(k.public()),
            None => Err(DeviceError::NotPaired),
        }
    }

    /// The epoch of the recipient set in use.
    pub fn epoch(&self) -> Option<u64> {
        self.set.as_ref().map(|s| s.epoch())
    }

    /// The recipient set in use.
    pub fn recipient_set(&self) -> Option<&VerifiedRecipientSet> {
        self.set.as_ref()
    }

    /// The owner key the camera follows now, once paired: pinned from the
    /// pairing code, moved by the owner's key log.
    pub fn owner_keys(&self) -> Option<OwnerKeyState> {
        self.pairing.as_ref().map(|p| p.keys)
    }

    /// The offline spool.
    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    /// Pairs with the owner who made `code` (S5): generates the device key
    /// on first use, proves to the owner (through the server, which cannot
    /// forge the proof) that this key received the code, and stores the
    /// pairing (0600). The owner then confirms the camera and publishes its
    /// recipient set; [`sync`](Self::sync) fetches it.
    pub fn pair(&mut self, code: &str) -> Result<(CameraId, OwnerId), DeviceError> {
        if let Some(p) = &self.pairing {
            return Err(DeviceError::AlreadyPaired {
                camera: p.camera_id,
            });
        }
        let code = PairingCode::from_text(code)?;
        code.check_fresh(sealcam_keys::unix_now())?;
        let key = match self.key.take() {
            Some(k) => k,
            None => self.state.device_key()?,
        };
        let public = key.public();
        let proof = code.secret.prove(&code.claim_token, code.owner, &public);
        let api = Api::new(&code.server_url, self.config.timeouts);
        let answer = api.register(&RegisterCameraRequest {
            claim_token: code.claim_token.clone(),
            device_public_key: b64::encode(&public.to_bytes()),
            pairing_proof: b64::encode(&proof.0),
        });
        self.key = Some(key);
        let answer = answer.map_err(Failure::into_error)?;
        let got = OwnerId::from(answer.owner_id);
        if got != code.owner {
            return Err(DeviceError::OwnerMismatch {
                expected: code.owner,
                got,
            });
        }
        // A v2 code names the account's root key and the owner key's place
        // in the key log; a v1 code only the owner key.
        let (keys, paired_v1) = match code.trust {
            Some((root, reset, generation)) => (
                OwnerKeyState::new(code.owner, code.owner_key, Some(root), reset, generation),
                false,
            ),
            None => (OwnerKeyState::legacy(code.owner, code.owner_key), true),
        };
        let pairing = Pairing {
            version: 2,
            server_url: code.server_url.clone(),
            camera_id: CameraId::from(answer.camera_id),
            owner_id: code.owner,
            credential: answer.credential,
            keys,
            set_keys: None,
            paired_v1,
        };
        self.state.write_pairing(&pairing)?;
        let ids = (pairing.camera_id, pairing.owner_id);
        self.pairing = Some(pairing);
        self.api = Some(api);
        Ok(ids)
    }

    fn paired(&self) -> Result<(&Pairing, &Api), DeviceError> {
        match (&self.pairing, &self.api) {
            (Some(p), Some(a)) => Ok((p, a)),
            _ => Err(DeviceError::NotPaired),
        }
    }

    /// Asks the server whether the owner confirmed this camera yet.
    pub fn status(&self) -> Result<CameraStatus, DeviceError> {
        let (p, api) = self.paired()?;
        api.camera_self(&p.credential)
            .map(|c| c.status)
            .map_err(Failure::into_error)
    }

    /// Fetches the recipient set, with the owner's key log, and accepts the
    /// set only if it is signed by the owner key the camera follows, names
    /// this camera and its device key, is bound to that owner key's place in
    /// the log, has not expired, and its epoch neither goes back nor jumps
    /// too far (S4, owner trust v2). On refusal the last good set stays in
    /// use and the reason is returned (and reported to the observer).
    ///
    /// The key log is followed first, from the owner key state the camera
    /// holds: a rotation signed by that key, or a reset signed by the root
    /// key, moves it (persisted at once, [`Notice::OwnerKeyChanged`]).
    pub fn sync(&mut self) -> Result<SyncOutcome, DeviceError> {
        let (pairing, api) = self.paired()?;
        let offered = match api.recipient_set(&pairing.credential, pairing.camera_id) {
            Ok(Some(set)) => set,
            Ok(None) => return Ok(SyncOutcome::NotPublished),
            Err(f) => return Err(f.into_error()),
        };
        if let Some(log) = &offered.key_log {
            self.follow_key_log(log)?;
        }
        let device_key = self.device_public_key()?;
        let (pairing, _) = self.paired()?;
        let pin = pairing.pin(device_key);
        let kept = self.epoch();
        let verdict = b64::decode(&offered.set)
            .ok_or(RecipientSetError::Malformed("the set is not base64"))
            .and_then(|bytes| SignedRecipientSet::from_bytes(&bytes))
            .and_then(|s| s.verify_for_camera(&pin, unix_now()))
            .and_then(|v| match &self.set {
                Some(last) => last.accept_successor(&v).map(|a| (v, a)),
                None => VerifiedRecipientSet::accept_first(&v).map(|a| (v, a)),
            });
        match verdict {
            Ok((set, acceptance)) => {
                if acceptance == Acceptance::Newer {
                    self.state.write_recipient_set(&set)?;
                }
                // Written after the set: a crash in between leaves a set that
                // verifies under `keys`, which `open` also tries.
                self.set_keys_to_current()?;
                let to = set.epoch();
                if acceptance == Acceptance::Newer {
                    self.set = Some(set);
                    self.notify(Notice::RecipientSetUpdated { from: kept, to });
                    Ok(SyncOutcome::Updated { from: kept, to })
                } else {
                    Ok(SyncOutcome::Unchanged { epoch: to })
                }
            }
            Err(reason) => {
                self.notify(Notice::RecipientSetRefused {
                    reason: reason.clone(),
                    kept,
                });
                Ok(SyncOutcome::Refused { reason, kept })
            }
        }
    }

    /// Follows the owner's key log (standard base64 from the server) from
    /// the owner key state held; persists and reports a move, and reports
    /// the statements refused for a reason other than being old.
    fn follow_key_log(&mut self, text: &str) -> Result<(), DeviceError> {
        let log = b64::decode(text)
            .ok_or(KeyStatementError::Malformed("the key log is not base64"))
            .and_then(|bytes| KeyLog::from_bytes(&bytes));
        let log = match log {
            Ok(log) => log,
            Err(reason) => {
                self.notify(Notice::KeyLogRefused { reason });
                return Ok(());
            }
        };
        let (pairing, _) = self.paired()?;
        let mut keys = pairing.keys;
        let report = keys.follow(&log);
        if keys != pairing.keys {
            let from = pairing.keys.position();
            let updated = Pairing {
                keys,
                ..pairing.clone()
            };
            self.state.write_pairing(&updated)?;
            self.pairing = Some(updated);
            self.notify(Notice::OwnerKeyChanged {
                from,
                to: keys.position(),
            });
        }
        for (index, reason) in report.refused {
            if !matches!(reason, KeyStatementError::Superseded { .. }) {
                self.notify(Notice::KeyStatementRefused { index, reason });
            }
        }
        Ok(())
    }

    /// Records that the stored set was accepted under the current owner key state.
    fn set_keys_to_current(&mut self) -> Result<(), DeviceError> {
        let (pairing, _) = self.paired()?;
        if pairing.set_keys == Some(pairing.keys) {
            return Ok(());
        }
        let updated = Pairing {
            set_keys: Some(pairing.keys),
            ..pairing.clone()
        };
        self.state.write_pairing(&updated)?;
        self.pairing = Some(updated);
        Ok(())
    }

    /// Records one event: seals the thumbnail, then the clip, then the event
    /// record to the current recipient set and uploads each as it is sealed
    /// (constant memory, whatever the clip's length). When the server is
    /// unreachable or overloaded the sealed parts go to the spool instead.
    pub fn record(&mut self, event: NewEvent<'_>) -> Result<RecordReport, DeviceError> {
        let NewEvent {
            captured_at_ms,
            thumbnail,
            thumbnail_type,
            clip,
            clip_type,
            record,
            delivery,
        } = event;
        let record_json = record.map(EventRecord::to_json).transpose()?;
        let Some(set) = &self.set else {
            return Err(DeviceError::NoRecipientSet);
        };
        // One instant for every part of the event: all are sealed to the
        // same recipients.
        let now = unix_now();
        let expired = set
            .set()
            .binding()
            .filter(|_| set.is_expired(now))
            .map(|b| (set.epoch(), b.expires_at));
        // A v2 set signed under an owner key the camera has since seen
        // replaced: seal to the recovery key alone until the new key's set
        // arrives (a v1 set names no recovery key and stays in use).
        let retired = match (&self.pairing, set.set().binding()) {
            (Some(p), Some(b)) if b.key_position < p.keys.position() => {
                Some((set.epoch(), b.key_position, p.keys.position()))
            }
            _ => None,
        };
        if let Some((epoch, expires_at)) = expired {
            self.notify(Notice::RecipientSetExpired { epoch, expires_at });
        }
        if let Some((epoch, signed_under, current)) = retired {
            self.notify(Notice::RecipientSetRetired {
                epoch,
                signed_under,
                current,
            });
        }
        let recovery_only = expired.is_some() || retired.is_some();
        let id = EventId::now_v7();
        let mut parts = Vec::with_capacity(3);
        let try_now = delivery == Delivery::UploadNow;
        if let Some(mut jpeg) = thumbnail {
            let part = PartSpec::new(id, PartKind::Thumbnail, captured_at_ms, thumbnail_type, now)
                .recovery_only(recovery_only);
            parts.push(self.send_part(part, &mut jpeg, try_now)?);
        }
        if let Some(clip) = clip {
            let part = PartSpec::new(id, PartKind::Clip, captured_at_ms, clip_type, now)
                .recovery_only(recovery_only);
            parts.push(self.send_part(part, clip, try_now)?);
        }
        if let Some(json) = record_json {
            let part = PartSpec::new(
                id,
                PartKind::Record,
                captured_at_ms,
                "application/json",
                now,
            )
            .recovery_only(recovery_only);
            parts.push(self.send_part(part, &mut &json[..], try_now)?);
        }
        Ok(RecordReport {
            event: id,
            epoch: self.epoch().unwrap_or_default(),
            parts,
            recovery_only,
        })
    }

    fn send_part(
        &mut self,
        part: PartSpec<'_>,
        source: &mut dyn Read,
        try_now: bool,
    ) -> Result<PartReport, DeviceError> {
        let (Some(pairing), Some(api), Some(key), Some(set)) =
            (&self.pairing, &self.api, &self.key, &self.set)
        else {
            return Err(DeviceError::NotPaired);
        };
        let meta = ObjectMeta {
            binding: Binding {
                owner: pairing.owner_id,
                camera: pairing.camera_id,
                event: part.event,
                kind: format_kind(part.kind),
                sequence: 0,
            },
            captured_at_ms: part.captured_at_ms,
            epoch: set.epoch(),
            content_type: part.content_type.to_owned(),
        };
        // Every recipient while the set is valid, the recovery key alone
        // once it expired or its owner key was replaced.
        let recipients = match set.set().binding() {
            Some(b) if part.recovery_only => std::slice::from_ref(&b.recovery),
            _ => set.sealing_recipients(part.sealed_at),
        };
        let mut reader =
            SealingReader::new(Sealer::with_recipients(recipients, key, meta)?, source);
        let header_len = reader.header_len();
        let captured_at = part.captured_at_ms.div_euclid(1000);
        let mut staged = self
            .spool
            .stage(part.event, part.kind, captured_at, header_len)?;
        let report = |reader: &SealingReader<'_, _>, outcome| PartReport {
            kind: part.kind,
            body_bytes: reader.body_len(),
            sealed_bytes: reader.sealed_len(),
            outcome,
        };

        let online =
            try_now && self.spool.is_empty() && self.backoff.remaining().is_zero() && !self.blocked;
        let mut notices = Vec::new();
        if online {
            let mut tee = Tee {
                inner: &mut reader,
                staged: &mut staged,
                stage_error: None,
            };
            let result = api.upload(
                &pairing.credential,
                part.event,
                part.kind,
                captured_at,
                header_len,
                &mut tee,
            );
            if let Some(kind) = reader.source_error() {
                staged.discard();
                return Err(DeviceError::Source(io::Error::new(
                    kind,
                    "the media source failed while it was being sealed",
                )));
            }
            match result {
                Ok(answer) => {
                    staged.discard();
                    self.backoff.succeeded();
                    let out = report(
                        &reader,
                        PartOutcome::Uploaded {
                            created: answer.created,
                        },
                    );
                    emit(
                        &mut self.observer,
                        Notice::Uploaded {
                            event: part.event,
                            kind: part.kind,
                            bytes: out.sealed_bytes,
                            created: answer.created,
                        },
                    );
                    return Ok(out);
                }
                Err(Failure::Rejected { status, .. }) => {
                    staged.discard();
                    // Finish reading the source so the report says how big it was.
                    let _ = io::copy(&mut reader, &mut io::sink());
                    let loss = Loss {
                        event: part.event,
                        kind: part.kind,
                        bytes: reader.sealed_len(),
                        reason: LossReason::Rejected { status },
                    };
                    emit(&mut self.observer, Notice::Lost(loss));
                    return Ok(report(&reader, PartOutcome::Lost(loss.reason)));
                }
                Err(Failure::Retry { retry_after, why }) => {
                    let after = self.backoff.failed(&self.config.backoff, retry_after);
                    notices.push(Notice::Retrying { after, why });
                }
                Err(Failure::Blocked {
                    status, message, ..
                }) => {
                    self.blocked = true;
                    notices.push(Notice::Blocked { status, message });
                }
            }
        }
        for n in notices {
            emit(&mut self.observer, n);
        }

        // Offline (or the upload failed): keep sealing into the spool.
        finish_staging(&mut reader, &mut staged)?;
        let losses = self.spool.commit(staged)?;
        let own_loss = losses
            .iter()
            .find(|l| l.event == part.event && l.kind == part.kind)
            .map(|l| l.reason);
        for loss in losses {
            emit(&mut self.observer, Notice::Lost(loss));
        }
        let out = match own_loss {
            Some(reason) => report(&reader, PartOutcome::Lost(reason)),
            None => {
                let out = report(&reader, PartOutcome::Spooled);
                emit(
                    &mut self.observer,
                    Notice::Spooled {
                        event: part.event,
                        kind: part.kind,
                        bytes: out.sealed_bytes,
                    },
                );
                out
            }
        };
        Ok(out)
    }

    /// Tries to upload the oldest spooled part once (unless backing off).
    pub fn drain_once(&mut self) -> Result<DrainStep, DeviceError> {
        let Some(entry) = self.spool.oldest().cloned() else {
            return Ok(DrainStep::Empty);
        };
        let wait = self.backoff.remaining();
        if !wait.is_zero() {
            return Ok(DrainStep::Wait { after: wait });
        }
        let (pairing, api) = self.paired()?;
        let mut body = entry.open_object()?;
        let result = api.upload(
            &pairing.credential,
            entry.event,
            entry.kind,
            entry.captured_at,
            entry.header_len,
            &mut body,
        );
        drop(body);
        match result {
            Ok(answer) => {
                self.spool.remove(&entry)?;
                self.backoff.succeeded();
                self.blocked = false;
                self.notify(Notice::Uploaded {
                    event: entry.event,
                    kind: entry.kind,
                    bytes: entry.object_len,
                    created: answer.created,
                });
                Ok(DrainStep::Delivered {
                    entry,
                    created: answer.created,
                })
            }
            Err(Failure::Retry { retry_after, why }) => {
                let after = self.backoff.failed(&self.config.backoff, retry_after);
                self.notify(Notice::Retrying {
                    after,
                    why: why.clone(),
                });
                Ok(DrainStep::Retry { after, why })
            }
            Err(Failure::Blocked {
                status, message, ..
            }) => {
                self.blocked = true;
                let after = self.backoff.failed(&self.config.backoff, None);
                self.notify(Notice::Blocked { status, message });
                Ok(DrainStep::Blocked { status, after })
            }
            Err(Failure::Rejected { status, .. }) => {
                self.spool.remove(&entry)?;
                self.notify(Notice::Lost(Loss {
                    event: entry.event,
                    kind: entry.kind,
                    bytes: entry.object_len,
                    reason: LossReason::Rejected { status },
                }));
                Ok(DrainStep::Rejected { entry, status })
            }
        }
    }

    /// Drains the spool oldest first, sleeping through backoff, until it is
    /// empty, the server refuses this camera, or `max_wait` has passed.
    pub fn drain(&mut self, max_wait: Duration) -> Result<DrainReport, DeviceError> {
        let deadline = Instant::now() + max_wait;
        let mut report = DrainReport::default();
        loop {
            let step = self.drain_once()?;
            let wait = match step {
                DrainStep::Empty => break,
                DrainStep::Delivered { created, .. } => {
                    report.delivered += 1;
                    report.already_stored += u64::from(!created);
                    continue;
                }
                DrainStep::Rejected { .. } => {
                    report.rejected += 1;
                    continue;
                }
                DrainStep::Retry { after, .. } => {
                    report.retried += 1;
                    after
                }
                DrainStep::Blocked { .. } => {
                    report.blocked = true;
                    break;
                }
                DrainStep::Wait { after } => after,
            };
            let now = Instant::now();
            if now + wait > deadline {
                break;
            }
            std::thread::sleep(wait);
        }
        report.remaining = self.spool.entries().len() as u64;
        Ok(report)
    }
}

fn emit(observer: &mut Option<Observer>, notice: Notice) {
    if let Some(observer) = observer.as_mut() {
        observer(&notice);
    }
}

/// Which part is being sent.
#[derive(Clone, Copy)]
struct PartSpec<'a> {
    event: EventId,
    kind: PartKind,
    captured_at_ms: i64,
    content_type: &'a str,
    /// When it is sealed (unix seconds): decides whether the set expired.
    sealed_at: u64,
    /// Seal to the set's recovery key alone.
    recovery_only: bool,
}

impl<'a> PartSpec<'a> {
    fn new(
        event: EventId,
        kind: PartKind,
        captured_at_ms: i64,
        content_type: &'a str,
        sealed_at: u64,
    ) -> Self {
        Self {
            event,
            kind,
            captured_at_ms,
            content_type,
            sealed_at,
            recovery_only: false,
        }
    }

    fn recovery_only(mut self, yes: bool) -> Self {
        self.recovery_only = yes;
        self
    }
}

/// The stored recipient set, re-verified under the owner key state it was
/// accepted under (`set_keys`): after a rotation, the last good set was
/// signed by the previous key and stays in use until the owner's new set
/// arrives. Then under the current state (`keys`), which a crash between
/// writing the set and `camera.json` leaves as the one that verifies; that
/// is then recorded.
fn stored_set(
    state: &StateDir,
    pairing: &mut Pairing,
    device_key: DevicePublicKey,
) -> Result<Option<VerifiedRecipientSet>, DeviceError> {
    let mut pins = Vec::with_capacity(2);
    if let Some(set_keys) = pairing.set_keys {
        pins.push(pairing.pin_under(device_key, set_keys));
    }
    if pairing.set_keys != Some(pairing.keys) {
        pins.push(pairing.pin(device_key));
    }
    let Some((set, under)) = state.recipient_set(&pins)? else {
        return Ok(None);
    };
    let under = pins[under].keys;
    if pairing.set_keys != Some(under) {
        pairing.set_keys = Some(under);
        state.write_pairing(pairing)?;
    }
    Ok(Some(set))
}

fn format_kind(kind: PartKind) -> sealcam_format::PartKind {
    match kind {
        PartKind::Thumbnail => sealcam_format::PartKind::Thumbnail,
        PartKind::Clip => sealcam_format::PartKind::Clip,
        PartKind::Record => sealcam_format::PartKind::Record,
    }
}

/// Copies the rest of the sealed stream into the staged spool file. Stops
/// early when the object outgrew the spool (it is lost anyway).
fn finish_staging<R: Read>(
    reader: &mut SealingReader<'_, R>,
    staged: &mut Staged,
) -> Result<(), DeviceError> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if staged.overflowed() {
            return Ok(());
        }
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                staged.discard();
                return Err(DeviceError::Source(e));
            }
        };
        if n == 0 {
            return Ok(());
        }
        if let Err(e) = staged.append(&buf[..n]) {
            staged.discard();
            return Err(DeviceError::Io {
                path: "spool".into(),
                source: e,
            });
        }
    }
}
