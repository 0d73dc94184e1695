//! Setting up and restoring an account: `init`, `whoami`, `trust`, `recover`.

use std::io::{IsTerminal as _, Read as _, Write as _};

use anyhow::Context as _;
use sealcam_client::codes::Code as _;
use sealcam_keys::RecoveryKey;
use serde_json::json;
use zeroize::Zeroizing;

use super::Ctx;
use crate::cli::TrustCommand;

pub(super) async fn init(ctx: &Ctx, server: &str, token: &str, name: &str) -> anyhow::Result<()> {
    let outcome = sealcam_client::init(&ctx.home, server, token, name).await?;
    let d = &outcome.client.device().info;
    let printable = outcome.recovery_key.to_printable();
    ctx.print(
        json!({
            "account_id": d.account_id,
            "device_id": d.device_id,
            "server": d.server_url,
            "home": ctx.home.path(),
            "recovery_key": printable.as_str(),
        }),
        || {
            format!(
                "Account   {}\nDevice    {} ({})\nServer    {}\nKeys in   {}\n\n\
                 RECOVERY KEY (shown once, never stored on this device)\n\n    {}\n\n\
                 Write it down or print it, and keep it offline. With the server URL it alone\n\
                 restores your cameras and every recording if all your devices are lost\n\
                 (`sealcam recover --server {}`). Anyone holding it can see everything.\n\n\
                 Next: pair a camera with `sealcam pair --name \"front door\"`.\n",
                d.account_id,
                d.device_name,
                d.device_id,
                d.server_url,
                ctx.home.path().display(),
                printable.as_str(),
                d.server_url,
            )
        },
    );
    Ok(())
}

pub(super) async fn whoami(ctx: &Ctx) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let d = &client.device().info;
    let member = client.member_code().to_text();
    ctx.print(
        json!({
            "account_id": d.account_id,
            "device_id": d.device_id,
            "device_name": d.device_name,
            "server": d.server_url,
            "viewer_key": client.device().viewer.to_public().to_string(),
            "owner_key": d.owner_key.to_string(),
            "identity_file": ctx.home.viewer_file(),
            "member_code": member,
        }),
        || {
            format!(
                "Account      {}\nDevice       {} ({})\nServer       {}\nViewer key   {}\nOwner key    {}\n\
                 Identity     {} (works with `age -d -i`)\n\n\
                 Member code (give it to an owner who shares a camera with you):\n{}\n",
                d.account_id,
                d.device_name,
                d.device_id,
                d.server_url,
                client.device().viewer.to_public(),
                d.owner_key,
                ctx.home.viewer_file().display(),
                member
            )
        },
    );
    Ok(())
}

fn read_recovery_key(file: Option<&std::path::Path>) -> anyhow::Result<RecoveryKey> {
    let mut text = Zeroizing::new(String::new());
    match file {
        Some(path) => {
            let mut f = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            f.read_to_string(&mut text)
                .with_context(|| format!("cannot read {}", path.display()))?;
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprint!("Recovery key (AGE-SECRET-KEY-1…): ");
                let _ = std::io::stderr().flush();
                stdin
                    .read_line(&mut text)
                    .context("cannot read the recovery key")?;
            } else {
                stdin
                    .lock()
                    .read_to_string(&mut text)
                    .context("cannot read the recovery key from standard input")?;
            }
        }
    }
    let line: Zeroizing<String> = Zeroizing::new(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join(""),
    );
    RecoveryKey::from_typed(&line).context(
        "this is not a recovery key (it starts with AGE-SECRET-KEY-1, as printed by `sealcam init`)",
    )
}

pub(super) async fn trust(ctx: &Ctx, c: TrustCommand) -> anyhow::Result<()> {
    let mut client = ctx.client().await?;
    match c {
        TrustCommand::Status => {
            let keys = client.device().info.key_state();
            ctx.print(json!({"keys": keys}), || {
                let (reset, generation) = keys.position();
                match keys.root_key {
                    Some(root) => format!(
                        "owner key {} (reset {reset}, generation {generation})\nroot key  {root} (derived from the recovery key)\n",
                        keys.owner_key
                    ),
                    None => format!(
                        "owner key {} — this account predates owner trust v2: run `sealcam trust upgrade`\n",
                        keys.owner_key
                    ),
                }
            });
        }
        TrustCommand::Upgrade { recovery_key_file } => {
            let key = read_recovery_key(recovery_key_file.as_deref())?;
            client.upgrade_trust(&key).await?;
            let keys = client.device().info.key_state();
            ctx.print(json!({"keys": keys}), || {
                format!(
                    "upgraded: owner key {} (reset {}, generation {}); cameras take it at their next sync\n",
                    keys.owner_key, keys.reset, keys.generation
                )
            });
        }
    }
    Ok(())
}

