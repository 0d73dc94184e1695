//! The real binaries as child processes: `sealcam-server` for the crash
//! and trust tests (started on ephemeral ports, its address read from its
//! first line, killed with SIGKILL), and where to find `sealcam` and
//! `sealcam-device` ([`binary`]).

use std::fmt;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::HarnessError;

/// Where the `sealcam-server` binary is (see [`binary`]).
pub fn server_binary() -> Result<PathBuf, HarnessError> {
    binary("sealcam-server", "sealcam-server")
}

/// Where the binary `bin` of the workspace package `package` is:
/// `$<BIN>_BIN` when set (`SEALCAM_SERVER_BIN`, `SEALCAM_BIN`,
/// `SEALCAM_DEVICE_BIN`), else beside this test binary's directory
/// (`target/<profile>/<bin>`); built with cargo when it is not there yet
/// (`cargo test -p sealcam-e2e` alone does not build other packages'
/// binaries). A binary already there is used as it is: build the packages
/// first when their sources changed.
pub fn binary(package: &str, bin: &str) -> Result<PathBuf, HarnessError> {
    let var = format!("{}_BIN", bin.to_ascii_uppercase().replace('-', "_"));
    if let Some(path) = std::env::var_os(&var) {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("the test binary has no target directory")?;
    let path = profile_dir.join(bin);
    if path.exists() {
        return Ok(path);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace")?;
    let mut build = Command::new(cargo);
    build
        .current_dir(workspace)
        .args(["build", "-p", package, "--bin", bin]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    if let Some(target) = profile_dir.parent() {
        build.env("CARGO_TARGET_DIR", target);
    }
    let status = build.status()?;
    if !status.success() || !path.exists() {
        return Err(format!("could not build {}: {status}", path.display()).into());
    }
    Ok(path)
}

/// A running `sealcam-server serve`.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Its base URL.
    pub url: String,
    /// Its metrics listener (`127.0.0.1:PORT`).
    pub metrics_addr: Option<String>,
}

impl ServerProcess {
    /// Starts `serve` on `data_dir`, on ephemeral ports, and waits for its
    /// "listening" line (the server prints it once it accepts connections).
    pub fn start(bin: &Path, data_dir: &Path) -> Result<Self, HarnessError> {
        Self::start_with(bin, data_dir, &[], false)
    }

    /// Like [`start`](Self::start), with `SEALCAM__…` settings in `env`;
    /// `https` when they configure `[server.tls]`.
    pub fn start_with(
        bin: &Path,
        data_dir: &Path,
        env: &[(&str, &std::ffi::OsStr)],
        https: bool,
    ) -> Result<Self, HarnessError> {
        let mut child = Command::new(bin)
            .envs(env.iter().copied())
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
        let addr = line
            .trim()
            .strip_prefix("sealcam-server listening on ")
            .ok_or_else(|| format!("unexpected first line {line:?}"))?
            .to_owned();
        let mut second = String::new();
        reader.read_line(&mut second)?;
        let metrics_addr = second
            .trim()
            .strip_prefix("sealcam-server metrics on ")
            .map(str::to_owned);
        // Keep draining stdout so the child never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let scheme = if https { "https" } else { "http" };
        Ok(Self {
            url: format!("{scheme}://{addr}"),
            metrics_addr,
            child,
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The listening address (`127.0.0.1:PORT`).
    pub fn addr(&self) -> &str {
        self.url.split_once("://").map_or(&self.url, |(_, a)| a)
    }

    /// Sends `SIGHUP` (the server reloads its TLS certificate).
    pub fn hangup(&self) -> Result<(), HarnessError> {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()?;
        if !status.success() {
            return Err(format!("kill -HUP failed: {status}").into());
        }
        Ok(())
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
    create_account_with(bin, data_dir, name, &[])
}

/// [`create_account`] with the server's `SEALCAM__…` settings (its database).
pub fn create_account_with(
    bin: &Path,
    data_dir: &Path,
    name: &str,
    env: &[(&str, &std::ffi::OsStr)],
) -> Result<String, HarnessError> {
    let out = Command::new(bin)
        .envs(env.iter().copied())
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

/// The three binaries under test.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// `sealcam-server`.
    pub server: PathBuf,
    /// `sealcam`, the owner's command.
    pub cli: PathBuf,
    /// `sealcam-device`, the camera simulator.
    pub device: PathBuf,
}

impl Binaries {
    /// Finds (or builds) the three binaries: see [`binary`].
    pub fn locate() -> Result<Self, HarnessError> {
        Ok(Self {
            server: binary("sealcam-server", "sealcam-server")?,
            cli: binary("sealcam-cli", "sealcam")?,
            device: binary("sealcam-device", "sealcam-device")?,
        })
    }
}

/// What a finished command printed, and how it exited.
#[derive(Debug, Clone)]
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` exited {:?}\n--- stdout\n{}--- stderr\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Itself when it exited 0, else an error with everything it printed.
    pub fn checked(self) -> Result<Self, HarnessError> {
        if self.success() {
            Ok(self)
        } else {
            Err(format!("command failed: {self}").into())
        }
    }

    /// Standard output parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value, HarnessError> {
        serde_json::from_str(&self.stdout).map_err(|e| format!("not JSON ({e}): {self}").into())
    }

    /// Standard output and standard error together (for matching messages).
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The first line of standard error that contains `needle`, trimmed.
    pub fn stderr_line(&self, needle: &str) -> Option<&str> {
        self.stderr
            .lines()
            .find(|l| l.contains(needle))
            .map(str::trim)
    }
}

/// Runs `cmd` to completion (stdin empty); `shown` names it in messages.
pub fn run(mut cmd: Command, shown: &str) -> Result<Run, HarnessError> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    Ok(Run {
        command: shown.to_owned(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}
