//! Scenario 1, the incident: a broken cache in front of the server hands
//! viewers other people's objects. 50 households × 2 cameras record through
//! the device SDK; then, for a fraction of fetches, the cache answers with the
//! header and payload of another owner's object, another camera's, another
//! event's or another part's (or mixes one object's header with another's
//! payload). Every viewer fetch (app SDK) must either return its own verified
//! plaintext or fail with the misdelivered error; no plaintext byte may reach
//! a wrong viewer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use sealcam_client::ClientError;
use sealcam_device::{EventRecord, NewEvent};
use sealcam_e2e::{fast_device_config, media, Harness, Hook, Reply, RequestInfo};
use sealcam_keys::EventId;
use sealcam_wire::PartKind;
use uuid::Uuid;

const OWNERS: usize = 50;
const CAMERAS_PER_OWNER: usize = 2;
const EVENTS_PER_CAMERA: usize = 2;
/// The share of fetches the broken cache answers wrongly.
const FAULT_RATE: f64 = 0.35;
const KINDS: [PartKind; 3] = [PartKind::Thumbnail, PartKind::Clip, PartKind::Record];

/// One stored object, as the server holds it.
#[derive(Clone)]
struct Stored {
    owner: usize,
    camera: Uuid,
    event: Uuid,
    kind: PartKind,
    header: Bytes,
    payload: Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Fault {
    OtherOwner,
    OtherCamera,
    OtherEvent,
    OtherPart,
    /// Right payload, another object's header (same owner).
    ForeignHeader,
    /// Right header, another object's payload (same owner).
    ForeignPayload,
}

const FAULTS: [Fault; 6] = [
    Fault::OtherOwner,
    Fault::OtherCamera,
    Fault::OtherEvent,
    Fault::OtherPart,
    Fault::ForeignHeader,
    Fault::ForeignPayload,
];

/// Which bytes the cache serves for one fetch of `(event, kind)`.
#[derive(Clone)]
struct Substitute {
    fault: Fault,
    header: Bytes,
    payload: Bytes,
}

/// The broken cache: it holds every object and, per fetch, sometimes hands
/// out the wrong one — consistently for the whole fetch (event row, header
/// and every payload range), as a cache keyed on the wrong id would.
struct BrokenCache {
    objects: Vec<Stored>,
    index: HashMap<(Uuid, PartKind), usize>,
    rng: Mutex<StdRng>,
    /// Decided at the event lookup that starts each fetch, per (viewer, event).
    current: Mutex<HashMap<(String, Uuid), HashMap<PartKind, Substitute>>>,
    /// Substitutions actually served, per (viewer, event, kind).
    served: Mutex<HashMap<(String, Uuid, PartKind), Fault>>,
}

impl BrokenCache {
    fn pick<'a>(&'a self, rng: &mut StdRng, pool: Vec<&'a Stored>) -> Option<&'a Stored> {
        if pool.is_empty() {
            None
        } else {
            Some(pool[rng.gen_range(0..pool.len())])
        }
    }

    fn substitute(&self, rng: &mut StdRng, me: &Stored) -> Substitute {
        loop {
            let fault = FAULTS[rng.gen_range(0..FAULTS.len())];
            let o = &self.objects;
            let other = match fault {
                Fault::OtherOwner => {
                    self.pick(rng, o.iter().filter(|s| s.owner != me.owner).collect())
                }
                Fault::OtherCamera => self.pick(
                    rng,
                    o.iter()
                        .filter(|s| {
                            s.owner == me.owner && s.camera != me.camera && s.kind == me.kind
                        })
                        .collect(),
                ),
                Fault::OtherEvent => self.pick(
                    rng,
                    o.iter()
                        .filter(|s| {
                            s.camera == me.camera && s.event != me.event && s.kind == me.kind
                        })
                        .collect(),
                ),
                Fault::OtherPart => self.pick(
                    rng,
                    o.iter()
                        .filter(|s| s.event == me.event && s.kind != me.kind)
                        .collect(),
                ),
                Fault::ForeignHeader | Fault::ForeignPayload => self.pick(
                    rng,
                    o.iter()
                        .filter(|s| {
                            s.owner == me.owner && !(s.event == me.event && s.kind == me.kind)
                        })
                        .collect(),
                ),
            };
            let Some(other) = other else { continue };
            let (header, payload) = match fault {
                Fault::ForeignHeader => (other.header.clone(), me.payload.clone()),
                Fault::ForeignPayload => (me.header.clone(), other.payload.clone()),
                _ => (other.header.clone(), other.payload.clone()),
            };
            return Substitute {
                fault,
                header,
                payload,
            };
        }
    }

