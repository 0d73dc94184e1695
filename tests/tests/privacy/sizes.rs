//! S9, measured from the operator's chair: a camera records 300 events of 6
//! kinds through the real server, then the test reads the server's database
//! (small parts are kept there) and blob store as an operator would and asks what the stored sizes say
//! about each event's type.
//!
//! For each part kind it prints the number of distinct stored sizes and the
//! accuracy of the best classifier of event type from those sizes: on this
//! data, the one that maps each stored size (or tuple of sizes) to the type
//! seen most often with it — no classifier of sizes does better on the same
//! events. Chance is the most common type's share.
//!
//! Targets (issue 12): one size for records; thumbnail and clip sizes only
//! on the documented bucket boundaries (docs/FORMAT.md §5a); type from
//! records no better than chance.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sealcam_device::{Device, DeviceConfig, EventRecord, NewEvent};
use sealcam_e2e::household::{Household, PHONE};
use sealcam_e2e::media;
use sealcam_format::padding::padded_len;
use sealcam_format::stream::Geometry;
use sealcam_format::trailer::signed_len;
use sealcam_format::PartKind;
use uuid::Uuid;

/// The six kinds, each with the label sets, durations (s) and thumbnail
/// sizes (bytes) its events draw from: deliberately different, as a real
/// camera's are (a person at night, a car in daylight…).
struct Kind {
    name: &'static str,
    labels: &'static [&'static [&'static str]],
    seconds: (u64, u64),
    thumbnail: (usize, usize),
}

const KINDS: [Kind; 6] = [
    Kind {
        name: "motion",
        labels: &[&[], &["tree"], &["shadow"]],
        seconds: (3, 12),
        thumbnail: (9_000, 20_000),
    },
    Kind {
        name: "person",
        labels: &[&["person"], &["person", "face"], &["person", "person"]],
        seconds: (8, 40),
        thumbnail: (18_000, 45_000),
    },
    Kind {
        name: "vehicle",
        labels: &[
            &["car"],
            &["car", "truck"],
            &["bicycle"],
            &["car", "license_plate"],
        ],
        seconds: (4, 20),
        thumbnail: (25_000, 70_000),
    },
    Kind {
        name: "doorbell",
        labels: &[&["person", "doorbell"], &["doorbell"]],
        seconds: (20, 60),
        thumbnail: (15_000, 35_000),
    },
    Kind {
        name: "sound",
        labels: &[&["glass_break"], &["dog_bark"], &["alarm"], &["speech"]],
        seconds: (2, 6),
        thumbnail: (6_000, 12_000),
    },
    Kind {
        name: "package",
        labels: &[&["package"], &["package", "person"]],
        seconds: (10, 30),
        thumbnail: (20_000, 50_000),
    },
];

/// Clip bytes per second of event (a low-bitrate stream, to keep the test small).
const CLIP_BYTES_PER_SECOND: u64 = 6_000;
const EVENTS: usize = 300;

/// A deterministic spread in `[lo, hi]`.
fn pick(seed: u64, lo: u64, hi: u64) -> u64 {
    let x = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    lo + (x >> 33) % (hi - lo + 1)
}

fn kind_of(part: &str) -> PartKind {
    part.parse().unwrap()
}

/// The signed-region length of a stored payload, from its length alone.
fn signed_region(payload_len: u64) -> u64 {
    let g = Geometry::new(payload_len).unwrap();
    signed_len(g.plaintext_len()).unwrap()
}

/// The accuracy of the best classifier of `types` from `features`, and chance.
fn best_accuracy<F: Ord + Clone>(rows: &[(F, &'static str)]) -> (f64, f64) {
    let mut by_feature: BTreeMap<F, BTreeMap<&str, usize>> = BTreeMap::new();
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for (f, t) in rows {
        *by_feature
            .entry(f.clone())
            .or_default()
            .entry(t)
            .or_default() += 1;
        *by_type.entry(t).or_default() += 1;
    }
    let right: usize = by_feature
        .values()
        .map(|counts| counts.values().max().copied().unwrap_or(0))
        .sum();
    let chance = by_type.values().max().copied().unwrap_or(0);
    let n = rows.len() as f64;
    (right as f64 / n, chance as f64 / n)
}

/// Every blob file's size under the server's data directory, by its key
/// (`blobs/xx/…`, the last three components of its path).
fn blob_sizes(dir: &Path, out: &mut BTreeMap<String, u64>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            blob_sizes(&path, out);
            continue;
        }
        let parts: Vec<String> = path
            .iter()
            .rev()
            .take(3)
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        if parts.len() == 3 && parts[2] == "blobs" {
            let key = format!("blobs/{}/{}", parts[1], parts[0]);
            out.insert(key, path.metadata().unwrap().len());
        }
    }
}

#[test]
fn stored_sizes_do_not_tell_event_types() {
    let h = Household::start().unwrap();
    let cam = h.pair_camera(PHONE, "porch").unwrap();
    let mut device = Device::open(&cam.state, DeviceConfig::default()).unwrap();
    device.sync().unwrap();

    let mut truth: BTreeMap<Uuid, &'static str> = BTreeMap::new();
    for i in 0..EVENTS {
        let seed = i as u64 + 1;
        let kind = &KINDS[i % KINDS.len()];
        let seconds = pick(seed, kind.seconds.0, kind.seconds.1);
        let mut record = EventRecord::new(kind.name);
        record.labels = kind.labels[(seed as usize / 7) % kind.labels.len()]
            .iter()
            .map(|l| (*l).to_owned())
            .collect();
        record.duration_ms = Some(seconds * 1000 + pick(seed + 99, 0, 999));
        let thumb_len = pick(seed + 7, kind.thumbnail.0 as u64, kind.thumbnail.1 as u64);
        let thumbnail = media::thumbnail(seed, thumb_len as usize);
        let clip = media::bytes(seed, (seconds * CLIP_BYTES_PER_SECOND) as usize);
        let mut clip_reader = &clip[..];
        let event = NewEvent::now()
            .thumbnail(&thumbnail)
            .clip(&mut clip_reader)
            .record(&record);
        let report = device.record(event).unwrap();
        truth.insert(*report.event.as_uuid(), kind.name);
    }

    // The operator's view: the parts table and the blob files.
    let db = rusqlite::Connection::open(h.database()).unwrap();
    let mut stmt = db
        .prepare(
            "SELECT event_id, kind, header_key, header_size, payload_key, payload_size, \
             payload_offset, length(b.bytes) FROM parts \
             LEFT JOIN part_bytes b ON b.key = parts.payload_key",
        )
        .unwrap();
    #[allow(clippy::type_complexity)]
    let rows: Vec<(String, String, String, u64, String, u64, u64, Option<u64>)> = stmt
        .query_map([], |r| {
            let size = |i| r.get::<_, i64>(i).map(|n| n as u64);
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                size(3)?,
                r.get(4)?,
                size(5)?,
                size(6)?,
                r.get::<_, Option<i64>>(7)?.map(|n| n as u64),
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut blobs = BTreeMap::new();
    blob_sizes(&h.data, &mut blobs);
    assert_eq!(rows.len(), 3 * EVENTS, "every event stored three parts");

    let mut sizes: BTreeMap<&str, Vec<(u64, &'static str)>> = BTreeMap::new();
    let mut headers: BTreeSet<u64> = BTreeSet::new();
    let mut per_event: BTreeMap<Uuid, BTreeMap<String, u64>> = BTreeMap::new();
    let mut in_database = 0;
    for (event, kind, header_key, header_size, payload_key, payload_size, offset, held) in &rows {
        // The stores say the same as the parts table: each part is header ‖
        // payload, in one blob, or in the database when it is small.
        assert_eq!(header_key, payload_key);
        assert_eq!(offset, header_size);
        let stored = match held {
            Some(len) => {
                in_database += 1;
                assert!(!blobs.contains_key(payload_key));
                *len
            }
            None => blobs[payload_key],
        };
        assert_eq!(stored, header_size + payload_size);
        let event: Uuid = event.parse().unwrap();
        let ty = truth[&event];
        sizes
            .entry(kind.as_str())
            .or_default()
            .push((*payload_size, ty));
        headers.insert(*header_size);
        per_event
            .entry(event)
            .or_default()
            .insert(kind.clone(), *payload_size);
        // Every stored payload sits on a bucket boundary of its kind.
        let x = signed_region(*payload_size);
        assert_eq!(
            padded_len(kind_of(kind), x),
            Some(x),
            "{kind} payload of {payload_size} bytes is not on a documented bucket"
        );
    }

    let mut record_accuracy = 1.0;
    for (kind, list) in &sizes {
        let distinct: BTreeSet<u64> = list.iter().map(|(s, _)| *s).collect();
        let (acc, chance) = best_accuracy(list);
        println!(
            "privacy: {kind}: {} distinct stored payload sizes over {} parts ({} … {} bytes); best type-from-size accuracy {:.1}% (chance {:.1}%)",
            distinct.len(),
            list.len(),
            distinct.first().unwrap(),
            distinct.last().unwrap(),
            acc * 100.0,
            chance * 100.0
        );
        if *kind == "record" {
            assert_eq!(distinct.len(), 1, "records have one size");
            record_accuracy = acc;
            assert!(
                acc <= chance + 1e-9,
                "records tell the type: {acc} > {chance}"
            );
        }
    }
    let all: Vec<(Vec<u64>, &'static str)> = per_event
        .iter()
        .map(|(e, parts)| (parts.values().copied().collect(), truth[e]))
        .collect();
    let (acc, chance) = best_accuracy(&all);
    println!(
        "privacy: {} distinct header sizes over {} parts; all three sizes together: best accuracy {:.1}% (chance {:.1}%); records alone {:.1}%",
        headers.len(),
        rows.len(),
        acc * 100.0,
        chance * 100.0,
        record_accuracy * 100.0
    );
    assert_eq!(
        headers.len(),
        1,
        "every header has the same size: {headers:?}"
    );
    println!(
        "privacy: {in_database} of {} parts kept in the database, {} as blob files; \
         the same sizes either way",
        rows.len(),
        blobs.len()
    );
}
