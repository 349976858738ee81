//! `houqin-server`: parses the command line, then runs the server or a setup command.

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    limit_malloc_arenas();
    // Automerge logs what it refuses at ERROR from inside (a peer's malformed chunk, hundreds
    // of lines per attacker); each refusal reaches the server as an error, logged with
    // its peer.
    const DEFAULT_LOG: &str = "info,automerge=off";
    let cli = server::config::Cli::parse();
    // Standard output is for what a person starting the server needs (URL, demo logins);
    // logs go to standard error.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_env("HOUQIN_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG)))
        .init();
    match cli.command {
        None => tokio::runtime::Runtime::new()?.block_on(server::run(cli.config)),
        Some(command) => server::setup::run(&cli.config, command),
    }
}

/// glibc gives each thread that allocates an arena of its own and keeps what is freed there
/// for that thread; with tokio's blocking pool (loads, flushes, compaction) that held about
/// 125 MB more on a server of 100,000 documents serving 200 phones, and 700 MB more while
/// it was being filled (BENCHMARKS.md). Two arenas, unless `MALLOC_ARENA_MAX` says
/// otherwise; and large blocks always mapped (below).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: runs first in `main`, before any other thread exists; it only sets a
        // parameter of the allocator.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
    // A fixed threshold: blocks of 4 MiB and more (a password check's 19 MiB) are mapped
    // and given back whole when freed. glibc otherwise raises the threshold after the first
    // such free and serves the next from its heaps, where small allocations made meanwhile
    // pin them: 127 checks, two at a time, left 350 MB resident.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: as above, first in `main` with no other thread; a parameter only.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        }
    }
}
