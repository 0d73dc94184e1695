//! A PostgreSQL cluster of a test's own (initdb in a temporary directory,
//! trust authentication, 127.0.0.1 on a free port), so that a fault test can
//! stop and restart it under a running server without touching the cluster
//! other tests share. Needs PostgreSQL's binaries (scripts/services.sh
//! installs them); as root they run as the `postgres` user.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::HarnessError;

/// A running (or stopped) throwaway cluster.
#[derive(Debug)]
pub struct TestPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Runs a PostgreSQL tool, as `postgres` when this is root (initdb and
/// postgres refuse to run as root).
fn pg(bin: &Path, tool: &str, args: &[&str]) -> Result<(), HarnessError> {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    };
    let out = cmd.args(args).output()?;
    if !out.status.success() {
        return Err(format!(
            "{tool} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

impl TestPostgres {
    /// A new cluster with a database `sealcam`, started; `None` when
    /// PostgreSQL is not installed.
    pub fn start() -> Result<Option<Self>, HarnessError> {
        let Some(bin) = pg_bin() else {
            return Ok(None);
        };
        let dir = tempfile::tempdir()?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        let data = dir.path().join("pgdata");
        std::fs::create_dir(&data)?;
        if is_root() {
            let status = Command::new("chown").arg("postgres:").arg(&data).status()?;
            if !status.success() {
                return Err("chown postgres failed".into());
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let data_s = data.to_str().ok_or("non-UTF-8 path")?;
        pg(
            &bin,
            "initdb",
            &["-D", data_s, "-A", "trust", "-U", "postgres", "--no-sync"],
        )?;
        let cluster = Self {
            bin,
            data,
            port,
            _dir: dir,
        };
        cluster.start_again()?;
        let port = cluster.port.to_string();
        pg(
            &cluster.bin,
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "sealcam"],
        )?;
        Ok(Some(cluster))
    }

    /// Its URL for `database.url`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/sealcam", self.port)
    }

    /// Starts the (stopped) cluster again on the same port.
    pub fn start_again(&self) -> Result<(), HarnessError> {
        let data = self.data.to_str().ok_or("non-UTF-8 path")?;
        let log = self.data.join("log");
        let opts = format!("-h 127.0.0.1 -p {} -k {data} -c fsync=off", self.port);
        pg(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                data,
                "-l",
                log.to_str().ok_or("path")?,
                "-w",
                "-o",
                &opts,
                "start",
            ],
        )
    }

    /// Stops it at once (`-m immediate`: connections are cut, as in a crash).
    pub fn stop(&self) -> Result<(), HarnessError> {
        let data = self.data.to_str().ok_or("non-UTF-8 path")?;
        pg(
            &self.bin,
            "pg_ctl",
            &["-D", data, "-m", "immediate", "-w", "stop"],
        )
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
