//! Owner trust v2 under attack (docs/PROTOCOL.md, "Owner trust v2": every
//! row of its attack table names one of these tests), against the real
//! binaries only.
//!
//! **Setup.** Each test starts `sealcam-server` as a child process (SQLite
//! and local disk in a temporary directory), creates the account
//! `household` with `sealcam-server accounts create`, and sets up the
//! owner's first device with `sealcam init` in the home `phone`, keeping the
//! recovery key it prints once. Most tests then link a second owner device,
//! `tablet` — the future thief — with `viewers link` / `viewers approve` /
//! `viewers link --finish`, and pair a camera `door`, simulated by
//! `sealcam-device` (`pair`, `sealcam cameras confirm`, `sync`, `record`).
//! The binaries are those in `target/<profile>/` (built with cargo when
//! missing; see `sealcam_e2e::process::binary`): after changing their
//! sources, `cargo build -p sealcam-server -p sealcam-cli -p sealcam-device`
//! first.
//!
//! **The attacker** holds only what the tablet's home holds (`viewer.txt`,
//! `owner.key`, `credential`, `device.json`, `record.json`), the public HTTP
//! API and the `sealcam-keys` crate to sign documents. A **colluding server**
//! is played by writing straight into the server's SQLite database
//! (`<data dir>/sealcam.db`): `cameras.set_epoch/set_data`,
//! `accounts.key_log/viewers` (with their `_sha` columns, so the server's
//! ETags stay consistent), `parts.header_*`, `cameras.token_hash`.
//!
//! **Who can open a recording** is decided by the stock `age -d -i
//! <home>/viewer.txt` on `header ‖ payload`, downloaded with an owner
//! device's credential.
//!
//! The attacks, one test each:
//!
//! 1. a spare credential minted while the tablet was a viewer, and a
//!    recovery credential of its own → deleted by the revocation, refused;
//! 2. a set re-signed with the retired owner key, `PUT` through the honest
//!    server with every credential the tablet has → 401, and the camera would
//!    refuse it anyway;
//! 3. the same set and a forged rotation written into the database → the
//!    camera refuses both (not the pinned owner key; a fork);
//! 4. a set at epoch 2^63−1 signed with the then current key → the camera
//!    refuses the jump; the owner publishes over it at a small epoch, with a
//!    share (no key rotation) and with a revocation;
//! 5. header swaps between two cameras during `grant-history` and `recover`
//!    (the server serves one part's header row for the other's, key, size
//!    and hash together) → the swapped parts are refused and nothing is
//!    re-wrapped for them;
//! 6. a forked owner record (same version, other content) → refused, exit 8;
//! 7. another camera's set, or another camera's id → refused;
//! 8. a withheld revocation, three ways: the old set and the old key log
//!    for everybody (owner devices refuse the shortened log, exit 8); the
//!    old ones for the camera only (the owner's `cameras list` flags it as
//!    lagging); the old set for everybody with the key log left alone (the
//!    owner's `cameras list` flags it as withheld: the server serves a set
//!    the current owner key did not sign; the camera, which followed the
//!    rotation, seals to the recovery key alone meanwhile). The window is
//!    real where the camera is kept from the rotation: the tablet opens what
//!    it records then;
//! 9. a hijack (the tablet revokes the phone first) → the phone's credential
//!    is refused (exit 7) with the hint that a takeover is the other reason
//!    and `sealcam recover --revoke-others` undoes it; undone with the recovery key; the thief's later
//!    rotation is refused;
//! 10. after a revocation and after a recovery, the stock `age` with a
//!     removed identity opens nothing recorded after the camera synced.
//!
//! Every test prints what it tried and what was refused, as `trust: ` lines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use reqwest::Method;
use rusqlite::{params, Connection, OptionalExtension as _};
use sealcam_client::record::OwnerRecord;
use sealcam_client::DeviceInfo;
use sealcam_e2e::household::{Camera, Household, Recording, Run, PHONE};
use sealcam_e2e::HarnessError;
use sealcam_keys::{
    CameraId, DeviceKey, KeyLog, KeyStatement, KeyStatementError, OwnerKeyState, OwnerSigningKey,
    RecipientSet, RecipientSetError, SetBinding, ViewerIdentity, ViewerRecipient, MAX_EPOCH_JUMP,
    SET_LIFETIME_SECS,
};
use serde_json::{json, Value};
use sha2::Digest as _;
use uuid::Uuid;

const TABLET: &str = "tablet";

/// Panics with a harness error's message (its command's whole output).
fn fail<T>(e: HarnessError) -> T {
    panic!("{e}")
}

// ---------------------------------------------------------------------------
// The household every test starts from.

