//! Program section names: what `SEC("...")` tells about a program, following libbpf's rules.
//!
//! The table itself is generated from `sections.list` (see [`section_defs`]); matching is
//! first-match-wins in table order:
//!
//! - an exact pattern (`socket`) matches only that name;
//! - a `+` pattern (`kprobe+`) matches the bare stem or `stem/target`;
//! - a pattern ending in `/` matches any name with that prefix.
//!
//! A leading `?` marks a program that is not loaded automatically; it is stripped before
//! matching. A name matching nothing gives [`ProgramType::Unspecified`], not an error.
//!
//! ```
//! use ebpf_spec::{AttachType, ProgramType, SectionInfo};
//! let info = SectionInfo::parse("?fentry.s/do_unlinkat");
//! assert_eq!(info.program_type, ProgramType::Tracing);
//! assert_eq!(info.attach_type, Some(AttachType::TraceFentry));
//! assert_eq!(info.attach_target.as_deref(), Some("do_unlinkat"));
//! assert!(info.flags.is_sleepable());
//! assert!(!info.autoload);
//! assert_eq!(SectionInfo::parse("my_section").program_type, ProgramType::Unspecified);
//! ```

use std::fmt;
use std::ops::BitOr;

use crate::program_type::{AttachType, ProgramType};
use crate::sections::SECTION_DEFS;

/// `BPF_F_SLEEPABLE`: the program may sleep.
#[doc(alias = "BPF_F_SLEEPABLE")]
pub const PROG_FLAG_SLEEPABLE: u32 = 1 << 4;
/// `BPF_F_XDP_HAS_FRAGS`: the XDP program handles multi-buffer packets.
#[doc(alias = "BPF_F_XDP_HAS_FRAGS")]
pub const PROG_FLAG_XDP_HAS_FRAGS: u32 = 1 << 5;

/// How a [`SectionDef`] matches a section name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionPattern {
    /// The name must be exactly this.
    Exact(&'static str),
    /// The name is this stem, or this stem, `/` and an attach target (libbpf's `stem+`).
    StemOrTarget(&'static str),
    /// The name starts with this (which ends in `/`); the rest is the attach target.
    Prefix(&'static str),
}

impl SectionPattern {
    /// Matches `name` (without a leading `?`): `None` if it does not match, else the attach
    /// target (`Some(None)` when the name has none).
    pub fn matches<'n>(&self, name: &'n str) -> Option<Option<&'n str>> {
        match *self {
            SectionPattern::Exact(p) => (name == p).then_some(None),
            SectionPattern::StemOrTarget(stem) => {
                let rest = name.strip_prefix(stem)?;
                if rest.is_empty() {
                    Some(None)
                } else {
                    rest.strip_prefix('/').map(Some)
                }
            }
            SectionPattern::Prefix(p) => name.strip_prefix(p).map(Some),
        }
    }
}

impl fmt::Display for SectionPattern {
    /// The pattern as libbpf spells it (`kprobe+`, `socket`, `xdp/`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SectionPattern::Exact(p) | SectionPattern::Prefix(p) => f.write_str(p),
            SectionPattern::StemOrTarget(p) => write!(f, "{p}+"),
        }
    }
}

/// The flags libbpf attaches to a section pattern (its `enum sec_def_flags`).
#[doc(alias = "sec_def_flags")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SectionFlags(u32);

impl SectionFlags {
    /// No flag.
    pub const NONE: SectionFlags = SectionFlags(0);
    /// The expected attach type may be dropped on kernels that do not know it.
    #[doc(alias = "SEC_EXP_ATTACH_OPT")]
    pub const EXP_ATTACH_OPT: SectionFlags = SectionFlags(1);
    /// Attached with `BPF_PROG_ATTACH` (informational).
    #[doc(alias = "SEC_ATTACHABLE")]
    pub const ATTACHABLE: SectionFlags = SectionFlags(2);
    /// The attach target is a BTF id (fentry, lsm, iter, ...).
    #[doc(alias = "SEC_ATTACH_BTF")]
    pub const ATTACH_BTF: SectionFlags = SectionFlags(4);
    /// The program is sleepable (`BPF_F_SLEEPABLE`).
    #[doc(alias = "SEC_SLEEPABLE")]
    pub const SLEEPABLE: SectionFlags = SectionFlags(8);
    /// The XDP program supports fragments (`BPF_F_XDP_HAS_FRAGS`).
    #[doc(alias = "SEC_XDP_FRAGS")]
    pub const XDP_FRAGS: SectionFlags = SectionFlags(16);
    /// A USDT probe.
    #[doc(alias = "SEC_USDT")]
    pub const USDT: SectionFlags = SectionFlags(32);

