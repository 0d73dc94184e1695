//! The blob directory on a 6 MiB filesystem (a tmpfs mounted for the test):
//! a declared upload that cannot fit is answered `507 storage_full` before
//! its body is read; a camera recording a 20 KiB thumbnail and an 8 MB clip
//! gets the thumbnail stored and `507` for the clip, which it keeps spooled
//! while its next, small event is stored at once; `/healthz` says the blobs
//! are full; once there is room the drain delivers the clip, and every part
//! the camera was told was stored opens for the owner.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use sealcam_e2e::household::{Household, PHONE};
use sealcam_e2e::media;

/// A tmpfs of a given size mounted over a directory; unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, mib: u64) -> Option<Self> {
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m,mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(dir.to_owned()))
    }

    /// [`Mount::tmpfs`], or `None` after saying the test `what` is skipped
    /// (it needs root); under `SEALCAM_REQUIRE_SERVICES` a failure instead.
    fn tmpfs_or_skip(dir: &Path, mib: u64, what: &str) -> Option<Self> {
        let mount = Self::tmpfs(dir, mib);
        if mount.is_none() {
            assert!(
                std::env::var_os("SEALCAM_REQUIRE_SERVICES").is_none(),
                "cannot mount a size-limited tmpfs for the {what} test (it needs root)"
            );
            println!("faults: {what}: skipped (mounting a tmpfs needs root)");
        }
        mount
    }

    fn resize(&self, mib: u64) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={mib}m"), "tmpfs"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// One raw HTTP exchange; returns the status line and the rest.
