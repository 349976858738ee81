//! `cargo xtask bench`'s sync part: the same workloads against Houqin's server (signed in,
//! and anonymous with `--bench-anonymous-sync`), the npm automerge-repo reference server
//! and samod, each its own process on loopback, in one run; then Houqin's server holding
//! many stored documents. Prints Markdown tables for BENCHMARKS.md.
//!
//! usage: bench --houqin <houqin-server> --samod <samod_server> --js <tests/js>
//!              [--only load|push|capacity|cluster]… [--server houqin|houqin-anonymous|js|samod]…
//!              [--phones N] [--documents N] [--stored N]
//!              [--trickle-rate PER_SECOND] [--trickle-seconds S] [--patience S]
//!
//! - `load`: the load generator (`tests::load`): N phones and N partners through push,
//!   fetch, offline edits with reconnect-all, and a trickle of edits;
//! - `push`: one client pushes N finished inspections, then a fresh client fetches them;
//! - `capacity`: Houqin's server filled with `--stored` documents (through sync), then
//!   restarted and put through the load generator's phases: memory and disk;
//! - `cluster`: Houqin's server as one node on sled, one on PostgreSQL, and two nodes on
//!   PostgreSQL (changes crossing between them; behind a round-robin proxy), through the
//!   load generator's phases: CPU per change, the nodes' and PostgreSQL's
//!   (`$HOUQIN_PG_BINDIR`'s programs, a cluster of the run's own).

mod cluster;
mod servers;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use automerge::{ActorId, AutoCommit};
use servers::{Kind, Programs, Server, disk_bytes, set_up_houqin};
use shared::directory::{SiteId, Username};
use shared::document::inspection::{AnswerValue, Inspection, NewInspection};
use shared::document::template::ItemKind;
use shared::document::{Edit, EntryId, seeds};
use shared::protocol::DocumentId;
use shared::protocol::client::{Client, ClientConfig, SyncStatus};
use shared::protocol::message::PeerId;
use shared::time::Timestamp;
use tests::load::{self, Endpoints, Observer, Phase, PhaseFigures, Workload};
use tests::native_client::{now, sync_until};

/// People of each kind (inspectors, managers) the phones of the load run belong to.
const PEOPLE: usize = 10;
const PATIENCE: Duration = Duration::from_secs(900);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Load,
    Push,
    Capacity,
    Cluster,
}

struct Options {
    programs: Programs,
    parts: Vec<Part>,
    workload: Workload,
    documents: usize,
    stored: usize,
    servers: Vec<Kind>,
}

