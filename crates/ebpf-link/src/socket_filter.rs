//! Socket filters (`SEC("socket")`) on a socket, with
//! `setsockopt(SO_ATTACH_BPF)`; dropping the attachment runs
//! `SO_DETACH_BPF`.
//!
//! The attachment holds a duplicate of the socket's fd, so the socket lives
//! at least as long as it.
//!
//! ```no_run
//! # fn f(prog: &ebpf::Program) -> Result<(), Box<dyn std::error::Error>> {
//! let sock = std::net::UdpSocket::bind("127.0.0.1:0")?;
//! let filter = ebpf_link::socket_filter::attach(prog, &sock)?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 3.19.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use ebpf::{Program, ProgramType};
use ebpf_syscall::{attach_socket_filter, detach_socket_filter};

use crate::error::{Error, Result};
use crate::info::LinkInfo;
use crate::link::sealed;
use crate::util::expect_program_type;

const KIND: &str = "socket filter";

/// A socket filter attached to a socket (not a bpf_link: it cannot be
/// pinned, updated in place or queried).
#[derive(Debug)]
pub struct SocketFilter {
    socket: Option<OwnedFd>,
}

/// Attaches a socket filter program to `socket`.
///
/// # Minimum kernel version
///
/// 3.19.
#[doc(alias = "SO_ATTACH_BPF")]
pub fn attach(program: &Program, socket: &impl AsFd) -> Result<SocketFilter> {
    (|| {
        expect_program_type(program, &[ProgramType::SOCKET_FILTER], "a socket filter")?;
        attach_socket_filter(socket, program)?;
        let dup = socket
            .as_fd()
            .try_clone_to_owned()
            .map_err(Error::io("dup socket"))?;
        Ok(SocketFilter { socket: Some(dup) })
    })()
    .map_err(Error::attach(program, || {
        format!("socket fd {}", socket.as_fd().as_raw_fd())
    }))
}

impl Drop for SocketFilter {
    fn drop(&mut self) {
        if let Some(s) = &self.socket {
            let _ = detach_socket_filter(s);
        }
    }
}

impl sealed::Sealed for SocketFilter {}

impl crate::Link for SocketFilter {
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
            why: "a socket filter is part of its socket, not a bpf_link",
        })
    }
    fn unpin(&mut self) -> Result<()> {
        Ok(())
    }
    fn pinned_path(&self) -> Option<&Path> {
        None
    }
    fn update(&mut self, program: &Program) -> Result<()> {
        // SO_ATTACH_BPF replaces the socket's filter atomically.
        let s = self.socket.as_ref().ok_or(Error::Unsupported {
            op: "update",
            kind: KIND,
            why: "the filter was detached",
        })?;
        expect_program_type(program, &[ProgramType::SOCKET_FILTER], "a socket filter")
            .and_then(|()| attach_socket_filter(s, program).map_err(Error::from))
            .map_err(Error::link("update", KIND))
    }
    fn detach(&mut self) -> Result<()> {
        if let Some(s) = self.socket.take() {
            detach_socket_filter(&s)
                .map_err(Error::from)
                .map_err(Error::link("detach", KIND))?;
        }
        Ok(())
    }
    fn info(&self) -> Result<LinkInfo> {
        Err(Error::Unsupported {
            op: "info",
            kind: KIND,
            why: "a socket filter is not a bpf_link",
        })
    }
}
