//! Attaching a program to an open perf event: a `BPF_PERF_EVENT` bpf_link
//! (5.15), or `PERF_EVENT_IOC_SET_BPF` + `PERF_EVENT_IOC_ENABLE` before that.
//! Shared by tracepoints, kprobes, uprobes and perf events; kprobes and
//! uprobes are opened through their perf PMU (4.17) or, without it, as
//! tracefs events ([`ProbeAttachMode`]).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use ebpf::Program;
use ebpf::features::LinkKind;
use ebpf_syscall::perf::{self, PerfEventAttr};
use ebpf_syscall::tracefs::ProbeEvent;
use ebpf_syscall::{self as sys, AttachType, LinkType};

use crate::error::{Error, Result, sys as sysr};
use crate::info::LinkInfo;
use crate::link::RawLink;
use crate::util::not_supported;

/// A program attached to a perf event.
#[derive(Debug)]
pub(crate) enum PerfAttachment {
    /// Through a bpf_link; the event fd is closed after the link (None when
    /// reopened from a pin: the link holds the event).
    Link {
        link: RawLink,
        event: Option<OwnedFd>,
    },
    /// Through the ioctls.
    Ioctl { event: Option<OwnedFd> },
    /// Detached with [`crate::Link::detach`]: every fd closed.
    Detached,
}

/// How a kprobe or uprobe is made and attached (libbpf's `probe_attach_mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProbeAttachMode {
    /// The perf PMU (4.17) with a bpf_link where the kernel has them (5.15);
    /// a tracefs event when the kernel has no PMU for the probe kind.
    #[default]
    Default,
    /// A tracefs event (`kprobe_events`/`uprobe_events`), attached with the
    /// perf ioctls: how kernels before 4.17 attach.
    #[doc(alias = "kprobe_events")]
    #[doc(alias = "uprobe_events")]
    Legacy,
    /// The perf PMU, attached with the perf ioctls (no bpf_link).
    Perf,
    /// The perf PMU with a bpf_link; `NotSupported` before 5.15.
    Link,
}

/// A kprobe or uprobe to open: `pmu` is `"kprobe"` or `"uprobe"`.
pub(crate) struct ProbeSpec<'a> {
    pub pmu: &'static str,
    /// The kernel function, or the binary's path.
    pub target: &'a std::ffi::CStr,
    pub offset: u64,
    pub retprobe: bool,
    /// uprobes: the reference counter's file offset (0: none).
    pub ref_ctr_offset: u64,
    /// -1: every process.
    pub pid: i32,
}

/// An opened probe: its perf event, the tracefs event behind it (legacy),
/// and whether it must be attached with the ioctls.
pub(crate) struct OpenedProbe {
    pub event: OwnedFd,
    pub tracefs: Option<ProbeEvent>,
    pub force_ioctl: bool,
}

/// Opens probe `p` as `mode` says.
pub(crate) fn open_probe(p: &ProbeSpec<'_>, mode: ProbeAttachMode) -> Result<OpenedProbe> {
    let pmu = match (mode, perf::pmu_type(p.pmu)) {
        (ProbeAttachMode::Legacy, _) => None,
        (ProbeAttachMode::Default, Err(ebpf_syscall::Error::NotSupported(ns))) => {
            log::debug!("{ns}: using a tracefs {} event", p.pmu);
            None
        }
        (_, pmu) => Some(sysr(pmu)?),
    };
    if mode == ProbeAttachMode::Link {
        crate::util::probe_link(LinkKind::PerfEvent)?;
    }
    let Some(pmu) = pmu else {
        let target = p.target.to_str().map_err(|_| {
            Error::InvalidArgument(format!("probe target {:?} is not UTF-8", p.target))
        })?;
        let tracefs = sysr(if p.pmu == "kprobe" {
            ProbeEvent::kprobe(target, p.offset, p.retprobe)
        } else {
            // uprobe_events takes an absolute path.
            let abs = std::fs::canonicalize(target)
                .map_err(Error::io(format!("canonicalize {target}")))?;
            ProbeEvent::uprobe(&abs, p.offset, p.ref_ctr_offset, p.retprobe)
        })?;
        let attr = probe_attr(perf::PERF_TYPE_TRACEPOINT, tracefs.id());
        let event = open_event(&attr, p.pid)?;
        return Ok(OpenedProbe {
            event,
            tracefs: Some(tracefs),
            force_ioctl: true,
        });
    };
    let mut config = 0u64;
    if p.retprobe {
        config |= 1u64 << sysr(perf::pmu_retprobe_bit(p.pmu))?;
    }
    if p.ref_ctr_offset != 0 {
        if p.ref_ctr_offset > u64::from(u32::MAX) {
            return Err(Error::InvalidArgument("ref_ctr_offset above 4 GiB".into()));
        }
        config |= p.ref_ctr_offset << 32;
    }
    let mut attr = probe_attr(pmu, config);
    attr.set_probe_target(p.target, p.offset);
    Ok(OpenedProbe {
        event: open_event(&attr, p.pid)?,
        tracefs: None,
        force_ioctl: mode == ProbeAttachMode::Perf,
    })
}

