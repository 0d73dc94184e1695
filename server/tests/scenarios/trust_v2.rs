//! Owner trust v2 on the server: the account key log (an opaque record that
//! reaches the camera with its recipient set), `supersede` on recipient sets,
//! and link tokens bound to the new device's viewer key. Run on every storage
//! backend (tests/sqlite_local.rs, tests/postgres_s3.rs).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use sealcam_keys::{KeyLog, KeyStatement, OwnerId, OwnerKeyState, OwnerSigningKey, RecoveryKey};
use sealcam_wire::{DeviceList, EnrollResponse, LinkResponse, RecipientSet};
use sha2::{Digest as _, Sha256};

use crate::common::{error_code, start_on, Backend, TestServer, ViewerCred};

const KEY_LOG: &str = "/v1/account/key-log";

/// A plausible age recipient (the server checks only its shape).
fn age_key(seed: char) -> String {
    format!("age1{}", seed.to_string().repeat(58))
}

/// `PUT /v1/account/key-log` with an optional precondition header.
async fn put_log(
    t: &TestServer,
    token: &str,
    precondition: Option<(&str, &str)>,
    body: &[u8],
) -> reqwest::Response {
    let mut req = t
        .http
        .put(t.url(KEY_LOG))
        .bearer_auth(token)
        .body(body.to_vec());
    if let Some((name, value)) = precondition {
        req = req.header(name, value);
    }
    req.send().await.unwrap()
}

