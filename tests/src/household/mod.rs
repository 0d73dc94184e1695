//! A household driven only through the real binaries, as a user (or an
//! attacker holding a device's files) would: `sealcam-server` as a child
//! process on SQLite and local disk in a temporary directory, the owner's
//! `sealcam` command with one `SEALCAM_HOME` per device, and cameras
//! simulated by `sealcam-device`, each with its own `--state` directory.
//!
//! Nothing here reaches into a process: what a test learns, it learns from
//! their output (`--json`), the files in their directories, the public HTTP
//! API and the stock `age` command.

mod reads;

use std::cell::Cell;
use std::fmt;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use uuid::Uuid;

use crate::media;
use crate::pki::TestPki;
use crate::process::{create_account_with, run, ServerProcess};
pub use crate::process::{Binaries, Run};
use crate::HarnessError;

/// A paired camera (`sealcam-device --state DIR`).
#[derive(Debug, Clone)]
pub struct Camera {
    /// Its name at `sealcam pair`.
    pub name: String,
    /// Its state directory.
    pub state: PathBuf,
    /// Its id, as the server assigned it.
    pub id: Uuid,
}

/// One event a camera recorded: its id and the thumbnail's plaintext.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The event id `sealcam-device record` printed.
    pub event: Uuid,
    /// The thumbnail it sealed.
    pub thumbnail: Vec<u8>,
}

/// The real server and one household account whose first owner device,
/// `phone`, is set up with `sealcam init`.
pub struct Household {
    /// The binaries.
    pub bins: Binaries,
    /// The running server.
    pub server: ServerProcess,
    /// Its base URL.
    pub url: String,
    /// The server's data directory (its SQLite database is `sealcam.db` in it).
    pub data: PathBuf,
    /// The account.
    pub account: Uuid,
    /// A file holding the recovery key `sealcam init` printed (once).
    pub recovery_file: PathBuf,
    /// The server's `SEALCAM__…` settings (account creation uses them too).
    server_env: Vec<(String, std::ffi::OsString)>,
    /// With TLS: the CA every command pins (`SEALCAM_CA_FILE`,
    /// `SEALCAM_DEVICE_CA_FILE`).
    pub ca_file: Option<PathBuf>,
    seeds: Cell<u64>,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl fmt::Debug for Household {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Household")
            .field("url", &self.url)
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

/// Points the `device.json` or `camera.json` at `file` to the server at
/// `url` (as an operator who moved the server would, or a test putting a
/// proxy in between); returns what the file holds now.
pub fn point_at(file: &std::path::Path, url: &str) -> Result<serde_json::Value, HarnessError> {
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(file)?)?;
    json["server_url"] = serde_json::Value::String(url.to_owned());
    std::fs::write(file, serde_json::to_vec_pretty(&json)?)?;
    Ok(json)
}

/// The home of the owner's first device.
pub const PHONE: &str = "phone";

impl Household {
    /// Starts the server binary on a fresh data directory, creates the
    /// account `household` with `sealcam-server accounts create`, and sets up
    /// its first device (`sealcam init`, home [`PHONE`]), keeping the
    /// recovery key it prints in [`recovery_file`](Self::recovery_file).
    pub fn start() -> Result<Self, HarnessError> {
        Self::start_with(tempfile::tempdir()?, None, &[])
    }

    /// Like [`start`](Self::start), with `SEALCAM__…` settings for the server.
    pub fn start_configured(env: &[(&str, &std::ffi::OsStr)]) -> Result<Self, HarnessError> {
        Self::start_with(tempfile::tempdir()?, None, env)
    }

    /// Like [`start`](Self::start), with the server terminating TLS itself
    /// (`[server.tls]` = `pki`'s certificate) and every command pinning
    /// `pki`'s CA: the whole household speaks HTTPS.
    pub fn start_tls(dir: tempfile::TempDir, pki: &TestPki) -> Result<Self, HarnessError> {
        Self::start_with(dir, Some(pki), &[])
    }

