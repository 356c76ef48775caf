//! The one audited module with raw access to memory shared with the kernel.
//!
//! The ring buffer ([`crate::ringbuf`]) and perf ([`crate::perf`]) readers
//! map kernel buffers with [`ebpf_syscall::Mmap`] and touch them only through
//! the safe primitives here: [`SharedPages`] (bounds-checked atomic loads and
//! stores of 8-byte-aligned positions and 4-byte-aligned record headers, and
//! bounds-checked byte views), [`fd_array_set`]/[`fd_array_delete`] (the
//! perf event array's 4-byte keys and values) and, with the `tokio` feature,
//! the registration of a reader's epoll fd with tokio.
//!
//! # Invariants
//!
//! - A [`SharedPages`] owns its mapping: every pointer it derives lies inside
//!   `[base, base + len)`, checked on every access (a failed check panics, it
//!   is a bug in the caller, never undefined behaviour).
//! - Positions (`consumer_pos`, `producer_pos`, `data_head`, `data_tail`) are
//!   naturally aligned `u64`s, record headers naturally aligned `u32`s; the
//!   kernel accesses them with `smp_load_acquire`/`smp_store_release` (perf:
//!   `WRITE_ONCE` of `data_head` after a write barrier), so this module uses
//!   `Acquire` loads and `Release` stores of the same width, which pair with
//!   the kernel's barriers.
//! - A byte view ([`SharedPages::bytes`]) is only taken of a range the kernel
//!   contract says is stable: a BPF ring buffer record at or after the
//!   published consumer position whose busy bit was seen clear (acquire),
//!   which the kernel does not reuse until the consumer position passes it;
//!   perf data between `data_tail` and an acquired `data_head` in a writable
//!   (non-overwriting) ring; an overwritable ring while its output is paused. The callers lend such views only while they hold the
//!   reader mutably and publish the consumer position after the view ends, so
//!   the kernel does not reuse the bytes while they are borrowed.
//! - A mutable view ([`SharedPages::bytes_mut`]) is only taken of a user ring
//!   buffer record that user space reserved (its header carries the busy bit,
//!   so the kernel does not read the payload until it is submitted).
#![allow(
    unsafe_code,
    reason = "the one audited module of raw access to kernel-shared memory (see the invariants above)"
)]

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use ebpf_syscall::Mmap;

/// A shared mapping of kernel pages with bounds-checked atomic and byte access.
#[derive(Debug)]
pub(crate) struct SharedPages {
    map: Mmap,
    writable: bool,
}

impl SharedPages {
    /// Maps `len` bytes of `fd` at `offset` (writable if `writable`).
    pub(crate) fn map(
        fd: impl AsFd,
        len: usize,
        writable: bool,
        offset: usize,
    ) -> ebpf_syscall::Result<Self> {
        let offset = i64::try_from(offset).map_err(|_| {
            ebpf_syscall::Error::InvalidArgument(format!("mmap offset {offset} exceeds i64"))
        })?;
        Ok(Self {
            map: Mmap::map(fd, len, writable, offset)?,
            writable,
        })
    }

    #[inline]
    #[track_caller]
    fn check(&self, off: usize, size: usize, align: usize) -> *mut u8 {
        let end = off.checked_add(size);
        assert!(
            end.is_some_and(|e| e <= self.map.len()),
            "shared pages: access of {size} bytes at {off:#x} is outside the mapping of {:#x} bytes",
            self.map.len()
        );
        assert!(
            off % align == 0,
            "shared pages: access at {off:#x} is not {align}-byte aligned"
        );
        // The mapping is page aligned, so `off % align == 0` makes the address aligned.
        self.map.as_ptr().wrapping_add(off)
    }

    #[inline]
    #[track_caller]
    fn u64_at(&self, off: usize) -> &AtomicU64 {
        let ptr = self.check(off, 8, 8);
        // SAFETY: `ptr` is 8-byte aligned and inside the mapping (checked above),
        // which lives as long as `&self`; the kernel accesses positions only with
        // atomic (acquire/release or WRITE_ONCE) 8-byte operations, so viewing the
        // word as an `AtomicU64` introduces no non-atomic race.
        unsafe { AtomicU64::from_ptr(ptr.cast()) }
    }