fn options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let (mut houqin, mut samod, mut js) = (None, None, None);
    let (mut parts, mut documents, mut stored) = (Vec::new(), 1000, 100_000);
    // A server that needs longer than this for a phase is reported as not finishing.
    let mut workload = Workload { patience: Duration::from_secs(120), ..Workload::default() };
    let mut servers = Vec::new();
    while let Some(flag) = args.next() {
        let value = args.next().with_context(|| format!("{flag} needs a value"))?;
        let number = || -> anyhow::Result<f64> { value.parse().with_context(|| format!("{flag} takes a number, not {value:?}")) };
        match flag.as_str() {
            "--houqin" => houqin = Some(PathBuf::from(&value)),
            "--samod" => samod = Some(PathBuf::from(&value)),
            "--js" => js = Some(PathBuf::from(&value)),
            "--phones" => workload.phones = number()? as usize,
            "--documents" => documents = number()? as usize,
            "--stored" => stored = number()? as usize,
            "--trickle-rate" => workload.trickle_rate = number()?,
            "--trickle-seconds" => workload.trickle_for = Duration::from_secs_f64(number()?),
            "--patience" => workload.patience = Duration::from_secs_f64(number()?),
            "--server" => servers.push(match value.as_str() {
                "houqin" => Kind::Houqin,
                "houqin-anonymous" => Kind::HouqinAnonymous,
                "js" => Kind::Js,
                "samod" => Kind::Samod,
                other => bail!("--server takes houqin, houqin-anonymous, js or samod, not {other:?}"),
            }),
            "--only" => parts.push(match value.as_str() {
                "load" => Part::Load,
                "push" => Part::Push,
                "capacity" => Part::Capacity,
                "cluster" => Part::Cluster,
                other => bail!("--only takes load, push, capacity or cluster, not {other:?}"),
            }),
            other => bail!("unknown flag {other}"),
        }
    }
    anyhow::ensure!(
        workload.phones > 0 && documents > 0 && workload.trickle_rate > 0.0,
        "--phones, --documents and --trickle-rate must be above zero"
    );
    if parts.is_empty() {
        parts = vec![Part::Load, Part::Push, Part::Capacity, Part::Cluster];
    }
    if servers.is_empty() {
        servers = Kind::ALL.to_vec();
    }
    Ok(Options {
        programs: Programs {
            houqin: houqin.context("--houqin is required")?,
            samod: samod.context("--samod is required")?,
            js: js.context("--js is required")?,
        },
        parts,
        workload,
        documents,
        stored,
        servers,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let scratch = tempfile::tempdir()?;
    if options.parts.contains(&Part::Load) {
        let mut runs = Vec::new();
        let mut unfinished = Vec::new();
        for &kind in &options.servers {
            eprintln!("load: {} …", kind.name());
            let data = scratch.path().join(format!("load-{kind:?}"));
            match load_run(&options, kind, &data).await {
                Ok(run) => runs.push(run),
                // A server too slow for the workload is a result, not the end of the run.
                Err(error) => {
                    eprintln!("  did not finish: {error:#}");
                    unfinished.push((kind, format!("{error:#}")));
                }
            }
        }
        print_load(&options.workload, &runs, &unfinished);
    }
    if options.parts.contains(&Part::Push) {
        let documents = inspections(options.documents);
        let average = documents.iter().map(|(_, doc)| doc.clone().save().len()).sum::<usize>() / documents.len();
        // The npm client reads them from files named by their document ids.
        let saved = scratch.path().join("saved");
        std::fs::create_dir_all(&saved)?;
        for (id, doc) in &documents {
            std::fs::write(saved.join(id.to_string()), doc.clone().save())?;
        }
        let mut rows = Vec::new();
        for &kind in &options.servers {
            for peer in [Peer::Rust, Peer::Js] {
                eprintln!("push: {} with {} …", kind.name(), peer.name());
                let data = scratch.path().join(format!("push-{kind:?}-{}", peer as u8));
                let row = push_run(&options, kind, peer, &data, &documents, &saved)
                    .await
                    .with_context(|| format!("the push run against {} with {}", kind.name(), peer.name()))?;
                eprintln!(
                    "  push {:.2} s (server CPU {:.2} s), fetch {:.2} s (server CPU {:.2} s, client CPU {:.2} s)",
                    row.push.wall.as_secs_f64(),
                    row.push.server_cpu,
                    row.fetch.wall.as_secs_f64(),
                    row.fetch.server_cpu,
                    row.fetch.client_cpu
                );
                rows.push(row);
            }
        }
        let floor = automerge_floor(&documents)?;
        print_push(documents.len(), average, &rows, floor);
    }
    if options.parts.contains(&Part::Capacity) {
        eprintln!("capacity: {} stored documents …", options.stored);
        capacity(&options, &scratch.path().join("capacity")).await.context("the capacity run")?;
    }
    if options.parts.contains(&Part::Cluster) {
        cluster::cluster(&options, &scratch.path().join("cluster")).await.context("the cluster run")?;
    }
    Ok(())
}

/// Reads the server's and the load generator's CPU time at each phase's edges.
struct Meter<'a> {
    server: &'a Server,
    ticks_per_second: f64,
    at_start: (f64, f64),
    /// Per phase: (server, load generator) CPU seconds.
    cpu: HashMap<Phase, (f64, f64)>,
}

impl<'a> Meter<'a> {
    fn new(server: &'a Server) -> anyhow::Result<Meter<'a>> {
        Ok(Meter { server, ticks_per_second: servers::ticks_per_second()?, at_start: (0.0, 0.0), cpu: HashMap::new() })
    }

    fn read(&self) -> (f64, f64) {
        let server = self.server.cpu_seconds().unwrap_or(f64::NAN);
        (server, servers::cpu_seconds("self", self.ticks_per_second).unwrap_or(f64::NAN))
    }
}

impl Observer for Meter<'_> {
    fn phase_starts(&mut self, _phase: Phase) {
        self.at_start = self.read();
    }

    fn phase_ends(&mut self, phase: Phase, figures: &PhaseFigures) {
        let (server, generator) = self.read();
        let cpu = (server - self.at_start.0, generator - self.at_start.1);
        self.cpu.insert(phase, cpu);
        eprintln!(
            "  {}: {:.2} s (sockets open after {:.2} s), server CPU {:.2} s, load generator CPU {:.2} s",
            phase.name(),
            figures.wall.as_secs_f64(),
            figures.connected.as_secs_f64(),
            cpu.0,
            cpu.1
        );
    }
}