/// The usual attr of a probe or tracepoint event: every hit is a sample.
pub(crate) fn probe_attr<'a>(perf_type: u32, config: u64) -> PerfEventAttr<'a> {
    let mut attr = PerfEventAttr::new(perf_type, config);
    attr.sample_type = perf::PERF_SAMPLE_RAW;
    attr.sample_period = 1;
    attr.wakeup_events = 1;
    attr
}

/// Opens a perf event for `pid` (-1: every process) on CPU 0 (tracing
/// events fire their program on every CPU regardless).
pub(crate) fn open_event(attr: &PerfEventAttr<'_>, pid: i32) -> Result<OwnedFd> {
    sysr(perf::perf_event_open(attr, pid, 0, None, 0))
}

impl PerfAttachment {
    /// Attaches `program` to `event`, taking the event.
    pub(crate) fn attach(program: &Program, event: OwnedFd, cookie: u64) -> Result<Self> {
        Self::attach_how(program, event, cookie, false)
    }

    /// [`PerfAttachment::attach`], with the ioctls even on kernels with perf
    /// event links when `force_ioctl`.
    pub(crate) fn attach_how(
        program: &Program,
        event: OwnedFd,
        cookie: u64,
        force_ioctl: bool,
    ) -> Result<Self> {
        let probe = if force_ioctl {
            Err(ebpf_syscall::NotSupported::new(
                "bpf_link for perf_event (not requested)",
                ebpf_syscall::KernelVersion::new(5, 15, 0),
            ))
        } else {
            crate::util::probe_link(LinkKind::PerfEvent)
        };
        match probe {
            Ok(()) => {
                let mut attr =
                    sys::LinkCreatePerfEventAttr::new(program, &event, AttachType::PERF_EVENT);
                attr.bpf_cookie = cookie;
                let link = sys::link_create(&attr)
                    .map_err(|e| crate::util::link_create_error(e, LinkKind::PerfEvent))?;
                Ok(PerfAttachment::Link {
                    link: RawLink::from_fd(link),
                    event: Some(event),
                })
            }
            Err(ns) => {
                if cookie != 0 {
                    return Err(not_supported(
                        format!("bpf_cookie for perf events ({})", ns.feature),
                        5,
                        15,
                    ));
                }
                log::debug!("{ns}: attaching with PERF_EVENT_IOC_SET_BPF");
                sysr(perf::perf_event_set_bpf(&event, program))?;
                sysr(perf::perf_event_enable(&event))?;
                Ok(PerfAttachment::Ioctl { event: Some(event) })
            }
        }
    }

    pub(crate) fn from_pin(path: &Path, kind: &'static str) -> Result<Self> {
        let link = RawLink::from_pin(path)?.expect_type(&[LinkType::PERF_EVENT], kind)?;
        Ok(PerfAttachment::Link { link, event: None })
    }

    /// The perf event fd, while this value holds it.
    pub(crate) fn event(&self) -> Option<BorrowedFd<'_>> {
        match self {
            PerfAttachment::Link { event, .. } | PerfAttachment::Ioctl { event } => {
                event.as_ref().map(AsFd::as_fd)
            }
            PerfAttachment::Detached => None,
        }
    }

    fn no_link(&self, op: &'static str) -> Error {
        match self {
            PerfAttachment::Detached => Error::Unsupported {
                op,
                kind: "perf event",
                why: "the link was detached",
            },
            _ => not_supported("bpf_link for perf events (pin, info)", 5, 15),
        }
    }

    pub(crate) fn fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            PerfAttachment::Link { link, .. } => Some(link.as_fd()),
            PerfAttachment::Ioctl { .. } | PerfAttachment::Detached => None,
        }
    }

    pub(crate) fn pin(&mut self, path: &Path) -> Result<()> {
        match self {
            PerfAttachment::Link { link, .. } => link.pin_at(path),
            _ => Err(self.no_link("pin")),
        }
    }

    pub(crate) fn unpin(&mut self) -> Result<()> {
        match self {
            PerfAttachment::Link { link, .. } => link.unpin_now(),
            _ => Ok(()),
        }
    }

    pub(crate) fn pinned_path(&self) -> Option<&Path> {
        match self {
            PerfAttachment::Link { link, .. } => crate::Link::pinned_path(link),
            _ => None,
        }
    }

    pub(crate) fn update(&mut self, _program: &Program) -> Result<()> {
        // The kernel has no update for perf event links (EOPNOTSUPP) either.
        Err(Error::Unsupported {
            op: "update",
            kind: "perf event",
            why: "the kernel cannot replace the program of a perf event; attach a new link",
        })
    }

    pub(crate) fn detach(&mut self) -> Result<()> {
        if let PerfAttachment::Link { link, .. } = self {
            if crate::Link::pinned_path(link).is_some() {
                return Err(Error::Unsupported {
                    op: "detach",
                    kind: "pinned perf event",
                    why: "perf event links have no BPF_LINK_DETACH; unpin and drop the link",
                });
            }
        }
        // Closing the link and the event is what detaches a perf event.
        *self = PerfAttachment::Detached;
        Ok(())
    }

    pub(crate) fn info(&self) -> Result<LinkInfo> {
        match self {
            PerfAttachment::Link { link, .. } => link.info_now(),
            _ => Err(self.no_link("info")),
        }
    }
}

