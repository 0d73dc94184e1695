//! Two server replicas on one PostgreSQL database and one S3 bucket: a camera
//! pairs and uploads through replica A (the real binary), the owner reads
//! through replica B (in-process). A is SIGKILLed in the middle of
//! concurrent uploads (multipart ones included); B still serves every upload
//! A acknowledged, byte for byte; the camera finishes through B; B's orphan
//! sweep then leaves exactly the blobs the database names.
//!
//! And the event stream across replicas: a part stored through one replica
//! reaches the watchers of every replica, once each, also after a replica's
//! listening connection was cut.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::binary::{enroll_pair_confirm, spawn_binary};
use common::uploads::{create_account_cli, put, upload_until_killed, Uploads};
use reqwest::{Client, StatusCode};
use sealcam_server::{Config, Server};
use sealcam_wire::{EventPage, PartKind, PartStored};
use uuid::Uuid;

/// The configuration of both replicas, as environment variables for the binary.
fn env_of(config: &Config) -> Vec<(String, String)> {
    let s3 = &config.storage.s3;
    vec![
        (
            "SEALCAM__DATABASE__URL".into(),
            config.database.url.clone().unwrap(),
        ),
        ("SEALCAM__DATABASE__MAX_CONNECTIONS".into(), "4".into()),
        (
            "SEALCAM__STORAGE__URL".into(),
            config.storage.url.clone().unwrap(),
        ),
        (
            "SEALCAM__STORAGE__S3__ENDPOINT".into(),
            s3.endpoint.clone().unwrap(),
        ),
        (
            "SEALCAM__STORAGE__S3__REGION".into(),
            s3.region.clone().unwrap(),
        ),
        ("SEALCAM__STORAGE__S3__ALLOW_HTTP".into(), "true".into()),
        (
            "SEALCAM__STORAGE__S3__MULTIPART_PART_BYTES".into(),
            s3.multipart_part_bytes.to_string(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_one_killed_mid_upload_lose_nothing_acknowledged() {
    let Some(services) = common::services::services("two_replicas_one_killed_mid_upload") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    services.configure(&mut config).await;
    let env = env_of(&config);
    run(dir.path(), config, env).await;
}

async fn run(dir: &Path, mut config: Config, env: Vec<(String, String)>) {
    // The operator creates the account with the CLI, against PostgreSQL.
    let enrollment = create_account_cli(dir, "replicas", env.iter().map(|(k, v)| (k, v)));

    // Replica A: the real binary. Replica B: in-process (its sweep is driven
    // from here). Both on the same database and bucket.
    let (mut a, base_a) = spawn_binary(dir, env.iter().map(|(k, v)| (k, v)));
    config.server.metrics_enabled = false;
    let b = Server::bind(config.clone()).await.unwrap().spawn();
    let base_b = format!("http://{}", b.addr());
    sealcam_server::tls::install_crypto_provider();
    let http = Client::new();

    // Enroll and pair across replicas: state lives only in PostgreSQL.
    let (viewer, camera) = enroll_pair_confirm(&http, &base_b, &base_a, &enrollment).await;

    // Concurrent uploads through A: thumbnails and clips of 1–7 MiB (the
    // larger ones multipart on S3); SIGKILL A after enough acknowledgements.
    let Uploads { sent, acked } = upload_until_killed(
        &http,
        &base_a,
        &camera.credential,
        3,
        10,
        |seed| (1 + (seed as usize % 7)) * 1024 * 1024 + 17,
        &mut a,
    )
    .await;

    // Every upload A acknowledged is served by B, byte for byte.
    let get = |path: String| {
        http.get(format!("{base_b}{path}"))
            .bearer_auth(&viewer.credential)
            .send()
    };
    for (event, kind) in &acked {
        let resp = get(format!("/v1/events/{event}/parts/{kind}"))
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "acknowledged {event}/{kind} lost"
        );
        let got = resp.bytes().await.unwrap();
        assert!(
            got[..] == sent[&(*event, *kind)].body()[..],
            "{event}/{kind} differs"
        );
    }

    // The camera retries what was not acknowledged, now through B: a part A
    // recorded without answering is 200 (same bytes), the rest 201.
    let mut retried = 0;
    for (key, part) in &sent {
        if !acked.contains(key) {
            let status = put(&http, &base_b, &camera.credential, key.0, key.1, part)
                .await
                .unwrap();
            assert!(
                status == StatusCode::CREATED || status == StatusCode::OK,
                "retry of {key:?}: {status}"
            );
            retried += 1;
        }
    }

    // Sweep through B with no grace: A's debris (blobs written, never
    // recorded) goes; every listed part is complete and exactly what was sent.
    let swept = b.run_sweep(Duration::ZERO).await.unwrap();
    let mut listed = 0;
    // Parts up to this size are kept in the database, the rest as blobs.
    let in_database_max = b.state().config.storage.in_database_max_bytes;
    let mut listed_blobs = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/cameras/{}/events?limit=100", camera.camera_id);
        if let Some(c) = &cursor {
            path.push_str(&format!("&before={c}"));
        }
        let page: EventPage = get(path).await.unwrap().json().await.unwrap();
        for event in &page.events {
            for info in &event.parts {
                let part = &sent[&(event.event_id, info.kind)];
                let got = get(format!("/v1/events/{}/parts/{}", event.event_id, info.kind))
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                assert!(got[..] == part.body()[..]);
                listed += 1;
                if info.header_size + info.payload_size > in_database_max {
                    listed_blobs += 1;
                }
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(listed, sent.len(), "every part sent is stored once");
    let keys = b.state().blobs.list_keys().await.unwrap();
    assert!(listed_blobs > 0 && listed_blobs < listed);
    assert_eq!(
        keys.len(),
        listed_blobs, // one blob per part too large for the database
        "blobs beside the listed parts survived the sweep"
    );
    println!(
        "replicas: {} uploads acknowledged by A before SIGKILL, all served by B; \
         {retried} retried through B; {swept} orphan blobs swept; {listed} parts \
         ({listed_blobs} of them blobs), {} blobs",
        acked.len(),
        keys.len()
    );
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn parts_stored_through_one_replica_reach_the_watchers_of_every_replica() {
    let Some(a) = common::start_on(
        common::Backend::PostgresS3,
        "parts_stored_through_one_replica_reach_the_watchers_of_every_replica",
        |_| {},
    )
    .await
    else {
        return;
    };
    let b = a.replica().await;
    let wait = Duration::from_secs(2);
    let owner = a.new_viewer("household").await;
    let cam = b.pair_camera(&owner).await;
    let mut on_a = a.watch_ready(&owner.token).await;
    let mut on_b = b.watch_ready(&owner.token).await;

    // Through A, then through B: each watcher hears each part once (the
    // replica that stored it hears it from PostgreSQL, as the others do).
    let event = Uuid::new_v4();
    for (via, kind) in [(&a, PartKind::Thumbnail), (&b, PartKind::Clip)] {
        via.upload_ok(&cam, event, kind, b"hdr", b"payload", common::now())
            .await;
        let heard = PartStored {
            event_id: event,
            camera_id: cam.camera_id,
            kind,
        };
        assert_eq!(on_a.expect_part(wait).await, heard);
        assert_eq!(on_b.expect_part(wait).await, heard);
    }

    // The listening connections are cut (a database restart, a proxy's idle
    // timeout): each replica listens again and tells its watchers to list
    // again, and parts are heard as before.
    use sqlx::Connection as _;
    let mut admin = sqlx::PgConnection::connect(a.config.database.url.as_deref().unwrap())
        .await
        .unwrap();
    let cut: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND query LIKE 'LISTEN%'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(cut, [true, true], "one listener per replica");
    admin.close().await.unwrap();
    for watcher in [&mut on_a, &mut on_b] {
        let data = watcher
            .expect_event("lagged", Duration::from_secs(10))
            .await;
        assert_eq!(data, "{}");
    }
    a.upload_ok(&cam, event, PartKind::Record, b"hdr", b"rec", common::now())
        .await;
    let heard = PartStored {
        event_id: event,
        camera_id: cam.camera_id,
        kind: PartKind::Record,
    };
    assert_eq!(on_a.expect_part(wait).await, heard);
    assert_eq!(on_b.expect_part(wait).await, heard);
}
