//! The server's command line: flags for serving (each also settable from the environment),
//! the setup commands that work on a stopped server's data directory, and backups.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Houqin server: sync, storage and the PWA for a logistics department.
#[derive(Clone, Debug, clap::Parser)]
#[command(name = "houqin-server", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    /// Without a command, the server runs.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How the server runs.
#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "HOUQIN_ADDR", default_value = "127.0.0.1:8080", global = true)]
    pub addr: SocketAddr,

    /// Directory of the sled database; created if missing.
    #[arg(long, env = "HOUQIN_DATA", default_value = "./data", global = true)]
    pub data: PathBuf,

    /// Directory of the built PWA (`cargo xtask dist` writes it).
    #[arg(long, env = "HOUQIN_DIST", default_value = "./dist", global = true)]
    pub dist: PathBuf,

    /// Seed demo sites and users into an empty database and print their logins.
    #[arg(long, env = "HOUQIN_DEMO")]
    pub demo: bool,

    /// For benchmarks only: `/sync` without signing in, every document accepted from
    /// anyone, like the anonymous automerge-repo servers it is compared with. Refuses to
    /// start on any address but loopback.
    #[arg(long)]
    pub bench_anonymous_sync: bool,
}

/// Setup from the command line, while the server is stopped (the database allows one
/// process at a time; a running server has the same operations under `/api/admin`), and
/// backups, which work while it runs too.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum Command {
    /// Sites: `site add hq 总部`.
    #[command(subcommand)]
    Site(SiteCommand),
    /// People: `user add li --name 李工 --role hq:technician` (password from
    /// HOUQIN_PASSWORD or the first line of standard input).
    #[command(subcommand)]
    User(UserCommand),
    /// Writes a consistent copy of the whole database to FILE, through the server running
    /// on --data if there is one, else from the database directly.
    Backup {
        /// Where to write the backup; a file there is replaced once the backup is whole.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Dashboard summaries: `projections rebuild` projects every stored document again
    /// (a running server does so by itself when a release changes their shape).
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Restores a backup into --data, which must be empty or absent (the server stopped).
    Restore {
        /// The backup, as `backup --to` wrote it; checked whole before anything is written.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
}

#[derive(Clone, Debug, clap::Subcommand)]
pub enum ProjectionsCommand {
    /// Projects every work order, inspection and stocktake from storage again.
    Rebuild,
}

#[derive(Clone, Debug, clap::Subcommand)]
pub enum SiteCommand {
    /// Creates a site with its catalog and the standard checklist templates.
    Add {
        /// Lowercase id used in URLs and documents, e.g. `plant3`.
        id: String,
        /// The name people use, e.g. 三厂.
        name: String,
    },
    /// Lists the sites.
    List,
}

#[derive(Clone, Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Creates a user.
    Add {
        username: String,
        /// The name shown in the app, e.g. 李工.
        #[arg(long)]
        name: String,
        /// A role at a site, as SITE:ROLE (inspector, dorm_staff, technician, storekeeper,
        /// manager, admin); repeat for several sites.
        #[arg(long = "role", value_name = "SITE:ROLE")]
        roles: Vec<String>,
    },
    /// Disables a user: they cannot sign in and every token they hold is refused.
    Disable { username: String },
    /// Lets a disabled user sign in again (old tokens stay refused).
    Enable { username: String },
    /// Lists the users and their roles.
    List,
}
