//! Attaching programs to kernel hooks through links, one module per link kind.
//!
//! The step after loading: a loaded [`ebpf::Program`] is attached to a hook
//! (a tracepoint, a cgroup, an interface, ...) and the attachment is an owned
//! value. Dropping it detaches the program; it can be pinned in a bpffs to
//! outlive the process, updated with another program, detached explicitly
//! and queried. Every kind implements the sealed [`Link`] trait.
//!
//! | Module | Kind | Minimum kernel |
//! |---|---|---|
//! | [`tracepoint`] | `tracepoint/<group>/<name>` (perf event) | 4.7 (bpf_link 5.15) |
//! | [`raw_tracepoint`] | `raw_tp/<name>`, `tp_btf/<name>` | 4.17 |
//! | [`tracing`] | fentry/fexit/fmod_ret, LSM, freplace | 5.5 |
//! | [`iter`] | `iter/<target>`, with a reader | 5.8 |
//! | [`perf_event`] | software/hardware events, sampling | 4.9 (bpf_link 5.15) |
//! | [`uprobe`] | uprobe/uretprobe (PMU or `uprobe_events`), uprobe_multi, uprobe sessions | 4.17, 6.6, 6.13 |
//! | [`usdt`] | USDT probes of libbpf's `usdt.bpf.h` (uprobes or uprobe_multi) | 4.17 (6.6) |
//! | [`kprobe`] | kprobe/kretprobe (PMU or `kprobe_events`), ksyscall, kprobe_multi (names, patterns, addresses), kprobe sessions | 4.17, 5.18, 6.10 |
//! | [`cgroup`] | every cgroup attach type (`BPF_PROG_ATTACH` fallback) | 4.10 (bpf_link 5.7) |
//! | [`netns`] | sk_lookup, flow dissector | 5.8 |
//! | [`xdp`] | XDP (generic/driver/offload): bpf_link, or netlink before 5.9 | 4.12 (bpf_link 5.9) |
//! | [`tc`] | classic tc: clsact + cls_bpf (direct action), over netlink | 4.5 |
//! | [`tcx`] | TCX ingress/egress with ordering | 6.6 |
//! | [`netkit`] | netkit primary/peer | 6.7 |
//! | [`netfilter`] | netfilter hooks | 6.4 |
//! | [`sockmap`] | sk_msg/sk_skb on a socket map | 4.17 (bpf_link 6.10) |
//! | [`socket_filter`] | `SO_ATTACH_BPF` on a socket | 3.19 |
//! | [`reuseport`] | sk_reuseport / classic BPF on a `SO_REUSEPORT` group | 4.19 (cBPF 4.5) |
//!
//! Links are described by [`LinkInfo`] ([`Link::info`]), reopened from a
//! bpffs with each kind's `from_pin` (or [`RawLink::from_pin`]), and
//! enumerated with [`links`]. A missing kernel feature is
//! [`Error::NotSupported`]; a refusal by policy (`EPERM` under lockdown or
//! without capabilities) is [`Error::PermissionDenied`].
//!
//! [`attach`] picks the kind from the program's type, attach type and
//! section target, like libbpf's skeleton auto-attach.
//!
//! ```no_run
//! use ebpf_link::Link;
//! # fn f(prog: &ebpf::Program) -> ebpf_link::Result<()> {
//! let mut link = ebpf_link::tracepoint::attach(prog, "syscalls", "sys_enter_getpid")?;
//! link.pin("/sys/fs/bpf/getpid".as_ref())?; // outlives the process now
//! # Ok(()) }
//! ```
//!
//! # Layer
//!
//! `ebpf-link` is a **kernel** crate (it talks to the running kernel).
//! It may depend on `ebpf` and the layers below it, including `ebpf-syscall`; see `docs/ARCHITECTURE.md` for the whole chain.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod auto;
mod error;
mod iface;
mod info;
mod link;
mod perf_attach;
mod rtnetlink;
mod util;

pub mod cgroup;
pub mod iter;
pub mod kprobe;
pub mod netfilter;
pub mod netkit;
pub mod netns;
pub mod perf_event;
pub mod raw_tracepoint;
pub mod reuseport;
pub mod socket_filter;
pub mod sockmap;
pub mod struct_ops;
pub mod tc;
pub mod tcx;
pub mod tracepoint;
pub mod tracing;
pub mod uprobe;
pub mod usdt;
pub mod xdp;

pub use auto::{AttachPoint, attach, attach_auto, attach_spec};
pub use ebpf_syscall::ErrorChain;
pub use error::{Error, Result};
pub use iface::Interface;
pub use info::{LinkIds, LinkInfo, LinkInfoData, PerfEventInfo, UprobeMultiProbe, link_ids, links};
pub use link::{Link, RawLink};

/// The index of interface `name` in the calling thread's network namespace.
pub fn ifindex(name: &str) -> Result<u32> {
    nix::net::if_::if_nametoindex(name).map_err(|e| Error::Io {
        what: format!("if_nametoindex({name})"),
        source: e.into(),
    })
}

/// The user guide's examples, compiled as doc tests so the guide cannot drift
/// from the API (`docs/GUIDE.md`).
#[cfg(doctest)]
#[doc = include_str!("../../../docs/GUIDE.md")]
pub struct GuideExamples;
