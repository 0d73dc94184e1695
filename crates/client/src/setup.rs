//! Setting a device up: `init` (a new account's first device), linking a new
//! device to an existing account, and recovery from the recovery key (S7).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hkdf::Hkdf;
use sealcam_keys::{
    KeyLog, KeyStatement, OwnerId, OwnerKeyBundle, OwnerKeyState, OwnerPublicKey, OwnerSigningKey,
    RecoveryKey, ViewerIdentity, MAX_EPOCH_JUMP,
};
use sha2::Sha256;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::api::{Api, Credential, Precondition, Record};
use crate::client::Client;
use crate::codes::{Code as _, LinkApproval, LinkRequest};
use crate::error::{ClientError, Result};
use crate::home::{Device, DeviceInfo, HeldKey, Home, PendingLink};
use crate::record::{OwnerRecord, ViewerEntry};
use crate::time::unix_now;

/// The server credential derived from the recovery key
/// (docs/PROTOCOL.md "Recovery"): `"scv_" + base64url(HKDF-SHA256(ikm =
/// recovery key text, salt = "", info = "sealcam recovery credential v1"))`.
pub fn recovery_credential(key: &RecoveryKey) -> Credential {
    let text = key.to_secret_text();
    let hk = Hkdf::<Sha256>::new(Some(b""), text.as_bytes());
    let mut okm = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit.
    let _ = hk.expand(b"sealcam recovery credential v1", &mut okm[..]);
    Credential::new(format!("scv_{}", URL_SAFE_NO_PAD.encode(&okm[..])))
}

/// What `init` made.
#[derive(Debug)]
pub struct InitOutcome {
    /// The working device.
    pub client: Client,
    /// The recovery key: show it once, never store it on this device.
    pub recovery_key: RecoveryKey,
}

/// Sets up the first device of a new account: enrolls with the operator's
/// enrollment token, creates the owner signing key, this device's viewer key
/// and the recovery key, stores the owner key bundle and the owner record,
/// and registers the recovery credential.
pub async fn init(
    home: &Home,
    server_url: &str,
    token: &str,
    device_name: &str,
) -> Result<InitOutcome> {
    home.check_fresh()?;
    let api = Api::connect(server_url, home.transport())?;
    let enrolled = api.enroll(token.trim(), None).await?;
    let credential = Credential::new(enrolled.credential.clone());
    let api = api.with_credential(credential.clone());
    let owner = OwnerId::from(enrolled.account_id);

    let owner_key = OwnerSigningKey::generate();
    let viewer = ViewerIdentity::generate();
    let recovery_key = RecoveryKey::generate();
    // The key log starts with a reset signed by the root key (derived from
    // the recovery key): every later owner key follows from it.
    let root = recovery_key.root_key();
    let genesis = KeyStatement::reset(
        owner,
        &root,
        1,
        0,
        owner_key.public(),
        unix_now().max(0) as u64,
    );
    let keys = OwnerKeyState::new(owner, owner_key.public(), Some(root.public()), 1, 0);
    let mut log = KeyLog::new();
    log.push(genesis)
        .map_err(|e| ClientError::Protocol(e.to_string()))?;
    match api
        .put_record(Record::KeyLog, log.to_bytes(), Precondition::IfAbsent)
        .await
    {
        Err(ClientError::Conflict) => return Err(ClientError::AccountAlreadySetUp),
        other => other?,
    };

    let bundle = OwnerKeyBundle::new(owner, owner_key.clone(), &recovery_key);
    let sealed = bundle.seal(&[viewer.to_public(), recovery_key.to_public()])?;
    match api
        .put_record(Record::KeyBundle, sealed, Precondition::IfAbsent)
        .await
    {
        Err(ClientError::Conflict) => return Err(ClientError::AccountAlreadySetUp),
        other => other?,
    };
    let record = OwnerRecord::new(
        owner,
        recovery_key.to_public(),
        ViewerEntry {
            id: Uuid::new_v4(),
            device_id: Some(enrolled.device_id),
            name: device_name.to_owned(),
            recipient: viewer.to_public(),
            added_at: unix_now(),
        },
    );
    api.put_record(
        Record::OwnerRecord,
        record.seal(&owner_key)?,
        Precondition::IfAbsent,
    )
    .await?;
    api.register_recovery_credential(&recovery_credential(&recovery_key))
        .await?;

    let device = Device {
        info: DeviceInfo {
            server_url: api.base_url().to_owned(),
            account_id: owner,
            device_id: enrolled.device_id,
            device_name: device_name.to_owned(),
            owner_key: owner_key.public(),
            keys: Some(keys),
            transport: home.transport().clone(),
        },
        credential,
        viewer,
        owner_key,
    };
    home.save_device(&device)?;
    home.cache_record(&record)?;
    home.cache_key_log(&log, &keys)?;
    Ok(InitOutcome {
        client: Client::from_parts(home.clone(), device)?,
        recovery_key,
    })
}

