//! What the owner trust v2 attack tests (`tests/tests/trust_*.rs`) share
//! (docs/PROTOCOL.md, "Owner trust v2": every row of its attack table names
//! one of those tests), against the real binaries only.
//!
//! **Setup.** Each test starts `sealcam-server` as a child process (SQLite
//! and local disk in a temporary directory), creates the account
//! `household` with `sealcam-server accounts create`, and sets up the
//! owner's first device with `sealcam init` in the home `phone`, keeping the
//! recovery key it prints once. Most tests then link a second owner device,
//! `tablet` — the future thief — with `viewers link` / `viewers approve` /
//! `viewers link --finish`, and pair a camera `door`, simulated by
//! `sealcam-device` (`pair`, `sealcam cameras confirm`, `sync`, `record`)
//! ([`household_with_tablet`]). The binaries are those in
//! `target/<profile>/` (built with cargo when missing; see
//! [`crate::process::binary`]): after changing their sources,
//! `cargo build -p sealcam-server -p sealcam-cli -p sealcam-device` first.
//!
//! **The attacker** holds only what the tablet's home holds (`viewer.txt`,
//! `owner.key`, `credential`, `device.json`, `record.json`: [`Stolen`]), the
//! public HTTP API and the `sealcam-keys` crate to sign documents. A
//! **colluding server** is played by writing straight into the server's
//! SQLite database (`<data dir>/sealcam.db`, [`Db`]):
//! `cameras.set_epoch/set_data`, `accounts.key_log/viewers` (with their
//! `_sha` columns, so the server's ETags stay consistent),
//! `parts.header_*`, `cameras.token_hash`.
//!
//! **Who can open a recording** is decided by the stock `age -d -i
//! <home>/viewer.txt` on `header ‖ payload`, downloaded with an owner
//! device's credential ([`openers`]).
//!
//! Every test prints what it tried and what was refused, as `trust: ` lines
//! (collected by `scripts/test.sh`).
// A broken fixture fails the test that uses it, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::Method;
use rusqlite::{params, Connection, OptionalExtension as _};
use sealcam_client::record::OwnerRecord;
use sealcam_client::DeviceInfo;
use sealcam_keys::{
    BundleError, CameraId, OwnerId, OwnerKeyBundle, OwnerKeyState, OwnerSigningKey, RecipientSet,
    SetBinding, ViewerIdentity, ViewerRecipient, SET_LIFETIME_SECS,
};
use serde_json::{json, Value};
use sha2::Digest as _;
use uuid::Uuid;

use crate::household::{point_at, Camera, Household, Recording, Run, PHONE};
use crate::proxy::Proxy;
use crate::HarnessError;

/// The second owner device, the future thief.
pub const TABLET: &str = "tablet";

/// Panics with a harness error's message (its command's whole output).
pub fn fail<T>(e: HarnessError) -> T {
    panic!("{e}")
}

