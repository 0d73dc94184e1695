//! Recordings: the `events` subcommands and `fetch`.

use std::io::IsTerminal as _;

use anyhow::{bail, Context as _};
use sealcam_client::time::{rfc3339, unix_now};
use sealcam_client::EventFilter;
use sealcam_keys::EventId;
use sealcam_wire::PartKind;
use serde_json::json;

use super::{table, Ctx};
use crate::cli::{EventsCommand, FetchArgs, Part};
use crate::ui;

fn parts_text(parts: &[sealcam_wire::PartInfo]) -> String {
    parts
        .iter()
        .map(|p| format!("{} {}", p.kind, ui::size(p.payload_size)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) async fn events(ctx: &Ctx, c: EventsCommand) -> anyhow::Result<()> {
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

pub(super) async fn fetch(ctx: &Ctx, args: FetchArgs) -> anyhow::Result<()> {
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
