//! The device SDK's offline spool against the real server behind a network
//! that fails ([`sealcam_e2e::network::Network`], a TCP proxy): an outage, a
//! camera restart, the drain after the server comes back with no
//! duplicates, a re-upload after a crash, an upload cut part-way, an
//! overloaded server's Retry-After, and a full spool. Each test prints a
//! `spool: ` line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::time::Duration;

use sealcam_device::{
    BackoffPolicy, Delivery, Device, DeviceConfig, DrainStep, EventRecord, LossReason, NewEvent,
    Notice, PartKind, PartOutcome, SpoolLimits,
};
use sealcam_e2e::media::bytes;
use sealcam_e2e::network::{Mode, Network};
use sealcam_e2e::{notices, spooled, Harness};

fn fast() -> DeviceConfig {
    DeviceConfig {
        backoff: BackoffPolicy {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
        },
        ..DeviceConfig::default()
    }
}

/// The network in front of the harness's server.
fn network(h: &Harness) -> Network {
    Network::start(h.server().unwrap().addr()).unwrap()
}

fn all_parts(
    device: &mut Device,
    thumb: &[u8],
    clip: &[u8],
    delivery: Delivery,
) -> sealcam_device::RecordReport {
    let record = EventRecord::new("motion");
    let mut clip = clip;
    device
        .record(
            NewEvent::now()
                .thumbnail(thumb)
                .clip(&mut clip)
                .record(&record)
                .delivery(delivery),
        )
        .unwrap()
}

#[test]
fn outage_restart_and_drain_deliver_every_part_once() {
    let h = Harness::start().unwrap();
    let net = network(&h);
    let mut owner = h.sim_owner_at("household", &net.url()).unwrap();
    let state = h.path("cam");
    let mut device = owner.pair_camera(&state, fast()).unwrap();
    let camera = device.camera_id().unwrap();
    let seen = notices(&mut device);

    // The network goes down; two events are recorded.
    net.set(Mode::Down);
    let thumb = bytes(1, 10_000);
    let clip = bytes(2, 700_000);
    let first = all_parts(&mut device, &thumb, &clip, Delivery::UploadNow);
    let second = all_parts(&mut device, &thumb, &clip, Delivery::UploadNow);
    for r in [&first, &second] {
        assert!(
            r.parts.iter().all(|p| p.outcome == PartOutcome::Spooled),
            "{r:?}"
        );
    }
    assert_eq!(device.spool().entries().len(), 6);
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .any(|n| matches!(n, Notice::Retrying { .. })));
    // Only sealed bytes are on disk: the plaintext clip appears nowhere.
    for item in fs::read_dir(state.join("spool")).unwrap() {
        let data = fs::read(item.unwrap().path()).unwrap();
        assert!(!data.windows(64).any(|w| w == &clip[1000..1064]));
        assert!(!data.windows(64).any(|w| w == &thumb[1000..1064]));
    }

    // The camera restarts while the network is still down.
    drop(device);
    let mut device = Device::open(&state, fast()).unwrap();
    let spooled = spooled(&device);
    assert_eq!(
        spooled,
        [first.event, second.event]
            .iter()
            .flat_map(|e| [
                (*e, PartKind::Thumbnail),
                (*e, PartKind::Clip),
                (*e, PartKind::Record)
            ])
            .collect::<Vec<_>>()
    );
    let step = device.drain_once().unwrap();
    assert!(matches!(step, DrainStep::Retry { .. }), "{step:?}");

    // The server comes back: everything goes out, oldest first, once.
    net.set(Mode::Up);
    let report = device.drain(Duration::from_secs(30)).unwrap();
    assert_eq!(report.delivered, 6);
    assert_eq!(report.already_stored, 0);
    assert_eq!(report.remaining, 0);
    assert!(device.spool().is_empty());
    let events = owner.events(camera).unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.parts.len() == 3));
    for r in [&first, &second] {
        let c = owner.open(camera, r.event, PartKind::Clip).unwrap();
        assert_eq!(c.body, clip);
        let t = owner.open(camera, r.event, PartKind::Thumbnail).unwrap();
        assert_eq!(t.body, thumb);
    }
    println!(
        "spool: outage and restart: 6 parts spooled, {} delivered once after the outage, {} events on the server",
        report.delivered,
        events.len()
    );
}

