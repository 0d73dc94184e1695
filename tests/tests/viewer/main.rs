//! The household's viewer, run as a user runs it: the real `sealcam`
//! command (`events list`, `watch`, `export`) against the real server, with
//! cameras on the device SDK recording through it. The server sits behind
//! the test proxy, where a broken cache or a slow network is played.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod export;
mod sdk;
mod timeline;
mod ui;
mod watch;

use std::path::{Path, PathBuf};
use std::process::Command;

use sealcam_device::{Device, EventRecord, NewEvent};
use sealcam_e2e::process::{binary, run, Run};
use sealcam_e2e::{fast_device_config, media, Harness, Owner};
use sealcam_keys::EventId;

/// The server and one owner (`home-owner`).
struct World {
    h: Harness,
    owner: Owner,
    cli: PathBuf,
    seed: u64,
}

/// What a camera sealed for one event.
#[derive(Debug, Clone)]
struct Sealed {
    event: EventId,
    thumbnail: Vec<u8>,
    clip: Option<Vec<u8>>,
    record: Option<Vec<u8>>,
}

impl World {
    /// The world and the owner's camera `porch`.
    fn start() -> (Self, Device) {
        let h = Harness::start().unwrap();
        let owner = h.owner("owner").unwrap();
        let cam = h.camera(&owner, "porch", fast_device_config()).unwrap();
        let cli = binary("sealcam-cli", "sealcam").unwrap();
        let world = Self {
            h,
            owner,
            cli,
            seed: 1,
        };
        (world, cam)
    }

    /// `sealcam ARGS` as the owner's device.
    fn command(&self, home: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.cli);
        cmd.env("SEALCAM_HOME", home)
            .env_remove("SEALCAM_SERVER")
            .env_remove("SEALCAM_CA_FILE")
            .args(args);
        cmd
    }

    fn sealcam(&self, args: &[&str]) -> Run {
        run(
            self.command(self.owner.home(), args),
            &format!("sealcam {}", args.join(" ")),
        )
        .unwrap()
    }

    /// Records an event on `cam`: a thumbnail, a clip of `clip_len` bytes
    /// (none for 0) and `record` (none for `None`).
    fn record(
        &mut self,
        cam: &mut Device,
        record: Option<&EventRecord>,
        clip_len: usize,
    ) -> Sealed {
        self.seed += 1;
        let thumbnail = media::thumbnail(self.seed, 1800);
        let clip = (clip_len > 0).then(|| media::bytes(self.seed + 1_000_000, clip_len));
        let mut reader = clip.clone().map(|c| media::Dribble::new(c, 4096));
        let mut event = NewEvent::now().thumbnail(&thumbnail);
        if let Some(r) = reader.as_mut() {
            event = event.clip(r);
        }
        if let Some(r) = record {
            event = event.record(r);
        }
        let report = cam.record(event).unwrap();
        Sealed {
            event: report.event,
            thumbnail,
            clip,
            record: record.map(|r| r.to_json().unwrap()),
        }
    }
}

/// A child process killed when the test ends, passed or not.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn record(kind: &str, labels: &[&str], duration_ms: Option<u64>) -> EventRecord {
    let mut r = EventRecord::new(kind);
    r.labels = labels.iter().map(|l| (*l).to_owned()).collect();
    r.duration_ms = duration_ms;
    r
}
