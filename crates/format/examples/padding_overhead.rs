//! What the padded format (v2, and v3 as cameras write it: its inner header
//! names the followed owner key) costs against v1: stored bytes per part kind, header sizes,
//! and the time a camera spends wrapping a file key into 16 recipient slots.
//!
//! ```sh
//! cargo run --release -p sealcam-format --example padding_overhead -- [RECIPIENTS] [-v]
//! ```
//!
//! Every body is sealed through [`seal`] from `io::repeat` into a counting
//! sink (a 200 MiB clip costs no memory), and the counted payload is checked
//! against the layout of `docs/FORMAT.md` §5. Version 1 stored
//! `(113 + 98·r) + 16 + P + 16·⌈P/65536⌉` bytes with `P = H + B + 32·⌈(H+B)/65536⌉ + 72`;
//! version 2 pads `H + B` to the kind's bucket (§5a) and has `16·⌈r/16⌉` slots.
//!
//! Bodies: records 60–900 bytes of JSON, thumbnails 5 KiB–300 KiB and clips
//! 100 KiB–200 MiB, log-spaced. The worst case of a bucket (a body one byte
//! past a bucket edge) is printed on its own line: the spread may miss it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{self, Read, Write};
use std::time::Instant;

use sealcam_format::padding::padded_len;
use sealcam_format::{seal, Binding, FollowedKey, ObjectMeta, PartKind, Sealer};
use sealcam_keys::{CameraId, DeviceKey, EventId, OwnerId, ViewerIdentity, ViewerRecipient};

const CHUNK: u64 = 65_536;

/// A writer that only counts.
#[derive(Default)]
struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn content_type(kind: PartKind) -> &'static str {
    match kind {
        PartKind::Record => "application/json",
        PartKind::Thumbnail => "image/jpeg",
        _ => "video/mp4",
    }
}

fn meta(kind: PartKind) -> ObjectMeta {
    ObjectMeta {
        binding: Binding {
            owner: OwnerId::random(),
            camera: CameraId::random(),
            event: EventId::now_v7(),
            kind,
            sequence: 0,
        },
        captured_at_ms: 1_764_000_000_000,
        epoch: 1,
        followed: Some(FollowedKey {
            position: (1, 0),
            key: [7; 32],
        }),
        content_type: content_type(kind).into(),
    }
}

/// Inner header length `H = 129 + c` (format v3, what cameras write).
fn inner_len(kind: PartKind) -> u64 {
    129 + content_type(kind).len() as u64
}

/// Payload bytes for a signed region of `x` bytes: nonce, chunks with tags,
/// hash list and fixed trailer (§3, §5).
fn payload_len(x: u64) -> u64 {
    let p = x + 32 * x.div_ceil(CHUNK) + 72;
    16 + p + 16 * p.div_ceil(CHUNK)
}

/// The inner header of a v1 object (no followed owner key): `81 + c`.
fn v1_inner_len(kind: PartKind) -> u64 {
    81 + content_type(kind).len() as u64
}

fn v1_stored(kind: PartKind, body: u64, r: u64) -> u64 {
    (113 + 98 * r) + payload_len(v1_inner_len(kind) + body)
}

/// Seals `body` bytes (streamed) and returns (header bytes, payload bytes).
fn seal_v2(
    recipients: &[ViewerRecipient],
    device: &DeviceKey,
    kind: PartKind,
    body: u64,
) -> (u64, u64) {
    let sealer = Sealer::with_recipients(recipients, device, meta(kind)).unwrap();
    let (header, count) = seal(sealer, &mut io::repeat(0x5a).take(body), Count::default()).unwrap();
    let x = padded_len(kind, inner_len(kind) + body).unwrap();
    assert_eq!(
        count.0,
        payload_len(x),
        "{kind} body {body}: payload length"
    );
    (header.len() as u64, count.0)
}

/// `n` sizes from `lo` to `hi`, evenly spaced on a log scale.
fn log_spaced(lo: u64, hi: u64, n: usize) -> Vec<u64> {
    let (a, b) = ((lo as f64).ln(), (hi as f64).ln());
    (0..n)
        .map(|i| (a + (b - a) * i as f64 / (n - 1) as f64).exp().round() as u64)
        .collect()
}