struct LoadRun {
    kind: Kind,
    phases: Vec<(Phase, PhaseFigures)>,
    /// Per phase: (server, load generator) CPU seconds.
    cpu: HashMap<Phase, (f64, f64)>,
    peak_rss: u64,
    disk: u64,
}

impl LoadRun {
    fn phase(&self, phase: Phase) -> &PhaseFigures {
        &self.phases.iter().find(|(of, _)| *of == phase).expect("every phase ran").1
    }
}

/// Each phone's sync URL: with Houqin, field phone `p` is used by `inspector{p % 10}`
/// and its partner by `manager{p % 10}`, each person signed in once.
async fn endpoints(server: &Server, phones: usize) -> anyhow::Result<Endpoints> {
    if !server.kind.signs_in() {
        let url = server.sync_url();
        return Ok(Endpoints { field: vec![url.clone(); phones], partners: vec![url; phones] });
    }
    let http = reqwest::Client::builder().no_proxy().build()?;
    let (mut inspectors, mut managers) = (Vec::new(), Vec::new());
    for n in 0..PEOPLE {
        inspectors.push(server.sign_in(&http, &format!("inspector{n}")).await?);
        managers.push(server.sign_in(&http, &format!("manager{n}")).await?);
    }
    Ok(Endpoints {
        field: (0..phones).map(|p| inspectors[p % PEOPLE].clone()).collect(),
        partners: (0..phones).map(|p| managers[p % PEOPLE].clone()).collect(),
    })
}

