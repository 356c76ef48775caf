//! Program type and helper probes: load a tiny program of the type.

use std::os::fd::OwnedFd;

use ebpf_asm::{Helper, Register, call, exit, mov64};
use ebpf_syscall::{AttachType, Errno, Error, ProgLoadAttr, ProgType, prog_load};

use super::{FeatureError, FeatureResult, KernelVersion, Key, cached, encode, trivial_program, v};

/// The first kernel with program type `t`, if this crate knows `t`.
pub fn prog_type_min_kernel(t: ProgType) -> Option<KernelVersion> {
    Some(match t {
        ProgType::SOCKET_FILTER => v(3, 19),
        ProgType::KPROBE | ProgType::SCHED_CLS | ProgType::SCHED_ACT => v(4, 1),
        ProgType::TRACEPOINT => v(4, 7),
        ProgType::XDP => v(4, 8),
        ProgType::PERF_EVENT => v(4, 9),
        ProgType::CGROUP_SKB
        | ProgType::CGROUP_SOCK
        | ProgType::LWT_IN
        | ProgType::LWT_OUT
        | ProgType::LWT_XMIT => v(4, 10),
        ProgType::SOCK_OPS => v(4, 13),
        ProgType::SK_SKB => v(4, 14),
        ProgType::CGROUP_DEVICE => v(4, 15),
        ProgType::SK_MSG | ProgType::RAW_TRACEPOINT | ProgType::CGROUP_SOCK_ADDR => v(4, 17),
        ProgType::LWT_SEG6LOCAL | ProgType::LIRC_MODE2 => v(4, 18),
        ProgType::SK_REUSEPORT => v(4, 19),
        ProgType::FLOW_DISSECTOR => v(4, 20),
        ProgType::CGROUP_SYSCTL | ProgType::RAW_TRACEPOINT_WRITABLE => v(5, 2),
        ProgType::CGROUP_SOCKOPT => v(5, 3),
        ProgType::TRACING => v(5, 5),
        ProgType::STRUCT_OPS | ProgType::EXT => v(5, 6),
        ProgType::LSM => v(5, 7),
        ProgType::SK_LOOKUP => v(5, 9),
        ProgType::SYSCALL => v(5, 14),
        ProgType::NETFILTER => v(6, 4),
        _ => return None,
    })
}

/// `(first helper id, kernel)`: helper ids are assigned in release order, so
/// the helper with id `n` appeared in the kernel of the last entry whose
/// first id is `<= n` (from the kernel's release history, up to 6.2).
const HELPER_VERSIONS: &[(u32, KernelVersion)] = &[
    (1, v(3, 19)),
    (4, v(4, 1)),
    (12, v(4, 2)),
    (17, v(4, 3)),
    (23, v(4, 4)),
    (26, v(4, 5)),
    (27, v(4, 6)),
    (31, v(4, 8)),
    (37, v(4, 9)),
    (42, v(4, 10)),
    (45, v(4, 11)),
    (46, v(4, 12)),
    (48, v(4, 13)),
    (51, v(4, 14)),
    (54, v(4, 15)),
    (58, v(4, 16)),
    (60, v(4, 17)),
    (65, v(4, 18)),
    (81, v(4, 19)),
    (84, v(4, 20)),
    (91, v(5, 0)),
    (93, v(5, 1)),
    (99, v(5, 2)),
    (110, v(5, 3)),
    (112, v(5, 5)),
    (120, v(5, 6)),
    (122, v(5, 7)),
    (130, v(5, 8)),
    (136, v(5, 9)),
    (142, v(5, 10)),
    (156, v(5, 11)),
    (163, v(5, 12)),
    (164, v(5, 13)),
    (166, v(5, 14)),
    (169, v(5, 15)),
    (176, v(5, 16)),
    (180, v(5, 17)),
    (186, v(5, 18)),
    (194, v(5, 19)),
    (204, v(6, 0)),
    (208, v(6, 1)),
    (210, v(6, 2)),
];

/// The first kernel with `helper` (in some program type): exact for helpers
/// up to 5.5, a lower bound for some later ones (see the table's comment).
pub fn helper_min_kernel(helper: Helper) -> KernelVersion {
    let id = helper.id();
    HELPER_VERSIONS
        .iter()
        .rev()
        .find(|(first, _)| *first <= id)
        .map_or(v(3, 19), |(_, version)| *version)
}

/// Program types that need an attach target (BTF id or program) to load; the
/// probe loads them without one and reads "known type" from the verifier
/// having run (a non-empty log, or `ENOTSUPP` from the target lookup).
fn needs_target(t: ProgType) -> bool {
    matches!(
        t,
        ProgType::TRACING | ProgType::STRUCT_OPS | ProgType::EXT | ProgType::LSM
    )
}