/// Bodies one byte past each bucket edge of `kind` inside `lo..=hi`.
fn bucket_edges(kind: PartKind, lo: u64, hi: u64) -> Vec<u64> {
    let h = inner_len(kind);
    let mut out = Vec::new();
    let mut n = lo + h;
    while n <= hi + h {
        let x = padded_len(kind, n).unwrap();
        if x - h < hi && x + 1 - h >= lo {
            out.push(x + 1 - h);
        }
        n = x + 1;
    }
    out
}

fn human(b: f64) -> String {
    let a = b.abs();
    if a >= (1 << 20) as f64 {
        format!("{:.2} MiB", b / (1 << 20) as f64)
    } else if a >= 10_240.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}

struct Row {
    body: u64,
    v1: u64,
    v2: u64,
    v1_payload: u64,
    v2_payload: u64,
}

fn stats(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    (v[v.len() - 1], mean, median)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let r: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(3);
    let device = DeviceKey::generate();
    let viewers: Vec<ViewerRecipient> = (0..17)
        .map(|_| ViewerIdentity::generate().to_public())
        .collect();

    println!("== header bytes (v1: 113 + 98·r; v2: 16·⌈r/16⌉ slots + sealcam-bind)");
    for n in [1usize, 3, 16, 17] {
        let (h, _) = seal_v2(&viewers[..n], &device, PartKind::Record, 100);
        println!("r = {n:2}: v2 {h:5} B   v1 {:5} B", 113 + 98 * n);
    }

    println!("\n== stored bytes (header + payload), v2 against v1, r = {r} recipients");
    println!("   overhead = (v2 − v1) / v1; payload-only leaves the header out");
    let kinds = [
        (
            PartKind::Record,
            (60..=900).step_by(60).collect::<Vec<u64>>(),
            60,
            900,
        ),
        (
            PartKind::Thumbnail,
            log_spaced(5 << 10, 300 << 10, 25),
            5 << 10,
            300 << 10,
        ),
        (
            PartKind::Clip,
            log_spaced(100 << 10, 200 << 20, 25),
            100 << 10,
            200 << 20,
        ),
    ];
    for (kind, sizes, lo, hi) in kinds {
        let rows: Vec<Row> = sizes
            .iter()
            .map(|&body| {
                let (h, p) = seal_v2(&viewers[..r], &device, kind, body);
                Row {
                    body,
                    v1: v1_stored(kind, body, r as u64),
                    v2: h + p,
                    v1_payload: payload_len(v1_inner_len(kind) + body),
                    v2_payload: p,
                }
            })
            .collect();
        let (sum1, sum2) = rows.iter().fold((0, 0), |(a, b), x| (a + x.v1, b + x.v2));
        let (wp, mp, dp) = stats(
            &mut rows
                .iter()
                .map(|x| (x.v2 as f64 / x.v1 as f64 - 1.0) * 100.0)
                .collect::<Vec<_>>(),
        );
        let (wb, mb, db) = stats(
            &mut rows
                .iter()
                .map(|x| (x.v2 - x.v1) as f64)
                .collect::<Vec<_>>(),
        );
        let (wq, mq, dq) = stats(
            &mut rows
                .iter()
                .map(|x| (x.v2_payload as f64 / x.v1_payload as f64 - 1.0) * 100.0)
                .collect::<Vec<_>>(),
        );
        println!(
            "\n{kind}: {} bodies, {} – {}; stored in all v1 {}, v2 {}",
            rows.len(),
            human(lo as f64),
            human(hi as f64),
            human(sum1 as f64),
            human(sum2 as f64)
        );
        println!("  stored overhead   worst {wp:7.1} %  mean {mp:7.1} %  median {dp:7.1} %");
        println!(
            "  stored overhead   worst {:>9}  mean {:>9}  median {:>9}",
            human(wb),
            human(mb),
            human(db)
        );
        println!("  payload only      worst {wq:7.1} %  mean {mq:7.1} %  median {dq:7.1} %");
        let edges = bucket_edges(kind, lo, hi);
        if let Some((body, pct)) = edges
            .iter()
            .map(|&b| {
                let (h, p) = seal_v2(&viewers[..r], &device, kind, b);
                (
                    b,
                    ((h + p) as f64 / v1_stored(kind, b, r as u64) as f64 - 1.0) * 100.0,
                )
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
        {
            println!(
                "  worst at a bucket edge in range: body {} → stored overhead {pct:.1} % ({} edges tried)",
                human(body as f64),
                edges.len()
            );
        }
        if verbose {
            for x in &rows {
                println!(
                    "    body {:>10}  v1 {:>10}  v2 {:>10}  {:+6.1} %",
                    x.body,
                    x.v1,
                    x.v2,
                    (x.v2 as f64 / x.v1 as f64 - 1.0) * 100.0
                );
            }
        }
    }

    // What a camera pays per part for the slots: Sealer::with_recipients
    // (file key, wraps, unused slots, binding tag, header MAC), and a whole
    // seal of a thumbnail. Rounds are interleaved so that load from other
    // processes hits every measurement alike.
    println!("\n== µs per object: median and min of 15 interleaved rounds × 40 objects");
    let counts = [1usize, 3, 4, 16];
    let thumb = vec![0x5au8; 20 << 10];
    let mut setup: Vec<Vec<f64>> = vec![Vec::new(); counts.len()];
    let mut full: Vec<Vec<f64>> = vec![Vec::new(); counts.len()];
    let mut parts: Vec<Vec<f64>> = vec![Vec::new(); 2];
    let clip_meta = meta(PartKind::Clip);
    let thumb_meta = meta(PartKind::Thumbnail);
    let age_recipient = viewers[0].as_age();
    let per = |t: Instant| t.elapsed().as_secs_f64() * 1e6 / 40.0;
    for _ in 0..15 {
        for (i, &n) in counts.iter().enumerate() {
            let t = Instant::now();
            for _ in 0..40 {
                std::hint::black_box(
                    Sealer::with_recipients(&viewers[..n], &device, clip_meta.clone()).unwrap(),
                );
            }
            setup[i].push(per(t));
            let t = Instant::now();
            for _ in 0..40 {
                let s =
                    Sealer::with_recipients(&viewers[..n], &device, thumb_meta.clone()).unwrap();
                std::hint::black_box(
                    seal(s, &mut &thumb[..], Vec::with_capacity(40 << 10)).unwrap(),
                );
            }
            full[i].push(per(t));
        }
        // The parts: one age X25519 wrap (what a recipient costs, in v1 too)
        // and one fresh X25519 share (what an unused slot costs).
        let t = Instant::now();
        for _ in 0..40 {
            let fk = age_core::format::FileKey::new(Box::new([7u8; 16]));
            std::hint::black_box(age::Recipient::wrap_file_key(age_recipient, &fk).unwrap());
        }
        parts[0].push(per(t));
        let t = Instant::now();
        for _ in 0..40 {
            let s = x25519_dalek::EphemeralSecret::random_from_rng(rand::rngs::OsRng);
            std::hint::black_box(x25519_dalek::PublicKey::from(&s));
        }
        parts[1].push(per(t));
    }
    let med_min = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        (v[v.len() / 2], v[0])
    };
    println!("                           Sealer::with_recipients    seal of a 20 KiB thumbnail");
    for (i, &n) in counts.iter().enumerate() {
        let (a, amin) = med_min(&mut setup[i]);
        let (b, bmin) = med_min(&mut full[i]);
        println!(
            "r = {n:2} ({:2} unused slots):  {a:7.1} (min {amin:7.1})    {b:7.1} (min {bmin:7.1})",
            16 - n
        );
    }
    let (med, min) = med_min(&mut parts[0]);
    println!("one age X25519 wrap (a recipient; v1 paid only these): {med:6.1} µs (min {min:6.1})");
    let (med, min) = med_min(&mut parts[1]);
    println!("one fresh X25519 share (an unused slot): {med:6.1} µs (min {min:6.1})");
}
