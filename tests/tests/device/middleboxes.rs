//! Answers that are not the sealcam API's: what sits between a camera and
//! its server and answers for it. A hotel or café network's captive portal
//! answers every request `200` with its sign-in page; a reverse proxy whose
//! body limit is smaller than a clip answers `413` with an HTML page. Neither
//! is the server refusing a part, and the camera used to drop every part so
//! answered (a `Lost` notice: the portal's 200 was "not the JSON the API
//! promises", the proxy's 413 a refusal for good). It now keeps them spooled,
//! backs off, lets the parts behind them go first, and delivers them all
//! once the network lets it through. A firewall's `403` page is one more such
//! answer: only the server's own `401` and `403`, with its error body, stop
//! the camera.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use sealcam_device::{EventRecord, NewEvent, Notice, PartKind, PartOutcome};
use sealcam_e2e::media::bytes;
use sealcam_e2e::proxy::{FnHook, Reply};
use sealcam_e2e::{fast_device_config, notices, Harness};

const PORTAL_PAGE: &str = "<html><body>Sign in to Guest Wi-Fi</body></html>";
const PROXY_PAGE: &str = "<html><head><title>413 Request Entity Too Large</title></head></html>";
const FIREWALL_PAGE: &str =
    "<html><body>Access denied by the network's upload policy</body></html>";

fn is_upload(path: &str) -> bool {
    path.starts_with("/v1/events/") && path.contains("/parts/")
}

#[test]
fn a_captive_portal_and_a_proxys_body_limit_lose_no_part() {
    let h = Harness::start().unwrap();
    let mut owner = h.sim_owner_at("household", &h.url()).unwrap();
    let mut device = owner
        .pair_camera(&h.path("cam"), fast_device_config())
        .unwrap();
    let camera = device.camera_id().unwrap();
    let seen = notices(&mut device);
    let thumb = bytes(1, 10_000);
    let clip = bytes(2, 300_000);
    let record = EventRecord::new("motion");
    let mut record_one = || {
        let mut c = clip.as_slice();
        device_record(&mut device, &thumb, &mut c, &record)
    };

    // The captive portal answers every upload 200 with its page.
    h.proxy.set_hook(Arc::new(FnHook::answering(|req| {
        is_upload(&req.path).then(|| Reply::new(200, PORTAL_PAGE))
    })));
    let behind_portal = record_one();
    // The proxy in front of the server refuses bodies as large as a clip.
    h.proxy.set_hook(Arc::new(FnHook::answering(|req| {
        (is_upload(&req.path) && req.path.ends_with("/clip")).then(|| Reply::new(413, PROXY_PAGE))
    })));
    let behind_proxy = record_one();
    let report = device.drain(Duration::from_secs(3)).unwrap();
    let lost: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|n| matches!(n, Notice::Lost(_)))
        .cloned()
        .collect();
    assert!(lost.is_empty(), "parts dropped: {lost:?}");
    let why: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|n| match n {
            Notice::Retrying { why, .. } => Some(why.clone()),
            _ => None,
        })
        .collect();
    assert!(why.iter().any(|w| w.starts_with("HTTP 200")), "{why:?}");
    assert!(why.iter().any(|w| w.starts_with("HTTP 413")), "{why:?}");
    // Behind the proxy, what fits went through while the clips waited.
    let spooled: Vec<_> = device
        .spool()
        .entries()
        .iter()
        .map(|e| (e.event, e.kind))
        .collect();
    assert_eq!(
        spooled,
        [
            (behind_portal.event, PartKind::Clip),
            (behind_proxy.event, PartKind::Clip)
        ],
        "{report:?}"
    );
    println!(
        "middleboxes: a captive portal (200 with its page) and a proxy's body limit (413 with its page) answered {} upload attempts; no part was dropped; the thumbnails and records went through past the proxy, {} clips waited in the spool",
        why.len(),
        spooled.len()
    );

    // The network lets everything through again: every part is delivered.
    h.proxy.clear_hook();
    let drained = device.drain(Duration::from_secs(30)).unwrap();
    assert_eq!(drained.remaining, 0, "{drained:?}");
    for r in [&behind_portal, &behind_proxy] {
        assert_eq!(
            owner.open(camera, r.event, PartKind::Clip).unwrap().body,
            clip
        );
        assert_eq!(
            owner
                .open(camera, r.event, PartKind::Thumbnail)
                .unwrap()
                .body,
            thumb
        );
    }
    assert_eq!(owner.events(camera).unwrap().len(), 2);
    println!(
        "middleboxes: past them, the drain delivered the {} waiting clips; the owner opened all 6 parts of the 2 events",
        drained.delivered
    );
}

