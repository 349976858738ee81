//! A PostgreSQL cluster of a test's own, in a temporary directory, on a free port of
//! loopback: started with `initdb` and `pg_ctl` from the machine's PostgreSQL, stopped and
//! removed when dropped.
//!
//! The programs come from `$HOUQIN_PG_BINDIR` (`cargo xtask test` installs PostgreSQL and
//! sets it), else the newest version under `/usr/lib/postgresql`, else `pg_config
//! --bindir`. A test fails, rather than being skipped, when PostgreSQL is missing.
//!
//! PostgreSQL's server programs refuse to run as root: as root, they run as the `postgres`
//! user (which Debian's package makes), and the cluster's directory belongs to it.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, bail};

/// What the cluster's temporary directory is named after; `cargo xtask test` stops the
/// clusters left in such directories by test processes killed outright.
pub const DIRECTORY_PREFIX: &str = "houqin-pg-";

/// The role every database belongs to, allowed in without a password from loopback.
const USER: &str = "houqin";

/// How many of the log's last lines an error shows.
const LOG_TAIL: usize = 40;

/// A running PostgreSQL cluster with a database `houqin`; dropping it stops the server
/// and removes its files.
///
/// Starting blocks for about a second (an async test may call it from `spawn_blocking`).
pub struct Postgres {
    /// Holds `data/` (the cluster), `log` (the server's log) and the Unix socket. Dropped
    /// after [`Drop::drop`] has stopped the server.
    dir: tempfile::TempDir,
    bindir: PathBuf,
    port: u16,
    /// Whether the server programs run as the `postgres` user, because we are root.
    as_postgres: bool,
    /// The certificate and key the server offers TLS with ([`Postgres::start_with_tls`]).
    tls: Option<(PathBuf, PathBuf)>,
}

impl Postgres {
    /// Makes a cluster in a new temporary directory, starts it on a free port of
    /// 127.0.0.1, and creates the database `houqin`. An error says why, with the end of
    /// the server's log.
    pub fn start() -> anyhow::Result<Postgres> {
        Postgres::start_with(None)
    }

    /// [`Postgres::start`], the server offering TLS with the certificate and key in these
    /// PEM files.
    pub fn start_with_tls(certificate: &Path, key: &Path) -> anyhow::Result<Postgres> {
        Postgres::start_with(Some((certificate.to_owned(), key.to_owned())))
    }

    fn start_with(tls: Option<(PathBuf, PathBuf)>) -> anyhow::Result<Postgres> {
        let bindir = bindir()?;
        let as_postgres = is_root()?;
        let dir = tempfile::Builder::new().prefix(DIRECTORY_PREFIX).tempdir().context("cannot make the cluster's temporary directory")?;
        if as_postgres {
            // The parent (the system's temporary directory) lets anyone through; this
            // directory must be the server's own.
            run(Command::new("chown").arg("-R").arg("postgres").arg(dir.path()), None)?;
        }
        let mut postgres = Postgres { dir, bindir, port: 0, as_postgres, tls };
        let mut initdb = postgres.server_program("initdb");
        initdb.arg("-D").arg(postgres.data()).args(["-U", USER, "--auth=trust", "--encoding=UTF8", "--locale=C"]);
        run(&mut initdb, None)?;
        if let Some((certificate, key)) = &postgres.tls {
            postgres.place_certificate(certificate, key)?;
        }

        // The port is free when asked for but may be taken before the server binds it (by
        // another test's cluster, say): then another one is tried.
        let mut attempts = 1;
        loop {
            postgres.port = free_port()?;
            match postgres.start_server() {
                Ok(()) => break,
                Err(error) if attempts < 3 && postgres.log_tail().contains("could not bind") => {
                    attempts += 1;
                    eprintln!("postgres: port {} was taken meanwhile, trying another: {error:#}", postgres.port);
                }
                Err(error) => return Err(error),
            }
        }
        postgres.create_database(USER)?;
        Ok(postgres)
    }

    /// The URL of the database `houqin`.
    pub fn url(&self) -> String {
        self.database_url(USER)
    }

