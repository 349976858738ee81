//! `--only cluster`: Houqin's server as one node on sled, one node on PostgreSQL, two
//! nodes on PostgreSQL with every change crossing between them (phones on one, their
//! partners on the other), and two nodes behind a round-robin proxy — each through the
//! load generator's phases. What is measured is CPU (the nodes', PostgreSQL's) per
//! acknowledged change, and the cross-node trickle latency: on two cores, wall time cannot
//! show several nodes scaling. A phase's CPU runs from its start until the nodes and
//! PostgreSQL are quiet again after it, so what it leaves to do is charged to it.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tests::load::{self, Endpoints, Observer, Phase, PhaseFigures};
use tests::postgres::Postgres;

use crate::servers::{self, Kind, Server, disk_bytes};
use crate::{Options, millis};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    OneSled,
    OnePostgres,
    TwoCrossing,
    TwoProxied,
}

impl Shape {
    const ALL: [Shape; 4] = [Shape::OneSled, Shape::OnePostgres, Shape::TwoCrossing, Shape::TwoProxied];

    fn name(self) -> &'static str {
        match self {
            Shape::OneSled => "1 node, sled",
            Shape::OnePostgres => "1 node, PostgreSQL",
            Shape::TwoCrossing => "2 nodes, every change crossing",
            Shape::TwoProxied => "2 nodes behind a round-robin proxy",
        }
    }
}

/// One shape's figures.
struct Run {
    shape: Shape,
    phases: Vec<(Phase, PhaseFigures)>,
    /// Per phase: (all nodes, PostgreSQL) CPU seconds.
    cpu: Vec<(Phase, (f64, f64))>,
    /// Bytes the stored data takes: sled's directory, or the key spaces' table with its
    /// indexes and TOAST.
    disk: u64,
}

impl Run {
    fn phase(&self, phase: Phase) -> &PhaseFigures {
        &self.phases.iter().find(|(of, _)| *of == phase).expect("every phase ran").1
    }

    fn cpu(&self, phase: Phase) -> (f64, f64) {
        self.cpu.iter().find(|(of, _)| *of == phase).map_or((f64::NAN, f64::NAN), |(_, cpu)| *cpu)
    }
}

/// Reads the nodes' and PostgreSQL's CPU time at each phase's edges.
struct Meter<'a> {
    nodes: &'a [Server],
    postmaster: Option<u32>,
    ticks_per_second: f64,
    at_start: (f64, f64),
    cpu: Vec<(Phase, (f64, f64))>,
}

/// How long the nodes and PostgreSQL must stay quiet for a phase to be over.
const QUIET: Duration = Duration::from_millis(500);
/// The share of one core below which they are quiet (idle, a node and PostgreSQL together
/// take about 0.3%).
const QUIET_SHARE: f64 = 0.03;
/// The longest a phase's work is waited for after its phones are done.
const SETTLE_AT_MOST: Duration = Duration::from_secs(30);

impl Meter<'_> {
    fn read(&self) -> (f64, f64) {
        let nodes = self.nodes.iter().map(|node| node.cpu_seconds().unwrap_or(f64::NAN)).sum();
        let postgres = self.postmaster.map_or(0.0, |pid| servers::family_cpu_seconds(pid, self.ticks_per_second).unwrap_or(f64::NAN));
        (nodes, postgres)
    }

    /// Waits until the nodes and PostgreSQL are quiet, and reads their CPU time then: the
    /// work a phase leaves behind once its phones are done (projecting the dashboards,
    /// compacting) is charged to it, and the next phase starts on a quiet machine.
    fn settle(&self) -> (f64, f64) {
        let deadline = Instant::now() + SETTLE_AT_MOST;
        let mut last = self.read();
        loop {
            std::thread::sleep(QUIET);
            let now = self.read();
            let used = (now.0 - last.0) + (now.1 - last.1);
            if used.is_nan() || used < QUIET_SHARE * QUIET.as_secs_f64() || Instant::now() > deadline {
                return now;
            }
            last = now;
        }
    }
}