/// Defines a perf-event-based link kind around a [`PerfAttachment`].
macro_rules! perf_link {
    ($(#[$m:meta])* $name:ident, $kind:literal) => {
        $(#[$m])*
        #[derive(Debug)]
        pub struct $name {
            pub(crate) inner: $crate::perf_attach::PerfAttachment,
            /// The tracefs event behind a legacy probe, removed after `inner`
            /// closed the perf event (fields drop in order).
            pub(crate) tracefs: Option<ebpf_syscall::tracefs::ProbeEvent>,
        }

        impl $name {
            /// Attaches `program` to an opened probe.
            #[allow(dead_code, reason = "only the probe kinds use it")]
            pub(crate) fn from_probe(
                program: &ebpf::Program,
                probe: $crate::perf_attach::OpenedProbe,
                cookie: u64,
            ) -> $crate::Result<Self> {
                Ok(Self {
                    inner: $crate::perf_attach::PerfAttachment::attach_how(
                        program,
                        probe.event,
                        cookie,
                        probe.force_ioctl,
                    )?,
                    tracefs: probe.tracefs,
                })
            }

            /// The tracefs event (group and name) behind this probe, when it
            /// was made through `kprobe_events`/`uprobe_events`.
            pub fn tracefs_event(&self) -> Option<(&str, &str)> {
                self.tracefs.as_ref().map(|e| (e.group(), e.name()))
            }

            /// Opens a link of this kind pinned at `path`.
            ///
            /// # Minimum kernel version
            ///
            /// 5.15.
            #[doc(alias = "BPF_OBJ_GET")]
            pub fn from_pin(path: impl AsRef<std::path::Path>) -> $crate::Result<Self> {
                Ok(Self {
                    inner: $crate::perf_attach::PerfAttachment::from_pin(path.as_ref(), $kind)
                        .map_err($crate::Error::link("open pinned", $kind))?,
                    tracefs: None,
                })
            }

            /// The perf event fd (while this value holds it).
            pub fn perf_event(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
                self.inner.event()
            }

            /// Whether the program is attached through a `bpf_link` (5.15)
            /// rather than the perf ioctls.
            pub fn is_bpf_link(&self) -> bool {
                matches!(self.inner, $crate::perf_attach::PerfAttachment::Link { .. })
            }
        }

        impl $crate::link::sealed::Sealed for $name {}

        impl $crate::Link for $name {
            fn kind(&self) -> &'static str {
                $kind
            }
            fn fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
                self.inner.fd()
            }
            fn pin(&mut self, path: &std::path::Path) -> $crate::Result<()> {
                self.inner.pin(path).map_err($crate::Error::link("pin", $kind))
            }
            fn unpin(&mut self) -> $crate::Result<()> {
                self.inner.unpin().map_err($crate::Error::link("unpin", $kind))
            }
            fn pinned_path(&self) -> Option<&std::path::Path> {
                self.inner.pinned_path()
            }
            fn update(&mut self, program: &ebpf::Program) -> $crate::Result<()> {
                self.inner.update(program).map_err($crate::Error::link("update", $kind))
            }
            fn detach(&mut self) -> $crate::Result<()> {
                self.inner.detach().map_err($crate::Error::link("detach", $kind))
            }
            fn info(&self) -> $crate::Result<$crate::LinkInfo> {
                self.inner.info().map_err($crate::Error::link("info", $kind))
            }
        }
    };
}
pub(crate) use perf_link;
