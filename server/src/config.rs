//! The server's command line: flags for serving (each also settable from the environment),
//! the setup commands that work on a stopped server's data directory, and backups.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// China's offset from UTC, the default calendar of the sites.
pub const DEFAULT_UTC_OFFSET_MINUTES: i32 = 480;

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

    /// Directory of the sled database; created if missing. With `--database-url`, it holds
    /// only what stays on this machine (its TLS files, the control socket).
    #[arg(long, env = "HOUQIN_DATA", default_value = "./data", global = true)]
    pub data: PathBuf,

    /// Keep the data in PostgreSQL instead of sled: `postgres://user:password@host/database`.
    /// Several servers given the same database serve the same data. Set it in the
    /// environment when it carries a password.
    #[arg(long, env = "HOUQIN_DATABASE_URL", value_name = "URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory of the built PWA (`cargo xtask dist` writes it). Without it, the app built
    /// into a release binary (`cargo xtask release`), else `./dist`.
    #[arg(long, env = "HOUQIN_DIST", global = true)]
    pub dist: Option<PathBuf>,

    /// Serve HTTPS with this certificate (PEM, with any intermediates after it); SIGHUP
    /// reads it and the key again. Without it, `<data>/tls/` from `tls init` if present.
    #[arg(long, env = "HOUQIN_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The certificate's private key (PEM).
    #[arg(long, env = "HOUQIN_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Also listen for plain HTTP here, redirecting to HTTPS, and serving `/ca.pem` and
    /// `/setup` so a phone can fetch the certificate authority before it trusts it.
    #[arg(long, env = "HOUQIN_HTTP_REDIRECT", value_name = "ADDR")]
    pub http_redirect: Option<SocketAddr>,

    /// The address phones use, e.g. `https://houqin.example.lan`: printed into QR labels
    /// and shown by `/setup`. Without it, the address each request came to.
    #[arg(long, env = "HOUQIN_PUBLIC_URL", value_name = "URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// The mail server notices go out through: `smtps://user:password@host:465` (TLS),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or `smtp://host:25` (a relay on
    /// this machine). Set it in the environment: it carries the password.
    #[arg(long, env = "HOUQIN_SMTP_URL", value_name = "URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The address notices are mailed from.
    #[arg(long, env = "HOUQIN_MAIL_FROM", value_name = "ADDRESS", requires = "smtp_url")]
    pub mail_from: Option<String>,

    /// The sites' local time, in minutes east of UTC (China: 480): when a scheduled
    /// round's period ends, and so when one was missed.
    #[arg(long, env = "HOUQIN_UTC_OFFSET_MINUTES", value_name = "MINUTES", default_value_t = DEFAULT_UTC_OFFSET_MINUTES, allow_negative_numbers = true, value_parser = clap::value_parser!(i32).range(-840..=840))]
    pub utc_offset_minutes: i32,

    /// A reverse proxy's address whose `X-Forwarded-For`, `-Proto` and `-Host` headers are
    /// believed (repeat for several); nobody else's are.
    #[arg(long = "trusted-proxy", env = "HOUQIN_TRUSTED_PROXY", value_name = "ADDR", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,

    /// How much the people of each site may store in photos and signatures, in MiB.
    #[arg(long, env = "HOUQIN_BLOB_QUOTA_MIB", value_name = "MIB", default_value_t = crate::blobs::DEFAULT_QUOTA >> 20)]
    pub blob_quota_mib: u64,

    /// Free space kept on the data's disk, in MiB: below it, changes and uploads are
    /// refused (not acknowledged; phones keep them) until space is freed.
    #[arg(long, env = "HOUQIN_MIN_FREE_MIB", value_name = "MIB", default_value_t = crate::space::DEFAULT_RESERVE >> 20)]
    pub min_free_mib: u64,

    /// Resident memory, in MiB, at which new connections are refused (those open go on)
    /// until it falls. Without it, three quarters of the machine's memory (or of its
    /// control group's limit).
    #[arg(long, env = "HOUQIN_MAX_MEMORY_MIB", value_name = "MIB")]
    pub max_memory_mib: Option<u64>,

    /// Serve a database found damaged at start (one that lost writes, or lacks files it
    /// names) as it is: what reads is served, and `/healthz` and the administrators' pages
    /// say it is damaged. Without it the server refuses to start on it.
    #[arg(long, env = "HOUQIN_ALLOW_DAMAGED")]
    pub allow_damaged: bool,

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
    /// HTTPS: `tls init --host houqin.lan --ip 192.168.1.20` makes a local certificate
    /// authority and a certificate for those names under `<data>/tls/`.
    #[command(subcommand)]
    Tls(TlsCommand),
    /// Reads everything in the database on --data (the server stopped) and lists what
    /// does not read; exits with an error if anything does not.
    Check,
    /// Copies everything that still reads from a damaged database on --data (the server
    /// stopped) into a new one, and lists what the copy lacks. --data is not changed.
    Salvage {
        /// A new directory for the copy; start the server on it once you have read the list.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Restores a backup into --data, which must be empty or absent (the server stopped).
    Restore {
        /// The backup, as `backup --to` wrote it; checked whole before anything is written.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
}

#[derive(Clone, Debug, clap::Subcommand)]
pub enum TlsCommand {
    /// Makes (or keeps, if there is one) a certificate authority and a new server
    /// certificate for the names and addresses phones use to reach this server. A server
    /// started on this --data then serves HTTPS.
    Init {
        /// A host name phones use, e.g. `houqin.lan`; repeat for several.
        #[arg(long = "host", value_name = "NAME")]
        hosts: Vec<String>,
        /// An IP address phones use, e.g. `192.168.1.20`; repeat for several.
        #[arg(long = "ip", value_name = "ADDR")]
        addresses: Vec<IpAddr>,
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

/// `https://name[:port]` with nothing after it (a trailing slash is dropped).
fn parse_public_url(text: &str) -> Result<String, String> {
    let url = text.trim().trim_end_matches('/');
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).ok_or("it must start with https:// (or http://)")?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err("give the scheme and host only, e.g. https://houqin.lan".into());
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_public_url_is_a_scheme_and_a_host() {
        assert_eq!(super::parse_public_url("https://houqin.lan/").as_deref(), Ok("https://houqin.lan"));
        assert_eq!(super::parse_public_url("https://houqin.lan:8443").as_deref(), Ok("https://houqin.lan:8443"));
        assert!(super::parse_public_url("houqin.lan").is_err());
        assert!(super::parse_public_url("https://houqin.lan/app").is_err());
        assert!(super::parse_public_url("https://").is_err());
    }
}
