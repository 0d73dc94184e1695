//! Each command: call the app SDK, print the result (text or `--json`).

use std::io::{IsTerminal as _, Read as _, Write as _};

use anyhow::{bail, Context as _};
use sealcam_client::codes::{Code as _, LinkRequest, MemberCode, ShareCode};
use sealcam_client::time::{rfc3339, unix_now};
use sealcam_client::{Client, ClientError, Confirmation, EventFilter, Home, Uptake};
use sealcam_keys::{EventId, RecoveryKey};
use sealcam_wire::PartKind;
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::{
    CamerasCommand, Cli, Command, EventsCommand, FetchArgs, Part, TrustCommand, ViewersCommand,
};
use crate::ui;

struct Ctx {
    json: bool,
    home: Home,
}

impl Ctx {
    /// The device set up here, after following the account's key log; signs
    /// of an attack on the owner key are printed on stderr.
    async fn client(&self) -> anyhow::Result<Client> {
        let (client, report) = Client::connect(self.home.clone()).await?;
        if let Some((from, to)) = report.moved {
            eprintln!(
                "note: the owner key moved from reset {}, generation {} to reset {}, generation {} (a viewer was revoked or the account recovered)",
                from.0, from.1, to.0, to.1
            );
        }
        for w in &report.warnings {
            eprintln!("warning: {w} — if nobody in this household did this, run `sealcam recover --revoke-others`");
        }
        // Cameras whose set expires seal to the recovery key alone: renew
        // them in passing. A failure here must not stop the command.
        match client.renew_sets().await {
            Ok(renewed) => {
                for (camera, epoch) in renewed {
                    eprintln!("note: renewed the recipient set of camera {camera} (epoch {epoch}) before it expires");
                }
            }
            Err(e) => eprintln!("warning: could not renew expiring recipient sets: {e}"),
        }
        Ok(client)
    }

    /// Prints `value` as JSON with `--json`, else the text.
    fn print(&self, value: serde_json::Value, text: impl FnOnce() -> String) {
        if self.json {
            out(&format!("{value}\n"));
        } else {
            let mut t = text();
            if !t.ends_with('\n') {
                t.push('\n');
            }
            out(&t);
        }
    }
}

/// Writes to stdout; a closed pipe (`sealcam … | head`) ends quietly
/// instead of panicking like `print!`.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let home = match cli.home {
        Some(dir) => Home::at(dir),
        None => Home::locate()?,
    };
    let ctx = Ctx {
        json: cli.json,
        home,
    };
    match cli.command {
        Command::Init {
            server,
            token,
            name,
        } => init(&ctx, &server, &token, &name).await,
        Command::Whoami => whoami(&ctx).await,
        Command::Pair { name, no_qr } => pair(&ctx, &name, no_qr).await,
        Command::Cameras(c) => cameras(&ctx, c).await,
        Command::Events(c) => events(&ctx, c).await,
        Command::Fetch(args) => fetch(&ctx, args).await,
        Command::Viewers(c) => viewers(&ctx, c).await,
        Command::Share { camera, with } => share(&ctx, &camera, &with).await,
        Command::Unshare { camera, with } => unshare(&ctx, &camera, &with).await,
        Command::GrantHistory {
            viewer,
            days,
            camera,
        } => grant_history(&ctx, &viewer, days, camera.as_deref()).await,
        Command::Trust(c) => trust(&ctx, c).await,
        Command::Recover {
            server,
            recovery_key_file,
            name,
            revoke_others,
        } => {
            recover(
                &ctx,
                &server,
                recovery_key_file.as_deref(),
                &name,
                revoke_others,
            )
            .await
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "sealcam", &mut buf);
            out(&String::from_utf8_lossy(&buf));
            Ok(())
        }
    }
}

/// Left-aligned columns.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

