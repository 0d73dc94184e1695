//! The `sealcam-server` command: a thin shell around the library.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use sealcam_server::{config, Config, Server};
use tracing_subscriber::EnvFilter;

/// sealcam's blind blob server: stores sealed camera media it cannot open.
#[derive(Debug, Parser)]
#[command(name = "sealcam-server", version)]
struct Cli {
    /// TOML configuration file (see `default-config`).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory for the SQLite database and blobs [default: the user's data dir].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (default: SQLite + local blobs in the data dir, on 127.0.0.1:7443).
    Serve {
        /// API listen address.
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Metrics listen address.
        #[arg(long, value_name = "ADDR")]
        metrics_listen: Option<SocketAddr>,
    },
    /// Print the annotated default configuration (TOML).
    DefaultConfig,
    /// Print the OpenAPI document (JSON).
    Openapi,
    /// Manage accounts.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Copy every blob the database names from one blob store to another
    /// (e.g. the local directory to S3), verifying each copy against the
    /// digest recorded at upload. Resumable: run it again after an
    /// interruption, and once more after stopping the servers, before
    /// switching `storage.url` (docs/SCALE-OUT.md).
    MigrateStore {
        /// Source store: a directory, file:///DIR or s3://BUCKET[/PREFIX].
        #[arg(long, value_name = "URL")]
        from: String,
        /// Target store: a directory, file:///DIR or s3://BUCKET[/PREFIX]
        /// (S3 settings from [storage.s3] and the AWS environment).
        #[arg(long, value_name = "URL")]
        to: String,
        /// Blobs copied at once.
        #[arg(long, default_value_t = 4)]
        parallel: usize,
        /// Print the final report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AccountsCommand {
    /// Create an account and print its one-time enrollment token.
    Create {
        /// A name for the account (for the operator).
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let mut config = Config::load(cli.config.as_deref()).context("loading the configuration")?;
    if let Some(dir) = &cli.data_dir {
        config.server.data_dir = Some(dir.clone());
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match &cli.command {
        Command::DefaultConfig => {
            print!("{}", config::DEFAULT_CONFIG);
        }
        Command::Openapi => {
            print!("{}", sealcam_server::openapi::json());
        }
        Command::Accounts {
            command: AccountsCommand::Create { name, json },
        } => {
            let config = load_config(&cli)?;
            let db = sealcam_server::open_database(&config).await?;
            let account = sealcam_server::create_account(db.as_ref(), &config, name).await?;
            if *json {
                println!("{}", serde_json::to_string(&account)?);
            } else {
                println!("account {} ({})", account.account_id, account.name);
                println!(
                    "enrollment token (one-time, keep it secret): {}",
                    account.enrollment_token
                );
            }
        }
        Command::MigrateStore {
            from,
            to,
            parallel,
            json,
        } => {
            let config = load_config(&cli)?;
            migrate_store(&config, from, to, *parallel, *json).await?;
        }
        Command::Serve {
            listen,
            metrics_listen,
        } => {
            let mut config = load_config(&cli)?;
            if let Some(listen) = listen {
                config.server.listen = *listen;
            }
            if let Some(metrics_listen) = metrics_listen {
                config.server.metrics_listen = *metrics_listen;
            }
            tracing::info!(data_dir = %config.data_dir().display(), "starting");
            // Every connection and open blob is a descriptor; a storm of
            // reconnecting cameras needs more than the common soft limit
            // of 1024. Raise it to the hard limit, as nginx's
            // worker_rlimit_nofile or Go's runtime do.
            match rlimit::increase_nofile_limit(u64::MAX) {
                Ok(n) => tracing::info!(open_files = n, "descriptor limit"),
                Err(e) => tracing::warn!(error = %e, "could not raise the descriptor limit"),
            }
            let server = Server::bind(config).await?;
            // Machine-readable lines on stdout, for scripts and tests. A closed
            // stdout must not stop the server, so write errors are ignored.
            let mut banner = format!("sealcam-server listening on {}\n", server.addr());
            if let Some(metrics) = server.metrics_addr() {
                banner.push_str(&format!("sealcam-server metrics on {metrics}\n"));
            }
            let mut stdout = std::io::stdout();
            let _ = stdout
                .write_all(banner.as_bytes())
                .and_then(|()| stdout.flush());
            server.run(shutdown_signal()).await?;
        }
    }
    Ok(())
}

async fn migrate_store(
    config: &Config,
    from: &str,
    to: &str,
    parallel: usize,
    json: bool,
) -> anyhow::Result<()> {
    use sealcam_server::blobs::BlobStore;
    let local_from = from.strip_prefix("file://").unwrap_or(from);
    if !from.contains("://") || from.starts_with("file://") {
        anyhow::ensure!(
            std::path::Path::new(local_from).is_dir(),
            "--from {from}: no such directory (the blob directory is <data_dir>/blobs)"
        );
    }
    let db = sealcam_server::open_database(config).await?;
    let source = BlobStore::from_url(from, &config.storage.s3)
        .with_context(|| format!("opening the source store {from}"))?;
    let target = BlobStore::from_url(to, &config.storage.s3)
        .with_context(|| format!("opening the target store {to}"))?;
    if source.describe() == target.describe() {
        anyhow::bail!(
            "--from and --to name the same store ({})",
            source.describe()
        );
    }
    tracing::info!(
        from = source.describe(),
        to = target.describe(),
        "migrating blobs"
    );
    let report =
        sealcam_server::migrate::migrate_store(db.as_ref(), &source, &target, parallel, |r| {
            tracing::info!(
                blobs = r.blobs,
                copied = r.copied,
                already = r.already,
                bytes = r.bytes,
                failed = r.failed.len(),
                "progress"
            );
        })
        .await?;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "blobs": report.blobs,
                "copied": report.copied,
                "already": report.already,
                "bytes": report.bytes,
                "failed": report.failed.iter()
                    .map(|(key, why)| serde_json::json!({"key": key, "reason": why}))
                    .collect::<Vec<_>>(),
            })
        );
    } else {
        println!(
            "{} blobs: {} copied and verified ({} bytes), {} already in place and verified, {} failed",
            report.blobs,
            report.copied,
            report.bytes,
            report.already,
            report.failed.len()
        );
        for (key, why) in &report.failed {
            println!("failed: {key}: {why}");
        }
    }
    if !report.failed.is_empty() {
        anyhow::bail!(
            "{} blobs were not copied; fix them and run migrate-store again before switching storage.url",
            report.failed.len()
        );
    }
    Ok(())
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM"),
                _ = int.recv() => tracing::info!("SIGINT"),
            }
        }
        _ => {
            tracing::error!("cannot install signal handlers; stop with SIGKILL");
            std::future::pending::<()>().await;
        }
    }
}
