//! Who sees what: the `viewers` subcommands, `share`, `unshare` and
//! `grant-history`.

use std::io::IsTerminal as _;

use anyhow::{bail, Context as _};
use sealcam_client::codes::{Code as _, LinkRequest, MemberCode};
use sealcam_client::time::rfc3339;
use sealcam_client::Finished;
use sealcam_keys::CameraId;
use serde_json::json;

use super::{table, Ctx};
use crate::cli::ViewersCommand;

pub(super) async fn viewers(ctx: &Ctx, c: ViewersCommand) -> anyhow::Result<()> {
    match c {
        ViewersCommand::Link {
            server,
            name,
            finish,
        } => {
            if let Some(text) = finish {
                let text = super::secret_arg(&text, "link approval")?;
                let approval = sealcam_client::parse_approval(&text)?;
                let client = sealcam_client::link_finish(&ctx.home, &approval).await?;
                let d = &client.device().info;
                ctx.print(
                    json!({"account_id": d.account_id, "device_id": d.device_id, "linked": true}),
                    || {
                        format!(
                            "linked: this device ({}) is a viewer of account {}.\n\
                             New recordings are sealed to it once each camera syncs; for older ones run\n\
                             `sealcam grant-history {} --days N` on the approving device.",
                            d.device_name,
                            d.account_id,
                            client.device().viewer.to_public()
                        )
                    },
                );
                return Ok(());
            }
            let Some(server) = server else {
                bail!("--server URL is needed to start linking");
            };
            let req = sealcam_client::link_request(&ctx.home, &server, &name)?;
            let text = req.to_text();
            ctx.print(json!({"link_request": text}), || {
                format!(
                    "Link request for {name:?}:\n\n{text}\n\n\
                     On a device already set up, run `sealcam viewers approve CODE` with it, then\n\
                     finish here with `sealcam viewers link --finish APPROVAL`.\n"
                )
            });
            Ok(())
        }
        ViewersCommand::Approve { code } => {
            let client = ctx.client().await?;
            let request = LinkRequest::from_text(&code)?;
            let approval = client.approve(&request).await?;
            let text = approval.approval.to_text();
            ctx.print(
                json!({"viewer_id": approval.viewer.id, "approval": text, "epochs": approval.epochs}),
                || {
                    format!(
                        "approved {:?} as viewer {}; recipient sets republished for {} camera(s).\n\n{text}\n\n\
                         On the new device run (within 10 minutes):\n  sealcam viewers link --finish '{text}'\n",
                        approval.viewer.name,
                        approval.viewer.id,
                        approval.epochs.len()
                    )
                },
            );
            Ok(())
        }
        ViewersCommand::List => {
            let client = ctx.client().await?;
            let list = client.viewers().await?;
            let devices = client.devices().await?;
            ctx.print(json!({"viewers": list, "devices": devices}), || {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|v| {
                        vec![
                            format!("{}{}", v.id, if v.current { " *" } else { "" }),
                            v.name.clone(),
                            rfc3339(v.added_at),
                            v.recipient.clone(),
                        ]
                    })
                    .collect();
                let mut s = table(&["VIEWER", "NAME", "ADDED", "KEY"], &rows) + "(* this device)\n\n";
                let rows: Vec<Vec<String>> = devices
                    .iter()
                    .map(|d| {
                        let role = if d.recovery {
                            "recovery key".to_owned()
                        } else if let Some(v) = d.viewer {
                            format!("viewer {v}")
                        } else if d.current {
                            "this device".to_owned()
                        } else {
                            "UNKNOWN: no viewer of the signed record holds it".to_owned()
                        };
                        // The server knows every device by one label (S9):
                        // the name is the signed record's, when it holds it.
                        let name = d
                            .viewer
                            .and_then(|id| list.iter().find(|v| v.id == id))
                            .map_or_else(|| d.name.clone(), |v| v.name.clone());
                        vec![d.device_id.to_string(), name, role]
                    })
                    .collect();
                s += &table(&["SERVER DEVICE", "NAME", "HELD BY"], &rows);
                if devices.iter().any(|d| d.unknown) {
                    s += "warning: the server holds credentials that no viewer of the signed owner record holds; `sealcam viewers revoke` or `sealcam recover` deletes them\n";
                }
                s
            });
            Ok(())
        }
        ViewersCommand::Revoke { id } => {
            let (mut client, report) = ctx.client_and_report().await?;
            // Asked again after it stopped part-way: finished just now.
            let finished = report.finished.and_then(|f| match f {
                Finished::Revocation(r) if r.names(&id) => Some(r),
                _ => None,
            });
            let r = match finished {
                Some(r) => r,
                None => match client.revoke_viewer(&id).await {
                    Ok(r) => r,
                    Err(e) if client.revocation_unfinished() => {
                        return Err(anyhow::Error::new(e).context(
                            "the revocation stopped part-way; the next `sealcam` command on this device finishes it",
                        ))
                    }
                    Err(e) => return Err(e.into()),
                },
            };
            ctx.print(json!({"revoked": r}), || {
                let mut s = format!("revoked {:?} ({})", r.name, r.id);
                if r.device_deleted {
                    s.push_str("; its server credential is deleted");
                }
                s.push_str(&format!(
                    ".\nThe owner key rotated (reset {}, generation {}): the revoked device's copy signs nothing a camera takes.\n",
                    r.key_position.0, r.key_position.1
                ));
                for p in &r.pruned {
                    s.push_str(&format!("deleted server credential {} ({:?})\n", p.device_id, p.name));
                }
                for (cam, epoch) in &r.epochs {
                    s.push_str(&format!("camera {cam}: recipient set epoch {epoch}\n"));
                }
                s.push_str("Each camera stops sealing to it as soon as it syncs its new set.\n");
                for (_, line) in removal_notes(&r.unpublished, &r.left_out) {
                    s.push_str(&line);
                    s.push('\n');
                }
                s
            });
            Ok(())
        }
    }
}

