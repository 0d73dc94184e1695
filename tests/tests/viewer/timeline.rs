//! `sealcam events list`: the decrypted, verified record of each event —
//! type, labels, duration — with filters; a misdelivered or tampered record
//! is shown as such, never as an event, and sets the exit code.

use std::sync::Arc;

use bytes::Bytes;
use sealcam_e2e::proxy::FnHook;
use sealcam_e2e::{fast_device_config, Reply};
use sealcam_wire::PartKind;
use serde_json::Value;

use super::{record, World};

/// The listed events: the first JSON document on stdout (a refusal adds a
/// second one, the error).
fn events(run: &sealcam_e2e::process::Run) -> Vec<Value> {
    let first = run.stdout.lines().next().unwrap_or_default();
    let doc: Value = serde_json::from_str(first).unwrap_or_else(|e| panic!("{e}: {run}"));
    doc["events"].as_array().unwrap().clone()
}

fn by_event<'a>(events: &'a [Value], id: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["event_id"] == id)
        .unwrap_or_else(|| panic!("event {id} not listed: {events:?}"))
}

#[test]
fn the_timeline_shows_what_happened_and_refuses_what_does_not_verify() {
    let (mut w, mut cam) = World::start();
    let person = w.record(
        &mut cam,
        Some(&record("person", &["person", "package"], Some(12_000))),
        0,
    );
    let motion = w.record(&mut cam, Some(&record("motion", &[], Some(3_400))), 0);
    let doorbell = w.record(&mut cam, Some(&record("doorbell", &["visitor"], None)), 0);
    let bare = w.record(&mut cam, None, 0);

    // Readable: every record opened and verified, in one list.
    let run = w.sealcam(&["events", "list", "--json"]);
    let run = run.checked().unwrap();
    let list = events(&run);
    assert_eq!(list.len(), 4, "{list:?}");
    let p = by_event(&list, &person.event.to_string());
    assert_eq!(p["record"]["status"], "verified");
    assert_eq!(p["record"]["type"], "person");
    assert_eq!(
        p["record"]["labels"],
        serde_json::json!(["person", "package"])
    );
    assert_eq!(p["record"]["duration_ms"], 12_000);
    assert!(p["record"]["captured_at_ms"].as_i64().unwrap() > 0);
    assert_eq!(
        by_event(&list, &motion.event.to_string())["record"]["type"],
        "motion"
    );
    assert_eq!(
        by_event(&list, &bare.event.to_string())["record"]["status"],
        "missing"
    );

    let text = w.sealcam(&["events", "list"]).checked().unwrap().stdout;
    println!("{text}");
    assert!(text.contains("WHAT") && text.contains("person (person, package)"));
    assert!(text.contains("12.0s") && text.contains("doorbell (visitor)"));

    // Filters run after decryption.
    let only = events(
        &w.sealcam(&["events", "list", "--type", "person", "--json"])
            .checked()
            .unwrap(),
    );
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["event_id"], person.event.to_string());
    let labelled = events(
        &w.sealcam(&["events", "list", "--label", "VISITOR", "--json"])
            .checked()
            .unwrap(),
    );
    assert_eq!(labelled.len(), 1);
    assert_eq!(labelled[0]["event_id"], doorbell.event.to_string());

    // The incident: a broken cache answers the motion event's record with
    // another household's record (a burglary, sealed to that household).
    let neighbour = w.h.owner("neighbour").unwrap();
    let mut their_cam =
        w.h.camera(&neighbour, "garage", fast_device_config())
            .unwrap();
    let theirs = w.record(
        &mut their_cam,
        Some(&record("burglar", &["person"], None)),
        0,
    );
    let their_record: Bytes =
        w.h.rt
            .block_on(neighbour.client.api().part_whole(
                *theirs.event.as_uuid(),
                PartKind::Record,
                1 << 20,
            ))
            .unwrap()
            .into();
    // … and flips a bit in the doorbell record's payload on the way.
    let motion_path = format!("/v1/events/{}/parts/record", motion.event);
    let doorbell_path = format!("/v1/events/{}/parts/record", doorbell.event);
    let served = their_record.clone();
    w.h.proxy.set_hook(Arc::new(FnHook::answering(move |req| {
        (req.path == motion_path).then(|| Reply::new(200, served.clone()))
    })));
    let run = w.sealcam(&["events", "list", "--json"]);
    println!(
        "tried: the cache answered event {}'s record with another household's record; \
         sealcam said: status {:?}, exit {:?}",
        motion.event,
        by_event(&events(&run), &motion.event.to_string())["record"]["status"],
        run.code
    );
    assert_eq!(run.code, Some(3), "{run}");
    let list = events(&run);
    let m = by_event(&list, &motion.event.to_string());
    assert_eq!(m["record"]["status"], "misdelivered");
    assert!(m["record"].get("type").is_none());
    assert!(!run.stdout.contains("burglar") && !run.stderr.contains("burglar"));
    assert_eq!(
        by_event(&list, &person.event.to_string())["record"]["status"],
        "verified"
    );
    let text = w.sealcam(&["events", "list"]);
    assert_eq!(text.code, Some(3));
    assert!(text.stdout.contains("MISDELIVERED") && !text.stdout.contains("burglar"));
    assert!(text.stderr.contains("refused"), "{text}");

    w.h.proxy.set_hook(Arc::new(FnHook::rewriting(
        move |req| req.path == doorbell_path,
        |_, _, body| {
            let mut b = body.to_vec();
            let at = b.len() - 40;
            b[at] ^= 1;
            Some(b.into())
        },
    )));
    let run = w.sealcam(&["events", "list", "--json"]);
    let d = by_event(&events(&run), &doorbell.event.to_string()).clone();
    println!(
        "tried: one bit of the doorbell record flipped in transit; sealcam said: status {}, exit {:?}",
        d["record"]["status"], run.code
    );
    assert_eq!(run.code, Some(4), "{run}");
    assert_eq!(d["record"]["status"], "verification_failed");
    assert!(d["record"].get("type").is_none() && !run.stdout.contains("visitor"));

    w.h.proxy.clear_hook();
    w.sealcam(&["events", "list"]).checked().unwrap();
}

