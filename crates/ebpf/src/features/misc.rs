//! Verifier and syscall feature probes.

use ebpf_asm::Register::{R0, R1, R10};
use ebpf_asm::{AluOp, AtomicOp, JumpOp, Size, exit, mov64, store_imm};
use ebpf_syscall::{
    BPF_F_MMAPABLE, Errno, MapCreateAttr, MapType, ProgLoadAttr, ProgramType, map_create, obj_name,
    prog_load,
};

use super::{FeatureError, FeatureResult, Key, cached, encode, v};

fn load_socket_filter(insns: &[u8], name: Option<&str>) -> Result<(), ebpf_syscall::Error> {
    let mut attr = ProgLoadAttr::new(ProgramType::SOCKET_FILTER, c"GPL");
    attr.set_insns(insns)?;
    if let Some(name) = name {
        attr.prog_name = obj_name(name)?;
    }
    prog_load(&attr).map(drop)
}

/// Probes whether the verifier accepts bounded loops (a backward jump).
///
/// # Minimum kernel version
///
/// 5.3.
pub fn have_bounded_loops() -> FeatureResult {
    cached(Key::Misc("bounded loops"), || {
        let insns = encode(vec![
            mov64(R0, 10),
            AluOp::Sub.imm(R0, 1).with_symbol("loop"),
            JumpOp::Ne.imm(R0, 0, "loop"),
            exit(),
        ]);
        match load_socket_filter(&insns, None) {
            Ok(()) => Ok(()),
            // "back-edge from insn 2 to 1"
            Err(e) if matches!(e.errno(), Some(Errno::INVAL)) => {
                Err(FeatureError::missing("bounded loops", v(5, 3)))
            }
            Err(e) => Err(FeatureError::probe("bounded loops", &e)),
        }
    })
}

/// Probes whether the verifier accepts the atomic operations beyond add:
/// the fetching forms (`atomic_fetch_add`, ...), `xchg`, `cmpxchg` and
/// and/or/xor (one is probed: a fetch-add on the stack).
///
/// # Minimum kernel version
///
/// 5.12.
pub fn have_atomics() -> FeatureResult {
    cached(Key::Misc("atomics"), || {
        let insns = encode(vec![
            store_imm(R10, -8, 0, Size::DW),
            mov64(R1, 1),
            AtomicOp::FetchAdd.mem(R10, R1, -8, Size::DW),
            mov64(R0, 0),
            exit(),
        ]);
        match load_socket_filter(&insns, None) {
            Ok(()) => Ok(()),
            // "BPF_STX uses reserved fields" / "BPF_XADD uses reserved fields"
            Err(e) if matches!(e.errno(), Some(Errno::INVAL)) => Err(FeatureError::missing(
                "atomic fetch, xchg and cmpxchg",
                v(5, 12),
            )),
            Err(e) => Err(FeatureError::probe("atomics", &e)),
        }
    })
}

/// Probes whether programs may have more than 4096 instructions (the limit
/// is 1 million since 5.2).
///
/// # Minimum kernel version
///
/// 5.2.
pub fn have_large_instructions() -> FeatureResult {
    cached(Key::Misc("large instructions"), || {
        let mut insns = vec![mov64(R0, 0); 4096];
        insns.push(exit());
        let insns = encode(insns);
        match load_socket_filter(&insns, None) {
            Ok(()) => Ok(()),
            Err(e) if matches!(e.errno(), Some(Errno::INVAL | Errno::TOOBIG)) => Err(
                FeatureError::missing("more than 4096 instructions", v(5, 2)),
            ),
            Err(e) => Err(FeatureError::probe("more than 4096 instructions", &e)),
        }
    })
}

/// Probes whether array maps can be created with `BPF_F_MMAPABLE`.
///
/// # Minimum kernel version
///
/// 5.5.
pub fn have_mmapable_maps() -> FeatureResult {
    cached(Key::Misc("mmapable maps"), || {
        let mut attr = MapCreateAttr::new(MapType::ARRAY, 4, 4, 1);
        attr.map_flags = BPF_F_MMAPABLE;
        match map_create(&attr) {
            Ok(_fd) => Ok(()),
            Err(e) if e.errno() == Some(Errno::INVAL) => {
                Err(FeatureError::missing("BPF_F_MMAPABLE", v(5, 5)))
            }
            Err(e) => Err(FeatureError::probe("BPF_F_MMAPABLE", &e)),
        }
    })
}

fn named_map(name: &str) -> Result<(), ebpf_syscall::Error> {
    let mut attr = MapCreateAttr::new(MapType::ARRAY, 4, 4, 1);
    attr.map_name = obj_name(name)?;
    map_create(&attr).map(drop)
}