    /// Creates the database `name` (letters, digits and `_`) and returns its URL: a test
    /// that shares the cluster still has a database of its own.
    pub fn fresh_database(&self, name: &str) -> anyhow::Result<String> {
        if name.is_empty() || !name.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_') {
            bail!("database name {name:?} is not made of letters, digits and _ only");
        }
        self.create_database(name)?;
        Ok(self.database_url(name))
    }

    /// Runs `statement` on the database at `url` with `psql` and gives what it printed,
    /// one line per row (`|` between columns).
    pub fn sql(&self, url: &str, statement: &str) -> anyhow::Result<String> {
        let output = Command::new(self.bindir.join("psql")).arg(url).args(["-tA", "-c", statement]).output().context("cannot run psql")?;
        if !output.status.success() {
            bail!("psql failed on {statement:?}: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// The process id of the cluster's postmaster (its backends are its children).
    pub fn postmaster_pid(&self) -> anyhow::Result<u32> {
        let pid = std::fs::read_to_string(self.data().join("postmaster.pid")).context("cannot read postmaster.pid")?;
        pid.lines().next().context("an empty postmaster.pid")?.trim().parse().context("postmaster.pid names no process")
    }

    fn database_url(&self, database: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{database}", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    /// The certificate and key as `server.crt` and `server.key` in the cluster's
    /// directory, where `ssl = on` finds them.
    fn place_certificate(&self, certificate: &Path, key_file: &Path) -> anyhow::Result<()> {
        let (cert, key) = (self.data().join("server.crt"), self.data().join("server.key"));
        std::fs::copy(certificate, &cert).context("cannot place the server's certificate")?;
        std::fs::copy(key_file, &key).context("cannot place the server's key")?;
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        if self.as_postgres {
            run(Command::new("chown").arg("postgres").arg(&cert).arg(&key), None)?;
        }
        Ok(())
    }

    fn start_server(&self) -> anyhow::Result<()> {
        // pg_ctl hands these to a shell, so the socket directory is quoted.
        let socket_dir = self.dir.path().to_string_lossy().replace('\'', r"'\''");
        let options = format!(
            "-k '{socket_dir}' -c listen_addresses=127.0.0.1 -p {} -c fsync=on -c max_connections=200 -c shared_buffers=64MB -c ssl={}",
            self.port,
            if self.tls.is_some() { "on" } else { "off" }
        );
        let mut pg_ctl = self.server_program("pg_ctl");
        pg_ctl.arg("-D").arg(self.data()).arg("-l").arg(self.log()).arg("-w").arg("-o").arg(options).arg("start");
        run(&mut pg_ctl, Some(self))
    }

    fn create_database(&self, name: &str) -> anyhow::Result<()> {
        let port = self.port.to_string();
        let mut createdb = Command::new(self.bindir.join("createdb"));
        createdb.args(["-h", "127.0.0.1", "-p", &port, "-U", USER, name]);
        run(&mut createdb, Some(self))
    }

    /// One of the server programs, which refuse root: as root, run as `postgres`, from the
    /// cluster's directory (it may not enter ours).
    fn server_program(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        let mut command = if self.as_postgres {
            let mut runuser = Command::new("runuser");
            runuser.args(["-u", "postgres", "--"]).arg(path);
            runuser
        } else {
            Command::new(path)
        };
        command.current_dir(self.dir.path());
        command
    }

    /// The last lines of the server's log, or why there are none.
    fn log_tail(&self) -> String {
        match std::fs::read_to_string(self.log()) {
            Ok(log) => {
                let lines: Vec<&str> = log.lines().collect();
                lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n")
            }
            Err(error) => format!("(no log at {}: {error})", self.log().display()),
        }
    }
}

impl Drop for Postgres {
    /// Stops the server at once (the cluster is thrown away, so nothing needs flushing)
    /// before the directory is removed; also when a test fails midway.
    fn drop(&mut self) {
        let _ = self.server_program("pg_ctl").arg("-D").arg(self.data()).args(["-m", "immediate", "stop"]).output();
    }
}

/// Runs `command` to completion; on failure the error has the command, what it printed and,
/// for a command talking to the server, the end of the server's log.
fn run(command: &mut Command, server: Option<&Postgres>) -> anyhow::Result<()> {
    let Output { status, stdout, stderr } = command.output().with_context(|| format!("cannot start {command:?}"))?;
    if status.success() {
        return Ok(());
    }
    let mut error =
        format!("{command:?} failed ({status}); it printed:\n{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    if let Some(server) = server {
        error.push_str(&format!("\nthe end of the server's log:\n{}", server.log_tail()));
    }
    bail!(error)
}

/// A port of 127.0.0.1 nobody listens on now.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Whether we run as root (by the effective user id, as `id -u` prints it).
fn is_root() -> anyhow::Result<bool> {
    let output = Command::new("id").arg("-u").output().context("cannot run id -u")?;
    Ok(String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// The directory of PostgreSQL's programs, `$HOUQIN_PG_BINDIR`: `cargo xtask test` finds
/// (or installs) them and says where, as it does for Chromium.
fn bindir() -> anyhow::Result<PathBuf> {
    let bindir = std::env::var_os("HOUQIN_PG_BINDIR")
        .map(PathBuf::from)
        .context("HOUQIN_PG_BINDIR is not set: run the tests with `cargo xtask test`, or set it to PostgreSQL's bin directory (Debian: /usr/lib/postgresql/15/bin)")?;
    if !has_programs(&bindir) {
        bail!("HOUQIN_PG_BINDIR is {} but it lacks initdb, pg_ctl or postgres", bindir.display());
    }
    Ok(bindir)
}

fn has_programs(bindir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"].iter().all(|program| bindir.join(program).is_file())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_cluster_starts_serves_its_databases_and_stops_when_dropped() {
        let postgres = Postgres::start().unwrap();
        let psql = |url: &str| {
            let output = Command::new(postgres.bindir.join("psql")).arg(url).args(["-tAc", "select 1"]).output().unwrap();
            assert!(output.status.success(), "psql {url} failed: {}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8(output.stdout).unwrap().trim().to_owned()
        };
        assert_eq!(psql(&postgres.url()), "1");
        let fresh = postgres.fresh_database("a_test_of_its_own").unwrap();
        assert!(fresh.ends_with("/a_test_of_its_own"), "{fresh}");
        assert_eq!(psql(&fresh), "1");
        assert!(postgres.fresh_database("no-dashes").is_err());

        let pid_file = postgres.data().join("postmaster.pid");
        let pid = std::fs::read_to_string(&pid_file).unwrap().lines().next().unwrap().to_owned();
        let dir = postgres.dir.path().to_owned();
        drop(postgres);
        assert!(!pid_file.exists(), "{} is still there", pid_file.display());
        assert!(!dir.exists(), "{} is still there", dir.display());
        // The server removes its pid file just before it exits.
        let give_up = Instant::now() + Duration::from_secs(10);
        while running(&pid) {
            assert!(Instant::now() < give_up, "the postmaster (pid {pid}) still runs after the cluster was dropped");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process `pid` runs (a zombie nobody has reaped yet does not).
    fn running(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')))
    }
}
