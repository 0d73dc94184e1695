//! A fault proxy between the server binary and its S3 store (moto): every
//! blob write answered `500`, then stalled past the server's S3 timeout,
//! then acted on but its answer cut. In each phase a camera records an event:
//! the server gives up within its retry bound and answers `503 unavailable`
//! (never a bare 500), the camera keeps the parts spooled, `/healthz` says
//! the blobs are failing, and nothing half-written is listed. Once the
//! store is healthy the drain delivers every part, and each opens.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use sealcam_e2e::household::{Camera, Household, PHONE};
use sealcam_e2e::{media, Fault, Hook, Proxy, Reply, RequestInfo};

const HEALTHY: u8 = 0;
const ERRORS: u8 = 1;
const STALLS: u8 = 2;
const RESETS: u8 = 3;

/// Breaks the store's writes (PUT, POST: puts and multipart) per `mode`.
struct Breaker(AtomicU8);

impl Breaker {
    fn writes(req: &RequestInfo) -> bool {
        req.method == Method::PUT || req.method == Method::POST
    }
}

impl Hook for Breaker {
    fn answer(&self, req: &RequestInfo) -> Option<Reply> {
        (self.0.load(Ordering::SeqCst) == ERRORS && Self::writes(req)).then(|| {
            Reply::new(
                500,
                "<Error><Code>InternalError</Code><Message>injected</Message></Error>",
            )
        })
    }

    fn fault(&self, req: &RequestInfo) -> Option<Fault> {
        if !Self::writes(req) {
            return None;
        }
        match self.0.load(Ordering::SeqCst) {
            STALLS => Some(Fault::Stall(Duration::from_secs(4))),
            RESETS => Some(Fault::Reset),
            _ => None,
        }
    }
}

fn record(h: &Household, cam: &Camera, seed: u64, at: u64) -> (String, Vec<u8>, String) {
    let thumb = media::bytes(seed, 20 * 1024);
    let file = h.path(&format!("t{seed}.jpg"));
    std::fs::write(&file, &thumb).unwrap();
    let run = h
        .device(
            cam,
            &[
                "record",
                "--thumbnail",
                file.to_str().unwrap(),
                "--captured-at",
                &at.to_string(),
            ],
        )
        .unwrap()
        .checked()
        .unwrap();
    (run.stdout.trim().to_owned(), thumb, run.stderr)
}

#[test]
fn a_failing_stalling_and_resetting_s3_store_loses_nothing() {
    let Some(endpoint) = std::env::var("SEALCAM_TEST_S3_ENDPOINT").ok() else {
        assert!(
            std::env::var_os("SEALCAM_REQUIRE_SERVICES").is_none(),
            "SEALCAM_TEST_S3_ENDPOINT is not set (scripts/services.sh starts moto)"
        );
        println!("faults: s3: skipped (no S3 server; run scripts/test.sh)");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    sealcam_client::tls::install_crypto_provider();
    let bucket = format!("sealcam-faults-{}", uuid::Uuid::new_v4().simple());
    let created = rt
        .block_on(
            reqwest::Client::new()
                .put(format!("{endpoint}/{bucket}"))
                .send(),
        )
        .unwrap();
    assert!(
        created.status().is_success(),
        "CreateBucket: {}",
        created.status()
    );
    let proxy = rt.block_on(Proxy::start(Some(endpoint.clone()))).unwrap();
    let breaker = Arc::new(Breaker(AtomicU8::new(HEALTHY)));
    proxy.set_hook(breaker.clone());

    let url = format!("s3://{bucket}");
    let proxy_url = proxy.url();
    let env: Vec<(&str, &std::ffi::OsStr)> = vec![
        ("SEALCAM__STORAGE__URL", url.as_ref()),
        ("SEALCAM__STORAGE__S3__ENDPOINT", proxy_url.as_ref()),
        ("SEALCAM__STORAGE__S3__ALLOW_HTTP", "true".as_ref()),
        ("SEALCAM__STORAGE__S3__REGION", "us-east-1".as_ref()),
        ("SEALCAM__STORAGE__S3__TIMEOUT_SECS", "2".as_ref()),
        ("SEALCAM__STORAGE__S3__MAX_RETRIES", "2".as_ref()),
        ("SEALCAM__STORAGE__S3__RETRY_TIMEOUT_SECS", "6".as_ref()),
        // Every part in the store under test, the small ones too.
        ("SEALCAM__STORAGE__IN_DATABASE_MAX_BYTES", "0".as_ref()),
    ];
    let h = Household::start_configured(&env).unwrap();
    let cam = h.pair_camera(PHONE, "porch").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();

    // Stored (acknowledged) events, and those the camera kept spooled.
    let (mut stored, mut spooled) = (Vec::new(), Vec::new());
    let (event, thumb, said) = record(&h, &cam, 1, now - 900);
    assert!(said.contains("uploaded thumbnail"), "{said}");
    stored.push((event, thumb));
    let mut told = Vec::new();
    for (mode, name, seed) in [
        (ERRORS, "500s", 2),
        (STALLS, "stalls", 3),
        (RESETS, "resets", 4),
    ] {
        breaker.0.store(mode, Ordering::SeqCst);
        let (event, thumb, said) = record(&h, &cam, seed, now - 900 + seed * 120);
        assert!(said.contains("spooled thumbnail"), "{name}: {said}");
        assert!(!said.contains("HTTP 500"), "{name}: {said}");
        let answer = said
            .lines()
            .find(|l| l.contains("HTTP 5"))
            .unwrap_or("a transport error")
            .trim()
            .to_owned();
        let (status, body) = h.request(Method::GET, "/healthz", None, None).unwrap();
        assert_eq!(status, 503, "{name}: {}", String::from_utf8_lossy(&body));
        // Every stored event is listed and opens; nothing half-written is.
        let ids = h.event_ids(PHONE).unwrap();
        assert_eq!(ids.len(), stored.len(), "{name}: {ids:?}");
        for (id, plain) in &stored {
            assert!(ids.contains(id), "{name}");
            assert_eq!(
                &h.fetch_part(PHONE, id, "thumbnail").unwrap(),
                plain,
                "{name}"
            );
        }
        told.push(format!("{name}: {answer}"));
        spooled.push((event, thumb));
    }

    breaker.0.store(HEALTHY, Ordering::SeqCst);
    let drained = h
        .device(&cam, &["drain", "--max-wait", "60"])
        .unwrap()
        .checked()
        .unwrap();
    assert!(drained.stderr.contains("remaining 0"), "{drained}");
    let ids = h.event_ids(PHONE).unwrap();
    assert_eq!(ids.len(), stored.len() + spooled.len());
    for (id, plain) in stored.iter().chain(&spooled) {
        assert!(ids.contains(id), "{id} missing after the drain");
        assert_eq!(&h.fetch_part(PHONE, id, "thumbnail").unwrap(), plain);
    }
    let (status, _) = h.request(Method::GET, "/healthz", None, None).unwrap();
    assert_eq!(status, 200);
    println!(
        "faults: s3: writes through a fault proxy — {}; each part spooled, /healthz 503 meanwhile, nothing partial listed; \
         healthy again: the drain delivered, {} events listed and opened, 0 acknowledged lost",
        told.join("; "),
        ids.len()
    );
}
