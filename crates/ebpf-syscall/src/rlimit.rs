//! `RLIMIT_MEMLOCK`: raised only on kernels that still charge BPF memory to it.
//!
//! Since 5.11 BPF maps and programs are charged to the memory cgroup and
//! `RLIMIT_MEMLOCK` no longer applies. Older kernels need the limit raised
//! (often to infinity) before creating maps.
//!
//! Which kind of kernel this is, is probed once per process without touching
//! the process's limit (other threads may be creating objects meanwhile): the
//! release that moved BPF memory to the memory cgroup also added the helper
//! `bpf_ktime_get_coarse_ns`, so a socket filter calling it loads exactly on
//! kernels that account to the memory cgroup (libbpf's probe, too). Where the
//! probe cannot load any program (no privileges), the kernel version decides.
//!
//! ```no_run
//! ebpf_syscall::remove_memlock_rlimit()?;
//! # Ok::<(), ebpf_syscall::Error>(())
//! ```

use std::sync::OnceLock;

use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit, setrlimit};

use crate::{Errno, Error, KernelVersion, ProgLoadAttr, ProgramType, Result, prog_load};

/// `BPF_FUNC_ktime_get_coarse_ns`, new in 5.11 with memory-cgroup accounting.
const KTIME_GET_COARSE_NS: u8 = 160;

/// The first kernel that charges BPF memory to the memory cgroup.
const MEMCG_ACCOUNTING: KernelVersion = KernelVersion::new(5, 11, 0);

/// Whether the kernel charges BPF memory to `RLIMIT_MEMLOCK`, probed once.
fn charges_memlock() -> bool {
    static CHARGES: OnceLock<bool> = OnceLock::new();
    *CHARGES.get_or_init(|| {
        // `call bpf_ktime_get_coarse_ns; exit`, little- or big-endian alike
        // (the immediate fits one byte; the register nibbles are zero).
        let imm = |b: u8| {
            if cfg!(target_endian = "little") {
                [b, 0, 0, 0]
            } else {
                [0, 0, 0, b]
            }
        };
        let mut insns = [0u8; 16];
        insns[0] = 0x85;
        insns[4..8].copy_from_slice(&imm(KTIME_GET_COARSE_NS));
        insns[8] = 0x95;
        let mut attr = ProgLoadAttr::new(ProgramType::SOCKET_FILTER, c"GPL");
        if attr.set_insns(&insns).is_err() {
            return by_version();
        }
        match prog_load(&attr) {
            Ok(_fd) => false,
            Err(e) if e.errno() == Some(Errno::INVAL) => true,
            Err(_) => by_version(),
        }
    })
}

/// The fallback: kernels before 5.11 charge `RLIMIT_MEMLOCK`.
fn by_version() -> bool {
    crate::current_kernel().is_ok_and(|v| v < MEMCG_ACCOUNTING)
}

/// Whether this kernel charges BPF memory to `RLIMIT_MEMLOCK` (before 5.11)
/// and the process's soft limit is finite, so that it may need raising.
/// Probed once per process; never changes the process's limits.
pub fn memlock_rlimit_needed() -> Result<bool> {
    let (soft, _) = getrlimit(Resource::RLIMIT_MEMLOCK).map_err(Error::syscall("getrlimit"))?;
    Ok(soft != RLIM_INFINITY && charges_memlock())
}

/// Raises `RLIMIT_MEMLOCK` to infinity if, and only if, the kernel still
/// charges BPF memory to it. `ebpf` calls this once per process before it creates its
/// first map, program or BTF object.
///
/// Needs `CAP_SYS_RESOURCE` when it has to raise the hard limit.
pub fn remove_memlock_rlimit() -> Result<()> {
    if !memlock_rlimit_needed()? {
        return Ok(());
    }
    setrlimit(Resource::RLIMIT_MEMLOCK, RLIM_INFINITY, RLIM_INFINITY)
        .map_err(Error::syscall("setrlimit(RLIMIT_MEMLOCK)"))
}
