//! Program type and helper probes: load a tiny program of the type.

use std::os::fd::OwnedFd;

use ebpf_asm::{Helper, Register, call, exit, mov64};
use ebpf_syscall::{AttachType, Errno, Error, ProgLoadAttr, ProgramType, prog_load};

use super::{FeatureError, FeatureResult, KernelVersion, Key, cached, encode, trivial_program, v};

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
fn needs_target(t: ProgramType) -> bool {
    matches!(
        t,
        ProgramType::TRACING | ProgramType::STRUCT_OPS | ProgramType::EXT | ProgramType::LSM
    )
}

fn expected_attach_type(t: ProgramType) -> AttachType {
    match t {
        ProgramType::CGROUP_SOCK_ADDR => AttachType::CGROUP_INET4_CONNECT,
        ProgramType::CGROUP_SOCKOPT => AttachType::CGROUP_GETSOCKOPT,
        ProgramType::SK_LOOKUP => AttachType::SK_LOOKUP,
        ProgramType::NETFILTER => AttachType::NETFILTER,
        ProgramType::TRACING => AttachType::TRACE_RAW_TP,
        ProgramType::LSM => AttachType::LSM_MAC,
        _ => AttachType(0),
    }
}

fn load(t: ProgramType, insns: &[u8]) -> Result<OwnedFd, Error> {
    let mut attr = ProgLoadAttr::new(t, c"GPL");
    attr.set_insns(insns)?;
    attr.expected_attach_type = expected_attach_type(t);
    if t == ProgramType::SYSCALL {
        // Syscall programs must be sleepable.
        attr.prog_flags = ebpf_syscall::BPF_F_SLEEPABLE;
    }
    // Kernels before 5.0 check this for kprobes.
    attr.kern_version = ebpf_syscall::current_kernel().map_or(0, KernelVersion::code);
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
/// See [`ProgramType::min_kernel`]. A kernel in lockdown refuses some types to
/// root (`EPERM`), which is [`FeatureError::Probe`], not "not supported".
pub fn have_prog_type(t: ProgramType) -> FeatureResult {
    let Some(min) = t.min_kernel() else {
        return Err(FeatureError::Probe {
            feature: format!("program type {t}"),
            errno: None,
            message: "no probe for this program type".into(),
        });
    };
    cached(Key::Prog(t.0), || {
        let feature = format!("program type {t}");
        match load(t, &trivial_program()) {
            Ok(_fd) => Ok(()),
            Err(e) if needs_target(t) && verifier_ran(&e) => Ok(()),
            // EINVAL: unknown type (no log: it fails before the verifier).
            // E2BIG: the attr is longer than the kernel's, non-zero past its end.
            Err(e) if matches!(e.errno(), Some(Errno::INVAL | Errno::TOOBIG)) => Err(
                FeatureError::missing_config(feature, min, t.kernel_config()),
            ),
            Err(e) => Err(FeatureError::probe(feature, &e)),
        }
    })
}

/// Probes whether programs of type `t` may call `helper`, by loading
/// `call helper; r0 = 0; exit` and reading the verifier's verdict: "invalid
/// func", "unknown func" or "cannot use helper" mean no; a failure about the
/// helper's arguments means yes.
///
/// # Minimum kernel version
///
/// The later of the program type's ([`ProgramType::min_kernel`]) and the
/// helper's ([`helper_min_kernel`]). A helper may also never be allowed in a
/// program type, which reads as "not supported" too: probe only combinations
/// the kernel documents.
pub fn have_prog_helper(t: ProgramType, helper: Helper) -> FeatureResult {
    cached(Key::Helper(t.0, helper.id()), || {
        have_prog_type(t)?;
        let feature = format!("helper {} in {t}", helper.name());
        let min = t
            .min_kernel()
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
