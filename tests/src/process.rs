//! The real `sealcam-server` binary as a child process, for the crash test:
//! started on ephemeral ports, its address read from its first line, and
//! killed with SIGKILL.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::HarnessError;

/// Where the `sealcam-server` binary is: `SEALCAM_SERVER_BIN`, else beside
/// this test binary's directory (`target/<profile>/sealcam-server`); built
/// with cargo when it is not there yet (`cargo test -p sealcam-e2e` alone
/// does not build other packages' binaries).
pub fn server_binary() -> Result<PathBuf, HarnessError> {
    if let Some(bin) = std::env::var_os("SEALCAM_SERVER_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("the test binary has no target directory")?;
    let bin = profile_dir.join("sealcam-server");
    if bin.exists() {
        return Ok(bin);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace")?;
    let mut build = Command::new(cargo);
    build
        .current_dir(workspace)
        .args(["build", "-p", "sealcam-server", "--bin", "sealcam-server"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    if let Some(target) = profile_dir.parent() {
        build.env("CARGO_TARGET_DIR", target);
    }
    let status = build.status()?;
    if !status.success() || !bin.exists() {
        return Err(format!("could not build {}: {status}", bin.display()).into());
    }
    Ok(bin)
}

/// A running `sealcam-server serve`.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Its base URL.
    pub url: String,
}

impl ServerProcess {
    /// Starts `serve` on `data_dir`, on ephemeral ports, and waits for its
    /// "listening" line (the server prints it once it accepts connections).
    pub fn start(bin: &Path, data_dir: &Path) -> Result<Self, HarnessError> {
        let mut child = Command::new(bin)
            .arg("--data-dir")
            .arg(data_dir)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "127.0.0.1:0",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        // Keep draining stdout so the child never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let addr = line
            .trim()
            .strip_prefix("sealcam-server listening on ")
            .ok_or_else(|| format!("unexpected first line {line:?}"))?;
        Ok(Self {
            url: format!("http://{addr}"),
            child,
        })
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    pub fn kill9(mut self) -> Result<(), HarnessError> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sealcam-server accounts create NAME --json` on `data_dir`; returns the
/// one-time enrollment token.
pub fn create_account(bin: &Path, data_dir: &Path, name: &str) -> Result<String, HarnessError> {
    let out = Command::new(bin)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["accounts", "create", name, "--json"])
        .output()?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    let account: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    account["enrollment_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no enrollment_token".into())
}