pub(super) async fn recover(
    ctx: &Ctx,
    server: &str,
    file: Option<&std::path::Path>,
    name: &str,
    revoke_others: bool,
) -> anyhow::Result<()> {
    let key = read_recovery_key(file)?;
    let r = sealcam_client::recover(&ctx.home, server, &key, name, revoke_others).await?;
    let d = &r.client.device().info;
    ctx.print(
        json!({
            "account_id": d.account_id,
            "device_id": d.device_id,
            "epochs": r.epochs,
            "revoked": r.revoked.iter().map(|v| v.id).collect::<Vec<_>>(),
            "unshared": r.unshared,
            "pruned": r.pruned,
            "record_fingerprint": r.record_fingerprint,
            "record_signed_by_retired_key": r.retired_signed,
            "key_position": d.key_state().position(),
            "history": r.history,
        }),
        || {
            let mut s = format!(
                "recovered account {}: this device ({}) is now a viewer with the owner key.\n",
                d.account_id, d.device_name
            );
            for (cam, epoch) in &r.epochs {
                s.push_str(&format!("camera {cam}: recipient set epoch {epoch}\n"));
            }
            if let Some((reset, generation)) = r.retired_signed {
                s.push_str(&format!(
                    "WARNING: the owner record was signed by the owner key of reset {reset}, generation {generation}, which the key log has retired (a revocation that did not finish, or a record a revoked device wrote): recovery took only its cameras from it, and their pinned device keys are the record's: compare each KEY `sealcam cameras list` shows with the fingerprint the camera showed when it paired\n"
                ));
            }
            for v in &r.revoked {
                s.push_str(&format!(
                    "removed viewer {:?}: link it again (`sealcam viewers link` on it) if you still have it and trust it\n",
                    v.name
                ));
            }
            for u in &r.unshared {
                let member = match (&u.member_name, u.account_id) {
                    (Some(name), _) => format!("{name:?}"),
                    (None, Some(account)) => format!("account {account} (not in the owner record)"),
                    (None, None) => "its members".to_owned(),
                };
                match &u.server_error {
                    None => s.push_str(&format!(
                        "withdrew the share of camera {:?} with {member}: to share it again, ask them for their member code (`sealcam whoami`) and run `sealcam share`\n",
                        u.camera_name
                    )),
                    Some(e) => s.push_str(&format!(
                        "WARNING: camera {:?} is left out of the new recipient sets for {member}, but the server still shares it ({e}); run `sealcam unshare`\n",
                        u.camera_name
                    )),
                }
            }
            if !r.revoked.is_empty() || !r.unshared.is_empty() {
                s.push_str("(recovery trusts no one the server's copy of the owner record names; `--keep-others` would have kept them)\n");
            }
            let (reset, generation) = d.key_state().position();
            s.push_str(&format!(
                "the owner key is reset (reset {reset}, generation {generation}): every camera takes it at its next sync, and no earlier owner key signs anything more\n"
            ));
            for p in &r.pruned {
                s.push_str(&format!("deleted server credential {} ({:?})\n", p.device_id, p.name));
            }
            s.push_str(&format!(
                "owner record fingerprint {} (it names the cameras' pinned keys: `sealcam cameras list` shows their fingerprints)\n",
                r.record_fingerprint
            ));
            s.push_str(&format!(
                "re-wrapped {} past part(s) so that this device opens them\n",
                r.history.rewrapped
            ));
            if r.history.refused > 0 {
                s.push_str(&format!(
                    "WARNING: {} past part(s) refused: the server served a header or payload that is not that recording's; nothing was re-wrapped for them\n",
                    r.history.refused
                ));
            }
            s
        },
    );
    Ok(())
}
