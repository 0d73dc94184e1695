//! Accounts and their devices over real HTTP, on every storage backend
//! (tests/sqlite_local.rs, tests/postgres_s3.rs): enrolling, linking,
//! removing devices, and the account's opaque records.

use crate::common::seeded::seeded;
use crate::common::{start_on, Backend};
use reqwest::{Method, StatusCode};
use sealcam_wire::{AccountInfo, DeviceList, LinkResponse};

pub async fn account_answers_and_a_link_token_enrolls_one_device(b: Backend) {
    let Some(t) = start_on(
        b,
        "account_answers_and_a_link_token_enrolls_one_device",
        |_| {},
    )
    .await
    else {
        return;
    };
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
}

pub async fn opaque_records_take_conditional_writes(b: Backend) {
    let Some(t) = start_on(b, "opaque_records_take_conditional_writes", |_| {}).await else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let laptop = t.link_device(&owner, "laptop").await;

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
        .bearer_auth(&laptop.token)
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
}

pub async fn a_removed_device_credential_stops_working_at_once(b: Backend) {
    let Some(t) = start_on(
        b,
        "a_removed_device_credential_stops_working_at_once",
        |_| {},
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let laptop = t.link_device(&owner, "laptop").await;
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
        .send(Method::GET, "/v1/account", Some(&laptop.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

/// A device removed while it is downloading: its next download is refused
/// (downloads read the database in place; nothing is remembered).
pub async fn a_device_removed_while_downloading_is_refused_next(b: Backend) {
    let Some(s) = seeded(b, "a_device_removed_while_downloading_is_refused_next").await else {
        return;
    };
    let (t, owner) = (&s.t, &s.owner);
    let thumb = format!("/v1/events/{}/parts/thumbnail", s.events[1]);
    let phone = t.link_device(owner, "phone").await;
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
}
