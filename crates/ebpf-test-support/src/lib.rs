//! Helpers shared by the workspace's tests. A dev-dependency only: nothing in a
//! library crate may depend on it.
//!
//! - [`skip_if_not_supported`]: turn a [`NotSupported`] error into a printed
//!   skip, but fail when the running kernel is at or above the feature's
//!   declared minimum version (a probe that is wrong must not hide as a skip).
//! - [`check_fd_leaks`]: compare `/proc/self/fd` before and after a test body.
//! - [`BpfFs`], [`TempCgroup`], [`NetNs`]: kernel fixtures that clean up on drop.
//! - [`create_netkit_pair`]: an rtnetlink `RTM_NEWLINK` for netkit devices,
//!   which older iproute2 cannot create.
//!
//! ```
//! use ebpf_test_support::{check_fd_leaks, skip_if_not_supported};
//! use ebpf_syscall::{KernelVersion, NotSupported};
//!
//! check_fd_leaks(|| {
//!     let probe: Result<(), NotSupported> = Ok(());
//!     let Some(()) = skip_if_not_supported(probe) else { return };
//! });
//! ```
#![deny(missing_docs)]
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test loudly; a panic is the intended report"
)]

mod fd_leak;
mod fixtures;
mod netlink;
mod skip;

pub use ebpf_syscall::{KernelVersion, NotSupported};
pub use fd_leak::{check_fd_leaks, open_fds};
pub use fixtures::{BpfFs, NetNs, TempCgroup};
pub use netlink::create_netkit_pair;
pub use skip::{is_root, kernel_version, skip, skip_if_not_supported, skip_unless_root};