#[test]
fn a_reupload_after_a_crash_sends_the_same_bytes_and_creates_no_duplicate() {
    let h = Harness::start().unwrap();
    let mut owner = h.sim_owner("household").unwrap();
    let state = h.path("cam");
    let mut device = owner.pair_camera(&state, fast()).unwrap();
    let camera = device.camera_id().unwrap();
    let clip = bytes(3, 300_000);
    let report = all_parts(&mut device, b"thumb", &clip, Delivery::SpoolOnly);
    assert!(report
        .parts
        .iter()
        .all(|p| p.outcome == PartOutcome::Spooled));

    // Keep a copy of the spool as it was before the drain deleted its files:
    // a crash between the server's 201 and the delete leaves exactly this.
    let spool_dir = state.join("spool");
    let saved: Vec<_> = fs::read_dir(&spool_dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.clone(), fs::read(&p).unwrap())
        })
        .collect();
    let first = device.drain(Duration::from_secs(10)).unwrap();
    assert_eq!((first.delivered, first.already_stored), (3, 0));
    drop(device);
    for (p, data) in &saved {
        fs::write(p, data).unwrap();
    }

    let mut device = Device::open(&state, fast()).unwrap();
    assert_eq!(device.spool().entries().len(), 3);
    let again = device.drain(Duration::from_secs(10)).unwrap();
    assert_eq!(
        (again.delivered, again.already_stored, again.rejected),
        (3, 3, 0)
    );
    let events = owner.events(camera).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].parts.len(), 3);
    let c = owner.open(camera, report.event, PartKind::Clip).unwrap();
    assert_eq!(c.body, clip);
    println!(
        "spool: re-upload after a crash: {} parts re-sent, {} already stored, {} event on the server",
        again.delivered,
        again.already_stored,
        events.len()
    );
}

#[test]
fn an_upload_cut_part_way_finishes_into_the_spool() {
    let h = Harness::start().unwrap();
    let net = network(&h);
    let mut owner = h.sim_owner_at("household", &net.url()).unwrap();
    let state = h.path("cam");
    let mut device = owner.pair_camera(&state, fast()).unwrap();
    let camera = device.camera_id().unwrap();

    // Every connection breaks after 1 MiB from the camera: the 4 MiB clip's
    // upload fails in the middle of the body.
    net.cut_after(1024 * 1024);
    let clip = bytes(4, 4 * 1024 * 1024);
    let report = all_parts(&mut device, b"small thumbnail", &clip, Delivery::UploadNow);
    let outcomes: Vec<_> = report.parts.iter().map(|p| p.outcome).collect();
    assert_eq!(outcomes[0], PartOutcome::Uploaded { created: true });
    assert_eq!(outcomes[1], PartOutcome::Spooled);
    // The small record part goes up at once unless the camera is still
    // backing off after the cut (full jitter may leave no wait at all).
    assert!(
        matches!(
            outcomes[2],
            PartOutcome::Uploaded { created: true } | PartOutcome::Spooled
        ),
        "{outcomes:?}"
    );
    let spooled = outcomes
        .iter()
        .filter(|o| **o == PartOutcome::Spooled)
        .count();
    assert_eq!(report.parts[1].body_bytes, clip.len() as u64);

    net.set(Mode::Up);
    let drained = device.drain(Duration::from_secs(30)).unwrap();
    assert_eq!(drained.delivered, spooled as u64);
    let c = owner.open(camera, report.event, PartKind::Clip).unwrap();
    assert_eq!(c.body, clip);
    let events = owner.events(camera).unwrap();
    assert_eq!(events[0].parts.len(), 3);
    println!(
        "spool: upload cut after 1 MiB: the clip finished into the spool, {} parts delivered by the drain",
        drained.delivered
    );
}

