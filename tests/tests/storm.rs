//! Scenario 2, the reconnect storm: the server goes down while 2,000 cameras
//! keep recording into their spools (the device SDK's), comes back, and every
//! camera reconnects at once. The server is configured with a small upload
//! limit so that it really is overloaded. Every event must arrive exactly
//! once and open only for its owner; overload must be answered `503` with
//! `Retry-After` — never another 5xx, never a crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use sealcam_device::{Device, DrainStep, EventRecord, NewEvent, PartOutcome, SyncOutcome};
use sealcam_e2e::proxy::Stats;
use sealcam_e2e::{fast_device_config, media, not_addressed, Harness, SimOwner};
use sealcam_keys::{CameraId, EventId};
use sealcam_wire::PartKind;
use tokio::runtime::Handle;

const CAMERAS: usize = 2000;
const CAMERAS_PER_OWNER: usize = 25;
/// Cameras reconnecting concurrently (threads, each driving its share of the fleet).
const RECONNECTING_THREADS: usize = 48;
/// Uploads the server processes at once; the rest are told to come back later.
const SERVER_UPLOAD_LIMIT: u32 = 4;
const DRAIN_BOUND: Duration = Duration::from_secs(150);

/// A camera of the fleet and the event it records during the outage.
struct Camera {
    owner: usize,
    device: Option<Device>,
    camera: CameraId,
    event: Option<EventId>,
    thumbnail: Vec<u8>,
}

/// Owners (the kit's SimOwner: lighter than a full app) pair their cameras
/// through the real flow, several households at a time.
fn pair_fleet(h: &Harness) -> (Vec<SimOwner>, Vec<Camera>) {
    let owners_n = CAMERAS.div_ceil(CAMERAS_PER_OWNER);
    let tokens: Vec<String> = (0..owners_n)
        .map(|o| h.enrollment_token(&format!("storm-{o}")).unwrap())
        .collect();
    let (rt, url, base) = (h.rt.handle(), h.url(), h.path("storm"));
    let paired: Vec<(SimOwner, Vec<Camera>)> = std::thread::scope(|s| {
        let chunks: Vec<_> = tokens
            .iter()
            .enumerate()
            .collect::<Vec<_>>()
            .chunks(owners_n.div_ceil(4))
            .map(|c| c.to_vec())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let (url, base) = (&url, &base);
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|(o, token)| pair_household(rt, url, base, o, token))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    let (owners, fleets): (Vec<SimOwner>, Vec<Vec<Camera>>) = paired.into_iter().unzip();
    (owners, fleets.into_iter().flatten().collect())
}

/// Owner `o` enrolls with `token` and pairs its cameras (state under `base`).
fn pair_household(
    rt: &Handle,
    url: &str,
    base: &Path,
    o: usize,
    token: &str,
) -> (SimOwner, Vec<Camera>) {
    let mut owner = SimOwner::enroll(rt, url, token).unwrap();
    let mut cams = Vec::new();
    for c in 0..CAMERAS_PER_OWNER.min(CAMERAS - o * CAMERAS_PER_OWNER) {
        let code = owner.pairing_code().unwrap();
        let dir = base.join(format!("o{o}-c{c}"));
        let mut device = Device::open(&dir, fast_device_config()).unwrap();
        device.pair(&code).unwrap();
        cams.push(device);
    }
    let confirmed = owner.confirm_pending().unwrap();
    assert_eq!(confirmed.len(), cams.len());
    let cams = cams
        .into_iter()
        .enumerate()
        .map(|(c, mut device)| {
            assert!(matches!(
                device.sync().unwrap(),
                SyncOutcome::Updated { .. }
            ));
            Camera {
                owner: o,
                camera: device.camera_id().unwrap(),
                device: Some(device),
                event: None,
                thumbnail: media::thumbnail((o * 1000 + c) as u64, 900),
            }
        })
        .collect();
    (owner, cams)
}

/// What the fleet's drain did.
#[derive(Default)]
struct Drained {
    delivered_new: AtomicU64,
    already_stored: AtomicU64,
    retried: AtomicU64,
    rejected: Mutex<Vec<String>>,
}

/// The whole fleet reconnects at once: `RECONNECTING_THREADS` threads, each
/// driving its share of the cameras, start together at a barrier.
fn reconnect_at_once(cameras: &mut [Camera], drained: &Drained) {
    let deadline = Instant::now() + DRAIN_BOUND;
    let barrier = Barrier::new(RECONNECTING_THREADS);
    let mut shares: Vec<Vec<&mut Camera>> = (0..RECONNECTING_THREADS).map(|_| Vec::new()).collect();
    for (i, cam) in cameras.iter_mut().enumerate() {
        shares[i % RECONNECTING_THREADS].push(cam);
    }
    std::thread::scope(|s| {
        for share in shares {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                drain_share(share, drained, deadline);
            });
        }
    });
}