    #[inline]
    #[track_caller]
    fn u32_at(&self, off: usize) -> &AtomicU32 {
        let ptr = self.check(off, 4, 4);
        // SAFETY: `ptr` is 4-byte aligned and inside the mapping (checked above),
        // which lives as long as `&self`; ring buffer record headers are written by
        // the kernel with `smp_store_release` of the 4-byte length word.
        unsafe { AtomicU32::from_ptr(ptr.cast()) }
    }

    /// An acquire load of the `u64` at `off` (a position the other side publishes).
    #[inline]
    #[track_caller]
    pub(crate) fn load_acquire_u64(&self, off: usize) -> u64 {
        self.u64_at(off).load(Ordering::Acquire)
    }

    /// A release store of the `u64` at `off`: everything this side read or wrote
    /// before is done when the other side sees the new value.
    #[inline]
    #[track_caller]
    pub(crate) fn store_release_u64(&self, off: usize, value: u64) {
        assert!(self.writable, "shared pages: store to a read-only mapping");
        self.u64_at(off).store(value, Ordering::Release);
    }

    /// An acquire load of the `u32` at `off` (a record header).
    #[inline]
    #[track_caller]
    pub(crate) fn load_acquire_u32(&self, off: usize) -> u32 {
        self.u32_at(off).load(Ordering::Acquire)
    }

    /// A release store of the `u32` at `off` (a user ring buffer record header).
    #[inline]
    #[track_caller]
    pub(crate) fn store_release_u32(&self, off: usize, value: u32) {
        assert!(self.writable, "shared pages: store to a read-only mapping");
        self.u32_at(off).store(value, Ordering::Release);
    }

    /// A relaxed store of the `u32` at `off`.
    #[inline]
    #[track_caller]
    pub(crate) fn store_relaxed_u32(&self, off: usize, value: u32) {
        assert!(self.writable, "shared pages: store to a read-only mapping");
        self.u32_at(off).store(value, Ordering::Relaxed);
    }

    /// The `len` bytes at `off`, for as long as `self` is borrowed.
    ///
    /// The caller only views ranges the kernel does not write while the view
    /// lives (see the module invariants).
    #[inline]
    #[track_caller]
    pub(crate) fn bytes(&self, off: usize, len: usize) -> &[u8] {
        let ptr = self.check(off, len, 1);
        // SAFETY: `[ptr, ptr + len)` is inside the mapping (checked), which
        // outlives the returned borrow of `self`. The kernel contract keeps the
        // range unwritten while it is viewed: ring buffer records are not reused
        // before the consumer position passes them, perf data between tail and
        // head is not overwritten in a writable ring (module invariants).
        unsafe { core::slice::from_raw_parts(ptr, len) }
    }

    /// The `len` bytes at `off`, writable, for as long as `self` is borrowed mutably.
    ///
    /// Only for user ring buffer records reserved by this process.
    #[inline]
    #[track_caller]
    pub(crate) fn bytes_mut(&mut self, off: usize, len: usize) -> &mut [u8] {
        assert!(
            self.writable,
            "shared pages: mutable view of a read-only mapping"
        );
        let ptr = self.check(off, len, 1);
        // SAFETY: `[ptr, ptr + len)` is inside the writable mapping (checked) and
        // the returned borrow holds `self` exclusively, so no other view of this
        // process overlaps it; the kernel does not read a user ring buffer record
        // while its header's busy bit is set, and nothing else writes it.
        unsafe { core::slice::from_raw_parts_mut(ptr, len) }
    }
}

fn fd_array_check(map: impl AsFd) -> ebpf_syscall::Result<()> {
    let info = ebpf_syscall::map_info(map)?;
    if info.key_size != 4 || info.value_size != 4 {
        return Err(ebpf_syscall::Error::InvalidArgument(format!(
            "map '{}' has {}-byte keys and {}-byte values, expected 4 and 4",
            info.name(),
            info.key_size,
            info.value_size
        )));
    }
    Ok(())
}

