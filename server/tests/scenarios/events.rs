//! Events and their parts over real HTTP, on every storage backend
//! (tests/sqlite_local.rs, tests/postgres_s3.rs): uploading, listing,
//! downloading whole parts and ranges, re-wrapping headers, deleting.

use crate::common::seeded::seeded;
use crate::common::{bytes, error_code, now, start_on, Backend};
use reqwest::{Method, StatusCode};
use sealcam_wire::{Event, EventPage, PartKind, UploadResponse};
use uuid::Uuid;

/// List: newest first, paged, captured_at coarsened to the minute.
pub async fn events_list_newest_first_paged_by_the_minute(b: Backend) {
    let Some(s) = seeded(b, "events_list_newest_first_paged_by_the_minute").await else {
        return;
    };
    let (t, owner, events, t0) = (&s.t, &s.owner, &s.events, s.t0);
    let list_path = s.list_path();
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
    assert_eq!(page.events[0].parts[1].payload_size, s.clip.len() as u64);
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
    assert_eq!(one.camera_id, s.cam.camera_id);
    assert_eq!(one.owner_id, owner.account_id);
}

/// Downloads: whole part = header ‖ payload; ranges on each.
pub async fn downloads_serve_whole_parts_and_ranges(b: Backend) {
    let Some(s) = seeded(b, "downloads_serve_whole_parts_and_ranges").await else {
        return;
    };
    let (t, owner, clip) = (&s.t, &s.owner, &s.clip);
    let part = s.clip_part();
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
}

/// Header re-wrap by the owner; the payload is untouched.
pub async fn a_header_rewrap_leaves_the_payload_untouched(b: Backend) {
    let Some(s) = seeded(b, "a_header_rewrap_leaves_the_payload_untouched").await else {
        return;
    };
    let (t, owner) = (&s.t, &s.owner);
    let part = s.clip_part();
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
    assert_eq!(&whole[10..], &s.clip[..]);
}

/// Delete an event: its parts, just read (and their files kept open), are
/// gone at once.
pub async fn deleting_an_event_deletes_its_parts_at_once(b: Backend) {
    let Some(s) = seeded(b, "deleting_an_event_deletes_its_parts_at_once").await else {
        return;
    };
    let (t, owner) = (&s.t, &s.owner);
    let thumb = format!("/v1/events/{}/parts/thumbnail", s.events[1]);
    assert_eq!(
        t.get_bytes(&thumb, &owner.token, None).await.status(),
        StatusCode::OK
    );
    let resp = t
        .send(
            Method::DELETE,
            &format!("/v1/events/{}", s.events[1]),
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
            &format!("/v1/events/{}", s.events[1]),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// After a re-wrap and a deletion, nothing the database still names is
/// swept, and the replaced and deleted blobs are already gone.
pub async fn the_sweep_leaves_what_the_database_names(b: Backend) {
    let Some(s) = seeded(b, "the_sweep_leaves_what_the_database_names").await else {
        return;
    };
    let (t, owner) = (&s.t, &s.owner);
    let part = s.clip_part();
    let resp = t
        .send(
            Method::PUT,
            &format!("{part}/header"),
            Some(&owner.token),
            Some(b"new-header".to_vec()),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = t
        .send(
            Method::DELETE,
            &format!("/v1/events/{}", s.events[1]),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
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
    assert_eq!(&whole[10..], &s.clip[..]);
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
}

/// Concurrent uploads of one new part: one 201, the rest 200, one stored copy.
pub async fn concurrent_uploads_of_one_part_store_one_copy(b: Backend) {
    // Six uploads of one camera at once: more than its fair share of
    // slots (4 by default), so the cap is lifted for this race.
    let Some(t) = start_on(b, "concurrent_uploads_of_one_part_store_one_copy", |c| {
        c.limits.max_uploads_per_camera = 0;
        c.limits.max_uploads_per_account = 0;
    })
    .await
    else {
        return;
    };
    let owner = t.new_viewer("o").await;
    let cam = t.pair_camera(&owner).await;
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
    assert_eq!(
        blobs.len(),
        1,
        "1 part, 1 blob (header ‖ payload): {blobs:?}"
    );
}
