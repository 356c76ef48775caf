//! Instruction set versions and attach types the verifier accepts.

use ebpf_asm::{AluOp, JumpOp, Register::R0, exit, mov64};
use ebpf_syscall::{AttachType, Errno, ProgLoadAttr, ProgramType, prog_load};

use super::{FeatureError, FeatureResult, Key, cached, encode, v};
use crate::KernelVersion;

/// A version of the eBPF instruction set (clang's `-mcpu=vN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IsaVersion {
    /// v2: `JLT`, `JLE`, `JSLT`, `JSLE` (unsigned/signed less-than jumps).
    V2,
    /// v3: the `JMP32` class and 32-bit ALU sub-registers.
    V3,
    /// v4: sign-extending loads and moves, `sdiv`/`smod`, `bswap`, `gotol`.
    V4,
}

impl IsaVersion {
    /// Every version this module probes.
    pub const ALL: &'static [IsaVersion] = &[Self::V2, Self::V3, Self::V4];

    /// The first kernel whose verifier accepts this version.
    pub fn min_kernel(self) -> KernelVersion {
        match self {
            Self::V2 => v(4, 14),
            Self::V3 => v(5, 1),
            Self::V4 => v(6, 6),
        }
    }

    /// The version's name in lower case, as `ebpf-tool feature` lists it (`v3`).
    pub const fn short_name(self) -> &'static str {
        match self {
            Self::V2 => "v2",
            Self::V3 => "v3",
            Self::V4 => "v4",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::V2 => "ISA v2",
            Self::V3 => "ISA v3 (JMP32)",
            Self::V4 => "ISA v4",
        }
    }
}

/// The probe program of each version: instructions only that version has,
/// returning 0.
fn isa_program(version: IsaVersion) -> Vec<ebpf_asm::Instruction> {
    match version {
        IsaVersion::V2 => vec![
            mov64(R0, 0),
            JumpOp::Lt.imm(R0, 1, "out"),
            mov64(R0, 1),
            exit().with_symbol("out"),
        ],
        IsaVersion::V3 => vec![
            mov64(R0, 0),
            JumpOp::Lt.imm32(R0, 1, "out"),
            mov64(R0, 1),
            exit().with_symbol("out"),
        ],
        IsaVersion::V4 => vec![
            mov64(R0, 6),
            AluOp::Div.signed_imm(R0, -3),
            ebpf_asm::movsx64(R0, R0, 8),
            // A long jump to the next instruction (a skipped one would be unreachable).
            ebpf_asm::gotol("out"),
            mov64(R0, 0).with_symbol("out"),
            exit(),
        ],
    }
}

/// Probes whether the verifier accepts instructions of ISA `version`.
///
/// # Minimum kernel version
///
/// See [`IsaVersion::min_kernel`]: 4.14 (v2), 5.1 (v3), 6.6 (v4).
pub fn have_isa(version: IsaVersion) -> FeatureResult {
    cached(Key::Misc(version.name()), || {
        let insns = encode(isa_program(version));
        let mut attr = ProgLoadAttr::new(ProgramType::SOCKET_FILTER, c"GPL");
        attr.set_insns(&insns)
            .map_err(|e| FeatureError::probe(version.name(), &e))?;
        match prog_load(&attr) {
            Ok(_fd) => Ok(()),
            // "unknown opcode" / "invalid BPF_ALU opcode"
            Err(e) if e.errno() == Some(Errno::INVAL) => {
                Err(FeatureError::missing(version.name(), version.min_kernel()))
            }
            Err(e) => Err(FeatureError::probe(version.name(), &e)),
        }
    })
}

