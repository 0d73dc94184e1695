//! The timeline at a million events: one camera's event list on SQLite and
//! on PostgreSQL.
//!
//! ```text
//! cargo bench -p sealcam-server --bench timeline                 # SQLite
//! source scripts/services.sh start && cargo bench -p sealcam-server --bench timeline
//! BENCH_EVENTS=100000 cargo bench -p sealcam-server --bench timeline
//! ```
//!
//! The real server runs in-process on loopback; a viewer enrolls and a
//! camera pairs through the API. Then `BENCH_EVENTS` events (default one
//! million, one part each, 31 s apart: a year of a busy camera) are written
//! straight into the database, and a client times `GET
//! /v1/cameras/{id}/events` one request at a time: the newest 100, a deep
//! page (`before=` the cursor of an event in the oldest tenth) and a time
//! window (`until=` the middle of the year). Each figure is the p50 and p99
//! of `BENCH_REQUESTS` requests (default 300) after 20 unmeasured ones; the
//! database's size follows. PostgreSQL runs when `SEALCAM_TEST_POSTGRES_URL`
//! is set (`scripts/services.sh` starts a cluster). It prints figures and
//! asserts only that each page holds 100 events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use sealcam_server::{Config, Server};
use sealcam_wire::EventPage;

const SPACING: i64 = 31;
const T0: i64 = 1_767_225_600; // 2026-01-01

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn event_id(i: i64) -> String {
    format!("01940000-0000-7000-8000-{i:012x}")
}

fn main() {
    let events = env_number("BENCH_EVENTS", 1_000_000) as i64;
    let requests = env_number("BENCH_REQUESTS", 300) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        bench("SQLite", None, events, requests).await;
        match std::env::var("SEALCAM_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => {
                let services = common::services::Services {
                    postgres_url: url,
                    s3_endpoint: String::new(),
                    s3_region: String::new(),
                };
                let db = services.new_database().await;
                bench("PostgreSQL", Some(db), events, requests).await;
            }
            _ => println!(
                "timeline: PostgreSQL skipped (SEALCAM_TEST_POSTGRES_URL unset; \
                 `source scripts/services.sh start` sets it)"
            ),
        }
    });
}

async fn bench(name: &str, postgres: Option<String>, events: i64, requests: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    config.server.metrics_enabled = false;
    if let Some(url) = &postgres {
        config.database.url = Some(url.clone());
    }
    let db_url = config.database_url();
    let server = Server::bind(config).await.unwrap().spawn();
    let base = format!("http://{}", server.addr());
    sealcam_server::tls::install_crypto_provider();
    let http = reqwest::Client::new();
    let account = server.create_account("bench").await.unwrap();
    let (viewer, camera) =
        common::binary::enroll_pair_confirm(&http, &base, &base, &account.enrollment_token).await;
    let camera_id = camera.camera_id.to_string();

    let t = Instant::now();
    let size = if postgres.is_some() {
        fill_postgres(&db_url, &camera_id, events).await
    } else {
        fill_sqlite(&db_url, &camera_id, events).await
    };
    println!(
        "timeline: {name}: {events} events written in {:.1} s; database {:.1} MiB",
        t.elapsed().as_secs_f64(),
        size as f64 / (1024.0 * 1024.0)
    );

    let deep = events / 20;
    let cursor = format!("{}_{}", T0 + deep * SPACING, event_id(deep));
    let middle = T0 + events / 2 * SPACING;
    let url = format!("{base}/v1/cameras/{camera_id}/events");
    for (what, query) in [
        ("newest 100", String::new()),
        ("deep before=", format!("?before={cursor}")),
        ("until= mid-year", format!("?until={middle}")),
    ] {
        let mut ms = Vec::with_capacity(requests);
        for i in 0..requests + 20 {
            let t = Instant::now();
            let page: EventPage = http
                .get(format!("{url}{query}"))
                .bearer_auth(&viewer.credential)
                .send()
                .await
                .unwrap()
                .error_for_status()
                .unwrap()
                .json()
                .await
                .unwrap();
            if i >= 20 {
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            assert_eq!(page.events.len(), 100, "{what}: a full page");
        }
        ms.sort_by(|a, b| a.total_cmp(b));
        println!(
            "timeline: {name}: {what:<16} p50 {:.2} ms, p99 {:.2} ms ({requests} requests; target p99 ≤ 5 ms)",
            ms[ms.len() / 2],
            ms[ms.len() * 99 / 100]
        );
    }
}

/// Events and parts straight into SQLite; returns the database's bytes.
async fn fill_sqlite(url: &str, camera: &str, events: i64) -> u64 {
    use sqlx::Connection as _;
    let mut db = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query(
        "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $1) \
         INSERT INTO events (id, camera_id, captured_at, created_at) \
         SELECT '01940000-0000-7000-8000-' || printf('%012x', i), $2, $3 + i * $4, $3 + i * $4 \
         FROM seq",
    )
    .bind(events)
    .bind(camera)
    .bind(T0)
    .bind(SPACING)
    .execute(&mut db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO parts (event_id, kind, header_key, header_size, header_sha256, \
         payload_key, payload_size, payload_sha256, created_at) \
         SELECT id, 'thumbnail', 'h/' || id, 400, zeroblob(32), 'p/' || id, 32768, \
         zeroblob(32), created_at FROM events WHERE camera_id = $1",
    )
    .bind(camera)
    .execute(&mut db)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(&mut db).await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut db)
        .await
        .unwrap();
    let (page_count, page_size): (i64, i64) =
        sqlx::query_as("SELECT page_count, page_size FROM pragma_page_count, pragma_page_size")
            .fetch_one(&mut db)
            .await
            .unwrap();
    (page_count * page_size) as u64
}

/// Events and parts straight into PostgreSQL; returns the database's bytes.
async fn fill_postgres(url: &str, camera: &str, events: i64) -> u64 {
    use sqlx::Connection as _;
    let mut db = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(
        "INSERT INTO events (id, camera_id, captured_at, created_at) \
         SELECT ('01940000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, $2::uuid, \
         $3 + i * $4, $3 + i * $4 FROM generate_series(0, $1 - 1) AS i",
    )
    .bind(events)
    .bind(camera)
    .bind(T0)
    .bind(SPACING)
    .execute(&mut db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO parts (event_id, kind, header_key, header_size, header_sha256, \
         payload_key, payload_size, payload_sha256, created_at) \
         SELECT id, 'thumbnail', 'h/' || id, 400, '\\x00'::bytea, 'p/' || id, 32768, \
         '\\x00'::bytea, created_at FROM events WHERE camera_id = $1::uuid",
    )
    .bind(camera)
    .execute(&mut db)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(&mut db).await.unwrap();
    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&mut db)
        .await
        .unwrap();
    size as u64
}
