//! `sealcam-device`: a camera simulator for demos, tests and load, built on
//! the device SDK.
//!
//! ```text
//! sealcam-device --state DIR pair CODE
//! sealcam-device --state DIR sync
//! sealcam-device --state DIR record --thumbnail FILE [--clip FILE] [--record JSON]
//! sealcam-device --state DIR drain
//! ```
//!
//! (A fleet of cameras reconnecting at once after an outage is the
//! `sealcam-storm` command of the end-to-end crate, `tests/`.)

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::{Parser, Subcommand};

use sealcam_device::{
    Delivery, Device, DeviceConfig, DeviceError, EventRecord, NewEvent, Notice, PartOutcome,
    SpoolLimits, SyncOutcome, TransportPolicy,
};

#[derive(Parser)]
#[command(
    name = "sealcam-device",
    version,
    about = "A sealcam camera simulator: pair, sync, record, drain"
)]
struct Cli {
    /// The camera's state directory (device key, pairing, recipient set, spool).
    #[arg(long, global = true, env = "SEALCAM_DEVICE_STATE")]
    state: Option<PathBuf>,
    /// The spool's size limit in MiB.
    #[arg(long, global = true, default_value_t = 256)]
    spool_mib: u64,
    /// Trust only the CAs in this PEM file for the server's certificate
    /// (default: the bundled Mozilla roots).
    #[arg(
        long,
        global = true,
        env = "SEALCAM_DEVICE_CA_FILE",
        value_name = "FILE"
    )]
    ca_file: Option<PathBuf>,
    /// Permit plain http:// to a non-loopback server (a LAN you trust).
    #[arg(long, global = true)]
    allow_http: bool,
    /// Print the process's peak resident set size (`peak_rss_kib=N`) to stderr at exit (for benchmarks).
    #[arg(long, global = true, hide = true)]
    report_peak_rss: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pair with the owner who showed CODE (`SEALCAM1…`; `-` reads it from
    /// standard input, `@FILE` from a file); prints the camera id.
    Pair {
        /// The pairing code.
        code: String,
    },
    /// Fetch and check the recipient set (refused sets are reported, the last good set is kept).
    Sync,
    /// Ask the server whether the owner confirmed this camera.
    Status,
    /// Seal and upload one event; prints its id.
    Record {
        /// The thumbnail (a JPEG).
        #[arg(long)]
        thumbnail: PathBuf,
        /// The clip (`-` reads standard input); streamed, any length.
        #[arg(long)]
        clip: Option<PathBuf>,
        /// The event record: inline JSON (`{"type":"motion",...}`) or `@FILE`.
        #[arg(long)]
        record: Option<String>,
        /// Seal into the spool without trying the server (a later `drain` uploads it).
        #[arg(long)]
        spool_only: bool,
        /// Do not sync the recipient set first.
        #[arg(long)]
        no_sync: bool,
        /// The capture time, unix seconds (default: now), as a camera that
        /// recorded while offline reports it.
        #[arg(long, value_name = "UNIX_SECONDS")]
        captured_at: Option<i64>,
    },
    /// Upload what the spool holds, oldest first, with backoff.
    Drain {
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 60)]
        max_wait: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let report_rss = cli.report_peak_rss;
    let result = run(cli);
    if report_rss {
        if let Some(kib) = peak_rss_kib() {
            eprintln!("peak_rss_kib={kib}");
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealcam-device: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let ca_pem = match &cli.ca_file {
        Some(f) => Some(std::fs::read(f).with_context(|| format!("reading {}", f.display()))?),
        None => None,
    };
    let config = DeviceConfig {
        spool: SpoolLimits {
            max_bytes: cli.spool_mib * 1024 * 1024,
            ..SpoolLimits::default()
        },
        transport: TransportPolicy {
            ca_pem,
            allow_insecure_http: cli.allow_http,
        },
        ..DeviceConfig::default()
    };
    let state = cli.state;
    let open = || -> Result<(Device, PathBuf)> {
        let Some(state) = state.clone() else {
            bail!("--state DIR is required (the camera's state directory)");
        };
        let mut device = Device::open(&state, config.clone())
            .with_context(|| format!("opening the camera state in {}", state.display()))?;
        device.set_observer(print_notice);
        Ok((device, state))
    };
    match cli.command {
        Command::Pair { code } => {
            let code = code_arg(&code)?;
            let (mut device, state) = open()?;
            let (camera, owner) = device.pair(&code).context("pairing")?;
            eprintln!(
                "paired as camera {camera} of owner {owner}; device key fingerprint {}",
                device.device_public_key()?.fingerprint()
            );
            eprintln!(
                "waiting for the owner to confirm; then run `sealcam-device --state {} sync`",
                state.display()
            );
            println!("{camera}");
        }
        Command::Sync => sync(&mut open()?.0)?,
        Command::Status => {
            let (device, _) = open()?;
            let status = device.status()?;
            println!("{}", serde_json::to_string(&status)?.trim_matches('"'));
        }
        Command::Record {
            thumbnail,
            clip,
            record,
            spool_only,
            no_sync,
            captured_at,
        } => {
            let (mut device, _) = open()?;
            if !no_sync && !spool_only {
                if let Err(e) = device.sync() {
                    // Offline: seal to the last good set and spool.
                    eprintln!("could not sync the recipient set ({e}); using the last good set");
                }
            }
            let jpeg = std::fs::read(&thumbnail)
                .with_context(|| format!("reading {}", thumbnail.display()))?;
            let record = match record {
                None => None,
                Some(text) => Some(parse_record(&text)?),
            };
            let mut clip_source: Option<Box<dyn Read>> = match clip {
                None => None,
                Some(p) if p.as_os_str() == "-" => Some(Box::new(io::stdin().lock())),
                Some(p) => Some(Box::new(
                    File::open(&p).with_context(|| format!("opening {}", p.display()))?,
                )),
            };
            let mut event = NewEvent::now().thumbnail(&jpeg);
            if let Some(t) = captured_at {
                event.captured_at_ms = t.saturating_mul(1000);
            }
            if let Some(src) = clip_source.as_mut() {
                event = event.clip(src.as_mut());
            }
            if let Some(r) = &record {
                event = event.record(r);
            }
            if spool_only {
                event = event.delivery(Delivery::SpoolOnly);
            }
            let report = match device.record(event) {
                Err(DeviceError::NoRecipientSet) => bail!(
                    "no recipient set yet: the owner must confirm this camera first (then `sync`)"
                ),
                other => other?,
            };
            for part in &report.parts {
                if let PartOutcome::Lost(reason) = part.outcome {
                    eprintln!(
                        "{} of event {} was lost: {reason:?}",
                        part.kind, report.event
                    );
                }
            }
            println!("{}", report.event);
        }
        Command::Drain { max_wait } => {
            let (mut device, _) = open()?;
            let r = device.drain(Duration::from_secs(max_wait))?;
            eprintln!(
                "delivered {} (already stored {}), retried {}, rejected {}, remaining {}{}",
                r.delivered,
                r.already_stored,
                r.retried,
                r.rejected,
                r.remaining,
                if r.blocked {
                    " (the server refuses this camera)"
                } else {
                    ""
                }
            );
            if r.remaining > 0 {
                bail!("{} parts are still spooled", r.remaining);
            }
        }
    }
    Ok(())
}

fn sync(device: &mut Device) -> Result<()> {
    match device.sync().context("syncing the recipient set")? {
        SyncOutcome::Updated { to, .. } => println!("epoch {to}"),
        SyncOutcome::Unchanged { epoch } => println!("epoch {epoch} (unchanged)"),
        SyncOutcome::NotPublished => {
            bail!("the owner has not published a recipient set for this camera yet")
        }
        SyncOutcome::Refused { reason, kept } => {
            match kept {
                Some(e) => println!("epoch {e} (kept)"),
                None => println!("no recipient set"),
            }
            bail!("refused the recipient set the server offered: {reason}")
        }
        _ => {}
    }
    Ok(())
}

fn parse_record(text: &str) -> Result<EventRecord> {
    let json = match text.strip_prefix('@') {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {path}"))?,
        None => text.as_bytes().to_vec(),
    };
    Ok(EventRecord::from_json(&json)?)
}

fn print_notice(n: &Notice) {
    match n {
        Notice::Uploaded {
            kind,
            bytes,
            created,
            ..
        } => {
            eprintln!(
                "uploaded {kind} ({bytes} sealed bytes{})",
                if *created { "" } else { ", already stored" }
            )
        }
        Notice::Spooled { kind, bytes, .. } => eprintln!("spooled {kind} ({bytes} sealed bytes)"),
        Notice::Lost(l) => eprintln!(
            "lost {} of event {} ({} bytes): {:?}",
            l.kind, l.event, l.bytes, l.reason
        ),
        Notice::Retrying { after, why } => {
            eprintln!("server unavailable ({why}); next try in {after:.1?}")
        }
        Notice::Blocked { status, message } => {
            eprintln!("the server refuses this camera ({status}: {message})")
        }
        Notice::RecipientSetUpdated { from, to } => match from {
            Some(f) => eprintln!("recipient set epoch {f} -> {to}"),
            None => eprintln!("recipient set epoch {to}"),
        },
        Notice::RecipientSetRefused { reason, kept } => {
            eprintln!("REFUSED a recipient set: {reason}; still sealing to epoch {kept:?}")
        }
        Notice::OwnerKeyChanged { from, to } => eprintln!(
            "owner key moved from reset {}, generation {} to reset {}, generation {}",
            from.0, from.1, to.0, to.1
        ),
        Notice::KeyStatementRefused { index, reason } => {
            eprintln!("REFUSED statement {index} of the owner's key log as sent: {reason}")
        }
        Notice::KeyLogRefused { reason } => {
            eprintln!("REFUSED the owner's key log: {reason}")
        }
        Notice::RecipientSetExpired { epoch, expires_at } => eprintln!(
            "recipient set epoch {epoch} expired at {expires_at}: sealing to the recovery key alone until the owner renews it"
        ),
        Notice::RecipientSetRetired {
            epoch,
            signed_under,
            current,
        } => eprintln!(
            "recipient set epoch {epoch} was signed under owner key {signed_under:?}, since replaced by {current:?}: sealing to the recovery key alone until the new key's set arrives (a v1 set names none: recordings are refused)"
        ),
        _ => {}
    }
}

/// The pairing code: the argument, or `-` for standard input, `@FILE` for a
/// file (so that `ps` does not show it).
fn code_arg(value: &str) -> Result<String> {
    use std::io::Read as _;
    let text = match value {
        "-" => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading the pairing code from standard input")?;
            s
        }
        v => match v.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(file)
                .with_context(|| format!("reading the pairing code from {file}"))?,
            None => return Ok(v.to_owned()),
        },
    };
    Ok(text.trim().to_owned())
}

/// Peak resident set size of this process (Linux `VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
