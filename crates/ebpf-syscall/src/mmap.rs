//! Owned memory mappings of kernel buffers (perf ring buffers, BPF ring
//! buffers, mmapable array maps, arenas).
//!
//! ```no_run
//! use ebpf_syscall::Mmap;
//! # fn f(fd: std::os::fd::OwnedFd) -> ebpf_syscall::Result<()> {
//! let page = Mmap::page_size();
//! let region = Mmap::map(&fd, page * 9, true, 0)?; // metadata page + 8 data pages
//! let meta = region.as_ptr();
//! # let _ = meta; Ok(()) }
//! ```
//!
//! # Safety
//!
//! `mmap` creates a shared mapping of a kernel object; `munmap` in `Drop`
//! removes exactly that range once, since the region is owned. The memory is
//! shared with the kernel (and BPF programs) which write it concurrently, so
//! no safe `&[u8]` view is offered: readers use raw pointers with atomic
//! loads of the producer/consumer positions, as the ring buffer protocols require.
#![allow(unsafe_code, reason = "audited: see the module's # Safety section")]

use core::ffi::c_void;
use core::num::NonZeroUsize;
use core::ptr::NonNull;
use std::os::fd::AsFd;

use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap};

use crate::{Error, Result};

/// A shared mapping of a kernel buffer; unmapped on drop.
#[derive(Debug)]
pub struct Mmap {
    ptr: NonNull<c_void>,
    len: NonZeroUsize,
}

// SAFETY: the region is plain shared memory owned by this value; the pointer
// is not tied to the creating thread.
unsafe impl Send for Mmap {}
// SAFETY: `&Mmap` only hands out the raw address and length.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// The system page size.
    pub fn page_size() -> usize {
        nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .and_then(|v| usize::try_from(v).ok())
            .unwrap_or(4096)
    }

    /// Maps `len` bytes of `fd` at `offset`, shared, readable, and writable if `writable`.
    pub fn map(fd: impl AsFd, len: usize, writable: bool, offset: i64) -> Result<Self> {
        let len = NonZeroUsize::new(len)
            .ok_or_else(|| Error::InvalidArgument("mmap of zero bytes".into()))?;
        let prot = if writable {
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE
        } else {
            ProtFlags::PROT_READ
        };
        // SAFETY: a new shared mapping at an address the kernel chooses cannot
        // overlap existing Rust objects; the kernel object behind `fd` decides
        // what the pages hold. The mapping is owned by the returned value.
        let ptr = unsafe { mmap(None, len, prot, MapFlags::MAP_SHARED, fd, offset) }
            .map_err(Error::syscall("mmap"))?;
        Ok(Self { ptr, len })
    }

    /// The start of the region.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr().cast()
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.len.get()
    }

    /// Always `false`: a mapping has at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly the range `mmap` returned, owned by
        // this value and unmapped only here.
        let _ = unsafe { munmap(self.ptr, self.len.get()) };
    }
}
