//! The camera: pairing, recipient-set sync, recording and the spool drain.
mod drain;
mod hints;
mod notice;
mod pair;
mod part;
mod recording;
mod sync;

use std::path::Path;

use sealcam_keys::{
    CameraId, DeviceKey, DevicePublicKey, OwnerId, OwnerKeyState, VerifiedRecipientSet,
};

use crate::api::{Api, HttpTimeouts};
use crate::backoff::{Backoff, BackoffPolicy};
use crate::spool::{Spool, SpoolLimits};
use crate::state::{Pairing, StateDir};
use crate::transport::TransportPolicy;
use crate::DeviceError;

pub use drain::{DrainReport, DrainStep};
pub use notice::Notice;
pub use recording::{Delivery, NewEvent, PartOutcome, PartReport, RecordReport};
pub use sync::SyncOutcome;

/// How a camera is tuned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceConfig {
    /// How much the offline spool may hold.
    pub spool: SpoolLimits,
    /// Retry timing while the server is unreachable or overloaded.
    pub backoff: BackoffPolicy,
    /// HTTP timeouts.
    pub timeouts: HttpTimeouts,
    /// HTTPS roots and whether plain HTTP off loopback is allowed.
    pub transport: TransportPolicy,
}

type Observer = Box<dyn FnMut(&Notice) + Send>;

/// How long a part the server had no room for (507) waits when the server
/// names no `Retry-After`.
pub(crate) const NO_ROOM_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

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
    /// The slot hint keys of the recipients last sealed to.
    hints: hints::SlotHints,
    api: Option<Api>,
    spool: Spool,
    backoff: Backoff,
    blocked: bool,
    /// Spooled parts the server had no room for, by spool sequence number,
    /// and when to try each again; the drain goes on past them.
    deferred: std::collections::HashMap<u64, std::time::Instant>,
    /// Spooled parts answered by something that is not the sealcam API,
    /// and how many times in a row: each waits twice as long as the last
    /// time (`drain_once`).
    unexplained: std::collections::HashMap<u64, u32>,
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
                let api = Api::new(&p.server_url, config.timeouts, &config.transport)?;
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
            hints: hints::SlotHints::default(),
            api,
            spool,
            backoff: Backoff::default(),
            blocked: false,
            deferred: std::collections::HashMap::new(),
            unexplained: std::collections::HashMap::new(),
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

    fn paired(&self) -> Result<(&Pairing, &Api), DeviceError> {
        match (&self.pairing, &self.api) {
            (Some(p), Some(a)) => Ok((p, a)),
            _ => Err(DeviceError::NotPaired),
        }
    }
}

fn emit(observer: &mut Option<Observer>, notice: Notice) {
    if let Some(observer) = observer.as_mut() {
        observer(&notice);
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