/// The server, the phone, the tablet linked from it, and the camera `door`
/// paired from the phone. The tablet has listed the cameras once (it was in
/// use), so the record it keeps names the camera.
pub fn household_with_tablet() -> (Household, Camera) {
    let h = Household::start().unwrap_or_else(fail);
    h.link(PHONE, TABLET).unwrap_or_else(fail);
    let cam = h.pair_camera(PHONE, "door").unwrap_or_else(fail);
    h.sealcam(TABLET, &["cameras", "list"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    (h, cam)
}

/// `sealcam ARGS` in `home`, required to succeed; its JSON output.
pub fn sealcam_ok(h: &Household, home: &str, args: &[&str]) -> Value {
    h.sealcam(home, args)
        .and_then(Run::checked)
        .unwrap_or_else(fail)
        .json()
        .unwrap_or_else(fail)
}

/// `sealcam viewers revoke WHO --json` on `home`; the revocation.
pub fn revoke(h: &Household, home: &str, who: &str) -> Value {
    sealcam_ok(h, home, &["viewers", "revoke", who, "--json"])["revoked"].clone()
}

/// `sealcam recover --revoke-others` (or `--keep-others`) in the fresh home
/// `home`, required to succeed; its JSON output.
pub fn recover(h: &Household, home: &str, revoke_others: bool) -> Value {
    let flag = if revoke_others {
        "--revoke-others"
    } else {
        "--keep-others"
    };
    recover_ok(h, home, &[flag])
}

/// `sealcam recover --json FLAGS` in the fresh home `home`, required to
/// succeed; its JSON output.
pub fn recover_ok(h: &Household, home: &str, flags: &[&str]) -> Value {
    recover_run(h, home, flags)
        .and_then(Run::checked)
        .unwrap_or_else(fail)
        .json()
        .unwrap_or_else(fail)
}

/// `sealcam recover --json FLAGS` in the fresh home `home`, whatever it
/// answers.
pub fn recover_run(h: &Household, home: &str, flags: &[&str]) -> Result<Run, HarnessError> {
    let file = h.recovery_file.to_str().unwrap().to_owned();
    let mut args = vec![
        "recover",
        "--server",
        &h.url,
        "--recovery-key-file",
        &file,
        "--name",
        home,
        "--json",
    ];
    args.extend_from_slice(flags);
    h.sealcam(home, &args)
}

/// The exit code of `sealcam cameras list` in `home`, required to be a
/// refusal (7: credential refused, 8: the owner key moved to a bundle not
/// sealed to it): a device that lost its place in the account.
pub fn locked_out(h: &Household, home: &str) -> Option<i32> {
    let run = h.sealcam(home, &["cameras", "list"]).unwrap_or_else(fail);
    assert!(matches!(run.code, Some(7 | 8)), "{home} still works: {run}");
    run.code
}

/// The epoch a `sealcam-device sync` reports on its first line
/// (`epoch N`, `epoch N (unchanged)`, `epoch N (kept)`); `None` for
/// `no recipient set`.
pub fn sync_epoch(run: &Run) -> Option<u64> {
    run.stdout
        .lines()
        .next()?
        .strip_prefix("epoch ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Syncs the camera and requires success; returns the epoch it holds.
pub fn sync_ok(h: &Household, cam: &Camera) -> (u64, Run) {
    let run = h
        .device(cam, &["sync"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    (sync_epoch(&run).unwrap(), run)
}

/// The epoch a revocation or recovery published for `cam`.
pub fn published_epoch(outcome: &Value, cam: &Camera) -> u64 {
    outcome["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e[0] == cam.id.to_string().as_str())
        .unwrap_or_else(|| panic!("no epoch for {} in {outcome}", cam.id))[1]
        .as_u64()
        .unwrap()
}

/// A key position `[reset, generation]` from a command's JSON.
pub fn position(v: &Value) -> (u64, u64) {
    (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())
}

/// Who among `homes` opens the thumbnail of `rec` with the stock `age`
/// (downloaded with the credential of `downloader`).
pub fn openers<'a>(
    h: &Household,
    downloader: &str,
    rec: &Recording,
    homes: &[&'a str],
) -> Vec<&'a str> {
    let object = h
        .download(downloader, rec.event, "thumbnail")
        .unwrap_or_else(fail);
    homes
        .iter()
        .copied()
        .filter(|home| {
            h.age_opens(home, &object, &rec.thumbnail)
                .unwrap_or_else(fail)
        })
        .collect()
}

/// Whether the viewer identity of `home` opens the owner key bundle the
/// server holds (the bundle that carries the current owner key).
pub fn bundle_opens(h: &Household, home: &str) -> bool {
    let sealed = Db::open(h).account_record(h.account, "key_bundle");
    let identity = ViewerIdentity::read_file(&h.path(home).join("viewer.txt")).unwrap();
    // The key is checked only after the bundle opened: any key will do to
    // learn whether it is addressed to `home`.
    let any = OwnerSigningKey::generate().public();
    match OwnerKeyBundle::open_as_viewer(&sealed, &identity, OwnerId::from(h.account), &any) {
        Ok(_) | Err(BundleError::WrongOwnerKey) => true,
        Err(BundleError::NotAddressedToMe) => false,
        Err(e) => panic!("the server's key bundle: {e}"),
    }
}

/// Now, in unix seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ---------------------------------------------------------------------------
// What a thief holds: the files of a device's home.

/// A device's home as a thief copied it.
pub struct Stolen {
    /// `device.json`: the device and the owner key state it knew.
    pub info: DeviceInfo,
    /// `owner.key`: the owner signing key it held.
    pub owner_key: OwnerSigningKey,
    /// The public half of `viewer.txt`.
    pub viewer: ViewerRecipient,
    /// `record.json`: the owner record it kept.
    pub record: OwnerRecord,
    /// `credential`: its server credential.
    pub credential: String,
}

/// Copies what the home `home` holds, as a thief would.
pub fn steal(h: &Household, home: &str) -> Stolen {
    let dir = h.path(home);
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    Stolen {
        info: serde_json::from_slice(&read("device.json")).unwrap(),
        owner_key: OwnerSigningKey::read_file(&dir.join("owner.key")).unwrap(),
        viewer: ViewerIdentity::read_file(&dir.join("viewer.txt"))
            .unwrap()
            .to_public(),
        record: serde_json::from_slice(&read("record.json")).unwrap(),
        credential: String::from_utf8(read("credential"))
            .unwrap()
            .trim()
            .to_owned(),
    }
}

impl Stolen {
    /// The owner key state the device knew.
    pub fn keys(&self) -> OwnerKeyState {
        self.info.key_state()
    }

    /// The camera's set as the owner builds it (`Client::publish_set`), at
    /// `epoch`, with the thief's own viewer key among the recipients, signed
    /// with the owner key this device kept at the key position it knew.
    pub fn forge_set(&self, camera: Uuid, epoch: u64) -> Vec<u8> {
        self.forge_set_with(camera, epoch, &self.owner_key, self.keys().position())
    }

    /// Like [`forge_set`](Self::forge_set), signed with `key` at `key_position`.
    pub fn forge_set_with(
        &self,
        camera: Uuid,
        epoch: u64,
        key: &OwnerSigningKey,
        key_position: (u64, u64),
    ) -> Vec<u8> {
        self.forge_set_recovering_to(camera, epoch, key, key_position, &self.record.recovery)
    }

    /// Like [`forge_set_with`](Self::forge_set_with), naming `recovery` as
    /// the set's recovery key: what the camera seals to alone once the set
    /// expires or its key is replaced. The account's recovery key stays a
    /// recipient.
    pub fn forge_set_recovering_to(
        &self,
        camera: Uuid,
        epoch: u64,
        key: &OwnerSigningKey,
        key_position: (u64, u64),
        recovery: &ViewerRecipient,
    ) -> Vec<u8> {
        let entry = self
            .record
            .camera(CameraId::from(camera))
            .expect("the stolen record names the camera");
        let mut recipients = self.record.camera_recipients(entry);
        if !recipients.contains(&self.viewer) {
            recipients.push(self.viewer.clone());
        }
        let now = unix_now();
        RecipientSet::bound(
            self.record.owner,
            CameraId::from(camera),
            epoch,
            now,
            recipients,
            SetBinding {
                device_key: entry.device_key,
                expires_at: now + SET_LIFETIME_SECS,
                key_position,
                recovery: recovery.clone(),
            },
        )
        .unwrap()
        .sign(key)
        .as_bytes()
        .to_vec()
    }
}

/// A spare credential minted with `credential` while it is a viewer's:
/// `POST /v1/devices/link`, then `POST /v1/enroll` named "recovery key".
/// Returns its device id and credential.
pub fn mint_spare(h: &Household, credential: &str) -> (Uuid, String) {
    let (status, body) = h
        .request(
            Method::POST,
            "/v1/devices/link",
            Some(credential),
            Some(&json!({})),
        )
        .unwrap_or_else(fail);
    assert!((200..300).contains(&status), "link: {status}");
    let link: Value = serde_json::from_slice(&body).unwrap();
    let enroll = json!({"token": link["link_token"], "device_name": "recovery key"});
    let (status, body) = h
        .request(Method::POST, "/v1/enroll", None, Some(&enroll))
        .unwrap_or_else(fail);
    assert!((200..300).contains(&status), "enroll: {status}");
    let enrolled: Value = serde_json::from_slice(&body).unwrap();
    (
        enrolled["device_id"].as_str().unwrap().parse().unwrap(),
        enrolled["credential"].as_str().unwrap().to_owned(),
    )
}

// ---------------------------------------------------------------------------
// The colluding server: its own database, written directly.

/// The server's SQLite database, opened beside the running server.
pub struct Db(pub Connection);

/// Where a part's header lives, as the `parts` row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRow {
    /// `header_key`: the blob the header is in.
    pub key: String,
    /// `header_size`.
    pub size: i64,
    /// `header_sha256`.
    pub sha: Vec<u8>,
}

impl Db {
    /// Opens the database of `h`'s server (`<data dir>/sealcam.db`).
    pub fn open(h: &Household) -> Self {
        let conn = Connection::open(h.database()).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        Self(conn)
    }

    /// `(set_epoch, set_data)` of a camera.
    pub fn set(&self, camera: Uuid) -> (i64, Vec<u8>) {
        self.0
            .query_row(
                "SELECT set_epoch, set_data FROM cameras WHERE id = ?1",
                [camera.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }

    /// Stores `set` at `epoch` as the camera's current set.
    pub fn put_set(&self, camera: Uuid, epoch: i64, set: &[u8]) {
        let n = self
            .0
            .execute(
                "UPDATE cameras SET set_epoch = ?1, set_data = ?2 WHERE id = ?3",
                params![epoch, set, camera.to_string()],
            )
            .unwrap();
        assert_eq!(n, 1);
    }

    /// The account's stored key log.
    pub fn key_log(&self, account: Uuid) -> Vec<u8> {
        self.account_record(account, "key_log")
    }

    /// An account record column (`key_log`, `key_bundle`, `viewers`).
    pub fn account_record(&self, account: Uuid, column: &str) -> Vec<u8> {
        self.0
            .query_row(
                &format!("SELECT {column} FROM accounts WHERE id = ?1"),
                [account.to_string()],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Stores `log` as the account's key log.
    pub fn put_key_log(&self, account: Uuid, log: &[u8]) {
        self.put_account_record(account, "key_log", log);
    }

    /// Stores `sealed` as the account's owner record.
    pub fn put_owner_record(&self, account: Uuid, sealed: &[u8]) {
        self.put_account_record(account, "viewers", sealed);
    }

    /// Empties an account record column and its sha column: the server then
    /// says the account has none.
    pub fn clear_account_record(&self, account: Uuid, column: &str) {
        let n = self
            .0
            .execute(
                &format!("UPDATE accounts SET {column} = NULL, {column}_sha = NULL WHERE id = ?1"),
                [account.to_string()],
            )
            .unwrap();
        assert_eq!(n, 1);
    }

    /// An account record column (`key_log`, `viewers`) and its sha column.
    pub fn put_account_record(&self, account: Uuid, column: &str, bytes: &[u8]) {
        let sha = sha2::Sha256::digest(bytes).to_vec();
        let n = self
            .0
            .execute(
                &format!("UPDATE accounts SET {column} = ?1, {column}_sha = ?2 WHERE id = ?3"),
                params![bytes, sha, account.to_string()],
            )
            .unwrap();
        assert_eq!(n, 1);
    }

    /// Where the header of the part `kind` of `event` lives.
    pub fn header(&self, event: Uuid, kind: &str) -> HeaderRow {
        self.0
            .query_row(
                "SELECT header_key, header_size, header_sha256 FROM parts \
                 WHERE event_id = ?1 AND kind = ?2",
                params![event.to_string(), kind],
                |r| {
                    Ok(HeaderRow {
                        key: r.get(0)?,
                        size: r.get(1)?,
                        sha: r.get(2)?,
                    })
                },
            )
            .unwrap()
    }

    /// Swaps the headers of two parts (key, size and hash: the server
    /// mixes up which header belongs to which part, consistently).
    pub fn swap_headers(&mut self, a: (Uuid, &str), b: (Uuid, &str)) {
        let (ha, hb) = (self.header(a.0, a.1), self.header(b.0, b.1));
        let tx = self.0.transaction().unwrap();
        let set = "UPDATE parts SET header_key = ?1, header_size = ?2, header_sha256 = ?3 \
                   WHERE event_id = ?4 AND kind = ?5";
        tx.execute(
            set,
            params![
                "swap-in-progress",
                0,
                Vec::<u8>::new(),
                a.0.to_string(),
                a.1
            ],
        )
        .unwrap();
        tx.execute(set, params![ha.key, ha.size, ha.sha, b.0.to_string(), b.1])
            .unwrap();
        tx.execute(set, params![hb.key, hb.size, hb.sha, a.0.to_string(), a.1])
            .unwrap();
        tx.commit().unwrap();
    }

    /// Gives camera `from`'s credential to camera `to`'s row (and `from` a
    /// credential nobody holds): the server now says the camera holding
    /// `from`'s credential is `to`.
    pub fn hand_credential(&self, from: Uuid, to: Uuid) {
        let hash: Vec<u8> = self
            .0
            .query_row(
                "SELECT token_hash FROM cameras WHERE id = ?1",
                [from.to_string()],
                |r| r.get(0),
            )
            .optional()
            .unwrap()
            .unwrap();
        let nobody: [u8; 32] = rand::random();
        self.0
            .execute(
                "UPDATE cameras SET token_hash = ?1 WHERE id = ?2",
                params![nobody.to_vec(), from.to_string()],
            )
            .unwrap();
        self.0
            .execute(
                "UPDATE cameras SET token_hash = ?1 WHERE id = ?2",
                params![hash, to.to_string()],
            )
            .unwrap();
    }
}

/// The member code of the account whose device is set up in `home`
/// (`sealcam whoami`), to share a camera with it.
pub fn member_code(h: &Household, home: &str) -> String {
    sealcam_ok(h, home, &["whoami", "--json"])["member_code"]
        .as_str()
        .expect("whoami names a member code")
        .to_owned()
}

/// A fault proxy ([`Proxy`]) between the device in one home and the
/// server, and the runtime that runs it.
pub struct Fronted {
    /// The proxy: install a hook to break what the device sends.
    pub proxy: Proxy,
    _rt: tokio::runtime::Runtime,
}

/// Puts a fault proxy in front of the device in `home`: its `device.json`
/// names the proxy, which forwards to the server.
pub fn proxy_in_front(h: &Household, home: &str) -> Fronted {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let proxy = rt.block_on(Proxy::start(Some(h.url.clone()))).unwrap();
    point_at(&h.path(home).join("device.json"), &proxy.url()).unwrap_or_else(fail);
    Fronted { proxy, _rt: rt }
}
