//! Helpers shared by the workspace's tests. A dev-dependency only: nothing in a
//! library crate may depend on it.
//!
//! - [`kernel_test`]: the harness every kernel test runs in. It checks
//!   privileges (a visible `SKIP <test>: needs root`, or a failure with
//!   `EBPF_TEST_REQUIRE_ROOT=1`), runs the body inside [`check_fd_leaks`], and
//!   turns the body's error into a visible skip only for a feature the kernel
//!   lacks ([`NotSupported`] below its minimum kernel, or configured out) or a
//!   refusal by policy (`EPERM`).
//! - [`skip_if_not_supported`]: the same rule for one step of a test.
//! - [`require_tool`]: skip visibly when a tool (clang, bpftool) is missing.
//! - [`BpfFs`], [`TempCgroup`], [`NetNs`]: kernel fixtures that clean up on drop.
//! - [`VethPair`]: two namespaces joined by a veth pair, with UDP and ICMP
//!   echo (`ping`) traffic between them.
//! - [`in_delegated_userns`]: a step run as an unprivileged user in a new
//!   user namespace, with a bpffs delegated to it (BPF tokens).
//! - [`create_netkit_pair`], [`create_veth_pair`], [`add_ipv4_address`],
//!   [`set_link_up`]: rtnetlink requests (netlink-packet-route), for devices
//!   older iproute2 cannot create.
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
mod harness;
mod netlink;
mod report;
mod skip;
mod userns;
mod veth;

pub use ebpf_syscall::{KernelVersion, NotSupported};
pub use fd_leak::{check_fd_leaks, open_fds};
pub use fixtures::{BpfFs, NetNs, TempCgroup};
pub use harness::{
    ALLOW_MISSING_ENV, REQUIRE_ROOT_ENV, TestResult, has_privileges, kernel_test, require_root,
};
pub use netlink::{add_ipv4_address, create_netkit_pair, create_veth_pair, set_link_up};
pub use report::{kernel_version, skip};
pub use skip::{require_tool, skip_if_not_supported};
pub use userns::{UsernsOutcome, in_delegated_userns};
pub use veth::{Side, VethPair};
