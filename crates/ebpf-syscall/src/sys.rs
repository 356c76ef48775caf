//! The one place that calls `bpf(2)`.
//!
//! # Safety
//!
//! `bpf(2)` reads `size` bytes of attr from the address it is given and, for
//! some commands, writes output fields back into that same attr. Every attr
//! type passed here is a `#[repr(C)]` struct without implicit padding
//! (`IntoBytes`), whose layout is checked against the running kernel's BTF by
//! the layout tests, so the kernel reads exactly the fields we set. Addresses
//! inside attrs are [`Pointer`](crate::Pointer)s, which borrow their memory
//! for the attr's lifetime; the attr setters pair each pointer with the length
//! the kernel uses for it. The only integers the kernel writes back are plain
//! output fields (counts, sizes, ids), for which every bit pattern is valid.
#![allow(unsafe_code, reason = "audited: see the module's # Safety section")]

use std::os::fd::{FromRawFd, OwnedFd};

use zerocopy::{Immutable, IntoBytes};

use crate::{Cmd, Errno};

/// Calls `bpf(cmd, attr, size_of_val(attr))`, retrying on `EINTR`.
///
/// `bpf()` commands are restartable: the kernel returns `EINTR` only before it
/// changed anything, so retrying is always correct.
pub(crate) fn bpf<A: IntoBytes + Immutable>(cmd: Cmd, attr: &mut A) -> Result<i64, Errno> {
    let size = core::mem::size_of_val(attr);
    let ptr: *mut A = attr;
    loop {
        // SAFETY: `ptr` is valid for reads and writes of `size` bytes for the
        // duration of the call (it comes from `&mut A`). The kernel contract for
        // `bpf(2)`: it copies `size` bytes in, rejects non-zero bytes past the
        // attr size it knows, and writes back only integer output fields of the
        // command's attr, which are valid for any bit pattern (see the module docs).
        let ret = unsafe {
            nix::libc::syscall(nix::libc::SYS_bpf, cmd.0 as nix::libc::c_long, ptr, size)
        };
        if ret >= 0 {
            return Ok(ret);
        }
        let errno = Errno::last();
        if errno != Errno::INTR {
            return Err(errno);
        }
    }
}

/// Calls [`bpf`] for a command that returns a new file descriptor.
pub(crate) fn bpf_fd<A: IntoBytes + Immutable>(cmd: Cmd, attr: &mut A) -> Result<OwnedFd, Errno> {
    let ret = bpf(cmd, attr)?;
    let fd = i32::try_from(ret).map_err(|_| Errno::INVAL)?;
    // SAFETY: the kernel contract for every fd-returning `bpf()` command is that a
    // non-negative return value is a new file descriptor owned by the caller,
    // installed with O_CLOEXEC; nothing else refers to it yet.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