async fn init(ctx: &Ctx, server: &str, token: &str, name: &str) -> anyhow::Result<()> {
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

async fn whoami(ctx: &Ctx) -> anyhow::Result<()> {
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

async fn pair(ctx: &Ctx, name: &str, no_qr: bool) -> anyhow::Result<()> {
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

async fn cameras(ctx: &Ctx, c: CamerasCommand) -> anyhow::Result<()> {
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
                    &["CAMERA", "NAME", "ROLE", "STATUS", "RETENTION", "EPOCH", "SEALED"],
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
                        Uptake::Unreadable { reason } => format!(
                            "its newest recording does not open on this device ({reason})"
                        ),
                        _ => continue,
                    };
                    s.push_str(&format!("WARNING: camera {}: {why}\n", c.camera_id));
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

fn parts_text(parts: &[sealcam_wire::PartInfo]) -> String {
    parts
        .iter()
        .map(|p| format!("{} {}", p.kind, ui::size(p.payload_size)))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn events(ctx: &Ctx, c: EventsCommand) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    match c {
        EventsCommand::List {
            camera,
            since,
            until,
            limit,
        } => {
            let now = unix_now();
            let camera = match camera {
                Some(c) => Some(client.resolve_camera(&c).await?),
                None => None,
            };
            let filter = EventFilter {
                camera,
                since: since.map(|s| ui::parse_when(&s, now)).transpose()?,
                until: until.map(|s| ui::parse_when(&s, now)).transpose()?,
                limit,
            };
            let mut list = client.events(&filter).await?;
            if let Some(l) = limit {
                list.truncate(l);
            }
            ctx.print(json!({"events": list}), || {
                if list.is_empty() {
                    return "No events.\n".into();
                }
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|e| {
                        vec![
                            e.event_id.to_string(),
                            e.camera_name
                                .clone()
                                .unwrap_or_else(|| e.camera_id.to_string()),
                            rfc3339(e.captured_at),
                            parts_text(&e.parts),
                        ]
                    })
                    .collect();
                table(&["EVENT", "CAMERA", "CAPTURED", "PARTS"], &rows)
            });
            Ok(())
        }
        EventsCommand::Delete { event } => {
            let id = parse_event(&event)?;
            client.delete_event(id).await?;
            ctx.print(json!({"event_id": id, "deleted": true}), || {
                format!("deleted event {id}")
            });
            Ok(())
        }
    }
}

fn parse_event(text: &str) -> anyhow::Result<EventId> {
    text.trim()
        .parse::<EventId>()
        .with_context(|| format!("{text:?} is not an event id (see `sealcam events list`)"))
}

fn part_kind(p: Part) -> PartKind {
    match p {
        Part::Thumbnail => PartKind::Thumbnail,
        Part::Clip => PartKind::Clip,
        Part::Record => PartKind::Record,
    }
}

async fn fetch(ctx: &Ctx, args: FetchArgs) -> anyhow::Result<()> {
    let event = parse_event(&args.event)?;
    let kind = part_kind(args.part);
    let range = args.range.as_deref().map(ui::parse_range).transpose()?;
    let client = ctx.client().await?;
    let bar = ui::Bar::new(ctx.json);
    let progress = |p| bar.update(p);
    let to_stdout = args.output.as_os_str() == "-";
    if to_stdout && std::io::stdout().is_terminal() && !args.force {
        bail!("refusing to write binary to a terminal; use -o FILE, redirect stdout, or --force");
    }
    let outcome = if to_stdout {
        let mut out = std::io::stdout();
        client
            .fetch_to_writer(event, kind, range, &mut out, &progress)
            .await
    } else {
        client
            .fetch_to_path(event, kind, range, &args.output, &progress)
            .await
    };
    bar.finish();
    let outcome = outcome?;
    let written = outcome.range.end - outcome.range.start;
    let summary = format!(
        "wrote {} ({}, {} of event {}, camera {}, captured {}, signature and every chunk verified){}",
        ui::size(written),
        outcome.content_type,
        outcome.kind,
        outcome.event_id,
        outcome.camera_id,
        rfc3339(outcome.captured_at_ms.div_euclid(1000)),
        outcome
            .path
            .as_ref()
            .map(|p| format!(" to {}", p.display()))
            .unwrap_or_default()
    );
    if to_stdout {
        if !ctx.json {
            eprintln!("{summary}");
        }
        return Ok(());
    }
    ctx.print(json!({"fetched": outcome, "bytes": written}), || summary);
    Ok(())
}

async fn viewers(ctx: &Ctx, c: ViewersCommand) -> anyhow::Result<()> {
    match c {
        ViewersCommand::Link {
            server,
            name,
            finish,
        } => {
            if let Some(text) = finish {
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
                        vec![d.device_id.to_string(), d.name.clone(), role]
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
            let mut client = ctx.client().await?;
            let r = client.revoke_viewer(&id).await?;
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
                s
            });
            Ok(())
        }
    }
}

async fn share(ctx: &Ctx, camera: &str, with: &str) -> anyhow::Result<()> {
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

async fn unshare(ctx: &Ctx, camera: &str, with: &str) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let id = client.resolve_camera(camera).await?;
    let account = with
        .trim()
        .parse::<uuid::Uuid>()
        .with_context(|| format!("{with:?} is not an account id"))?;
    let epoch = client.unshare(id, account).await?;
    ctx.print(
        json!({"camera_id": id, "account_id": account, "epoch": epoch}),
        || {
            format!(
                "stopped sharing camera {id} with {account} (recipient set epoch {epoch}); \
                 what the camera records after it syncs is no longer sealed to them"
            )
        },
    );
    Ok(())
}

async fn grant_history(
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

async fn trust(ctx: &Ctx, c: TrustCommand) -> anyhow::Result<()> {
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

async fn recover(
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
            "pruned": r.pruned,
            "record_fingerprint": r.record_fingerprint,
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
            if !r.revoked.is_empty() {
                s.push_str(&format!("revoked {} lost viewer(s)\n", r.revoked.len()));
            }
            let (reset, generation) = d.key_state().position();
            s.push_str(&format!(
                "the owner key is reset (reset {reset}, generation {generation}): every camera takes it at its next sync, and no earlier owner key signs anything more\n"
            ));
            for p in &r.pruned {
                s.push_str(&format!("deleted server credential {} ({:?})\n", p.device_id, p.name));
            }
            s.push_str(&format!(
                "owner record fingerprint {} (it names the cameras' pinned keys; check them with `sealcam cameras list`)\n",
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
