//! The parts service driven directly, without HTTP, on every backend pair:
//! SQLite + a local directory always, PostgreSQL + S3 when
//! `scripts/services.sh` runs them (skipped, saying so, otherwise; failed
//! under `SEALCAM_REQUIRE_SERVICES=1`).
//!
//! What it checks is the service's one rule: the database row is the commit
//! point, so after every call the blob store holds exactly the blobs that
//! rows name (plus nothing a refused or lost upload wrote).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use sealcam_server::blobs::BlobStore;
use sealcam_server::metrics::Metrics;
use sealcam_server::parts::{Parts, PartsError, Piece, Stored, Upload};
use sealcam_server::state::AppState;
use sealcam_server::store::{CameraPrincipal, NewCamera, NewDevice, OneTimeKind, ViewerPrincipal};
use sealcam_server::tokens::{self, TokenHash};
use sealcam_server::Config;
use sealcam_wire::{token_prefix, PartKind};
use uuid::Uuid;

use crate::common::services::services;
use crate::common::{bytes, now, Backend};

/// The service's state on one backend pair, with no server around it.
struct Service {
    state: AppState,
    backend: Backend,
    _dir: tempfile::TempDir,
}

/// An account with one viewer device.
struct Account {
    id: Uuid,
    device: Uuid,
    token: TokenHash,
}

impl Account {
    /// Its viewer device, as the server authenticates it.
    fn viewer(&self) -> ViewerPrincipal {
        ViewerPrincipal {
            account_id: self.id,
            device_id: self.device,
            token_hash: self.token,
        }
    }
}

async fn service_on(
    backend: Backend,
    test: &str,
    tweak: impl FnOnce(&mut Config),
) -> Option<Service> {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    if backend == Backend::PostgresS3 {
        services(test)?.configure(&mut config).await;
    }
    tweak(&mut config);
    let db = sealcam_server::open_database(&config).await.unwrap();
    let blobs = BlobStore::open(&config).unwrap();
    let state = AppState::new(db, blobs, config, Arc::new(Metrics::new()));
    Some(Service {
        state,
        backend,
        _dir: dir,
    })
}

/// Every part in the blob store, however small (the cases about blobs and
/// rows; `small_parts_live_in_the_database` has the default).
fn blobs_only(config: &mut Config) {
    config.storage.in_database_max_bytes = 0;
}