/// Starts linking this (new) device: makes its viewer key, keeps it in the
/// home directory, and returns the request to approve on a device that is
/// already set up (`sealcam viewers approve`).
pub fn link_request(home: &Home, server_url: &str, name: &str) -> Result<LinkRequest> {
    home.check_fresh()?;
    let api = Api::connect(server_url, home.transport())?;
    let viewer = ViewerIdentity::generate();
    let request = LinkRequest {
        server_url: api.base_url().to_owned(),
        name: name.to_owned(),
        recipient: viewer.to_public(),
    };
    home.save_link(&PendingLink {
        server_url: request.server_url.clone(),
        name: name.to_owned(),
        viewer: viewer.to_secret_text().to_string(),
        transport: home.transport().clone(),
    })?;
    Ok(request)
}

/// Finishes linking this device with the approval printed by the other
/// device: enrolls, opens the owner key bundle (now sealed to this device too)
/// and checks it holds the owner key named in the approval.
pub async fn link_finish(home: &Home, approval: &LinkApproval) -> Result<Client> {
    home.check_fresh()?;
    let pending = home.load_link()?.ok_or_else(|| {
        ClientError::BadInput(
            "no link request is waiting on this device; run `sealcam viewers link --server URL` first"
                .into(),
        )
    })?;
    let viewer = ViewerIdentity::from_secret_text(&pending.viewer)?;
    let api = Api::connect(&pending.server_url, &pending.transport)?;
    let enrolled = api
        .enroll(
            &approval.link_token,
            Some(&viewer.to_public().commitment(approval.owner)),
        )
        .await?;
    if OwnerId::from(enrolled.account_id) != approval.owner {
        return Err(ClientError::Untrusted {
            what: "enrollment",
            reason: "the server enrolled this device into another account than the approval names"
                .into(),
        });
    }
    let credential = Credential::new(enrolled.credential.clone());
    let api = api.with_credential(credential.clone());
    // Pin the owner key the approval names, and follow the key log from it
    // (the owner key may have moved since the approval was written).
    let mut keys = approval.key_state();
    let mut adopted = Vec::new();
    if let Some((bytes, _)) = api.get_record(Record::KeyLog).await? {
        let log = KeyLog::from_bytes(&bytes).map_err(|e| ClientError::Untrusted {
            what: "key log",
            reason: e.to_string(),
        })?;
        adopted = keys.follow(&log).adopted;
        home.cache_key_log(&log, &keys)?;
    }
    let (sealed, _) =
        api.get_record(Record::KeyBundle)
            .await?
            .ok_or_else(|| ClientError::Untrusted {
                what: "owner key bundle",
                reason: "the server has none for this account".into(),
            })?;
    let bundle = OwnerKeyBundle::open_as_viewer(&sealed, &viewer, approval.owner, &keys.owner_key)
        .map_err(|e| match e {
            sealcam_keys::BundleError::NotAddressedToMe => ClientError::BadInput(
                "the owner key bundle is not sealed to this device yet: was the request approved with `sealcam viewers approve`?".into(),
            ),
            other => ClientError::Bundle(other),
        })?;
    let device = Device {
        info: DeviceInfo {
            server_url: api.base_url().to_owned(),
            account_id: approval.owner,
            device_id: enrolled.device_id,
            device_name: pending.name.clone(),
            owner_key: keys.owner_key,
            keys: keys.root_key.map(|_| keys),
            transport: pending.transport.clone(),
        },
        credential,
        viewer,
        owner_key: bundle.signing_key().clone(),
    };
    let client = Client::from_parts(home.clone(), device)?;
    let mut handle = client.record().await?;
    if let Some((version, fingerprint)) = &approval.record {
        let ok = handle.record.version > *version
            || (handle.record.version == *version && handle.record.fingerprint() == *fingerprint);
        if !ok {
            return Err(ClientError::Untrusted {
                what: "owner record",
                reason: format!(
                    "it is not the version {version} (fingerprint {fingerprint}) the approving device wrote, nor a later one"
                ),
            });
        }
    }
    let me = client.device().viewer.to_public();
    if let Some(v) = handle.record.viewers.iter_mut().find(|v| v.recipient == me) {
        v.device_id = Some(enrolled.device_id);
    }
    client.save_record(&mut handle).await?;
    // The approval's key (written by the approving device, out of band)
    // and each step on the log's path from it to the key this device holds.
    home.note_held_keys(&HeldKey::path(&approval.key_state(), &adopted))?;
    home.save_device(client.device())?;
    home.remove_link()?;
    Ok(client)
}

