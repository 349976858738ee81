//! The server's resident memory, and the bound at which it takes no new connections.
//!
//! Each part of the server has its own bound (see ARCHITECTURE.md "Memory"), and their
//! sum for the connections and documents a department has is the budget; this is the
//! backstop when more arrives at once than the machine holds. At [`Resident::bound`] new
//! connections are closed as they are accepted (`connections::Guarded`), while those open
//! go on and finish their work; once memory is back under it they are taken again. The
//! crossing is logged once each way.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The part of the machine's memory (or its control group's limit, if lower) the server
/// may fill before it refuses new connections, unless told otherwise (`--max-memory-mib`).
const DEFAULT_SHARE: (u64, u64) = (3, 4);
/// How often the allocator is asked to give back what it holds free, at most, while over.
const TRIM_EVERY: Duration = Duration::from_secs(5);

/// Watches resident memory against a bound.
pub struct Resident {
    bound: u64,
    state: Mutex<State>,
}

struct State {
    over: bool,
    trimmed: Option<Instant>,
}

impl Resident {
    /// A watch refusing at `bound` bytes resident.
    pub fn new(bound: u64) -> Resident {
        Resident { bound, state: Mutex::new(State { over: false, trimmed: None }) }
    }

    /// Three quarters of this machine's memory, or of the control group's limit if lower.
    pub fn for_this_machine() -> Resident {
        let total = [machine_memory(), group_limit()].into_iter().flatten().min().unwrap_or(u64::MAX);
        Resident::new(total / DEFAULT_SHARE.1 * DEFAULT_SHARE.0)
    }

    pub fn bound(&self) -> u64 {
        self.bound
    }

    /// Whether a new connection may be taken: resident memory is under the bound (after
    /// the allocator gives back what it holds free, when it is not).
    pub fn admits(&self) -> bool {
        let Some(mut resident) = resident_bytes() else { return true };
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if resident >= self.bound && state.trimmed.is_none_or(|at| at.elapsed() >= TRIM_EVERY) {
            crate::os::trim_allocator();
            state.trimmed = Some(Instant::now());
            resident = resident_bytes().unwrap_or(resident);
        }
        let over = resident >= self.bound;
        if over != state.over {
            state.over = over;
            let (resident_mib, bound_mib) = (resident >> 20, self.bound >> 20);
            if over {
                tracing::warn!(resident_mib, bound_mib, "resident memory reached its bound: refusing new connections until it falls");
            } else {
                tracing::info!(resident_mib, bound_mib, "resident memory is under its bound again: taking new connections");
            }
        }
        !over
    }
}

/// This process's resident memory, from `/proc/self/statm`.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * crate::os::page_size()?)
}

/// The machine's memory, from `/proc/meminfo`.
fn machine_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = meminfo.lines().find_map(|line| line.strip_prefix("MemTotal:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib << 10)
}

/// The memory limit of this process's control group, if it has one: cgroup v2's
/// `memory.max`, or v1's `memory.limit_in_bytes` (a container sees its own group at the
/// root of the hierarchy; "no limit" reads as `max` or a huge number).
fn group_limit() -> Option<u64> {
    let group = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let (v2, v1) = (
        group.lines().find_map(|line| line.strip_prefix("0::")),
        group.lines().find_map(|line| line.split_once(":memory:").map(|(_, path)| path)),
    );
    let candidates = [
        v1.map(|path| format!("/sys/fs/cgroup/memory{}/memory.limit_in_bytes", path.trim_end_matches('/'))),
        Some("/sys/fs/cgroup/memory/memory.limit_in_bytes".to_owned()),
        v2.map(|path| format!("/sys/fs/cgroup{}/memory.max", path.trim_end_matches('/'))),
        Some("/sys/fs/cgroup/memory.max".to_owned()),
    ];
    candidates.into_iter().flatten().find_map(|file| std::fs::read_to_string(file).ok()?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_measured_and_the_bound_refuses_at_it() {
        let resident = resident_bytes().unwrap();
        assert!(resident > 1 << 20, "{resident}");
        assert!(Resident::new(u64::MAX).admits());
        let tight = Resident::new(1 << 20);
        assert!(!tight.admits());
        assert!(!tight.admits(), "and stays refusing while over");
        let machine = Resident::for_this_machine().bound();
        assert!(machine > 64 << 20 && machine < machine_memory().unwrap(), "{machine}");
    }
}
