//! Scenario 4, crash safety: the real `sealcam-server` binary is SIGKILLed
//! while cameras (device SDK) upload and the owner (app SDK) deletes events,
//! then restarted on the same data directory. Every upload the server
//! acknowledged opens — verified by the app SDK — every acknowledged delete
//! stays deleted, and nothing partial is listed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sealcam_device::{EventRecord, NewEvent, PartOutcome};
use sealcam_e2e::process::{create_account, server_binary, ServerProcess};
use sealcam_e2e::{fast_device_config, media, Harness};
use sealcam_keys::EventId;
use sealcam_wire::PartKind;

const CAMERAS: usize = 3;
/// SIGKILL once this many parts (and at least one delete) were acknowledged.
const KILL_AFTER_ACKS: usize = 36;
const BOUND: Duration = Duration::from_secs(60);

#[test]
fn sigkill_during_uploads_and_deletes_loses_nothing_acknowledged() {
    let bin = server_binary().unwrap();
    let data = tempfile::tempdir().unwrap();
    let token = create_account(&bin, data.path(), "crash").unwrap();
    let server = ServerProcess::start(&bin, data.path()).unwrap();
    let h = Harness::proxy_to(&server.url).unwrap();
    let owner = h.owner_with_token("crash", &token).unwrap();
    let mut cams: Vec<_> = (0..CAMERAS)
        .map(|c| {
            h.camera(&owner, &format!("cam{c}"), fast_device_config())
                .unwrap()
        })
        .collect();

    // Cameras record continuously; the owner deletes acknowledged events.
    let acked: Mutex<HashMap<(EventId, PartKind), Vec<u8>>> = Mutex::default();
    let ack_count = AtomicUsize::new(0);
    let killed = AtomicBool::new(false);
    let deleted: Mutex<HashSet<EventId>> = Mutex::default();
    // Deletes sent, acknowledged or not: one in flight at the kill may have
    // been committed without its answer reaching the owner.
    let attempted: Mutex<HashSet<EventId>> = Mutex::default();
    let delete_attempts = AtomicUsize::new(0);
    let mut server = Some(server);
    std::thread::scope(|s| {
        for (c, cam) in cams.iter_mut().enumerate() {
            let (acked, ack_count, killed) = (&acked, &ack_count, &killed);
            s.spawn(move || {
                let mut n = 0u64;
                while !killed.load(Ordering::SeqCst) {
                    n += 1;
                    let seed = (c as u64) << 32 | n;
                    let thumb = media::thumbnail(seed, 3000);
                    let clip = media::bytes(seed, 400_000);
                    let record = EventRecord::new("motion");
                    let report = cam
                        .record(
                            NewEvent::now()
                                .thumbnail(&thumb)
                                .clip(&mut &clip[..])
                                .record(&record),
                        )
                        .unwrap();
                    let bodies = [thumb, clip, record.to_json().unwrap()];
                    for (part, body) in report.parts.iter().zip(bodies) {
                        if let PartOutcome::Uploaded { .. } = part.outcome {
                            acked
                                .lock()
                                .unwrap()
                                .insert((report.event, part.kind), body);
                            ack_count.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            });
        }
        // The owner deletes every other fully acknowledged event, as fast as it can.
        let (acked, deleted, attempted, delete_attempts, killed) =
            (&acked, &deleted, &attempted, &delete_attempts, &killed);
        let client = owner.client.clone();
        let rt = &h.rt;
        s.spawn(move || {
            let mut tried = HashSet::new();
            while !killed.load(Ordering::SeqCst) {
                let candidates: Vec<EventId> = {
                    let a = acked.lock().unwrap();
                    a.keys()
                        .filter(|(e, k)| {
                            *k == PartKind::Record && a.contains_key(&(*e, PartKind::Clip))
                        })
                        .map(|(e, _)| *e)
                        .collect()
                };
                let mut did = false;
                for e in candidates {
                    if tried.contains(&e) || e.as_uuid().as_bytes()[15] % 2 == 1 {
                        continue;
                    }
                    tried.insert(e);
                    attempted.lock().unwrap().insert(e);
                    delete_attempts.fetch_add(1, Ordering::SeqCst);
                    did = true;
                    if rt.block_on(client.delete_event(e)).is_ok() {
                        deleted.lock().unwrap().insert(e);
                    }
                }
                if !did {
                    std::thread::yield_now();
                }
            }
        });
        // SIGKILL in the middle of it: once enough uploads and at least one
        // delete were acknowledged, so both kinds of write are in flight.
        let started = Instant::now();
        while ack_count.load(Ordering::SeqCst) < KILL_AFTER_ACKS
            || deleted.lock().unwrap().is_empty()
        {
            assert!(
                started.elapsed() < BOUND,
                "uploads and deletes did not get going"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        server.take().unwrap().kill9().unwrap();
        killed.store(true, Ordering::SeqCst);
    });
    let acked = acked.into_inner().unwrap();
    let deleted = deleted.into_inner().unwrap();
    let attempted = attempted.into_inner().unwrap();

    // Restart on the same data directory; cameras deliver what they spooled.
    let server = ServerProcess::start(&bin, data.path()).unwrap();
    h.proxy.set_upstream(Some(server.url.clone()));
    let mut redelivered = 0;
    for cam in &mut cams {
        let report = cam.drain(BOUND).unwrap();
        assert_eq!(report.remaining, 0, "{report:?}");
        assert_eq!(report.rejected, 0, "{report:?}");
        redelivered += report.delivered;
    }

    // Everything listed opens in full; every acknowledged part is there
    // (unless its event was deleted, acknowledged too).
    let listed =
        h.rt.block_on(owner.client.events(&Default::default()))
            .unwrap();
    let listed_parts: HashSet<(EventId, PartKind)> = listed
        .iter()
        .flat_map(|e| e.parts.iter().map(|p| (e.event_id, p.kind)))
        .collect();
    let mut parts_opened = 0;
    for ev in &listed {
        assert!(
            !deleted.contains(&ev.event_id),
            "a deleted event came back: {}",
            ev.event_id
        );
        for part in &ev.parts {
            let body =
                h.rt.block_on(async {
                    let obj = owner.client.open_part(ev.event_id, part.kind).await?;
                    obj.read_range(0..obj.body_len()).await
                })
                .unwrap_or_else(|e| {
                    panic!("listed {} {} does not open: {e}", ev.event_id, part.kind)
                });
            if let Some(want) = acked.get(&(ev.event_id, part.kind)) {
                assert_eq!(&body, want);
            }
            parts_opened += 1;
        }
    }
    let mut lost = 0;
    for (event, kind) in acked.keys() {
        if !attempted.contains(event) && !listed_parts.contains(&(*event, *kind)) {
            lost += 1;
            eprintln!("acknowledged {event} {kind} is missing");
        }
    }
    // A delete in doubt (sent, not acknowledged) went through or did not:
    // its event is whole or gone, never partial.
    let mut in_doubt_gone = 0;
    for event in attempted.difference(&deleted) {
        let parts: Vec<bool> = acked
            .keys()
            .filter(|(e, _)| e == event)
            .map(|key| listed_parts.contains(key))
            .collect();
        assert!(
            parts.iter().all(|p| *p) || parts.iter().all(|p| !*p),
            "event {event}, whose delete was in doubt, is partial: {parts:?}"
        );
        in_doubt_gone += usize::from(parts.iter().all(|p| !*p));
    }
    println!(
        "crash: SIGKILL after {} acknowledged uploads and {} acknowledged deletes ({} attempted; of those in doubt {in_doubt_gone} went through, {} did not); after restart {} spooled parts re-sent, {} events listed, {parts_opened} parts opened and verified, {lost} acknowledged lost, 0 partial",
        acked.len(),
        deleted.len(),
        delete_attempts.load(Ordering::SeqCst),
        attempted.len() - deleted.len() - in_doubt_gone,
        redelivered,
        listed.len(),
    );
    assert_eq!(lost, 0);
    assert!(!deleted.is_empty(), "no delete happened before the kill");
    drop(server);
}