/// What `recover` did.
#[derive(Debug)]
pub struct RecoverOutcome {
    /// The working device.
    pub client: Client,
    /// The recipient-set epochs published, per camera.
    pub epochs: Vec<(sealcam_keys::CameraId, u64)>,
    /// Viewers removed (with `revoke_others`).
    pub revoked: Vec<ViewerEntry>,
    /// Shares withdrawn (with `revoke_others`), or that the server would not
    /// withdraw.
    pub unshared: Vec<Unshared>,
    /// Server credentials deleted: every one no remaining viewer holds.
    pub pruned: Vec<crate::PrunedDevice>,
    /// The fingerprint of the owner record recovery trusted (and wrote
    /// anew): compare it with one noted down earlier, if any.
    pub record_fingerprint: String,
    /// Past parts re-wrapped so that this device opens them.
    pub history: crate::history::HistoryGrant,
    /// When the owner record was signed by a retired owner key, where that
    /// key stood (reset, generation): recovery took only its cameras.
    pub retired_signed: Option<(u64, u64)>,
}

/// Restores the account on a fresh device from the recovery key alone (S7):
/// authenticates with the derived credential, finds the current owner key
/// through the key log from the root key (which the recovery key derives),
/// opens the owner record, and **resets** the owner key: a new key, named by
/// a statement signed with the root key, which every camera takes whatever
/// was signed before — so an owner key that was lost, or hijacked by a
/// device that rotated it first, signs nothing more. Then a new viewer key,
/// a new bundle and new recipient sets; every server credential that no
/// remaining viewer holds is deleted. With `revoke_others`, every other
/// viewer is removed (lost devices).
pub async fn recover(
    home: &Home,
    server_url: &str,
    recovery: &RecoveryKey,
    device_name: &str,
    revoke_others: bool,
) -> Result<RecoverOutcome> {
    home.check_fresh()?;
    let rapi =
        Api::connect(server_url, home.transport())?.with_credential(recovery_credential(recovery));
    let (sealed_bundle, bundle_etag) = match rapi.get_record(Record::KeyBundle).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Err(ClientError::Untrusted {
                what: "owner key bundle",
                reason: "the server has none for this account".into(),
            })
        }
        Err(ClientError::Unauthorized) => {
            return Err(ClientError::BadInput(
                "the server does not know this recovery key: check it was typed right and that the server URL is the one used at `sealcam init`".into(),
            ))
        }
        Err(e) => return Err(e),
    };
    let owner = OwnerId::from(rapi.account().await?.account_id);
    let root = recovery.root_key();
    let untrusted_log = |reason: String| ClientError::Untrusted {
        what: "key log",
        reason,
    };
    let new_key = OwnerSigningKey::generate();
    let now = unix_now().max(0) as u64;

    // Where the owner key stands, from the root key alone; and the key log
    // after the reset this recovery adds.
    // The owner record is trusted under the current owner key only (the one
    // the root-verified log names before this reset); `retired` are the keys
    // the log moved away from, each a key some device may still hold.
    let (log, log_pre, keys, record_key, retired) = match rapi.get_record(Record::KeyLog).await? {
        Some((bytes, etag)) => {
            let mut log = KeyLog::from_bytes(&bytes).map_err(|e| untrusted_log(e.to_string()))?;
            let (state, report) = OwnerKeyState::from_root(owner, root.public(), &log)
                .map_err(|e| untrusted_log(e.to_string()))?;
            let retired: Vec<_> = report
                .adopted
                .iter()
                .filter(|a| a.2 != state.owner_key)
                .map(|&(reset, generation, key)| ((reset, generation), key))
                .collect();
            let reset = reset_number(state.reset, now)
                .ok_or_else(|| untrusted_log("the reset count would overflow".into()))?;
            let st = KeyStatement::reset(owner, &root, reset, 0, new_key.public(), now);
            let mut keys = state;
            keys.apply(&st).map_err(|e| untrusted_log(e.to_string()))?;
            log.push(st).map_err(|e| untrusted_log(e.to_string()))?;
            (
                log,
                Precondition::IfMatch(etag),
                keys,
                state.owner_key,
                retired,
            )
        }
        None => {
            // An account set up before owner trust v2: the bundle's recovery
            // tag authenticates its owner key; the upgrade log starts from it.
            let bundle = OwnerKeyBundle::open_with_recovery(&sealed_bundle, recovery)?;
            if bundle.owner() != owner {
                return Err(ClientError::Untrusted {
                    what: "owner key bundle",
                    reason: "it names another account than the server's".into(),
                });
            }
            let legacy = OwnerKeyState::legacy(owner, bundle.signing_key().public());
            // Numbered like any recovery's reset: if the server hid a v2
            // log, the cameras still take this one.
            let reset = reset_number(0, now).unwrap_or(1);
            let (log, keys) = crate::trust::upgrade_log(
                &legacy,
                bundle.signing_key(),
                recovery,
                &new_key,
                reset,
            )?;
            (
                log,
                Precondition::IfAbsent,
                keys,
                legacy.owner_key,
                Vec::new(),
            )
        }
    };
    let (sealed_record, record_etag) =
        rapi.get_record(Record::OwnerRecord)
            .await?
            .ok_or_else(|| ClientError::Untrusted {
                what: "owner record",
                reason: "the server has none for this account".into(),
            })?;
    // A record that only a retired key verifies: a revocation that stopped
    // before it rewrote the record, or a record a revoked device wrote with
    // the key it kept. Recovery then takes nothing from it but its cameras:
    // only when it drops the other viewers and shares anyway. The current
    // key goes last, so that when no key verifies the record the error is
    // the current key's (a record verifies under one key only).
    let signers: Vec<OwnerPublicKey> = retired
        .iter()
        .map(|(_, key)| *key)
        .chain(std::iter::once(record_key))
        .collect();
    let (signer, mut record) =
        OwnerRecord::open_signed_by_any(&sealed_record, recovery.identity(), owner, &signers)?;
    let retired_signed = retired.get(signer).map(|(at, _)| *at);
    if let Some(at) = retired_signed.filter(|_| !revoke_others) {
        return Err(retired_refused(at));
    }
    if record.recovery != recovery.to_public() {
        return Err(ClientError::Untrusted {
            what: "owner record",
            reason: "it names another recovery key".into(),
        });
    }
    bound_for_reset(&mut record, retired_signed.is_some());

    // A real device credential for the new viewer, bound to its key.
    let viewer = ViewerIdentity::generate();
    let commitment = viewer.to_public().commitment(owner);
    let link = rapi.link_device(Some(&commitment)).await?;
    let api = Api::connect(server_url, home.transport())?;
    let enrolled = api.enroll(&link.link_token, Some(&commitment)).await?;
    if OwnerId::from(enrolled.account_id) != owner {
        return Err(ClientError::Untrusted {
            what: "enrollment",
            reason: "the server enrolled this device into another account".into(),
        });
    }
    let credential = Credential::new(enrolled.credential.clone());

    // Revoking the others also withdraws every share with another account:
    // whoever took the account over may have shared the cameras with an
    // account of its own, and a member's key is in every set of a camera
    // shared with it. The record's shares leave the sets here; the server's
    // (the record's and any other) are deleted once the record is written.
    let mut revoked = Vec::new();
    let mut members = Vec::new();
    let mut listed = Vec::new();
    if revoke_others {
        revoked = std::mem::take(&mut record.viewers);
        members = std::mem::take(&mut record.members);
        for camera in &mut record.cameras {
            listed.extend(camera.shared_with.drain(..).map(|a| (camera.camera_id, a)));
        }
    }
    record.viewers.push(ViewerEntry {
        id: Uuid::new_v4(),
        device_id: Some(enrolled.device_id),
        name: device_name.to_owned(),
        recipient: viewer.to_public(),
        added_at: unix_now(),
    });

    let device = Device {
        info: DeviceInfo {
            server_url: api.base_url().to_owned(),
            account_id: owner,
            device_id: enrolled.device_id,
            device_name: device_name.to_owned(),
            owner_key: keys.owner_key,
            keys: Some(keys),
            transport: home.transport().clone(),
        },
        credential,
        viewer,
        owner_key: new_key.clone(),
    };
    // The new key is kept before the log names it.
    home.save_pending_owner_key(&new_key)?;
    rapi.put_record(Record::KeyLog, log.to_bytes(), log_pre)
        .await?;
    home.cache_key_log(&log, &keys)?;
    rapi.put_record(
        Record::KeyBundle,
        OwnerKeyBundle::new(owner, new_key, recovery).seal(&record.owner_recipients())?,
        Precondition::IfMatch(bundle_etag),
    )
    .await?;
    let client = Client::from_parts(home.clone(), device)?;
    let epochs = client.publish_all_sets(&mut record).await?;
    record.version += 1;
    client
        .api()
        .put_record(
            Record::OwnerRecord,
            record.seal(&client.device().owner_key)?,
            Precondition::IfMatch(record_etag),
        )
        .await?;
    home.cache_record(&record)?;
    home.save_device(client.device())?;
    home.remove_pending_owner_key()?;
    let pruned = client.prune_credentials(&record).await?;
    let unshared = if revoke_others {
        withdraw_shares(&client, &record, &listed, &members).await
    } else {
        Vec::new()
    };
    // Past recordings were sealed to the recovery key: re-wrap each verified
    // header so that this new device opens it too — and nobody else gains.
    let me = client.device().viewer.to_public();
    let history = client
        .rewrap_history(recovery.identity(), &[me], None, None, None, &|_| {})
        .await?;
    Ok(RecoverOutcome {
        client,
        epochs,
        revoked,
        unshared,
        pruned,
        record_fingerprint: record.fingerprint(),
        retired_signed,
        history,
    })
}