async fn load_run(options: &Options, kind: Kind, data: &std::path::Path) -> anyhow::Result<LoadRun> {
    if matches!(kind, Kind::Houqin | Kind::HouqinAnonymous) {
        set_up_houqin(&options.programs, data, PEOPLE)?;
    }
    let server = Server::start(&options.programs, kind, data)?;
    let endpoints = endpoints(&server, options.workload.phones).await?;
    let mut meter = Meter::new(&server)?;
    let phases = match load::run(&options.workload, &endpoints, &mut meter).await {
        Ok(phases) => phases,
        Err(error) => {
            server.kill().await;
            return Err(error);
        }
    };
    let cpu = meter.cpu;
    let (_, peak_rss) = server.memory()?;
    server.stop().await?;
    Ok(LoadRun { kind, phases, cpu, peak_rss, disk: disk_bytes(data) })
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

fn millis(duration: Option<Duration>) -> String {
    duration.map_or_else(|| "—".to_owned(), |duration| format!("{:.1} ms", duration.as_secs_f64() * 1000.0))
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn print_load(workload: &Workload, runs: &[LoadRun], unfinished: &[(Kind, String)]) {
    if runs.is_empty() {
        println!("\nNo server finished the load generator's phases.");
        return;
    }
    println!(
        "\n### Load generator: {} phones and {} partners, {} documents, trickle {} changes/s for {} s\n",
        workload.phones,
        workload.phones,
        workload.phones * load::DOCUMENTS_PER_PHONE,
        workload.trickle_rate,
        workload.trickle_for.as_secs_f64()
    );
    let ours = runs.iter().find(|run| run.kind == Kind::Houqin).unwrap_or(&runs[0]);
    let theirs: Vec<&LoadRun> = runs.iter().filter(|run| matches!(run.kind, Kind::Js | Kind::Samod)).collect();
    print!("| figure |");
    for run in runs {
        print!(" {} |", run.kind.name());
    }
    for other in &theirs {
        print!(" ours / {} |", other.kind.name());
    }
    println!();
    println!("|---|{}", "---:|".repeat(runs.len() + theirs.len()));
    type Figure = (String, Box<dyn Fn(&LoadRun) -> f64>, Box<dyn Fn(f64) -> String>);
    let mut figures: Vec<Figure> = Vec::new();
    let with_unit =
        |unit: &'static str, decimals: usize| -> Box<dyn Fn(f64) -> String> { Box::new(move |value| format!("{value:.decimals$}{unit}")) };
    for phase in Phase::ALL {
        let name = phase.name();
        figures.push((format!("{name}: wall"), Box::new(move |run| run.phase(phase).wall.as_secs_f64()), with_unit(" s", 2)));
        if phase != Phase::Trickle {
            figures.push((
                format!("{name}: every socket open after"),
                Box::new(move |run| run.phase(phase).connected.as_secs_f64()),
                with_unit(" s", 2),
            ));
        }
        if phase != Phase::Trickle {
            figures.push((format!("{name}: documents/s"), Box::new(move |run| run.phase(phase).docs_per_second()), with_unit("", 0)));
        }
        figures.push((format!("{name}: changes/s"), Box::new(move |run| run.phase(phase).changes_per_second()), with_unit("", 0)));
        figures.push((
            format!("{name}: server CPU"),
            Box::new(move |run| run.cpu.get(&phase).map_or(f64::NAN, |cpu| cpu.0)),
            with_unit(" s", 2),
        ));
        figures.push((
            format!("{name}: load generator CPU"),
            Box::new(move |run| run.cpu.get(&phase).map_or(f64::NAN, |cpu| cpu.1)),
            with_unit(" s", 2),
        ));
        figures.push((
            format!("{name}: wire bytes per change"),
            Box::new(move |run| run.phase(phase).wire_bytes_per_change()),
            with_unit(" B", 0),
        ));
    }
    for (label, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        figures.push((
            format!("trickle: change to the other phone, {label}"),
            Box::new(move |run| run.phase(Phase::Trickle).latency(q).map_or(f64::NAN, |latency| latency.as_secs_f64() * 1000.0)),
            with_unit(" ms", 1),
        ));
    }
    figures.push(("peak RSS".to_owned(), Box::new(|run| run.peak_rss as f64 / 1e6), with_unit(" MB", 1)));
    figures.push(("bytes on disk".to_owned(), Box::new(|run| run.disk as f64 / 1e6), with_unit(" MB", 1)));
    for (label, value, format) in &figures {
        print!("| {label} |");
        for run in runs {
            print!(" {} |", format(value(run)));
        }
        for other in &theirs {
            print!(" {:.2}× |", value(ours) / value(other));
        }
        println!();
    }
    println!("\n(trickle: {} changes timed per server)", ours.phase(Phase::Trickle).latencies.len());
    for (kind, error) in unfinished {
        println!("\n{} did not finish: {error}", kind.name());
    }
}

/// `count` finished fire-safety rounds, every item answered, a note each.
fn inspections(count: usize) -> Vec<(DocumentId, AutoCommit)> {
    let checklist = seeds::fire_safety();
    let inspector = Username::parse("bench").expect("a valid name");
    (0..count)
        .map(|index| {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&(index as u64).to_le_bytes());
            let edit = Edit::new(inspector.clone(), Timestamp::from_millis(1_790_000_000_000 + index as i64 * 60_000));
            let new = NewInspection {
                site: SiteId::parse("hq").expect("a valid site"),
                template: "automerge:fire".into(),
                checklist: checklist.clone(),
                location: format!("hq-b{}", index % 12),
                rooms: Vec::new(),
                assignees: vec![inspector.clone()],
            };
            let mut actor = bytes;
            actor[15] = 0xac;
            let mut round = Inspection::start(ActorId::from(actor), &new, &edit).expect("a valid round");
            for item in &checklist.items {
                let value = match &item.kind {
                    ItemKind::Number { .. } => AnswerValue::Number(1_500),
                    ItemKind::Text => AnswerValue::Text("通道畅通，无杂物".into()),
                    ItemKind::Signature => {
                        AnswerValue::Blob(shared::document::BlobRef::new(&"5e".repeat(32), 20_480, "image/png").expect("a valid reference"))
                    }
                    _ => AnswerValue::Pass,
                };
                round.answer(None, &item.id, &value, &edit).expect("a valid answer");
            }
            round.add_note(&EntryId::parse("n1").expect("an id"), None, None, "三楼东侧灭火器已更换", &edit).expect("a note");
            (DocumentId::from_random(bytes), round.into_doc())
        })
        .collect()
}

/// The client that pushes and fetches in the push run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Peer {
    /// Houqin's own protocol client (`shared::protocol::client`), in this process.
    Rust,
    /// The npm automerge-repo client (`tests/js/bench_client.mjs`), a Node process of its own.
    Js,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Rust => "Houqin's client (Rust)",
            Peer::Js => "automerge-repo 2.x client (npm)",
        }
    }
}

/// How long the push run leaves a server alone between the push and the fresh fetch:
/// Houqin's server drops documents no connection syncs and stores them compacted (every 5 s).
const IDLE: Duration = Duration::from_secs(12);

