//! Peak memory of sealing a large clip from a reader: constant, whatever the
//! length. Prints the peak resident set size above the idle process.
//!
//! ```sh
//! cargo run --release -p sealcam-format --example seal_memory -- 256
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{self, Read};

use sealcam_format::{seal, Binding, FollowedKey, ObjectMeta, PartKind, Sealer};
use sealcam_keys::{CameraId, DeviceKey, EventId, OwnerId, ViewerIdentity};

/// Pseudo-random bytes made on the fly, so the input costs no memory.
struct Generated {
    left: u64,
    x: u64,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for b in &mut buf[..n] {
            self.x ^= self.x << 13;
            self.x ^= self.x >> 7;
            self.x ^= self.x << 17;
            *b = self.x as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// (VmRSS, VmHWM) in KiB.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() {
    let mib: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(256);
    let viewers: Vec<_> = (0..4)
        .map(|_| ViewerIdentity::generate().to_public())
        .collect();
    let device = DeviceKey::generate();
    let binding = Binding {
        owner: OwnerId::random(),
        camera: CameraId::random(),
        event: EventId::now_v7(),
        kind: PartKind::Clip,
        sequence: 0,
    };
    // Warm up the allocator and the code paths with a small object first.
    let meta = ObjectMeta {
        binding,
        captured_at_ms: 0,
        epoch: 1,
        followed: Some(FollowedKey {
            position: (1, 0),
            key: [7; 32],
        }),
        content_type: "video/mp4".into(),
    };
    let small = Sealer::with_recipients(&viewers, &device, meta.clone()).unwrap();
    seal(
        small,
        &mut Generated {
            left: 1 << 20,
            x: 1,
        },
        io::sink(),
    )
    .unwrap();
    let (idle, _) = rss();

    let sealer = Sealer::with_recipients(&viewers, &device, meta).unwrap();
    let start = std::time::Instant::now();
    seal(
        sealer,
        &mut Generated {
            left: mib << 20,
            x: 7,
        },
        io::sink(),
    )
    .unwrap();
    let secs = start.elapsed().as_secs_f64();
    let (_, peak) = rss();
    println!(
        "sealed {mib} MiB in {secs:.2} s: idle RSS {idle} KiB, peak RSS {peak} KiB, peak above idle {} KiB",
        peak.saturating_sub(idle)
    );
}
