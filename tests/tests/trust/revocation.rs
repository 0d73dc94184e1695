//! Owner trust v2 under attack: a revoked owner device (docs/PROTOCOL.md,
//! "Owner trust v2"; the setup, the attacker and the colluding server are
//! described in `sealcam_e2e::trust_kit`), against the real binaries only.
//!
//! 1. a spare credential minted while the tablet was a viewer, and a
//!    recovery credential of its own → deleted by the revocation, refused;
//! 2. a set re-signed with the retired owner key, `PUT` through the honest
//!    server with every credential the tablet has → 401, and the camera would
//!    refuse it anyway;
//! 3. the same set and a forged rotation written into the database → the
//!    camera refuses both (not the pinned owner key; a fork);
//! 4. after a revocation and after a recovery, the stock `age` with a
//!    removed identity opens nothing recorded after the camera synced.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use reqwest::Method;
use sealcam_e2e::household::{Run, PHONE};
use sealcam_e2e::trust_kit::{
    fail, household_with_tablet, mint_spare, openers, published_epoch, recover, revoke, sealcam_ok,
    steal, sync_epoch, sync_ok, unix_now, Db, TABLET,
};
use sealcam_keys::{KeyLog, KeyStatement, KeyStatementError, OwnerSigningKey, RecipientSetError};
use serde_json::json;
use uuid::Uuid;

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
    // The camera is sent the statements from the place it holds on, the
    // real rotation's: its index counts from there.
    let sent = log.since(forged_at);
    let sent_index = sent.statements().len() - 1;
    assert_eq!(sent_index, 1, "the real rotation, then the fork");
    let statement_refusal =
        format!("REFUSED statement {sent_index} of the owner's key log as sent: {fork}");
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
