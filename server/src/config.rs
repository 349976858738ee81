//! The server's command line, each flag also settable from the environment.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Houqin server: sync, storage and the PWA for a logistics department.
#[derive(Clone, Debug, clap::Parser)]
#[command(name = "houqin-server", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "HOUQIN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Directory of the sled database; created if missing.
    #[arg(long, env = "HOUQIN_DATA", default_value = "./data")]
    pub data: PathBuf,

    /// Directory of the built PWA (`cargo xtask dist` writes it).
    #[arg(long, env = "HOUQIN_DIST", default_value = "./dist")]
    pub dist: PathBuf,

    /// Seed demo sites and users into an empty database and print their logins.
    #[arg(long, env = "HOUQIN_DEMO")]
    pub demo: bool,
}