    const NAMES: [(SectionFlags, &'static str); 6] = [
        (SectionFlags::EXP_ATTACH_OPT, "exp_attach_opt"),
        (SectionFlags::ATTACHABLE, "attachable"),
        (SectionFlags::ATTACH_BTF, "attach_btf"),
        (SectionFlags::SLEEPABLE, "sleepable"),
        (SectionFlags::XDP_FRAGS, "xdp_frags"),
        (SectionFlags::USDT, "usdt"),
    ];

    /// Both sets of flags.
    pub const fn union(self, other: SectionFlags) -> SectionFlags {
        SectionFlags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: SectionFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The raw bits (libbpf's values).
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether [`SectionFlags::SLEEPABLE`] is set.
    pub const fn is_sleepable(self) -> bool {
        self.contains(SectionFlags::SLEEPABLE)
    }

    /// The `BPF_F_*` program load flags these section flags imply for `program_type`.
    pub fn program_flags(self, program_type: ProgramType) -> u32 {
        let mut flags = 0;
        if self.contains(SectionFlags::SLEEPABLE) {
            flags |= PROG_FLAG_SLEEPABLE;
        }
        if program_type == ProgramType::Xdp && self.contains(SectionFlags::XDP_FRAGS) {
            flags |= PROG_FLAG_XDP_HAS_FRAGS;
        }
        flags
    }
}

impl BitOr for SectionFlags {
    type Output = SectionFlags;
    fn bitor(self, rhs: SectionFlags) -> SectionFlags {
        self.union(rhs)
    }
}

impl fmt::Display for SectionFlags {
    /// Comma-separated flag names as in `sections.list`, or `-` for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("-");
        }
        let mut sep = "";
        for (flag, name) in SectionFlags::NAMES {
            if self.contains(flag) {
                write!(f, "{sep}{name}")?;
                sep = ",";
            }
        }
        Ok(())
    }
}

/// One line of libbpf's section table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SectionDef {
    /// How the name is matched.
    pub pattern: SectionPattern,
    /// The program type a match gives.
    pub program_type: ProgramType,
    /// The expected attach type a match gives, if any.
    pub attach_type: Option<AttachType>,
    /// libbpf's flags for the pattern.
    pub flags: SectionFlags,
}

/// libbpf's section table, in matching order (generated from `sections.list`).
pub fn section_defs() -> &'static [SectionDef] {
    SECTION_DEFS
}

/// What a program's section name says about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SectionInfo {
    /// The program type; [`ProgramType::Unspecified`] for an unknown section name.
    pub program_type: ProgramType,
    /// The expected attach type, if the section name implies one.
    pub attach_type: Option<AttachType>,
    /// The attach target: the part after the stem, e.g. `syscalls/sys_enter_getpid` for a
    /// tracepoint, the function for fentry, `path:symbol` for a uprobe.
    pub attach_target: Option<String>,
    /// libbpf's flags for the matching pattern.
    pub flags: SectionFlags,
    /// `false` when the name starts with `?` (not loaded automatically).
    pub autoload: bool,
    /// The matching pattern, `None` for an unknown section name.
    pub pattern: Option<SectionPattern>,
}

impl SectionInfo {
    /// Matches `section_name` against libbpf's table. Never fails: an unknown name gives an
    /// unspecified program type.
    pub fn parse(section_name: &str) -> SectionInfo {
        let (name, autoload) = match section_name.strip_prefix('?') {
            Some(rest) => (rest, false),
            None => (section_name, true),
        };
        for def in SECTION_DEFS {
            if let Some(target) = def.pattern.matches(name) {
                return SectionInfo {
                    program_type: def.program_type,
                    attach_type: def.attach_type,
                    attach_target: target.map(str::to_owned),
                    flags: def.flags,
                    autoload,
                    pattern: Some(def.pattern),
                };
            }
        }
        SectionInfo {
            autoload,
            ..SectionInfo::default()
        }
    }

