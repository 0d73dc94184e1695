//! Each command: call the app SDK, print the result (text or `--json`).
//! One module per family of subcommands; this one holds what they share.

mod cameras;
mod events;
mod follow;
mod setup;
mod viewers;

use std::io::Write as _;

use anyhow::Context as _;
use sealcam_client::{Client, Finished, Home, Transport, TrustReport};

use crate::cli::{Cli, Command};

struct Ctx {
    json: bool,
    home: Home,
}

impl Ctx {
    /// The device set up here, after following the account's key log; signs
    /// of an attack on the owner key are printed on stderr.
    async fn client(&self) -> anyhow::Result<Client> {
        Ok(self.client_and_report().await?.0)
    }

    /// [`client`](Self::client), and what following the key log did.
    async fn client_and_report(&self) -> anyhow::Result<(Client, TrustReport)> {
        let (client, report) = Client::connect(self.home.clone()).await?;
        if let Some((from, to)) = report.moved {
            eprintln!(
                "note: the owner key moved from reset {}, generation {} to reset {}, generation {} (a viewer was revoked, a share taken back, or the account recovered)",
                from.0, from.1, to.0, to.1
            );
        }
        for w in &report.warnings {
            eprintln!("warning: {w} — if nobody in this household did this, run `sealcam recover --revoke-others`");
        }
        let finished = match &report.finished {
            Some(Finished::Revocation(r)) => Some((
                format!("revoking {:?} ({})", r.name, r.id),
                Some(r.key_position),
                viewers::removal_notes(&r.unpublished, &r.left_out),
            )),
            Some(Finished::Unshare(u)) => Some((
                format!("unsharing camera {} with {}", u.camera_id, u.account_id),
                u.key_position,
                viewers::removal_notes(&u.unpublished, &u.left_out),
            )),
            None => None,
        };
        if let Some((what, position, notes)) = finished {
            let (reset, generation) = position.unwrap_or_default();
            eprintln!(
                "note: finished {what}, which stopped part-way on this device: the owner key is at reset {reset}, generation {generation}"
            );
            for (kind, line) in notes {
                eprintln!("{kind}: {line}");
            }
        }
        if let Some(e) = &report.unfinished {
            eprintln!("warning: a revocation started on this device is not finished ({e}); until it is, the account's other devices may refuse its owner record. Every command tries again");
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
        Ok((client, report))
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

/// A secret given on the command line, or — so that `ps` and the shell's
/// history never see it — `-` to read it from standard input, or `@FILE` to
/// read it from a file (its first line, trimmed).
pub fn secret_arg(value: &str, what: &str) -> anyhow::Result<zeroize::Zeroizing<String>> {
    use std::io::Read as _;
    let text = if value == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .with_context(|| format!("reading the {what} from standard input"))?;
        s
    } else if let Some(file) = value.strip_prefix('@') {
        std::fs::read_to_string(file).with_context(|| format!("reading the {what} from {file}"))?
    } else {
        return Ok(zeroize::Zeroizing::new(value.trim().to_owned()));
    };
    let text = zeroize::Zeroizing::new(text);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.is_empty() {
        anyhow::bail!("no {what} was given (the input was empty)");
    }
    Ok(zeroize::Zeroizing::new(line.to_owned()))
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
    let ca_pem = match &cli.ca_file {
        Some(file) => Some(
            std::fs::read_to_string(file)
                .with_context(|| format!("reading the CA file {}", file.display()))?,
        ),
        None => None,
    };
    let home = home.with_transport(Transport {
        ca_pem,
        allow_http: cli.allow_http,
    });
    let ctx = Ctx {
        json: cli.json,
        home,
    };
    match cli.command {
        Command::Init {
            server,
            token,
            name,
        } => {
            let token = secret_arg(&token, "enrollment token")?;
            setup::init(&ctx, &server, &token, &name).await
        }
        Command::Whoami => setup::whoami(&ctx).await,
        Command::Pair { name, no_qr } => cameras::pair(&ctx, &name, no_qr).await,
        Command::Cameras(c) => cameras::cameras(&ctx, c).await,
        Command::Events(c) => events::events(&ctx, c).await,
        Command::Fetch(args) => events::fetch(&ctx, args).await,
        Command::Watch(args) => follow::watch(&ctx, args).await,
        Command::Ui(args) => crate::viewer::serve(ctx.client().await?, args, ctx.json).await,
        Command::Export(args) => follow::export(&ctx, args).await,
        Command::Viewers(c) => viewers::viewers(&ctx, c).await,
        Command::Share { camera, with } => viewers::share(&ctx, &camera, &with).await,
        Command::Unshare { camera, with } => viewers::unshare(&ctx, &camera, &with).await,
        Command::GrantHistory {
            viewer,
            days,
            camera,
        } => viewers::grant_history(&ctx, &viewer, days, camera.as_deref()).await,
        Command::Trust(c) => setup::trust(&ctx, c).await,
        Command::Recover {
            server,
            recovery_key_file,
            name,
            revoke_others: _,
            keep_others,
        } => {
            setup::recover(
                &ctx,
                &server,
                recovery_key_file.as_deref(),
                &name,
                !keep_others,
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