    fn viewer(req: &RequestInfo) -> String {
        req.auth.clone().unwrap_or_default()
    }
}

fn kind_of(text: &str) -> Option<PartKind> {
    KINDS.into_iter().find(|k| k.to_string() == text)
}

impl Hook for BrokenCache {
    fn answer(&self, req: &RequestInfo) -> Option<Reply> {
        if req.method != axum::http::Method::GET {
            return None;
        }
        let seg = req.segments();
        // GET /v1/events/{id}/parts/{kind}/{header|payload}
        let ["v1", "events", id, "parts", kind, what] = seg.as_slice() else {
            return None;
        };
        let event = Uuid::parse_str(id).ok()?;
        let kind = kind_of(kind)?;
        let viewer = Self::viewer(req);
        let sub = self
            .current
            .lock()
            .unwrap()
            .get(&(viewer.clone(), event))?
            .get(&kind)?
            .clone();
        self.served
            .lock()
            .unwrap()
            .insert((viewer, event, kind), sub.fault);
        match *what {
            "header" => Some(Reply::ranged(&sub.header, req.range.as_deref())),
            "payload" => Some(Reply::ranged(&sub.payload, req.range.as_deref())),
            _ => None,
        }
    }

    fn rewrites(&self, req: &RequestInfo) -> bool {
        req.method == axum::http::Method::GET
            && matches!(req.segments().as_slice(), ["v1", "events", _])
    }