    fn start_with(
        dir: tempfile::TempDir,
        pki: Option<&TestPki>,
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Result<Self, HarnessError> {
        let bins = Binaries::locate()?;
        let data = dir.path().join("server");
        std::fs::create_dir_all(&data)?;
        let token = create_account_with(&bins.server, &data, "household", env)?;
        let mut env = env.to_vec();
        if let Some(pki) = pki {
            env.push(("SEALCAM__SERVER__TLS__CERT", pki.cert_file.as_os_str()));
            env.push(("SEALCAM__SERVER__TLS__KEY", pki.key_file.as_os_str()));
        }
        let server = ServerProcess::start_with(&bins.server, &data, &env, pki.is_some())?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let url = server.url.clone();
        sealcam_client::tls::install_crypto_provider();
        let mut http = reqwest::Client::builder();
        if let Some(pki) = pki {
            let ca = std::fs::read(&pki.ca_file)?;
            http = http.tls_certs_only(reqwest::Certificate::from_pem_bundle(&ca)?);
        }
        let mut h = Self {
            bins,
            server,
            url,
            data,
            account: Uuid::nil(),
            recovery_file: dir.path().join("recovery-key.txt"),
            ca_file: pki.map(|p| p.ca_file.clone()),
            server_env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            seeds: Cell::new(1),
            rt,
            http: http.build()?,
            dir,
        };
        let (account, recovery) = h.init(PHONE, &token)?;
        h.account = account;
        let mut f = std::fs::File::create(&h.recovery_file)?;
        writeln!(f, "{recovery}")?;
        Ok(h)
    }

    /// A household made by an earlier release, from an archive of its
    /// server data directory, owner home `phone` and camera state `cam`
    /// (tests/fixtures/make-legacy-v1.sh). The server binary under test is
    /// started on that data directory (its migrations run), on a new port:
    /// the `server_url` kept in `phone/device.json` and `cam/camera.json` is
    /// pointed at it, as an operator who moved the server would.
    pub fn from_archive(archive: &std::path::Path) -> Result<Self, HarnessError> {
        let bins = Binaries::locate()?;
        let dir = tempfile::tempdir()?;
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(archive)
            .arg("-C")
            .arg(dir.path())
            .status()?;
        if !status.success() {
            return Err(format!("tar -xzf {}: {status}", archive.display()).into());
        }
        let data = dir.path().join("server");
        let server = ServerProcess::start(&bins.server, &data)?;
        let url = server.url.clone();
        let mut account = Uuid::nil();
        for file in ["phone/device.json", "cam/camera.json"] {
            let json = point_at(&dir.path().join(file), &url)?;
            if let Some(id) = json["account_id"].as_str() {
                account = id.parse()?;
            }
        }
        sealcam_client::tls::install_crypto_provider();
        Ok(Self {
            bins,
            server,
            url,
            data,
            account,
            recovery_file: dir.path().join("recovery.txt"),
            ca_file: None,
            server_env: Vec::new(),
            seeds: Cell::new(1000),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            http: reqwest::Client::new(),
            dir,
        })
    }

    /// `sealcam init` in `home` with an enrollment token; returns the
    /// account id and the recovery key.
    fn init(&self, home: &str, token: &str) -> Result<(Uuid, String), HarnessError> {
        let out = self
            .sealcam(
                home,
                &[
                    "init", "--server", &self.url, "--token", token, "--name", home, "--json",
                ],
            )?
            .checked()?
            .json()?;
        let account = out["account_id"]
            .as_str()
            .ok_or("init printed no account_id")?
            .parse()?;
        let recovery = out["recovery_key"]
            .as_str()
            .ok_or("init printed no recovery_key")?
            .to_owned();
        Ok((account, recovery))
    }

    /// A directory under the test's temporary directory (a home, a camera's
    /// state, a file).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The server's SQLite database file.
    pub fn database(&self) -> PathBuf {
        self.data.join("sealcam.db")
    }

    /// Runs `sealcam ARGS` with `SEALCAM_HOME` = the home `home`.
    pub fn sealcam(&self, home: &str, args: &[&str]) -> Result<Run, HarnessError> {
        let mut cmd = Command::new(&self.bins.cli);
        cmd.env("SEALCAM_HOME", self.path(home))
            .env_remove("SEALCAM_SERVER")
            .env_remove("SEALCAM_CA_FILE")
            .args(args);
        if let Some(ca) = &self.ca_file {
            cmd.env("SEALCAM_CA_FILE", ca);
        }
        run(
            cmd,
            &format!("SEALCAM_HOME={home} sealcam {}", args.join(" ")),
        )
    }

    /// Runs `sealcam-device --state <camera's state> ARGS`.
    pub fn device(&self, cam: &Camera, args: &[&str]) -> Result<Run, HarnessError> {
        let mut cmd = Command::new(&self.bins.device);
        cmd.arg("--state")
            .arg(&cam.state)
            .env_remove("SEALCAM_DEVICE_STATE")
            .env_remove("SEALCAM_DEVICE_CA_FILE")
            .args(args);
        if let Some(ca) = &self.ca_file {
            cmd.env("SEALCAM_DEVICE_CA_FILE", ca);
        }
        run(
            cmd,
            &format!("sealcam-device --state {} {}", cam.name, args.join(" ")),
        )
    }

    /// Links a new owner device `name` (home `name`), approved from `from`:
    /// `viewers link --server` there, `viewers approve` on `from`, then
    /// `viewers link --finish` there.
    pub fn link(&self, from: &str, name: &str) -> Result<(), HarnessError> {
        let request = self
            .sealcam(
                name,
                &[
                    "viewers", "link", "--server", &self.url, "--name", name, "--json",
                ],
            )?
            .checked()?
            .json()?;
        let request = request["link_request"]
            .as_str()
            .ok_or("no link_request")?
            .to_owned();
        let approval = self
            .sealcam(from, &["viewers", "approve", &request, "--json"])?
            .checked()?
            .json()?;
        let approval = approval["approval"]
            .as_str()
            .ok_or("no approval")?
            .to_owned();
        self.sealcam(name, &["viewers", "link", "--finish", &approval, "--json"])?
            .checked()?;
        Ok(())
    }

    /// A second account (a household member) with its own first device in
    /// the home `name`; returns its account id.
    pub fn other_account(&self, name: &str) -> Result<Uuid, HarnessError> {
        let env: Vec<(&str, &std::ffi::OsStr)> = self
            .server_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_os_str()))
            .collect();
        let token = create_account_with(&self.bins.server, &self.data, name, &env)?;
        Ok(self.init(name, &token)?.0)
    }

