//! `sealcam ui` in real headless Chromium (Debian's, driven by
//! tests/ui/drive.mjs through playwright-core) against the real server and
//! a camera on the device SDK recording real MP4 clips and JPEG thumbnails
//! made here with ffmpeg:
//!
//! - the timeline loads, its thumbnails decode (`naturalWidth > 0`) and show
//!   their verified types;
//! - a clip plays, and after a seek `currentTime` advances (HTTP Range over
//!   verified range reads);
//! - two thumbnails swapped at the storage level show the warning tile and
//!   no image;
//! - a new event appears live;
//! - requests without the one-time token, a second use of it, and a foreign
//!   `Host` are refused.
//!
//! Screenshots go to target/test-artifacts/ (kept with the test log).

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sealcam_device::NewEvent;
use serde_json::Value;

use super::{record, Killed, World};

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn driver_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ui")
}

/// Whether the browser tooling is here; without it the test is skipped,
/// unless `SEALCAM_REQUIRE_SERVICES=1` (scripts/test.sh installs it).
fn tooling() -> bool {
    let missing: Vec<&str> = [
        ("chromium", have("chromium")),
        ("node", have("node")),
        ("ffmpeg", have("ffmpeg")),
        (
            "tests/ui/node_modules (npm ci)",
            driver_dir().join("node_modules/playwright-core").exists(),
        ),
    ]
    .into_iter()
    .filter(|(_, ok)| !ok)
    .map(|(name, _)| name)
    .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("SEALCAM_REQUIRE_SERVICES").is_none(),
        "the browser test needs {missing:?} (scripts/test.sh installs them)"
    );
    println!("ui: SKIPPED, missing {missing:?} (run scripts/test.sh)");
    false
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 6-second H.264 MP4 (fast start, so the browser can seek at once).
fn mp4(path: &Path, pattern: &str) -> Vec<u8> {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("{pattern}=duration=6:size=320x240:rate=15"),
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-profile:v",
        "baseline",
        "-movflags",
        "+faststart",
        path.to_str().unwrap(),
    ]);
    std::fs::read(path).unwrap()
}

fn jpeg(path: &Path, pattern: &str) -> Vec<u8> {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("{pattern}=size=160x120"),
        "-frames:v",
        "1",
        path.to_str().unwrap(),
    ]);
    std::fs::read(path).unwrap()
}

/// Swaps the stored thumbnails of two events in the server's database (a
/// storage layer that mixed up its keys).
fn swap_thumbnails(db: &Path, a: &str, b: &str) {
    let mut db = rusqlite::Connection::open(db).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    // A faulty storage layer heeds no constraint: a small part's bytes
    // (`part_bytes`) stay under their key, which now names the other part.
    db.pragma_update(None, "foreign_keys", false).unwrap();
    let cols = "header_key, header_size, header_sha256, payload_key, payload_size, payload_sha256";
    let row = |db: &rusqlite::Connection, event: &str| -> Vec<rusqlite::types::Value> {
        db.query_row(
            &format!("SELECT {cols} FROM parts WHERE event_id = ?1 AND kind = 'thumbnail'"),
            [event],
            |r| (0..6).map(|i| r.get(i)).collect(),
        )
        .unwrap()
    };
    let (ra, rb) = (row(&db, a), row(&db, b));
    let tx = db.transaction().unwrap();
    let set = "UPDATE parts SET header_key = ?1, header_size = ?2, header_sha256 = ?3, \
               payload_key = ?4, payload_size = ?5, payload_sha256 = ?6 \
               WHERE event_id = ?7 AND kind = 'thumbnail'";
    let put = |tx: &rusqlite::Transaction<'_>, v: &[rusqlite::types::Value], event: &str| {
        let mut p: Vec<&dyn rusqlite::ToSql> =
            v.iter().map(|x| x as &dyn rusqlite::ToSql).collect();
        p.push(&event);
        tx.execute(set, p.as_slice()).unwrap();
    };
    use rusqlite::types::Value as V;
    let parked = [
        V::Text("swap-h".into()),
        V::Integer(0),
        V::Blob(vec![]),
        V::Text("swap-p".into()),
        V::Integer(0),
        V::Blob(vec![]),
    ];
    put(&tx, &parked, a);
    put(&tx, &ra, b);
    put(&tx, &rb, a);
    tx.commit().unwrap();
}

