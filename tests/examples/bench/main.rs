//! `cargo xtask bench`'s sync part: the same workloads against Houqin's server (signed in,
//! and anonymous with `--bench-anonymous-sync`), the npm automerge-repo reference server
//! and samod, each its own process on loopback, in one run; then Houqin's server holding
//! many stored documents. Prints Markdown tables for BENCHMARKS.md.
//!
//! usage: bench --houqin <houqin-server> --samod <samod_server> --js <tests/js>
//!              [--only load|push|capacity]… [--server houqin|houqin-anonymous|js|samod]…
//!              [--phones N] [--documents N] [--stored N]
//!              [--trickle-rate PER_SECOND] [--trickle-seconds S] [--patience S]
//!
//! - `load`: the load generator (`tests::load`): N phones and N partners through push,
//!   fetch, offline edits with reconnect-all, and a trickle of edits;
//! - `push`: one client pushes N finished inspections, then a fresh client fetches them;
//! - `capacity`: Houqin's server filled with `--stored` documents (through sync), then
//!   restarted and put through the load generator's phases: memory and disk.

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
                other => bail!("--only takes load, push or capacity, not {other:?}"),
            }),
            other => bail!("unknown flag {other}"),
        }
    }
    anyhow::ensure!(
        workload.phones > 0 && documents > 0 && workload.trickle_rate > 0.0,
        "--phones, --documents and --trickle-rate must be above zero"
    );
    if parts.is_empty() {
        parts = vec![Part::Load, Part::Push, Part::Capacity];
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
        let mut rows = Vec::new();
        for &kind in &options.servers {
            eprintln!("push: {} …", kind.name());
            let data = scratch.path().join(format!("push-{kind:?}"));
            rows.push(push_run(&options, kind, &data, &documents).await.with_context(|| format!("the push run against {}", kind.name()))?);
        }
        print_push(documents.len(), average, &rows);
    }
    if options.parts.contains(&Part::Capacity) {
        eprintln!("capacity: {} stored documents …", options.stored);
        capacity(&options, &scratch.path().join("capacity")).await.context("the capacity run")?;
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

struct PushRow {
    kind: Kind,
    push_cpu: f64,
    fetch_cpu: f64,
    push_wall: Duration,
    fetch_wall: Duration,
    disk: u64,
}

/// Pushes `documents` from one client until the server has them all, then fetches them
/// all with a fresh client.
async fn push_documents(url: &str, documents: &[(DocumentId, AutoCommit)], name: &str) -> anyhow::Result<()> {
    let ids: Vec<DocumentId> = documents.iter().map(|(id, _)| *id).collect();
    let mut pusher = Client::new(ClientConfig::new(PeerId(format!("pusher-{name}"))), now());
    for (id, doc) in documents {
        pusher.add_document(*id, doc.clone());
    }
    sync_until(&mut pusher, url, PATIENCE, |client| ids.iter().all(|id| client.status(id) == Some(SyncStatus::Synced))).await
}

async fn fetch_documents(url: &str, ids: &[DocumentId], name: &str) -> anyhow::Result<()> {
    let mut fetcher = Client::new(ClientConfig::new(PeerId(format!("fetcher-{name}"))), now());
    for id in ids {
        fetcher.request_document(*id);
    }
    sync_until(&mut fetcher, url, PATIENCE, |client| ids.iter().all(|id| client.status(id) == Some(SyncStatus::Synced))).await
}

async fn push_run(
    options: &Options,
    kind: Kind,
    data: &std::path::Path,
    documents: &[(DocumentId, AutoCommit)],
) -> anyhow::Result<PushRow> {
    if matches!(kind, Kind::Houqin | Kind::HouqinAnonymous) {
        set_up_houqin(&options.programs, data, 0)?;
    }
    let server = Server::start(&options.programs, kind, data)?;
    let url =
        if kind.signs_in() { server.sign_in(&reqwest::Client::builder().no_proxy().build()?, "bench").await? } else { server.sync_url() };
    let ids: Vec<DocumentId> = documents.iter().map(|(id, _)| *id).collect();
    let (before, started) = (server.cpu_seconds()?, Instant::now());
    push_documents(&url, documents, kind.name()).await?;
    let (push_wall, pushed) = (started.elapsed(), server.cpu_seconds()?);
    let started = Instant::now();
    fetch_documents(&url, &ids, kind.name()).await?;
    let (fetch_wall, fetched) = (started.elapsed(), server.cpu_seconds()?);
    server.stop().await?;
    Ok(PushRow { kind, push_cpu: pushed - before, fetch_cpu: fetched - pushed, push_wall, fetch_wall, disk: disk_bytes(data) })
}

fn print_push(count: usize, average: usize, rows: &[PushRow]) {
    println!("\n### One client pushes {count} finished inspections ({average} bytes each on average), a fresh client fetches them\n");
    println!("| server | push: server CPU | push: wall | fetch: server CPU | fetch: wall | CPU per pushed document | on disk |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {:.2} s | {} | {:.2} s | {} | {:.2} ms | {} |",
            row.kind.name(),
            row.push_cpu,
            seconds(row.push_wall),
            row.fetch_cpu,
            seconds(row.fetch_wall),
            row.push_cpu * 1000.0 / count as f64,
            megabytes(row.disk)
        );
    }
    let ours = rows.iter().find(|row| row.kind == Kind::Houqin).unwrap_or(&rows[0]);
    println!();
    for theirs in rows.iter().filter(|row| matches!(row.kind, Kind::Js | Kind::Samod)) {
        println!(
            "ours / {}: push CPU {:.3}×, push wall {:.2}×, fetch CPU {:.2}×",
            theirs.kind.name(),
            ours.push_cpu / theirs.push_cpu,
            ours.push_wall.as_secs_f64() / theirs.push_wall.as_secs_f64(),
            ours.fetch_cpu / theirs.fetch_cpu
        );
    }
}

/// The id of stored document `n` of the capacity run.
fn stored_id(n: usize) -> DocumentId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(n as u64).to_be_bytes());
    bytes[8..].copy_from_slice(b"stored\x03\x00");
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
    let url = server.sign_in(&reqwest::Client::builder().no_proxy().build()?, "bench").await?;
    let (before, started) = (server.cpu_seconds()?, Instant::now());
    let mut compacted = 0u64;
    let batch = 1000;
    for first in (0..options.stored).step_by(batch) {
        let documents: Vec<(DocumentId, AutoCommit)> = (first..(first + batch).min(options.stored))
            .map(|n| {
                compacted += compacted_each[n % kinds.len()] as u64;
                (stored_id(n), kinds[n % kinds.len()].clone())
            })
            .collect();
        push_documents(&url, &documents, "filler").await?;
    }
    let (fill_wall, fill_cpu) = (started.elapsed(), server.cpu_seconds()? - before);
    let (_, fill_peak) = server.memory()?;
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
        "| filled through sync by one client, 1,000 documents a connection | {} ({:.0} documents/s), server CPU {:.1} s |",
        seconds(fill_wall),
        options.stored as f64 / fill_wall.as_secs_f64(),
        fill_cpu
    );
    println!("| peak RSS while filling | {} |", megabytes(fill_peak));
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
