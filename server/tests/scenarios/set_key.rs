//! A camera's set key statement over real HTTP, on every storage backend
//! (tests/sqlite_local.rs, tests/postgres_s3.rs): the camera publishes it
//! (`PUT /v1/camera/set-key`), its owner reads it in the camera list, an
//! account the camera is shared with never does. The server stores opaque
//! text: these statements are not real ones, and it cannot tell.

use crate::common::{error_code, start_on, Backend, TestServer, ViewerCred};
use reqwest::{Method, StatusCode};
use sealcam_wire::{Camera, CameraList, CameraRole, SetKey};
use uuid::Uuid;

const PATH: &str = "/v1/camera/set-key";

/// A statement of the shape cameras publish: `age1…`, a space, a signature.
fn statement(n: u8) -> String {
    let signature = char::from(b'A' + n).to_string().repeat(86);
    format!("age1{} {signature}==", "q".repeat(58))
}

/// `viewer`'s view of `camera_id` in `GET /v1/cameras`, and whether the
/// JSON carried a `set_key` field at all.
async fn listed(t: &TestServer, viewer: &ViewerCred, camera_id: Uuid) -> (Camera, bool) {
    let resp = t
        .send(Method::GET, "/v1/cameras", Some(&viewer.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let raw: serde_json::Value = resp.json().await.unwrap();
    let list: CameraList = serde_json::from_value(raw.clone()).unwrap();
    let index = list
        .cameras
        .iter()
        .position(|c| c.camera_id == camera_id)
        .expect("the camera is listed");
    let has_field = raw["cameras"][index].get("set_key").is_some();
    (list.cameras[index].clone(), has_field)
}

/// The camera publishes right after registering (still pending); its owner
/// reads the statement, a member it is shared with does not; publishing
/// again replaces it.
pub async fn a_camera_publishes_its_set_key_to_its_owner_only(b: Backend) {
    let Some(t) = start_on(
        b,
        "a_camera_publishes_its_set_key_to_its_owner_only",
        |_| {},
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let cam = t.register_camera(&owner).await;
    let other = t.pair_camera(&owner).await;
    let (before, has_field) = listed(&t, &owner, cam.camera_id).await;
    assert_eq!((before.set_key, has_field), (None, false));

    let status = t.publish_set_key(&cam.token, &statement(0)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (seen, _) = listed(&t, &owner, cam.camera_id).await;
    assert_eq!(seen.role, CameraRole::Owner);
    assert_eq!(seen.set_key, Some(statement(0)));
    // Only that camera's row: the other camera has published nothing.
    assert_eq!(listed(&t, &owner, other.camera_id).await.0.set_key, None);

    // Another device of the owner's account reads it too.
    let tablet = t.link_device(&owner, "tablet").await;
    let (seen, _) = listed(&t, &tablet, cam.camera_id).await;
    assert_eq!(seen.set_key, Some(statement(0)));

    // A member the camera is shared with sees the camera, never the statement.
    let resp = t
        .send(
            Method::POST,
            &format!("/v1/cameras/{}/confirm", cam.camera_id),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let member = t.new_viewer("member").await;
    let share = format!("/v1/cameras/{}/shares/{}", cam.camera_id, member.account_id);
    let resp = t.send(Method::PUT, &share, Some(&owner.token), None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (shared, has_field) = listed(&t, &member, cam.camera_id).await;
    assert_eq!(shared.role, CameraRole::Shared);
    assert_eq!((shared.set_key, has_field), (None, false));

    // Publishing again (an active camera now) replaces the statement.
    let status = t.publish_set_key(&cam.token, &statement(1)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (seen, _) = listed(&t, &owner, cam.camera_id).await;
    assert_eq!(seen.set_key, Some(statement(1)));
    assert_eq!(listed(&t, &member, cam.camera_id).await.0.set_key, None);
}

/// Empty, over 512 bytes and not printable ASCII: 400, nothing stored.
pub async fn set_key_limits_are_refused_with_400(b: Backend) {
    let Some(t) = start_on(b, "set_key_limits_are_refused_with_400", |_| {}).await else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let cam = t.pair_camera(&owner).await;
    let status = t.publish_set_key(&cam.token, &statement(0)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let refused = [
        String::new(),
        "a".repeat(513),
        format!("{} é", statement(1)),
        format!("{}\n", statement(1)),
        format!("{}\t", statement(1)),
        format!("{}\u{7f}", statement(1)),
        "age1\0".to_owned(),
    ];
    for text in &refused {
        let body = SetKey {
            set_key: text.clone(),
        };
        let resp = t.json(Method::PUT, PATH, Some(&cam.token), &body).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{text:?}");
        assert_eq!(error_code(resp).await, "bad_request");
    }
    for body in [&b"{}"[..], b"{\"set_key\": 5}", b"age1 not json"] {
        let resp = t
            .send(Method::PUT, PATH, Some(&cam.token), Some(body.to_vec()))
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    }
    let (seen, _) = listed(&t, &owner, cam.camera_id).await;
    assert_eq!(seen.set_key, Some(statement(0)));
    // 512 bytes of printable ASCII is the most there is, and fits.
    let longest = "~".repeat(512);
    let status = t.publish_set_key(&cam.token, &longest).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (seen, _) = listed(&t, &owner, cam.camera_id).await;
    assert_eq!(seen.set_key, Some(longest));
}

/// Only a camera publishes a set key: a viewer credential (even the owner's)
/// is refused as on every camera route (`GET /v1/camera`: 401), and so is
/// no credential, or a deleted camera's.
pub async fn a_viewer_credential_may_not_publish_a_set_key(b: Backend) {
    let Some(t) = start_on(b, "a_viewer_credential_may_not_publish_a_set_key", |_| {}).await else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let cam = t.pair_camera(&owner).await;
    let status = t.publish_set_key(&owner.token, &statement(2)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body = SetKey {
        set_key: statement(2),
    };
    let resp = t.json(Method::PUT, PATH, None, &body).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(resp).await, "unauthorized");
    assert_eq!(listed(&t, &owner, cam.camera_id).await.0.set_key, None);

    let resp = t
        .send(
            Method::DELETE,
            &format!("/v1/cameras/{}", cam.camera_id),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let status = t.publish_set_key(&cam.token, &statement(2)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