fn http(addr: &str, request: &str) -> String {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    conn.write_all(request.as_bytes()).unwrap();
    let mut got = Vec::new();
    let _ = conn.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn a_full_blob_store_answers_507_lets_small_parts_through_and_recovers() {
    let blobs = tempfile::tempdir().unwrap();
    let Some(mount) = Mount::tmpfs_or_skip(blobs.path(), 6, "full disk") else {
        return;
    };
    let h = Household::start_configured(&[("SEALCAM__STORAGE__PATH", blobs.path().as_os_str())])
        .unwrap();
    let cam = h.pair_camera(PHONE, "porch").unwrap();

    // 1. An upload declaring 8 MB: refused before its body is sent.
    let refused = http(
        h.server.addr(),
        &format!(
            "PUT /v1/events/{}/parts/clip?captured_at=1700000000&header_len=100 HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {}\r\nContent-Length: 8000000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
            uuid::Uuid::new_v4(),
            cam.credential().unwrap()
        ),
    );
    assert!(refused.starts_with("HTTP/1.1 507"), "{refused}");
    assert!(refused.contains("storage_full"), "{refused}");
    assert!(!refused.contains("100 Continue"), "{refused}");

    // 2. A thumbnail and an 8 MB clip: the thumbnail is stored, the clip
    //    does not fit and stays in the camera's spool.
    let (thumb, clip) = (media::bytes(1, 20 * 1024), media::bytes(2, 8_000_000));
    let (thumb_file, clip_file) = (h.path("t1.jpg"), h.path("c1.mp4"));
    // Capture times a few minutes apart (the server keeps them to the minute).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (at1, at2) = ((now - 300).to_string(), (now - 60).to_string());
    std::fs::write(&thumb_file, &thumb).unwrap();
    std::fs::write(&clip_file, &clip).unwrap();
    let first = h
        .device(
            &cam,
            &[
                "record",
                "--thumbnail",
                thumb_file.to_str().unwrap(),
                "--clip",
                clip_file.to_str().unwrap(),
                "--captured-at",
                &at1,
            ],
        )
        .unwrap()
        .checked()
        .unwrap();
    let first_event = first.stdout.trim().to_owned();
    assert!(first.stderr.contains("uploaded thumbnail"), "{first}");
    assert!(first.stderr.contains("spooled clip"), "{first}");
    let health = h.healthz().unwrap();
    assert!(
        health.starts_with("HTTP/1.1 503") && health.contains("\"full\""),
        "{health}"
    );

    // 3. The next event, a 20 KiB thumbnail, is stored at once: the clip
    //    waiting in the spool does not hold it back.
    let thumb2 = media::bytes(3, 20 * 1024);
    let thumb2_file = h.path("t2.jpg");
    std::fs::write(&thumb2_file, &thumb2).unwrap();
    let second = h
        .device(
            &cam,
            &[
                "record",
                "--thumbnail",
                thumb2_file.to_str().unwrap(),
                "--captured-at",
                &at2,
            ],
        )
        .unwrap()
        .checked()
        .unwrap();
    let second_event = second.stdout.trim().to_owned();
    assert!(second.stderr.contains("uploaded thumbnail"), "{second}");

    // 4. Room is made; the drain delivers the clip.
    mount.resize(64);
    let drained = h
        .device(&cam, &["drain", "--max-wait", "30"])
        .unwrap()
        .checked()
        .unwrap();
    assert!(drained.stderr.contains("delivered 1"), "{drained}");
    let health = h.healthz().unwrap();
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    // Nothing acknowledged lost, nothing partial: both events listed, newest
    // first, and every part opens to what the camera recorded.
    assert_eq!(
        h.event_ids(PHONE).unwrap(),
        [second_event.clone(), first_event.clone()]
    );
    assert_eq!(
        h.fetch_part(PHONE, &first_event, "thumbnail").unwrap(),
        thumb
    );
    assert_eq!(h.fetch_part(PHONE, &first_event, "clip").unwrap(), clip);
    assert_eq!(
        h.fetch_part(PHONE, &second_event, "thumbnail").unwrap(),
        thumb2
    );
    println!(
        "faults: full disk: blobs on a 6 MiB tmpfs; an 8 MB declared upload answered 507 before its body; \
         thumbnail stored, 8 MB clip 507 and spooled, the next event's thumbnail stored at once, /healthz 503 blobs full; \
         after resizing to 64 MiB the drain delivered the clip; 0 acknowledged parts lost, 0 partial, every part opened"
    );
}

/// The database on a 2 MiB filesystem, the blobs elsewhere: small parts are
/// kept in the database, so its disk filling up is a full store too. The
/// camera records thumbnails until one is answered `507` and spooled; once
/// there is room the drain delivers it, and every part the camera was told
/// was stored opens for the owner.
#[test]
fn a_full_database_disk_answers_507_and_the_camera_keeps_the_part() {
    use sealcam_device::{Device, DeviceConfig, NewEvent, PartOutcome};

    let db_dir = tempfile::tempdir().unwrap();
    let Some(mount) = Mount::tmpfs_or_skip(db_dir.path(), 2, "full database disk") else {
        return;
    };
    let url = format!("sqlite://{}", db_dir.path().join("sealcam.db").display());
    let h = Household::start_configured(&[("SEALCAM__DATABASE__URL", url.as_ref())]).unwrap();
    let cam = h.pair_camera(PHONE, "porch").unwrap();
    let mut device = Device::open(&cam.state, DeviceConfig::default()).unwrap();
    device.sync().unwrap();

    // 1. Thumbnails until the database's disk is full.
    let mut stored = Vec::new();
    let mut spooled = None;
    for seed in 0..500 {
        let thumbnail = media::thumbnail(seed, 20 * 1024);
        let report = device
            .record(NewEvent::now().thumbnail(&thumbnail))
            .unwrap();
        let event = report.event.as_uuid().to_string();
        match &report.parts[0].outcome {
            PartOutcome::Uploaded { created: true } => stored.push((event, thumbnail)),
            PartOutcome::Spooled => {
                spooled = Some((event, thumbnail));
                break;
            }
            other => panic!("thumbnail {seed}: {other:?}"),
        }
    }
    let spooled = spooled.expect("the database's 2 MiB disk never filled");
    assert!(!stored.is_empty());

    // 2. Room is made; the drain delivers the spooled thumbnail.
    mount.resize(64);
    let drained = device.drain(std::time::Duration::from_secs(30)).unwrap();
    assert_eq!(
        (drained.delivered, drained.remaining),
        (1, 0),
        "{drained:?}"
    );

    // Nothing acknowledged lost, nothing partial.
    for (event, thumbnail) in stored.iter().chain([&spooled]) {
        assert_eq!(&h.fetch_part(PHONE, event, "thumbnail").unwrap(), thumbnail);
    }
    println!(
        "faults: full database disk: the database on a 2 MiB tmpfs; {} thumbnails stored in it, \
         the next answered 507 and spooled; after resizing to 64 MiB the drain delivered it; \
         0 acknowledged parts lost, 0 partial, all {} opened",
        stored.len(),
        stored.len() + 1
    );
}