/// The server, the phone, the tablet linked from it, and the camera `door`
/// paired from the phone. The tablet has listed the cameras once (it was in
/// use), so the record it keeps names the camera.
fn household_with_tablet() -> (Household, Camera) {
    let h = Household::start().unwrap_or_else(fail);
    h.link(PHONE, TABLET).unwrap_or_else(fail);
    let cam = h.pair_camera(PHONE, "door").unwrap_or_else(fail);
    h.sealcam(TABLET, &["cameras", "list"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    (h, cam)
}

fn sealcam_ok(h: &Household, home: &str, args: &[&str]) -> Value {
    h.sealcam(home, args)
        .and_then(Run::checked)
        .unwrap_or_else(fail)
        .json()
        .unwrap_or_else(fail)
}

/// `sealcam viewers revoke WHO --json` on `home`; the revocation.
fn revoke(h: &Household, home: &str, who: &str) -> Value {
    sealcam_ok(h, home, &["viewers", "revoke", who, "--json"])["revoked"].clone()
}

/// `sealcam recover --revoke-others?` in the fresh home `home`.
fn recover(h: &Household, home: &str, revoke_others: bool) -> Value {
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
    if revoke_others {
        args.push("--revoke-others");
    }
    sealcam_ok(h, home, &args)
}

/// The epoch a `sealcam-device sync` reports on its first line
/// (`epoch N`, `epoch N (unchanged)`, `epoch N (kept)`); `None` for
/// `no recipient set`.
fn sync_epoch(run: &Run) -> Option<u64> {
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
fn sync_ok(h: &Household, cam: &Camera) -> (u64, Run) {
    let run = h
        .device(cam, &["sync"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    (sync_epoch(&run).unwrap(), run)
}

/// The epoch a revocation or recovery published for `cam`.
fn published_epoch(outcome: &Value, cam: &Camera) -> u64 {
    outcome["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e[0] == cam.id.to_string().as_str())
        .unwrap_or_else(|| panic!("no epoch for {} in {outcome}", cam.id))[1]
        .as_u64()
        .unwrap()
}

fn position(v: &Value) -> (u64, u64) {
    (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())
}

/// Who among `homes` opens the thumbnail of `rec` with the stock `age`
/// (downloaded with the credential of `downloader`).
fn openers<'a>(
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

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ---------------------------------------------------------------------------
// What a thief holds: the files of a device's home.

struct Stolen {
    info: DeviceInfo,
    owner_key: OwnerSigningKey,
    viewer: ViewerRecipient,
    record: OwnerRecord,
    credential: String,
}

fn steal(h: &Household, home: &str) -> Stolen {
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
    fn keys(&self) -> OwnerKeyState {
        self.info.key_state()
    }

    /// The camera's set as the owner builds it (`Client::publish_set`), at
    /// `epoch`, with the thief's own viewer key among the recipients, signed
    /// with the owner key this device kept at the key position it knew.
    fn forge_set(&self, camera: Uuid, epoch: u64) -> Vec<u8> {
        self.forge_set_with(camera, epoch, &self.owner_key, self.keys().position())
    }

    fn forge_set_with(
        &self,
        camera: Uuid,
        epoch: u64,
        key: &OwnerSigningKey,
        key_position: (u64, u64),
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
                recovery: self.record.recovery.clone(),
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
fn mint_spare(h: &Household, credential: &str) -> (Uuid, String) {
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

struct Db(Connection);

/// Where a part's header lives, as the `parts` row says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HeaderRow {
    key: String,
    size: i64,
    sha: Vec<u8>,
}

impl Db {
    fn open(h: &Household) -> Self {
        let conn = Connection::open(h.database()).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        Self(conn)
    }

    /// `(set_epoch, set_data)` of a camera.
    fn set(&self, camera: Uuid) -> (i64, Vec<u8>) {
        self.0
            .query_row(
                "SELECT set_epoch, set_data FROM cameras WHERE id = ?1",
                [camera.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }

    fn put_set(&self, camera: Uuid, epoch: i64, set: &[u8]) {
        let n = self
            .0
            .execute(
                "UPDATE cameras SET set_epoch = ?1, set_data = ?2 WHERE id = ?3",
                params![epoch, set, camera.to_string()],
            )
            .unwrap();
        assert_eq!(n, 1);
    }

    fn key_log(&self, account: Uuid) -> Vec<u8> {
        self.0
            .query_row(
                "SELECT key_log FROM accounts WHERE id = ?1",
                [account.to_string()],
                |r| r.get(0),
            )
            .unwrap()
    }

    fn put_key_log(&self, account: Uuid, log: &[u8]) {
        self.put_account_record(account, "key_log", log);
    }

    fn put_owner_record(&self, account: Uuid, sealed: &[u8]) {
        self.put_account_record(account, "viewers", sealed);
    }

    /// An account record column (`key_log`, `viewers`) and its sha column.
    fn put_account_record(&self, account: Uuid, column: &str, bytes: &[u8]) {
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

    fn header(&self, event: Uuid, kind: &str) -> HeaderRow {
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
    fn swap_headers(&mut self, a: (Uuid, &str), b: (Uuid, &str)) {
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
    fn hand_credential(&self, from: Uuid, to: Uuid) {
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

// ---------------------------------------------------------------------------
// The attacks.

#[test]
fn spare_credential_is_deleted_by_revoke() {
    let (h, _cam) = household_with_tablet();
    let tablet = steal(&h, TABLET);

    // While still a viewer, the tablet mints a spare credential…
    let (spare_id, spare) = mint_spare(&h, &tablet.credential);
    // …and tries to make a credential of its own the recovery credential.
    let fresh = format!("scv_{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
    let mut refused = 0;
    let tries = [
        ("the spare credential", &spare),
        ("its own credential", &tablet.credential),
    ];
    for (what, cred) in tries {
        let (status, body) = h
            .request(
                Method::PUT,
                "/v1/account/recovery-credential",
                Some(cred),
                Some(&json!({ "credential": fresh })),
            )
            .unwrap_or_else(fail);
        assert_eq!(
            status,
            409,
            "registering a recovery credential with {what}: {}",
            String::from_utf8_lossy(&body)
        );
        refused += 1;
    }
    println!(
        "trust: the tablet minted a spare credential (server device {spare_id}, enrolled as \"recovery key\") and tried to register a recovery credential of its own with it and with its own credential: {refused} of {} refused (409)",
        tries.len()
    );

    // The owner sees it: no viewer of the signed record holds it.
    let list = sealcam_ok(&h, PHONE, &["viewers", "list", "--json"]);
    let unknown: Vec<Uuid> = list["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["unknown"] == true)
        .map(|d| d["device_id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(unknown, vec![spare_id], "{list}");
    println!(
        "trust: the phone's `sealcam viewers list` flags {} server device(s) as unknown: {spare_id} (the spare)",
        unknown.len()
    );

    // Revoking the tablet deletes its credential and the spare one.
    let revoked = revoke(&h, PHONE, TABLET);
    let pruned: Vec<Uuid> = revoked["pruned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["device_id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(pruned.contains(&spare_id), "{revoked}");
    assert!(pruned.contains(&tablet.info.device_id), "{revoked}");
    assert_eq!(revoked["device_deleted"], true, "{revoked}");
    let mut statuses = Vec::new();
    for cred in [&tablet.credential, &spare] {
        let (status, _) = h
            .request(Method::GET, "/v1/account", Some(cred), None)
            .unwrap_or_else(fail);
        statuses.push(status);
    }
    assert_eq!(statuses, [401, 401]);
    println!(
        "trust: `sealcam viewers revoke tablet` deleted {} server credential(s); GET /v1/account now answers {} to the tablet's credential and {} to the spare one",
        pruned.len(),
        statuses[0],
        statuses[1]
    );
}

#[test]
fn resigned_set_through_honest_server_is_refused() {
    let (h, cam) = household_with_tablet();
    let tablet = steal(&h, TABLET);
    let (_, spare) = mint_spare(&h, &tablet.credential);

    let revoked = revoke(&h, PHONE, TABLET);
    let (epoch, _) = sync_ok(&h, &cam);
    assert_eq!(epoch, published_epoch(&revoked, &cam));

    // The tablet re-signs the set one epoch up, itself added, with the
    // owner key it kept, and PUTs it with every credential it has.
    let forged = tablet.forge_set(cam.id, epoch + 1);
    let body = json!({"epoch": epoch + 1, "set": STANDARD.encode(&forged), "supersede": true});
    let path = format!("/v1/cameras/{}/recipient-set", cam.id);
    let mut statuses = Vec::new();
    for cred in [&tablet.credential, &spare] {
        let (status, _) = h
            .request(Method::PUT, &path, Some(cred), Some(&body))
            .unwrap_or_else(fail);
        statuses.push(status);
    }
    assert_eq!(statuses, [401, 401]);

    let (after, _) = sync_ok(&h, &cam);
    assert_eq!(after, epoch, "the camera's set moved");
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened = openers(&h, PHONE, &rec, &[PHONE, TABLET]);
    assert_eq!(opened, [PHONE], "who opens the new recording");
    println!(
        "trust: re-signed set (epoch {}, owner key of {:?}) PUT through an honest server with the tablet's and the spare credential: answered {} and {}; the camera stays at epoch {after}; the revoked identity opened {} of 1 new recording(s), the phone {}",
        epoch + 1,
        tablet.keys().position(),
        statuses[0],
        statuses[1],
        usize::from(opened.contains(&TABLET)),
        usize::from(opened.contains(&PHONE)),
    );
}

#[test]
fn resigned_set_through_colluding_server_is_refused() {
    let (h, cam) = household_with_tablet();
    let tablet = steal(&h, TABLET);
    revoke(&h, PHONE, TABLET);
    let (epoch, _) = sync_ok(&h, &cam);

    // The colluding server stores the re-signed set as the camera's current
    // one, and a rotation from the old key state to a key the thief made.
    let db = Db::open(&h);
    let forged = tablet.forge_set(cam.id, epoch + 1);
    db.put_set(cam.id, i64::try_from(epoch + 1).unwrap(), &forged);
    let mut log = KeyLog::from_bytes(&db.key_log(h.account)).unwrap();
    let thief = OwnerSigningKey::generate();
    let rotation = KeyStatement::rotation(
        &tablet.keys(),
        &tablet.owner_key,
        thief.public(),
        unix_now(),
    )
    .unwrap();
    let forged_at = (rotation.reset_count(), rotation.generation());
    log.push(rotation).unwrap();
    let index = log.statements().len() - 1;
    db.put_key_log(h.account, &log.to_bytes());

    let sync = h.device(&cam, &["sync"]).unwrap_or_else(fail);
    assert!(!sync.success(), "{sync}");
    assert_eq!(sync_epoch(&sync), Some(epoch), "{sync}");
    let set_refusal = format!(
        "REFUSED a recipient set: {}",
        RecipientSetError::NotSignedByPinnedOwner
    );
    let fork = KeyStatementError::Fork {
        reset: forged_at.0,
        generation: forged_at.1,
    };
    let statement_refusal = format!("REFUSED statement {index} of the owner's key log: {fork}");
    assert!(sync.stderr.contains(&set_refusal), "{sync}");
    assert!(sync.stderr.contains(&statement_refusal), "{sync}");

    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened = openers(&h, PHONE, &rec, &[PHONE, TABLET]);
    assert_eq!(opened, [PHONE], "who opens the new recording");

    // The owner's devices see the attempt too.
    let list = h
        .sealcam(PHONE, &["cameras", "list"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let warning = list
        .stderr_line(&format!("owner key statement {index} refused"))
        .unwrap_or_else(|| panic!("no warning on the phone: {list}"))
        .to_owned();
    println!(
        "trust: re-signed set (epoch {}) and a forged rotation to {forged_at:?} written through a colluding server: the camera refused the set ({}) and the statement ({fork}), kept epoch {epoch}; the revoked identity opened {} of 1 new recording(s), the phone {}",
        epoch + 1,
        RecipientSetError::NotSignedByPinnedOwner,
        usize::from(opened.contains(&TABLET)),
        usize::from(opened.contains(&PHONE)),
    );
    println!("trust: the phone's next command warned: {warning}");
}

#[test]
fn max_epoch_set_is_refused_and_owner_publishes_over_it() {
    let (h, cam) = household_with_tablet();
    let tablet = steal(&h, TABLET);
    let db = Db::open(&h);
    let (before, _) = db.set(cam.id);
    let before = u64::try_from(before).unwrap();

    // Still a viewer, the tablet signs a valid set at the highest epoch the
    // server's column holds, and the colluding server stores it.
    let max = i64::MAX as u64;
    db.put_set(cam.id, i64::MAX, &tablet.forge_set(cam.id, max));
    let sync = h.device(&cam, &["sync"]).unwrap_or_else(fail);
    assert!(!sync.success(), "{sync}");
    assert_eq!(sync_epoch(&sync), Some(before), "{sync}");
    let jump = RecipientSetError::EpochJump {
        accepted: before,
        offered: max,
        max: MAX_EPOCH_JUMP,
    };
    assert!(
        sync.stderr
            .contains(&format!("REFUSED a recipient set: {jump}")),
        "{sync}"
    );

    // The owner publishes over it: first without rotating the owner key (a
    // share), then with a revocation (which rotates it).
    h.other_account("member").unwrap_or_else(fail);
    let who = sealcam_ok(&h, "member", &["whoami", "--json"]);
    let code = who["member_code"].as_str().unwrap();
    let share = h
        .sealcam(PHONE, &["share", "door", "--with", code, "--json"])
        .unwrap_or_else(fail);
    let shared = share
        .success()
        .then(|| share.json().unwrap()["shared"]["epoch"].as_u64().unwrap());
    println!(
        "trust: over it, the phone's `sealcam share door` (no key rotation) exited {:?}{}",
        share.code,
        match shared {
            Some(e) => format!(" and published epoch {e}"),
            None => format!(": {}", share.stderr.lines().next().unwrap_or_default()),
        }
    );
    let revoked = revoke(&h, PHONE, TABLET);
    let published = published_epoch(&revoked, &cam);
    assert!(
        (before + 1..=before + 2).contains(&published),
        "published epoch {published} after {before}"
    );
    assert_eq!(db.set(cam.id).0, i64::try_from(published).unwrap());
    let (taken, _) = sync_ok(&h, &cam);
    assert_eq!(taken, published);
    println!(
        "trust: a set at epoch {max} (2^63-1) signed with the current owner key, stored by a colluding server: the camera refused it ({jump}) and kept epoch {before}; the owner's `sealcam viewers revoke tablet` then published epoch {published} over it, and the camera took epoch {taken}"
    );
    assert!(
        share.success(),
        "a share over the epoch-2^63-1 set: {share}"
    );
    let shared = shared.unwrap();
    assert!(
        (before + 1..=before + 2).contains(&shared),
        "shared at epoch {shared} after {before}"
    );
}

#[test]
fn header_swap_during_grant_and_recover_rewraps_nothing() {
    let h = Household::start().unwrap_or_else(fail);
    let a = h.pair_camera(PHONE, "door").unwrap_or_else(fail);
    let b = h.pair_camera(PHONE, "garage").unwrap_or_else(fail);
    let (ra, _) = h.record(&a).unwrap_or_else(fail);
    let (rb, _) = h.record(&b).unwrap_or_else(fail);
    let parts: Vec<(Uuid, &str)> = [ra.event, rb.event]
        .into_iter()
        .flat_map(|e| [(e, "thumbnail"), (e, "record")])
        .collect();

    // A household member, shared camera A (recorded before the share).
    let member = h.other_account("member").unwrap_or_else(fail);
    let who = sealcam_ok(&h, "member", &["whoami", "--json"]);
    let code = who["member_code"].as_str().unwrap();
    sealcam_ok(&h, PHONE, &["share", "door", "--with", code, "--json"]);
    let member = member.to_string();

    let mut db = Db::open(&h);
    let swapped = [(ra.event, "thumbnail"), (rb.event, "thumbnail")];

    // 1. A history grant while the server swaps the two thumbnails' headers.
    let before: Vec<HeaderRow> = parts.iter().map(|p| db.header(p.0, p.1)).collect();
    db.swap_headers(swapped[0], swapped[1]);
    let during: Vec<HeaderRow> = parts.iter().map(|p| db.header(p.0, p.1)).collect();
    let grant = sealcam_ok(
        &h,
        PHONE,
        &["grant-history", &member, "--days", "1", "--json"],
    )["granted"]
        .clone();
    let count = |v: &Value, k: &str| v[k].as_u64().unwrap();
    assert_eq!(count(&grant, "refused"), 2, "{grant}");
    assert_eq!(
        count(&grant, "rewrapped"),
        parts.len() as u64 - 2,
        "{grant}"
    );
    assert_eq!(count(&grant, "skipped"), 0, "{grant}");
    let after: Vec<HeaderRow> = parts.iter().map(|p| db.header(p.0, p.1)).collect();
    let untouched = parts
        .iter()
        .zip(during.iter().zip(&after))
        .filter(|(p, (d, a))| swapped.contains(p) && d == a)
        .count();
    assert_eq!(untouched, 2, "a swapped part's header was rewritten");
    db.swap_headers(swapped[0], swapped[1]);
    for (i, p) in parts.iter().enumerate() {
        if swapped.contains(p) {
            assert_eq!(db.header(p.0, p.1), before[i], "swap undone");
        }
    }
    // Who opens what now, with the stock age.
    let opens = |home: &str, (event, kind): (Uuid, &str)| {
        let object = h.download(PHONE, event, kind).unwrap_or_else(fail);
        let plain: &[u8] = match kind {
            "thumbnail" if event == ra.event => &ra.thumbnail,
            "thumbnail" => &rb.thumbnail,
            _ => b"person",
        };
        h.age_opens(home, &object, plain).unwrap_or_else(fail)
    };
    let member_home = "member";
    let member_opens: Vec<bool> = parts.iter().map(|p| opens(member_home, *p)).collect();
    let expected: Vec<bool> = parts.iter().map(|p| !swapped.contains(p)).collect();
    assert_eq!(member_opens, expected, "what the member opens: {parts:?}");
    assert!(
        parts.iter().all(|p| opens(PHONE, *p)),
        "the phone opens everything"
    );
    println!(
        "trust: grant-history to the member while the server swapped camera A's and camera B's thumbnail headers: re-wrapped {}, skipped {}, refused {}; the swapped rows kept their headers ({untouched} of 2 untouched); the member's identity opens {} of {} parts and neither thumbnail (camera B's header got no stanza for it)",
        count(&grant, "rewrapped"),
        count(&grant, "skipped"),
        count(&grant, "refused"),
        member_opens.iter().filter(|o| **o).count(),
        parts.len()
    );

    // 2. A recovery while the server swaps them again.
    db.swap_headers(swapped[0], swapped[1]);
    let during: Vec<HeaderRow> = parts.iter().map(|p| db.header(p.0, p.1)).collect();
    let recovered = recover(&h, "recovered", false);
    let history = &recovered["history"];
    assert_eq!(count(history, "refused"), 2, "{recovered}");
    assert_eq!(
        count(history, "rewrapped"),
        parts.len() as u64 - 2,
        "{recovered}"
    );
    let after: Vec<HeaderRow> = parts.iter().map(|p| db.header(p.0, p.1)).collect();
    let untouched = parts
        .iter()
        .zip(during.iter().zip(&after))
        .filter(|(p, (d, a))| swapped.contains(p) && d == a)
        .count();
    assert_eq!(untouched, 2, "a swapped part's header was rewritten");
    db.swap_headers(swapped[0], swapped[1]);
    let recovered_opens: Vec<bool> = parts.iter().map(|p| opens("recovered", *p)).collect();
    assert_eq!(recovered_opens, expected, "what the recovered device opens");
    println!(
        "trust: `sealcam recover` while the server swapped them again: re-wrapped {}, skipped {}, refused {}; the swapped rows kept their headers ({untouched} of 2 untouched); the recovered identity opens {} of {} parts and neither thumbnail",
        count(history, "rewrapped"),
        count(history, "skipped"),
        count(history, "refused"),
        recovered_opens.iter().filter(|o| **o).count(),
        parts.len()
    );
}

#[test]
fn forked_owner_record_is_refused() {
    let (h, cam) = household_with_tablet();
    // The phone has seen the current record.
    h.sealcam(PHONE, &["cameras", "list"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let seen: OwnerRecord =
        serde_json::from_slice(&std::fs::read(h.path(PHONE).join("record.json")).unwrap()).unwrap();

    // The tablet, holding the current owner key, writes the same version
    // with another device key for the camera.
    let tablet = steal(&h, TABLET);
    assert_eq!(tablet.record.version, seen.version);
    let mut forked = tablet.record.clone();
    let other_key = DeviceKey::generate().public();
    forked
        .camera_mut(CameraId::from(cam.id))
        .unwrap()
        .device_key = other_key;
    let sealed = forked.seal(&tablet.owner_key).unwrap();
    Db::open(&h).put_owner_record(h.account, &sealed);

    let list = h.sealcam(PHONE, &["cameras", "list"]).unwrap_or_else(fail);
    assert_eq!(list.code, Some(8), "{list}");
    let error = list
        .stderr_line("forked")
        .unwrap_or_else(|| panic!("no mention of a fork: {list}"))
        .to_owned();
    println!(
        "trust: owner record version {} forked by the tablet (camera {} pinned to another device key, signed with the owner key, sealed to the phone): the phone's `sealcam cameras list` exited {:?}: {error}",
        forked.version, cam.id, list.code
    );
}

#[test]
fn other_cameras_set_is_refused() {
    let h = Household::start().unwrap_or_else(fail);
    let a = h.pair_camera(PHONE, "door").unwrap_or_else(fail);
    let b = h.pair_camera(PHONE, "garage").unwrap_or_else(fail);
    let db = Db::open(&h);
    let (epoch_a, set_a) = db.set(a.id);
    let (epoch_b, set_b) = db.set(b.id);

    // 1. The colluding server serves camera B's set as camera A's.
    db.put_set(a.id, epoch_b, &set_b);
    let sync = h.device(&a, &["sync"]).unwrap_or_else(fail);
    assert!(!sync.success(), "{sync}");
    assert_eq!(sync_epoch(&sync), Some(u64::try_from(epoch_a).unwrap()));
    let wrong_camera = format!(
        "REFUSED a recipient set: {}",
        RecipientSetError::WrongCamera
    );
    assert!(sync.stderr.contains(&wrong_camera), "{sync}");
    let (rec, _) = h.record(&a).unwrap_or_else(fail);
    assert_eq!(openers(&h, PHONE, &rec, &[PHONE]), [PHONE]);
    println!(
        "trust: camera B's set served as camera A's: camera A refused it ({}), kept epoch {epoch_a} and recorded to it",
        RecipientSetError::WrongCamera
    );

    // 2. A server that had told camera A that it is camera B at pairing:
    // A's state names B's id (and holds no set yet), and A's credential
    // authenticates as B.
    db.put_set(a.id, epoch_a, &set_a);
    std::fs::remove_file(a.state.join("recipient-set.bin")).unwrap();
    let pairing_file = a.state.join("camera.json");
    let mut pairing: Value =
        serde_json::from_slice(&std::fs::read(&pairing_file).unwrap()).unwrap();
    pairing["camera_id"] = json!(b.id.to_string());
    pairing["set_keys"] = Value::Null;
    std::fs::write(&pairing_file, serde_json::to_vec_pretty(&pairing).unwrap()).unwrap();
    db.hand_credential(a.id, b.id);
    let sync = h.device(&a, &["sync"]).unwrap_or_else(fail);
    assert!(!sync.success(), "{sync}");
    assert_eq!(sync_epoch(&sync), None, "{sync}");
    let wrong_device = format!(
        "REFUSED a recipient set: {}",
        RecipientSetError::WrongDevice
    );
    assert!(sync.stderr.contains(&wrong_device), "{sync}");
    println!(
        "trust: camera A told camera B's id (and served B's set as its own): it refused the set ({}) and holds no set",
        RecipientSetError::WrongDevice
    );
}

#[test]
fn withheld_revocation_is_flagged() {
    let (h, cam) = household_with_tablet();
    let db = Db::open(&h);
    let old_set = db.set(cam.id);
    let old_log = db.key_log(h.account);

    let revoked = revoke(&h, PHONE, TABLET);
    let published = published_epoch(&revoked, &cam);
    let new_set = db.set(cam.id);
    let new_log = db.key_log(h.account);

    // The server withholds the revocation: the old set, the old key log.
    db.put_set(cam.id, old_set.0, &old_set.1);
    db.put_key_log(h.account, &old_log);
    let owner_sees = h
        .sealcam(PHONE, &["cameras", "list", "--json"])
        .unwrap_or_else(fail);
    assert_eq!(owner_sees.code, Some(8), "{owner_sees}");
    let dropped = owner_sees
        .stderr_line("key log")
        .unwrap_or_else(|| panic!("{owner_sees}"))
        .to_owned();
    println!(
        "trust: a server withholding the revocation from everybody (old set, key log without the rotation): the phone's `sealcam cameras list` exited {:?}: {dropped}",
        owner_sees.code
    );

    // The camera syncs (it keeps the old set) and records.
    let (kept, _) = sync_ok(&h, &cam);
    let sealed = u64::try_from(old_set.0).unwrap();
    assert_eq!(kept, sealed);
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);

    // To the owner the server shows the published set and the key log.
    db.put_set(cam.id, new_set.0, &new_set.1);
    db.put_key_log(h.account, &new_log);
    let list = sealcam_ok(&h, PHONE, &["cameras", "list", "--json"]);
    let view = list["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["camera_id"] == cam.id.to_string().as_str())
        .unwrap()
        .clone();
    assert_eq!(
        view["uptake"],
        json!({"state": "lagging", "sealed": sealed, "published": published}),
        "{view}"
    );
    let text = h
        .sealcam(PHONE, &["cameras", "list"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let warning = text
        .stdout
        .lines()
        .find(|l| l.starts_with("WARNING: camera ") && l.contains(&cam.id.to_string()))
        .unwrap_or_else(|| panic!("no WARNING line: {text}"))
        .to_owned();

    // The documented window: what the camera recorded meanwhile is sealed
    // to the old set, which still names the tablet.
    let opened = openers(&h, PHONE, &rec, &[PHONE, TABLET]);
    assert_eq!(opened, [PHONE, TABLET]);
    println!(
        "trust: the camera, shown only the old set, kept epoch {kept} and recorded; the phone's `sealcam cameras list` shows its uptake as {} (sealed {sealed}, published {published}) and warns: {warning}",
        view["uptake"]["state"].as_str().unwrap()
    );
    println!(
        "trust: the documented window: the revoked tablet's identity opened {} of 1 recording(s) made while the revocation was withheld",
        usize::from(opened.contains(&TABLET))
    );

    // The server withholds only the set, from everybody: it keeps serving
    // the old one and leaves the key log alone. The camera follows the
    // rotation and refuses the old set (signed by the retired key); its last
    // good set was signed by the key the rotation replaced, so what it
    // records now is sealed to the recovery key alone: the window is closed.
    db.put_set(cam.id, old_set.0, &old_set.1);
    let sync = h.device(&cam, &["sync"]).unwrap_or_else(fail);
    assert!(!sync.success(), "{sync}");
    assert_eq!(sync_epoch(&sync), Some(sealed), "{sync}");
    let refusal = format!(
        "REFUSED a recipient set: {}",
        RecipientSetError::NotSignedByPinnedOwner
    );
    assert!(sync.stderr.contains(&refusal), "{sync}");
    let (rec, recorded) = h.record(&cam).unwrap_or_else(fail);
    assert!(
        recorded
            .stderr
            .contains("sealing to the recovery key alone"),
        "{recorded}"
    );
    let opened = openers(&h, PHONE, &rec, &[PHONE, TABLET]);
    assert!(opened.is_empty(), "{opened:?}");
    let list = sealcam_ok(&h, PHONE, &["cameras", "list", "--json"]);
    let uptake = list["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["camera_id"] == cam.id.to_string().as_str())
        .unwrap()["uptake"]
        .clone();
    let text = h
        .sealcam(PHONE, &["cameras", "list"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let warning = text
        .stdout
        .lines()
        .find(|l| l.starts_with("WARNING: camera ") && l.contains(&cam.id.to_string()))
        .map(str::to_owned);
    println!(
        "trust: a server serving the old set to everybody (key log intact): the camera followed the rotation, refused the old set ({}) and sealed what it recorded to the recovery key alone (the tablet opened {} of 1 new recording(s), the phone {}); the phone's `sealcam cameras list` shows its uptake as {uptake} and {}",
        RecipientSetError::NotSignedByPinnedOwner,
        usize::from(opened.contains(&TABLET)),
        usize::from(opened.contains(&PHONE)),
        warning.as_deref().map_or_else(|| "prints no WARNING".to_owned(), |w| format!("warns: {w}"))
    );
    assert_eq!(
        uptake,
        json!({"state": "withheld", "serving": null, "published": published}),
        "the owner is not told that the camera still seals to the revoked tablet"
    );
    assert!(warning.is_some(), "no WARNING line: {text}");
}

#[test]
fn hijack_is_undone_with_the_recovery_key() {
    let (h, cam) = household_with_tablet();

    // The thief acts first: from the tablet it revokes the phone.
    let hijack = revoke(&h, TABLET, PHONE);
    let thief_position = position(&hijack["key_position"]);
    // (What the phone is told is asserted at the end, after the recovery.)
    let phone = h.sealcam(PHONE, &["cameras", "list"]).unwrap_or_else(fail);
    let told = phone
        .stderr
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    println!(
        "trust: hijack: the tablet ran `sealcam viewers revoke phone`; the phone's next command exited {:?}: {told}",
        phone.code
    );
    let (thief_epoch, sync) = sync_ok(&h, &cam);
    assert!(
        sync.stderr.contains(&format!(
            "to reset {}, generation {}",
            thief_position.0, thief_position.1
        )),
        "{sync}"
    );
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    assert_eq!(openers(&h, TABLET, &rec, &[PHONE, TABLET]), [TABLET]);
    println!(
        "trust: the camera followed the thief's rotation to {thief_position:?} and epoch {thief_epoch}: only the tablet opens what it records"
    );

    // With the key it now holds, the thief pushes the camera's epoch as far
    // as one step allows (a colluding server stores the set), so that an
    // owner who takes the account back could never publish above it.
    let thief = steal(&h, TABLET);
    let pushed = thief_epoch + MAX_EPOCH_JUMP;
    Db::open(&h).put_set(
        cam.id,
        i64::try_from(pushed).unwrap(),
        &thief.forge_set(cam.id, pushed),
    );
    let (held, _) = sync_ok(&h, &cam);
    assert_eq!(held, pushed);
    println!("trust: the thief then pushed the camera's epoch to {pushed} with its key");

    // The owner recovers with the recovery key and revokes every other device.
    let recovered = recover(&h, "recovered", true);
    let reset = position(&recovered["key_position"]);
    assert!(reset.0 > thief_position.0, "{recovered}");
    let (epoch, sync) = sync_ok(&h, &cam);
    assert_eq!(epoch, published_epoch(&recovered, &cam));
    assert!(
        sync.stderr
            .contains(&format!("to reset {}, generation {}", reset.0, reset.1)),
        "{sync}"
    );
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened = openers(&h, "recovered", &rec, &["recovered", TABLET, PHONE]);
    assert_eq!(opened, ["recovered"]);
    let tablet_now = h.sealcam(TABLET, &["cameras", "list"]).unwrap_or_else(fail);
    assert!(
        matches!(tablet_now.code, Some(7 | 8)),
        "the tablet still works: {tablet_now}"
    );
    println!(
        "trust: `sealcam recover --revoke-others` reset the owner key to {reset:?}; the camera took it (epoch {epoch}); of the recovered device, the tablet and the old phone, only {opened:?} opened the new recording; the tablet's next command exited {:?}",
        tablet_now.code
    );

    // The thief rotates again from the key it holds, through the database.
    let tablet = steal(&h, TABLET);
    let db = Db::open(&h);
    let mut log = KeyLog::from_bytes(&db.key_log(h.account)).unwrap();
    let next = OwnerSigningKey::generate();
    let rotation =
        KeyStatement::rotation(&tablet.keys(), &tablet.owner_key, next.public(), unix_now())
            .unwrap();
    let forged_at = (rotation.reset_count(), rotation.generation());
    log.push(rotation).unwrap();
    db.put_key_log(h.account, &log.to_bytes());
    let forged = tablet.forge_set_with(cam.id, epoch + 1, &next, forged_at);
    db.put_set(cam.id, i64::try_from(epoch + 1).unwrap(), &forged);
    let sync = h.device(&cam, &["sync"]).unwrap_or_else(fail);
    assert!(!sync.success(), "{sync}");
    assert_eq!(sync_epoch(&sync), Some(epoch), "{sync}");
    assert!(!sync.stderr.contains("owner key moved"), "{sync}");
    assert!(
        sync.stderr.contains(&format!(
            "REFUSED a recipient set: {}",
            RecipientSetError::NotSignedByPinnedOwner
        )),
        "{sync}"
    );
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened_after = openers(&h, "recovered", &rec, &["recovered", TABLET]);
    assert_eq!(opened_after, ["recovered"]);
    println!(
        "trust: a rotation the tablet forged from its key to {forged_at:?} and a set signed by it, written into the database: the camera stayed at {reset:?} and epoch {epoch} ({}); the tablet opened {} of 1 new recording(s)",
        RecipientSetError::NotSignedByPinnedOwner,
        usize::from(opened_after.contains(&TABLET))
    );
    // The thief deleted the phone's credential: the phone is refused (exit 7)
    // and told that a takeover is the other reason, and what undoes it.
    assert_eq!(
        phone.code,
        Some(7),
        "the hijacked phone is not told the account may have been taken over: {phone}"
    );
    assert!(
        phone.stderr.contains("took over the account")
            && phone.stderr.contains("sealcam recover --revoke-others"),
        "{phone}"
    );
}

#[test]
fn revoked_identity_opens_nothing_with_stock_age() {
    let (h, cam) = household_with_tablet();
    let (before, _) = h.record(&cam).unwrap_or_else(fail);
    let opened_before = openers(&h, PHONE, &before, &[PHONE, TABLET]);
    assert_eq!(opened_before, [PHONE, TABLET]);

    revoke(&h, PHONE, TABLET);
    let (epoch, _) = sync_ok(&h, &cam);
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened = openers(&h, PHONE, &rec, &[PHONE, TABLET]);
    assert_eq!(opened, [PHONE]);
    println!(
        "trust: before the revocation both identities opened the recording; after `sealcam viewers revoke tablet` and the camera's sync (epoch {epoch}): `age -d -i tablet/viewer.txt` opened {} of 1, `age -d -i phone/viewer.txt` {} of 1",
        usize::from(opened.contains(&TABLET)),
        usize::from(opened.contains(&PHONE))
    );

    let recovered = recover(&h, "recovered", true);
    let (epoch, _) = sync_ok(&h, &cam);
    assert_eq!(epoch, published_epoch(&recovered, &cam));
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened = openers(&h, "recovered", &rec, &["recovered", PHONE, TABLET]);
    assert_eq!(opened, ["recovered"]);
    println!(
        "trust: after `sealcam recover --revoke-others` and the camera's sync (epoch {epoch}): the old phone's identity opened {} of 1, the tablet's {}, the recovered device's {}",
        usize::from(opened.contains(&PHONE)),
        usize::from(opened.contains(&TABLET)),
        usize::from(opened.contains(&"recovered"))
    );
}

#[test]
fn confirm_refuses_a_pinned_camera_id_with_another_key() {
    let h = Household::start().unwrap_or_else(fail);
    let a = h.pair_camera(PHONE, "door").unwrap_or_else(fail);
    let pinned_before = pinned_key(&h, a.id);

    // The owner pairs a new camera; the colluding server hands it camera A's
    // id (its pairing proof is genuine: it holds a kept pairing code).
    let code = h
        .sealcam(PHONE, &["pair", "--name", "porch", "--no-qr", "--json"])
        .and_then(Run::checked)
        .and_then(|r| r.json())
        .unwrap_or_else(fail);
    let newcomer = Camera {
        name: "porch".into(),
        state: h.path("cam-porch"),
        id: Uuid::nil(),
    };
    let paired = h
        .device(&newcomer, &["pair", code["code"].as_str().unwrap()])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let newcomer_id: Uuid = paired.stdout.trim().parse().unwrap();
    let db = Db::open(&h);
    db.0.execute("DELETE FROM cameras WHERE id = ?1", [a.id.to_string()])
        .unwrap();
    db.0.execute(
        "UPDATE cameras SET id = ?1 WHERE id = ?2",
        [a.id.to_string(), newcomer_id.to_string()],
    )
    .unwrap();

    let confirm = h
        .sealcam(PHONE, &["cameras", "confirm", "--json"])
        .unwrap_or_else(fail);
    let text = confirm.all_output();
    assert!(!confirm.success(), "{confirm}");
    assert!(
        text.contains("already pinned to another device key"),
        "{confirm}"
    );
    assert!(!text.contains("\"confirmed\""), "{confirm}");
    // The owner record still pins camera A's own key.
    assert_eq!(pinned_key(&h, a.id), pinned_before);
    println!(
        "trust: a new camera handed the pinned camera {}'s id: `sealcam cameras confirm` exited {:?} and refused it (already pinned to another device key); the record still pins {}",
        a.id, confirm.code, pinned_before
    );
}

/// The device key the phone's owner record pins for `camera`.
fn pinned_key(h: &Household, camera: Uuid) -> String {
    let list = h
        .sealcam(PHONE, &["cameras", "list", "--json"])
        .and_then(Run::checked)
        .and_then(|r| r.json())
        .unwrap_or_else(fail);
    list["cameras"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["camera_id"] == camera.to_string().as_str())
        .and_then(|c| c["device_key"].as_str())
        .map(str::to_owned)
        .unwrap_or_default()
}

#[test]
fn grant_window_is_judged_on_the_signed_capture_time() {
    let h = Household::start().unwrap_or_else(fail);
    let cam = h.pair_camera(PHONE, "door").unwrap_or_else(fail);
    let month_ago = i64::try_from(sealcam_keys::unix_now()).unwrap() - 30 * 86_400;
    let (old, _) = h.record_at(&cam, Some(month_ago)).unwrap_or_else(fail);
    let member = h.other_account("member").unwrap_or_else(fail).to_string();
    let who = sealcam_ok(&h, "member", &["whoami", "--json"]);
    let code = who["member_code"].as_str().unwrap();
    sealcam_ok(&h, PHONE, &["share", "door", "--with", code, "--json"]);
    let grant = |h: &Household| {
        sealcam_ok(
            h,
            PHONE,
            &["grant-history", &member, "--days", "1", "--json"],
        )["granted"]
            .clone()
    };
    let count = |v: &Value, k: &str| v[k].as_u64().unwrap();

    // An honest server does not list the month-old event for a one-day grant.
    let honest = grant(&h);
    assert_eq!(count(&honest, "rewrapped"), 0, "{honest}");

    // A lying server lists it as recorded now.
    let db = Db::open(&h);
    let now = i64::try_from(sealcam_keys::unix_now()).unwrap();
    let changed =
        db.0.execute(
            "UPDATE events SET captured_at = ?1 WHERE id = ?2",
            params![now - now % 60, old.event.to_string()],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let lied = grant(&h);
    assert_eq!(count(&lied, "rewrapped"), 0, "{lied}");
    assert_eq!(count(&lied, "refused"), 2, "{lied}");
    let object = h
        .download(PHONE, old.event, "thumbnail")
        .unwrap_or_else(fail);
    let member_opens = h
        .age_opens("member", &object, &old.thumbnail)
        .unwrap_or_else(fail);
    assert!(
        !member_opens,
        "the member opens a recording outside its grant"
    );
    println!(
        "trust: a server that lists a month-old recording as recent during `grant-history --days 1`: re-wrapped {}, refused {} (the camera-signed capture time is outside the window); the member's identity opened it: {member_opens}",
        count(&lied, "rewrapped"),
        count(&lied, "refused")
    );
}