#[test]
fn a_firewalls_403_page_holds_back_only_what_it_refuses() {
    // A firewall between the camera and its server refuses large uploads
    // with a 403 page of its own. The server's own 401 and 403 carry its
    // error body and stop the drain (the camera is not, or no longer,
    // allowed); this one says nothing about the camera, so only the clips
    // wait, and the thumbnails and records behind them go on.
    let h = Harness::start().unwrap();
    let mut owner = h.sim_owner_at("household", &h.url()).unwrap();
    let mut device = owner
        .pair_camera(&h.path("cam"), fast_device_config())
        .unwrap();
    let camera = device.camera_id().unwrap();
    let seen = notices(&mut device);
    let thumb = bytes(3, 10_000);
    let clip = bytes(4, 300_000);
    let record = EventRecord::new("person");
    h.proxy.set_hook(Arc::new(FnHook::answering(|req| {
        (is_upload(&req.path) && req.path.ends_with("/clip"))
            .then(|| Reply::new(403, FIREWALL_PAGE))
    })));
    let events: Vec<_> = (0..2)
        .map(|_| {
            let mut c = clip.as_slice();
            device_record(&mut device, &thumb, &mut c, &record)
        })
        .collect();
    let report = device.drain(Duration::from_secs(3)).unwrap();
    let spooled: Vec<_> = device
        .spool()
        .entries()
        .iter()
        .map(|e| (e.event, e.kind))
        .collect();
    let blocked = seen
        .lock()
        .unwrap()
        .iter()
        .any(|n| matches!(n, Notice::Blocked { .. }));
    println!(
        "middleboxes: a firewall answered the clip uploads 403 with its page; the camera called itself blocked: {blocked}; waiting in the spool: {spooled:?}"
    );
    assert!(
        !blocked,
        "a 403 without the API's error body blocked the camera"
    );
    assert_eq!(
        spooled,
        [
            (events[0].event, PartKind::Clip),
            (events[1].event, PartKind::Clip)
        ],
        "{report:?}"
    );
    for e in &events {
        assert_eq!(
            owner
                .open(camera, e.event, PartKind::Thumbnail)
                .unwrap()
                .body,
            thumb
        );
    }

    h.proxy.clear_hook();
    let drained = device.drain(Duration::from_secs(30)).unwrap();
    assert_eq!(drained.remaining, 0, "{drained:?}");
    for e in &events {
        assert_eq!(
            owner.open(camera, e.event, PartKind::Clip).unwrap().body,
            clip
        );
    }
    println!("middleboxes: past the firewall, both clips were delivered");

    // The server's own 401 (its error body) still stops the camera.
    h.proxy.set_hook(Arc::new(FnHook::answering(|req| {
        is_upload(&req.path).then(|| {
            Reply::new(
                401,
                r#"{"error":{"code":"unauthorized","message":"unknown credential"}}"#,
            )
        })
    })));
    let mut c = clip.as_slice();
    device_record(&mut device, &thumb, &mut c, &record);
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .any(|n| matches!(n, Notice::Blocked { status: 401, .. })));
    println!("middleboxes: the server's own 401, with its error body, still blocks the camera");
}

fn device_record(
    device: &mut sealcam_device::Device,
    thumb: &[u8],
    clip: &mut &[u8],
    record: &EventRecord,
) -> sealcam_device::RecordReport {
    let report = device
        .record(NewEvent::now().thumbnail(thumb).clip(clip).record(record))
        .unwrap();
    assert!(
        report
            .parts
            .iter()
            .all(|p| !matches!(p.outcome, PartOutcome::Lost(_))),
        "{report:?}"
    );
    report
}
