//! The command line, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// sealcam: end-to-end encrypted media from your cameras.
///
/// Every object is opened only after it is checked to be addressed to this
/// device, to be the object asked for, and to be signed by the camera's
/// pinned key. Exit codes: 0 success, 1 other error, 2 usage, 3 misdelivered
/// or not addressed to this viewer, 4 failed verification, 5 not found,
/// 6 server unreachable or failing, 7 not set up or not authorised,
/// 8 refused as untrusted (pairing proof, forged or rolled-back record).
#[derive(Debug, Parser)]
#[command(name = "sealcam", version, propagate_version = true)]
pub struct Cli {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// The directory holding this identity's keys [default: $SEALCAM_HOME, else ~/.local/share/sealcam].
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Setting up (init, recover, viewers link): trust only this CA (PEM) for
    /// the server's certificate, e.g. a self-hosted server's own CA. Kept
    /// with the device.
    #[arg(long, global = true, env = "SEALCAM_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Setting up: permit plain http:// to a non-loopback server (a LAN you
    /// trust); the device's credential then crosses it unencrypted.
    #[arg(long, global = true)]
    pub allow_http: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up a new account's first device: owner key, viewer key, recovery key.
    Init {
        /// The server, e.g. https://cams.example.net (http:// only to 127.0.0.1
        /// or with --allow-http).
        #[arg(long, env = "SEALCAM_SERVER", value_name = "URL")]
        server: String,
        /// The one-time enrollment token from `sealcam-server accounts create`
        /// (`-`: read it from standard input; `@FILE`: from a file).
        #[arg(long, value_name = "TOKEN")]
        token: String,
        /// This device's name.
        #[arg(long, default_value = "sealcam cli")]
        name: String,
    },
    /// Show this device: account, server, viewer key, and the member code to share with.
    Whoami,
    /// Make a pairing code for a new camera (text and QR code).
    Pair {
        /// A name for the camera.
        #[arg(long)]
        name: String,
        /// Do not draw the QR code.
        #[arg(long)]
        no_qr: bool,
    },
    /// Cameras: confirm pairings, list, retention, accept shared ones.
    #[command(subcommand)]
    Cameras(CamerasCommand),
    /// The timeline: list and delete events.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Download, verify and decrypt a part of an event.
    Fetch(FetchArgs),
    /// A local web viewer: the timeline with thumbnails, clip playback,
    /// downloads and live updates, on 127.0.0.1 behind a one-time link.
    Ui(UiArgs),
    /// Follow new events as cameras store them, each with its verified type.
    Watch(WatchArgs),
    /// Export a camera's events over a time range into a folder, every file
    /// verified, with a manifest (resumes when run again).
    Export(ExportArgs),
    /// This account's viewer devices: link, approve, list, revoke.
    #[command(subcommand)]
    Viewers(ViewersCommand),
    /// Share a camera with a household member (their `sealcam whoami` member code).
    Share {
        /// The camera id or name.
        camera: String,
        /// The member code printed by `sealcam whoami` on the member's device.
        #[arg(long = "with", value_name = "MEMBER_CODE")]
        with: String,
    },
    /// Stop sharing a camera with a household member.
    Unshare {
        /// The camera id or name.
        camera: String,
        /// The member's account id.
        #[arg(long = "with", value_name = "ACCOUNT_ID")]
        with: String,
    },
    /// Let a viewer or member open past recordings (re-wraps headers, no re-upload).
    GrantHistory {
        /// The viewer (id, name or age1 key) or member (account id or name).
        viewer: String,
        /// How many days back.
        #[arg(long)]
        days: u32,
        /// Only this camera (id or name).
        #[arg(long)]
        camera: Option<String>,
    },
    /// Restore the account on a fresh device from the recovery key alone.
    Recover {
        /// The server used at `sealcam init`.
        #[arg(long, env = "SEALCAM_SERVER", value_name = "URL")]
        server: String,
        /// Read the recovery key from this file (default: standard input).
        #[arg(long, value_name = "FILE")]
        recovery_key_file: Option<PathBuf>,
        /// This device's name.
        #[arg(long, default_value = "sealcam cli (recovered)")]
        name: String,
        /// Remove every other viewer, delete their credentials and withdraw every
        /// share with another account: the default. The owner record that names
        /// them comes from the server, which cannot be trusted to say who else
        /// holds access; link the devices and share again afterwards.
        #[arg(long)]
        revoke_others: bool,
        /// Keep the other viewers and shares the owner record names, trusting
        /// the server's copy of it (a server that colludes with a revoked
        /// device can make that copy name the revoked device).
        #[arg(long, conflicts_with = "revoke_others")]
        keep_others: bool,
    },
    /// The owner key: where it stands in the key log; upgrade an older account.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum CamerasCommand {
    /// Check each pending camera's pairing proof, pin its key, publish its first recipient set.
    Confirm,
    /// List cameras.
    List,
    /// Keep a camera's events for N days (or forever).
    Retention {
        /// The camera id or name.
        camera: String,
        /// Days to keep events.
        #[arg(long, conflicts_with = "forever", required_unless_present = "forever")]
        days: Option<u32>,
        /// Keep events forever.
        #[arg(long)]
        forever: bool,
    },
    /// Delete a camera and all its events (also refuses a pending camera).
    Delete {
        /// The camera id or name.
        camera: String,
    },
    /// Accept a camera another owner shared with you (their share code).
    Accept {
        /// The share code printed by `sealcam share`.
        code: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List events, newest first, with what each one's verified record says
    /// (type, labels, duration). A record that is misdelivered or fails
    /// verification is shown as such, never as an event (exit 3 or 4).
    List {
        /// Only this camera (id or name).
        #[arg(long)]
        camera: Option<String>,
        /// Only events since: a duration ago (`2h`, `7d`), a date (`2025-11-24`,
        /// `2025-11-24T10:00:00Z`) or unix seconds.
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// Only events before WHEN.
        #[arg(long, value_name = "WHEN")]
        until: Option<String>,
        /// At most N events.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Only events of this type (`motion`, `person`…; repeatable). Types
        /// are sealed: the filter runs here, after decryption, over the
        /// events of the --since/--until window.
        #[arg(long = "type", value_name = "TYPE")]
        types: Vec<String>,
        /// Only events with this label (repeatable; any of them matches).
        #[arg(long = "label", value_name = "LABEL")]
        labels: Vec<String>,
    },
    /// Delete an event and its parts.
    Delete {
        /// The event id.
        event: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// The still image.
    Thumbnail,
    /// The video clip.
    Clip,
    /// The event record (type, labels, duration).
    Record,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The event id.
    pub event: String,
    /// Which part.
    #[arg(long, value_enum, default_value = "thumbnail")]
    pub part: Part,
    /// Where to write the plaintext (`-` for stdout). It appears only once
    /// everything verified.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Only the body bytes START-END (inclusive, like HTTP; `START-` to the end).
    #[arg(long, value_name = "START-END")]
    pub range: Option<String>,
    /// Write binary to stdout even when it is a terminal.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct UiArgs {
    /// Open the link in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Listen on this address instead of 127.0.0.1 on a random port (a
    /// household hub on the LAN). Any address other than loopback needs
    /// --password.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// The household's viewer password for the login page (at least 12
    /// characters; `-` reads it from standard input, `@FILE` from a file).
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "SEALCAM_UI_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// With --listen beyond loopback: a host name the viewer may be reached
    /// by (repeat for more). IP addresses are always accepted; other names
    /// are refused, so that a web page cannot reach the viewer through DNS
    /// rebinding.
    #[arg(long = "host", value_name = "NAME")]
    pub host: Vec<String>,
    /// Where "Export day" writes (one folder per camera and day).
    #[arg(long, value_name = "DIR", default_value = "sealcam-export")]
    pub export_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Only this camera (id or name).
    #[arg(long)]
    pub camera: Option<String>,
    /// Only events of this type (repeatable).
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// Run this shell command for each event (a desktop notification, say).
    /// It gets SEALCAM_EVENT_ID, SEALCAM_CAMERA_ID, SEALCAM_CAMERA_NAME,
    /// SEALCAM_CAPTURED_AT, SEALCAM_EVENT_TYPE, SEALCAM_LABELS (comma
    /// separated) and SEALCAM_RECORD_STATUS (`verified`, `missing`,
    /// `misdelivered`, `verification_failed`, …; the type and labels are set
    /// only when `verified`). Only `verified` says the camera recorded it:
    /// with `missing` the server announced an event whose record did not
    /// come. Quote the variables ("$SEALCAM_LABELS"): they are data.
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,
    /// Stop after N events.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The camera (id or name).
    #[arg(long)]
    pub camera: String,
    /// Events since WHEN: a duration ago (`2h`, `7d`), a date or unix seconds.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Events before WHEN.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Which parts (repeatable; default: all three).
    #[arg(long = "part", value_enum)]
    pub parts: Vec<Part>,
    /// The folder (created if needed; an interrupted export into it resumes).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Show the owner key this device follows and any sign of an attack on it.
    Status,
    /// Move an account set up before owner trust v2 to it (asks for the
    /// recovery key once): owner keys rotate on every revocation from then on.
    Upgrade {
        /// Read the recovery key from this file (default: standard input).
        #[arg(long, value_name = "FILE")]
        recovery_key_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ViewersCommand {
    /// On a new device: print a link request (then `--finish` with the approval).
    Link {
        /// The account's server.
        #[arg(
            long,
            env = "SEALCAM_SERVER",
            value_name = "URL",
            required_unless_present = "finish"
        )]
        server: Option<String>,
        /// This device's name.
        #[arg(long, default_value = "sealcam cli")]
        name: String,
        /// Finish linking with the approval printed by `sealcam viewers approve`
        /// (`-`: read it from standard input; `@FILE`: from a file).
        #[arg(long, value_name = "APPROVAL")]
        finish: Option<String>,
    },
    /// On a device already set up: approve a link request.
    Approve {
        /// The link request printed by `sealcam viewers link`.
        code: String,
    },
    /// List this account's viewers.
    List,
    /// Revoke a viewer: the owner key rotates, new recipient sets without
    /// it, its credential deleted.
    ///
    /// If it stops part-way (the server unreachable, a write refused), the
    /// next `sealcam` command on this device finishes it; until then the
    /// account's other devices may refuse the owner record.
    Revoke {
        /// The viewer id (or a unique prefix, its name or its age1 key).
        id: String,
    },
}
