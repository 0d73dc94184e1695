//! The committed `docs/openapi.json` is the document the code generates, and
//! the server serves it. `SEALCAM_BLESS=1` rewrites the committed copy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

#[tokio::test]
async fn openapi_is_current_and_served() {
    let generated = sealcam_server::openapi::json();
    let committed_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    if std::env::var_os("SEALCAM_BLESS").is_some() {
        std::fs::write(&committed_path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run `SEALCAM_BLESS=1 cargo test -p sealcam-server --test openapi` and commit it"
    );

    let t = common::start().await;
    let served: serde_json::Value = t
        .http
        .get(t.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(served, expected);
    // Every route of the router is documented.
    let paths = expected["paths"].as_object().unwrap();
    for path in [
        "/v1/enroll",
        "/v1/events/{event_id}/parts/{kind}",
        "/v1/events/{event_id}/parts/{kind}/payload",
        "/v1/cameras/{camera_id}/shares/{account_id}",
        "/v1/account/recovery-credential",
        "/v1/account/key-log",
        "/v1/camera/set-key",
        "/v1/events/stream",
        "/healthz",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    assert_eq!(
        paths.len(),
        28,
        "documented paths: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
}
