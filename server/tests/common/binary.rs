//! The real `sealcam-server` binary as a child process, and the HTTP steps
//! the crash and replica tests take against it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::{Client, StatusCode};
use sealcam_wire::{EnrollResponse, PairingResponse, RegisterCameraResponse};

/// The real `sealcam-server` binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_sealcam-server");

/// Starts the real binary on `dir` (API and metrics on free loopback ports)
/// and returns the child and its base URL, read from its first stdout line.
pub fn spawn_binary<K, V>(
    dir: &std::path::Path,
    env: impl IntoIterator<Item = (K, V)>,
) -> (std::process::Child, String)
where
    K: AsRef<std::ffi::OsStr>,
    V: AsRef<std::ffi::OsStr>,
{
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};

    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "warn")
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    // Keep draining stdout so the child never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let addr = line
        .trim()
        .strip_prefix("sealcam-server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, format!("http://{addr}"))
}

/// Enrolls a viewer with `enrollment` and pairs and confirms a camera:
/// the viewer side talks to `owner_base`, the camera registers at
/// `camera_base` (the same server, or another replica).
pub async fn enroll_pair_confirm(
    http: &Client,
    owner_base: &str,
    camera_base: &str,
    enrollment: &str,
) -> (EnrollResponse, RegisterCameraResponse) {
    let viewer: EnrollResponse = http
        .post(format!("{owner_base}/v1/enroll"))
        .json(&serde_json::json!({"token": enrollment, "device_name": "phone"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pairing: PairingResponse = http
        .post(format!("{owner_base}/v1/pairings"))
        .bearer_auth(&viewer.credential)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let camera: RegisterCameraResponse = http
        .post(format!("{camera_base}/v1/cameras/register"))
        .json(&serde_json::json!({
            "claim_token": pairing.claim_token,
            "device_public_key": STANDARD.encode([1u8; 32]),
            "pairing_proof": STANDARD.encode([2u8; 32]),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = http
        .post(format!(
            "{owner_base}/v1/cameras/{}/confirm",
            camera.camera_id
        ))
        .bearer_auth(&viewer.credential)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    (viewer, camera)
}
