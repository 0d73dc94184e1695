//! Every type that holds a secret or a token formats with `{:?}` without
//! it: the wire's requests and answers that carry tokens, the keys, the
//! pairing code, the owner key bundle, the app SDK's credential, device and
//! link approval. A `{:?}` in a log line or a panic message shows none.

use base64::Engine as _;
use sealcam_client::api::Api;
use sealcam_client::{Credential, Device, DeviceInfo, PendingPairing};
use sealcam_keys::{
    DeviceKey, OwnerId, OwnerKeyBundle, OwnerSigningKey, PairingCode, PairingSecret, RecoveryKey,
    ViewerIdentity,
};
use sealcam_wire::{
    EnrollRequest, EnrollResponse, LinkResponse, PairingResponse, RecoveryCredentialRequest,
    RegisterCameraRequest, RegisterCameraResponse,
};

/// The forms a secret could take in `{:?}` output.
fn forms(bytes: &[u8]) -> Vec<String> {
    vec![
        hex(bytes),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        format!("{bytes:?}"),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Check(usize);

impl Check {
    fn hidden(&mut self, what: &str, debug: String, secrets: &[String]) {
        for s in secrets {
            assert!(
                !debug.to_ascii_lowercase().contains(&s.to_ascii_lowercase()),
                "{what}: {{:?}} shows a secret: {debug}"
            );
        }
        self.0 += 1;
    }
}

#[test]
fn debug_output_shows_no_secret() {
    let mut check = Check(0);
    let token = "scX_SECRETtokenSECRETtokenSECRETtokenSECRET".to_owned();
    let t = || token.clone();
    let s = std::slice::from_ref(&token);

    check.hidden(
        "EnrollRequest",
        format!(
            "{:?}",
            EnrollRequest {
                token: t(),
                device_name: "d".into(),
                viewer_key: None
            }
        ),
        s,
    );
    check.hidden(
        "EnrollResponse",
        format!(
            "{:?}",
            EnrollResponse {
                account_id: uuid::Uuid::nil(),
                device_id: uuid::Uuid::nil(),
                credential: t()
            }
        ),
        s,
    );
    check.hidden(
        "LinkResponse",
        format!(
            "{:?}",
            LinkResponse {
                link_token: t(),
                expires_at: 0
            }
        ),
        s,
    );
    check.hidden(
        "RecoveryCredentialRequest",
        format!("{:?}", RecoveryCredentialRequest { credential: t() }),
        s,
    );
    check.hidden(
        "PairingResponse",
        format!(
            "{:?}",
            PairingResponse {
                claim_token: t(),
                expires_at: 0
            }
        ),
        s,
    );
    check.hidden(
        "RegisterCameraRequest",
        format!(
            "{:?}",
            RegisterCameraRequest {
                claim_token: t(),
                device_public_key: "pk".into(),
                pairing_proof: "proof".into()
            }
        ),
        s,
    );
    check.hidden(
        "RegisterCameraResponse",
        format!(
            "{:?}",
            RegisterCameraResponse {
                camera_id: uuid::Uuid::nil(),
                owner_id: uuid::Uuid::nil(),
                credential: t()
            }
        ),
        s,
    );

    // Keys: every encoding of the secret bytes, and the secret texts.
    let owner_key = OwnerSigningKey::generate();
    check.hidden(
        "OwnerSigningKey",
        format!("{owner_key:?}"),
        &forms(&*owner_key.to_seed()),
    );
    let device_key = DeviceKey::generate();
    check.hidden(
        "DeviceKey",
        format!("{device_key:?}"),
        &forms(&*device_key.to_seed()),
    );
    let viewer = ViewerIdentity::generate();
    let viewer_text = viewer.to_secret_text().to_string();
    check.hidden(
        "ViewerIdentity",
        format!("{viewer:?}"),
        std::slice::from_ref(&viewer_text),
    );
    let recovery = RecoveryKey::generate();
    let recovery_text = recovery.to_secret_text().to_string();
    check.hidden(
        "RecoveryKey",
        format!("{recovery:?}"),
        std::slice::from_ref(&recovery_text),
    );
    let root = recovery.root_key();
    check.hidden(
        "RootSigningKey",
        format!("{root:?}"),
        &forms(&*root.to_seed()),
    );
    let owner = OwnerId::random();
    let bundle = OwnerKeyBundle::new(owner, owner_key.clone(), &recovery);
    let mut bundle_secrets = forms(&*owner_key.to_seed());
    bundle_secrets.push(recovery_text.clone());
    check.hidden("OwnerKeyBundle", format!("{bundle:?}"), &bundle_secrets);

    // A pairing code: its text carries the claim token and the secret.
    let secret = PairingSecret::generate();
    let code = PairingCode {
        server_url: "https://cams.example.net".into(),
        claim_token: t(),
        owner,
        owner_key: owner_key.public(),
        trust: Some((root.public(), 1, 1)),
        secret: secret.clone(),
        expires_at: u64::MAX,
    };
    let text = code.to_text().unwrap();
    check.hidden("PairingCode", format!("{code:?}"), &[token.clone(), text]);
    let pending = PendingPairing::new(t(), &secret, 0, "porch".into());
    check.hidden("PendingPairing", format!("{pending:?}"), s);

    // The app SDK.
    let credential = Credential::new(t());
    check.hidden("Credential", format!("{credential:?}"), s);
    let api = Api::new("http://127.0.0.1:1")
        .unwrap()
        .with_credential(credential.clone());
    check.hidden("Api", format!("{api:?}"), s);
    let device = Device {
        info: DeviceInfo {
            server_url: "http://127.0.0.1:1".into(),
            account_id: owner,
            device_id: uuid::Uuid::nil(),
            device_name: "phone".into(),
            owner_key: owner_key.public(),
            keys: None,
            transport: Default::default(),
        },
        credential,
        viewer,
        owner_key: owner_key.clone(),
    };
    let mut device_secrets = forms(&*owner_key.to_seed());
    device_secrets.extend([token.clone(), viewer_text]);
    check.hidden("Device", format!("{device:?}"), &device_secrets);
    let approval = sealcam_client::codes::LinkApproval {
        link_token: t(),
        owner,
        owner_key: owner_key.public(),
        root_key: Some(root.public()),
        key_position: (1, 1),
        record: None,
    };
    check.hidden("LinkApproval", format!("{approval:?}"), s);

    println!(
        "hardening: secrets: {} types formatted with {{:?}}; no token, key seed, secret key text or pairing code text in any",
        check.0
    );
}

#[test]
fn tokens_and_codes_come_from_stdin_or_a_file_instead_of_argv() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    use sealcam_e2e::household::{Camera, Household, PHONE};

    let h = Household::start().unwrap();
    let token = sealcam_e2e::process::create_account(&h.bins.server, &h.data, "stdin").unwrap();
    let mut init = Command::new(&h.bins.cli)
        .env("SEALCAM_HOME", h.path("stdin"))
        .args(["init", "--server", &h.url, "--token", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    init.stdin
        .take()
        .unwrap()
        .write_all(format!("{token}\n").as_bytes())
        .unwrap();
    let out = init.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let code = h
        .sealcam(PHONE, &["pair", "--name", "filecam", "--no-qr", "--json"])
        .unwrap()
        .checked()
        .unwrap()
        .json()
        .unwrap();
    let file = h.path("pairing-code.txt");
    std::fs::write(&file, code["code"].as_str().unwrap()).unwrap();
    let cam = Camera {
        name: "filecam".into(),
        state: h.path("cam-filecam"),
        id: uuid::Uuid::nil(),
    };
    let arg = format!("@{}", file.display());
    h.device(&cam, &["pair", &arg]).unwrap().checked().unwrap();
    println!("hardening: secrets: `sealcam init --token -` read the enrollment token from stdin, `sealcam-device pair @FILE` the pairing code from a file: neither was in argv");
}