/// What a revocation's or an unshare's outcome asks the owner to look at,
/// each with its kind (`warning`, `note`): cameras whose new set the server
/// refused as unknown, and what it left out of the record.
pub(super) fn removal_notes(
    unpublished: &[CameraId],
    left_out: &[String],
) -> Vec<(&'static str, String)> {
    let unpublished = unpublished.iter().map(|cam| {
        ("warning", format!("camera {cam}: the server says it does not know it, so its new set is not published; if you did not delete it, the server is withholding the revocation from it"))
    });
    let left_out = left_out.iter().map(|what| {
        ("note", format!("left out {what}: the record the revocation began from did not name it; link or share it again if it is yours"))
    });
    unpublished.chain(left_out).collect()
}

pub(super) async fn share(ctx: &Ctx, camera: &str, with: &str) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let id = client.resolve_camera(camera).await?;
    let member = MemberCode::from_text(with)?;
    let shared = client.share(id, &member).await?;
    ctx.print(json!({"shared": shared}), || {
        format!(
            "shared camera {} with account {} (recipient set epoch {}).\n\n{}\n\n\
             On the member's device run:\n  sealcam cameras accept '{}'\n",
            shared.camera_id, shared.account_id, shared.epoch, shared.share_code, shared.share_code
        )
    });
    Ok(())
}

pub(super) async fn unshare(ctx: &Ctx, camera: &str, with: &str) -> anyhow::Result<()> {
    let (mut client, report) = ctx.client_and_report().await?;
    let id = client.resolve_camera(camera).await?;
    let account = with
        .trim()
        .parse::<uuid::Uuid>()
        .with_context(|| format!("{with:?} is not an account id"))?;
    // Asked again after it stopped part-way: finished just now.
    let finished = report.finished.and_then(|f| match f {
        Finished::Unshare(u) if u.camera_id == id && u.account_id == account => Some(u),
        _ => None,
    });
    let u = match finished {
        Some(u) => u,
        None => match client.unshare(id, account).await {
            Ok(u) => u,
            Err(e) if client.revocation_unfinished() => return Err(anyhow::Error::new(e).context(
                "unsharing stopped part-way; the next `sealcam` command on this device finishes it",
            )),
            Err(e) => return Err(e.into()),
        },
    };
    ctx.print(json!(u), || {
        let mut s = format!("stopped sharing camera {id} with {account}");
        if let Some(epoch) = u.epoch {
            s.push_str(&format!(" (recipient set epoch {epoch})"));
        }
        s.push_str("; what the camera records after it syncs is no longer sealed to them.\n");
        if let Some((reset, generation)) = u.key_position {
            s.push_str(&format!(
                "The owner key rotated (reset {reset}, generation {generation}): no owner record from before this verifies.\n"
            ));
        }
        for (_, line) in removal_notes(&u.unpublished, &u.left_out) {
            s.push_str(&line);
            s.push('\n');
        }
        s
    });
    Ok(())
}

pub(super) async fn grant_history(
    ctx: &Ctx,
    viewer: &str,
    days: u32,
    camera: Option<&str>,
) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let camera = match camera {
        Some(c) => Some(client.resolve_camera(c).await?),
        None => None,
    };
    let show = !ctx.json && std::io::stderr().is_terminal();
    let g = client
        .grant_history(viewer, days, camera, &|g| {
            if show {
                eprint!("\rre-wrapped {} parts", g.rewrapped);
            }
        })
        .await?;
    if show {
        eprintln!();
    }
    ctx.print(json!({"granted": g}), || {
        let mut s = format!(
            "re-wrapped {} part(s) of the last {days} days to include {viewer}",
            g.rewrapped
        );
        if g.skipped > 0 {
            s.push_str(&format!(
                "; {} part(s) skipped: they are not sealed to this device",
                g.skipped
            ));
        }
        if g.refused > 0 {
            s.push_str(&format!(
                "\nWARNING: {} part(s) refused and left as they were: the server served a header or payload that is not that recording's (misdelivered or altered), so nothing was re-wrapped for it",
                g.refused
            ));
        }
        s
    });
    Ok(())
}