/// Fresh clients that fetch in turn after a push; the median stands for them.
const FETCHES: usize = 3;

/// What one client's work cost: wall time, the server's CPU, the client's CPU (seconds).
#[derive(Clone, Copy)]
struct Cost {
    wall: Duration,
    server_cpu: f64,
    client_cpu: f64,
}

struct PushRow {
    kind: Kind,
    peer: Peer,
    push: Cost,
    /// Server CPU while left alone after the push: storing idle documents compacted.
    settle_cpu: f64,
    fetch: Cost,
    disk: u64,
}

impl PushRow {
    /// Server CPU per pushed document, the compaction after included.
    fn per_document(&self, count: usize) -> f64 {
        (self.push.server_cpu + self.settle_cpu) / count as f64
    }
}

/// Pushes `documents` from one client until the server has them all.
async fn push_documents(url: &str, documents: &[(DocumentId, AutoCommit)], name: &str) -> anyhow::Result<()> {
    let ids: Vec<DocumentId> = documents.iter().map(|(id, _)| *id).collect();
    let mut pusher = Client::new(ClientConfig::new(PeerId(format!("pusher-{name}"))), now());
    for (id, doc) in documents {
        pusher.add_document(*id, doc.clone());
    }
    sync_until(&mut pusher, url, PATIENCE, |client| ids.iter().all(|id| client.status(id) == Some(SyncStatus::Synced))).await
}