pub async fn key_log_round_trips_with_conditional_writes(b: Backend) {
    let Some(t) = start_on(b, "key_log_round_trips_with_conditional_writes", |c| {
        c.limits.max_account_record_bytes = 64 * 1024;
    })
    .await
    else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let laptop = t.link_device(&owner, "laptop").await;
    let cam = t.pair_camera(&owner).await;

    // None yet.
    let resp = t.send(Method::GET, KEY_LOG, Some(&owner.token), None).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // Created only when absent.
    let resp = put_log(&t, &owner.token, Some(("If-None-Match", "*")), b"log-1").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let etag_1 = format!("\"{}\"", hex(&Sha256::digest(b"log-1")));
    assert_eq!(resp.headers()["etag"], etag_1.as_str());
    let resp = put_log(&t, &owner.token, Some(("If-None-Match", "*")), b"log-x").await;
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(error_code(resp).await, "precondition_failed");

    // Any device of the account reads it, with its ETag.
    let resp = t
        .send(Method::GET, KEY_LOG, Some(&laptop.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(resp.headers()["etag"], etag_1.as_str());
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"log-1");

    // If-Match: the first writer wins, the second gets 412 and must read again.
    let resp = put_log(&t, &laptop.token, Some(("If-Match", &etag_1)), b"log-2").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = put_log(&t, &owner.token, Some(("If-Match", &etag_1)), b"log-3").await;
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    let resp = t.send(Method::GET, KEY_LOG, Some(&owner.token), None).await;
    let etag_2 = resp.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"log-2");
    let resp = put_log(&t, &owner.token, Some(("If-Match", &etag_2)), b"log-3").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // Unconditional writes are allowed, as for the key bundle.
    let resp = put_log(&t, &owner.token, None, b"log-4").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    // The key log is its own record: the key bundle and viewer list are untouched.
    for other in ["/v1/account/key-bundle", "/v1/account/viewers"] {
        let resp = t.send(Method::GET, other, Some(&owner.token), None).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{other}");
    }

    // Limits and validation, as for the other account records.
    let resp = put_log(&t, &owner.token, None, &vec![b'x'; 64 * 1024 + 1]).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let resp = put_log(&t, &owner.token, None, &vec![b'x'; 64 * 1024]).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = put_log(&t, &owner.token, None, b"").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = put_log(&t, &owner.token, Some(("If-Match", "\"nothex\"")), b"x").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // A viewer route: cameras and strangers are refused.
    let resp = t.send(Method::GET, KEY_LOG, Some(&cam.token), None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = put_log(&t, &cam.token, None, b"evil").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = t.send(Method::GET, KEY_LOG, None, None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = t.send(Method::GET, KEY_LOG, Some(&owner.token), None).await;
    assert_eq!(resp.bytes().await.unwrap().len(), 64 * 1024);
}

/// `GET /v1/cameras/{id}/recipient-set` with `token`, as JSON text and parsed.
async fn get_set(
    t: &TestServer,
    camera: uuid::Uuid,
    token: &str,
) -> (serde_json::Value, RecipientSet) {
    get_set_with(t, camera, token, "").await
}

/// The same with the query `query` (empty, or `?…`).
async fn get_set_with(
    t: &TestServer,
    camera: uuid::Uuid,
    token: &str,
    query: &str,
) -> (serde_json::Value, RecipientSet) {
    let resp = t
        .send(
            Method::GET,
            &format!("/v1/cameras/{camera}/recipient-set{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK, "{query}");
    let text = resp.bytes().await.unwrap();
    (
        serde_json::from_slice(&text).unwrap(),
        serde_json::from_slice(&text).unwrap(),
    )
}

async fn put_set(
    t: &TestServer,
    camera: uuid::Uuid,
    owner: &ViewerCred,
    body: serde_json::Value,
) -> reqwest::Response {
    t.json(
        Method::PUT,
        &format!("/v1/cameras/{camera}/recipient-set"),
        Some(&owner.token),
        &body,
    )
    .await
}

/// The places, `(reset, generation)`, of the statements of the key log in
/// a recipient-set answer got with `query`.
async fn log_places(
    t: &TestServer,
    camera: uuid::Uuid,
    token: &str,
    query: &str,
) -> Vec<(u64, u64)> {
    let (_, set) = get_set_with(t, camera, token, query).await;
    let log = KeyLog::from_bytes(&STANDARD.decode(set.key_log.unwrap()).unwrap()).unwrap();
    log.statements()
        .iter()
        .map(|st| (st.reset_count(), st.generation()))
        .collect()
}

pub async fn a_camera_naming_its_place_gets_the_key_log_from_there(b: Backend) {
    let Some(t) = start_on(
        b,
        "a_camera_naming_its_place_gets_the_key_log_from_there",
        |_| {},
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let cam = t.pair_camera(&owner).await;
    let id = cam.camera_id;
    let resp = put_set(
        &t,
        id,
        &owner,
        serde_json::json!({"epoch": 1, "set": STANDARD.encode("set-1")}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    // A genesis reset and 600 rotations.
    let account = OwnerId::random();
    let root = RecoveryKey::generate().root_key();
    let mut key = OwnerSigningKey::generate();
    let mut state = OwnerKeyState::new(account, key.public(), Some(root.public()), 1, 0);
    let mut log = KeyLog::new();
    log.push(KeyStatement::reset(account, &root, 1, 0, key.public(), 1))
        .unwrap();
    for _ in 0..600 {
        let next = OwnerSigningKey::generate();
        let st = KeyStatement::rotation(&state, &key, next.public(), 2).unwrap();
        state.apply(&st).unwrap();
        log.push(st).unwrap();
        key = next;
    }
    let resp = put_log(&t, &owner.token, None, &log.to_bytes()).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    // Without a place, the whole log (as for cameras before this release).
    let whole = log_places(&t, id, &cam.token, "").await;
    assert_eq!(whole.len(), 601);
    // From (1, 2) on: every statement naming that place or a later one.
    let from_two = log_places(&t, id, &cam.token, "?held_reset=1&held_generation=2").await;
    assert_eq!(from_two.len(), 599);
    assert_eq!((from_two[0], from_two[598]), ((1, 2), (1, 600)));
    let rest = log_places(&t, id, &cam.token, "?held_reset=1&held_generation=513").await;
    assert_eq!((rest.len(), rest[0], rest[87]), (88, (1, 513), (1, 600)));
    // At the newest key, the one statement that names it; past it, none.
    let at = log_places(&t, id, &cam.token, "?held_reset=1&held_generation=600").await;
    assert_eq!(at, [(1, 600)]);
    assert!(
        log_places(&t, id, &owner.token, "?held_reset=2&held_generation=0")
            .await
            .is_empty()
    );
    // One field alone names no place: the whole log.
    assert_eq!(
        log_places(&t, id, &cam.token, "?held_reset=1").await.len(),
        601
    );

    // A place that is not one is refused with the API's error body.
    let resp = t
        .send(
            Method::GET,
            &format!("/v1/cameras/{id}/recipient-set?held_reset=one&held_generation=2"),
            Some(&cam.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(resp).await, "bad_request");

    // A stored log that does not parse goes out as stored.
    let resp = put_log(&t, &owner.token, None, b"not a log").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (_, set) = get_set(&t, id, &cam.token).await;
    assert_eq!(set.key_log, Some(STANDARD.encode("not a log")));
    let (_, set) = get_set_with(&t, id, &cam.token, "?held_reset=1&held_generation=2").await;
    assert_eq!(set.key_log, Some(STANDARD.encode("not a log")));
}

pub async fn recipient_set_carries_the_key_log_and_supersede_replaces_any_epoch(b: Backend) {
    let Some(t) = start_on(
        b,
        "recipient_set_carries_the_key_log_and_supersede_replaces_any_epoch",
        |_| {},
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let cam = t.pair_camera(&owner).await;
    let member = t.new_viewer("member").await;
    let resp = t
        .send(
            Method::PUT,
            &format!("/v1/cameras/{}/shares/{}", cam.camera_id, member.account_id),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let id = cam.camera_id;

    // No key log yet: the field is absent, and `supersede` is never sent.
    let resp = put_set(
        &t,
        id,
        &owner,
        serde_json::json!({"epoch": 5, "set": STANDARD.encode("set-5")}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (json, set) = get_set(&t, id, &cam.token).await;
    assert_eq!(
        json,
        serde_json::json!({"epoch": 5, "set": STANDARD.encode("set-5")})
    );
    assert_eq!(set.key_log, None);

    // With a key log, every caller of the route gets it with the set — the
    // camera first of all — read in the same request: a new log shows at once.
    for (log, body) in [("log-1", b"log-1".to_vec()), ("log-2", vec![0u8, 255, 7])] {
        let resp = put_log(&t, &owner.token, None, &body).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{log}");
        for token in [&cam.token, &owner.token, &member.token] {
            let (json, set) = get_set(&t, id, token).await;
            assert_eq!(set.epoch, 5);
            assert_eq!(STANDARD.decode(&set.set).unwrap(), b"set-5");
            assert_eq!(json["key_log"], STANDARD.encode(&body), "{log}");
            assert!(json.get("supersede").is_none());
        }
    }
    // A key_log sent with a PUT is ignored: the account's record is what GET carries.
    let resp = put_set(
        &t,
        id,
        &owner,
        serde_json::json!({"epoch": 6, "set": STANDARD.encode("set-6"), "key_log": STANDARD.encode("forged")}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (_, set) = get_set(&t, id, &cam.token).await;
    assert_eq!(set.epoch, 6);
    assert_eq!(set.key_log, Some(STANDARD.encode([0u8, 255, 7])));

    // Someone holding an owner credential stores a set with a huge epoch.
    let huge = i64::MAX as u64;
    let resp = put_set(
        &t,
        id,
        &owner,
        serde_json::json!({"epoch": huge, "set": STANDARD.encode("evil")}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // Without supersede the owner is refused, as before…
    for supersede in [None, Some(false)] {
        let mut body = serde_json::json!({"epoch": 7, "set": STANDARD.encode("set-7")});
        if let Some(flag) = supersede {
            body["supersede"] = flag.into();
        }
        let resp = put_set(&t, id, &owner, body).await;
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        assert_eq!(error_code(resp).await, "stale_epoch");
    }
    // …with it the lower epoch is stored (the camera decides whether to take it).
    let resp = put_set(
        &t,
        id,
        &owner,
        serde_json::json!({"epoch": 7, "set": STANDARD.encode("set-7"), "supersede": true}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (json, set) = get_set(&t, id, &cam.token).await;
    assert_eq!(set.epoch, 7);
    assert_eq!(STANDARD.decode(&set.set).unwrap(), b"set-7");
    assert!(!set.supersede);
    assert!(json.get("supersede").is_none());
    // The same epoch again with supersede, too; and growth works as before after it.
    let resp = put_set(
        &t,
        id,
        &owner,
        serde_json::json!({"epoch": 7, "set": STANDARD.encode("set-7b"), "supersede": true}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = put_set(
        &t,
        id,
        &owner,
        serde_json::json!({"epoch": 7, "set": STANDARD.encode("set-7c")}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let resp = put_set(
        &t,
        id,
        &owner,
        serde_json::json!({"epoch": 8, "set": STANDARD.encode("set-8")}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    // Supersede is the owner's alone: a shared account gets 404, and the
    // usual validation still applies.
    let resp = put_set(
        &t,
        id,
        &member,
        serde_json::json!({"epoch": 1, "set": STANDARD.encode("evil"), "supersede": true}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = put_set(
        &t,
        id,
        &owner,
        serde_json::json!({"epoch": 1, "set": "", "supersede": true}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = put_set(
        &t,
        id,
        &owner,
        serde_json::json!({"epoch": 1, "set": STANDARD.encode("x"), "supersede": "yes"}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (_, set) = get_set(&t, id, &cam.token).await;
    assert_eq!(
        (set.epoch, STANDARD.decode(&set.set).unwrap()),
        (8, b"set-8".to_vec())
    );
}

/// `POST /v1/devices/link` with `body` (none: an old client).
async fn link(t: &TestServer, owner: &ViewerCred, body: Option<&[u8]>) -> reqwest::Response {
    t.send(
        Method::POST,
        "/v1/devices/link",
        Some(&owner.token),
        body.map(<[u8]>::to_vec),
    )
    .await
}

async fn enroll(t: &TestServer, body: serde_json::Value) -> reqwest::Response {
    t.json(Method::POST, "/v1/enroll", None, &body).await
}

pub async fn link_token_bound_to_a_viewer_key_enrolls_only_that_key(b: Backend) {
    let Some(t) = start_on(
        b,
        "link_token_bound_to_a_viewer_key_enrolls_only_that_key",
        |_| {},
    )
    .await
    else {
        return;
    };
    let owner = t.new_viewer("household").await;
    let (k1, k2, k3) = (age_key('q'), age_key('z'), age_key('p'));

    // A token bound to k1.
    let resp = link(
        &t,
        &owner,
        Some(&serde_json::to_vec(&serde_json::json!({"viewer_key": k1})).unwrap()),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let bound: LinkResponse = resp.json().await.unwrap();
    // Another key, or none: refused like an unknown token, and the token stays unused.
    for viewer_key in [serde_json::json!(k2), serde_json::Value::Null] {
        let resp = enroll(
            &t,
            serde_json::json!({"token": bound.link_token, "device_name": "thief", "viewer_key": viewer_key}),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(resp).await, "unauthorized");
    }
    let resp = enroll(
        &t,
        serde_json::json!({"token": bound.link_token, "device_name": "thief"}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // The right key enrolls, once.
    let resp = enroll(
        &t,
        serde_json::json!({"token": bound.link_token, "device_name": "laptop", "viewer_key": k1}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let laptop: EnrollResponse = resp.json().await.unwrap();
    assert_eq!(laptop.account_id, owner.account_id);
    let resp = enroll(
        &t,
        serde_json::json!({"token": bound.link_token, "device_name": "again", "viewer_key": k1}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Unbound tokens, as old clients ask for them (no body, `{}`, a blank
    // body): any key or none enrolls, and the key given is recorded.
    let mut enrolled = vec![(laptop.device_id, Some(k1.clone()))];
    for (body, key) in [
        (None, Some(k3.clone())),
        (Some(&b"{}"[..]), None),
        (Some(&b" \n"[..]), Some(k2.clone())),
    ] {
        let resp = link(&t, &owner, body).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let token: LinkResponse = resp.json().await.unwrap();
        let mut req = serde_json::json!({"token": token.link_token, "device_name": "tablet"});
        if let Some(key) = &key {
            req["viewer_key"] = key.clone().into();
        }
        let resp = enroll(&t, req).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let e: EnrollResponse = resp.json().await.unwrap();
        enrolled.push((e.device_id, key));
    }

    // The devices list shows each device's key (absent when none was given)
    // and that none of them is the recovery device.
    let resp = t
        .send(Method::GET, "/v1/devices", Some(&owner.token), None)
        .await;
    let json: serde_json::Value = resp.json().await.unwrap();
    let list: DeviceList = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(list.devices.len(), 5);
    assert!(list.devices.iter().all(|d| !d.recovery));
    for (device, key) in &enrolled {
        let d = list
            .devices
            .iter()
            .find(|d| d.device_id == *device)
            .unwrap();
        assert_eq!(&d.viewer_key, key);
    }
    let first = json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == owner.device_id.to_string())
        .unwrap();
    assert_eq!(first["recovery"], false);
    assert!(first.get("viewer_key").is_none(), "{first}");

    // Malformed keys and bodies are 400, on both routes.
    for bad in [
        "age1".to_owned(),
        "AGE1qqqq".to_owned(),
        "age1 qqqq".to_owned(),
        format!("age1{}", "q".repeat(97)),
        "age1qqqé".to_owned(),
        "ssh-ed25519 AAAA".to_owned(),
    ] {
        let body = serde_json::to_vec(&serde_json::json!({"viewer_key": bad})).unwrap();
        let resp = link(&t, &owner, Some(&body)).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
        let resp = link(&t, &owner, None).await;
        let token: LinkResponse = resp.json().await.unwrap();
        let resp = enroll(
            &t,
            serde_json::json!({"token": token.link_token, "device_name": "x", "viewer_key": bad}),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    // 100 characters is the most.
    let longest = format!("age1{}", "q".repeat(96));
    let body = serde_json::to_vec(&serde_json::json!({"viewer_key": longest})).unwrap();
    assert_eq!(
        link(&t, &owner, Some(&body)).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        link(&t, &owner, Some(b"{not json")).await.status(),
        StatusCode::BAD_REQUEST
    );

    // Revocation withdraws every unused link token: one minted earlier (by a
    // device since revoked) no longer enrolls anything.
    let resp = link(&t, &owner, None).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let spare: LinkResponse = resp.json().await.unwrap();
    let resp = t
        .send(Method::DELETE, "/v1/devices/link", Some(&owner.token), None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = enroll(
        &t,
        serde_json::json!({"token": spare.link_token, "device_name": "spare"}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
