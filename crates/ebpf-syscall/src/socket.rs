//! Socket filters: `setsockopt(SOL_SOCKET, SO_ATTACH_BPF / SO_DETACH_BPF)`.
//!
//! ```no_run
//! # fn f(prog: std::os::fd::BorrowedFd<'_>) -> Result<(), ebpf_syscall::Error> {
//! use ebpf_syscall::{attach_socket_filter, detach_socket_filter};
//! let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
//! attach_socket_filter(&sock, prog)?; // a BPF_PROG_TYPE_SOCKET_FILTER program
//! detach_socket_filter(&sock)?;
//! # Ok(()) }
//! ```
//!
//! # Safety
//!
//! `setsockopt(2)` reads `optlen` bytes from `optval`; both calls here pass
//! the address and size of one `c_int` local that outlives the call.
#![allow(unsafe_code, reason = "audited: see the module's # Safety section")]

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use nix::libc;

use crate::{Errno, Error, Result};

/// `SO_ATTACH_BPF` (`SOL_SOCKET`; 50 on most architectures).
pub const SO_ATTACH_BPF: i32 = libc::SO_ATTACH_BPF;
/// `SO_DETACH_BPF` (`SOL_SOCKET`; an alias of `SO_DETACH_FILTER`, 27 on most
/// architectures).
pub const SO_DETACH_BPF: i32 = libc::SO_DETACH_BPF;

/// `setsockopt(fd, SOL_SOCKET, opt, &value, sizeof(int))`.
fn setsockopt_int(
    fd: BorrowedFd<'_>,
    opt: libc::c_int,
    value: libc::c_int,
    call: &'static str,
) -> Result<()> {
    // SAFETY: setsockopt(2) contract: the kernel reads `optlen` bytes from
    // `optval`; here that is size_of::<c_int>() bytes of `value`, a live local.
    // `fd` is a borrowed, open descriptor (a non-socket fails with ENOTSOCK).
    let ret = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            (&raw const value).cast(),
            core::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(Error::Syscall {
            call,
            errno: Errno::last(),
        })
    }
}

/// `setsockopt(SO_ATTACH_BPF)`: runs the socket filter program `prog`
/// (`BPF_PROG_TYPE_SOCKET_FILTER`) on the packets `sock` receives, replacing
/// any filter it had (atomically).
///
/// The socket holds a reference to the program: `prog` may be closed
/// afterwards. Errors are [`Error::Syscall`] named
/// `"setsockopt(SO_ATTACH_BPF)"` (`EINVAL` for a program of another type,
/// `ENOTSOCK` for a non-socket).
///
/// # Minimum kernel version
///
/// 3.19.
#[doc(alias = "SO_ATTACH_BPF")]
pub fn attach_socket_filter(sock: impl AsFd, prog: impl AsFd) -> Result<()> {
    setsockopt_int(
        sock.as_fd(),
        SO_ATTACH_BPF,
        prog.as_fd().as_raw_fd(),
        "setsockopt(SO_ATTACH_BPF)",
    )
}

/// `setsockopt(SO_DETACH_BPF)`: removes the filter of `sock` (a BPF program or
/// a classic BPF filter). Fails with `ENOENT` when it has none; errors are
/// [`Error::Syscall`] named `"setsockopt(SO_DETACH_BPF)"`.
///
/// # Minimum kernel version
///
/// 3.19.
#[doc(alias = "SO_DETACH_BPF")]
#[doc(alias = "SO_DETACH_FILTER")]
pub fn detach_socket_filter(sock: impl AsFd) -> Result<()> {
    setsockopt_int(sock.as_fd(), SO_DETACH_BPF, 0, "setsockopt(SO_DETACH_BPF)")
}