/// What the reset's recipient sets take from the owner record's cameras,
/// which whoever signed the record chose:
///
/// - every epoch stays below [`MAX_EPOCH_JUMP`]. The reset's sets come under
///   a newer owner key, which a camera takes at any epoch up to that far
///   above its own, however low; an epoch pushed further up would make the
///   camera refuse every set recovery publishes (it would seal to the
///   recovery key alone until re-paired);
/// - from a record only a retired key verifies (a revoked device can sign
///   one), the set keys go too: a forged one would seal the new sets to a
///   key the camera lacks. `publish_set` adopts each again from the camera's
///   own statement, verified under the pin.
///
/// - the version stays below 2^62, as a finished revocation keeps it
///   (`narrow_to`): one near `u64::MAX` would leave no room to write the
///   record again.
///
/// The pins stay: nothing the server holds vouches for a device key better
/// than the record (docs/PROTOCOL.md "What remains").
fn bound_for_reset(record: &mut OwnerRecord, retired_signed: bool) {
    record.version = record.version.min(MAX_RECORD_VERSION);
    for camera in &mut record.cameras {
        camera.epoch = camera.epoch.min(MAX_EPOCH_JUMP - 1);
        if retired_signed {
            camera.set_key = None;
        }
    }
}

/// The highest owner record version recovery starts from.
const MAX_RECORD_VERSION: u64 = 1 << 62;