/// Waits until the server has used under 2% of a core for three seconds in a row (at
/// most two minutes); says whether it got there.
async fn settle(server: &Server) -> anyhow::Result<bool> {
    let give_up = Instant::now() + Duration::from_secs(120);
    let mut quiet_seconds = 0;
    while Instant::now() < give_up {
        let before = server.cpu_seconds()?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        quiet_seconds = if server.cpu_seconds()? - before < 0.02 { quiet_seconds + 1 } else { 0 };
        if quiet_seconds == 3 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Fetches `ids` with a fresh client until it has them all.
async fn fetch_documents(url: &str, ids: &[DocumentId], name: &str) -> anyhow::Result<()> {
    let mut fetcher = Client::new(ClientConfig::new(PeerId(format!("fetcher-{name}"))), now());
    for id in ids {
        fetcher.request_document(*id);
    }
    sync_until(&mut fetcher, url, PATIENCE, |client| ids.iter().all(|id| client.status(id) == Some(SyncStatus::Synced))).await
}

/// Runs `bench_client.mjs <mode>` on the documents saved in `saved` and gives its cost
/// (the server's CPU read around it).
async fn js_client(options: &Options, server: &Server, mode: &str, url: &str, saved: &std::path::Path) -> anyhow::Result<Cost> {
    let before = server.cpu_seconds()?;
    let mut node = std::process::Command::new("node");
    node.current_dir(&options.programs.js).arg("bench_client.mjs").arg(mode).arg(url).arg(saved);
    let output = tokio::task::spawn_blocking(move || node.output()).await?.context("cannot run node")?;
    let server_cpu = server.cpu_seconds()? - before;
    anyhow::ensure!(output.status.success(), "bench_client.mjs {mode} failed: {}", output.status);
    // Its own wall and CPU time, in milliseconds.
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("bench_client.mjs printed {:?}", String::from_utf8_lossy(&output.stdout)))?;
    let millis = |field: &str| report[field].as_f64().with_context(|| format!("no {field} in what bench_client.mjs printed"));
    Ok(Cost { wall: Duration::from_secs_f64(millis("wall_ms")? / 1000.0), server_cpu, client_cpu: millis("cpu_ms")? / 1000.0 })
}

/// Runs `work` (this process's client) and gives its cost.
async fn rust_client(server: &Server, work: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<Cost> {
    let ticks = servers::ticks_per_second()?;
    let (server_before, client_before, started) = (server.cpu_seconds()?, servers::cpu_seconds("self", ticks)?, Instant::now());
    work.await?;
    Ok(Cost {
        wall: started.elapsed(),
        server_cpu: server.cpu_seconds()? - server_before,
        client_cpu: servers::cpu_seconds("self", ticks)? - client_before,
    })
}

/// One client pushes `documents` to a fresh server of `kind`; once the server has been
/// left alone for `IDLE`, a fresh client of the same kind fetches them all.
async fn push_run(
    options: &Options,
    kind: Kind,
    peer: Peer,
    data: &std::path::Path,
    documents: &[(DocumentId, AutoCommit)],
    saved: &std::path::Path,
) -> anyhow::Result<PushRow> {
    if matches!(kind, Kind::Houqin | Kind::HouqinAnonymous) {
        set_up_houqin(&options.programs, data, 0)?;
    }
    let server = Server::start(&options.programs, kind, data)?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let url = if kind.signs_in() { server.sign_in(&http, "bench").await? } else { server.sync_url() };
    let ids: Vec<DocumentId> = documents.iter().map(|(id, _)| *id).collect();
    let costs = async {
        let push = match peer {
            Peer::Rust => rust_client(&server, push_documents(&url, documents, kind.name())).await?,
            Peer::Js => js_client(options, &server, "push", &url, saved).await?,
        };
        let settling = server.cpu_seconds()?;
        tokio::time::sleep(IDLE).await;
        let settle_cpu = server.cpu_seconds()? - settling;
        // Fresh clients, each signed in afresh, one after another; the one of median
        // client CPU stands for them (runs of one build differ by some per cent).
        let mut fetches = Vec::new();
        for _ in 0..FETCHES {
            let url = if kind.signs_in() { server.sign_in(&http, "bench").await? } else { server.sync_url() };
            fetches.push(match peer {
                Peer::Rust => rust_client(&server, fetch_documents(&url, &ids, kind.name())).await?,
                Peer::Js => js_client(options, &server, "fetch", &url, saved).await?,
            });
        }
        fetches.sort_by(|a, b| a.client_cpu.total_cmp(&b.client_cpu));
        anyhow::Ok((push, settle_cpu, fetches[FETCHES / 2]))
    }
    .await;
    let (push, settle_cpu, fetch) = match costs {
        Ok(costs) => costs,
        Err(error) => {
            server.kill().await;
            return Err(error);
        }
    };
    server.stop().await?;
    Ok(PushRow { kind, peer, push, settle_cpu, fetch, disk: disk_bytes(data) })
}

/// The Automerge work itself of taking one pushed document, per document on average (in
/// this process, one thread): decoding the sync message that brings it, applying it to
/// an empty document, generating the reply, and saving the document compacted — what
/// any server must do, the floor the server's CPU per pushed document is compared with.
fn automerge_floor(documents: &[(DocumentId, AutoCommit)]) -> anyhow::Result<Duration> {
    use automerge::sync::{self, SyncDoc as _};
    // The message that brings each document, as a pusher sends it after the server's
    // first answer (made outside the timing).
    let mut messages = Vec::new();
    for (_, doc) in documents {
        let (mut doc, mut server) = (doc.clone(), AutoCommit::new());
        let (mut ours, mut theirs) = (sync::State::new(), sync::State::new());
        let mut bringing = None;
        for _ in 0..4 {
            if let Some(message) = doc.sync().generate_sync_message(&mut ours) {
                if !message.changes.is_empty() {
                    bringing = Some(message.clone().encode());
                }
                server.sync().receive_sync_message(&mut theirs, message)?;
            }
            if let Some(reply) = server.sync().generate_sync_message(&mut theirs) {
                doc.sync().receive_sync_message(&mut ours, reply)?;
            }
        }
        messages.push(bringing.context("no message brought the document")?);
    }
    let started = Instant::now();
    for message in &messages {
        let mut server = AutoCommit::new();
        let mut state = sync::State::new();
        server.sync().receive_sync_message(&mut state, sync::Message::decode(message)?)?;
        std::hint::black_box(server.sync().generate_sync_message(&mut state));
        std::hint::black_box(server.save());
    }
    Ok(started.elapsed() / messages.len() as u32)
}

fn print_push(count: usize, average: usize, rows: &[PushRow], floor: Duration) {
    println!(
        "\n### One client pushes {count} finished inspections ({average} bytes each on average); after {} s idle a fresh client fetches them ({} in flight for the npm client; the median of {FETCHES} fresh clients by client CPU)\n",
        IDLE.as_secs(),
        32
    );
    println!(
        "| server | client | push: wall | push: server CPU | push: client CPU | idle after: server CPU | fetch: wall | fetch: server CPU | fetch: client CPU | server CPU per pushed document (idle after included) | on disk |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {} | {:.2} s | {:.2} s | {:.2} s | {} | {:.2} s | {:.2} s | {:.3} ms | {} |",
            row.kind.name(),
            row.peer.name(),
            seconds(row.push.wall),
            row.push.server_cpu,
            row.push.client_cpu,
            row.settle_cpu,
            seconds(row.fetch.wall),
            row.fetch.server_cpu,
            row.fetch.client_cpu,
            row.per_document(count) * 1000.0,
            megabytes(row.disk)
        );
    }
    println!();
    println!(
        "The Automerge work itself of taking one of these documents (decode the message, apply it, reply, save it compacted; in the benchmark's process): {:.3} ms.",
        floor.as_secs_f64() * 1000.0
    );
    for row in rows.iter().filter(|row| matches!(row.kind, Kind::Houqin | Kind::HouqinAnonymous)) {
        let per_document = row.per_document(count);
        println!(
            "{} with {}: server CPU per pushed document (its compaction included) {:.3} ms, {:.2}× that floor.",
            row.kind.name(),
            row.peer.name(),
            per_document * 1000.0,
            per_document / floor.as_secs_f64()
        );
    }
    println!();
    for peer in [Peer::Rust, Peer::Js] {
        let Some(ours) = rows.iter().find(|row| row.kind == Kind::Houqin && row.peer == peer) else { continue };
        for theirs in rows.iter().filter(|row| matches!(row.kind, Kind::Js | Kind::Samod) && row.peer == peer) {
            println!(
                "{}: ours / {}: push server CPU {:.3}×, push wall {:.2}×, fetch wall {:.2}×, fetch server CPU {:.2}×, fetch client CPU {:.2}×",
                peer.name(),
                theirs.kind.name(),
                ours.push.server_cpu / theirs.push.server_cpu,
                ours.push.wall.as_secs_f64() / theirs.push.wall.as_secs_f64(),
                ours.fetch.wall.as_secs_f64() / theirs.fetch.wall.as_secs_f64(),
                ours.fetch.server_cpu / theirs.fetch.server_cpu,
                ours.fetch.client_cpu / theirs.fetch.client_cpu,
            );
        }
    }
}

/// The id of stored document `n` of the capacity run.
fn stored_id(n: usize) -> DocumentId {
    // Clear of bytes 6 and 8, which a document id's version and variant bits overwrite:
    // with `n` in the first eight bytes, every 4,096th id was the same document again.
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&(n as u32).to_be_bytes());
    bytes[9..].copy_from_slice(b"stored\x03");
    DocumentId::from_random(bytes)
}

