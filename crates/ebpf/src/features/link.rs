//! Link kind probes: `BPF_LINK_CREATE` with a real program and a bogus target.
//!
//! A kernel that knows the attach type gets as far as looking the target up
//! and fails with `EBADF`/`ENODEV`/`ENOENT`...; one that does not says
//! `EINVAL` (unknown attach type, or no `BPF_LINK_CREATE` at all).

use std::fmt;

use ebpf_syscall::{
    AttachType, Errno, LinkCreateAttr, LinkCreateKprobeMultiAttr, LinkCreateUprobeMultiAttr,
    Pointer, ProgramType, link_create,
};
use std::os::fd::AsFd;

use super::prog::have_prog_type;
use super::{FeatureError, FeatureResult, KernelVersion, Key, cached, v};

/// A kind of `bpf_link` whose creation can be probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkKind {
    /// cgroup links (`BPF_LINK_TYPE_CGROUP`, 5.7).
    Cgroup,
    /// netns links, e.g. flow dissector (`BPF_LINK_TYPE_NETNS`, 5.8).
    Netns,
    /// XDP links (`BPF_LINK_TYPE_XDP`, 5.9).
    Xdp,
    /// perf event links (`BPF_LINK_TYPE_PERF_EVENT`, 5.15).
    PerfEvent,
    /// kprobe_multi links (`BPF_LINK_TYPE_KPROBE_MULTI`, 5.18; needs `CONFIG_FPROBE`).
    KprobeMulti,
    /// netfilter links (`BPF_LINK_TYPE_NETFILTER`, 6.4).
    Netfilter,
    /// tcx links (`BPF_LINK_TYPE_TCX`, 6.6).
    Tcx,
    /// uprobe_multi links (`BPF_LINK_TYPE_UPROBE_MULTI`, 6.6).
    UprobeMulti,
    /// netkit links (`BPF_LINK_TYPE_NETKIT`, 6.7).
    Netkit,
    /// kprobe session links (`BPF_TRACE_KPROBE_SESSION` on a kprobe_multi
    /// link, 6.10; needs `CONFIG_FPROBE`).
    KprobeSession,
    /// uprobe session links (`BPF_TRACE_UPROBE_SESSION` on a uprobe_multi
    /// link, 6.13).
    UprobeSession,
}

impl LinkKind {
    /// Every kind this module probes.
    pub const ALL: &'static [LinkKind] = &[
        Self::Cgroup,
        Self::Netns,
        Self::Xdp,
        Self::PerfEvent,
        Self::KprobeMulti,
        Self::Netfilter,
        Self::Tcx,
        Self::UprobeMulti,
        Self::Netkit,
        Self::KprobeSession,
        Self::UprobeSession,
    ];

    /// The first kernel with this link kind.
    pub fn min_kernel(self) -> KernelVersion {
        match self {
            Self::Cgroup => v(5, 7),
            Self::Netns => v(5, 8),
            Self::Xdp => v(5, 9),
            Self::PerfEvent => v(5, 15),
            Self::KprobeMulti => v(5, 18),
            Self::Netfilter => v(6, 4),
            Self::Tcx | Self::UprobeMulti => v(6, 6),
            Self::Netkit => v(6, 7),
            Self::KprobeSession => v(6, 10),
            Self::UprobeSession => v(6, 13),
        }
    }

    /// The kernel option the link kind needs besides a new enough kernel.
    pub fn kernel_config(self) -> Option<&'static str> {
        match self {
            Self::KprobeMulti | Self::KprobeSession => Some("CONFIG_FPROBE"),
            Self::Netkit => Some("CONFIG_NETKIT"),
            Self::Netfilter => Some("CONFIG_NETFILTER_BPF_LINK"),
            _ => None,
        }
    }

    /// The program type and attach type the probe uses.
    fn program(self) -> (ProgramType, AttachType) {
        match self {
            Self::Cgroup => (ProgramType::CGROUP_SKB, AttachType::CGROUP_INET_INGRESS),
            Self::Netns => (ProgramType::FLOW_DISSECTOR, AttachType::FLOW_DISSECTOR),
            Self::Xdp => (ProgramType::XDP, AttachType::XDP),
            Self::PerfEvent => (ProgramType::TRACEPOINT, AttachType::PERF_EVENT),
            Self::KprobeMulti => (ProgramType::KPROBE, AttachType::TRACE_KPROBE_MULTI),
            Self::Netfilter => (ProgramType::NETFILTER, AttachType::NETFILTER),
            Self::Tcx => (ProgramType::SCHED_CLS, AttachType::TCX_INGRESS),
            Self::UprobeMulti => (ProgramType::KPROBE, AttachType::TRACE_UPROBE_MULTI),
            Self::Netkit => (ProgramType::SCHED_CLS, AttachType::NETKIT_PRIMARY),
            Self::KprobeSession => (ProgramType::KPROBE, AttachType::TRACE_KPROBE_SESSION),
            Self::UprobeSession => (ProgramType::KPROBE, AttachType::TRACE_UPROBE_SESSION),
        }
    }
}

