//! sk_reuseport programs (`SEC("sk_reuseport")`, `SEC("sk_reuseport/migrate")`)
//! and classic BPF selectors on a `SO_REUSEPORT` group: which of the group's
//! sockets receives each datagram or connection.
//!
//! The flow, as in the kernel's `reuseport_bpf` selftests: bind every socket
//! of the group with `SO_REUSEPORT` to the same address, put them in a
//! `BPF_MAP_TYPE_REUSEPORT_SOCKARRAY` with [`set_socket`] (after `bind` for
//! UDP, after `listen` for TCP), and [`attach`] a program that calls
//! `bpf_sk_select_reuseport(ctx, map, &index, 0)` and returns `SK_PASS` to
//! one socket of the group. The selector belongs to the whole group;
//! dropping the attachment removes it (`SO_DETACH_REUSEPORT_BPF`, 5.3) and
//! the kernel goes back to hashing.
//!
//! ```no_run
//! use std::os::fd::AsFd;
//! # fn f(prog: &ebpf::Program, sockets: &ebpf::Map, a: &std::net::UdpSocket,
//! #      b: &std::net::UdpSocket) -> ebpf_link::Result<()> {
//! // a and b: bound with SO_REUSEPORT to the same address.
//! ebpf_link::reuseport::set_socket(sockets, 0, a)?;
//! ebpf_link::reuseport::set_socket(sockets, 1, b)?;
//! let selector = ebpf_link::reuseport::attach(prog, a)?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 4.19 (`BPF_PROG_TYPE_SK_REUSEPORT`, `REUSEPORT_SOCKARRAY`; classic BPF
//! 4.5; detaching 5.3).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use ebpf::{Map, MapType, Program, ProgramType, UpdateFlags};
use ebpf_syscall::{self as sys, Errno, SockFilter};

use crate::error::{Error, Result};
use crate::info::LinkInfo;
use crate::link::sealed;
use crate::util::{expect_program_type, not_supported};

const KIND: &str = "sk_reuseport";

/// A selector attached to a `SO_REUSEPORT` group (not a bpf_link: it cannot
/// be pinned or queried). Holds a duplicate of the socket it was attached
/// through; dropping it detaches the selector (5.3; on older kernels it
/// stays until the group's sockets close or another replaces it).
///
/// # Minimum kernel version
///
/// 4.19 (4.5 for classic BPF).
#[derive(Debug)]
#[must_use = "dropping it detaches the program: keep it, or pin it"]
pub struct ReuseportAttachment {
    socket: Option<OwnedFd>,
}

/// Attaches a `BPF_PROG_TYPE_SK_REUSEPORT` program to the `SO_REUSEPORT`
/// group of `socket`, replacing its selector if it had one.
///
/// # Minimum kernel version
///
/// 4.19.
#[doc(alias = "SO_ATTACH_REUSEPORT_EBPF")]
pub fn attach(program: &Program, socket: &impl AsFd) -> Result<ReuseportAttachment> {
    (|| {
        expect_program_type(program, &[ProgramType::SK_REUSEPORT], "sk_reuseport")?;
        sys::attach_reuseport_ebpf(socket, program)?;
        dup(socket)
    })()
    .map_err(Error::attach(program, || target(socket)))
}

/// Attaches a classic BPF selector: `filter` returns the index of the
/// socket, in the order the group's sockets were bound.
///
/// # Minimum kernel version
///
/// 4.5.
#[doc(alias = "SO_ATTACH_REUSEPORT_CBPF")]
pub fn attach_classic(socket: &impl AsFd, filter: &[SockFilter]) -> Result<ReuseportAttachment> {
    sys::attach_reuseport_cbpf(socket, filter)
        .map_err(Error::from)
        .and_then(|()| dup(socket))
        .map_err(|e| Error::Attach {
            program: "classic BPF".into(),
            target: target(socket),
            source: Box::new(e),
        })
}

fn target(socket: &impl AsFd) -> String {
    format!(
        "the SO_REUSEPORT group of socket fd {}",
        socket.as_fd().as_raw_fd()
    )
}

