//! Following and taking out recordings: `watch` and `export`.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use sealcam_client::time::{rfc3339, unix_now};
use sealcam_client::{ExportProgress, ExportRequest, RecordState, TimelineEntry};
use sealcam_wire::PartKind;
use serde_json::json;

use super::events::{captured_text, part_kind, what_text};
use super::{out, Ctx};
use crate::cli::{ExportArgs, WatchArgs};
use crate::ui;

/// Runs `--exec` for one event, without waiting for it (a slow notifier
/// must not hold up the watch); its exit status is reaped on a thread.
fn run_hook(cmd: &str, entry: &TimelineEntry) {
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .env("SEALCAM_EVENT_ID", entry.event.event_id.to_string())
        .env("SEALCAM_CAMERA_ID", entry.event.camera_id.to_string())
        .env(
            "SEALCAM_CAMERA_NAME",
            entry.event.camera_name.clone().unwrap_or_default(),
        )
        .env("SEALCAM_CAPTURED_AT", captured_text(entry))
        .env("SEALCAM_RECORD_STATUS", entry.record.status())
        .env_remove("SEALCAM_EVENT_TYPE")
        .env_remove("SEALCAM_LABELS")
        .stdin(std::process::Stdio::null());
    if let Some(record) = entry.record.record() {
        command
            .env("SEALCAM_EVENT_TYPE", &record.event_type)
            .env("SEALCAM_LABELS", record.labels.join(","));
    }
    match command.spawn() {
        Ok(mut child) => {
            std::thread::spawn(move || {
                if let Ok(status) = child.wait() {
                    if !status.success() {
                        eprintln!("warning: --exec command exited with {status}");
                    }
                }
            });
        }
        Err(e) => eprintln!("warning: could not run --exec command: {e}"),
    }
}

pub(super) async fn watch(ctx: &Ctx, args: WatchArgs) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let camera = match &args.camera {
        Some(c) => Some(client.resolve_camera(c).await?),
        None => None,
    };
    let mut watcher = client.watch(camera);
    watcher.start().await?;
    // On stderr in both modes: scripts (and tests) wait for this line.
    eprintln!("watching for new events (Ctrl-C to stop)…");
    let mut shown = 0u64;
    while args.count.is_none_or(|n| shown < n) {
        let entry = watcher.next().await?;
        let wanted = args.types.is_empty()
            || entry.record.record().is_some_and(|r| {
                args.types
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(&r.event_type))
            });
        // A refused record is always told: it may be an attack.
        let refused = matches!(entry.record, RecordState::Refused(_));
        if !wanted && !refused {
            continue;
        }
        if ctx.json {
            out(&format!("{}\n", json!(entry)));
        } else {
            out(&format!(
                "{}  {}  {}  event {}\n",
                captured_text(&entry),
                entry
                    .event
                    .camera_name
                    .clone()
                    .unwrap_or_else(|| entry.event.camera_id.to_string()),
                what_text(&entry.record),
                entry.event.event_id
            ));
        }
        if let RecordState::Refused(e) = &entry.record {
            eprintln!("warning: event {}: {e}", entry.event.event_id);
        }
        if let Some(cmd) = &args.exec {
            run_hook(cmd, &entry);
        }
        shown += 1;
    }
    Ok(())
}

/// A bar counting parts, on stderr when it is a terminal and output is not
/// JSON.
fn parts_bar(json: bool) -> Option<ProgressBar> {
    (!json && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} parts {eta}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message("exporting");
        bar
    })
}

pub(super) async fn export(ctx: &Ctx, args: ExportArgs) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let now = unix_now();
    let camera = client.resolve_camera(&args.camera).await?;
    let kinds = if args.parts.is_empty() {
        vec![PartKind::Thumbnail, PartKind::Clip, PartKind::Record]
    } else {
        args.parts.iter().copied().map(part_kind).collect()
    };
    let req = ExportRequest {
        camera,
        since: args.since.map(|s| ui::parse_when(&s, now)).transpose()?,
        until: args.until.map(|s| ui::parse_when(&s, now)).transpose()?,
        kinds,
    };
    let bar = parts_bar(ctx.json);
    let progress = |p: ExportProgress| {
        let Some(bar) = &bar else { return };
        match p {
            ExportProgress::Listed { parts } => bar.set_length(parts),
            ExportProgress::Part { done, .. } => bar.set_position(done),
            _ => {}
        }
    };
    let outcome = client
        .export(&req, &args.output, &progress)
        .await
        .with_context(|| format!("exporting into {}", args.output.display()));
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let outcome = outcome?;
    ctx.print(json!({"export": outcome}), || {
        format!(
            "exported {} file(s), {} — each verified as it was written ({} kept from an earlier run: their SHA-256 matches that run's manifest; {} refused); manifest {}{}",
            outcome.written,
            ui::size(outcome.bytes),
            outcome.kept,
            outcome.refused,
            outcome.manifest.display(),
            req.since.map(|s| format!(", since {}", rfc3339(s))).unwrap_or_default(),
        )
    });
    if outcome.refused > 0 {
        anyhow::bail!(
            "{} part(s) were refused (misdelivered or failed verification) and not written; the manifest's `refused` lists them",
            outcome.refused
        );
    }
    Ok(())
}