/// Drains a share of the fleet until every spool is empty, each camera
/// backing off as its device SDK says.
fn drain_share(mut share: Vec<&mut Camera>, drained: &Drained, deadline: Instant) {
    let mut due: Vec<Instant> = vec![Instant::now(); share.len()];
    loop {
        let mut pending = false;
        for (i, cam) in share.iter_mut().enumerate() {
            let Some(device) = cam.device.as_mut() else {
                continue;
            };
            pending = true;
            if Instant::now() < due[i] {
                continue;
            }
            // Deliver what this camera holds until it must wait.
            loop {
                match device.drain_once().unwrap() {
                    DrainStep::Empty => {
                        cam.device = None; // closes its connections
                        break;
                    }
                    DrainStep::Delivered { created, .. } => {
                        let c = if created {
                            &drained.delivered_new
                        } else {
                            &drained.already_stored
                        };
                        c.fetch_add(1, Ordering::SeqCst);
                    }
                    DrainStep::Rejected { entry, status } => {
                        drained
                            .rejected
                            .lock()
                            .unwrap()
                            .push(format!("{entry:?}: {status}"));
                    }
                    DrainStep::Retry { after, .. } => {
                        drained.retried.fetch_add(1, Ordering::SeqCst);
                        due[i] = Instant::now() + after;
                        break;
                    }
                    DrainStep::Wait { after } | DrainStep::Blocked { after, .. } => {
                        due[i] = Instant::now() + after;
                        break;
                    }
                    other => panic!("unexpected drain step {other:?}"),
                }
            }
        }
        if !pending {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the spools did not drain within {DRAIN_BOUND:?}"
        );
        // Every camera of this share is backing off: wait for the first.
        let next = share
            .iter()
            .zip(&due)
            .filter(|(c, _)| c.device.is_some())
            .map(|(_, d)| *d)
            .min();
        if let Some(next) = next {
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    }
}

#[test]
fn two_thousand_cameras_reconnect_at_once() {
    let mut h = Harness::start_with(|c| {
        c.limits.max_concurrent_uploads = SERVER_UPLOAD_LIMIT;
        c.limits.overload_retry_after_secs = 1;
    })
    .unwrap();
    let phase = Instant::now();
    let (owners, mut cameras) = pair_fleet(&h);
    let paired_in = phase.elapsed();
    assert_eq!(cameras.len(), CAMERAS);

    // The outage: every camera records one event while the server is down.
    h.stop_server().unwrap();
    let phase = Instant::now();
    let record = EventRecord::new("motion");
    for cam in &mut cameras {
        let device = cam.device.as_mut().unwrap();
        let report = device
            .record(NewEvent::now().thumbnail(&cam.thumbnail).record(&record))
            .unwrap();
        assert!(
            report
                .parts
                .iter()
                .all(|p| p.outcome == PartOutcome::Spooled),
            "{report:?}"
        );
        cam.event = Some(report.event);
    }
    let recorded_in = phase.elapsed();
    let sent = cameras.len() as u64;
    let spooled_parts: usize = cameras
        .iter()
        .map(|c| c.device.as_ref().unwrap().spool().entries().len())
        .sum();
    assert_eq!(spooled_parts, CAMERAS * 2);

    // The server comes back and the whole fleet reconnects at once.
    h.start_server().unwrap();
    let drained = Drained::default();
    let started = Instant::now();
    reconnect_at_once(&mut cameras, &drained);
    let drained_in = started.elapsed();
    // Exactly once, and only for its owner.
    let phase = Instant::now();
    let mut by_camera: HashMap<CameraId, usize> = HashMap::new();
    let mut duplicates = 0u64;
    let mut delivered_once = 0u64;
    let mut opened = 0u64;
    for cam in &cameras {
        *by_camera.entry(cam.camera).or_default() += 1;
        let owner = &owners[cam.owner];
        let listed = owner.events(cam.camera).unwrap();
        let event = cam.event.unwrap();
        let mine: Vec<_> = listed
            .iter()
            .filter(|e| e.event_id == *event.as_uuid())
            .collect();
        duplicates += (listed.len() as u64).saturating_sub(1);
        if mine.len() == 1 && mine[0].parts.len() == 2 {
            delivered_once += 1;
        }
        // The thumbnail opens for its owner, with the key pinned at pairing…
        let kind = PartKind::Thumbnail;
        let (header, payload) = owner.fetch(event, kind).unwrap();
        let open_as =
            |viewer| owner.open_fetched(viewer, cam.camera, event, kind, &header, &payload);
        let plain = open_as(owner.viewer()).unwrap();
        assert_eq!(plain.body, cam.thumbnail);
        opened += 1;
        // …and for nobody else.
        let stranger = &owners[(cam.owner + 1) % owners.len()];
        let err = open_as(stranger.viewer()).unwrap_err();
        assert!(not_addressed(&err), "{err:?}");
    }
    assert_eq!(by_camera.len(), CAMERAS);
    let checked_in = phase.elapsed();

    let stats = h.proxy.stats();
    let r503 = Stats::get(&stats.status_503_with_retry_after);
    let bare503 = Stats::get(&stats.status_503_without_retry_after);
    let other5xx = Stats::get(&stats.other_5xx);
    let rt = &h.rt;
    sealcam_client::tls::install_crypto_provider();
    let health = rt
        .block_on(async { reqwest::get(format!("{}/healthz", h.server_url().unwrap())).await })
        .unwrap()
        .status();
    println!(
        "storm: {CAMERAS} cameras, {sent} events sent, {delivered_once} delivered once, {duplicates} duplicates, \
         {r503} retried after 503, {other5xx} 5xx other than 503, drained in {:.1} s",
        drained_in.as_secs_f64()
    );
    println!(
        "storm: {} parts stored, {} re-sent parts the server already had, {} transient failures retried, {opened} thumbnails opened by their owner only, server health {health}",
        drained.delivered_new.load(Ordering::SeqCst),
        drained.already_stored.load(Ordering::SeqCst),
        drained.retried.load(Ordering::SeqCst),
    );
    println!(
        "storm: phases: paired in {:.1} s, recorded offline in {:.1} s, drained in {:.1} s, checked in {:.1} s",
        paired_in.as_secs_f64(),
        recorded_in.as_secs_f64(),
        drained_in.as_secs_f64(),
        checked_in.as_secs_f64(),
    );
    let rejected = drained.rejected.into_inner().unwrap();
    assert!(rejected.is_empty(), "parts refused for good: {rejected:?}");
    assert_eq!(delivered_once, sent);
    assert_eq!(duplicates, 0);
    assert_eq!(drained.delivered_new.load(Ordering::SeqCst), sent * 2);
    assert_eq!(other5xx, 0, "the server answered 5xx other than 503");
    assert_eq!(bare503, 0, "a 503 without Retry-After");
    assert!(
        r503 > 0,
        "the server was never overloaded: raise the fleet or lower the limit"
    );
    assert!(health.is_success());
}
