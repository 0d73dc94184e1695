//! Storage scenarios, run on every backend pair: the blob store never
//! overwrites a key and streams large blobs as multipart uploads; the orphan
//! sweep and an upload recording the same blob never both win.

use bytes::Bytes;
use futures_util::stream;
use sealcam_server::blobs::{BlobStore, Segment};
use sealcam_server::store::{InsertPart, NewPart, StoreError};
use sealcam_wire::PartKind;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::common::{bytes, now, start_on, Backend};

pub async fn blob_store_creates_once_and_streams_multipart(b: Backend) {
    let Some(t) = start_on(b, "blob_store_creates_once_and_streams_multipart", |_| {}).await else {
        return;
    };
    let blobs = &t.server.state().blobs;

    // Create-if-absent: a second write to a key fails and changes nothing.
    let key = BlobStore::new_key();
    blobs
        .put_bytes(&key, Bytes::from_static(b"first"))
        .await
        .unwrap();
    let again = blobs.put_bytes(&key, Bytes::from_static(b"other")).await;
    assert!(again.is_err(), "a committed blob was overwritten");
    assert_eq!(blobs.read_all(&key).await.unwrap().as_ref(), b"first");

    // 12 MiB + a bit: on S3, three parts of a multipart upload.
    let big = bytes(9, 12 * 1024 * 1024 + 123);
    let big_key = BlobStore::new_key();
    let chunks: Vec<Result<Bytes, std::io::Error>> = big
        .chunks(100_000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let written = blobs
        .put_stream(&big_key, stream::iter(chunks), big.len() as u64)
        .await
        .unwrap();
    assert_eq!(written.size, big.len() as u64);
    assert_eq!(written.sha256, <[u8; 32]>::from(Sha256::digest(&big)));
    // Ranges that straddle the part boundaries, and two blobs in one body.
    let part = 5 * 1024 * 1024u64;
    let body = blobs
        .read(vec![
            Segment {
                key: key.clone(),
                range: 1..5,
            },
            Segment {
                key: big_key.clone(),
                range: part - 10..2 * part + 10,
            },
        ])
        .await
        .unwrap();
    let got = body.into_bytes().await.unwrap();
    assert_eq!(&got[..4], b"irst");
    assert!(got[4..] == big[(part - 10) as usize..(2 * part + 10) as usize]);

    // Too large: refused, and nothing is visible under the key.
    let too_big_key = BlobStore::new_key();
    let chunks: Vec<Result<Bytes, std::io::Error>> = big
        .chunks(100_000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    assert!(blobs
        .put_stream(&too_big_key, stream::iter(chunks), 7 * 1024 * 1024)
        .await
        .is_err());
    let keys = t.blob_keys().await;
    assert!(!keys.contains(&too_big_key), "a refused upload is visible");
    let mut expected = vec![key, big_key];
    expected.sort();
    assert_eq!(keys, expected);
}

pub async fn sweep_and_upload_never_both_win(b: Backend) {
    let Some(t) = start_on(b, "sweep_and_upload_never_both_win", |_| {}).await else {
        return;
    };
    let owner = t.new_viewer("o").await;
    let cam = t.pair_camera(&owner).await;
    let db = t.server.state().db.clone();
    let part = |key: &str| NewPart {
        event_id: Uuid::now_v7(),
        camera_id: cam.camera_id,
        captured_at: now(),
        kind: PartKind::Thumbnail,
        header_key: format!("{key}-h"),
        header_size: 1,
        header_sha256: vec![1; 32],
        payload_key: key.to_owned(),
        payload_size: 1,
        payload_sha256: vec![2; 32],
        payload_offset: 0,
        in_database: None,
        created_at: now(),
    };

    // Claimed first: recording a part that names the blob fails.
    let key = BlobStore::new_key();
    assert!(db.claim_orphan(&key, now()).await.unwrap());
    assert!(matches!(
        db.insert_part(&part(&key)).await,
        Err(StoreError::BlobSwept(k)) if k == key
    ));
    // Recorded first: the sweep leaves it alone.
    let key = BlobStore::new_key();
    assert_eq!(
        db.insert_part(&part(&key)).await.unwrap(),
        InsertPart::Inserted
    );
    assert!(!db.claim_orphan(&key, now()).await.unwrap());
    // The sweep's batched read sets aside exactly the named keys.
    let stray = BlobStore::new_key();
    let named = db
        .named_blobs(&[key.clone(), format!("{key}-h"), stray.clone()])
        .await
        .unwrap();
    assert_eq!(
        named,
        [key.clone(), format!("{key}-h")].into_iter().collect()
    );
    assert!(db.named_blobs(&[]).await.unwrap().is_empty());

    // Raced: for every key exactly one side wins.
    const RACES: usize = 40;
    let mut tasks = Vec::new();
    for i in 0..RACES {
        let key = BlobStore::new_key();
        let new_part = part(&key);
        let (db1, db2) = (db.clone(), db.clone());
        tasks.push(tokio::spawn(async move {
            let claim = async move { db1.claim_orphan(&key, now()).await.unwrap() };
            let insert = async move { db2.insert_part(&new_part).await };
            if i % 2 == 0 {
                tokio::join!(claim, insert)
            } else {
                let (insert, claim) = tokio::join!(insert, claim);
                (claim, insert)
            }
        }));
    }
    let (mut swept, mut recorded) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            (true, Err(StoreError::BlobSwept(_))) => swept += 1,
            (false, Ok(InsertPart::Inserted)) => recorded += 1,
            (claim, insert) => panic!("both or neither won: claim {claim}, insert {insert:?}"),
        }
    }
    println!(
        "sweep/upload race [{}]: {RACES} races, {swept} swept first, {recorded} recorded first",
        b.name()
    );
    assert_eq!(swept + recorded, RACES);
}