/// Stores `value` (a file descriptor number) at `index` of an fd array map
/// (perf event array) with 4-byte keys and values.
pub(crate) fn fd_array_set(map: impl AsFd, index: u32, value: u32) -> ebpf_syscall::Result<()> {
    let map = map.as_fd();
    fd_array_check(map)?;
    // SAFETY: the map's key and value sizes were just read back as 4 bytes, the
    // sizes of both buffers.
    unsafe { ebpf_syscall::map_update_elem(map, &index.to_ne_bytes(), &value.to_ne_bytes(), 0) }
}

/// Deletes `index` of an fd array map with 4-byte keys.
pub(crate) fn fd_array_delete(map: impl AsFd, index: u32) -> ebpf_syscall::Result<()> {
    let map = map.as_fd();
    fd_array_check(map)?;
    // SAFETY: the map's key size was just read back as 4 bytes, the key buffer's size.
    unsafe { ebpf_syscall::map_delete_elem(map, &index.to_ne_bytes()) }
}

/// Registers `inner` with the current tokio runtime.
///
/// `T` is a reader of this crate whose `as_raw_fd` is its own epoll fd, which
/// it owns for its whole life and never replaces.
#[cfg(feature = "tokio")]
pub(crate) fn register_async_fd<T: AsyncFdOwner>(
    inner: T,
) -> std::io::Result<tokio::io::unix::AsyncFd<T>> {
    // SAFETY: `T: AsyncFdOwner` is implemented only by readers that own their
    // epoll fd (an `Epoll` field set in the constructor, never reassigned); it
    // stays open until the reader is dropped, and the `AsyncFd` wrappers of
    // this crate never hand out `&mut T`, so it cannot be swapped for another
    // reader while registered.
    unsafe { tokio::io::unix::AsyncFd::register(inner) }.map_err(std::io::Error::from)
}

/// Readers whose raw fd is an epoll fd they own for their whole life.
#[cfg(feature = "tokio")]
pub(crate) trait AsyncFdOwner: std::os::fd::AsRawFd {}

#[cfg(test)]
mod tests {
    use super::SharedPages;

    fn pages(writable: bool) -> SharedPages {
        // Tests run in parallel: every call gets its own file.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "ebpf-mem-test-{}-{n}-{writable}",
            std::process::id()
        ));
        let file = std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        file.set_len(8192).unwrap();
        SharedPages::map(&file, 8192, writable, 0).unwrap()
    }

    #[test]
    fn positions_headers_and_views() {
        let mut p = pages(true);
        p.store_release_u64(8, 0x1122_3344_5566_7788);
        assert_eq!(p.load_acquire_u64(8), 0x1122_3344_5566_7788);
        p.store_release_u32(16, 7);
        p.store_relaxed_u32(20, 9);
        assert_eq!(p.load_acquire_u32(16), 7);
        assert_eq!(
            p.bytes(16, 8),
            [7u32.to_ne_bytes(), 9u32.to_ne_bytes()].concat()
        );
        p.bytes_mut(8190, 2).copy_from_slice(&[1, 2]);
        assert_eq!(p.bytes(8190, 2), [1, 2]);
        assert!(p.bytes(8192, 0).is_empty());
    }

    #[test]
    #[should_panic(expected = "outside the mapping")]
    fn views_are_bounds_checked() {
        let _ = pages(false).bytes(8190, 4);
    }

    #[test]
    #[should_panic(expected = "outside the mapping")]
    fn overflowing_ranges_are_rejected() {
        let _ = pages(false).bytes(usize::MAX, 2);
    }

    #[test]
    #[should_panic(expected = "not 8-byte aligned")]
    fn positions_are_aligned() {
        let _ = pages(false).load_acquire_u64(4);
    }

    #[test]
    #[should_panic(expected = "read-only")]
    fn read_only_mappings_refuse_stores() {
        pages(false).store_release_u64(0, 1);
    }
}
