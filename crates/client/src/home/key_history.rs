//! The owner keys on this device's path (`keys.json`): the one it was set up
//! with, and each key on the log's path to every key it took since, each
//! with its place in the key log. The path to a key is noted once the
//! device holds that key (its bundle opened), never from a log alone. What
//! a camera's objects name is checked against it (`key_witness`), whatever
//! log the server serves later.

use sealcam_keys::{OwnerId, OwnerKeyState, OwnerPublicKey};
use serde::{Deserialize, Serialize};

use super::Home;
use crate::error::{ClientError, Result};

/// One owner key this device held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HeldKey {
    /// The account (a home reused for another account keeps none of its
    /// keys in the comparison).
    pub(crate) owner: OwnerId,
    /// Its place in the key log: `(reset, generation)`.
    pub(crate) position: (u64, u64),
    /// The key.
    pub(crate) key: OwnerPublicKey,
}

impl HeldKey {
    /// The key `state` holds.
    pub(crate) fn of(state: &OwnerKeyState) -> Self {
        Self {
            owner: state.owner,
            position: state.position(),
            key: state.owner_key,
        }
    }

    /// `from`, then every step a log report adopted after it.
    pub(crate) fn path(from: &OwnerKeyState, adopted: &[(u64, u64, OwnerPublicKey)]) -> Vec<Self> {
        std::iter::once(Self::of(from))
            .chain(adopted.iter().map(|&(reset, generation, key)| Self {
                owner: from.owner,
                position: (reset, generation),
                key,
            }))
            .collect()
    }
}

impl Home {
    /// The owner keys this device held, in the order it took them; empty for
    /// a device set up before this file was kept.
    pub(crate) fn key_history(&self) -> Result<Vec<HeldKey>> {
        match self.read_private("keys.json")? {
            None => Ok(Vec::new()),
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                ClientError::BadInput(format!("{}: {e}", self.file("keys.json").display()))
            }),
        }
    }

    /// Adds the keys of `held` this device did not note yet. Call it only
    /// once the device holds the last of them.
    ///
    /// Two commands of one home may sync at once (`sealcam watch` beside
    /// `sealcam cameras list`): each reads the file, adds its keys and
    /// writes it back, so without a lock one could write over the other's
    /// note and leave that place unseen. The read and the write are made
    /// under `keys.lock` (`flock`), held only for them: nothing waits on
    /// the network meanwhile. The file only grows and is replaced whole, so
    /// when it names every key already (every command's case) nothing is
    /// locked.
    pub(crate) fn note_held_keys(&self, held: &[HeldKey]) -> Result<()> {
        use rustix::fs::{flock, FlockOperation};
        let noted = self.key_history()?;
        if held.iter().all(|k| noted.contains(k)) {
            return Ok(());
        }
        let (lock, path) = self.lock_file("keys.lock")?;
        loop {
            match flock(&lock, FlockOperation::LockExclusive) {
                Ok(()) => break,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(ClientError::io(&path)(e.into())),
            }
        }
        let mut history = self.key_history()?;
        let before = history.len();
        for k in held {
            if !history.contains(k) {
                history.push(*k);
            }
        }
        if history.len() == before {
            return Ok(());
        }
        let json = serde_json::to_vec_pretty(&history)
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.write_private("keys.json", &json)
    }
}

#[cfg(test)]
mod tests {
    use sealcam_keys::OwnerSigningKey;

    use super::*;

    #[test]
    fn held_keys_are_noted_once_in_order_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("home"));
        assert!(home.key_history().unwrap().is_empty());
        let owner = OwnerId::random();
        let keys: Vec<_> = (0..3)
            .map(|_| OwnerSigningKey::generate().public())
            .collect();
        let start = OwnerKeyState::new(owner, keys[0], None, 1, 0);
        let path = HeldKey::path(&start, &[(1, 1, keys[1]), (1, 2, keys[2])]);
        home.note_held_keys(&path).unwrap();
        home.note_held_keys(&path[1..]).unwrap();
        let noted = home.key_history().unwrap();
        assert_eq!(noted, path);
        assert_eq!(noted[2].position, (1, 2));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("home/keys.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join("home/keys.json"), b"not json").unwrap();
        assert!(matches!(home.key_history(), Err(ClientError::BadInput(_))));
    }

    /// Commands of one home noting keys at the same moment lose none of
    /// them (each reads, adds and writes back: without the lock one
    /// command's write took back another's note).
    #[test]
    fn notes_made_at_once_are_all_kept() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("home");
        let owner = OwnerId::random();
        let start = OwnerKeyState::new(owner, OwnerSigningKey::generate().public(), None, 1, 0);
        let threads: Vec<_> = (1..=8u64)
            .map(|n| {
                let home = Home::at(&at);
                let path: Vec<_> = (1..=6u64)
                    .map(|g| (n, g, OwnerSigningKey::generate().public()))
                    .collect();
                std::thread::spawn(move || {
                    // One note per step, as a command that follows the
                    // log a step at a time makes them.
                    for step in 0..path.len() {
                        home.note_held_keys(&HeldKey::path(&start, &path[..=step]))
                            .unwrap();
                    }
                    path
                })
            })
            .collect();
        let paths: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let noted = Home::at(&at).key_history().unwrap();
        for (reset, generation, key) in paths.into_iter().flatten() {
            assert!(
                noted.contains(&HeldKey {
                    owner,
                    position: (reset, generation),
                    key
                }),
                "the note of ({reset}, {generation}) was lost"
            );
        }
        assert_eq!(noted.len(), 1 + 8 * 6);
    }
}