/// The program type that takes `attach` as its expected attach type at load
/// time, and the first kernel that knows the pair. `None` for attach types
/// not checked at load time (they are probed through their link kind).
fn attach_type_info(attach: AttachType) -> Option<(ProgramType, KernelVersion)> {
    use AttachType as A;
    Some(match attach {
        A::CGROUP_INET_INGRESS | A::CGROUP_INET_EGRESS => (ProgramType::CGROUP_SKB, v(4, 10)),
        A::CGROUP_INET_SOCK_CREATE => (ProgramType::CGROUP_SOCK, v(4, 10)),
        A::CGROUP_INET4_POST_BIND | A::CGROUP_INET6_POST_BIND => {
            (ProgramType::CGROUP_SOCK, v(4, 17))
        }
        A::CGROUP_INET_SOCK_RELEASE => (ProgramType::CGROUP_SOCK, v(5, 9)),
        A::CGROUP_INET4_BIND
        | A::CGROUP_INET6_BIND
        | A::CGROUP_INET4_CONNECT
        | A::CGROUP_INET6_CONNECT => (ProgramType::CGROUP_SOCK_ADDR, v(4, 17)),
        A::CGROUP_UDP4_SENDMSG | A::CGROUP_UDP6_SENDMSG => {
            (ProgramType::CGROUP_SOCK_ADDR, v(4, 18))
        }
        A::CGROUP_UDP4_RECVMSG | A::CGROUP_UDP6_RECVMSG => (ProgramType::CGROUP_SOCK_ADDR, v(5, 2)),
        A::CGROUP_INET4_GETPEERNAME
        | A::CGROUP_INET6_GETPEERNAME
        | A::CGROUP_INET4_GETSOCKNAME
        | A::CGROUP_INET6_GETSOCKNAME => (ProgramType::CGROUP_SOCK_ADDR, v(5, 8)),
        A::CGROUP_UNIX_CONNECT
        | A::CGROUP_UNIX_SENDMSG
        | A::CGROUP_UNIX_RECVMSG
        | A::CGROUP_UNIX_GETPEERNAME
        | A::CGROUP_UNIX_GETSOCKNAME => (ProgramType::CGROUP_SOCK_ADDR, v(6, 7)),
        A::CGROUP_GETSOCKOPT | A::CGROUP_SETSOCKOPT => (ProgramType::CGROUP_SOCKOPT, v(5, 3)),
        A::SK_LOOKUP => (ProgramType::SK_LOOKUP, v(5, 9)),
        A::SK_REUSEPORT_SELECT | A::SK_REUSEPORT_SELECT_OR_MIGRATE => {
            (ProgramType::SK_REUSEPORT, v(5, 14))
        }
        A::XDP_DEVMAP => (ProgramType::XDP, v(5, 8)),
        A::XDP_CPUMAP => (ProgramType::XDP, v(5, 9)),
        _ => return None,
    })
}

/// Probes whether the kernel accepts programs whose expected attach type is
/// `attach` (checked when the program is loaded). Attach types the kernel
/// checks only when attaching are probed through
/// [`have_link_kind`](super::have_link_kind); for those this returns a
/// [`FeatureError::Probe`] saying so.
///
/// # Minimum kernel version
///
/// Per attach type, 4.10 (cgroup skb) to 6.7 (cgroup unix sockets).
pub fn have_attach_type(attach: AttachType) -> FeatureResult {
    let name = format!("attach type {attach}");
    let Some((prog_type, min)) = attach_type_info(attach) else {
        return Err(FeatureError::Probe {
            feature: name,
            errno: None,
            message: "not checked at load time; probe its link kind instead".into(),
        });
    };
    cached(Key::Attach(attach.0), || {
        // Return 1: some hooks (recvmsg) accept nothing else.
        let insns = encode(vec![mov64(R0, 1), exit()]);
        let mut attr = ProgLoadAttr::new(prog_type, c"GPL");
        attr.set_insns(&insns)
            .map_err(|e| FeatureError::probe(name.clone(), &e))?;
        attr.expected_attach_type = attach;
        match prog_load(&attr) {
            Ok(_fd) => Ok(()),
            // The verifier ran (and logged why it refused this tiny
            // program): the kernel knows the pair.
            Err(e) if e.log().is_some_and(|l| !l.as_str().is_empty()) => Ok(()),
            // Refused before verification: unknown (program type, attach type).
            Err(e) if e.errno() == Some(Errno::INVAL) => Err(FeatureError::missing(name, min)),
            Err(e) => Err(FeatureError::probe(name, &e)),
        }
    })
}