impl Observer for Meter<'_> {
    fn phase_starts(&mut self, _phase: Phase) {
        self.at_start = self.read();
    }

    fn phase_ends(&mut self, phase: Phase, figures: &PhaseFigures) {
        let (nodes, postgres) = self.settle();
        let cpu = (nodes - self.at_start.0, postgres - self.at_start.1);
        self.cpu.push((phase, cpu));
        eprintln!(
            "  {}: {:.2} s, {} changes, nodes' CPU {:.2} s, PostgreSQL's CPU {:.2} s",
            phase.name(),
            figures.wall.as_secs_f64(),
            figures.changes,
            cpu.0,
            cpu.1
        );
    }
}

/// A TCP proxy on loopback handing each connection to the next backend in turn.
async fn round_robin(backends: Vec<String>) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let mut next = 0;
        while let Ok((mut inbound, _)) = listener.accept().await {
            let backend = backends[next % backends.len()].clone();
            next += 1;
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&backend).await {
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Ok(address.to_string())
}

/// `host:port` of a node's `http://host:port/`.
fn host_port(node: &Server) -> String {
    node.address.trim_start_matches("http://").trim_end_matches('/').to_owned()
}

async fn run(options: &Options, shape: Shape, scratch: &Path) -> anyhow::Result<Run> {
    let phones = options.workload.phones;
    let postgres = match shape {
        Shape::OneSled => None,
        _ => Some(tokio::task::spawn_blocking(Postgres::start).await??),
    };
    let url = match &postgres {
        Some(postgres) => Some(postgres.fresh_database("bench")?),
        None => None,
    };
    let env: Vec<(&str, &str)> = url.iter().map(|url| ("HOUQIN_DATABASE_URL", url.as_str())).collect();
    let count = if matches!(shape, Shape::TwoCrossing | Shape::TwoProxied) { 2 } else { 1 };
    let mut nodes = Vec::new();
    for index in 0..count {
        let data = scratch.join(format!("{shape:?}-{index}"));
        nodes.push(Server::start_with_env(&options.programs, Kind::HouqinAnonymous, &data, &env)?);
    }
    let sync_url = |address: &str| format!("ws://{address}/sync");
    let endpoints = match shape {
        Shape::OneSled | Shape::OnePostgres => {
            Endpoints { field: vec![nodes[0].sync_url(); phones], partners: vec![nodes[0].sync_url(); phones] }
        }
        Shape::TwoCrossing => Endpoints { field: vec![nodes[0].sync_url(); phones], partners: vec![nodes[1].sync_url(); phones] },
        Shape::TwoProxied => {
            let proxy = round_robin(nodes.iter().map(host_port).collect()).await?;
            Endpoints { field: vec![sync_url(&proxy); phones], partners: vec![sync_url(&proxy); phones] }
        }
    };
    let postmaster = postgres.as_ref().map(Postgres::postmaster_pid).transpose()?;
    let mut meter =
        Meter { nodes: &nodes, postmaster, ticks_per_second: servers::ticks_per_second()?, at_start: (0.0, 0.0), cpu: Vec::new() };
    let phases = load::run(&options.workload, &endpoints, &mut meter).await;
    let cpu = std::mem::take(&mut meter.cpu);
    drop(meter);
    for node in nodes {
        node.stop().await?;
    }
    let phases = phases?;
    let disk = match (&postgres, &url) {
        (Some(postgres), Some(url)) => {
            postgres.sql(url, "SELECT pg_total_relation_size('houqin_kv')")?.parse().context("the key spaces' size does not read")?
        }
        _ => disk_bytes(&scratch.join(format!("{shape:?}-0"))),
    };
    Ok(Run { shape, phases, cpu, disk })
}