/// A camera's share with another account, withdrawn by recovery.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unshared {
    /// The camera.
    pub camera_id: sealcam_keys::CameraId,
    /// Its name in the owner record.
    #[serde(rename = "camera")]
    pub camera_name: String,
    /// The account it was shared with; `None` when the server would not list
    /// the camera's shares (`server_error` says why).
    pub account_id: Option<Uuid>,
    /// The member's name, when the owner record named the account.
    #[serde(rename = "member")]
    pub member_name: Option<String>,
    /// Why the server still shares it, when it would not withdraw it (the
    /// recipient sets leave the member out either way).
    pub server_error: Option<String>,
}

/// Deletes every share of the owner's cameras on the server: those the
/// owner record listed (`listed`, already left out of the new sets) and any
/// other the server holds — whoever held the owner key could share without
/// writing the record. A failure is reported, not raised: the rest of
/// recovery (the re-wrap of past recordings) still runs.
async fn withdraw_shares(
    client: &Client,
    record: &OwnerRecord,
    listed: &[(sealcam_keys::CameraId, Uuid)],
    members: &[crate::record::Member],
) -> Vec<Unshared> {
    let mut out = Vec::new();
    for camera in &record.cameras {
        let id = *camera.camera_id.as_uuid();
        let entry = |account_id: Option<Uuid>, server_error: Option<String>| Unshared {
            camera_id: camera.camera_id,
            camera_name: camera.name.clone(),
            account_id,
            member_name: members
                .iter()
                .find(|m| Some(m.account_id) == account_id)
                .map(|m| m.name.clone()),
            server_error,
        };
        let mut accounts: Vec<Uuid> = match client.api().shares(id).await {
            Ok(list) => list.shares.into_iter().map(|s| s.account_id).collect(),
            Err(e) => {
                out.push(entry(None, Some(format!("listing its shares: {e}"))));
                Vec::new()
            }
        };
        for (_, account) in listed.iter().filter(|(c, _)| *c == camera.camera_id) {
            if !accounts.contains(account) {
                accounts.push(*account);
            }
        }
        for account in accounts {
            let error = match client.api().delete_share(id, account).await {
                Ok(()) | Err(ClientError::NotFound { .. }) => None,
                Err(e) => Some(e.to_string()),
            };
            out.push(entry(Some(account), error));
        }
    }
    out
}