#[test]
fn the_viewer_in_chromium() {
    if !tooling() {
        return;
    }
    let (w, mut cam) = World::start();
    let media_dir = w.h.path("media");
    std::fs::create_dir_all(&media_dir).unwrap();
    let kinds = [
        ("person", "testsrc2"),
        ("motion", "smptebars"),
        ("doorbell", "rgbtestsrc"),
    ];
    for (kind, pattern) in kinds {
        let thumb = jpeg(&media_dir.join(format!("{kind}.jpg")), pattern);
        let clip = mp4(&media_dir.join(format!("{kind}.mp4")), pattern);
        let mut reader = std::io::Cursor::new(clip);
        let r = record(kind, &[kind], Some(6_000));
        cam.record(
            NewEvent::now()
                .thumbnail(&thumb)
                .clip(&mut reader)
                .record(&r),
        )
        .unwrap();
    }
    let swap_thumb = jpeg(&media_dir.join("swap.jpg"), "testsrc");
    let mut swapped = Vec::new();
    for _ in 0..2 {
        let r = record("motion", &[], None);
        let report = cam
            .record(NewEvent::now().thumbnail(&swap_thumb).record(&r))
            .unwrap();
        swapped.push(report.event.to_string());
    }
    swap_thumbnails(
        &w.h.config.data_dir().join("sealcam.db"),
        &swapped[0],
        &swapped[1],
    );

    // The viewer.
    let mut ui = Killed(
        w.command(w.owner.home(), &["ui", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(ui.0.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let url = first["url"].as_str().unwrap().to_owned();
    let base = url.split("/login").next().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{url}");

    // Refused: no session, a wrong token, a foreign Host.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let status = |path: &str, host: Option<&str>| -> u16 {
        w.h.rt.block_on(async {
            let mut req = http.get(format!("{base}{path}"));
            if let Some(h) = host {
                req = req.header("host", h);
            }
            req.send().await.unwrap().status().as_u16()
        })
    };
    let refusals = [
        (
            "GET /api/timeline without a session",
            status("/api/timeline", None),
        ),
        (
            "GET /api/events/…/thumbnail without a session",
            status(&format!("/api/events/{}/thumbnail", swapped[0]), None),
        ),
        (
            "GET /login?token=<wrong>",
            status("/login?token=AAAA", None),
        ),
        (
            "GET / with Host: evil.example",
            status("/", Some("evil.example")),
        ),
    ];
    for (tried, got) in &refusals {
        println!("ui: tried {tried}: answered {got}");
    }
    assert_eq!(refusals.map(|(_, s)| s), [401, 401, 401, 403]);

    // The browser.
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts");
    std::fs::create_dir_all(&shots).unwrap();
    let mut node = Command::new("node")
        .current_dir(driver_dir())
        .arg("drive.mjs")
        .arg(&url)
        .arg("5")
        .arg(&shots)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut steps = std::collections::BTreeMap::new();
    for line in BufReader::new(node.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        println!("ui: browser {line}");
        let Ok(step) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let name = step["step"].as_str().unwrap_or_default().to_owned();
        if name == "live-ready" {
            let thumb = jpeg(&media_dir.join("live.jpg"), "mandelbrot");
            let r = record("package", &["package"], None);
            cam.record(NewEvent::now().thumbnail(&thumb).record(&r))
                .unwrap();
        }
        steps.insert(name, step);
    }
    assert!(node.wait().unwrap().success(), "the browser driver failed");

    let t = &steps["timeline"];
    let path = t["path"].as_str().unwrap_or_default();
    assert!(
        path.starts_with("/s/") && path.ends_with('/') && path.len() > 20,
        "the one-time link did not log in to a session path: {t}"
    );
    assert_eq!(t["tiles"], 5, "{t}");
    assert_eq!(t["decoded"], 3, "{t}");
    for (kind, _) in kinds {
        assert!(
            t["types"].as_array().unwrap().iter().any(|x| x == kind),
            "{t}"
        );
    }
    let warnings = t["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "{t}");
    for warning in warnings {
        assert_eq!(warning["status"], "misdelivered", "{t}");
        assert_eq!(
            warning["img"], 0,
            "an image was shown for a swapped object: {t}"
        );
        assert!(swapped.iter().any(|e| warning["event"] == e.as_str()));
    }
    println!(
        "ui: tried a storage-level swap of two thumbnails; the browser showed {} warning tile(s) and no image",
        warnings.len()
    );
    let c = &steps["clip"];
    assert!(c["error"].is_null(), "{c}");
    assert!(c["duration"].as_f64().unwrap() > 5.0, "{c}");
    assert!(
        c["playing"].as_f64().unwrap() >= 0.3,
        "the clip did not play: {c}"
    );
    assert!(c["afterSeek"].as_f64().unwrap() >= 2.9, "{c}");
    assert!(
        c["later"].as_f64().unwrap() > c["afterSeek"].as_f64().unwrap(),
        "currentTime did not advance after the seek: {c}"
    );
    let l = &steps["live"];
    assert_eq!(l["appeared"], true, "{l}");
    assert_eq!(l["newest"], "package", "{l}");
    assert_eq!(l["failures"], serde_json::json!([]), "{l}");

    // The link worked once.
    assert_eq!(
        status(&format!("/login?{}", url.split('?').nth(1).unwrap()), None),
        401
    );
    drop(ui);
    println!("ui: screenshots in {}", shots.display());
}

/// Beyond loopback the viewer needs the household's password: without one
/// it refuses to start; with one, a wrong guess is refused and the right one
/// opens a session.
#[test]
fn the_viewer_beyond_loopback_needs_a_password() {
    let (w, _cam) = World::start();
    let refused = sealcam_e2e::process::run(
        w.command(w.owner.home(), &["ui", "--listen", "0.0.0.0:0"]),
        "sealcam ui --listen 0.0.0.0:0",
    )
    .unwrap();
    println!(
        "ui: tried `sealcam ui --listen 0.0.0.0:0` without a password: exit {:?}: {}",
        refused.code,
        refused.stderr.trim()
    );
    assert!(
        !refused.success() && refused.stderr.contains("without a login"),
        "{refused}"
    );

    let mut ui = Killed(
        w.command(w.owner.home(), &["ui", "--json", "--listen", "127.0.0.2:0"])
            .env("SEALCAM_UI_PASSWORD", "a household passphrase")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(ui.0.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let base = format!("http://{}", first["listen"].as_str().unwrap());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = |password: &str| {
        w.h.rt.block_on(async {
            let r = http
                .post(format!("{base}/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("password={}", password.replace(' ', "+")))
                .send()
                .await
                .unwrap();
            let cookie = r
                .headers()
                .get("set-cookie")
                .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
            let location = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            (r.status().as_u16(), cookie, location)
        })
    };
    assert!(
        first["url"].as_str().unwrap().ends_with('/'),
        "a viewer with a password printed a login token: {first}"
    );
    let (wrong, no_cookie, _) = login("not the passphrase");
    assert_eq!((wrong, no_cookie), (401, None));
    let (right, cookie, location) = login("a household passphrase");
    assert_eq!(right, 303);
    let (cookie, location) = (cookie.unwrap(), location.unwrap());
    assert!(
        location.starts_with("/s/") && location.ends_with('/'),
        "{location}"
    );
    let get = |path: &str, headers: &[(&str, &str)]| {
        w.h.rt.block_on(async {
            let mut req = http.get(format!("{base}{path}"));
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            req.send().await.unwrap().status().as_u16()
        })
    };
    let timeline = get(&format!("{location}api/timeline"), &[("cookie", &cookie)]);
    assert_eq!(timeline, 200);
    println!("ui: password login on {base}: a wrong guess answered {wrong}, the right one {right}, then the timeline {timeline}");

    // The session cookie is good for its own path only, and not on a
    // request another port or site made the browser send.
    let attempts = [
        (
            "the session cookie on /api/timeline outside the session's path",
            get("/api/timeline", &[("cookie", &cookie)]),
        ),
        (
            "the session cookie under a guessed session path",
            get(
                "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/api/timeline",
                &[("cookie", &cookie)],
            ),
        ),
        (
            "the session path without its cookie",
            get(&format!("{location}api/timeline"), &[]),
        ),
        (
            "the session, sent from a page on another port (Sec-Fetch-Site: same-site)",
            get(
                &format!("{location}api/timeline"),
                &[("cookie", &cookie), ("sec-fetch-site", "same-site")],
            ),
        ),
        (
            "the session with Host: rebind.attacker.example",
            get(
                &format!("{location}api/timeline"),
                &[("cookie", &cookie), ("host", "rebind.attacker.example")],
            ),
        ),
    ];
    for (tried, got) in &attempts {
        println!("ui: tried {tried}: answered {got}");
    }
    assert_eq!(attempts.map(|(_, s)| s), [401, 401, 401, 403, 403]);
    drop(ui);
}
