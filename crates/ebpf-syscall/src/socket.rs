//! Socket filters: `setsockopt(SOL_SOCKET, SO_ATTACH_BPF / SO_DETACH_BPF)`,
//! and the `SO_REUSEPORT` group's selector (`SO_ATTACH_REUSEPORT_EBPF`,
//! `SO_ATTACH_REUSEPORT_CBPF`, `SO_DETACH_REUSEPORT_BPF`).
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
//! `setsockopt(2)` reads `optlen` bytes from `optval`; the calls here pass
//! the address and size of one `c_int` local, or of a `sock_fprog` whose
//! `filter` points at `len` instructions, all of which outlive the call.
#![allow(unsafe_code, reason = "audited: see the module's # Safety section")]

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use nix::libc;

use crate::{Errno, Error, Result};

/// `SO_ATTACH_BPF` (`SOL_SOCKET`; 50 on most architectures).
pub const SO_ATTACH_BPF: i32 = libc::SO_ATTACH_BPF;
/// `SO_DETACH_BPF` (`SOL_SOCKET`; an alias of `SO_DETACH_FILTER`, 27 on most
/// architectures).
pub const SO_DETACH_BPF: i32 = libc::SO_DETACH_BPF;

/// `SO_ATTACH_REUSEPORT_CBPF` (`SOL_SOCKET`; 51 on most architectures).
pub const SO_ATTACH_REUSEPORT_CBPF: i32 = libc::SO_ATTACH_REUSEPORT_CBPF;
/// `SO_ATTACH_REUSEPORT_EBPF` (`SOL_SOCKET`; 52 on most architectures).
pub const SO_ATTACH_REUSEPORT_EBPF: i32 = libc::SO_ATTACH_REUSEPORT_EBPF;
/// `SO_DETACH_REUSEPORT_BPF` (`SOL_SOCKET`; 68 on most architectures).
pub const SO_DETACH_REUSEPORT_BPF: i32 = libc::SO_DETACH_REUSEPORT_BPF;

/// One classic BPF instruction (`struct sock_filter`).
#[doc(alias = "sock_filter")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SockFilter {
    /// The opcode (`BPF_LD | BPF_W | BPF_ABS`, ...).
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// The generic field (constant, offset).
    pub k: u32,
}

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

/// `setsockopt(SO_ATTACH_REUSEPORT_EBPF)`: `prog` (`BPF_PROG_TYPE_SK_REUSEPORT`)
/// picks the socket of `sock`'s `SO_REUSEPORT` group that receives each
/// packet or connection, replacing any selector the group had. `sock` must
/// have `SO_REUSEPORT` set (and be bound, for the group to exist). Errors are
/// [`Error::Syscall`] named `"setsockopt(SO_ATTACH_REUSEPORT_EBPF)"`
/// (`EINVAL` for a program of another type).
///
/// # Minimum kernel version
///
/// 4.19 (`BPF_PROG_TYPE_SK_REUSEPORT`; socket filter programs from 4.6).
#[doc(alias = "SO_ATTACH_REUSEPORT_EBPF")]
pub fn attach_reuseport_ebpf(sock: impl AsFd, prog: impl AsFd) -> Result<()> {
    setsockopt_int(
        sock.as_fd(),
        SO_ATTACH_REUSEPORT_EBPF,
        prog.as_fd().as_raw_fd(),
        "setsockopt(SO_ATTACH_REUSEPORT_EBPF)",
    )
}

/// `setsockopt(SO_ATTACH_REUSEPORT_CBPF)`: the classic BPF `filter` returns
/// the index of the socket (in the order the group's sockets were bound)
/// that receives each packet; an index past the end falls back to the hash.
/// Errors are [`Error::Syscall`] named `"setsockopt(SO_ATTACH_REUSEPORT_CBPF)"`.
///
/// # Minimum kernel version
///
/// 4.5.
#[doc(alias = "SO_ATTACH_REUSEPORT_CBPF")]
pub fn attach_reuseport_cbpf(sock: impl AsFd, filter: &[SockFilter]) -> Result<()> {
    let insns: Vec<libc::sock_filter> = filter
        .iter()
        .map(|f| libc::sock_filter {
            code: f.code,
            jt: f.jt,
            jf: f.jf,
            k: f.k,
        })
        .collect();
    let len = u16::try_from(insns.len()).map_err(|_| {
        Error::InvalidArgument(format!(
            "a classic BPF filter of {} instructions (at most 65535)",
            insns.len()
        ))
    })?;
    let prog = libc::sock_fprog {
        len,
        filter: insns.as_ptr().cast_mut(),
    };
    // SAFETY: setsockopt(2) contract: the kernel reads size_of::<sock_fprog>()
    // bytes from `optval` (`prog`, a live local) and then `len` sock_filter
    // entries from `prog.filter`, which points into `insns`, alive and
    // unmodified until after the call returns.
    let ret = unsafe {
        libc::setsockopt(
            sock.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            SO_ATTACH_REUSEPORT_CBPF,
            (&raw const prog).cast(),
            core::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(Error::Syscall {
            call: "setsockopt(SO_ATTACH_REUSEPORT_CBPF)",
            errno: Errno::last(),
        })
    }
}

/// `setsockopt(SO_DETACH_REUSEPORT_BPF)`: removes the selector of `sock`'s
/// `SO_REUSEPORT` group (eBPF or classic). `ENOENT` when it has none;
/// `ENOPROTOOPT` before 5.3. Errors are [`Error::Syscall`] named
/// `"setsockopt(SO_DETACH_REUSEPORT_BPF)"`.
///
/// # Minimum kernel version
///
/// 5.3.
#[doc(alias = "SO_DETACH_REUSEPORT_BPF")]
pub fn detach_reuseport(sock: impl AsFd) -> Result<()> {
    setsockopt_int(
        sock.as_fd(),
        SO_DETACH_REUSEPORT_BPF,
        0,
        "setsockopt(SO_DETACH_REUSEPORT_BPF)",
    )
}