/// The server (a broken cache) lists another camera's event among the
/// porch's: the timeline and the export show it as misdelivered under the
/// camera it was listed for, never as the porch's event and never with the
/// other camera's record (S2).
#[test]
fn an_event_filed_under_another_camera_is_misdelivered() {
    let (mut w, mut porch) = World::start();
    let mut garden =
        w.h.camera(&w.owner, "garden", fast_device_config())
            .unwrap();
    let ours = w.record(&mut porch, Some(&record("person", &["porch"], None)), 0);
    let theirs = w.record(
        &mut garden,
        Some(&record("person", &["garden-secret"], None)),
        0,
    );
    let (porch_id, garden_id) = (porch.camera_id().unwrap(), garden.camera_id().unwrap());
    let api = w.owner.client.api();
    let garden_rows: Value = serde_json::to_value(
        w.h.rt
            .block_on(api.events(*garden_id.as_uuid(), &Default::default()))
            .unwrap(),
    )
    .unwrap();
    let stray = garden_rows["events"][0].clone();
    assert_eq!(stray["event_id"], theirs.event.to_string());
    let porch_list = format!("/v1/cameras/{porch_id}/events");
    w.h.proxy.set_hook(Arc::new(FnHook::rewriting(
        move |req| req.path == porch_list,
        move |_, _, body| {
            let mut page: Value = serde_json::from_slice(&body).ok()?;
            page["events"].as_array_mut()?.push(stray.clone());
            Some(Bytes::from(serde_json::to_vec(&page).ok()?))
        },
    )));

    let run = w.sealcam(&["events", "list", "--camera", "porch", "--json"]);
    let list = events(&run);
    let stray = by_event(&list, &theirs.event.to_string());
    println!(
        "tried: the server listed camera garden's event {} among porch's; sealcam said: status {}, camera {}, exit {:?}",
        theirs.event, stray["record"]["status"], stray["camera_id"], run.code
    );
    assert_eq!(run.code, Some(3), "{run}");
    assert_eq!(stray["record"]["status"], "misdelivered");
    assert_eq!(stray["camera_id"], porch_id.to_string());
    assert!(!run.stdout.contains("garden-secret"), "{run}");
    assert_eq!(
        by_event(&list, &ours.event.to_string())["record"]["status"],
        "verified"
    );

    let dir = w.h.path("stray-export");
    let run = w.sealcam(&[
        "export",
        "--camera",
        "porch",
        "--since",
        "1d",
        "-o",
        dir.to_str().unwrap(),
        "--json",
    ]);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let entries = |event: &str| -> Vec<Value> {
        manifest
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_array)
            .flatten()
            .filter(|e| e["event_id"] == event)
            .cloned()
            .collect()
    };
    let stray_entries = entries(&theirs.event.to_string());
    println!(
        "tried: the same listing in `sealcam export --camera porch`: exit {:?}; the stray event's files: {}",
        run.code,
        stray_entries
            .iter()
            .map(|e| e["error"].as_str().unwrap_or("EXPORTED"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    assert!(!run.success(), "{run}");
    assert!(!stray_entries.is_empty(), "{manifest}");
    for e in &stray_entries {
        assert!(
            e["error"]
                .as_str()
                .is_some_and(|m| m.contains("misdelivered"))
                && e.get("sha256").is_none(),
            "{e}"
        );
    }
    assert!(
        entries(&ours.event.to_string())
            .iter()
            .all(|e| e.get("sha256").is_some()),
        "{manifest}"
    );
    w.h.proxy.clear_hook();
}