    /// The event lookup that starts a fetch: decide this fetch's faults, and
    /// report the sizes of the objects the cache will hand out.
    fn rewrite(&self, req: &RequestInfo, status: u16, body: Bytes) -> Bytes {
        let seg = req.segments();
        let Some(event) = seg.get(2).and_then(|id| Uuid::parse_str(id).ok()) else {
            return body;
        };
        let viewer = Self::viewer(req);
        let mut subs = HashMap::new();
        {
            let mut rng = self.rng.lock().unwrap();
            if status == 200 && rng.gen_bool(FAULT_RATE) {
                for kind in KINDS {
                    if let Some(&i) = self.index.get(&(event, kind)) {
                        subs.insert(kind, self.substitute(&mut rng, &self.objects[i]));
                    }
                }
            }
        }
        let body = if subs.is_empty() {
            body
        } else {
            let mut json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            for part in json["parts"].as_array_mut().unwrap() {
                let kind = kind_of(part["kind"].as_str().unwrap()).unwrap();
                if let Some(sub) = subs.get(&kind) {
                    part["header_size"] = sub.header.len().into();
                    part["payload_size"] = sub.payload.len().into();
                }
            }
            Bytes::from(serde_json::to_vec(&json).unwrap())
        };
        self.current.lock().unwrap().insert((viewer, event), subs);
        body
    }
}

#[derive(Debug, Default)]
struct Tally {
    fetches: u64,
    injected: u64,
    detected: u64,
    own_plaintext: u64,
    leaked_bytes: u64,
    by_fault: HashMap<String, u64>,
    failures: Vec<String>,
}

#[test]
fn broken_cache_never_shows_a_viewer_someone_elses_event() {
    let h = Harness::start().unwrap();

    // 50 households, 2 cameras each, events recorded through the device SDK.
    let mut owners = Vec::new();
    let mut expected: HashMap<(Uuid, PartKind), Vec<u8>> = HashMap::new();
    let mut events: Vec<Vec<(Uuid, Uuid)>> = Vec::new(); // per owner: (camera, event)
    for o in 0..OWNERS {
        let owner = h.owner(&format!("household-{o}")).unwrap();
        let mut mine = Vec::new();
        for c in 0..CAMERAS_PER_OWNER {
            let mut cam = h
                .camera(&owner, &format!("h{o}-cam{c}"), fast_device_config())
                .unwrap();
            let camera = *cam.camera_id().unwrap().as_uuid();
            for e in 0..EVENTS_PER_CAMERA {
                let seed = ((o * 16 + c) * 16 + e) as u64;
                let thumb = media::thumbnail(seed, 1500 + (seed as usize % 700));
                let clip = media::bytes(seed ^ 0xC11F, 70_000 + (seed as usize % 5000));
                let mut record = EventRecord::new("person");
                record.labels = vec![format!("household {o} camera {c} event {e}")];
                let report = cam
                    .record(
                        NewEvent::now()
                            .thumbnail(&thumb)
                            .clip(&mut &clip[..])
                            .record(&record),
                    )
                    .unwrap();
                for p in &report.parts {
                    assert!(
                        matches!(
                            p.outcome,
                            sealcam_device::PartOutcome::Uploaded { created: true }
                        ),
                        "{p:?}"
                    );
                }
                let event = *report.event.as_uuid();
                expected.insert((event, PartKind::Thumbnail), thumb);
                expected.insert((event, PartKind::Clip), clip);
                expected.insert((event, PartKind::Record), record.to_json().unwrap());
                mine.push((camera, event));
            }
        }
        owners.push(owner);
        events.push(mine);
    }

    // The cache fills with every object, exactly as the server stores them.
    let mut objects = Vec::new();
    for (o, owner) in owners.iter().enumerate() {
        for &(camera, event) in &events[o] {
            for kind in KINDS {
                let api = owner.client.api();
                let header = h.rt.block_on(api.part_header(event, kind)).unwrap();
                let info = h.rt.block_on(api.event(event)).unwrap();
                let len = info
                    .parts
                    .iter()
                    .find(|p| p.kind == kind)
                    .unwrap()
                    .payload_size;
                let payload =
                    h.rt.block_on(api.payload_range_vec(event, kind, 0..len))
                        .unwrap();
                objects.push(Stored {
                    owner: o,
                    camera,
                    event,
                    kind,
                    header: header.into(),
                    payload: payload.into(),
                });
            }
        }
    }
    let index = objects
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.event, s.kind), i))
        .collect();
    let cache = Arc::new(BrokenCache {
        objects,
        index,
        rng: Mutex::new(StdRng::seed_from_u64(0x1C1DE17)),
        current: Mutex::default(),
        served: Mutex::default(),
    });
    h.proxy.set_hook(cache.clone());

    // Every viewer opens every part of its own timeline, all at once.
    let expected = Arc::new(expected);
    let tally = Arc::new(Mutex::new(Tally::default()));
    h.rt.block_on(async {
        let mut tasks = Vec::new();
        for (o, owner) in owners.iter().enumerate() {
            let client = owner.client.clone();
            let cred = format!("Bearer {}", client.device().credential.expose());
            let mine = events[o].clone();
            let (expected, tally, cache) = (expected.clone(), tally.clone(), cache.clone());
            tasks.push(tokio::spawn(async move {
                for (_, event) in mine {
                    for kind in KINDS {
                        let result = async {
                            let obj = client.open_part(EventId::from(event), kind).await?;
                            obj.read_range(0..obj.body_len()).await
                        }
                        .await;
                        let fault = cache.served.lock().unwrap().remove(&(cred.clone(), event, kind));
                        let mut t = tally.lock().unwrap();
                        t.fetches += 1;
                        if let Some(f) = fault {
                            t.injected += 1;
                            *t.by_fault.entry(format!("{f:?}")).or_default() += 1;
                        }
                        let own = &expected[&(event, kind)];
                        match (&result, fault) {
                            (Ok(plain), _) if plain == own => t.own_plaintext += 1,
                            (Ok(plain), f) => {
                                t.leaked_bytes += plain.len() as u64;
                                t.failures.push(format!(
                                    "{event} {kind} ({f:?}): showed {} bytes that are not this viewer's",
                                    plain.len()
                                ));
                            }
                            (Err(ClientError::Misdelivered(_)), Some(_)) => t.detected += 1,
                            (Err(e), f) => t
                                .failures
                                .push(format!("{event} {kind} (fault {f:?}): {e}")),
                        }
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });

    let t = tally.lock().unwrap();
    println!(
        "incident: {} cameras, {} fetches, {} faults injected, {} detected as misdelivered, {} plaintext bytes leaked",
        OWNERS * CAMERAS_PER_OWNER,
        t.fetches,
        t.injected,
        t.detected,
        t.leaked_bytes
    );
    println!("incident: faults by kind {:?}", t.by_fault);
    assert!(
        t.failures.is_empty(),
        "{} bad fetches:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
    assert_eq!(t.leaked_bytes, 0);
    assert_eq!(
        t.fetches,
        (OWNERS * CAMERAS_PER_OWNER * EVENTS_PER_CAMERA * 3) as u64
    );
    assert_eq!(t.detected, t.injected);
    assert_eq!(t.own_plaintext + t.detected, t.fetches);
    // The cache really was broken, in every way it can be.
    assert!(t.injected > t.fetches / 5, "too few faults: {}", t.injected);
    assert_eq!(t.by_fault.len(), FAULTS.len(), "{:?}", t.by_fault);
}