fn expected_attach_type(t: ProgType) -> AttachType {
    match t {
        ProgType::CGROUP_SOCK_ADDR => AttachType::CGROUP_INET4_CONNECT,
        ProgType::CGROUP_SOCKOPT => AttachType::CGROUP_GETSOCKOPT,
        ProgType::SK_LOOKUP => AttachType::SK_LOOKUP,
        ProgType::NETFILTER => AttachType::NETFILTER,
        ProgType::TRACING => AttachType::TRACE_RAW_TP,
        ProgType::LSM => AttachType::LSM_MAC,
        _ => AttachType(0),
    }
}

fn load(t: ProgType, insns: &[u8]) -> Result<OwnedFd, Error> {
    let mut attr = ProgLoadAttr::new(t, c"GPL");
    attr.set_insns(insns)?;
    attr.expected_attach_type = expected_attach_type(t);
    if t == ProgType::SYSCALL {
        // Syscall programs must be sleepable.
        attr.prog_flags = ebpf_syscall::BPF_F_SLEEPABLE;
    }
    // Kernels before 5.0 check this for kprobes.
    attr.kern_version = KernelVersion::current().map_or(0, KernelVersion::code);
    prog_load(&attr)
}

/// Whether the kernel got past "unknown program type": the verifier ran and
/// logged something, or a target lookup said ENOTSUPP.
fn verifier_ran(e: &Error) -> bool {
    e.errno() == Some(Errno::ENOTSUPP) || e.log().is_some_and(|l| !l.is_empty())
}

/// Probes whether the kernel can load programs of type `t`.
///
/// # Minimum kernel version
///
/// See [`prog_type_min_kernel`]. A kernel in lockdown refuses some types to
/// root (`EPERM`), which is [`FeatureError::Probe`], not "not supported".
pub fn have_prog_type(t: ProgType) -> FeatureResult {
    let Some(min) = prog_type_min_kernel(t) else {
        return Err(FeatureError::Probe {
            feature: t.to_string(),
            errno: None,
            message: "no probe for this program type".into(),
        });
    };
    cached(Key::Prog(t.0), || {
        let feature = t.to_string();
        match load(t, &trivial_program()) {
            Ok(_fd) => Ok(()),
            Err(e) if needs_target(t) && verifier_ran(&e) => Ok(()),
            // EINVAL: unknown type (no log: it fails before the verifier).
            // E2BIG: the attr is longer than the kernel's, non-zero past its end.
            Err(e) if matches!(e.errno(), Some(Errno::INVAL | Errno::TOOBIG)) => Err(
                FeatureError::missing_config(feature, min, prog_type_kernel_config(t)),
            ),
            Err(e) => Err(FeatureError::probe(feature, &e)),
        }
    })
}

/// The kernel option a program type needs besides a new enough kernel.
pub fn prog_type_kernel_config(t: ProgType) -> Option<&'static str> {
    match t {
        ProgType::LIRC_MODE2 => Some("CONFIG_BPF_LIRC_MODE2"),
        ProgType::LSM => Some("CONFIG_BPF_LSM"),
        ProgType::KPROBE | ProgType::TRACEPOINT | ProgType::PERF_EVENT => Some("CONFIG_BPF_EVENTS"),
        ProgType::NETFILTER => Some("CONFIG_NETFILTER_BPF_LINK"),
        _ => None,
    }
}

/// Probes whether programs of type `t` may call `helper`, by loading
/// `call helper; r0 = 0; exit` and reading the verifier's verdict: "invalid
/// func", "unknown func" or "cannot use helper" mean no; a failure about the
/// helper's arguments means yes.
///
/// # Minimum kernel version
///
/// The later of the program type's ([`prog_type_min_kernel`]) and the
/// helper's ([`helper_min_kernel`]). A helper may also never be allowed in a
/// program type, which reads as "not supported" too: probe only combinations
/// the kernel documents.
pub fn have_prog_helper(t: ProgType, helper: Helper) -> FeatureResult {
    cached(Key::Helper(t.0, helper.id()), || {
        have_prog_type(t)?;
        let feature = format!("helper {} in {t}", helper.name());
        let min = prog_type_min_kernel(t)
            .unwrap_or(v(3, 19))
            .max(helper_min_kernel(helper));
        let insns = encode(vec![call(helper), mov64(Register::R0, 0), exit()]);
        match load(t, &insns) {
            Ok(_fd) => Ok(()),
            Err(e) => {
                let text = e.log().map(|l| l.as_str().to_owned()).unwrap_or_default();
                let refused = ["invalid func ", "unknown func ", "cannot use helper "]
                    .iter()
                    .any(|m| text.contains(m));
                if refused {
                    Err(FeatureError::missing(feature, min))
                } else if matches!(e.errno(), Some(Errno::INVAL | Errno::ACCES)) && !text.is_empty()
                {
                    // The verifier knew the helper and objected to its arguments.
                    Ok(())
                } else {
                    Err(FeatureError::probe(feature, &e))
                }
            }
        }
    })
}