/// The number of the reset a recovery appends after reset `last`, at unix
/// time `now` (seconds): past `last` and at least `now`. Cameras and owner
/// devices take any reset numbered above the one they hold, so numbering
/// by the time keeps a recovery's reset above every earlier one (each made
/// no later than its own time) even when the server hides the end of the
/// key log, or all of it: a reset numbered from what such a server shows
/// could be one the cameras already passed, which they refuse, and the key
/// they keep would be the one recovery meant to end. `None` on overflow.
fn reset_number(last: u64, now: u64) -> Option<u64> {
    Some(last.checked_add(1)?.max(now))
}

/// Why recovery that keeps the other viewers refuses a record signed by
/// the retired key of reset and generation `at`: any device that held that
/// key — one since revoked — can write such a record naming itself, and a
/// server can serve it; recovery would seal the new owner key to it.
fn retired_refused((reset, generation): (u64, u64)) -> ClientError {
    ClientError::Untrusted {
        what: "owner record",
        reason: format!(
            "it is signed by the owner key of reset {reset}, generation {generation}, which the key log has retired: a device that held that key (a revoked one) could have written it, so recovery will not keep the viewers and shares it names; nothing was changed (without --keep-others, recovery takes only its cameras)"
        ),
    }
}

/// Parses an approval text.
pub fn parse_approval(text: &str) -> Result<LinkApproval> {
    LinkApproval::from_text(text)
}

