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

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sealcam_device::{
    Device, DrainReport, EventRecord, NewEvent, Notice, PartKind, PartOutcome, RecordReport,
};
use sealcam_e2e::media::bytes;
use sealcam_e2e::proxy::{FnHook, Reply};
use sealcam_e2e::{fast_device_config, notices, spooled, Harness, SimOwner};
use sealcam_keys::CameraId;

const PORTAL_PAGE: &str = "<html><body>Sign in to Guest Wi-Fi</body></html>";
const PROXY_PAGE: &str = "<html><head><title>413 Request Entity Too Large</title></head></html>";
const FIREWALL_PAGE: &str =
    "<html><body>Access denied by the network's upload policy</body></html>";

fn is_upload(path: &str) -> bool {
    path.starts_with("/v1/events/") && path.contains("/parts/")
}

/// A camera behind the test proxy, recording events of a thumbnail, a
/// 300 KB clip and a record.
struct Behind {
    h: Harness,
    owner: SimOwner,
    device: Device,
    camera: CameraId,
    seen: Arc<Mutex<Vec<Notice>>>,
    thumb: Vec<u8>,
    clip: Vec<u8>,
    record: EventRecord,
}

impl Behind {
    fn start(seed: u64, label: &str) -> Self {
        let h = Harness::start().unwrap();
        let mut owner = h.sim_owner_at("household", &h.url()).unwrap();
        let mut device = owner
            .pair_camera(&h.path("cam"), fast_device_config())
            .unwrap();
        let camera = device.camera_id().unwrap();
        let seen = notices(&mut device);
        Self {
            h,
            owner,
            device,
            camera,
            seen,
            thumb: bytes(seed, 10_000),
            clip: bytes(seed + 1, 300_000),
            record: EventRecord::new(label),
        }
    }

    /// Has the proxy answer each upload whose path `answer` picks, in
    /// place of the server.
    fn answer_uploads(&self, answer: fn(&str) -> Option<Reply>) {
        self.h
            .proxy
            .set_hook(Arc::new(FnHook::answering(move |req| {
                if is_upload(&req.path) {
                    answer(&req.path)
                } else {
                    None
                }
            })));
    }

    /// Records one event; none of its parts may be lost.
    fn record_one(&mut self) -> RecordReport {
        let mut clip = self.clip.as_slice();
        let report = self
            .device
            .record(
                NewEvent::now()
                    .thumbnail(&self.thumb)
                    .clip(&mut clip)
                    .record(&self.record),
            )
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

    /// Whether a notice `matches` was reported.
    fn noticed(&self, matches: impl Fn(&Notice) -> bool) -> bool {
        self.seen.lock().unwrap().iter().any(matches)
    }

    /// Lets everything through again and drains: every part is delivered.
    fn deliver_all(&mut self) -> DrainReport {
        self.h.proxy.clear_hook();
        let drained = self.device.drain(Duration::from_secs(30)).unwrap();
        assert_eq!(drained.remaining, 0, "{drained:?}");
        drained
    }

    /// The owner opens `kind` of `report`'s event, and it is what was recorded.
    fn owner_opens(&self, report: &RecordReport, kind: PartKind) {
        let body = self
            .owner
            .open(self.camera, report.event, kind)
            .unwrap()
            .body;
        let recorded = match kind {
            PartKind::Clip => &self.clip,
            _ => &self.thumb,
        };
        assert_eq!(&body, recorded, "{kind:?} of {:?}", report.event);
    }
}

#[test]
fn a_captive_portal_and_a_proxys_body_limit_lose_no_part() {
    let mut t = Behind::start(1, "motion");
    // The captive portal answers every upload 200 with its page.
    t.answer_uploads(|_| Some(Reply::new(200, PORTAL_PAGE)));
    let behind_portal = t.record_one();
    // The proxy in front of the server refuses bodies as large as a clip.
    t.answer_uploads(|path| path.ends_with("/clip").then(|| Reply::new(413, PROXY_PAGE)));
    let behind_proxy = t.record_one();
    let report = t.device.drain(Duration::from_secs(3)).unwrap();
    let lost: Vec<_> = t
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|n| matches!(n, Notice::Lost(_)))
        .cloned()
        .collect();
    assert!(lost.is_empty(), "parts dropped: {lost:?}");
    let why: Vec<String> = t
        .seen
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
    let waiting = spooled(&t.device);
    assert_eq!(
        waiting,
        [
            (behind_portal.event, PartKind::Clip),
            (behind_proxy.event, PartKind::Clip)
        ],
        "{report:?}"
    );
    println!(
        "middleboxes: a captive portal (200 with its page) and a proxy's body limit (413 with its page) answered {} upload attempts; no part was dropped; the thumbnails and records went through past the proxy, {} clips waited in the spool",
        why.len(),
        waiting.len()
    );

    // The network lets everything through again: every part is delivered.
    let drained = t.deliver_all();
    for r in [&behind_portal, &behind_proxy] {
        t.owner_opens(r, PartKind::Clip);
        t.owner_opens(r, PartKind::Thumbnail);
    }
    assert_eq!(t.owner.events(t.camera).unwrap().len(), 2);
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
    let mut t = Behind::start(3, "person");
    t.answer_uploads(|path| {
        path.ends_with("/clip")
            .then(|| Reply::new(403, FIREWALL_PAGE))
    });
    let events = [t.record_one(), t.record_one()];
    let report = t.device.drain(Duration::from_secs(3)).unwrap();
    let waiting = spooled(&t.device);
    let blocked = t.noticed(|n| matches!(n, Notice::Blocked { .. }));
    println!(
        "middleboxes: a firewall answered the clip uploads 403 with its page; the camera called itself blocked: {blocked}; waiting in the spool: {waiting:?}"
    );
    assert!(
        !blocked,
        "a 403 without the API's error body blocked the camera"
    );
    assert_eq!(
        waiting,
        [
            (events[0].event, PartKind::Clip),
            (events[1].event, PartKind::Clip)
        ],
        "{report:?}"
    );
    for e in &events {
        t.owner_opens(e, PartKind::Thumbnail);
    }

    t.deliver_all();
    for e in &events {
        t.owner_opens(e, PartKind::Clip);
    }
    println!("middleboxes: past the firewall, both clips were delivered");

    // The server's own 401 (its error body) still stops the camera.
    t.answer_uploads(|_| {
        Some(Reply::new(
            401,
            r#"{"error":{"code":"unauthorized","message":"unknown credential"}}"#,
        ))
    });
    t.record_one();
    assert!(t.noticed(|n| matches!(n, Notice::Blocked { status: 401, .. })));
    println!("middleboxes: the server's own 401, with its error body, still blocks the camera");
}
