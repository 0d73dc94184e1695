//! The `sealcam-device` command before it has a server: what it says when the
//! state directory is missing, when the camera is not paired, and when a
//! pairing code is malformed — and that a refused command leaves the state
//! directory as it was. The commands against a real server are in
//! tests/tests/device/cli.rs.
//!
//! This file is also what makes `cargo test --workspace` build the
//! `sealcam-device` binary (with the workspace's features), which the e2e
//! tests then run from `target/<profile>/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn device(state: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sealcam-device"));
    if let Some(state) = state {
        cmd.arg("--state").arg(state);
    }
    cmd.args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file under `dir` with its contents, sorted.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let name = p.strip_prefix(dir).unwrap().display().to_string();
                files.push((name, std::fs::read(&p).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn help_lists_the_commands() {
    let out = device(None, &["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["pair", "sync", "status", "record", "drain"] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
}

#[test]
fn a_command_without_a_state_directory_says_so() {
    let out = device(None, &["sync"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--state DIR is required"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unpaired_camera_says_it_is_not_paired() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["sync"][..], &["status"]] {
        let out = device(Some(dir.path()), args);
        assert!(!out.status.success(), "{args:?} succeeded unpaired");
        assert!(
            stderr(&out).contains("not paired"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_malformed_pairing_code_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Opening the state creates the device key; take the snapshot after that.
    let _ = device(Some(dir.path()), &["status"]);
    let before = snapshot(dir.path());
    for code in ["", "SEALCAM1", "SEALCAM1-not-a-code", "hello"] {
        let out = device(Some(dir.path()), &["pair", code]);
        assert!(!out.status.success(), "code {code:?} was accepted");
        let err = stderr(&out);
        assert!(err.contains("pairing"), "code {code:?}: {err}");
        assert_eq!(
            snapshot(dir.path()),
            before,
            "code {code:?} changed the state"
        );
    }
}