/// Runs every shape and prints their table.
pub async fn cluster(options: &Options, scratch: &Path) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    for shape in Shape::ALL {
        eprintln!("cluster: {} …", shape.name());
        runs.push(run(options, shape, scratch).await.with_context(|| format!("the run of {}", shape.name()))?);
    }
    print(options, &runs);
    Ok(())
}

fn print(options: &Options, runs: &[Run]) {
    let workload = &options.workload;
    println!(
        "\n### Several nodes: {} phones and {} partners, {} documents, trickle {} changes/s for {} s\n",
        workload.phones,
        workload.phones,
        workload.phones * load::DOCUMENTS_PER_PHONE,
        workload.trickle_rate,
        workload.trickle_for.as_secs_f64()
    );
    print!("| figure |");
    for run in runs {
        print!(" {} |", run.shape.name());
    }
    println!();
    println!("|---|{}", "---:|".repeat(runs.len()));
    let per_change = |run: &Run, phase: Phase, of: fn((f64, f64)) -> f64| {
        let changes = run.phase(phase).changes.max(1) as f64;
        format!("{:.3} ms", of(run.cpu(phase)) * 1000.0 / changes)
    };
    // PostgreSQL's CPU over the nodes' in a phase: what the capacity model divides by.
    let share = |run: &Run, phase: Phase| {
        let (nodes, postgres) = run.cpu(phase);
        if run.shape == Shape::OneSled { "–".to_owned() } else { format!("{:.2}", postgres / nodes) }
    };
    type Row<'a> = (String, Box<dyn Fn(&Run) -> String + 'a>);
    let rows: Vec<Row<'_>> = vec![
        ("initial push: changes acknowledged".into(), Box::new(|run| run.phase(Phase::Push).changes.to_string())),
        ("initial push: nodes' CPU per change".into(), Box::new(move |run| per_change(run, Phase::Push, |cpu| cpu.0))),
        ("initial push: PostgreSQL's CPU per change".into(), Box::new(move |run| per_change(run, Phase::Push, |cpu| cpu.1))),
        ("initial push: PostgreSQL's CPU ÷ the nodes'".into(), Box::new(move |run| share(run, Phase::Push))),
        ("initial push: wall".into(), Box::new(|run| format!("{:.2} s", run.phase(Phase::Push).wall.as_secs_f64()))),
        ("reconnect all: wall".into(), Box::new(|run| format!("{:.2} s", run.phase(Phase::Reconnect).wall.as_secs_f64()))),
        ("reconnect all: nodes' CPU per change".into(), Box::new(move |run| per_change(run, Phase::Reconnect, |cpu| cpu.0))),
        ("reconnect all: PostgreSQL's CPU per change".into(), Box::new(move |run| per_change(run, Phase::Reconnect, |cpu| cpu.1))),
        ("reconnect all: PostgreSQL's CPU ÷ the nodes'".into(), Box::new(move |run| share(run, Phase::Reconnect))),
        ("trickle: nodes' CPU per change".into(), Box::new(move |run| per_change(run, Phase::Trickle, |cpu| cpu.0))),
        ("trickle: PostgreSQL's CPU per change".into(), Box::new(move |run| per_change(run, Phase::Trickle, |cpu| cpu.1))),
        ("trickle: PostgreSQL's CPU ÷ the nodes'".into(), Box::new(move |run| share(run, Phase::Trickle))),
        ("trickle: change to partner p50".into(), Box::new(|run| millis(run.phase(Phase::Trickle).latency(0.50)))),
        ("trickle: change to partner p99".into(), Box::new(|run| millis(run.phase(Phase::Trickle).latency(0.99)))),
        (
            "stored bytes per document".into(),
            Box::new(move |run| format!("{:.0} B", run.disk as f64 / (workload.phones * load::DOCUMENTS_PER_PHONE) as f64)),
        ),
    ];
    for (name, value) in rows {
        print!("| {name} |");
        for run in runs {
            print!(" {} |", value(run));
        }
        println!();
    }
}
