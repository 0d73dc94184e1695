//! `PUT /v1/account/recovery-credential`: the credential derived from the
//! owner's recovery key becomes a device of the account (only its hash is
//! stored), idempotently; malformed or foreign credentials are refused.

use reqwest::{Method, StatusCode};

use crate::common::{start_on, Backend};
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
