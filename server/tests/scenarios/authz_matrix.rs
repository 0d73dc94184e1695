//! The authorisation matrix: for every route that takes an id, a second
//! account's credentials (viewer and camera) with every foreign id answer 404
//! — byte for byte the same answer as an id that does not exist — and change
//! nothing. The account routes without an id (key bundle, viewers, key log)
//! answer the caller's own account only, and so does the camera route
//! without one (`PUT /v1/camera/set-key`: the caller's own camera). The
//! event stream (`GET /v1/events/stream`) carries only the parts of the
//! caller's own cameras and of those shared with it.

use std::time::Duration;

use crate::common::{bytes, error_code, now, start_on, Backend};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use sealcam_wire::{
    CameraList, DeviceList, EventPage, PartKind, PartStored, RecipientSet, ShareList,
};
use uuid::Uuid;

struct Probe {
    method: Method,
    /// The path with `{}` standing for the id under test (filled with a
    /// foreign id, then with a random one).
    path: String,
    token: String,
    body: Option<Vec<u8>>,
}

pub async fn foreign_ids_answer_404_on_every_route(backend: Backend) {
    let Some(t) = start_on(backend, "foreign_ids_answer_404_on_every_route", |_| {}).await else {
        return;
    };

    // Account A: two devices and a recovery device, a key log, a confirmed
    // camera with a recipient set and retention, an event with every part, a
    // share with account C.
    let a = t.new_viewer("a").await;
    let a2 = t.link_device(&a, "a2").await;
    let a_recovery_cred = format!(
        "scv_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([42u8; 32])
    );
    let resp = t
        .json(
            Method::PUT,
            "/v1/account/recovery-credential",
            Some(&a.token),
            &serde_json::json!({ "credential": a_recovery_cred }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let a_devices: DeviceList = t
        .send(Method::GET, "/v1/devices", Some(&a.token), None)
        .await
        .json()
        .await
        .unwrap();
    let a_recovery = a_devices
        .devices
        .iter()
        .find(|d| d.recovery)
        .expect("A's recovery device")
        .device_id;
    let resp = t
        .send(
            Method::PUT,
            "/v1/account/key-log",
            Some(&a.token),
            Some(b"key-log-a".to_vec()),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let a_log_etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let cam_a = t.pair_camera(&a).await;
    let pending_a = t.register_camera(&a).await;
    let c = t.new_viewer("c").await;
    let resp = t
        .send(
            Method::PUT,
            &format!("/v1/cameras/{}/shares/{}", cam_a.camera_id, c.account_id),
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = t
        .json(
            Method::PUT,
            &format!("/v1/cameras/{}/recipient-set", cam_a.camera_id),
            Some(&a.token),
            &RecipientSet {
                epoch: 5,
                set: STANDARD.encode(b"set-a"),
                key_log: None,
                supersede: false,
            },
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for (cam, text) in [(&cam_a, "set-key-a"), (&pending_a, "set-key-pending-a")] {
        let status = t.publish_set_key(&cam.token, text).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let event_a = Uuid::now_v7();
    let payload = bytes(7, 30_000);
    for kind in PartKind::ALL {
        t.upload_ok(&cam_a, event_a, kind, b"header-a", &payload, now())
            .await;
    }

    // Account B: its own device and camera — valid credentials, wrong account.
    let b = t.new_viewer("b").await;
    let cam_b = t.pair_camera(&b).await;
    let b_event = Uuid::now_v7();
    t.upload_ok(
        &cam_b,
        b_event,
        PartKind::Thumbnail,
        b"header-b",
        b"b",
        now(),
    )
    .await;

    let cam = cam_a.camera_id;
    let ev = event_a;
    let mut probes: Vec<(Probe, String)> = Vec::new();
    let viewer = |method: Method, path: String, body: Option<Vec<u8>>| Probe {
        method,
        path,
        token: b.token.clone(),
        body,
    };
    let camera = |method: Method, path: String, body: Option<Vec<u8>>| Probe {
        method,
        path,
        token: cam_b.token.clone(),
        body,
    };
    let json = |v: serde_json::Value| Some(serde_json::to_vec(&v).unwrap());
    // A's recovery device too: 404 to a stranger, never the 409 A's own
    // viewers get.
    for device in [a.device_id, a2.device_id, a_recovery] {
        probes.push((
            viewer(Method::DELETE, "/v1/devices/{}".into(), None),
            device.to_string(),
        ));
    }
    for id in [cam, pending_a.camera_id] {
        let id = id.to_string();
        probes.push((
            viewer(Method::POST, "/v1/cameras/{}/confirm".into(), None),
            id.clone(),
        ));
        probes.push((
            viewer(Method::DELETE, "/v1/cameras/{}".into(), None),
            id.clone(),
        ));
        probes.push((
            viewer(Method::GET, "/v1/cameras/{}/recipient-set".into(), None),
            id.clone(),
        ));
        probes.push((
            viewer(
                Method::PUT,
                "/v1/cameras/{}/recipient-set".into(),
                json(serde_json::json!({"epoch": 99, "set": STANDARD.encode(b"evil")})),
            ),
            id.clone(),
        ));
        probes.push((
            viewer(
                Method::PUT,
                "/v1/cameras/{}/recipient-set".into(),
                json(serde_json::json!({"epoch": 1, "set": STANDARD.encode(b"evil"), "supersede": true})),
            ),
            id.clone(),
        ));
        probes.push((
            viewer(
                Method::PUT,
                "/v1/cameras/{}/retention".into(),
                json(serde_json::json!({"days": 1})),
            ),
            id.clone(),
        ));
        probes.push((
            viewer(Method::GET, "/v1/cameras/{}/shares".into(), None),
            id.clone(),
        ));
        probes.push((
            viewer(Method::GET, "/v1/cameras/{}/events".into(), None),
            id.clone(),
        ));
        for target in [c.account_id, b.account_id, a.account_id] {
            probes.push((
                viewer(
                    Method::PUT,
                    format!("/v1/cameras/{{}}/shares/{target}"),
                    None,
                ),
                id.clone(),
            ));
            probes.push((
                viewer(
                    Method::DELETE,
                    format!("/v1/cameras/{{}}/shares/{target}"),
                    None,
                ),
                id.clone(),
            ));
        }
        probes.push((
            camera(Method::GET, "/v1/cameras/{}/recipient-set".into(), None),
            id.clone(),
        ));
    }
    // The share target itself as the foreign id, on B's own camera: deleting a
    // share that does not exist is a 404 too.
    probes.push((
        viewer(
            Method::DELETE,
            format!("/v1/cameras/{}/shares/{{}}", cam_b.camera_id),
            None,
        ),
        c.account_id.to_string(),
    ));
    let ev_s = ev.to_string();
    probes.push((
        viewer(Method::GET, "/v1/events/{}".into(), None),
        ev_s.clone(),
    ));
    probes.push((
        viewer(Method::DELETE, "/v1/events/{}".into(), None),
        ev_s.clone(),
    ));
    for kind in PartKind::ALL {
        for suffix in ["", "/header", "/payload"] {
            probes.push((
                viewer(
                    Method::GET,
                    format!("/v1/events/{{}}/parts/{kind}{suffix}"),
                    None,
                ),
                ev_s.clone(),
            ));
        }
        probes.push((
            viewer(
                Method::PUT,
                format!("/v1/events/{{}}/parts/{kind}/header"),
                Some(b"evil-header".to_vec()),
            ),
            ev_s.clone(),
        ));
        // B's camera uploading into A's event.
        probes.push((
            camera(
                Method::PUT,
                format!("/v1/events/{{}}/parts/{kind}?captured_at=0&header_len=4"),
                Some(b"evilpayload".to_vec()),
            ),
            ev_s.clone(),
        ));
    }

    let mut requests = 0;
    let mut answered_404 = 0;
    let mut reference_body: Option<Vec<u8>> = None;
    for (probe, foreign) in &probes {
        // An upload to a fresh event id is a legitimate new event, so uploads
        // are probed with the foreign id only.
        let is_upload = probe.method == Method::PUT && probe.path.contains("header_len");
        let mut ids = vec![foreign.clone()];
        if !is_upload {
            ids.push(Uuid::new_v4().to_string());
        }
        for id in ids {
            let path = probe.path.replacen("{}", &id, 1);
            let resp = t
                .send(
                    probe.method.clone(),
                    &path,
                    Some(&probe.token),
                    probe.body.clone(),
                )
                .await;
            requests += 1;
            let status = resp.status();
            let body = resp.bytes().await.unwrap().to_vec();
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{} {path}: {}",
                probe.method,
                String::from_utf8_lossy(&body)
            );
            answered_404 += 1;
            match &reference_body {
                None => reference_body = Some(body),
                Some(reference) => assert_eq!(&body, reference, "{} {path}", probe.method),
            }
        }
    }
    println!(
        "authz matrix [{}]: {requests} requests, {answered_404} answered 404",
        backend.name()
    );
    assert_eq!(requests, answered_404);
    assert!(requests >= 99, "the matrix shrank: {requests}");
    let reference_body = reference_body.unwrap();

    // The account records name no id: B reads and writes only its own. A's
    // key log is not B's (404, the same answer), B's conditional writes
    // against A's version fail, and B's camera may not read any.
    let resp = t
        .send(Method::GET, "/v1/account/key-log", Some(&b.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), reference_body);
    let resp = t
        .http
        .put(t.url("/v1/account/key-log"))
        .bearer_auth(&b.token)
        .header("If-Match", &a_log_etag)
        .body(b"evil-log".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    let resp = t
        .send(Method::GET, "/v1/account/key-log", Some(&cam_b.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // B's recipient sets carry B's key log, never A's.
    let resp = t
        .send(
            Method::PUT,
            "/v1/account/key-log",
            Some(&b.token),
            Some(b"key-log-b".to_vec()),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = t
        .json(
            Method::PUT,
            &format!("/v1/cameras/{}/recipient-set", cam_b.camera_id),
            Some(&b.token),
            &serde_json::json!({"epoch": 1, "set": STANDARD.encode(b"set-b")}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let set_b: RecipientSet = t
        .send(
            Method::GET,
            &format!("/v1/cameras/{}/recipient-set", cam_b.camera_id),
            Some(&cam_b.token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set_b.key_log, Some(STANDARD.encode(b"key-log-b")));
    // A's recovery credential is not B's to take.
    let resp = t
        .json(
            Method::PUT,
            "/v1/account/recovery-credential",
            Some(&b.token),
            &serde_json::json!({ "credential": a_recovery_cred }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    // B's camera publishes to B's camera only; B's viewer may not publish
    // (a viewer credential on a camera route: 401, as on GET /v1/camera).
    let status = t.publish_set_key(&cam_b.token, "set-key-b").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let b_key = (cam_b.camera_id, Some("set-key-b".to_owned()));
    assert_eq!(t.set_keys(&b.token).await, vec![b_key]);
    let status = t.publish_set_key(&b.token, "evil").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // C, whom A's camera is shared with, never reads its set key.
    assert_eq!(t.set_keys(&c.token).await, vec![(cam, None)]);

    // Lists never show another account's things.
    let cams: CameraList = t
        .send(Method::GET, "/v1/cameras", Some(&b.token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cams.cameras.len(), 1);
    assert_eq!(cams.cameras[0].camera_id, cam_b.camera_id);
    let devices: DeviceList = t
        .send(Method::GET, "/v1/devices", Some(&b.token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(devices.devices.len(), 1);

    // And nothing of A's changed.
    let page: EventPage = t
        .send(
            Method::GET,
            &format!("/v1/cameras/{cam}/events"),
            Some(&a.token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].parts.len(), 3);
    for kind in PartKind::ALL {
        let whole = t
            .get_bytes(&format!("/v1/events/{ev}/parts/{kind}"), &a.token, None)
            .await
            .bytes()
            .await
            .unwrap();
        assert_eq!(&whole[..8], b"header-a");
        assert_eq!(&whole[8..], &payload[..]);
    }
    let set: RecipientSet = t
        .send(
            Method::GET,
            &format!("/v1/cameras/{cam}/recipient-set"),
            Some(&a.token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set.epoch, 5);
    assert_eq!(set.key_log, Some(STANDARD.encode(b"key-log-a")));
    let resp = t
        .send(Method::GET, "/v1/account/key-log", Some(&a.token), None)
        .await;
    assert_eq!(resp.headers()["etag"].to_str().unwrap(), a_log_etag);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"key-log-a");
    let shares: ShareList = t
        .send(
            Method::GET,
            &format!("/v1/cameras/{cam}/shares"),
            Some(&a.token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shares.shares.len(), 1);
    assert_eq!(shares.shares[0].account_id, c.account_id);
    let cams: CameraList = t
        .send(Method::GET, "/v1/cameras", Some(&a.token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cams.cameras.len(), 2);
    assert!(cams.cameras.iter().all(|c| c.retention_days.is_none()));
    let keys = t.set_keys(&a.token).await;
    assert!(keys.contains(&(cam, Some("set-key-a".into()))));
    assert!(keys.contains(&(pending_a.camera_id, Some("set-key-pending-a".into()))));
    assert_eq!(
        cams.cameras
            .iter()
            .filter(|c| c.status == sealcam_wire::CameraStatus::Pending)
            .count(),
        1
    );
    for token in [&a.token, &a2.token, &a_recovery_cred] {
        let resp = t.send(Method::GET, "/v1/account", Some(token), None).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }

    // The event stream names no id either: it carries the parts of the
    // caller's own cameras and of those shared with it, nothing else. No
    // credential, a camera's or an unknown one: 401, as on every viewer route.
    let bogus = format!("scv_{}", "A".repeat(43));
    for token in [None, Some(cam_b.token.as_str()), Some(bogus.as_str())] {
        let resp = t.send(Method::GET, "/v1/events/stream", token, None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(resp).await, "unauthorized");
    }
    let wait = Duration::from_secs(2);
    let mut of_a = t.watch_ready(&a2.token).await;
    let mut of_b = t.watch_ready(&b.token).await;
    let mut of_c = t.watch_ready(&c.token).await;
    let new_a = Uuid::now_v7();
    t.upload_ok(&cam_a, new_a, PartKind::Thumbnail, b"header-a", b"a", now())
        .await;
    let heard = PartStored {
        event_id: new_a,
        camera_id: cam,
        kind: PartKind::Thumbnail,
    };
    assert_eq!(of_a.expect_part(wait).await, heard);
    assert_eq!(of_c.expect_part(wait).await, heard);
    // B heard nothing of A's: its own part is the next thing it hears.
    let new_b = Uuid::now_v7();
    t.upload_ok(&cam_b, new_b, PartKind::Record, b"header-b", b"b", now())
        .await;
    let heard = PartStored {
        event_id: new_b,
        camera_id: cam_b.camera_id,
        kind: PartKind::Record,
    };
    assert_eq!(of_b.expect_part(wait).await, heard);
    // Nor did A or C hear B's: A's next part is the next thing they hear.
    t.upload_ok(&cam_a, new_a, PartKind::Clip, b"header-a", b"a", now())
        .await;
    let heard = PartStored {
        event_id: new_a,
        camera_id: cam,
        kind: PartKind::Clip,
    };
    assert_eq!(of_a.expect_part(wait).await, heard);
    assert_eq!(of_c.expect_part(wait).await, heard);
}
