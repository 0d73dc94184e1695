//! The event stream (`GET /v1/events/stream`) over real HTTP, on every
//! storage backend (tests/sqlite_local.rs, tests/postgres_s3.rs): who hears
//! which new part, and when a stream ends.
//!
//! A watcher that must hear nothing is shown to be listening by what it
//! hears next: a part of its own uploaded afterwards is the next thing it
//! hears (the feed keeps the order parts were stored in), so no test waits
//! for silence.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use sealcam_server::feed::{FeedItem, PartNotice};
use sealcam_wire::{PartKind, PartStored};
use uuid::Uuid;

use crate::common::inflight::metrics;
use crate::common::sse::{Block, Next};
use crate::common::{bytes, now, start_on, Backend, CameraCred, TestServer};

/// How long a part may take to reach a watcher.
const HEARD_WITHIN: Duration = Duration::from_secs(2);

/// Uploads a fresh event's thumbnail; returns what a watcher should hear.
async fn store(t: &TestServer, cam: &CameraCred, kind: PartKind) -> PartStored {
    let event_id = Uuid::new_v4();
    t.upload_ok(cam, event_id, kind, b"hdr", &bytes(1, 100), now())
        .await;
    PartStored {
        event_id,
        camera_id: cam.camera_id,
        kind,
    }
}

pub async fn a_watcher_hears_a_new_part_within_two_seconds(b: Backend) {
    let Some(t) = start_on(b, "a_watcher_hears_a_new_part_within_two_seconds", |_| {}).await else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let cam = t.pair_camera(&owner).await;
    let mut stream = t.watch_ready(&owner.token).await;
    assert_eq!(t.server.state().metrics.event_streams.get(), 1);

    for kind in PartKind::ALL {
        let stored = store(&t, &cam, kind).await;
        assert_eq!(stream.expect_part(HEARD_WITHIN).await, stored);
    }
    // A camera paired after the stream opened is the account's too.
    let cam2 = t.pair_camera(&owner).await;
    let stored = store(&t, &cam2, PartKind::Clip).await;
    assert_eq!(stream.expect_part(HEARD_WITHIN).await, stored);

    let page = metrics(&t).await;
    assert!(page.contains("sealcam_event_streams 1"), "{page}");
    assert!(
        page.contains("sealcam_event_stream_messages_total{event=\"part\"} 4"),
        "{page}"
    );
    assert!(page.contains("sealcam_event_stream_messages_total{event=\"ready\"} 1"));
}

