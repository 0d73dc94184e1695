//! Recordings: the `events` subcommands and `fetch`.

use std::io::IsTerminal as _;

use anyhow::{bail, Context as _};
use sealcam_client::time::{rfc3339, unix_now};
use sealcam_client::{ClientError, EventFilter, RecordState, TimelineEntry};
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

/// Whether a timeline entry passes the `--type`/`--label` filters (an entry
/// without a verified record never does when one is given).
fn wanted(entry: &TimelineEntry, types: &[String], labels: &[String]) -> bool {
    if types.is_empty() && labels.is_empty() {
        return true;
    }
    let Some(record) = entry.record.record() else {
        return false;
    };
    (types.is_empty()
        || types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&record.event_type)))
        && (labels.is_empty()
            || labels
                .iter()
                .any(|l| record.labels.iter().any(|r| r.eq_ignore_ascii_case(l))))
}

/// The WHAT column: the verified type and labels, or why there are none.
pub(super) fn what_text(state: &RecordState) -> String {
    match state {
        RecordState::Verified { record, .. } if record.labels.is_empty() => {
            printable(&record.event_type)
        }
        RecordState::Verified { record, .. } => printable(&format!(
            "{} ({})",
            record.event_type,
            record.labels.join(", ")
        )),
        RecordState::Missing => "(no record)".into(),
        RecordState::Refused(ClientError::Misdelivered(_)) => "!! MISDELIVERED — not shown".into(),
        RecordState::Refused(ClientError::Verification(_)) => "!! TAMPERED — not shown".into(),
        RecordState::Refused(ClientError::Protocol(_)) => "!! INVALID RECORD — not shown".into(),
        RecordState::Refused(_) => "(record unavailable)".into(),
    }
}

/// `text` with control characters (terminal escapes among them) replaced:
/// a record's words are the camera's, and a compromised camera could
/// otherwise write escape sequences to the viewer's terminal.
pub(super) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

fn duration_text(state: &RecordState) -> String {
    match state.record().and_then(|r| r.duration_ms) {
        Some(ms) => format!("{}.{}s", ms / 1000, (ms % 1000) / 100),
        None => String::new(),
    }
}

/// The time to show: the camera's signed capture time when the record
/// verified, else the server's (to the minute).
pub(super) fn captured_text(entry: &TimelineEntry) -> String {
    match &entry.record {
        RecordState::Verified { captured_at_ms, .. } => rfc3339(captured_at_ms.div_euclid(1000)),
        _ => rfc3339(entry.event.captured_at),
    }
}

/// The error to exit with once the list is printed: misdelivery first (3),
/// then failed verification (4), then anything else that kept a record
/// from being read.
fn worst_refusal(entries: Vec<TimelineEntry>) -> Option<(ClientError, usize)> {
    let mut refused: Vec<ClientError> = entries
        .into_iter()
        .filter_map(|e| match e.record {
            RecordState::Refused(err) => Some(err),
            _ => None,
        })
        .collect();
    let count = refused.len();
    let rank = |e: &ClientError| match e {
        ClientError::Misdelivered(_) => 0,
        ClientError::Verification(_) => 1,
        _ => 2,
    };
    refused.sort_by_key(rank);
    refused.into_iter().next().map(|e| (e, count))
}

pub(super) async fn events(ctx: &Ctx, c: EventsCommand) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    match c {
        EventsCommand::List {
            camera,
            since,
            until,
            limit,
            types,
            labels,
        } => {
            let now = unix_now();
            let camera = match camera {
                Some(c) => Some(client.resolve_camera(&c).await?),
                None => None,
            };
            let sealed_filter = !types.is_empty() || !labels.is_empty();
            let filter = EventFilter {
                camera,
                since: since.map(|s| ui::parse_when(&s, now)).transpose()?,
                until: until.map(|s| ui::parse_when(&s, now)).transpose()?,
                // The type is sealed: with a type filter the server cannot
                // stop at N, the window is listed and filtered here.
                limit: if sealed_filter { None } else { limit },
            };
            let mut list = client.events(&filter).await?;
            if let (Some(l), false) = (limit, sealed_filter) {
                list.truncate(l);
            }
            let mut entries: Vec<TimelineEntry> = client
                .with_records(list)
                .await
                .into_iter()
                .filter(|e| wanted(e, &types, &labels))
                .collect();
            if let Some(l) = limit {
                entries.truncate(l);
            }
            ctx.print(json!({"events": entries}), || {
                if entries.is_empty() {
                    return "No events.\n".into();
                }
                let rows: Vec<Vec<String>> = entries
                    .iter()
                    .map(|e| {
                        vec![
                            e.event.event_id.to_string(),
                            e.event
                                .camera_name
                                .clone()
                                .unwrap_or_else(|| e.event.camera_id.to_string()),
                            captured_text(e),
                            what_text(&e.record),
                            duration_text(&e.record),
                            parts_text(&e.event.parts),
                        ]
                    })
                    .collect();
                table(
                    &["EVENT", "CAMERA", "CAPTURED", "WHAT", "DURATION", "PARTS"],
                    &rows,
                )
            });
            if let Some((err, count)) = worst_refusal(entries) {
                return Err(anyhow::Error::new(err).context(format!(
                    "{count} event record(s) were refused and are not shown"
                )));
            }
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

pub(super) fn part_kind(p: Part) -> PartKind {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_from_a_record_do_not_reach_the_terminal() {
        assert_eq!(
            printable("person\u{1b}]0;owned\u{7}"),
            "person\u{fffd}]0;owned\u{fffd}"
        );
        assert_eq!(printable("Vorgarten — Person"), "Vorgarten — Person");
    }
}
