//! The PostgreSQL and S3 servers of the scale-out tests (`scripts/services.sh`
//! starts them): a fresh database and bucket per test.

use reqwest::Client;
use sealcam_server::Config;
use uuid::Uuid;

/// The PostgreSQL and S3 servers of the scale-out tests, when configured.
///
/// Unset URLs fail the test when `SEALCAM_REQUIRE_SERVICES=1` (CI and
/// `scripts/test.sh`); otherwise the test is skipped, saying so on stderr.
pub fn services(test: &str) -> Option<Services> {
    let pg = std::env::var("SEALCAM_TEST_POSTGRES_URL").ok();
    let s3 = std::env::var("SEALCAM_TEST_S3_ENDPOINT").ok();
    match (pg, s3) {
        (Some(postgres_url), Some(s3_endpoint))
            if !postgres_url.is_empty() && !s3_endpoint.is_empty() =>
        {
            Some(Services {
                postgres_url,
                s3_endpoint,
                s3_region: std::env::var("SEALCAM_TEST_S3_REGION")
                    .unwrap_or_else(|_| "us-east-1".into()),
            })
        }
        _ => {
            let why = format!(
                "{test}: SEALCAM_TEST_POSTGRES_URL and SEALCAM_TEST_S3_ENDPOINT are not both set \
                 (start them with `source scripts/services.sh start`)"
            );
            if std::env::var("SEALCAM_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("{why}; SEALCAM_REQUIRE_SERVICES=1 forbids skipping");
            }
            // Straight to stderr, past the test harness's capture: loud.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "SKIPPED (postgres+s3): {why}");
            None
        }
    }
}

/// Where the scale-out servers are.
#[derive(Debug, Clone)]
pub struct Services {
    pub postgres_url: String,
    pub s3_endpoint: String,
    pub s3_region: String,
}

impl Services {
    /// A fresh, empty database on the test cluster; returns its URL.
    pub async fn new_database(&self) -> String {
        use sqlx::Connection as _;
        let name = format!("sealcam_t_{}", Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&self.postgres_url)
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let (base, _) = self.postgres_url.rsplit_once('/').unwrap();
        format!("{base}/{name}")
    }

    /// A fresh, empty bucket on the test S3 server; returns its name.
    pub async fn new_bucket(&self) -> String {
        let name = format!("sealcam-t-{}", Uuid::new_v4().simple());
        // moto accepts an unsigned CreateBucket.
        sealcam_server::tls::install_crypto_provider();
        let resp = Client::new()
            .put(format!("{}/{name}", self.s3_endpoint))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "CreateBucket: {}",
            resp.status()
        );
        name
    }

    /// S3 settings for the test server (plain http on loopback, so
    /// `allow_http`; credentials from the AWS environment).
    pub fn s3_config(&self) -> sealcam_server::config::S3Config {
        sealcam_server::config::S3Config {
            endpoint: Some(self.s3_endpoint.clone()),
            region: Some(self.s3_region.clone()),
            allow_http: true,
            // The smallest part S3 allows, so multi-MiB test clips go multipart.
            multipart_part_bytes: 5 * 1024 * 1024,
            ..Default::default()
        }
    }

    /// Points `config` at a fresh database and bucket.
    pub async fn configure(&self, config: &mut Config) {
        config.database.url = Some(self.new_database().await);
        config.database.max_connections = 4;
        config.storage.url = Some(format!("s3://{}", self.new_bucket().await));
        config.storage.s3 = self.s3_config();
    }
}