/// Probes whether maps and programs can be named (`map_name`, `prog_name`).
///
/// # Minimum kernel version
///
/// 4.15.
pub fn have_object_names() -> FeatureResult {
    cached(Key::Misc("object names"), || {
        match named_map("feature_test") {
            Ok(()) => Ok(()),
            Err(e) if e.errno() == Some(Errno::INVAL) => {
                Err(FeatureError::missing("object names", v(4, 15)))
            }
            Err(e) => Err(FeatureError::probe("object names", &e)),
        }
    })
}

/// Probes whether object names may contain dots (`.rodata`).
///
/// # Minimum kernel version
///
/// 5.2.
pub fn have_object_names_with_dots() -> FeatureResult {
    cached(Key::Misc("object names with dots"), || {
        have_object_names()?;
        match named_map(".test") {
            Ok(()) => Ok(()),
            Err(e) if e.errno() == Some(Errno::INVAL) => {
                Err(FeatureError::missing("dots in object names", v(5, 2)))
            }
            Err(e) => Err(FeatureError::probe("dots in object names", &e)),
        }
    })
}

/// Probes whether kprobe and uprobe programs can read a BPF cookie
/// (`bpf_get_attach_cookie`, set when a perf event link or a multi-probe link
/// is created): what libbpf's `LINUX_HAS_BPF_COOKIE` says, and what USDT
/// attachments use to find their argument specs (`ebpf_link::usdt`).
///
/// # Minimum kernel version
///
/// 5.15.
pub fn have_bpf_cookie() -> FeatureResult {
    super::have_prog_helper(ProgramType::KPROBE, ebpf_asm::Helper::GetAttachCookie)
}

/// The architecture's name in the kernel's system call wrappers
/// (`__x64_sys_bpf`, `__arm64_sys_bpf`, ...), as libbpf has it; `None` for
/// architectures without wrappers.
pub fn syscall_arch_prefix() -> Option<&'static str> {
    Some(if cfg!(target_arch = "x86_64") {
        "x64"
    } else if cfg!(target_arch = "x86") {
        "ia32"
    } else if cfg!(target_arch = "aarch64") {
        "arm64"
    } else if cfg!(target_arch = "arm") {
        "arm"
    } else if cfg!(target_arch = "s390x") {
        "s390x"
    } else if cfg!(any(target_arch = "riscv64", target_arch = "riscv32")) {
        "riscv"
    } else if cfg!(target_arch = "powerpc64") {
        "powerpc64"
    } else if cfg!(target_arch = "powerpc") {
        "powerpc"
    } else if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
        "mips"
    } else if cfg!(target_arch = "loongarch64") {
        "loongarch"
    } else {
        return None;
    })
}

/// Probes whether system calls enter the kernel through per-architecture
/// wrappers taking `struct pt_regs` (`__x64_sys_<name>`, `__arm64_sys_<name>`,
/// ...), what libbpf's `LINUX_HAS_SYSCALL_WRAPPER` says: by the wrapper of
/// `bpf(2)` in `/proc/kallsyms` (libbpf opens a kprobe on it; reading the
/// symbols also works on kernels without kprobes).
///
/// # Minimum kernel version
///
/// 4.17 on x86-64 (4.19 arm64, 5.7 riscv, ...).
pub fn have_syscall_wrapper() -> FeatureResult {
    cached(Key::Misc("syscall wrapper"), || {
        let feature = "system call wrappers (__<arch>_sys_<name>)";
        let Some(arch) = syscall_arch_prefix() else {
            return Err(FeatureError::missing(feature, v(4, 17)));
        };
        let text = std::fs::read_to_string("/proc/kallsyms").map_err(|e| FeatureError::Probe {
            feature: feature.to_owned(),
            errno: e.raw_os_error().map(Errno),
            message: format!("read /proc/kallsyms: {e}"),
        })?;
        let wanted = format!("__{arch}_sys_bpf");
        let found = text
            .lines()
            .any(|l| l.split_whitespace().nth(2) == Some(wanted.as_str()));
        if found {
            Ok(())
        } else {
            Err(FeatureError::missing(feature, v(4, 17)))
        }
    })
}

/// The kernel function behind system call `name` on the running kernel, as
/// libbpf's `ksyscall` programs attach: `__<arch>_sys_<name>` when system
/// calls go through wrappers (an undecided probe counts as yes: every recent
/// kernel has them), else `__se_sys_<name>`.
pub fn syscall_function(name: &str) -> String {
    match (syscall_arch_prefix(), have_syscall_wrapper()) {
        (Some(arch), Ok(()) | Err(FeatureError::Probe { .. })) => format!("__{arch}_sys_{name}"),
        _ => format!("__se_sys_{name}"),
    }
}
