use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

use sealcam_keys::{OwnerId, OwnerSigningKey, PairingSecret, ViewerIdentity};
use uuid::Uuid;

use super::*;
use crate::api::Credential;

fn device() -> Device {
    let owner_key = OwnerSigningKey::generate();
    Device {
        info: DeviceInfo {
            server_url: "http://127.0.0.1:1".into(),
            account_id: OwnerId::random(),
            device_id: Uuid::new_v4(),
            device_name: "laptop".into(),
            owner_key: owner_key.public(),
            keys: None,
            transport: Default::default(),
        },
        credential: Credential::new("scv_secret"),
        viewer: ViewerIdentity::generate(),
        owner_key,
    }
}

#[test]
fn device_round_trips_with_private_modes() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("h"));
    assert!(matches!(
        home.load_device(),
        Err(ClientError::NotInitialized { .. })
    ));
    let d = device();
    home.save_device(&d).unwrap();
    let back = home.load_device().unwrap();
    assert_eq!(back.info, d.info);
    assert_eq!(back.viewer.to_public(), d.viewer.to_public());
    assert_eq!(back.credential.expose(), "scv_secret");
    assert_eq!(fs::metadata(home.path()).unwrap().mode() & 0o777, 0o700);
    for f in ["credential", "viewer.txt", "owner.key", "device.json"] {
        let mode = fs::metadata(home.path().join(f)).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    assert!(matches!(
        home.check_fresh(),
        Err(ClientError::AlreadyInitialized { .. })
    ));
    let dbg = format!("{back:?}");
    assert!(
        !dbg.contains("scv_secret") && !dbg.contains("AGE-SECRET-KEY"),
        "{dbg}"
    );
}

#[test]
fn readable_credential_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path());
    home.save_device(&device()).unwrap();
    fs::set_permissions(
        dir.path().join("credential"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    assert!(matches!(home.load_device(), Err(ClientError::Key(_))));
}

#[test]
fn pairings_are_kept_and_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path());
    let secret = PairingSecret::generate();
    home.save_pairing(&PendingPairing::new(
        "sck_a".into(),
        &secret,
        10,
        "porch".into(),
    ))
    .unwrap();
    let all = home.pairings().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].secret().unwrap(), secret);
    home.remove_pairing("sck_a").unwrap();
    assert!(home.pairings().unwrap().is_empty());
}