#[test]
fn an_overloaded_server_is_retried_no_earlier_than_retry_after() {
    let h = Harness::start_with(|c| c.limits.max_concurrent_uploads = 0).unwrap();
    let (_owner, mut device, _) = h.household_camera().unwrap();
    let seen = notices(&mut device);
    let report = device.record(NewEvent::now().thumbnail(b"thumb")).unwrap();
    assert_eq!(report.parts[0].outcome, PartOutcome::Spooled);
    let retry = seen
        .lock()
        .unwrap()
        .iter()
        .find_map(|n| match n {
            Notice::Retrying { after, why } => Some((*after, why.clone())),
            _ => None,
        })
        .unwrap();
    assert!(retry.0 >= Duration::from_secs(2), "{retry:?}");
    assert!(retry.1.contains("503"), "{retry:?}");
    // The drain does not hammer the server before the time is up.
    let step = device.drain_once().unwrap();
    assert!(
        matches!(step, DrainStep::Wait { after } if after > Duration::from_secs(1)),
        "{step:?}"
    );
    println!(
        "spool: overloaded server: retry in {:.1?} ({}), the drain waits",
        retry.0, retry.1
    );
}

#[test]
fn a_full_spool_drops_clips_first_and_reports_the_loss() {
    let h = Harness::start().unwrap();
    let net = network(&h);
    let mut owner = h.sim_owner_at("household", &net.url()).unwrap();
    // The limit is on sealed bytes, padded (format v2): each event below is
    // a ~34 KB thumbnail, a ~211 KB clip and a ~3 KB record. Two events do
    // not fit; one event and a third event's thumbnail and record do.
    let config = DeviceConfig {
        spool: SpoolLimits {
            max_bytes: 400 * 1024,
            max_entries: 100,
        },
        ..fast()
    };
    let mut device = owner.pair_camera(&h.path("cam"), config).unwrap();
    let camera = device.camera_id().unwrap();
    let seen = notices(&mut device);
    net.set(Mode::Down);
    let clip = bytes(5, 200 * 1024);
    let a = all_parts(&mut device, &bytes(6, 20_000), &clip, Delivery::UploadNow);
    assert!(a.parts.iter().all(|p| p.outcome == PartOutcome::Spooled));
    // The second event's clip does not fit beside the first: the older clip goes.
    let b = all_parts(&mut device, &bytes(7, 20_000), &clip, Delivery::UploadNow);
    assert!(b.parts.iter().all(|p| p.outcome == PartOutcome::Spooled));
    // A clip larger than the whole spool is lost at once.
    let huge = bytes(8, 400 * 1024);
    let c = all_parts(&mut device, &bytes(9, 20_000), &huge, Delivery::UploadNow);
    assert_eq!(c.parts[1].outcome, PartOutcome::Lost(LossReason::TooLarge));
    let lost: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|n| match n {
            Notice::Lost(l) => Some((l.event, l.kind, l.reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        lost,
        vec![
            (a.event, PartKind::Clip, LossReason::Evicted),
            (c.event, PartKind::Clip, LossReason::TooLarge)
        ]
    );
    // Every thumbnail and record is still there, and goes out when the network returns.
    net.set(Mode::Up);
    let drained = device.drain(Duration::from_secs(30)).unwrap();
    assert_eq!(drained.delivered, 7);
    let events = owner.events(camera).unwrap();
    let parts: usize = events.iter().map(|e| e.parts.len()).sum();
    assert_eq!((events.len(), parts), (3, 7));
    println!(
        "spool: full spool: {} clips lost (evicted, too large) and reported, {} parts delivered",
        lost.len(),
        drained.delivered
    );
}
