//! Cameras: `pair` and the `cameras` subcommands.

use anyhow::Context as _;
use sealcam_client::codes::{Code as _, ShareCode};
use sealcam_client::time::rfc3339;
use sealcam_client::{ClientError, Confirmation, Uptake};
use serde_json::json;

use super::{table, Ctx};

/// What an owner device whose owner key a camera contradicts does: its
/// `keys.json` keeps the key it took, so the same home stays refused.
const SET_UP_AGAIN: &str = "set this device up again in a new home (`sealcam --home DIR viewers link`, approved from an owner device whose `cameras list` flags no camera, or `sealcam --home DIR recover` with the recovery key), then revoke this one from it (`sealcam viewers revoke`)";
use crate::cli::CamerasCommand;
use crate::ui;

pub(super) async fn pair(ctx: &Ctx, name: &str, no_qr: bool) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let start = client.pair(name).await?;
    let expires = rfc3339(start.code.expires_at as i64);
    let qr = if no_qr || ctx.json {
        None
    } else {
        Some(ui::qr(&start.text)?)
    };
    ctx.print(
        json!({"name": name, "code": start.text, "expires_at": start.code.expires_at}),
        || {
            let mut s = format!(
                "Pairing code for {name:?} (valid until {expires}):\n\n{}\n",
                start.text
            );
            if let Some(qr) = &qr {
                s.push('\n');
                s.push_str(qr);
                s.push('\n');
            }
            s.push_str(
                "\nGive it to the camera (`sealcam-device pair CODE`, or scan it), then run\n\
                 `sealcam cameras confirm` to check its pairing proof and start recording.\n",
            );
            s
        },
    );
    Ok(())
}

