//! Server CPU per pushed and per fetched document, side by side in one run: Houqin's
//! server, the npm automerge-repo reference server (Repo + NodeFS storage + WebSocket
//! server adapter) and samod, each its own process, each fed the same documents by the
//! same native client. Prints a Markdown table for BENCHMARKS.md.
//!
//! usage: sync_bench --houqin <houqin-server> --samod <samod_server> --js <tests/js> [--documents N]
//! (`cargo xtask bench-sync` builds everything in release and runs it.)

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use automerge::{ActorId, AutoCommit};
use shared::directory::{SiteId, Username};
use shared::document::inspection::{AnswerValue, Inspection, NewInspection};
use shared::document::{Edit, EntryId, seeds};
use shared::protocol::DocumentId;
use shared::protocol::client::{Client, ClientConfig, SyncStatus};
use shared::protocol::message::PeerId;
use shared::time::Timestamp;
use tests::native_client::{now, sync_until};

struct Options {
    houqin: PathBuf,
    samod: PathBuf,
    js: PathBuf,
    documents: usize,
}

fn options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let (mut houqin, mut samod, mut js, mut documents) = (None, None, None, 1000);
    while let Some(flag) = args.next() {
        let value = args.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--houqin" => houqin = Some(PathBuf::from(value)),
            "--samod" => samod = Some(PathBuf::from(value)),
            "--js" => js = Some(PathBuf::from(value)),
            "--documents" => documents = value.parse().context("--documents takes a number")?,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(Options {
        houqin: houqin.context("--houqin is required")?,
        samod: samod.context("--samod is required")?,
        js: js.context("--js is required")?,
        documents,
    })
}

/// A finished round of inspections: the fire-safety checklist, every item answered, a note.
fn documents(count: usize) -> Vec<(DocumentId, AutoCommit)> {
    let checklist = seeds::fire_safety();
    (0..count)
        .map(|index| {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&(index as u64).to_le_bytes());
            let edit = Edit::new(Username::parse("inspector").unwrap(), Timestamp::from_millis(1_790_000_000_000 + index as i64 * 60_000));
            let new = NewInspection {
                site: SiteId::parse("hq").unwrap(),
                template: "automerge:fire".into(),
                checklist: checklist.clone(),
                location: format!("hq-b{}", index % 12),
                rooms: Vec::new(),
                assignees: vec![Username::parse("inspector").unwrap()],
            };
            let mut actor = bytes;
            actor[15] = 0xac;
            let mut round = Inspection::start(ActorId::from(actor), &new, &edit).unwrap();
            for item in &checklist.items {
                let value = match &item.kind {
                    shared::document::template::ItemKind::Number { .. } => AnswerValue::Number(1_500),
                    shared::document::template::ItemKind::Text => AnswerValue::Text("通道畅通，无杂物".into()),
                    shared::document::template::ItemKind::Signature => {
                        AnswerValue::Blob(shared::document::BlobRef::new(&"5e".repeat(32), 20_480, "image/png").unwrap())
                    }
                    _ => AnswerValue::Pass,
                };
                round.answer(None, &item.id, &value, &edit).unwrap();
            }
            round.add_note(&EntryId::parse("n1").unwrap(), None, None, "三楼东侧灭火器已更换", &edit).unwrap();
            (DocumentId::from_random(bytes), round.into_doc())
        })
        .collect()
}

/// User plus system CPU of a process so far, in milliseconds.
fn cpu_millis(pid: u32, ticks_per_second: f64) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).context("reading /proc (Linux only)")?;
    let after_name = stat.rsplit_once(')').context("unexpected /proc stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the file are utime and stime; `fields` starts at field 3.
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    Ok(ticks * 1000.0 / ticks_per_second)
}

