//! End-to-end API scenarios over real HTTP, run on every storage backend
//! (tests/sqlite_local.rs, tests/postgres_s3.rs).

use crate::common::{bytes, error_code, now, start_on, Backend};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use sealcam_wire::{
    AccountInfo, CameraList, CameraRole, CameraSelf, CameraStatus, DeviceList, Event, EventPage,
    LinkResponse, PartKind, RecipientSet, ShareList, UploadResponse,
};
use uuid::Uuid;

pub async fn account_pairing_upload_list_download_delete_retention(b: Backend) {
    let Some(t) = start_on(
        b,
        "account_pairing_upload_list_download_delete_retention",
        |_| {},
    )
    .await
    else {
        return;
    };

    // Health first.
    let resp = t.http.get(t.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // Account and devices.
    let owner = t.new_viewer("household").await;
    let info: AccountInfo = t
        .send(Method::GET, "/v1/account", Some(&owner.token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info.account_id, owner.account_id);
    assert_eq!(info.name, "household");
    let link: LinkResponse = t
        .send(Method::POST, "/v1/devices/link", Some(&owner.token), None)
        .await
        .json()
        .await
        .unwrap();
    let resp = t
        .json(
            Method::POST,
            "/v1/enroll",
            None,
            &serde_json::json!({"token": link.link_token, "device_name": "laptop"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let laptop: sealcam_wire::EnrollResponse = resp.json().await.unwrap();
    assert_eq!(laptop.account_id, owner.account_id);
    // A link token is one-time.
    let resp = t
        .json(
            Method::POST,
            "/v1/enroll",
            None,
            &serde_json::json!({"token": link.link_token, "device_name": "again"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let devices: DeviceList = t
        .send(Method::GET, "/v1/devices", Some(&owner.token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(devices.devices.len(), 2);
    assert_eq!(devices.devices.iter().filter(|d| d.current).count(), 1);

    // Opaque records with conditional writes.
    let resp = t
        .send(
            Method::GET,
            "/v1/account/key-bundle",
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = t
        .http
        .put(t.url("/v1/account/key-bundle"))
        .bearer_auth(&owner.token)
        .header("If-None-Match", "*")
        .body(b"bundle-1".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = t
        .send(
            Method::GET,
            "/v1/account/key-bundle",
            Some(&owner.token),
            None,
        )
        .await;
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"bundle-1");
    let resp = t
        .http
        .put(t.url("/v1/account/key-bundle"))
        .bearer_auth(&laptop.credential)
        .header("If-Match", etag.clone())
        .body(b"bundle-2".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = t
        .http
        .put(t.url("/v1/account/key-bundle"))
        .bearer_auth(&owner.token)
        .header("If-Match", etag)
        .body(b"bundle-3".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    let resp = t
        .send(
            Method::PUT,
            "/v1/account/viewers",
            Some(&owner.token),
            Some(b"viewers".to_vec()),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    // Remove the laptop: its credential stops working at once.
    let resp = t
        .send(
            Method::DELETE,
            &format!("/v1/devices/{}", laptop.device_id),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = t
        .send(Method::GET, "/v1/account", Some(&laptop.credential), None)
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Pairing: pending until confirmed; a pending camera may not upload.
    let cam = t.register_camera(&owner).await;
    let me: CameraSelf = t
        .send(Method::GET, "/v1/camera", Some(&cam.token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me.status, CameraStatus::Pending);
    let event = Uuid::now_v7();
    let resp = t
        .upload(&cam, event, PartKind::Thumbnail, b"hdr", b"payload", now())
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(resp).await, "camera_not_active");
    let cams: CameraList = t
        .send(Method::GET, "/v1/cameras", Some(&owner.token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cams.cameras.len(), 1);
    assert_eq!(cams.cameras[0].status, CameraStatus::Pending);
    assert_eq!(
        cams.cameras[0].device_public_key,
        STANDARD.encode([7u8; 32])
    );
    assert_eq!(cams.cameras[0].role, CameraRole::Owner);
    let resp = t
        .send(
            Method::POST,
            &format!("/v1/cameras/{}/confirm", cam.camera_id),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    // Recipient set: epochs must grow; the camera reads it.
    let set_path = format!("/v1/cameras/{}/recipient-set", cam.camera_id);
    let resp = t.send(Method::GET, &set_path, Some(&cam.token), None).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    for (epoch, expected) in [
        (1, StatusCode::NO_CONTENT),
        (2, StatusCode::NO_CONTENT),
        (2, StatusCode::CONFLICT),
        (1, StatusCode::CONFLICT),
    ] {
        let resp = t
            .json(
                Method::PUT,
                &set_path,
                Some(&owner.token),
                &RecipientSet {
                    epoch,
                    set: STANDARD.encode(format!("set-{epoch}")),
                    key_log: None,
                    supersede: false,
                },
            )
            .await;
        assert_eq!(resp.status(), expected, "epoch {epoch}");
    }
    let set: RecipientSet = t
        .send(Method::GET, &set_path, Some(&cam.token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set.epoch, 2);
    assert_eq!(STANDARD.decode(set.set).unwrap(), b"set-2");

    // Upload three events, parts of each kind; one clip big enough to stream.
    // A minute boundary, so coarsening to the minute is predictable.
    let t0 = (now() - 3600) / 60 * 60;
    let events: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let clip = bytes(42, 3 * 1024 * 1024 + 17);
    for (i, event) in events.iter().enumerate() {
        let at = t0 + i as i64 * 120 + 7;
        let up = t
            .upload_ok(
                &cam,
                *event,
                PartKind::Thumbnail,
                b"age-header-thumb",
                &bytes(i as u64, 20_000),
                at,
            )
            .await;
        assert!(up.created);
        assert_eq!(up.header_size, 16);
        assert_eq!(up.payload_size, 20_000);
        t.upload_ok(
            &cam,
            *event,
            PartKind::Record,
            b"age-header-rec",
            b"record",
            at,
        )
        .await;
    }
    t.upload_ok(
        &cam,
        events[2],
        PartKind::Clip,
        b"age-header-clip",
        &clip,
        t0,
    )
    .await;

    // List: newest first, paged, captured_at coarsened to the minute.
    let list_path = format!("/v1/cameras/{}/events", cam.camera_id);
    let page: EventPage = t
        .send(
            Method::GET,
            &format!("{list_path}?limit=2"),
            Some(&owner.token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.events.len(), 2, "{page:#?} {events:?}");
    assert_eq!(page.events[0].event_id, events[2], "{page:#?} {events:?}");
    assert_eq!(page.events[1].event_id, events[1]);
    assert_eq!(page.events[0].captured_at % 60, 0);
    assert_eq!(page.events[0].parts.len(), 3);
    assert_eq!(page.events[0].parts[1].kind, PartKind::Clip);
    assert_eq!(page.events[0].parts[1].payload_size, clip.len() as u64);
    let next = page.next.expect("a second page");
    let page2: EventPage = t
        .send(
            Method::GET,
            &format!("{list_path}?limit=2&before={next}"),
            Some(&owner.token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page2.events.len(), 1);
    assert_eq!(page2.events[0].event_id, events[0]);
    assert!(page2.next.is_none());
    let filtered: EventPage = t
        .send(
            Method::GET,
            &format!("{list_path}?since={}&until={}", t0 + 100, t0 + 200),
            Some(&owner.token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered.events.len(), 1);
    assert_eq!(filtered.events[0].event_id, events[1]);
    let one: Event = t
        .send(
            Method::GET,
            &format!("/v1/events/{}", events[2]),
            Some(&owner.token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one.camera_id, cam.camera_id);
    assert_eq!(one.owner_id, owner.account_id);

    // Downloads: whole part = header ‖ payload; ranges on each.
    let part = format!("/v1/events/{}/parts/clip", events[2]);
    let resp = t.get_bytes(&part, &owner.token, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["accept-ranges"], "bytes");
    let whole = resp.bytes().await.unwrap();
    assert_eq!(&whole[..15], b"age-header-clip");
    assert_eq!(&whole[15..], &clip[..]);
    let resp = t
        .get_bytes(
            &format!("{part}/payload"),
            &owner.token,
            Some("bytes=1000-1999999"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes 1000-1999999/{}", clip.len()).as_str()
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &clip[1000..2_000_000]);
    // A range across the header/payload boundary of the whole file.
    let resp = t.get_bytes(&part, &owner.token, Some("bytes=10-19")).await;
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    let got = resp.bytes().await.unwrap();
    assert_eq!(&got[..5], b"-clip");
    assert_eq!(&got[5..], &clip[..5]);
    let resp = t
        .get_bytes(&format!("{part}/payload"), &owner.token, Some("bytes=-10"))
        .await;
    assert_eq!(
        resp.bytes().await.unwrap().as_ref(),
        &clip[clip.len() - 10..]
    );
    let resp = t
        .get_bytes(&format!("{part}/header"), &owner.token, None)
        .await;
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"age-header-clip");
    let resp = t
        .get_bytes(
            &format!("{part}/payload"),
            &owner.token,
            Some(&format!("bytes={}-", clip.len())),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes */{}", clip.len()).as_str()
    );

    // Header re-wrap by the owner; the payload is untouched.
    let resp = t
        .send(
            Method::PUT,
            &format!("{part}/header"),
            Some(&owner.token),
            Some(b"new-header".to_vec()),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let whole = t
        .get_bytes(&part, &owner.token, None)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(&whole[..10], b"new-header");
    assert_eq!(&whole[10..], &clip[..]);

    // Sharing: a household member sees the camera's events, and only while shared.
    let member = t.new_viewer("member").await;
    let share_path = format!("/v1/cameras/{}/shares/{}", cam.camera_id, member.account_id);
    assert_eq!(
        t.get_bytes(&part, &member.token, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let resp = t
        .send(Method::PUT, &share_path, Some(&owner.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let shares: ShareList = t
        .send(
            Method::GET,
            &format!("/v1/cameras/{}/shares", cam.camera_id),
            Some(&owner.token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shares.shares.len(), 1);
    let cams: CameraList = t
        .send(Method::GET, "/v1/cameras", Some(&member.token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cams.cameras.len(), 1);
    assert_eq!(cams.cameras[0].role, CameraRole::Shared);
    assert_eq!(
        t.get_bytes(&part, &member.token, None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        t.send(Method::GET, &set_path, Some(&member.token), None)
            .await
            .status(),
        StatusCode::OK
    );
    // Shared is not owner: owner-only routes answer 404.
    for (method, path) in [
        (Method::DELETE, format!("/v1/events/{}", events[0])),
        (Method::GET, format!("/v1/cameras/{}/shares", cam.camera_id)),
        (Method::PUT, format!("{part}/header")),
    ] {
        let resp = t
            .send(method, &path, Some(&member.token), Some(b"x".to_vec()))
            .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let resp = t
        .send(Method::DELETE, &share_path, Some(&owner.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        t.get_bytes(&part, &member.token, None).await.status(),
        StatusCode::NOT_FOUND
    );

    // A device removed while it is downloading: its next download is refused
    // (downloads read the database in place; nothing is remembered).
    let thumb = format!("/v1/events/{}/parts/thumbnail", events[1]);
    let phone = t.link_device(&owner, "phone").await;
    for token in [&phone.token, &owner.token] {
        assert_eq!(
            t.get_bytes(&thumb, token, None).await.status(),
            StatusCode::OK
        );
    }
    let resp = t
        .send(
            Method::DELETE,
            &format!("/v1/devices/{}", phone.device_id),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        t.get_bytes(&thumb, &phone.token, None).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Delete an event: its parts, just read (and their files kept open),
    // are gone at once.
    let resp = t
        .send(
            Method::DELETE,
            &format!("/v1/events/{}", events[1]),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        t.get_bytes(&thumb, &owner.token, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let resp = t
        .send(
            Method::GET,
            &format!("/v1/events/{}", events[1]),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // Retention: an old event goes, a recent one stays.
    let old = Uuid::now_v7();
    t.upload_ok(
        &cam,
        old,
        PartKind::Thumbnail,
        b"h",
        b"old",
        now() - 10 * 86_400,
    )
    .await;
    let resp = t
        .json(
            Method::PUT,
            &format!("/v1/cameras/{}/retention", cam.camera_id),
            Some(&owner.token),
            &serde_json::json!({"days": 5}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(t.server.run_retention().await.unwrap(), 1);
    let page: EventPage = t
        .send(Method::GET, &list_path, Some(&owner.token), None)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<Uuid> = page.events.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, vec![events[2], events[0]]);

    // Nothing the database still names was swept; deleted blobs are gone.
    assert_eq!(
        t.server.run_sweep(std::time::Duration::ZERO).await.unwrap(),
        0
    );
    let whole = t
        .get_bytes(&part, &owner.token, None)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(&whole[10..], &clip[..]);

    // Delete the camera: its events and credential go with it.
    let resp = t
        .send(
            Method::DELETE,
            &format!("/v1/cameras/{}", cam.camera_id),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        t.get_bytes(&part, &owner.token, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.send(Method::GET, "/v1/camera", Some(&cam.token), None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // No blob file is left behind.
    let left = t.blob_keys().await;
    assert!(
        left.is_empty(),
        "blobs left after deleting everything: {left:?}"
    );

    // Metrics saw it all.
    let metrics = t
        .http
        .get(format!(
            "http://{}/metrics",
            t.server.metrics_addr().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("sealcam_http_requests_total"), "{metrics}");
    assert!(metrics.contains("sealcam_bytes_in_total"));
    assert!(metrics.contains("sealcam_uploads_in_flight"));
    t.server.shutdown().await.unwrap();
}

pub async fn reupload_same_bytes_is_idempotent_and_different_bytes_conflict(b: Backend) {
    let Some(t) = start_on(
        b,
        "reupload_same_bytes_is_idempotent_and_different_bytes_conflict",
        |_| {},
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("o").await;
    let cam = t.pair_camera(&owner).await;
    let event = Uuid::now_v7();
    let payload = bytes(1, 50_000);
    let first = t
        .upload(&cam, event, PartKind::Thumbnail, b"header", &payload, now())
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    for _ in 0..2 {
        let again = t
            .upload(&cam, event, PartKind::Thumbnail, b"header", &payload, now())
            .await;
        assert_eq!(again.status(), StatusCode::OK);
        let body: UploadResponse = again.json().await.unwrap();
        assert!(!body.created);
    }
    // Different payload, different header, different split: all refused.
    let mut other = payload.clone();
    other[100] ^= 1;
    for (header, payload) in [
        (&b"header"[..], &other[..]),
        (&b"HEADER"[..], &payload[..]),
        (&b"headerX"[..], &payload[1..]),
    ] {
        let resp = t
            .upload(&cam, event, PartKind::Thumbnail, header, payload, now())
            .await;
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        assert_eq!(error_code(resp).await, "conflict");
    }
    // Stored once, never overwritten.
    let path = format!("/v1/events/{event}/parts/thumbnail/payload");
    let got = t
        .get_bytes(&path, &owner.token, None)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.as_ref(), &payload[..]);
    let page: EventPage = t
        .send(
            Method::GET,
            &format!("/v1/cameras/{}/events", cam.camera_id),
            Some(&owner.token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].parts.len(), 1);

    // Concurrent uploads of one new part: one 201, the rest 200, one stored copy.
    let event = Uuid::now_v7();
    let payload = bytes(2, 2_000_000);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let http = t.http.clone();
        let url = t.url(&format!(
            "/v1/events/{event}/parts/clip?captured_at={}&header_len=3",
            now()
        ));
        let token = cam.token.clone();
        let mut body = b"hdr".to_vec();
        body.extend_from_slice(&payload);
        tasks.push(tokio::spawn(async move {
            http.put(url)
                .bearer_auth(token)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        5,
        "{statuses:?}"
    );
    let blobs = t.blob_keys().await;
    assert_eq!(blobs.len(), 4, "2 parts × (header + payload): {blobs:?}");
}

pub async fn limits_and_validation(b: Backend) {
    let Some(t) = start_on(b, "limits_and_validation", |c| {
        c.limits.max_thumbnail_bytes = 10_000;
    })
    .await
    else {
        return;
    };
    let owner = t.new_viewer("o").await;
    let cam = t.pair_camera(&owner).await;
    let event = Uuid::now_v7();
    let resp = t
        .upload(
            &cam,
            event,
            PartKind::Thumbnail,
            b"h",
            &bytes(3, 10_000),
            now(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(resp).await, "payload_too_large");
    let resp = t
        .upload(
            &cam,
            event,
            PartKind::Thumbnail,
            &bytes(3, 70_000),
            b"p",
            now(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Body shorter than header_len.
    let resp = t
        .send(
            Method::PUT,
            &format!("/v1/events/{event}/parts/thumbnail?captured_at=1&header_len=100"),
            Some(&cam.token),
            Some(b"short".to_vec()),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Missing query.
    let resp = t
        .send(
            Method::PUT,
            &format!("/v1/events/{event}/parts/thumbnail"),
            Some(&cam.token),
            Some(b"x".to_vec()),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(resp).await, "bad_request");
    // Unknown kinds and malformed ids are plain 404s.
    let resp = t
        .upload(&cam, event, PartKind::Thumbnail, b"h", b"p", now())
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    for path in [
        format!("/v1/events/{event}/parts/video"),
        "/v1/events/not-a-uuid/parts/clip".to_owned(),
        "/v1/nothing-here".to_owned(),
    ] {
        let resp = t.get_bytes(&path, &owner.token, None).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(resp).await, "not_found");
    }
    // A camera credential is not a viewer credential and vice versa.
    let resp = t
        .send(Method::GET, "/v1/cameras", Some(&cam.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = t
        .send(Method::GET, "/v1/camera", Some(&owner.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Bad JSON gets the JSON error shape.
    let resp = t
        .send(
            Method::POST,
            "/v1/enroll",
            None,
            Some(b"{not json".to_vec()),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(resp).await, "bad_request");
    let resp = t
        .send(Method::PATCH, "/v1/account", Some(&owner.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(resp).await, "method_not_allowed");
}

pub async fn failed_authentication_is_rate_limited(b: Backend) {
    let Some(t) = start_on(b, "failed_authentication_is_rate_limited", |c| {
        c.auth.failed_auth_limit = 5;
    })
    .await
    else {
        return;
    };
    let owner = t.new_viewer("o").await;
    let bogus = format!("scv_{}", "A".repeat(43));
    for _ in 0..5 {
        let resp = t.send(Method::GET, "/v1/account", Some(&bogus), None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = t.send(Method::GET, "/v1/account", Some(&bogus), None).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(error_code(resp).await, "rate_limited");
    // Guessing enrollment or claim tokens counts too, and is refused the same way.
    let resp = t
        .json(
            Method::POST,
            "/v1/enroll",
            None,
            &serde_json::json!({"token": "sce_guess", "device_name": "x"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    // Even a valid credential from a blocked address waits.
    let resp = t
        .send(Method::GET, "/v1/account", Some(&owner.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Several replicas behind a load balancer: the limiter keys on the client
/// the trusted balancer names, so one bad client blocks only itself.
pub async fn rate_limit_follows_the_client_behind_a_trusted_proxy(b: Backend) {
    let Some(t) = start_on(
        b,
        "rate_limit_follows_the_client_behind_a_trusted_proxy",
        |c| {
            c.auth.failed_auth_limit = 3;
            c.server.trusted_proxies = vec!["127.0.0.0/8".into()];
        },
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("o").await;
    let bogus = format!("scv_{}", "A".repeat(43));
    let get = |token: String, client: &'static str| {
        t.http
            .get(t.url("/v1/account"))
            .bearer_auth(token)
            .header("X-Forwarded-For", format!("{client}, 127.0.0.2"))
            .send()
    };
    for _ in 0..3 {
        let resp = get(bogus.clone(), "203.0.113.5").await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = get(bogus.clone(), "203.0.113.5").await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let resp = get(owner.token.clone(), "203.0.113.5").await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    // Other clients through the same balancer are not blocked.
    let resp = get(bogus.clone(), "203.0.113.6").await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = get(owner.token.clone(), "198.51.100.7").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

pub async fn overload_answers_503_with_retry_after(b: Backend) {
    let Some(t) = start_on(b, "overload_answers_503_with_retry_after", |c| {
        c.limits.max_concurrent_uploads = 1;
        c.limits.overload_retry_after_secs = 3;
    })
    .await
    else {
        return;
    };
    let owner = t.new_viewer("o").await;
    let cam = t.pair_camera(&owner).await;

    // Hold the only upload slot with a body that has not finished arriving.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let url = t.url(&format!(
        "/v1/events/{}/parts/clip?captured_at={}&header_len=4",
        Uuid::now_v7(),
        now()
    ));
    let slow = tokio::spawn(
        t.http
            .put(url)
            .bearer_auth(&cam.token)
            .body(reqwest::Body::wrap_stream(stream))
            .send(),
    );
    tx.send(Ok(b"hdr!first".to_vec())).await.unwrap();
    // Wait (without sleeping) until the server counts it in flight.
    let metrics_url = format!("http://{}/metrics", t.server.metrics_addr().unwrap());
    loop {
        let text = t
            .http
            .get(&metrics_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("sealcam_uploads_in_flight 1") {
            break;
        }
        tokio::task::yield_now().await;
    }
    let resp = t
        .upload(&cam, Uuid::now_v7(), PartKind::Thumbnail, b"h", b"p", now())
        .await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "3");
    assert_eq!(error_code(resp).await, "overloaded");
    // Finish the slow upload; the slot frees and uploads work again.
    tx.send(Ok(b"-rest".to_vec())).await.unwrap();
    drop(tx);
    assert_eq!(slow.await.unwrap().unwrap().status(), StatusCode::CREATED);
    let resp = t
        .upload(&cam, Uuid::now_v7(), PartKind::Thumbnail, b"h", b"p", now())
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let text = t
        .http
        .get(&metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("sealcam_rejections_total{code=\"overloaded\"} 1"),
        "{text}"
    );
}

pub async fn graceful_shutdown_lets_an_inflight_upload_finish(b: Backend) {
    let Some(t) = start_on(
        b,
        "graceful_shutdown_lets_an_inflight_upload_finish",
        |_| {},
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("o").await;
    let cam = t.pair_camera(&owner).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let event = Uuid::now_v7();
    let url = t.url(&format!(
        "/v1/events/{event}/parts/clip?captured_at={}&header_len=4",
        now()
    ));
    let slow = tokio::spawn(
        t.http
            .put(url)
            .bearer_auth(&cam.token)
            .body(reqwest::Body::wrap_stream(stream))
            .send(),
    );
    tx.send(Ok(b"hdr!first".to_vec())).await.unwrap();
    let metrics_url = format!("http://{}/metrics", t.server.metrics_addr().unwrap());
    loop {
        let text = t
            .http
            .get(&metrics_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("sealcam_uploads_in_flight 1") {
            break;
        }
        tokio::task::yield_now().await;
    }
    let (dir, mut config) = (t.dir, t.config);
    let shutdown = tokio::spawn(t.server.shutdown());
    tx.send(Ok(b"-rest".to_vec())).await.unwrap();
    drop(tx);
    assert_eq!(slow.await.unwrap().unwrap().status(), StatusCode::CREATED);
    shutdown.await.unwrap().unwrap();

    // Restart on the same storage: the upload is there.
    config.server.metrics_enabled = false;
    let server = sealcam_server::Server::bind(config).await.unwrap().spawn();
    let url = format!(
        "http://{}/v1/events/{event}/parts/clip/payload",
        server.addr()
    );
    let got = reqwest::Client::new()
        .get(url)
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.as_ref(), b"first-rest");
    server.shutdown().await.unwrap();
    drop(dir);
}

/// Local storage only: breaks the blob directory on purpose (registered in
/// tests/sqlite_local.rs alone).
#[allow(dead_code)]
pub async fn healthz_fails_when_the_blob_store_does(b: Backend) {
    assert_eq!(
        b,
        Backend::SqliteLocal,
        "this scenario breaks a local directory"
    );
    let Some(t) = start_on(b, "healthz_fails_when_the_blob_store_does", |_| {}).await else {
        return;
    };
    assert_eq!(
        t.http.get(t.url("/healthz")).send().await.unwrap().status(),
        StatusCode::OK
    );
    // Make the health probe's directory a file: blob writes now fail.
    let health = t.dir.path().join("blobs/health");
    std::fs::remove_dir_all(&health).unwrap();
    std::fs::write(&health, b"not a directory").unwrap();
    let resp = t.http.get(t.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["blobs"], "failing");
    assert_eq!(body["database"], "ok");
    std::fs::remove_file(&health).unwrap();
    assert_eq!(
        t.http.get(t.url("/healthz")).send().await.unwrap().status(),
        StatusCode::OK
    );
}