impl Service {
    fn parts(&self) -> Parts<'_> {
        Parts::of(&self.state)
    }

    async fn blob_keys(&self) -> Vec<String> {
        self.state.blobs.list_keys().await.unwrap()
    }

    /// How many parts' bytes the database holds, counted in the database
    /// itself.
    async fn parts_in_database(&self) -> i64 {
        let url = self.state.config.database_url();
        let count = "SELECT COUNT(*) FROM part_bytes";
        match self.backend {
            Backend::SqliteLocal => {
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                sqlx::query_scalar(count).fetch_one(&pool).await.unwrap()
            }
            Backend::PostgresS3 => {
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                sqlx::query_scalar(count).fetch_one(&pool).await.unwrap()
            }
        }
    }

    async fn account(&self, name: &str) -> Account {
        let db = self.state.db.as_ref();
        let account = sealcam_server::create_account(db, &self.state.config, name)
            .await
            .unwrap();
        let credential = tokens::generate(token_prefix::VIEWER);
        let device_id = Uuid::new_v4();
        let device = NewDevice {
            id: device_id,
            name: "phone",
            token_hash: &credential.hash,
            viewer_key: None,
        };
        let enrolled = db
            .enroll(&tokens::hash(&account.enrollment_token), device, now())
            .await
            .unwrap();
        assert_eq!(enrolled, Some(account.account_id));
        Account {
            id: account.account_id,
            device: device_id,
            token: credential.hash,
        }
    }

    /// A camera of `owner`, confirmed or left pending.
    async fn camera(&self, owner: &Account, confirm: bool) -> CameraPrincipal {
        let db = self.state.db.as_ref();
        let claim = tokens::generate(token_prefix::CLAIM);
        db.create_one_time(
            OneTimeKind::Claim,
            &claim.hash,
            owner.id,
            None,
            now() + 600,
            now(),
        )
        .await
        .unwrap();
        let credential = tokens::generate(token_prefix::CAMERA);
        let camera = NewCamera {
            id: Uuid::new_v4(),
            token_hash: credential.hash,
            device_public_key: "AAAA".into(),
            pairing_proof: "AAAA".into(),
            created_at: now(),
        };
        let registered = db.register_camera(&claim.hash, &camera, now()).await;
        assert_eq!(registered.unwrap(), Some(owner.id));
        if confirm {
            assert!(db.confirm_camera(owner.id, camera.id).await.unwrap());
        }
        db.camera_by_token(&credential.hash).await.unwrap().unwrap()
    }

    async fn upload(
        &self,
        camera: &CameraPrincipal,
        event_id: Uuid,
        header: &[u8],
        payload: &[u8],
    ) -> Result<Stored, PartsError> {
        let upload = Upload {
            event_id,
            kind: PartKind::Clip,
            captured_at: now(),
            header_len: header.len() as u64,
            content_length: Some((header.len() + payload.len()) as u64),
        };
        self.parts()
            .upload(camera, upload, body(header, payload, 10_000))
            .await
    }

    async fn download(
        &self,
        viewer: &Account,
        event_id: Uuid,
        piece: Piece,
        range: Option<&str>,
    ) -> Result<(Vec<u8>, bool), PartsError> {
        let download = self
            .parts()
            .download(&viewer.token, event_id, PartKind::Clip, piece, range)
            .await?;
        let got = download.body.into_bytes().await.unwrap();
        assert_eq!(got.len() as u64, download.span.end - download.span.start);
        Ok((got.to_vec(), download.partial))
    }

    /// The viewer gets the whole part, its header, its payload, a range
    /// across the header/payload boundary and a suffix, each as uploaded.
    async fn serves_every_piece(
        &self,
        viewer: &Account,
        event: Uuid,
        header: &[u8],
        payload: &[u8],
    ) {
        let whole = [header, payload].concat();
        let got = self.download(viewer, event, Piece::Whole, None).await;
        assert_eq!(got.unwrap(), (whole.clone(), false));
        let got = self.download(viewer, event, Piece::Header, None).await;
        assert_eq!(got.unwrap(), (header.to_vec(), false));
        let got = self.download(viewer, event, Piece::Payload, None).await;
        assert_eq!(got.unwrap(), (payload.to_vec(), false));
        let got = self
            .download(viewer, event, Piece::Whole, Some("bytes=5-14"))
            .await;
        assert_eq!(got.unwrap(), (whole[5..15].to_vec(), true));
        let got = self
            .download(viewer, event, Piece::Payload, Some("bytes=-7"))
            .await;
        assert_eq!(got.unwrap(), (payload[payload.len() - 7..].to_vec(), true));
    }
}