fn dup(socket: &impl AsFd) -> Result<ReuseportAttachment> {
    let socket = socket
        .as_fd()
        .try_clone_to_owned()
        .map_err(Error::io("dup socket"))?;
    Ok(ReuseportAttachment {
        socket: Some(socket),
    })
}

/// Puts `socket` at `index` of a `REUSEPORT_SOCKARRAY` map (value size 4 or
/// 8). The socket must have `SO_REUSEPORT` and be bound (UDP) or listening
/// (TCP); it leaves the map when it closes.
///
/// # Minimum kernel version
///
/// 4.19.
pub fn set_socket(map: &Map, index: u32, socket: &impl AsFd) -> Result<()> {
    check_sockarray(map)?;
    let fd = socket.as_fd().as_raw_fd();
    let value = match map.value_size() {
        8 => u64::try_from(fd).unwrap_or_default().to_ne_bytes().to_vec(),
        _ => u32::try_from(fd).unwrap_or_default().to_ne_bytes().to_vec(),
    };
    map.update(&index.to_ne_bytes(), &value, UpdateFlags::ANY)
        .map_err(Error::from)
}

/// Removes the socket at `index` of a `REUSEPORT_SOCKARRAY` map; whether
/// there was one.
///
/// # Minimum kernel version
///
/// 4.19.
pub fn clear_socket(map: &Map, index: u32) -> Result<bool> {
    check_sockarray(map)?;
    map.delete(&index.to_ne_bytes()).map_err(Error::from)
}

fn check_sockarray(map: &Map) -> Result<()> {
    if map.map_type() == MapType::REUSEPORT_SOCKARRAY {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "map '{}': its type is {}, not reuseport_sockarray",
            map.name(),
            map.map_type()
        )))
    }
}

impl ReuseportAttachment {
    fn detach_now(&mut self) -> Result<()> {
        let Some(s) = self.socket.take() else {
            return Ok(());
        };
        match sys::detach_reuseport(&s) {
            Ok(()) => Ok(()),
            // Replaced or removed by someone else, or the group is gone.
            Err(e) if e.errno() == Some(Errno::NOENT) => Ok(()),
            Err(e) if e.errno() == Some(Errno(nix::libc::ENOPROTOOPT)) => {
                self.socket = Some(s);
                Err(not_supported("SO_DETACH_REUSEPORT_BPF", 5, 3))
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for ReuseportAttachment {
    fn drop(&mut self) {
        if let Err(e) = self.detach_now() {
            if e.not_supported().is_none() {
                log::warn!("detach the SO_REUSEPORT selector: {}", sys::ErrorChain(&e));
            }
        }
    }
}

impl sealed::Sealed for ReuseportAttachment {}

impl crate::Link for ReuseportAttachment {
    fn kind(&self) -> &'static str {
        KIND
    }
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
    fn pin(&mut self, _path: &Path) -> Result<()> {
        Err(Error::Unsupported {
            op: "pin",
            kind: KIND,
            why: "a SO_REUSEPORT selector belongs to its socket group, not to a bpf_link",
        })
    }
    fn unpin(&mut self) -> Result<()> {
        Ok(())
    }
    fn pinned_path(&self) -> Option<&Path> {
        None
    }
    /// Replaces the group's selector (atomically, as a new attach does).
    fn update(&mut self, program: &Program) -> Result<()> {
        let s = self.socket.as_ref().ok_or(Error::Unsupported {
            op: "update",
            kind: KIND,
            why: "the selector was detached",
        })?;
        expect_program_type(program, &[ProgramType::SK_REUSEPORT], "sk_reuseport")
            .and_then(|()| sys::attach_reuseport_ebpf(s, program).map_err(Error::from))
            .map_err(Error::link("update", KIND))
    }
    fn detach(&mut self) -> Result<()> {
        self.detach_now().map_err(Error::link("detach", KIND))
    }
    fn info(&self) -> Result<LinkInfo> {
        Err(Error::Unsupported {
            op: "info",
            kind: KIND,
            why: "a SO_REUSEPORT selector is not a bpf_link",
        })
    }
}