/// Fills Houqin's server with `--stored` documents through sync, then restarts it and
/// runs the load generator's phases against it.
async fn capacity(options: &Options, data: &std::path::Path) -> anyhow::Result<()> {
    set_up_houqin(&options.programs, data, PEOPLE)?;
    // The load generator's documents, made by other phones (other actors), stored over
    // and over under new ids: 1,000 distinct documents of every kind.
    let mut kinds = Vec::new();
    for p in 0..200 {
        let mut actor = [0u8; 16];
        actor[..8].copy_from_slice(&(p as u64).to_be_bytes());
        actor[8..].copy_from_slice(b"stored\x03\x01");
        kinds.extend(load::phone_documents(p, &ActorId::from(actor)).into_iter().map(|(_, doc)| doc));
    }
    let compacted_each: Vec<usize> = kinds.iter_mut().map(|doc| doc.save().len()).collect();
    let server = Server::start(&options.programs, Kind::Houqin, data)?;
    // Each phone's documents are pushed by their maker (the server checks that every
    // change speaks for its sender): phone p's by `inspector{p % 10}`.
    let http = reqwest::Client::builder().no_proxy().build()?;
    let mut makers = Vec::new();
    for person in 0..PEOPLE {
        makers.push(server.sign_in(&http, &format!("inspector{person}")).await?);
    }
    let maker = |n: usize| (n % kinds.len()) / load::DOCUMENTS_PER_PHONE % PEOPLE;
    let (before, started) = (server.cpu_seconds()?, Instant::now());
    let mut compacted = 0u64;
    let batch = 1000;
    // Per batch: wall time and server CPU, to see whether a fuller server takes longer.
    let mut batches: Vec<(Duration, f64)> = Vec::new();
    for first in (0..options.stored).step_by(batch) {
        let (batch_cpu, batch_started) = (server.cpu_seconds()?, Instant::now());
        let last = (first + batch).min(options.stored);
        let mut by_maker: Vec<Vec<(DocumentId, AutoCommit)>> = vec![Vec::new(); PEOPLE];
        for n in first..last {
            compacted += compacted_each[n % kinds.len()] as u64;
            by_maker[maker(n)].push((stored_id(n), kinds[n % kinds.len()].clone()));
        }
        futures_util::future::try_join_all(
            by_maker
                .iter()
                .zip(&makers)
                .filter(|(documents, _)| !documents.is_empty())
                .map(|(documents, url)| push_documents(url, documents, "filler")),
        )
        .await?;
        batches.push((batch_started.elapsed(), server.cpu_seconds()? - batch_cpu));
        if batches.len().is_multiple_of(10) {
            let (_, peak) = server.memory()?;
            eprintln!("  {last} documents stored, peak RSS so far {}", megabytes(peak));
        }
    }
    let (fill_wall, fill_cpu) = (started.elapsed(), server.cpu_seconds()? - before);
    let (_, fill_peak) = server.memory()?;
    // The last documents leave memory and are stored compacted once idle: the disk is
    // measured after that, as a server holding them would be.
    let settling = Instant::now();
    let settled = settle(&server).await?;
    let settle_cpu = server.cpu_seconds()? - before - fill_cpu;
    server.stop().await?;
    let disk_after_fill = disk_bytes(data);

    let server = Server::start(&options.programs, Kind::Houqin, data)?;
    let started_in = server.started_in;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (idle, _) = server.memory()?;
    let endpoints = endpoints(&server, options.workload.phones).await?;
    let mut meter = Meter::new(&server)?;
    let phases = load::run(&options.workload, &endpoints, &mut meter).await?;
    let (_, peak) = server.memory()?;
    server.stop().await?;
    let disk_after_load = disk_bytes(data);

    println!("\n### houqin-server holding {} stored documents\n", options.stored);
    println!("| figure | value |");
    println!("|---|---:|");
    println!(
        "| filled through sync, 1,000 documents a batch (each pushed by its maker, ten connections at once) | {} ({:.0} documents/s), server CPU {:.1} s |",
        seconds(fill_wall),
        options.stored as f64 / fill_wall.as_secs_f64(),
        fill_cpu
    );
    // The first tenth of the batches against the last tenth, per document.
    let tenth = batches.len().div_ceil(10);
    let per_document = |batches: &[(Duration, f64)]| {
        let documents = (batches.len() * batch) as f64;
        let wall: f64 = batches.iter().map(|(wall, _)| wall.as_secs_f64()).sum();
        let cpu: f64 = batches.iter().map(|(_, cpu)| cpu).sum();
        (wall * 1000.0 / documents, cpu * 1000.0 / documents)
    };
    let (first_wall, first_cpu) = per_document(&batches[..tenth]);
    let (last_wall, last_cpu) = per_document(&batches[batches.len() - tenth..]);
    println!("| per document, the first {} documents stored | {first_wall:.2} ms wall, {first_cpu:.2} ms server CPU |", tenth * batch);
    println!(
        "| per document, the last {} documents stored | {last_wall:.2} ms wall, {last_cpu:.2} ms server CPU ({:.2}× the first) |",
        tenth * batch,
        last_cpu / first_cpu
    );
    println!("| peak RSS while filling | {} |", megabytes(fill_peak));
    println!(
        "| then idle (the last documents stored compacted) | {} after {:.1} s, server CPU {settle_cpu:.1} s |",
        if settled { "quiet" } else { "still busy" },
        settling.elapsed().as_secs_f64()
    );
    println!("| the documents' compacted sizes, summed | {} |", megabytes(compacted));
    println!(
        "| bytes on disk after filling (stopped) | {} ({:.2}× the compacted sizes) |",
        megabytes(disk_after_fill),
        disk_after_fill as f64 / compacted as f64
    );
    println!("| restart: listening after | {} |", seconds(started_in));
    println!("| RSS idle, 2 s after the restart | {} |", megabytes(idle));
    for (phase, figures) in &phases {
        let extra = match phase {
            Phase::Trickle => {
                format!(", change to the other phone p50 {} p99 {}", millis(figures.latency(0.5)), millis(figures.latency(0.99)))
            }
            _ => String::new(),
        };
        println!("| load generator, {}: wall | {}{extra} |", phase.name(), seconds(figures.wall));
    }
    println!("| peak RSS during the load generator's phases | {} |", megabytes(peak));
    println!("| bytes on disk after them (stopped) | {} |", megabytes(disk_after_load));
    Ok(())
}
