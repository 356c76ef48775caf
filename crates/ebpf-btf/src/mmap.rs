//! Read-only file mappings for kernel BTF (`/sys/kernel/btf/*`).
//!
//! This is the crate's only `unsafe` code. The contract that makes it sound: the files
//! mapped here are sysfs BTF blobs, which the kernel never changes or truncates while
//! they exist, so the mapping stays valid and its contents immutable for its lifetime.
#![allow(
    unsafe_code,
    reason = "mmap/munmap of immutable sysfs BTF; audited in this file only"
)]

use std::ffi::c_void;
use std::fs::File;
use std::num::NonZeroUsize;
use std::ptr::NonNull;

use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap};

/// A private, read-only mapping of a whole file.
pub(crate) struct Mmap {
    ptr: NonNull<c_void>,
    len: usize,
}

// SAFETY: the mapping is read-only (PROT_READ) and never written through, so sharing the
// pointer across threads cannot cause a data race; munmap in Drop runs exactly once.
unsafe impl Send for Mmap {}
// SAFETY: as above, `&Mmap` only hands out `&[u8]` views of immutable memory.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// Maps `file` (of length `len`) read-only. Only call this for files whose contents cannot
    /// change while mapped (sysfs BTF); returns `None` if mapping fails (e.g. kernels before 6.16
    /// do not support mmap of `/sys/kernel/btf/*`).
    pub(crate) fn map_immutable(file: &File, len: usize) -> Option<Self> {
        let nz = NonZeroUsize::new(len)?;
        // SAFETY: we ask the kernel for a fresh mapping (addr None, so nothing existing is
        // replaced) of a file we hold open; the result is checked before use.
        let ptr = unsafe {
            mmap(
                None,
                nz,
                ProtFlags::PROT_READ,
                MapFlags::MAP_PRIVATE,
                file,
                0,
            )
        }
        .ok()?;
        Some(Self { ptr, len })
    }

    /// The mapped bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` is the start of a live PROT_READ mapping of exactly `len` bytes,
        // unmapped only in Drop (so it outlives `&self`), and its contents never change
        // (immutable sysfs file, private mapping, never written).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<u8>(), self.len) }
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` describe a mapping created by `map_immutable` and not yet
        // unmapped; no borrow of it can outlive `self`.
        let _ = unsafe { munmap(self.ptr, self.len) };
    }
}

impl std::fmt::Debug for Mmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mmap({} bytes)", self.len)
    }
}
