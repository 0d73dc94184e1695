//! Terminal helpers: progress bars (only on a terminal), QR codes, times.

use std::io::IsTerminal as _;
use std::ops::Range;

use anyhow::{bail, Context as _};
use indicatif::{ProgressBar, ProgressStyle};
use sealcam_client::Progress;

/// A progress bar on stderr when it is a terminal and output is not JSON;
/// otherwise nothing is drawn.
pub struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    pub fn new(json: bool) -> Self {
        let bar = (!json && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            if let Ok(style) = ProgressStyle::with_template(
                "{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Self { bar }
    }

    pub fn update(&self, p: Progress) {
        let Some(bar) = &self.bar else { return };
        match p {
            Progress::Downloading { done, total } => {
                bar.set_message("verifying");
                bar.set_length(total);
                bar.set_position(done);
            }
            Progress::Writing { done, total } => {
                bar.set_message("decrypting");
                bar.set_length(total);
                bar.set_position(done);
            }
            _ => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The QR code of `text` drawn with half blocks, dark on light.
pub fn qr(text: &str) -> anyhow::Result<String> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::L)
        .context("the pairing code does not fit in a QR code")?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// Parses WHEN: a duration ago (`2h`, `7d`, `1week`), a date or RFC 3339
/// time, or unix seconds.
pub fn parse_when(text: &str, now: i64) -> anyhow::Result<i64> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<i64>() {
        return Ok(secs);
    }
    if let Ok(d) = humantime::parse_duration(t) {
        return Ok(now - i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2));
    }
    let full = if t.len() == 10 {
        format!("{t}T00:00:00Z")
    } else {
        t.to_owned()
    };
    if let Ok(at) = humantime::parse_rfc3339_weak(full.trim_end_matches('Z')) {
        if let Ok(d) = at.duration_since(std::time::UNIX_EPOCH) {
            return Ok(i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        }
    }
    bail!("cannot read {text:?} as a time: use a duration ago (2h, 7d), a date (2025-11-24), an RFC 3339 time or unix seconds")
}

/// Parses `START-END` (inclusive) or `START-` into a half-open range.
pub fn parse_range(text: &str) -> anyhow::Result<Range<u64>> {
    let bad = || {
        anyhow::anyhow!(
            "cannot read the range {text:?}: use START-END (inclusive byte offsets) or START-"
        )
    };
    let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
    let start: u64 = a.trim().parse().map_err(|_| bad())?;
    let end = if b.trim().is_empty() {
        u64::MAX
    } else {
        let last: u64 = b.trim().parse().map_err(|_| bad())?;
        if last < start {
            return Err(bad());
        }
        last.saturating_add(1)
    };
    Ok(start..end)
}

/// A short, human size.
pub fn size(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_forms() {
        let now = 1_000_000;
        assert_eq!(parse_when("2h", now).unwrap(), now - 7200);
        assert_eq!(parse_when("7d", now).unwrap(), now - 7 * 86_400);
        assert_eq!(parse_when("1700000000", now).unwrap(), 1_700_000_000);
        assert_eq!(parse_when("1970-01-02", now).unwrap(), 86_400);
        assert_eq!(parse_when("1970-01-01T01:00:00Z", now).unwrap(), 3600);
        assert!(parse_when("yesterday-ish", now).is_err());
    }

    #[test]
    fn range_forms() {
        assert_eq!(parse_range("0-99").unwrap(), 0..100);
        assert_eq!(parse_range("100-").unwrap(), 100..u64::MAX);
        assert!(parse_range("9-1").is_err());
        assert!(parse_range("x").is_err());
    }

    #[test]
    fn qr_draws() {
        let q = qr("SEALCAM1ABC").unwrap();
        assert!(q.lines().count() > 10);
    }
}
