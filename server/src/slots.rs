//! Upload slots, shared fairly.
//!
//! Three caps hold at once: `max_concurrent_uploads` for the whole server,
//! `max_uploads_per_camera` for one camera, and `max_uploads_per_account` for
//! one account's cameras together. An upload that would pass any of them is
//! answered `503` with `Retry-After` before a byte of its body is read, so a
//! camera that floods uploads fills its own share and leaves the rest of the
//! server to everyone else. The counts live in memory (they count requests
//! in flight on this replica, not who may do what; authorisation is still
//! decided from the database on every request).

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

use crate::config::LimitsConfig;

/// Which cap refused an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The server's `max_concurrent_uploads`.
    Server,
    /// This camera's `max_uploads_per_camera`.
    Camera,
    /// This account's `max_uploads_per_account`.
    Account,
}

impl Full {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Full::Server => "server",
            Full::Camera => "camera",
            Full::Account => "account",
        }
    }
}

#[derive(Debug, Default)]
struct Held {
    total: u32,
    cameras: HashMap<Uuid, u32>,
    accounts: HashMap<Uuid, u32>,
}

/// The upload slots of this server.
#[derive(Debug)]
pub struct UploadSlots {
    server: u32,
    camera: u32,
    account: u32,
    held: Mutex<Held>,
}

/// One upload slot; released on drop.
#[derive(Debug)]
pub struct Slot<'a> {
    slots: &'a UploadSlots,
    camera: Uuid,
    account: Uuid,
}

impl UploadSlots {
    /// Slots with the caps of `[limits]`. A server cap of 0 refuses every
    /// upload (maintenance); a camera or account cap of 0 is no cap.
    pub fn new(limits: &LimitsConfig) -> Self {
        let or_none = |cap: u32| if cap == 0 { u32::MAX } else { cap };
        Self {
            server: limits.max_concurrent_uploads,
            camera: or_none(limits.max_uploads_per_camera),
            account: or_none(limits.max_uploads_per_account),
            held: Mutex::new(Held::default()),
        }
    }

    /// A slot for an upload by `camera` of `account`, or the cap that is full.
    pub fn try_acquire(&self, camera: Uuid, account: Uuid) -> Result<Slot<'_>, Full> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.total >= self.server {
            return Err(Full::Server);
        }
        if held.cameras.get(&camera).copied().unwrap_or(0) >= self.camera {
            return Err(Full::Camera);
        }
        if held.accounts.get(&account).copied().unwrap_or(0) >= self.account {
            return Err(Full::Account);
        }
        held.total += 1;
        *held.cameras.entry(camera).or_insert(0) += 1;
        *held.accounts.entry(account).or_insert(0) += 1;
        Ok(Slot {
            slots: self,
            camera,
            account,
        })
    }

    /// Uploads in flight now.
    pub fn in_flight(&self) -> u32 {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

/// Decrements `key`'s count, forgetting it at zero (the maps hold only
/// cameras and accounts with an upload in flight).
fn release(map: &mut HashMap<Uuid, u32>, key: Uuid) {
    if let Some(n) = map.get_mut(&key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(&key);
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(|e| e.into_inner());
        held.total = held.total.saturating_sub(1);
        release(&mut held.cameras, self.camera);
        release(&mut held.accounts, self.account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(server: u32, camera: u32, account: u32) -> UploadSlots {
        UploadSlots::new(&LimitsConfig {
            max_concurrent_uploads: server,
            max_uploads_per_camera: camera,
            max_uploads_per_account: account,
            ..LimitsConfig::default()
        })
    }

    #[test]
    fn each_cap_refuses_only_its_own_holder() {
        let s = slots(5, 2, 3);
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (x, y) = (Uuid::new_v4(), Uuid::new_v4());
        let a1 = s.try_acquire(a, x).unwrap();
        let _a2 = s.try_acquire(a, x).unwrap();
        assert_eq!(s.try_acquire(a, x).unwrap_err(), Full::Camera);
        let _b1 = s.try_acquire(b, x).unwrap();
        assert_eq!(s.try_acquire(b, x).unwrap_err(), Full::Account);
        // Another account's camera still gets in, up to the server's cap.
        let _c1 = s.try_acquire(c, y).unwrap();
        let _c2 = s.try_acquire(c, y).unwrap();
        assert_eq!(s.in_flight(), 5);
        assert_eq!(
            s.try_acquire(Uuid::new_v4(), Uuid::new_v4()).unwrap_err(),
            Full::Server
        );
        drop(a1);
        assert_eq!(s.in_flight(), 4);
        let _a3 = s.try_acquire(a, x).unwrap();
    }

    #[test]
    fn released_slots_leave_no_entries() {
        let s = slots(4, 4, 4);
        let (a, x) = (Uuid::new_v4(), Uuid::new_v4());
        drop(s.try_acquire(a, x).unwrap());
        let held = s.held.lock().unwrap();
        assert!(held.cameras.is_empty() && held.accounts.is_empty());
        assert_eq!(held.total, 0);
    }
}
