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

use crate::program_type::{AttachType, ProgramType};
use crate::section_def::{SectionDef, SectionFlags, SectionPattern};
use crate::sections::SECTION_DEFS;

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
    use crate::section_def::{PROG_FLAG_SLEEPABLE, PROG_FLAG_XDP_HAS_FRAGS};

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
