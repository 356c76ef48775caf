//! `RLIMIT_MEMLOCK`: raised only on kernels that still charge BPF memory to it.
//!
//! Since 5.11 BPF maps and programs are charged to the memory cgroup and
//! `RLIMIT_MEMLOCK` no longer applies. Older kernels need the limit raised
//! (often to infinity) before creating maps. Whether it applies is detected by
//! a probe, once per process, as cilium/ebpf's `rlimit` package does: with the
//! soft limit temporarily at zero, create a one-element array map; if that
//! works, memory is charged to the memcg and nothing needs to change.
//!
//! ```no_run
//! ebpf_syscall::remove_memlock_rlimit()?;
//! # Ok::<(), ebpf_syscall::Error>(())
//! ```

use std::sync::Mutex;

use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit, setrlimit};

use crate::{Errno, Error, MapCreateAttr, MapType, Result, map_create};

/// The result of the probe: `Some(needed)` once run.
static NEEDED: Mutex<Option<bool>> = Mutex::new(None);

fn probe() -> Result<bool> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_MEMLOCK).map_err(Error::syscall("getrlimit"))?;
    if soft == RLIM_INFINITY {
        // Nothing can be learned (and nothing needs raising) with an infinite limit.
        return Ok(false);
    }
    // Lower only the soft limit: lowering the hard one is irreversible without privileges.
    setrlimit(Resource::RLIMIT_MEMLOCK, 0, hard).map_err(Error::syscall("setrlimit"))?;
    let res = map_create(&MapCreateAttr::new(MapType::ARRAY, 4, 4, 1));
    let restored = setrlimit(Resource::RLIMIT_MEMLOCK, soft, hard);
    restored.map_err(Error::syscall("setrlimit"))?;
    match res {
        Ok(_fd) => Ok(false),
        Err(e) if e.errno() == Some(Errno::PERM) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Whether this kernel charges BPF memory to `RLIMIT_MEMLOCK` (before 5.11).
/// Probed once per process (the probe briefly sets the soft limit to zero).
pub fn memlock_rlimit_needed() -> Result<bool> {
    let mut guard = NEEDED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(needed) = *guard {
        return Ok(needed);
    }
    let needed = probe()?;
    *guard = Some(needed);
    Ok(needed)
}

/// Raises `RLIMIT_MEMLOCK` to infinity if, and only if, the kernel still
/// charges BPF memory to it. The loader calls this before creating objects.
///
/// Needs `CAP_SYS_RESOURCE` when it has to raise the hard limit.
pub fn remove_memlock_rlimit() -> Result<()> {
    if !memlock_rlimit_needed()? {
        return Ok(());
    }
    setrlimit(Resource::RLIMIT_MEMLOCK, RLIM_INFINITY, RLIM_INFINITY)
        .map_err(Error::syscall("setrlimit(RLIMIT_MEMLOCK)"))
}
