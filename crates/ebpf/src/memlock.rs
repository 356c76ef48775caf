//! `RLIMIT_MEMLOCK`, raised once per process before the first map, program or BTF object,
//! as libbpf does in `bpf_map_create`, `bpf_prog_load` and `bpf_btf_load`.
//!
//! Kernels before 5.11 charge BPF memory to `RLIMIT_MEMLOCK`, whose default (often 64 KiB
//! or 8 MiB) refuses all but small maps with `EPERM`. Newer kernels charge the memory
//! cgroup instead, and there the limit is left alone
//! ([`ebpf_syscall::remove_memlock_rlimit`] decides by probing, once).

use std::sync::Once;

/// Raises the limit if this kernel needs it, the first time any caller asks. A failure (no
/// `CAP_SYS_RESOURCE` to raise the hard limit) is logged, not returned: the kernel's
/// `EPERM` that may follow carries the hint that names the limit.
pub(crate) fn raise_once() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Err(e) = ebpf_syscall::remove_memlock_rlimit() {
            log::debug!(
                "RLIMIT_MEMLOCK not raised: {}",
                ebpf_syscall::ErrorChain(&e)
            );
        }
    });
}