#[cfg(test)]
mod tests {
    use sealcam_keys::{CameraId, DeviceKey, OwnerId, ViewerIdentity, MAX_EPOCH_JUMP};
    use uuid::Uuid;

    use super::{bound_for_reset, reset_number};
    use crate::record::{CameraEntry, OwnerRecord, ViewerEntry};

    /// A record naming two cameras: one at epoch `low`, one at `high`, both
    /// with a set key.
    fn record(low: u64, high: u64) -> OwnerRecord {
        let key = || Some(ViewerIdentity::generate().to_public());
        let phone = ViewerEntry {
            id: Uuid::new_v4(),
            device_id: None,
            name: "phone".into(),
            recipient: ViewerIdentity::generate().to_public(),
            added_at: 1,
        };
        let mut r = OwnerRecord::new(OwnerId::random(), key().unwrap(), phone);
        for epoch in [low, high] {
            r.cameras.push(CameraEntry {
                camera_id: CameraId::random(),
                name: "door".into(),
                device_key: DeviceKey::generate().public(),
                paired_at: 1,
                shared_with: Vec::new(),
                epoch,
                expires_at: None,
                set_key: key(),
            });
        }
        r
    }

    #[test]
    fn a_reset_publishes_below_the_epoch_jump_and_drops_a_retired_records_set_keys() {
        let mut current = record(41, u64::MAX - 1);
        let kept = current.cameras.clone();
        bound_for_reset(&mut current, false);
        // The next set is one above: at most MAX_EPOCH_JUMP, which a camera
        // takes under a newer owner key whatever its own epoch.
        assert_eq!(current.cameras[0].epoch, 41);
        assert_eq!(current.cameras[1].epoch, MAX_EPOCH_JUMP - 1);
        for (c, k) in current.cameras.iter().zip(&kept) {
            assert_eq!((&c.set_key, c.device_key), (&k.set_key, k.device_key));
        }

        let mut retired = record(41, 1 << 21);
        bound_for_reset(&mut retired, true);
        assert_eq!(retired.cameras[1].epoch, MAX_EPOCH_JUMP - 1);
        assert!(retired.cameras.iter().all(|c| c.set_key.is_none()));
    }

    #[test]
    fn a_recovery_reset_is_past_the_log_and_not_before_now() {
        // A log shown with few resets: the time wins.
        assert_eq!(reset_number(1, 1_800_000_000), Some(1_800_000_000));
        // A reset already numbered by a later clock: one past it.
        assert_eq!(
            reset_number(1_900_000_000, 1_800_000_000),
            Some(1_900_000_001)
        );
        assert_eq!(reset_number(u64::MAX, 0), None);
    }
}