    /// Pairs a camera `name` from the owner device `owner`: `sealcam pair`
    /// → `sealcam-device pair CODE` → `sealcam cameras confirm` →
    /// `sealcam-device sync`.
    pub fn pair_camera(&self, owner: &str, name: &str) -> Result<Camera, HarnessError> {
        let code = self
            .sealcam(owner, &["pair", "--name", name, "--no-qr", "--json"])?
            .checked()?
            .json()?;
        let code = code["code"].as_str().ok_or("pair printed no code")?;
        let mut cam = Camera {
            name: name.to_owned(),
            state: self.path(&format!("cam-{name}")),
            id: Uuid::nil(),
        };
        let paired = self.device(&cam, &["pair", code])?.checked()?;
        cam.id = paired.stdout.trim().parse()?;
        let confirmed = self
            .sealcam(owner, &["cameras", "confirm", "--json"])?
            .checked()?
            .json()?;
        let id = cam.id.to_string();
        let ours = confirmed["cameras"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["outcome"] == "confirmed" && c["camera_id"] == id.as_str());
        if !ours {
            return Err(format!("camera {name} was not confirmed: {confirmed}").into());
        }
        self.device(&cam, &["sync"])?.checked()?;
        Ok(cam)
    }

    /// `sealcam-device record --thumbnail FILE --record '{"type":"person"}'`
    /// (it syncs the recipient set first); returns the event and its
    /// thumbnail.
    pub fn record(&self, cam: &Camera) -> Result<(Recording, Run), HarnessError> {
        self.record_at(cam, None)
    }

