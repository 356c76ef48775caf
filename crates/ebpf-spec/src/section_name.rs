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
//! matching. A name matching nothing gives [`ProgramType::UNSPEC`], not an error.
//!
//! ```
//! use ebpf_spec::{AttachType, ProgramType, SectionInfo};
//! let info = SectionInfo::parse("?fentry.s/do_unlinkat");
//! assert_eq!(info.program_type, ProgramType::TRACING);
//! assert_eq!(info.attach_type, Some(AttachType::TRACE_FENTRY));
//! assert_eq!(info.attach_target.as_deref(), Some("do_unlinkat"));
//! assert!(info.flags.is_sleepable());
//! assert!(!info.autoload);
//! assert_eq!(SectionInfo::parse("my_section").program_type, ProgramType::UNSPEC);
//! ```

use crate::section_def::{SectionDef, SectionFlags, SectionPattern};
use crate::sections::SECTION_DEFS;
use ebpf_abi::{AttachType, ProgramType};

/// libbpf's section table, in matching order (generated from `sections.list`).
pub fn section_defs() -> &'static [SectionDef] {
    SECTION_DEFS
}

/// What a program's section name says about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SectionInfo {
    /// The program type; [`ProgramType::UNSPEC`] for an unknown section name.
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
        // A name matches only patterns that start with its first byte: most are passed
        // over without comparing strings.
        let first = name.as_bytes().first();
        for def in SECTION_DEFS {
            let text = def.pattern.text().as_bytes();
            if text.first().is_some_and(|b| Some(b) != first) {
                continue;
            }
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
        check("socket", P::SOCKET_FILTER, None, None, F::NONE);
        check("socket/x", P::UNSPEC, None, None, F::NONE);
        check("kprobe", P::KPROBE, None, None, F::NONE);
        check(
            "kprobe/do_unlinkat",
            P::KPROBE,
            None,
            Some("do_unlinkat"),
            F::NONE,
        );
        check("kprobefoo", P::UNSPEC, None, None, F::NONE);
        check("kretprobe/x", P::KPROBE, None, Some("x"), F::NONE);
        check(
            "uprobe//proc/self/exe:sym",
            P::KPROBE,
            None,
            Some("/proc/self/exe:sym"),
            F::NONE,
        );
        check(
            "uprobe.s/bin:f",
            P::KPROBE,
            None,
            Some("bin:f"),
            F::SLEEPABLE,
        );
        check(
            "uprobe.multi/bin:f*",
            P::KPROBE,
            Some(A::TRACE_UPROBE_MULTI),
            Some("bin:f*"),
            F::NONE,
        );
        check(
            "uretprobe.multi.s",
            P::KPROBE,
            Some(A::TRACE_UPROBE_MULTI),
            None,
            F::SLEEPABLE,
        );
        check(
            "kprobe.multi/vfs_*",
            P::KPROBE,
            Some(A::TRACE_KPROBE_MULTI),
            Some("vfs_*"),
            F::NONE,
        );
        check(
            "kprobe.session",
            P::KPROBE,
            Some(A::TRACE_KPROBE_SESSION),
            None,
            F::NONE,
        );
        check(
            "usdt.s/a:b:c",
            P::KPROBE,
            None,
            Some("a:b:c"),
            F::USDT | F::SLEEPABLE,
        );
        check(
            "tracepoint/syscalls/sys_enter_getpid",
            P::TRACEPOINT,
            None,
            Some("syscalls/sys_enter_getpid"),
            F::NONE,
        );
        check("tp/a/b", P::TRACEPOINT, None, Some("a/b"), F::NONE);
        check(
            "raw_tp/sys_enter",
            P::RAW_TRACEPOINT,
            None,
            Some("sys_enter"),
            F::NONE,
        );
        check(
            "raw_tp.w/x",
            P::RAW_TRACEPOINT_WRITABLE,
            None,
            Some("x"),
            F::NONE,
        );
        check(
            "tp_btf/sched_switch",
            P::TRACING,
            Some(A::TRACE_RAW_TP),
            Some("sched_switch"),
            F::ATTACH_BTF,
        );
        check(
            "fentry/do_unlinkat",
            P::TRACING,
            Some(A::TRACE_FENTRY),
            Some("do_unlinkat"),
            F::ATTACH_BTF,
        );
        check(
            "fexit.s/f",
            P::TRACING,
            Some(A::TRACE_FEXIT),
            Some("f"),
            F::ATTACH_BTF | F::SLEEPABLE,
        );
        check(
            "fmod_ret/f",
            P::TRACING,
            Some(A::MODIFY_RETURN),
            Some("f"),
            F::ATTACH_BTF,
        );
        check("freplace/f", P::EXT, None, Some("f"), F::ATTACH_BTF);
        check(
            "lsm/file_open",
            P::LSM,
            Some(A::LSM_MAC),
            Some("file_open"),
            F::ATTACH_BTF,
        );
        check(
            "lsm_cgroup/x",
            P::LSM,
            Some(A::LSM_CGROUP),
            Some("x"),
            F::ATTACH_BTF,
        );
        check(
            "iter/task",
            P::TRACING,
            Some(A::TRACE_ITER),
            Some("task"),
            F::ATTACH_BTF,
        );
        check(
            "iter.s/task",
            P::TRACING,
            Some(A::TRACE_ITER),
            Some("task"),
            F::ATTACH_BTF | F::SLEEPABLE,
        );
        check("syscall", P::SYSCALL, None, None, F::SLEEPABLE);
        check(
            "xdp",
            P::XDP,
            Some(A::XDP),
            None,
            F::ATTACHABLE | F::EXP_ATTACH_OPT,
        );
        check("xdp.frags", P::XDP, Some(A::XDP), None, F::XDP_FRAGS);
        check(
            "xdp.frags/devmap",
            P::XDP,
            Some(A::XDP_DEVMAP),
            None,
            F::XDP_FRAGS,
        );
        check(
            "xdp/cpumap",
            P::XDP,
            Some(A::XDP_CPUMAP),
            None,
            F::ATTACHABLE,
        );
        check("xdp/foo", P::UNSPEC, None, None, F::NONE);
        check("tc", P::SCHED_CLS, None, None, F::NONE);
        check(
            "tc/ingress",
            P::SCHED_CLS,
            Some(A::TCX_INGRESS),
            None,
            F::NONE,
        );
        check(
            "tcx/egress",
            P::SCHED_CLS,
            Some(A::TCX_EGRESS),
            None,
            F::NONE,
        );
        check("classifier", P::SCHED_CLS, None, None, F::NONE);
        check(
            "netkit/peer",
            P::SCHED_CLS,
            Some(A::NETKIT_PEER),
            None,
            F::NONE,
        );
        check(
            "cgroup_skb/egress",
            P::CGROUP_SKB,
            Some(A::CGROUP_INET_EGRESS),
            None,
            F::ATTACHABLE | F::EXP_ATTACH_OPT,
        );
        check(
            "cgroup/connect4",
            P::CGROUP_SOCK_ADDR,
            Some(A::CGROUP_INET4_CONNECT),
            None,
            F::ATTACHABLE,
        );
        check(
            "cgroup/sock",
            P::CGROUP_SOCK,
            Some(A::CGROUP_INET_SOCK_CREATE),
            None,
            F::ATTACHABLE | F::EXP_ATTACH_OPT,
        );
        check(
            "cgroup/getsockname_unix",
            P::CGROUP_SOCK_ADDR,
            Some(A::CGROUP_UNIX_GETSOCKNAME),
            None,
            F::ATTACHABLE,
        );
        check(
            "sk_reuseport/migrate",
            P::SK_REUSEPORT,
            Some(A::SK_REUSEPORT_SELECT_OR_MIGRATE),
            None,
            F::ATTACHABLE,
        );
        check(
            "sk_skb/stream_verdict",
            P::SK_SKB,
            Some(A::SK_SKB_STREAM_VERDICT),
            None,
            F::ATTACHABLE | F::EXP_ATTACH_OPT,
        );
        check(
            "sk_lookup",
            P::SK_LOOKUP,
            Some(A::SK_LOOKUP),
            None,
            F::ATTACHABLE,
        );
        check(
            "struct_ops/test_1",
            P::STRUCT_OPS,
            None,
            Some("test_1"),
            F::NONE,
        );
        check(
            "struct_ops.s/test_2",
            P::STRUCT_OPS,
            None,
            Some("test_2"),
            F::SLEEPABLE,
        );
        check("netfilter", P::NETFILTER, Some(A::NETFILTER), None, F::NONE);
        check("perf_event", P::PERF_EVENT, None, None, F::NONE);
        check(".text", P::UNSPEC, None, None, F::NONE);
    }

    #[test]
    fn optional_prefix() {
        let info = SectionInfo::parse("?xdp.frags");
        assert!(!info.autoload);
        assert_eq!(info.program_type, ProgramType::XDP);
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
