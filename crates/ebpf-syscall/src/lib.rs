//! The typed `bpf(2)` layer and the other kernel calls the library needs (perf events, mmap, epoll).
//!
//! # Layer
//!
//! `ebpf-syscall` is a **kernel** crate (it talks to the running kernel).
//! Of this workspace it uses only `ebpf-abi` (the kernel vocabulary); see `docs/ARCHITECTURE.md`
//! for the whole chain.
//!
//! # Public API
//!
//! Two tiers, so that what users build on stays small and stable:
//!
//! - **The public surface** (semver-covered, documented here; `ebpf` re-exports what its users
//!   need): the kernel vocabulary from `ebpf-abi` ([`MapType`], [`ProgramType`],
//!   [`AttachType`], [`LinkType`], [`KernelVersion`], ...), the error model ([`Error`],
//!   [`ErrorChain`], [`Errno`], [`NotSupported`], [`VerifierLog`], [`LogLevel`],
//!   [`PermissionFacts`], [`eperm_hint`]), facts about the running system
//!   ([`current_kernel`], [`KernelConfig`], [`possible_cpus`], [`remove_memlock_rlimit`]),
//!   BPF tokens ([`token`]) and bpffs ([`bpffs`]).
//! - **The raw layer** (`#[doc(hidden)]`: for ebpf-rs's own crates, changed in any release
//!   when the kernel's ABI or our loader needs it): one `#[repr(C)]` attr struct per `bpf()`
//!   command, laid out like the kernel's `union bpf_attr` member (checked against the running
//!   kernel's BTF by `tests/kernel_layout.txt`), and one function per command named after it
//!   (`map_create`, `prog_load`, `link_create`, ...); `Pointer`s that borrow their buffers;
//!   `MapFd`, a map fd that knows its key and value sizes and checks every buffer against
//!   them; `perf_event_open`, mmap, epoll and tracefs. Functions take `impl AsFd` and return
//!   `OwnedFd`; errors name the command and the [`Errno`], failed loads carry a
//!   [`VerifierLog`]. Programs should use `ebpf` and `ebpf-link` instead; the raw layer
//!   stays reachable for tools that need a command those crates do not wrap.
//!
//! ```
//! use ebpf_syscall::{Errno, Error, MapType};
//! let e = Error::Bpf { cmd: ebpf_syscall::Cmd::MAP_CREATE, errno: Errno::PERM };
//! assert_eq!(e.errno(), Some(Errno::PERM));
//! assert_eq!(MapType::RINGBUF.to_string(), "ringbuf");
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod bpffs;
mod btf;
mod cpus;
mod eperm;
mod epoll;
mod errno;
mod error;
mod info;
mod kernel_config;
mod link;
mod log;
mod map;
mod map_fd;
mod mmap;
mod not_supported;
mod obj;
#[doc(hidden)]
pub mod perf;
mod pointer;
mod prog;
mod rlimit;
mod socket;
mod sys;
pub mod token;
#[doc(hidden)]
pub mod tracefs;
mod version;

#[cfg(test)]
mod layout_tests;

#[doc(hidden)]
pub use btf::{BtfLoadAttr, btf_load, btf_load_with_log};
pub use cpus::{parse_cpu_list, possible_cpus, read_cpu_list};
pub use ebpf_abi::{
    AttachType, Cmd, KernelVersion, LinkType, MapType, ParseKernelVersionError, ProgramType,
    StatsType,
};
pub use eperm::{PermissionFacts, eperm_hint, has_bpf_capabilities};
#[doc(hidden)]
pub use epoll::{EVENTS_PER_WAIT, Epoll, EpollInterest, EventFd};
pub use errno::Errno;
pub use error::{Error, ErrorChain, MapBuffer, Result};
#[doc(hidden)]
pub use info::{BtfInfo, LinkInfo, MapInfo, ProgInfo, perf_event_type};
pub use kernel_config::KernelConfig;
#[doc(hidden)]
pub use link::{
    BPF_FD_TYPE_KPROBE, BPF_FD_TYPE_KRETPROBE, BPF_FD_TYPE_RAW_TRACEPOINT, BPF_FD_TYPE_TRACEPOINT,
    BPF_FD_TYPE_UPROBE, BPF_FD_TYPE_URETPROBE, TaskFdQueryAttr, TaskFdQueryResult, task_fd_query,
};
#[doc(hidden)]
pub use link::{
    EnableStatsAttr, IterCreateAttr, IterLinkInfo, LinkCreate, LinkCreateAttr,
    LinkCreateCgroupAttr, LinkCreateIterAttr, LinkCreateKprobeMultiAttr, LinkCreateNetfilterAttr,
    LinkCreateNetkitAttr, LinkCreatePerfEventAttr, LinkCreateTcxAttr, LinkCreateTracingAttr,
    LinkCreateUprobeMultiAttr, LinkDetachAttr, LinkUpdateAttr, RawTracepointOpenAttr,
    TokenCreateAttr, enable_stats, iter_create, link_create, link_detach, link_update,
    raw_tracepoint_open, token_create,
};
pub use log::{DISPLAY_LINES, LogLevel, VerifierLog};
#[doc(hidden)]
pub use map::*;
#[doc(hidden)]
pub use map_fd::{MapFd, map_create_sized};
#[doc(hidden)]
pub use mmap::Mmap;
pub use not_supported::NotSupported;
#[doc(hidden)]
pub use obj::*;
#[doc(hidden)]
pub use pointer::Pointer;
#[doc(hidden)]
pub use prog::*;
pub use rlimit::{memlock_rlimit_needed, remove_memlock_rlimit};
#[doc(hidden)]
pub use socket::{
    SO_ATTACH_BPF, SO_ATTACH_REUSEPORT_CBPF, SO_ATTACH_REUSEPORT_EBPF, SO_DETACH_BPF,
    SO_DETACH_REUSEPORT_BPF, SockFilter, attach_reuseport_cbpf, attach_reuseport_ebpf,
    attach_socket_filter, detach_reuseport, detach_socket_filter,
};
pub use version::current_kernel;
