//! Accounts and their devices over real HTTP, on every storage backend
//! (tests/sqlite_local.rs, tests/postgres_s3.rs): enrolling, linking,
//! removing devices, and the account's opaque records.

use crate::common::seeded::seeded;
use crate::common::{start_on, Backend, TestServer};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use sealcam_wire::{AccountInfo, DeviceList, LinkResponse, PairingResponse};

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
    t.remove_device(&owner, &laptop).await;
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
    t.remove_device(owner, &phone).await;
    assert_eq!(
        t.get_bytes(&thumb, &phone.token, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// `POST /v1/enroll` with `token`: its status.
async fn enroll_status(t: &TestServer, token: &str) -> StatusCode {
    t.json(
        Method::POST,
        "/v1/enroll",
        None,
        &serde_json::json!({"token": token, "device_name": "stolen"}),
    )
    .await
    .status()
}

/// A link or claim token belongs to the device that made it: removing the
/// device deletes it. (A revocation withdraws the account's link tokens and
/// then removes the device; one the device made in between enrolled a new
/// device for it, for good.)
pub async fn a_removed_devices_link_and_claim_tokens_die_with_it(b: Backend) {
    let Some(t) = start_on(
        b,
        "a_removed_devices_link_and_claim_tokens_die_with_it",
        |_| {},
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let tablet = t.link_device(&owner, "tablet").await;
    let link: LinkResponse = t
        .send(Method::POST, "/v1/devices/link", Some(&tablet.token), None)
        .await
        .json()
        .await
        .unwrap();
    let claim: PairingResponse = t
        .send(Method::POST, "/v1/pairings", Some(&tablet.token), None)
        .await
        .json()
        .await
        .unwrap();
    t.remove_device(&owner, &tablet).await;
    assert_eq!(
        enroll_status(&t, &link.link_token).await,
        StatusCode::UNAUTHORIZED,
        "the removed tablet's link token enrolled a device"
    );
    let resp = t
        .json(
            Method::POST,
            "/v1/cameras/register",
            None,
            &serde_json::json!({
                "claim_token": claim.claim_token,
                "device_public_key": STANDARD.encode([7u8; 32]),
                "pairing_proof": STANDARD.encode([9u8; 64]),
            }),
        )
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "the removed tablet's claim token registered a camera"
    );
    // The owner's own tokens still work.
    t.link_device(&owner, "laptop").await;
    t.register_camera(&owner).await;
}

/// The rest of a slow body, sent when the test says.
type Rest = tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>;
/// A request's answer, still to come.
type Answer = tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>;

/// A request whose body arrives slowly: the first byte now, the rest when
/// the test says. Returns the sender of the rest and the pending answer.
fn slow_request(
    t: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    first: &[u8],
) -> (Rest, Answer) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let request = t
        .http
        .request(method, t.url(path))
        .bearer_auth(token)
        .body(reqwest::Body::wrap_stream(stream));
    tx.try_send(Ok(first.to_vec())).unwrap();
    (tx, tokio::spawn(request.send()))
}

/// A device removed while its request body is still arriving writes
/// nothing when the body ends: the credential is checked before the body
/// and again after it. (A body may take `request_timeout_secs`, hours, to
/// arrive; checked only before it, a stolen tablet held a link request open
/// across its revocation and then enrolled a new device.)
pub async fn a_device_removed_while_its_body_arrives_writes_nothing(b: Backend) {
    let Some(t) = start_on(
        b,
        "a_device_removed_while_its_body_arrives_writes_nothing",
        |_| {},
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let tablet = t.link_device(&owner, "tablet").await;
    let record = t
        .send(
            Method::PUT,
            "/v1/account/viewers",
            Some(&owner.token),
            Some(b"the owner's".to_vec()),
        )
        .await;
    assert_eq!(record.status(), StatusCode::NO_CONTENT);
    let (link_rest, link) = slow_request(&t, Method::POST, "/v1/devices/link", &tablet.token, b" ");
    let (record_rest, record) = slow_request(
        &t,
        Method::PUT,
        "/v1/account/viewers",
        &tablet.token,
        b"the tablet's",
    );
    // Let the server take both heads and check the credential.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    t.remove_device(&owner, &tablet).await;
    link_rest.send(Ok(b"{}".to_vec())).await.unwrap();
    record_rest.send(Ok(b" record".to_vec())).await.unwrap();
    drop((link_rest, record_rest));
    let link = link.await.unwrap().unwrap();
    let status = link.status();
    let body = link.text().await.unwrap();
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the removed tablet got a link token: {body}"
    );
    assert_eq!(
        record.await.unwrap().unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let kept = t
        .send(Method::GET, "/v1/account/viewers", Some(&owner.token), None)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        &kept[..],
        b"the owner's",
        "the removed tablet wrote the record"
    );
}
