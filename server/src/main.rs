//! `houqin-server`: parses the command line, then runs the server or a setup command.

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    server::os::tune_allocator();
    // Automerge logs what it refuses at ERROR from inside (a peer's malformed chunk, hundreds
    // of lines per attacker); each refusal reaches the server as an error, logged with
    // its peer.
    const DEFAULT_LOG: &str = "info,automerge=off";
    let cli = server::config::Cli::parse();
    // Standard output is for what a person starting the server needs (URL, demo logins);
    // logs go to standard error.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_env("HOUQIN_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG)))
        .init();
    match cli.command {
        None => tokio::runtime::Runtime::new()?.block_on(server::run(cli.config)),
        Some(command) => server::setup::run(&cli.config, command),
    }
}
