//! Read-only file mappings for kernel BTF (`/sys/kernel/btf/*`).
//!
//! This is the crate's only `unsafe` code. The contract that makes it sound: the only
//! file mapped here is `/sys/kernel/btf/vmlinux` on sysfs, checked on the open file (its
//! filesystem magic and the path the kernel reports for the descriptor, so neither a
//! symlink nor `..` in the caller's path can substitute another file). Its bytes are the
//! kernel image's `.BTF` section: they are never written, freed or resized while the
//! kernel runs, whatever any thread or process does, so the mapping stays valid and its
//! contents immutable for its lifetime. Every other file, whose owner could truncate it
//! (a `SIGBUS` on access) or rewrite it under a `&[u8]`, is read into memory instead.
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
    /// Maps `file` (of length `len`) read-only. Only call this for sysfs's
    /// `/sys/kernel/btf/vmlinux`, checked on the open `file` (module docs); returns `None` if
    /// mapping fails (kernels before 6.16 do not support mmap of it).
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
        // unmapped only in Drop (so it outlives `&self`), and its contents never change:
        // it maps the kernel image's vmlinux BTF through sysfs (checked on the open file
        // by the caller), which no thread or process can write, truncate or resize, and
        // the private mapping is never written.
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
