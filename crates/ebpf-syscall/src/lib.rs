//! The typed `bpf(2)` layer and the other kernel calls the library needs (perf events, mmap, epoll).
//!
//! # Layer
//!
//! `ebpf-syscall` is a **kernel** crate (it talks to the running kernel).
//! Of this workspace it uses only `ebpf-abi` (the kernel vocabulary); see `docs/ARCHITECTURE.md`
//! for the whole chain.
//!
//! # Shape
//!
//! - One `#[repr(C)]` attr struct per `bpf()` command, laid out like the
//!   kernel's `union bpf_attr` member (checked against the running kernel's
//!   BTF by `tests/kernel_layout.txt`), and one function per command named
//!   after it: [`map_create`], [`prog_load`], [`link_create`], ...
//! - Addresses in attrs are [`Pointer`]s that borrow their buffer; setters
//!   keep each pointer and its length together.
//! - Functions take `impl AsFd` and return `OwnedFd`.
//! - Errors are [`Error`], which names the command and the [`Errno`];
//!   failed loads carry a [`VerifierLog`].
//! - Element and batch map operations are methods of [`MapFd`], a map fd
//!   that knows the map's key and value sizes (the kernel uses them, but the
//!   attr does not carry them) and checks every buffer against them.
//!
//! ```no_run
//! use ebpf_syscall::{map_create, map_info, MapCreateAttr, MapType};
//! let map = map_create(&MapCreateAttr::new(MapType::ARRAY, 4, 8, 1))?;
//! assert_eq!(map_info(&map)?.max_entries, 1);
//! # Ok::<(), ebpf_syscall::Error>(())
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
pub mod perf;
mod pointer;
mod prog;
mod rlimit;
mod socket;
mod sys;
pub mod token;
pub mod tracefs;
mod version;

#[cfg(test)]
mod layout_tests;

pub use btf::{BtfLoadAttr, btf_load, btf_load_with_log};
pub use cpus::{parse_cpu_list, possible_cpus, read_cpu_list};
pub use ebpf_abi::{
    AttachType, Cmd, KernelVersion, LinkType, MapType, ParseKernelVersionError, ProgramType,
    StatsType,
};
pub use eperm::{PermissionFacts, eperm_hint, has_bpf_capabilities};
pub use epoll::{EVENTS_PER_WAIT, Epoll, EpollInterest, EventFd};
pub use errno::Errno;
pub use error::{Error, ErrorChain, MapBuffer, Result};
pub use info::{BtfInfo, LinkInfo, MapInfo, ProgInfo, perf_event_type};
pub use kernel_config::KernelConfig;
pub use link::{
    BPF_FD_TYPE_KPROBE, BPF_FD_TYPE_KRETPROBE, BPF_FD_TYPE_RAW_TRACEPOINT, BPF_FD_TYPE_TRACEPOINT,
    BPF_FD_TYPE_UPROBE, BPF_FD_TYPE_URETPROBE, TaskFdQueryAttr, TaskFdQueryResult, task_fd_query,
};
pub use link::{
    EnableStatsAttr, IterCreateAttr, IterLinkInfo, LinkCreate, LinkCreateAttr,
    LinkCreateCgroupAttr, LinkCreateIterAttr, LinkCreateKprobeMultiAttr, LinkCreateNetfilterAttr,
    LinkCreateNetkitAttr, LinkCreatePerfEventAttr, LinkCreateTcxAttr, LinkCreateTracingAttr,
    LinkCreateUprobeMultiAttr, LinkDetachAttr, LinkUpdateAttr, RawTracepointOpenAttr,
    TokenCreateAttr, enable_stats, iter_create, link_create, link_detach, link_update,
    raw_tracepoint_open, token_create,
};
pub use log::{DISPLAY_LINES, LogLevel, VerifierLog};
pub use map::*;
pub use map_fd::{MapFd, map_create_sized};
pub use mmap::Mmap;
pub use not_supported::NotSupported;
pub use obj::*;
pub use pointer::Pointer;
pub use prog::*;
pub use rlimit::{memlock_rlimit_needed, remove_memlock_rlimit};
pub use socket::{
    SO_ATTACH_BPF, SO_ATTACH_REUSEPORT_CBPF, SO_ATTACH_REUSEPORT_EBPF, SO_DETACH_BPF,
    SO_DETACH_REUSEPORT_BPF, SockFilter, attach_reuseport_cbpf, attach_reuseport_ebpf,
    attach_socket_filter, detach_reuseport, detach_socket_filter,
};
pub use version::current_kernel;
