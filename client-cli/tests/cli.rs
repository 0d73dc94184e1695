//! Snapshot tests of the command's text: `tests/cmd/*.toml` (static runs, with
//! `trycmd`; `TRYCMD=overwrite` regenerates them) and `tests/snapshots/*.txt`
//! (runs against a real server, with ids, keys, times and paths redacted;
//! `SNAPSHOTS=overwrite` regenerates them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::{bytes, Env};

#[test]
fn static_runs() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}

/// Replaces what changes from run to run.
fn redact(text: &str, env: &Env) -> String {
    let mut out = text.replace(&env.base, "[SERVER]");
    out = out.replace(env.homes.path().to_str().unwrap(), "[HOMES]");
    let mut words: Vec<String> = Vec::new();
    for token in out.split_inclusive(|c: char| {
        c.is_whitespace() || c == '"' || c == '(' || c == ')' || c == '\''
    }) {
        let (word, tail) = token.split_at(
            token
                .trim_end_matches(|c: char| {
                    c.is_whitespace() || c == '"' || c == '(' || c == ')' || c == '\''
                })
                .len(),
        );
        let word = word.trim_end_matches([',', ':', '.', ';']);
        let suffix = &token[word.len()..token.len() - tail.len()];
        let r = if uuid::Uuid::parse_str(word).is_ok() && word.len() == 36 {
            "[UUID]".to_owned()
        } else if word.starts_with("age1") {
            "[VIEWER-KEY]".to_owned()
        } else if word.starts_with("AGE-SECRET-KEY-") {
            "[RECOVERY-KEY]".to_owned()
        } else if word.starts_with("SEALCAM1") {
            "[PAIRING-CODE]".to_owned()
        } else if is_fingerprint(word) {
            "[FINGERPRINT]".to_owned()
        } else if word.starts_with("sealcam-device-") {
            "[DEVICE-KEY]".to_owned()
        } else if word.starts_with("sce_") || word.starts_with("scl_") {
            "[TOKEN]".to_owned()
        } else if word.starts_with("sealcam-owner-") {
            "[OWNER-KEY]".to_owned()
        } else if word.starts_with("sealcam-member:") {
            "[MEMBER-CODE]".to_owned()
        } else if word.len() == 20 && word.ends_with('Z') && word.as_bytes().get(10) == Some(&b'T')
        {
            "[TIME]".to_owned()
        } else {
            word.to_owned()
        };
        words.push(format!("{r}{suffix}{tail}"));
    }
    words.concat()
}

/// A key fingerprint: four groups of four base32 characters.
fn is_fingerprint(word: &str) -> bool {
    let groups: Vec<&str> = word.split('-').collect();
    groups.len() == 4
        && groups.iter().all(|g| {
            g.len() == 4
                && g.bytes()
                    .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        })
}

fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "snapshot {name} differs (SNAPSHOTS=overwrite to update):\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

#[test]
fn text_output_of_a_session() {
    let env = Env::start();
    let home = env.home("alice");
    let token = env.enrollment_token("alice");
    let mut session = String::new();
    let run = |args: &[&str], session: &mut String| {
        let r = env.sealcam(&home, args);
        session.push_str(&format!("$ sealcam {}\n", args.join(" ")));
        session.push_str(&r.stdout);
        if !r.stderr.is_empty() {
            session.push_str(&format!("[stderr]\n{}", r.stderr));
        }
        session.push_str(&format!("[exit {}]\n\n", r.code));
        r
    };
    let r = run(
        &[
            "init", "--server", &env.base, "--token", &token, "--name", "laptop",
        ],
        &mut session,
    );
    assert_eq!(r.code, 0);
    let r = run(&["pair", "--name", "porch", "--no-qr"], &mut session);
    let code = r
        .stdout
        .lines()
        .find(|l| l.starts_with("SEALCAM1"))
        .unwrap()
        .to_owned();
    run(&["cameras", "list"], &mut session);
    let mut cam = common::TestCamera::pair(&env, &code);
    run(&["cameras", "confirm"], &mut session);
    cam.sync(&env);
    let ev = cam.record(&env, &bytes(1, 12_345), &bytes(2, 200_000));
    run(&["cameras", "list"], &mut session);
    run(&["events", "list"], &mut session);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("t.jpg");
    let r = run(
        &["fetch", &ev.to_string(), "-o", target.to_str().unwrap()],
        &mut session,
    );
    assert_eq!(r.code, 0);
    run(&["viewers", "list"], &mut session);
    run(&["events", "list", "--since", "not-a-time"], &mut session);
    run(&["fetch", "not-an-id", "-o", "x"], &mut session);
    let redacted = redact(&session, &env).replace(out.path().to_str().unwrap(), "[OUT]");
    check("session", &redacted);
}