pub(super) async fn cameras(ctx: &Ctx, c: CamerasCommand) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    match c {
        CamerasCommand::Confirm => {
            let outcomes = client.confirm_cameras().await?;
            let refused = outcomes
                .iter()
                .filter(|o| matches!(o, Confirmation::Refused { .. }))
                .count();
            ctx.print(json!({"cameras": outcomes}), || {
                if outcomes.is_empty() {
                    return "No camera is waiting for confirmation. Pair one with `sealcam pair --name NAME`, \
                            and let it register first.\n"
                        .into();
                }
                let mut s = String::new();
                for o in &outcomes {
                    match o {
                        Confirmation::Confirmed {
                            camera_id,
                            name,
                            fingerprint,
                            epoch,
                            ..
                        } => s.push_str(&format!(
                            "confirmed {camera_id} {name:?}: device key {fingerprint} pinned \
                             (the camera shows the same fingerprint), recipient set epoch {epoch} published\n"
                        )),
                        Confirmation::Refused { camera_id, reason } => {
                            s.push_str(&format!("REFUSED   {camera_id}: {reason}\n"))
                        }
                        _ => {}
                    }
                }
                s
            });
            if refused > 0 {
                let first = outcomes.iter().find_map(|o| match o {
                    Confirmation::Refused { camera_id, .. } => Some(camera_id.to_string()),
                    _ => None,
                });
                return Err(ClientError::PairingProof {
                    camera: first.unwrap_or_default(),
                    source: sealcam_keys::PairingError::ProofMismatch,
                })
                .context(format!(
                    "{refused} camera(s) refused; delete unknown ones with `sealcam cameras delete ID`"
                ));
            }
            Ok(())
        }
        CamerasCommand::List => {
            let cams = client.cameras().await?;
            ctx.print(json!({"cameras": cams}), || {
                if cams.is_empty() {
                    return "No cameras yet. Pair one with `sealcam pair --name NAME`.\n".into();
                }
                let rows: Vec<Vec<String>> = cams
                    .iter()
                    .map(|c| {
                        vec![
                            c.camera_id.to_string(),
                            c.name.clone().unwrap_or_else(|| "(not pinned)".into()),
                            c.fingerprint.clone().unwrap_or_else(|| "-".into()),
                            format!("{:?}", c.role).to_lowercase(),
                            format!("{:?}", c.status).to_lowercase(),
                            c.retention_days
                                .map_or_else(|| "forever".into(), |d| format!("{d} days")),
                            c.epoch.map_or_else(|| "-".into(), |e| e.to_string()),
                            c.sealed_epoch.map_or_else(|| "-".into(), |e| e.to_string()),
                        ]
                    })
                    .collect();
                let mut s = table(
                    &[
                        "CAMERA",
                        "NAME",
                        "KEY",
                        "ROLE",
                        "STATUS",
                        "RETENTION",
                        "EPOCH",
                        "SEALED",
                    ],
                    &rows,
                );
                for c in &cams {
                    let Some(u) = c.uptake.as_ref().filter(|u| u.is_warning()) else {
                        continue;
                    };
                    let why = match u {
                        Uptake::Lagging { sealed, published } => format!(
                            "recorded after epoch {published} was published but still seals to epoch {sealed}: the new set (a revocation?) has not reached it — the server may be withholding it"
                        ),
                        Uptake::Withheld { serving, published } => format!(
                            "the server does not serve the recipient set epoch {published} this account published (it serves {}): a revocation or a new viewer is withheld from this camera",
                            serving.map_or_else(|| "a set not signed by the current owner key".into(), |e| format!("epoch {e}"))
                        ),
                        Uptake::Foreign { sealed } => format!(
                            "seals to epoch {sealed}, which this account never published: a recipient set from someone else reached it; run `sealcam recover --revoke-others`"
                        ),
                        Uptake::KeyDisagrees { camera, held, forked: false } => format!(
                            "its newest recording is sealed under an owner key of reset {}, generation {}, newer than the one this device holds (reset {}, generation {}): the server is hiding a rotation (a revocation on another device?) from this device. Do not grant, share or approve from it; if it persists, {}",
                            camera.0, camera.1, held.0, held.1, SET_UP_AGAIN
                        ),
                        Uptake::KeyDisagrees { camera, forked: true, .. } => format!(
                            "its newest recording is sealed under another owner key of reset {}, generation {} than the one this device held there: the server served this device a forked key log (a revoked device signed a rotation with the key it kept), and this device stays on the fork. Do not grant, share or approve from it; {}",
                            camera.0, camera.1, SET_UP_AGAIN
                        ),
                        Uptake::Unreadable { reason } => format!(
                            "its newest recording does not open on this device ({reason})"
                        ),
                        _ => continue,
                    };
                    s.push_str(&format!("WARNING: camera {}: {why}\n", c.camera_id));
                }
                for c in cams.iter().filter(|c| c.sets_sealed == Some(false) && c.epoch.is_some_and(|e| e > 0)) {
                    s.push_str(&format!(
                        "note: camera {} has published no set key (firmware before S9?): its recipient set, with every viewer key, is stored in the clear on the server\n",
                        c.camera_id
                    ));
                }
                for c in cams.iter().filter(|c| !c.key_matches_server) {
                    s.push_str(&format!(
                        "warning: the server reports another device key for {} than the one pinned; objects are checked against the pinned key\n",
                        c.camera_id
                    ));
                }
                s
            });
            Ok(())
        }
        CamerasCommand::Retention {
            camera,
            days,
            forever,
        } => {
            let id = client.resolve_camera(&camera).await?;
            let days = if forever { None } else { days };
            client.set_retention(id, days).await?;
            ctx.print(
                json!({"camera_id": id, "retention_days": days}),
                || match days {
                    Some(d) => format!("{id}: events older than {d} days will be deleted"),
                    None => format!("{id}: events are kept forever"),
                },
            );
            Ok(())
        }
        CamerasCommand::Delete { camera } => {
            let id = client.resolve_camera(&camera).await?;
            client.delete_camera(id).await?;
            ctx.print(json!({"camera_id": id, "deleted": true}), || {
                format!("deleted camera {id} and its events")
            });
            Ok(())
        }
        CamerasCommand::Accept { code } => {
            let code = ShareCode::from_text(&code)?;
            let shared = client.accept_share(&code).await?;
            ctx.print(json!({"camera": shared}), || {
                format!(
                    "accepted camera {} {:?} shared by {}; its events appear in `sealcam events list`",
                    shared.camera_id, shared.name, shared.owner
                )
            });
            Ok(())
        }
    }
}
