//! `PUT /v1/account/recovery-credential`: the credential derived from the
//! owner's recovery key becomes the account's one recovery device (only its
//! hash is stored), idempotently; malformed or foreign credentials are
//! refused, and only the recovery device itself replaces or removes it.

use reqwest::{Method, StatusCode};

use crate::common::{start_on, Backend, TestServer};
use sealcam_wire::{AccountInfo, DeviceList};

fn derived(seed: u8) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    format!("scv_{}", URL_SAFE_NO_PAD.encode([seed; 32]))
}

pub async fn recovery_credential_authenticates_as_the_account(b: Backend) {
    let Some(t) = start_on(
        b,
        "recovery_credential_authenticates_as_the_account",
        |_| {},
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let other = t.new_viewer("neighbour").await;
    let cred = derived(1);
    let body = serde_json::json!({ "credential": cred });

    // Unknown before registration.
    let resp = t.send(Method::GET, "/v1/account", Some(&cred), None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let path = "/v1/account/recovery-credential";
    let resp = t.json(Method::PUT, path, Some(&owner.token), &body).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // Idempotent.
    let resp = t.json(Method::PUT, path, Some(&owner.token), &body).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let resp = t.send(Method::GET, "/v1/account", Some(&cred), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let info: AccountInfo = resp.json().await.unwrap();
    assert_eq!(info.account_id, owner.account_id);

    let devices: DeviceList = t
        .send(Method::GET, "/v1/devices", Some(&owner.token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        devices
            .devices
            .iter()
            .filter(|d| d.name == "recovery key")
            .count(),
        1
    );

    // Another account cannot take it over.
    let resp = t.json(Method::PUT, path, Some(&other.token), &body).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    // Malformed and unauthenticated.
    let bad = serde_json::json!({ "credential": "scv_short" });
    let resp = t.json(Method::PUT, path, Some(&owner.token), &bad).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = t.json(Method::PUT, path, None, &body).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

/// The devices of `owner`'s account, as `(device_id, name, recovery)`.
async fn devices(t: &TestServer, token: &str) -> Vec<(uuid::Uuid, String, bool)> {
    let list: DeviceList = t
        .send(Method::GET, "/v1/devices", Some(token), None)
        .await
        .json()
        .await
        .unwrap();
    list.devices
        .into_iter()
        .map(|d| (d.device_id, d.name, d.recovery))
        .collect()
}

/// The account's one recovery device.
async fn recovery_device(t: &TestServer, token: &str) -> uuid::Uuid {
    let found: Vec<_> = devices(t, token)
        .await
        .into_iter()
        .filter(|(_, _, recovery)| *recovery)
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "recovery key");
    found[0].0
}

async fn status_of(t: &TestServer, token: &str) -> StatusCode {
    t.send(Method::GET, "/v1/account", Some(token), None)
        .await
        .status()
}

pub async fn recovery_credential_is_registered_once(b: Backend) {
    let Some(t) = start_on(b, "recovery_credential_is_registered_once", |_| {}).await else {
        return;
    };
    let path = "/v1/account/recovery-credential";
    let owner = t.new_viewer("household").await;
    let laptop = t.link_device(&owner, "laptop").await;
    let (first, second, third) = (derived(11), derived(12), derived(13));
    let body = |cred: &str| serde_json::json!({ "credential": cred });

    // `sealcam init`: the first registration creates the recovery device.
    let resp = t
        .json(Method::PUT, path, Some(&owner.token), &body(&first))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let recovery = recovery_device(&t, &owner.token).await;
    // The same credential again is a no-op, from any device.
    for token in [&owner.token, &laptop.token, &first] {
        let resp = t.json(Method::PUT, path, Some(token), &body(&first)).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(devices(&t, &owner.token).await.len(), 3);

    // A second credential from an ordinary viewer (a revoked device that
    // kept its credential, say) is refused; it authenticates nothing.
    for token in [&laptop.token, &owner.token] {
        let resp = t.json(Method::PUT, path, Some(token), &body(&second)).await;
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        let err: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["code"], "conflict");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("only the recovery key can replace it"),
            "{message}"
        );
    }
    assert_eq!(status_of(&t, &second).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&t, &first).await, StatusCode::OK);

    // An ordinary viewer cannot remove the recovery device either.
    let resp = t
        .send(
            Method::DELETE,
            &format!("/v1/devices/{recovery}"),
            Some(&laptop.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(status_of(&t, &first).await, StatusCode::OK);
    assert_eq!(recovery_device(&t, &owner.token).await, recovery);

    // The recovery device itself (`sealcam recover`) replaces its credential:
    // the same device, the old credential stops working at once.
    let resp = t
        .json(Method::PUT, path, Some(&first), &body(&second))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(status_of(&t, &first).await, StatusCode::UNAUTHORIZED);
    let info: AccountInfo = t
        .send(Method::GET, "/v1/account", Some(&second), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info.account_id, owner.account_id);
    assert_eq!(recovery_device(&t, &owner.token).await, recovery);
    assert_eq!(devices(&t, &owner.token).await.len(), 3);
    // Not with a credential another device of the account holds.
    let resp = t
        .json(Method::PUT, path, Some(&second), &body(&laptop.token))
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(status_of(&t, &second).await, StatusCode::OK);
    assert_eq!(status_of(&t, &laptop.token).await, StatusCode::OK);

    // The recovery device removes ordinary devices, and may remove itself;
    // then the account can register a recovery credential anew.
    let resp = t
        .send(
            Method::DELETE,
            &format!("/v1/devices/{}", laptop.device_id),
            Some(&second),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = t
        .send(
            Method::DELETE,
            &format!("/v1/devices/{recovery}"),
            Some(&second),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(status_of(&t, &second).await, StatusCode::UNAUTHORIZED);
    assert!(devices(&t, &owner.token)
        .await
        .iter()
        .all(|(_, _, recovery)| !recovery));
    let resp = t
        .json(Method::PUT, path, Some(&owner.token), &body(&third))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_ne!(recovery_device(&t, &owner.token).await, recovery);
    assert_eq!(status_of(&t, &third).await, StatusCode::OK);
}
