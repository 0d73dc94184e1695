//! What the flow tests (`tests/flows_*.rs`) share: the command's exit
//! codes, `sealcam fetch`, opening a part outside the command, linking a
//! second viewer device.

use std::path::Path;

use sealcam_keys::{EventId, ViewerIdentity};

use super::{files_under, Env, Run, TestCamera};

/// Exit code: the object is not addressed to this viewer, or not the one asked for.
pub const MISDELIVERED: i32 = 3;
/// Exit code: a signature or a chunk does not verify.
pub const VERIFICATION: i32 = 4;
/// Exit code: no such event, part or camera (for this viewer).
pub const NOT_FOUND: i32 = 5;
/// Exit code: the server refused this device's credential.
pub const NOT_AUTHORISED: i32 = 7;

/// `sealcam fetch EVENT --part PART -o OUT` in `home`.
pub fn fetch(env: &Env, home: &Path, event: EventId, part: &str, out: &Path) -> Run {
    env.sealcam(
        home,
        &[
            "fetch",
            &event.to_string(),
            "--part",
            part,
            "-o",
            out.to_str().unwrap(),
        ],
    )
}

/// Nothing but `keep` in `dir`: no output, no temp file, no spool.
pub fn assert_only(dir: &Path, keep: &[&Path]) {
    let left: Vec<_> = files_under(dir)
        .into_iter()
        .filter(|p| !keep.iter().any(|k| k == p))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Links a second viewer device of the account of `home`; returns its home and viewer id.
pub fn link_viewer(env: &Env, home: &Path, name: &str) -> (std::path::PathBuf, String) {
    let new_home = env.home(name);
    let req = env
        .sealcam(
            &new_home,
            &[
                "--json", "viewers", "link", "--server", &env.base, "--name", name,
            ],
        )
        .json()["link_request"]
        .as_str()
        .unwrap()
        .to_owned();
    let approved = env
        .sealcam(home, &["--json", "viewers", "approve", &req])
        .json();
    let approval = approved["approval"].as_str().unwrap().to_owned();
    env.sealcam(&new_home, &["viewers", "link", "--finish", &approval])
        .ok();
    (new_home, approved["viewer_id"].as_str().unwrap().to_owned())
}

/// Fetches both blobs of a part with `token` and opens them with `identity`.
pub fn open_with(
    env: &Env,
    token_home: &Path,
    cam: &TestCamera,
    event: EventId,
    identity: &ViewerIdentity,
) -> Result<Vec<u8>, sealcam_format::OpenError> {
    let cred = std::fs::read_to_string(token_home.join("credential")).unwrap();
    let get = |suffix: &str| {
        env.rt.block_on(async {
            let resp = env
                .http
                .get(format!(
                    "{}/v1/events/{event}/parts/thumbnail/{suffix}",
                    env.base
                ))
                .bearer_auth(cred.trim())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            resp.bytes().await.unwrap().to_vec()
        })
    };
    let binding = sealcam_format::Binding {
        owner: cam.owner,
        camera: cam.camera_id,
        event,
        kind: sealcam_format::PartKind::Thumbnail,
        sequence: 0,
    };
    sealcam_format::open_to_vec(
        &get("header"),
        &get("payload"),
        &[identity],
        &binding,
        &cam.key.public(),
    )
    .map(|o| o.body)
}
