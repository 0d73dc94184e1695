//! `sealcam`: the owner's command, a thin face over the app SDK
//! (`sealcam-client`). Text on stdout (or JSON with `--json`), hints and
//! progress on stderr, progress bars only when stderr is a terminal.

mod cli;
mod commands;
mod exit;
mod ui;
mod viewer;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = exit::code_of(&err);
            let message = exit::message(&err);
            if json {
                let body = serde_json::json!({
                    "error": {
                        "kind": exit::kind_name(code),
                        "exit_code": code,
                        "message": message,
                    }
                });
                commands::out(&format!("{body}\n"));
            }
            eprintln!("error: {message}");
            if let Some(hint) = exit::hint(code) {
                eprintln!("{hint}");
            }
            ExitCode::from(code)
        }
    }
}
