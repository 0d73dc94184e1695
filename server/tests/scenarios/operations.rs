//! Running the server, over real HTTP, on every storage backend
//! (tests/sqlite_local.rs, tests/postgres_s3.rs): health, metrics, rate
//! limits, overload and graceful shutdown.

use crate::common::inflight::{hold_upload, metrics};
use crate::common::seeded::seeded;
use crate::common::{error_code, now, start_on, Backend};
use reqwest::{Method, StatusCode};
use sealcam_wire::PartKind;
use uuid::Uuid;

pub async fn healthz_answers_ok_on_a_working_server(b: Backend) {
    let Some(t) = start_on(b, "healthz_answers_ok_on_a_working_server", |_| {}).await else {
        return;
    };
    let resp = t.http.get(t.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Metrics see the requests, the bytes and the uploads.
pub async fn metrics_count_requests_bytes_and_uploads(b: Backend) {
    let Some(s) = seeded(b, "metrics_count_requests_bytes_and_uploads").await else {
        return;
    };
    let metrics = metrics(&s.t).await;
    assert!(metrics.contains("sealcam_http_requests_total"), "{metrics}");
    assert!(metrics.contains("sealcam_bytes_in_total"));
    assert!(metrics.contains("sealcam_uploads_in_flight"));
    s.t.server.shutdown().await.unwrap();
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
    // A valid credential from that address is served: the limiter never
    // refuses one (a broken client behind the household's NAT must not
    // lock the household out).
    let resp = t
        .send(Method::GET, "/v1/account", Some(&owner.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
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
    // A valid credential from the blocked client is still served.
    let resp = get(owner.token.clone(), "203.0.113.5").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Other clients through the same balancer are not blocked.
    let resp = get(bogus.clone(), "203.0.113.6").await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = get(owner.token.clone(), "198.51.100.7").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// An IPv6 client is its /64: taking a new address of it for every guess
/// does not get past the limiter, and the next /64 is another client.
pub async fn an_ipv6_client_is_limited_by_its_64_not_each_address(b: Backend) {
    let Some(t) = start_on(
        b,
        "an_ipv6_client_is_limited_by_its_64_not_each_address",
        |c| {
            c.auth.failed_auth_limit = 3;
            c.server.trusted_proxies = vec!["127.0.0.0/8".into()];
        },
    )
    .await
    else {
        return;
    };
    let bogus = format!("scv_{}", "A".repeat(43));
    let get = |client: String| {
        t.http
            .get(t.url("/v1/account"))
            .bearer_auth(&bogus)
            .header("X-Forwarded-For", client)
            .send()
    };
    for i in 1..=3 {
        let client = format!("2001:db8:1:2:{i:x}:{:x}::1", i * 7919);
        let resp = get(client).await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    println!("3 failed guesses from 3 addresses of 2001:db8:1:2::/64, a 4th from a 4th address:");
    let resp = get("2001:db8:1:2:ffff:ffff:ffff:fffe".into())
        .await
        .unwrap();
    println!("  refused with {}", resp.status());
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(resp).await, "rate_limited");
    let resp = get("2001:db8:1:3::1".into()).await.unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "the next /64 is another client"
    );
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
    let slow = hold_upload(&t, &cam, Uuid::now_v7()).await;
    let resp = t
        .upload(&cam, Uuid::now_v7(), PartKind::Thumbnail, b"h", b"p", now())
        .await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "3");
    assert_eq!(error_code(resp).await, "overloaded");
    // Finish the slow upload; the slot frees and uploads work again.
    assert_eq!(slow.finish().await, StatusCode::CREATED);
    let resp = t
        .upload(&cam, Uuid::now_v7(), PartKind::Thumbnail, b"h", b"p", now())
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let text = metrics(&t).await;
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
    let event = Uuid::now_v7();
    let slow = hold_upload(&t, &cam, event).await;
    let (dir, mut config) = (t.dir, t.config);
    let shutdown = tokio::spawn(t.server.shutdown());
    assert_eq!(slow.finish().await, StatusCode::CREATED);
    shutdown.await.unwrap().unwrap();

    // Restart on the same storage: the upload is there.
    config.server.metrics_enabled = false;
    let server = sealcam_server::Server::bind(config).await.unwrap().spawn();
    let url = format!(
        "http://{}/v1/events/{event}/parts/clip/payload",
        server.addr()
    );
    sealcam_server::tls::install_crypto_provider();
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
