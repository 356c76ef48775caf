//! The audited raw access of [`Variable`](crate::Variable)s to mmapped global
//! data (`.data`, `.bss`, `.rodata` maps created with `BPF_F_MMAPABLE`).
//!
//! # Invariants
//!
//! - A [`MappedValue`] owns its [`Mmap`] of the map's value; every access is
//!   bounds-checked against the mapping's length before a pointer is formed
//!   (a failed check is an error, never undefined behaviour).
//! - BPF programs read and write the same bytes concurrently with no
//!   synchronisation the Rust memory model knows of, so no `&[u8]` or
//!   `&mut [u8]` view of the mapping is ever created: bytes are copied one at a
//!   time through `AtomicU8` with relaxed ordering, which is race-free (the
//!   value of a variable the program updates concurrently may be torn across
//!   bytes, exactly as with `bpf_map_lookup_elem`).
//! - Writes happen only through a writable mapping (checked).
#![allow(unsafe_code, reason = "the one audited access to mmapped global data")]

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU8, Ordering};

use ebpf_syscall::Mmap;

use crate::error::{Error, Result};

/// A shared mapping of an mmapable array map's value.
#[derive(Debug)]
pub(crate) struct MappedValue {
    map: Mmap,
    len: usize,
    writable: bool,
}

impl MappedValue {
    /// Maps the first `len` bytes of the value of `fd` (an mmapable array).
    pub(crate) fn map(fd: impl AsFd, len: usize, writable: bool) -> Result<Self> {
        let page = Mmap::page_size();
        let map_len = len.max(1).next_multiple_of(page);
        let map = Mmap::map(fd, map_len, writable, 0)?;
        Ok(Self { map, len, writable })
    }

    pub(crate) fn is_writable(&self) -> bool {
        self.writable
    }

    fn check(&self, off: usize, n: usize) -> Result<*mut u8> {
        match off.checked_add(n) {
            Some(end) if end <= self.len && end <= self.map.len() => {
                Ok(self.map.as_ptr().wrapping_add(off))
            }
            _ => Err(Error::InvalidArgument(format!(
                "access of {n} bytes at {off} is outside the value of {} bytes",
                self.len
            ))),
        }
    }

    /// Copies `out.len()` bytes at `off` into `out`.
    pub(crate) fn read(&self, off: usize, out: &mut [u8]) -> Result<()> {
        let base = self.check(off, out.len())?;
        for (i, b) in out.iter_mut().enumerate() {
            // SAFETY: `base + i` lies inside the mapping (checked above), which
            // lives as long as `&self`; a u8 is always aligned, and the kernel
            // and programs only ever access this memory as plain bytes/words,
            // so an atomic byte load does not race in the Rust model.
            *b = unsafe { AtomicU8::from_ptr(base.add(i)) }.load(Ordering::Relaxed);
        }
        Ok(())
    }

    /// Copies `data` to offset `off`.
    pub(crate) fn write(&self, off: usize, data: &[u8]) -> Result<()> {
        if !self.writable {
            return Err(Error::InvalidArgument("the mapping is read-only".into()));
        }
        let base = self.check(off, data.len())?;
        for (i, b) in data.iter().enumerate() {
            // SAFETY: as in `read`; the mapping is writable (checked above).
            unsafe { AtomicU8::from_ptr(base.add(i)) }.store(*b, Ordering::Relaxed);
        }
        Ok(())
    }
}