fn disk_bytes(path: &Path) -> u64 {
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

struct Row {
    name: &'static str,
    push_cpu_ms: f64,
    fetch_cpu_ms: f64,
    push_wall: Duration,
    fetch_wall: Duration,
    disk: u64,
}

enum Stop {
    Terminate,
    CloseStdin,
}

async fn measure(
    name: &'static str,
    mut command: Command,
    stop: Stop,
    url_of: impl AsyncFn(&str) -> anyhow::Result<String>,
    data: &Path,
    documents: &[(DocumentId, AutoCommit)],
    ticks: f64,
) -> anyhow::Result<Row> {
    let mut child: Child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().with_context(|| format!("cannot start {name}"))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line)?;
    let url = url_of(line.trim()).await?;
    let pid = child.id();
    let ids: Vec<DocumentId> = documents.iter().map(|(id, _)| *id).collect();
    let all_synced = |client: &Client| ids.iter().all(|id| client.status(id) == Some(SyncStatus::Synced));
    let patience = Duration::from_secs(600);

    let mut pusher = Client::new(ClientConfig::new(PeerId(format!("pusher-{name}"))), now());
    for (id, doc) in documents {
        pusher.add_document(*id, doc.clone());
    }
    let (cpu_before, started) = (cpu_millis(pid, ticks)?, Instant::now());
    sync_until(&mut pusher, &url, patience, all_synced).await.with_context(|| format!("pushing to {name}"))?;
    let (push_wall, cpu_pushed) = (started.elapsed(), cpu_millis(pid, ticks)?);

    let mut fetcher = Client::new(ClientConfig::new(PeerId(format!("fetcher-{name}"))), now());
    for id in &ids {
        fetcher.request_document(*id);
    }
    let started = Instant::now();
    sync_until(&mut fetcher, &url, patience, all_synced).await.with_context(|| format!("fetching from {name}"))?;
    let (fetch_wall, cpu_fetched) = (started.elapsed(), cpu_millis(pid, ticks)?);

    match stop {
        Stop::Terminate => {
            Command::new("kill").args(["-TERM", &pid.to_string()]).status()?;
        }
        Stop::CloseStdin => drop(child.stdin.take()),
    }
    let _ = tokio::task::spawn_blocking(move || child.wait()).await?;
    let count = documents.len() as f64;
    Ok(Row {
        name,
        push_cpu_ms: (cpu_pushed - cpu_before) / count,
        fetch_cpu_ms: (cpu_fetched - cpu_pushed) / count,
        push_wall,
        fetch_wall,
        disk: disk_bytes(data),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let ticks: f64 = String::from_utf8(Command::new("getconf").arg("CLK_TCK").output()?.stdout)?.trim().parse()?;
    let documents = documents(options.documents);
    let average: usize = documents.iter().map(|(_, doc)| doc.clone().save().len()).sum::<usize>() / documents.len().max(1);
    println!("{} inspection documents of {} bytes on average (fire-safety round, every item answered)\n", documents.len(), average);

    let scratch = tempfile::tempdir()?;
    let mut rows = Vec::new();

    let ours = scratch.path().join("houqin");
    // The pushing phone signs in as a storekeeper at hq, set up like any deployment.
    let setup = |args: &[&str]| -> anyhow::Result<()> {
        let status = Command::new(&options.houqin).args(args).arg("--data").arg(&ours).env("HOUQIN_PASSWORD", "bench-password").env("HOUQIN_LOG", "error").stdout(Stdio::null()).status()?;
        anyhow::ensure!(status.success(), "houqin-server {args:?} failed");
        Ok(())
    };
    setup(&["site", "add", "hq", "总部"])?;
    setup(&["user", "add", "bench", "--name", "Bench", "--role", "hq:storekeeper"])?;
    let mut command = Command::new(&options.houqin);
    command.args(["--addr", "127.0.0.1:0", "--dist"]).arg(scratch.path().join("no-dist")).arg("--data").arg(&ours).env("HOUQIN_LOG", "error");
    let url_of = async |line: &str| -> anyhow::Result<String> {
        let base = line.trim_start_matches("Houqin is running at ");
        let response = reqwest::Client::builder()
            .no_proxy()
            .build()?
            .post(format!("{base}api/login"))
            .json(&serde_json::json!({ "username": "bench", "password": "bench-password" }))
            .send()
            .await?
            .error_for_status()?;
        let body: serde_json::Value = response.json().await?;
        let token = body["token"].as_str().context("no token in the sign-in answer")?;
        Ok(format!("{}sync?token={token}", base.replacen("http://", "ws://", 1)))
    };
    rows.push(measure("houqin-server", command, Stop::Terminate, url_of, &ours, &documents, ticks).await?);

    let reference = scratch.path().join("js");
    let mut command = Command::new("node");
    command.current_dir(&options.js).arg("reference_server.mjs").arg(&reference);
    rows.push(measure("automerge-repo (JS)", command, Stop::CloseStdin, async |port: &str| Ok(format!("ws://127.0.0.1:{port}")), &reference, &documents, ticks).await?);

    let samod = scratch.path().join("samod");
    let mut command = Command::new(&options.samod);
    command.arg(&samod);
    rows.push(measure("samod", command, Stop::CloseStdin, async |url: &str| Ok(url.to_owned()), &samod, &documents, ticks).await?);

    println!("| server | CPU per pushed document | CPU per fetched document | push wall | fetch wall | on disk |");
    println!("|---|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {:.2} ms | {:.2} ms | {:.2} s | {:.2} s | {:.1} MB |",
            row.name,
            row.push_cpu_ms,
            row.fetch_cpu_ms,
            row.push_wall.as_secs_f64(),
            row.fetch_wall.as_secs_f64(),
            row.disk as f64 / 1e6
        );
    }
    let ours = &rows[0];
    println!();
    for theirs in &rows[1..] {
        println!(
            "houqin / {}: push CPU {:.2}×, fetch CPU {:.2}×",
            theirs.name,
            ours.push_cpu_ms / theirs.push_cpu_ms.max(f64::EPSILON),
            ours.fetch_cpu_ms / theirs.fetch_cpu_ms.max(f64::EPSILON)
        );
    }
    Ok(())
}
