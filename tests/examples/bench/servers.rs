//! The servers under test, each its own process on loopback, and what `/proc` says about
//! them: CPU time, peak memory, and the bytes their storage holds.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Where the three servers' programs are.
pub struct Programs {
    pub houqin: PathBuf,
    pub samod: PathBuf,
    /// `tests/js`, with `reference_server.mjs` and its npm packages.
    pub js: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Houqin's server; phones sign in and every document passes the access check.
    Houqin,
    /// Houqin's server with `--bench-anonymous-sync`: anonymous, like the other two.
    HouqinAnonymous,
    /// automerge-repo's reference server (JS, NodeFS storage).
    Js,
    /// samod (Rust, file storage), unpatched.
    Samod,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Houqin, Kind::HouqinAnonymous, Kind::Js, Kind::Samod];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Houqin => "houqin-server",
            Kind::HouqinAnonymous => "houqin-server, anonymous",
            Kind::Js => "automerge-repo 2.x (JS)",
            Kind::Samod => "samod 0.16",
        }
    }

    pub fn signs_in(self) -> bool {
        self == Kind::Houqin
    }
}

/// The password of every person the benchmark sets up on Houqin's server.
pub const PASSWORD: &str = "bench-password";

/// A running server.
pub struct Server {
    pub kind: Kind,
    child: Child,
    /// Kept open so the server never writes into a closed pipe.
    _stdout: BufReader<ChildStdout>,
    /// `http://…/` for Houqin, the WebSocket URL for the others.
    pub address: String,
    pub started_in: Duration,
    ticks_per_second: f64,
}

/// Sets up Houqin's database in `data` (a site `hq`; `people` field people `inspector0…`
/// (managers by role), managers `manager0…`, and `bench`, an inspector) with the setup commands.
pub fn set_up_houqin(programs: &Programs, data: &Path, people: usize) -> anyhow::Result<()> {
    let setup = |args: &[&str]| -> anyhow::Result<()> {
        let status = Command::new(&programs.houqin)
            .args(args)
            .arg("--data")
            .arg(data)
            .env("HOUQIN_PASSWORD", PASSWORD)
            .env("HOUQIN_LOG", "error")
            .stdout(Stdio::null())
            .status()
            .context("cannot run houqin-server")?;
        anyhow::ensure!(status.success(), "houqin-server {args:?} failed");
        Ok(())
    };
    setup(&["site", "add", "hq", "总部"])?;
    // The pushed rounds are the bench user's, which an inspector may start.
    setup(&["user", "add", "bench", "--name", "Bench", "--role", "hq:inspector"])?;
    for n in 0..people {
        // A field phone's person starts rounds, reports and works orders and counts stock,
        // every step in their own name: of the roles, only a manager may take them all.
        setup(&["user", "add", &format!("inspector{n}"), "--name", &format!("巡检员{n}"), "--role", "hq:manager"])?;
        setup(&["user", "add", &format!("manager{n}"), "--name", &format!("主管{n}"), "--role", "hq:manager"])?;
    }
    Ok(())
}

impl Server {
    /// Starts a server of `kind` on the storage in `data` and waits until it listens.
    pub fn start(programs: &Programs, kind: Kind, data: &Path) -> anyhow::Result<Server> {
        Server::start_with_env(programs, kind, data, &[])
    }

    /// [`Server::start`] with `env` in its environment (`HOUQIN_DATABASE_URL`, say).
    pub fn start_with_env(programs: &Programs, kind: Kind, data: &Path, env: &[(&str, &str)]) -> anyhow::Result<Server> {
        let mut command = match kind {
            Kind::Houqin | Kind::HouqinAnonymous => {
                let mut command = Command::new(&programs.houqin);
                command
                    .args(["--addr", "127.0.0.1:0", "--dist"])
                    .arg(data.join("no-dist"))
                    .arg("--data")
                    .arg(data)
                    .env("HOUQIN_LOG", "error");
                if kind == Kind::HouqinAnonymous {
                    command.arg("--bench-anonymous-sync");
                }
                command
            }
            Kind::Js => {
                let mut command = Command::new("node");
                command.current_dir(&programs.js).arg("reference_server.mjs").arg(data);
                command
            }
            Kind::Samod => {
                let mut command = Command::new(&programs.samod);
                command.arg(data);
                command
            }
        };
        command.envs(env.iter().copied());
        let started = Instant::now();
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", kind.name()))?;
        let mut stdout = BufReader::new(child.stdout.take().context("no standard output")?);
        // The first line that says where the server listens (a profiler wrapping the
        // server may print before it).
        let mut line = String::new();
        loop {
            line.clear();
            anyhow::ensure!(stdout.read_line(&mut line)? > 0, "{} exited before it listened", kind.name());
            let said_where = match kind {
                Kind::Houqin | Kind::HouqinAnonymous => line.starts_with("Houqin is running at "),
                Kind::Js | Kind::Samod => true,
            };
            if said_where {
                break;
            }
        }
        let line = line.trim();
        let address = match kind {
            Kind::Houqin | Kind::HouqinAnonymous => {
                line.strip_prefix("Houqin is running at ").with_context(|| format!("unexpected first line {line:?}"))?.to_owned()
            }
            Kind::Js => format!("ws://127.0.0.1:{line}"),
            Kind::Samod => line.to_owned(),
        };
        if address.is_empty() {
            bail!("{} printed no address", kind.name());
        }
        Ok(Server { kind, child, _stdout: stdout, address, started_in: started.elapsed(), ticks_per_second: ticks_per_second()? })
    }

