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