/// header ‖ payload as a stream of `chunk`-byte pieces, as a body arrives.
fn body(
    header: &[u8],
    payload: &[u8],
    chunk: usize,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send {
    let all = [header, payload].concat();
    let chunks: Vec<Result<Bytes, std::io::Error>> = all
        .chunks(chunk.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(chunks)
}

async fn upload_stores_once_and_cleans_up_after_refusals(b: Backend) {
    let test = "upload_stores_once_and_cleans_up_after_refusals";
    let Some(s) = service_on(b, test, |c| {
        blobs_only(c);
        c.limits.max_clip_bytes = 100_000;
    })
    .await
    else {
        return;
    };
    let owner = s.account("owner").await;
    let camera = s.camera(&owner, true).await;
    let (event, header, payload) = (Uuid::now_v7(), b"age-header".to_vec(), bytes(1, 50_000));

    let stored = s.upload(&camera, event, &header, &payload).await.unwrap();
    assert_eq!(
        stored,
        Stored {
            created: true,
            header_size: header.len() as u64,
            payload_size: payload.len() as u64,
        }
    );
    let committed = s.blob_keys().await;
    assert_eq!(committed.len(), 1, "one blob: header ‖ payload");

    // A retry with the same bytes is acknowledged and stores nothing.
    let again = s.upload(&camera, event, &header, &payload).await.unwrap();
    assert_eq!(
        again,
        Stored {
            created: false,
            ..stored
        }
    );
    // Other bytes for the same part: a conflict, and nothing stored.
    let other = bytes(2, 50_000);
    assert!(matches!(
        s.upload(&camera, event, &header, &other).await,
        Err(PartsError::Conflict)
    ));
    assert_eq!(s.blob_keys().await, committed);

    // Refused before or while reading the body: nothing is left behind.
    let pending = s.camera(&owner, false).await;
    assert!(matches!(
        s.upload(&pending, Uuid::now_v7(), &header, &payload).await,
        Err(PartsError::CameraNotActive)
    ));
    assert!(matches!(
        s.upload(&camera, Uuid::now_v7(), b"", &payload).await,
        Err(PartsError::Invalid(_))
    ));
    let too_big = bytes(3, 150_000);
    assert!(matches!(
        s.upload(&camera, Uuid::now_v7(), &header, &too_big).await,
        Err(PartsError::TooLarge(100_000))
    ));
    // The same body, its length undeclared: refused while streaming.
    let streamed = Upload {
        event_id: Uuid::now_v7(),
        kind: PartKind::Clip,
        captured_at: now(),
        header_len: header.len() as u64,
        content_length: None,
    };
    let refused = s
        .parts()
        .upload(&camera, streamed, body(&header, &too_big, 8_192))
        .await;
    // (The limit it names is the payload's: the part's less the header.)
    assert!(matches!(refused, Err(PartsError::TooLarge(99_990))));
    let short = Upload {
        header_len: 100,
        ..streamed
    };
    let refused = s.parts().upload(&camera, short, body(b"", b"x", 1)).await;
    assert!(matches!(refused, Err(PartsError::Invalid(_))));

    // An event of another camera: not found, and its blobs are deleted.
    let second = s.camera(&owner, true).await;
    assert!(matches!(
        s.upload(&second, event, &header, &payload).await,
        Err(PartsError::NotFound)
    ));
    assert_eq!(s.blob_keys().await, committed);
    println!("parts service upload [{}]: ok", s.backend.name());
}

async fn download_serves_pieces_and_ranges_to_viewers_only(b: Backend) {
    let test = "download_serves_pieces_and_ranges_to_viewers_only";
    let Some(s) = service_on(b, test, blobs_only).await else {
        return;
    };
    let owner = s.account("owner").await;
    let stranger = s.account("stranger").await;
    let camera = s.camera(&owner, true).await;
    let (event, header, payload) = (Uuid::now_v7(), b"0123456789".to_vec(), bytes(4, 300_000));
    s.upload(&camera, event, &header, &payload).await.unwrap();

    s.serves_every_piece(&owner, event, &header, &payload).await;
    assert!(matches!(
        s.download(&owner, event, Piece::Header, Some("bytes=10-"))
            .await,
        Err(PartsError::RangeNotSatisfiable(10))
    ));

    // Another account's viewer sees nothing; an unknown token is not a viewer.
    assert!(matches!(
        s.download(&stranger, event, Piece::Whole, None).await,
        Err(PartsError::NotFound)
    ));
    let nobody = Account {
        id: Uuid::new_v4(),
        device: Uuid::new_v4(),
        token: tokens::hash("scv_unknown"),
    };
    assert!(matches!(
        s.download(&nobody, event, Piece::Whole, None).await,
        Err(PartsError::Unauthorized)
    ));
    // A shared account may read, but only the owner may re-wrap.
    let db = s.state.db.as_ref();
    assert!(db
        .put_share(owner.id, camera.camera_id, stranger.id, now())
        .await
        .unwrap());
    let got = s.download(&stranger, event, Piece::Header, None).await;
    assert_eq!(got.unwrap(), (header.clone(), false));
    let rewrap = s
        .parts()
        .replace_header(
            &stranger.viewer(),
            event,
            PartKind::Clip,
            body(b"new", b"", 3),
        )
        .await;
    assert!(matches!(rewrap, Err(PartsError::NotFound)));
    println!("parts service download [{}]: ok", s.backend.name());
}

async fn rewrap_delete_retention_and_sweep_keep_blobs_and_rows_in_step(b: Backend) {
    let test = "rewrap_delete_retention_and_sweep_keep_blobs_and_rows_in_step";
    let Some(s) = service_on(b, test, blobs_only).await else {
        return;
    };
    let owner = s.account("owner").await;
    let camera = s.camera(&owner, true).await;
    let (event, payload) = (Uuid::now_v7(), bytes(5, 1_000));
    s.upload(&camera, event, b"old-header", &payload)
        .await
        .unwrap();
    let before = s.blob_keys().await;

    // Re-wrap: the row names the new header, in a blob of its own; the old
    // header's bytes stay in front of the payload, in the blob that holds it.
    let parts = s.parts();
    let viewer = owner.viewer();
    let rewrap = |header: &'static [u8]| {
        parts.replace_header(&viewer, event, PartKind::Clip, body(header, b"", 4))
    };
    let stored = rewrap(b"the-new-header").await.unwrap();
    assert_eq!((stored.header_size, stored.payload_size), (14, 1_000));
    let got = s.download(&owner, event, Piece::Header, None).await;
    assert_eq!(got.unwrap(), (b"the-new-header".to_vec(), false));
    let after = s.blob_keys().await;
    assert_eq!(before.len(), 1);
    assert_eq!(after.len(), 2);
    assert_eq!(after.iter().filter(|k| before.contains(k)).count(), 1);
    let got = s.download(&owner, event, Piece::Payload, None).await;
    assert_eq!(got.unwrap(), (payload.clone(), false));
    let whole = [&b"the-new-header"[..], &payload[..]].concat();
    let got = s.download(&owner, event, Piece::Whole, None).await;
    assert_eq!(got.unwrap(), (whole.clone(), false));
    // A range across the new header's end and into the payload.
    let got = s
        .download(&owner, event, Piece::Whole, Some("bytes=10-20"))
        .await;
    assert_eq!(got.unwrap(), (whole[10..21].to_vec(), true));
    // Re-wrapped again: the header before is a blob of its own, and goes.
    rewrap(b"third-header").await.unwrap();
    let third = s.blob_keys().await;
    assert_eq!(third.len(), 2);
    assert!(third.contains(&before[0]));
    let got = s.download(&owner, event, Piece::Whole, None).await;
    let whole = [&b"third-header"[..], &payload[..]].concat();
    assert_eq!(got.unwrap(), (whole, false));
    let after = third;
    assert!(matches!(rewrap(b"").await, Err(PartsError::Invalid(_))));
    let limit = s.state.config.limits.max_header_bytes;
    let huge = vec![b'h'; limit as usize + 1];
    let refused = s
        .parts()
        .replace_header(
            &owner.viewer(),
            event,
            PartKind::Clip,
            body(&huge, b"", 4096),
        )
        .await;
    assert!(matches!(refused, Err(PartsError::TooLarge(l)) if l == limit));
    assert_eq!(s.blob_keys().await, after);

    // A blob no row names is swept; the blobs rows name are not.
    let stray = BlobStore::new_key();
    s.state
        .blobs
        .put_bytes(&stray, Bytes::from_static(b"stray"))
        .await
        .unwrap();
    assert_eq!(s.parts().sweep(Duration::ZERO).await.unwrap(), 1);
    assert_eq!(s.blob_keys().await, after);

    // Retention: an event older than the camera's retention goes with its blobs.
    let old = Upload {
        event_id: Uuid::now_v7(),
        kind: PartKind::Thumbnail,
        captured_at: now() - 10 * 86_400,
        header_len: 1,
        content_length: None,
    };
    s.parts()
        .upload(&camera, old, body(b"h", b"old", 2))
        .await
        .unwrap();
    assert_eq!(s.blob_keys().await.len(), 3);
    let db = s.state.db.as_ref();
    assert!(db
        .set_retention(owner.id, camera.camera_id, Some(5))
        .await
        .unwrap());
    assert_eq!(s.parts().retention_once().await.unwrap(), 1);
    assert_eq!(s.blob_keys().await, after);

    // Deleting the event deletes its blobs; a second delete finds nothing.
    s.parts().delete_event(owner.id, event).await.unwrap();
    assert!(s.blob_keys().await.is_empty());
    assert!(matches!(
        s.parts().delete_event(owner.id, event).await,
        Err(PartsError::NotFound)
    ));
    assert!(matches!(
        s.download(&owner, event, Piece::Whole, None).await,
        Err(PartsError::NotFound)
    ));

    // Deleting the camera deletes every event's blobs.
    s.upload(&camera, Uuid::now_v7(), b"h", b"p").await.unwrap();
    assert_eq!(s.blob_keys().await.len(), 1);
    s.parts()
        .delete_camera(owner.id, camera.camera_id)
        .await
        .unwrap();
    assert!(s.blob_keys().await.is_empty());
    assert!(matches!(
        s.parts().delete_camera(owner.id, camera.camera_id).await,
        Err(PartsError::NotFound)
    ));
    println!(
        "parts service rewrap/delete/sweep [{}]: ok",
        s.backend.name()
    );
}

/// Two uploads of one part at once: one stores it, the other is answered
/// from it (or refused, for other bytes), and its blob is deleted either way.
async fn concurrent_uploads_of_one_part_leave_one_blob(b: Backend) {
    let test = "concurrent_uploads_of_one_part_leave_one_blob";
    let Some(s) = service_on(b, test, blobs_only).await else {
        return;
    };
    let owner = s.account("owner").await;
    let camera = s.camera(&owner, true).await;
    let payload = bytes(6, 20_000);

    let event = Uuid::now_v7();
    let (one, two) = tokio::join!(
        s.upload(&camera, event, b"hdr", &payload),
        s.upload(&camera, event, b"hdr", &payload),
    );
    let mut created = [one.unwrap().created, two.unwrap().created];
    created.sort();
    assert_eq!(created, [false, true]);
    assert_eq!(s.blob_keys().await.len(), 1);

    let event = Uuid::now_v7();
    let other = bytes(7, 20_000);
    let (one, two) = tokio::join!(
        s.upload(&camera, event, b"hdr", &payload),
        s.upload(&camera, event, b"hdr", &other),
    );
    let stored = [&one, &two].iter().filter(|r| r.is_ok()).count();
    let conflicts = [&one, &two]
        .iter()
        .filter(|r| matches!(r, Err(PartsError::Conflict)))
        .count();
    assert_eq!((stored, conflicts), (1, 1), "{one:?} {two:?}");
    assert_eq!(s.blob_keys().await.len(), 2);

    // Every upload slot taken (by other accounts' cameras): refused at once.
    let (slots, uploads) = (
        s.state.config.limits.max_concurrent_uploads,
        &s.state.uploads,
    );
    let taken: Vec<_> = (0..slots)
        .map(|_| uploads.try_acquire(Uuid::new_v4(), Uuid::new_v4()).unwrap())
        .collect();
    assert!(matches!(
        s.upload(&camera, Uuid::now_v7(), b"hdr", &payload).await,
        Err(PartsError::Busy { .. })
    ));
    drop(taken);
    s.upload(&camera, Uuid::now_v7(), b"hdr", &payload)
        .await
        .unwrap();
    assert_eq!(s.blob_keys().await.len(), 3);
}

/// Parts up to `storage.in_database_max_bytes` (header ‖ payload) are kept
/// in the database: no blob is written, every piece and range serves from
/// the row, a retry and a conflict are told apart as for blobs, a re-wrap
/// puts its header in a blob of its own, and deleting the part deletes its
/// bytes; the orphan sweep and `migrate-store` leave them alone.
async fn small_parts_live_in_the_database(b: Backend) {
    let test = "small_parts_live_in_the_database";
    let Some(s) = service_on(b, test, |_| {}).await else {
        return;
    };
    let max = s.state.config.storage.in_database_max_bytes as usize;
    let owner = s.account("owner").await;
    let stranger = s.account("stranger").await;
    let camera = s.camera(&owner, true).await;
    let (event, header, payload) = (Uuid::now_v7(), b"0123456789".to_vec(), bytes(8, 20_000));
    let stored = s.upload(&camera, event, &header, &payload).await.unwrap();
    assert!(stored.created);
    assert!(s.blob_keys().await.is_empty(), "no blob for a small part");
    assert_eq!(s.parts_in_database().await, 1);

    // Every piece and range, from the row.
    s.serves_every_piece(&owner, event, &header, &payload).await;
    assert!(matches!(
        s.download(&stranger, event, Piece::Whole, None).await,
        Err(PartsError::NotFound)
    ));

    // A retry is answered from the row; other bytes are a conflict.
    let again = s.upload(&camera, event, &header, &payload).await.unwrap();
    assert!(!again.created);
    assert!(matches!(
        s.upload(&camera, event, &header, &bytes(9, 20_000)).await,
        Err(PartsError::Conflict)
    ));
    assert_eq!(s.parts_in_database().await, 1);

    // The limit is header ‖ payload, declared or not: at it, the database;
    // one byte over, a blob.
    let at_limit = bytes(10, max - header.len());
    s.upload(&camera, Uuid::now_v7(), &header, &at_limit)
        .await
        .unwrap();
    assert_eq!(s.parts_in_database().await, 2);
    let over = bytes(11, max - header.len() + 1);
    let undeclared = Upload {
        event_id: Uuid::now_v7(),
        kind: PartKind::Clip,
        captured_at: now(),
        header_len: header.len() as u64,
        content_length: None,
    };
    let streamed = s
        .parts()
        .upload(&camera, undeclared, body(&header, &over, 8_192))
        .await;
    assert!(streamed.unwrap().created);
    assert_eq!(s.blob_keys().await.len(), 1, "one byte over: a blob");
    let got = s
        .download(&owner, undeclared.event_id, Piece::Payload, None)
        .await;
    assert_eq!(got.unwrap(), (over, false));
    let undeclared_small = Upload {
        event_id: Uuid::now_v7(),
        ..undeclared
    };
    s.parts()
        .upload(&camera, undeclared_small, body(&header, b"small", 2))
        .await
        .unwrap();
    assert_eq!(s.parts_in_database().await, 3);
    let blobs = s.blob_keys().await;

    // Re-wrap: the new header is a blob, the payload stays in the row.
    let parts = s.parts();
    let viewer = owner.viewer();
    let rewrap = |header: &'static [u8]| {
        parts.replace_header(&viewer, event, PartKind::Clip, body(header, b"", 4))
    };
    rewrap(b"the-new-header").await.unwrap();
    assert_eq!(s.blob_keys().await.len(), blobs.len() + 1);
    let whole = [&b"the-new-header"[..], &payload[..]].concat();
    let got = s.download(&owner, event, Piece::Whole, None).await;
    assert_eq!(got.unwrap(), (whole.clone(), false));
    let got = s
        .download(&owner, event, Piece::Whole, Some("bytes=10-20"))
        .await;
    assert_eq!(got.unwrap(), (whole[10..21].to_vec(), true));
    rewrap(b"third-header").await.unwrap();
    assert_eq!(
        s.blob_keys().await.len(),
        blobs.len() + 1,
        "the header before goes"
    );
    let got = s.download(&owner, event, Piece::Payload, None).await;
    assert_eq!(got.unwrap(), (payload.clone(), false));

    // Neither the sweep nor migrate-store's listing touches the database's.
    s.parts().sweep(Duration::ZERO).await.unwrap();
    let got = s.download(&owner, event, Piece::Payload, None).await;
    assert_eq!(got.unwrap(), (payload.clone(), false));
    let listed = s.state.db.list_blobs(None, 1_000).await.unwrap();
    assert!(listed
        .iter()
        .all(|b| !sealcam_server::blobs::in_database(&b.key)));
    assert_eq!(listed.len(), 3, "the blob part's two pieces and a header");

    // Deleting the event deletes its bytes and its header blob.
    s.parts().delete_event(owner.id, event).await.unwrap();
    assert_eq!(s.parts_in_database().await, 2);
    assert_eq!(s.blob_keys().await, blobs);
    // Deleting the camera deletes the rest.
    s.parts()
        .delete_camera(owner.id, camera.camera_id)
        .await
        .unwrap();
    assert_eq!(s.parts_in_database().await, 0);
    assert!(s.blob_keys().await.is_empty());
    println!("parts service in the database [{}]: ok", s.backend.name());
}

/// One `#[tokio::test]` per case and backend pair.
macro_rules! on_every_backend {
    ($($case:ident => $sqlite:ident, $postgres:ident;)*) => {
        $(
            #[tokio::test]
            async fn $sqlite() {
                $case(Backend::SqliteLocal).await;
            }

            #[tokio::test]
            async fn $postgres() {
                $case(Backend::PostgresS3).await;
            }
        )*
    };
}

on_every_backend! {
    upload_stores_once_and_cleans_up_after_refusals =>
        upload_sqlite_local, upload_postgres_s3;
    download_serves_pieces_and_ranges_to_viewers_only =>
        download_sqlite_local, download_postgres_s3;
    rewrap_delete_retention_and_sweep_keep_blobs_and_rows_in_step =>
        lifecycle_sqlite_local, lifecycle_postgres_s3;
    concurrent_uploads_of_one_part_leave_one_blob =>
        concurrent_sqlite_local, concurrent_postgres_s3;
    small_parts_live_in_the_database =>
        in_database_sqlite_local, in_database_postgres_s3;
}
