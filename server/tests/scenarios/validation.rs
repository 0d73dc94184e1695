//! Refusals of malformed requests over real HTTP, on every storage backend
//! (tests/sqlite_local.rs, tests/postgres_s3.rs): size limits, bad queries
//! and bodies, unknown paths, the wrong kind of credential.

use crate::common::{bytes, error_code, now, start_on, Backend};
use reqwest::{Method, StatusCode};
use sealcam_wire::PartKind;
use uuid::Uuid;

pub async fn oversized_and_malformed_uploads_are_refused(b: Backend) {
    let Some(t) = start_on(b, "oversized_and_malformed_uploads_are_refused", |c| {
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
    // A capture time whose rounding would overflow.
    let resp = t
        .send(
            Method::PUT,
            &format!(
                "/v1/events/{event}/parts/thumbnail?captured_at={}&header_len=1",
                i64::MIN
            ),
            Some(&cam.token),
            Some(b"hp".to_vec()),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
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
}

/// Unknown kinds and malformed ids are plain 404s.
pub async fn unknown_kinds_and_malformed_ids_are_plain_404s(b: Backend) {
    let Some(t) = start_on(b, "unknown_kinds_and_malformed_ids_are_plain_404s", |_| {}).await
    else {
        return;
    };
    let owner = t.new_viewer("o").await;
    let cam = t.pair_camera(&owner).await;
    let event = Uuid::now_v7();
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
}

/// A camera credential is not a viewer credential and vice versa.
pub async fn camera_and_viewer_credentials_are_not_interchangeable(b: Backend) {
    let Some(t) = start_on(
        b,
        "camera_and_viewer_credentials_are_not_interchangeable",
        |_| {},
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("o").await;
    let cam = t.pair_camera(&owner).await;
    let resp = t
        .send(Method::GET, "/v1/cameras", Some(&cam.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = t
        .send(Method::GET, "/v1/camera", Some(&owner.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

/// Bad JSON and a wrong method get the JSON error shape.
pub async fn bad_json_and_wrong_methods_get_the_error_shape(b: Backend) {
    let Some(t) = start_on(b, "bad_json_and_wrong_methods_get_the_error_shape", |_| {}).await
    else {
        return;
    };
    let owner = t.new_viewer("o").await;
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