    /// Like [`record`](Self::record), with the capture time the camera
    /// reports (unix seconds; `None`: now).
    pub fn record_at(
        &self,
        cam: &Camera,
        captured_at: Option<i64>,
    ) -> Result<(Recording, Run), HarnessError> {
        let seed = self.seeds.get();
        self.seeds.set(seed + 1);
        let thumbnail = media::thumbnail(seed, 1500);
        let file = self.path(&format!("thumb-{seed}.jpg"));
        std::fs::write(&file, &thumbnail)?;
        let file = file.to_str().ok_or("temporary path is not UTF-8")?;
        let at = captured_at.map(|t| t.to_string());
        let mut args = vec![
            "record",
            "--thumbnail",
            file,
            "--record",
            r#"{"type":"person"}"#,
        ];
        if let Some(at) = &at {
            args.extend(["--captured-at", at.as_str()]);
        }
        let run = self.device(cam, &args)?.checked()?;
        let event = run
            .stdout
            .lines()
            .last()
            .ok_or("record printed no event id")?
            .trim()
            .parse()?;
        Ok((Recording { event, thumbnail }, run))
    }

    /// The credential a home holds (its `credential` file).
    pub fn credential(&self, home: &str) -> Result<String, HarnessError> {
        Ok(std::fs::read_to_string(self.path(home).join("credential"))?
            .trim()
            .to_owned())
    }

    /// One HTTP request to the server; returns the status and the body.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        credential: Option<&str>,
        json: Option<&serde_json::Value>,
    ) -> Result<(u16, Vec<u8>), HarnessError> {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(c) = credential {
            req = req.bearer_auth(c);
        }
        if let Some(body) = json {
            req = req.json(body);
        }
        self.rt.block_on(async {
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            let body = resp.bytes().await?.to_vec();
            Ok((status, body))
        })
    }

    /// `header ‖ payload` of a part, downloaded with the credential of
    /// `home` (`GET /v1/events/{id}/parts/{kind}/header` and `…/payload`):
    /// a standard age file.
    pub fn download(&self, home: &str, event: Uuid, kind: &str) -> Result<Vec<u8>, HarnessError> {
        let cred = self.credential(home)?;
        let mut object = Vec::new();
        for piece in ["header", "payload"] {
            let path = format!("/v1/events/{event}/parts/{kind}/{piece}");
            let (status, body) = self.request(reqwest::Method::GET, &path, Some(&cred), None)?;
            if status != 200 {
                return Err(
                    format!("GET {path}: {status} {}", String::from_utf8_lossy(&body)).into(),
                );
            }
            object.extend_from_slice(&body);
        }
        Ok(object)
    }

    /// Whether the stock `age -d -i <home>/viewer.txt` decrypts `object`
    /// to a plaintext holding `expected` (the inner header, the body, the
    /// trailer: the body is in it verbatim).
    pub fn age_opens(
        &self,
        home: &str,
        object: &[u8],
        expected: &[u8],
    ) -> Result<bool, HarnessError> {
        let identity = self.path(home).join("viewer.txt");
        let mut child = Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&identity)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run the stock `age` command: {e}"))?;
        let mut stdin = child.stdin.take().ok_or("no stdin")?;
        let bytes = object.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&bytes));
        let out = child.wait_with_output()?;
        // age stops reading when the header does not open: a broken pipe then is expected.
        let _ = writer.join();
        if !out.status.success() {
            return Ok(false);
        }
        if !contains(&out.stdout, expected) {
            return Err(format!(
                "age -d -i {} decrypted something else than the recording",
                identity.display()
            )
            .into());
        }
        Ok(true)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}