pub async fn another_household_hears_nothing_a_shared_one_does(b: Backend) {
    let Some(t) = start_on(
        b,
        "another_household_hears_nothing_a_shared_one_does",
        |_| {},
    )
    .await
    else {
        return;
    };
    let a = t.new_viewer("a").await;
    let cam_a = t.pair_camera(&a).await;
    let b_ = t.new_viewer("b").await;
    let cam_b = t.pair_camera(&b_).await;
    let c = t.new_viewer("c").await;
    let cam_c = t.pair_camera(&c).await;
    let share = format!("/v1/cameras/{}/shares/{}", cam_a.camera_id, c.account_id);
    let resp = t.send(Method::PUT, &share, Some(&a.token), None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let mut watch_a = t.watch_ready(&a.token).await;
    let mut watch_b = t.watch_ready(&b_.token).await;
    let mut watch_c = t.watch_ready(&c.token).await;

    let of_a = store(&t, &cam_a, PartKind::Thumbnail).await;
    assert_eq!(watch_a.expect_part(HEARD_WITHIN).await, of_a);
    assert_eq!(watch_c.expect_part(HEARD_WITHIN).await, of_a);
    // B heard nothing of A's: the next thing it hears is its own part.
    let of_b = store(&t, &cam_b, PartKind::Thumbnail).await;
    assert_eq!(watch_b.expect_part(HEARD_WITHIN).await, of_b);

    // The share is withdrawn: C's stream, open since it was granted, is
    // authorised again for each part and hears no more of A's camera.
    let resp = t.send(Method::DELETE, &share, Some(&a.token), None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let of_a = store(&t, &cam_a, PartKind::Clip).await;
    assert_eq!(watch_a.expect_part(HEARD_WITHIN).await, of_a);
    let of_c = store(&t, &cam_c, PartKind::Thumbnail).await;
    assert_eq!(watch_c.expect_part(HEARD_WITHIN).await, of_c);
    // And neither A nor B heard C's or B's parts.
    let of_a = store(&t, &cam_a, PartKind::Record).await;
    assert_eq!(watch_a.expect_part(HEARD_WITHIN).await, of_a);
    let of_b = store(&t, &cam_b, PartKind::Clip).await;
    assert_eq!(watch_b.expect_part(HEARD_WITHIN).await, of_b);
}

pub async fn an_idempotent_retry_is_not_heard_again(b: Backend) {
    let Some(t) = start_on(b, "an_idempotent_retry_is_not_heard_again", |_| {}).await else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let cam = t.pair_camera(&owner).await;
    let mut stream = t.watch_ready(&owner.token).await;

    let event = Uuid::new_v4();
    let payload = bytes(9, 5000);
    t.upload_ok(&cam, event, PartKind::Thumbnail, b"hdr", &payload, now())
        .await;
    let first = stream.expect_part(HEARD_WITHIN).await;
    assert_eq!((first.event_id, first.kind), (event, PartKind::Thumbnail));
    // The camera did not hear the answer and sends the same part again.
    let resp = t
        .upload(&cam, event, PartKind::Thumbnail, b"hdr", &payload, now())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // A conflicting upload is not heard either.
    let resp = t
        .upload(&cam, event, PartKind::Thumbnail, b"hdr", b"other", now())
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    // The next part of the same event is the next thing heard.
    t.upload_ok(&cam, event, PartKind::Record, b"hdr", b"rec", now())
        .await;
    let next = stream.expect_part(HEARD_WITHIN).await;
    assert_eq!((next.event_id, next.kind), (event, PartKind::Record));
}

pub async fn a_removed_devices_stream_ends(b: Backend) {
    let Some(t) = start_on(b, "a_removed_devices_stream_ends", |_| {}).await else {
        return;
    };
    let phone = t.new_viewer("household").await;
    let laptop = t.link_device(&phone, "laptop").await;
    let cam = t.pair_camera(&phone).await;
    let mut on_phone = t.watch_ready(&phone.token).await;
    let mut on_laptop = t.watch_ready(&laptop.token).await;
    let stored = store(&t, &cam, PartKind::Thumbnail).await;
    assert_eq!(on_laptop.expect_part(HEARD_WITHIN).await, stored);
    assert_eq!(on_phone.expect_part(HEARD_WITHIN).await, stored);

    t.remove_device(&phone, &laptop).await;
    let stored = store(&t, &cam, PartKind::Clip).await;
    assert_eq!(on_phone.expect_part(HEARD_WITHIN).await, stored);
    // The laptop's stream ends without the part.
    on_laptop.expect_end(Duration::from_secs(10)).await;
    assert_eq!(t.server.state().metrics.event_streams.get(), 1);
    // And it cannot open another.
    let resp = t
        .send(Method::GET, "/v1/events/stream", Some(&laptop.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

/// With nothing stored, a removed device's stream ends at the next
/// keep-alive, not at `limits.stream_max_secs`.
pub async fn a_removed_devices_quiet_stream_ends_at_its_next_keep_alive(b: Backend) {
    let Some(t) = start_on(
        b,
        "a_removed_devices_quiet_stream_ends_at_its_next_keep_alive",
        |c| {
            c.limits.stream_keepalive_secs = 1;
            c.limits.stream_max_secs = 600;
        },
    )
    .await
    else {
        return;
    };
    let phone = t.new_viewer("household").await;
    let laptop = t.link_device(&phone, "laptop").await;
    t.pair_camera(&phone).await;
    let mut on_phone = t.watch_ready(&phone.token).await;
    let mut on_laptop = t.watch_ready(&laptop.token).await;
    t.remove_device(&phone, &laptop).await;
    on_laptop.expect_end(Duration::from_secs(5)).await;
    // The phone's stream, looked up as often, goes on.
    for _ in 0..2 {
        assert_eq!(
            on_phone.next_block(Duration::from_secs(5)).await,
            Next::Block(Block::Comment)
        );
    }
    assert_eq!(t.server.state().metrics.event_streams.get(), 1);
}

pub async fn a_lagging_watcher_is_told_to_list_again(b: Backend) {
    let Some(t) = start_on(b, "a_lagging_watcher_is_told_to_list_again", |_| {}).await else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let cam = t.pair_camera(&owner).await;
    let mut stream = t.watch_ready(&owner.token).await;

    // More notices than the channel keeps, sent without yielding: the
    // watcher (on this test's single-threaded runtime) reads none of them
    // in time. They name nobody's camera.
    let feed = &t.server.state().feed;
    for _ in 0..5000 {
        feed.send(FeedItem::Part(PartNotice {
            owner_id: Uuid::new_v4(),
            camera_id: Uuid::new_v4(),
            event_id: Uuid::new_v4(),
            kind: PartKind::Thumbnail,
        }));
    }
    assert_eq!(stream.expect_event("lagged", HEARD_WITHIN).await, "{}");
    // The stream goes on.
    let stored = store(&t, &cam, PartKind::Thumbnail).await;
    assert_eq!(stream.expect_part(HEARD_WITHIN).await, stored);
    // Notices lost upstream (a PostgreSQL listener reconnected) say the same.
    feed.send(FeedItem::Missed);
    assert_eq!(stream.expect_event("lagged", HEARD_WITHIN).await, "{}");
    let stored = store(&t, &cam, PartKind::Clip).await;
    assert_eq!(stream.expect_part(HEARD_WITHIN).await, stored);
}

/// `limits.request_timeout_secs` bounds a request up to its response head:
/// a stream outlives it, sends its keep-alives, and ends at
/// `limits.stream_max_secs`.
pub async fn a_stream_outlives_the_request_timeout_and_ends_at_its_limit(b: Backend) {
    let Some(t) = start_on(
        b,
        "a_stream_outlives_the_request_timeout_and_ends_at_its_limit",
        |c| {
            c.limits.request_timeout_secs = 1;
            c.limits.stream_keepalive_secs = 1;
            c.limits.stream_max_secs = 6;
        },
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let cam = t.pair_camera(&owner).await;
    let mut stream = t.watch_ready(&owner.token).await;
    // Two keep-alives: two seconds and more, past the request timeout.
    for _ in 0..2 {
        assert_eq!(
            stream.next_block(Duration::from_secs(5)).await,
            Next::Block(Block::Comment)
        );
    }
    let stored = store(&t, &cam, PartKind::Thumbnail).await;
    assert_eq!(stream.expect_part(HEARD_WITHIN).await, stored);
    stream.expect_end(Duration::from_secs(10)).await;
    assert_eq!(t.server.state().metrics.event_streams.get(), 0);
}

/// Shutdown ends open streams at once: they are not in-flight requests to
/// wait `server.shutdown_grace_secs` for.
pub async fn shutdown_ends_open_streams(b: Backend) {
    let Some(t) = start_on(b, "shutdown_ends_open_streams", |c| {
        c.server.shutdown_grace_secs = 60;
    })
    .await
    else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let mut stream = t.watch_ready(&owner.token).await;
    tokio::time::timeout(Duration::from_secs(20), t.server.shutdown())
        .await
        .expect("shutdown waited for the open stream")
        .unwrap();
    stream.expect_end(Duration::from_secs(5)).await;
}
