//! `houqin-server`: parses the command line, then runs the server or a setup command.

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    let cli = server::config::Cli::parse();
    // Standard output is for what a person starting the server needs (URL, demo logins);
    // logs go to standard error.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_env("HOUQIN_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    match cli.command {
        None => tokio::runtime::Runtime::new()?.block_on(server::run(cli.config)),
        Some(command) => server::setup::run(&cli.config, command),
    }
}