    /// The sync URL of an anonymous phone (not for `Kind::Houqin`).
    pub fn sync_url(&self) -> String {
        match self.kind {
            Kind::Houqin | Kind::HouqinAnonymous => format!("{}sync", self.address.replacen("http://", "ws://", 1)),
            Kind::Js | Kind::Samod => self.address.clone(),
        }
    }

    /// Signs `username` in (Houqin only) and gives the sync URL with the token.
    pub async fn sign_in(&self, http: &reqwest::Client, username: &str) -> anyhow::Result<String> {
        let response = http
            .post(format!("{}api/login", self.address))
            .json(&serde_json::json!({ "username": username, "password": PASSWORD }))
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("signing in as {username}"))?;
        let body: serde_json::Value = response.json().await?;
        let token = body["token"].as_str().context("no token in the sign-in answer")?;
        Ok(format!("{}?token={token}", self.sync_url()))
    }

    /// User plus system CPU time of the process so far, in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        cpu_seconds(&self.child.id().to_string(), self.ticks_per_second)
    }

    /// Resident memory now and at its peak so far (`VmRSS`, `VmHWM`), in bytes.
    pub fn memory(&self) -> anyhow::Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).context("reading /proc (Linux only)")?;
        let field = |name: &str| -> anyhow::Result<u64> {
            let line = status.lines().find(|line| line.starts_with(name)).with_context(|| format!("no {name} in /proc status"))?;
            let kilobytes: u64 = line.split_whitespace().nth(1).context("an empty /proc status line")?.parse()?;
            Ok(kilobytes * 1024)
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// Kills the server outright (after a run that failed).
    pub async fn kill(mut self) {
        let _ = self.child.kill();
        let _ = tokio::task::spawn_blocking(move || self.child.wait()).await;
    }

    /// Stops the server the way it stops in production (SIGTERM for Houqin, standard
    /// input closing for the others) and waits for it to exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        match self.kind {
            Kind::Houqin | Kind::HouqinAnonymous => {
                Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status()?;
            }
            Kind::Js | Kind::Samod => drop(self.child.stdin.take()),
        }
        let status = tokio::task::spawn_blocking(move || self.child.wait()).await??;
        anyhow::ensure!(status.success(), "the server exited with {status}");
        Ok(())
    }
}

/// The bytes of every file under `path`.
pub fn disk_bytes(path: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let Ok(metadata) = entry.metadata() else { continue };
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                total += metadata.len();
            }
        }
    }
    total
}

/// The kernel's clock ticks per second, the unit of `/proc`'s CPU times.
pub fn ticks_per_second() -> anyhow::Result<f64> {
    Ok(String::from_utf8(Command::new("getconf").arg("CLK_TCK").output()?.stdout)?.trim().parse()?)
}

/// User plus system CPU time of process `pid` (`self` for this one) so far, in seconds.
pub fn cpu_seconds(pid: &str, ticks_per_second: f64) -> anyhow::Result<f64> {
    let fields = stat_fields(pid)?;
    // Fields 14 and 15 of the file are utime and stime; `fields` starts at field 3.
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    Ok(ticks / ticks_per_second)
}

/// The fields of `/proc/<pid>/stat` after the process's name (field 3 first).
fn stat_fields(pid: &str) -> anyhow::Result<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).context("reading /proc (Linux only)")?;
    let after_name = stat.rsplit_once(')').context("unexpected /proc stat")?.1;
    Ok(after_name.split_whitespace().map(str::to_owned).collect())
}

/// The CPU time of process `parent` and of its children, living and ended (a PostgreSQL
/// postmaster and its backends), in seconds.
pub fn family_cpu_seconds(parent: u32, ticks_per_second: f64) -> anyhow::Result<f64> {
    let own = stat_fields(&parent.to_string())?;
    // utime, stime, and cutime, cstime: what its ended children used.
    let mut ticks: f64 = own[11..15].iter().map(|field| field.parse::<f64>().unwrap_or(0.0)).sum();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|name| name.bytes().all(|byte| byte.is_ascii_digit())) else { continue };
        let Ok(fields) = stat_fields(pid) else { continue };
        if fields.get(1).and_then(|ppid| ppid.parse::<u32>().ok()) == Some(parent) {
            ticks += fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
        }
    }
    Ok(ticks / ticks_per_second)
}
