//! The operating system's and the C allocator's knobs: the only module with `unsafe`
//! (the workspace denies it elsewhere), each call a thin wrapper over one libc function.
#![allow(unsafe_code, reason = "libc calls, each with its SAFETY note")]

use std::path::Path;

/// The process's limit on open files.
pub fn descriptor_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes the struct it is given and nothing else.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0).then_some(limit.rlim_cur)
}

/// Raises the soft limit on open files to the hard one (1,024 soft is common, which a few
/// hundred phones with a browser's connections each would reach); returns the limit.
pub fn raise_descriptor_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read or write only the struct they are given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return Some(raised.rlim_cur);
            }
        }
    }
    Some(limit.rlim_cur)
}

/// The size of a memory page in bytes.
pub fn page_size() -> Option<u64> {
    // SAFETY: sysconf only reads a configuration value.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(page).ok()
}

/// Bytes free for an unprivileged process on the file system holding `path`.
pub fn available_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt as _;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a NUL-terminated string and `stats` is written by the call before
    // it is read, which happens only when the call succeeds.
    let stats = unsafe {
        if libc::statvfs(path.as_ptr(), stats.as_mut_ptr()) != 0 {
            return None;
        }
        stats.assume_init()
    };
    Some(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// Asks the allocator to give the system back the memory it holds free.
pub fn trim_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of glibc's own heap.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// glibc gives each thread that allocates an arena of its own and keeps what is freed there
/// for that thread; with tokio's blocking pool (loads, flushes, compaction) that held about
/// 125 MB more on a server of 100,000 documents serving 200 phones, and 700 MB more while
/// it was being filled (BENCHMARKS.md). Two arenas, unless `MALLOC_ARENA_MAX` says
/// otherwise; and large blocks always mapped (below).
///
/// Call first in `main`, before any other thread exists.
pub fn tune_allocator() {
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