    /// The `BPF_F_*` program load flags implied by the section name.
    pub fn program_flags(&self) -> u32 {
        self.flags.program_flags(self.program_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        name: &str,
        pt: ProgramType,
        at: Option<AttachType>,
        target: Option<&str>,
        flags: SectionFlags,
    ) {
        let info = SectionInfo::parse(name);
        assert_eq!(info.program_type, pt, "{name}");
        assert_eq!(info.attach_type, at, "{name}");
        assert_eq!(info.attach_target.as_deref(), target, "{name}");
        assert_eq!(info.flags, flags, "{name}");
    }

    #[test]
    fn table_is_complete() {
        assert!(section_defs().len() >= 100, "{}", section_defs().len());
        // Every pattern matches its own name (or stem).
        for def in section_defs() {
            let name = match def.pattern {
                SectionPattern::Exact(p) | SectionPattern::StemOrTarget(p) => p.to_owned(),
                SectionPattern::Prefix(p) => format!("{p}x"),
            };
            let info = SectionInfo::parse(&name);
            // An earlier pattern may shadow a later one only if it is a different one.
            assert!(info.pattern.is_some(), "{name}");
        }
    }

    #[test]
    fn libbpf_names() {
        use AttachType as A;
        use ProgramType as P;
        use SectionFlags as F;
        check("socket", P::SocketFilter, None, None, F::NONE);
        check("socket/x", P::Unspecified, None, None, F::NONE);
        check("kprobe", P::Kprobe, None, None, F::NONE);
        check(
            "kprobe/do_unlinkat",
            P::Kprobe,
            None,
            Some("do_unlinkat"),
            F::NONE,
        );
        check("kprobefoo", P::Unspecified, None, None, F::NONE);
        check("kretprobe/x", P::Kprobe, None, Some("x"), F::NONE);
        check(
            "uprobe//proc/self/exe:sym",
            P::Kprobe,
            None,
            Some("/proc/self/exe:sym"),
            F::NONE,
        );
        check(
            "uprobe.s/bin:f",
            P::Kprobe,
            None,
            Some("bin:f"),
            F::SLEEPABLE,
        );
        check(
            "uprobe.multi/bin:f*",
            P::Kprobe,
            Some(A::TraceUprobeMulti),
            Some("bin:f*"),
            F::NONE,
        );
        check(
            "uretprobe.multi.s",
            P::Kprobe,
            Some(A::TraceUprobeMulti),
            None,
            F::SLEEPABLE,
        );
        check(
            "kprobe.multi/vfs_*",
            P::Kprobe,
            Some(A::TraceKprobeMulti),
            Some("vfs_*"),
            F::NONE,
        );
        check(
            "kprobe.session",
            P::Kprobe,
            Some(A::TraceKprobeSession),
            None,
            F::NONE,
        );
        check(
            "usdt.s/a:b:c",
            P::Kprobe,
            None,
            Some("a:b:c"),
            F::USDT | F::SLEEPABLE,
        );
        check(
            "tracepoint/syscalls/sys_enter_getpid",
            P::Tracepoint,
            None,
            Some("syscalls/sys_enter_getpid"),
            F::NONE,
        );
        check("tp/a/b", P::Tracepoint, None, Some("a/b"), F::NONE);
        check(
            "raw_tp/sys_enter",
            P::RawTracepoint,
            None,
            Some("sys_enter"),
            F::NONE,
        );
        check(
            "raw_tp.w/x",
            P::RawTracepointWritable,
            None,
            Some("x"),
            F::NONE,
        );
        check(
            "tp_btf/sched_switch",
            P::Tracing,
            Some(A::TraceRawTp),
            Some("sched_switch"),
            F::ATTACH_BTF,
        );
        check(
            "fentry/do_unlinkat",
            P::Tracing,
            Some(A::TraceFentry),
            Some("do_unlinkat"),
            F::ATTACH_BTF,
        );
        check(
            "fexit.s/f",
            P::Tracing,
            Some(A::TraceFexit),
            Some("f"),
            F::ATTACH_BTF | F::SLEEPABLE,
        );
        check(
            "fmod_ret/f",
            P::Tracing,
            Some(A::ModifyReturn),
            Some("f"),
            F::ATTACH_BTF,
        );
        check("freplace/f", P::Ext, None, Some("f"), F::ATTACH_BTF);
        check(
            "lsm/file_open",
            P::Lsm,
            Some(A::LsmMac),
            Some("file_open"),
            F::ATTACH_BTF,
        );
        check(
            "lsm_cgroup/x",
            P::Lsm,
            Some(A::LsmCgroup),
            Some("x"),
            F::ATTACH_BTF,
        );
        check(
            "iter/task",
            P::Tracing,
            Some(A::TraceIter),
            Some("task"),
            F::ATTACH_BTF,
        );
        check(
            "iter.s/task",
            P::Tracing,
            Some(A::TraceIter),
            Some("task"),
            F::ATTACH_BTF | F::SLEEPABLE,
        );
        check("syscall", P::Syscall, None, None, F::SLEEPABLE);
        check(
            "xdp",
            P::Xdp,
            Some(A::Xdp),
            None,
            F::ATTACHABLE | F::EXP_ATTACH_OPT,
        );
        check("xdp.frags", P::Xdp, Some(A::Xdp), None, F::XDP_FRAGS);
        check(
            "xdp.frags/devmap",
            P::Xdp,
            Some(A::XdpDevmap),
            None,
            F::XDP_FRAGS,
        );
        check(
            "xdp/cpumap",
            P::Xdp,
            Some(A::XdpCpumap),
            None,
            F::ATTACHABLE,
        );
        check("xdp/foo", P::Unspecified, None, None, F::NONE);
        check("tc", P::SchedCls, None, None, F::NONE);
        check(
            "tc/ingress",
            P::SchedCls,
            Some(A::TcxIngress),
            None,
            F::NONE,
        );
        check("tcx/egress", P::SchedCls, Some(A::TcxEgress), None, F::NONE);
        check("classifier", P::SchedCls, None, None, F::NONE);
        check(
            "netkit/peer",
            P::SchedCls,
            Some(A::NetkitPeer),
            None,
            F::NONE,
        );
        check(
            "cgroup_skb/egress",
            P::CgroupSkb,
            Some(A::CgroupInetEgress),
            None,
            F::ATTACHABLE | F::EXP_ATTACH_OPT,
        );
        check(
            "cgroup/connect4",
            P::CgroupSockAddr,
            Some(A::CgroupInet4Connect),
            None,
            F::ATTACHABLE,
        );
        check(
            "cgroup/sock",
            P::CgroupSock,
            Some(A::CgroupInetSockCreate),
            None,
            F::ATTACHABLE | F::EXP_ATTACH_OPT,
        );
        check(
            "cgroup/getsockname_unix",
            P::CgroupSockAddr,
            Some(A::CgroupUnixGetsockname),
            None,
            F::ATTACHABLE,
        );
        check(
            "sk_reuseport/migrate",
            P::SkReuseport,
            Some(A::SkReuseportSelectOrMigrate),
            None,
            F::ATTACHABLE,
        );
        check(
            "sk_skb/stream_verdict",
            P::SkSkb,
            Some(A::SkSkbStreamVerdict),
            None,
            F::ATTACHABLE | F::EXP_ATTACH_OPT,
        );
        check(
            "sk_lookup",
            P::SkLookup,
            Some(A::SkLookup),
            None,
            F::ATTACHABLE,
        );
        check(
            "struct_ops/test_1",
            P::StructOps,
            None,
            Some("test_1"),
            F::NONE,
        );
        check(
            "struct_ops.s/test_2",
            P::StructOps,
            None,
            Some("test_2"),
            F::SLEEPABLE,
        );
        check("netfilter", P::Netfilter, Some(A::Netfilter), None, F::NONE);
        check("perf_event", P::PerfEvent, None, None, F::NONE);
        check(".text", P::Unspecified, None, None, F::NONE);
    }

    #[test]
    fn optional_prefix() {
        let info = SectionInfo::parse("?xdp.frags");
        assert!(!info.autoload);
        assert_eq!(info.program_type, ProgramType::Xdp);
        assert_eq!(info.program_flags(), PROG_FLAG_XDP_HAS_FRAGS);
        assert!(SectionInfo::parse("xdp").autoload);
        assert_eq!(
            SectionInfo::parse("lsm.s/x").program_flags(),
            PROG_FLAG_SLEEPABLE
        );
    }

    #[test]
    fn prefix_patterns() {
        let p = SectionPattern::Prefix("kprobe/");
        assert_eq!(p.matches("kprobe/f"), Some(Some("f")));
        assert_eq!(p.matches("kprobe"), None);
        assert_eq!(p.to_string(), "kprobe/");
        assert_eq!(
            SectionPattern::StemOrTarget("kprobe").to_string(),
            "kprobe+"
        );
        assert_eq!(
            (SectionFlags::SLEEPABLE | SectionFlags::USDT).to_string(),
            "sleepable,usdt"
        );
        assert_eq!(SectionFlags::NONE.to_string(), "-");
    }
}
