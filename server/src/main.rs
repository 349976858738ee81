//! `houqin-server`: parses the command line and runs the server.

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    run()
}

fn run() -> anyhow::Result<()> {
    let config = server::Config::parse();
    // Standard output is for what a person starting the server needs (URL, demo logins);
    // logs go to standard error.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_env("HOUQIN_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    tokio::runtime::Runtime::new()?.block_on(server::run(config))
}