impl LinkKind {
    /// The kind's name in lower case, as `ebpf-tool feature` lists it (`kprobe_multi`).
    pub const fn short_name(self) -> &'static str {
        match self {
            Self::Cgroup => "cgroup",
            Self::Netns => "netns",
            Self::Xdp => "xdp",
            Self::PerfEvent => "perf_event",
            Self::KprobeMulti => "kprobe_multi",
            Self::Netfilter => "netfilter",
            Self::Tcx => "tcx",
            Self::UprobeMulti => "uprobe_multi",
            Self::Netkit => "netkit",
            Self::KprobeSession => "kprobe_session",
            Self::UprobeSession => "uprobe_session",
        }
    }
}

impl fmt::Display for LinkKind {
    /// What a "not supported" error names: `bpf_link for kprobe_multi`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bpf_link for {}", self.short_name())
    }
}

/// Probes whether the kernel can create links of `kind`.
///
/// `EOPNOTSUPP`/`ENOTSUPP` (the kind exists but is configured out, e.g.
/// kprobe_multi without `CONFIG_FPROBE`) count as not supported.
///
/// # Minimum kernel version
///
/// [`LinkKind::min_kernel`].
pub fn have_link_kind(kind: LinkKind) -> FeatureResult {
    cached(Key::Link(kind), || {
        let feature = kind.to_string();
        let min = kind.min_kernel();
        let (prog_type, attach) = kind.program();
        if let Err(e) = have_prog_type(prog_type) {
            return Err(match e {
                FeatureError::NotSupported(_) => {
                    FeatureError::missing_config(feature, min, kind.kernel_config())
                }
                other => other,
            });
        }
        let mut attr = ebpf_syscall::ProgLoadAttr::new(prog_type, c"GPL");
        let insns = super::trivial_program();
        attr.set_insns(&insns)
            .map_err(|e| FeatureError::probe(&feature, &e))?;
        attr.expected_attach_type = attach;
        let prog = match ebpf_syscall::prog_load(&attr) {
            Ok(p) => p,
            // The program type exists but not with this expected attach type.
            Err(e) if e.errno() == Some(Errno::INVAL) => {
                return Err(FeatureError::missing_config(
                    feature,
                    min,
                    kind.kernel_config(),
                ));
            }
            Err(e) => return Err(FeatureError::probe(feature, &e)),
        };
        let res = if kind == LinkKind::Xdp {
            // XDP reports a missing interface as EINVAL, like an unknown attach
            // type: attach for real, to `lo` of a fresh network namespace that
            // dies with the probe's thread.
            std::thread::scope(|s| {
                s.spawn(|| {
                    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
                        FeatureError::Probe {
                            feature: feature.clone(),
                            errno: Some(Errno::from(e)),
                            message: format!("unshare(CLONE_NEWNET): {e}"),
                        }
                    })?;
                    Ok(link_create(&LinkCreateAttr::with_target(
                        &prog.as_fd(),
                        1,
                        attach,
                    )))
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(FeatureError::Probe {
                        feature: feature.clone(),
                        errno: None,
                        message: "probe thread panicked".into(),
                    })
                })
            })?
        } else if matches!(kind, LinkKind::UprobeMulti | LinkKind::UprobeSession) {
            // Path and offsets are required; a missing file fails the lookup (ENOENT).
            let offsets = [0u64];
            let mut attr = LinkCreateUprobeMultiAttr::with_target(&prog.as_fd(), 0, attach);
            attr.set_targets(c"/nonexistent/ebpf-rs-probe", &offsets, None, None)
                .map_err(|e| FeatureError::probe(&feature, &e))?;
            link_create(&attr)
        } else if matches!(kind, LinkKind::KprobeMulti | LinkKind::KprobeSession) {
            // Symbols are required; an unknown one fails the lookup (ENOENT/ESRCH).
            let syms = [Pointer::from_cstr(c"ebpf_rs_probe_no_such_symbol")];
            let mut attr = LinkCreateKprobeMultiAttr::with_target(&prog.as_fd(), 0, attach);
            attr.set_targets(Some(&syms), None, None)
                .map_err(|e| FeatureError::probe(&feature, &e))?;
            link_create(&attr)
        } else {
            // A target that is neither a valid fd nor an existing ifindex.
            let target = i32::MAX as u32;
            link_create(&LinkCreateAttr::with_target(&prog.as_fd(), target, attach))
        };
        match res {
            Ok(_link) => Ok(()),
            Err(e) => match e.errno() {
                Some(Errno::INVAL | Errno::TOOBIG) => Err(FeatureError::missing_config(
                    feature,
                    min,
                    kind.kernel_config(),
                )),
                Some(errno) if errno.is_not_supported() => Err(FeatureError::missing_config(
                    feature,
                    min,
                    kind.kernel_config(),
                )),
                Some(Errno::PERM) | None => Err(FeatureError::probe(feature, &e)),
                // EBADF, ENODEV, ENOENT, ...: it looked the target up.
                Some(_) => Ok(()),
            },
        }
    })
}
