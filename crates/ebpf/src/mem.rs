//! The one audited module with raw access to memory shared with the kernel.
//!
//! The ring buffer and perf readers
//! map kernel buffers with [`ebpf_syscall::Mmap`] and touch them only through
//! the safe primitives here: [`SharedPages`] (bounds-checked atomic loads and
//! stores of 8-byte-aligned positions and 4-byte-aligned record headers, and
//! bounds-checked byte views), [`Window`] (a checked window of a mapping
//! whose per-record views are checked against the window's length only),
//! [`RingPages`]/[`RingView`] (a ring buffer's double-mapped data area whose
//! geometry is checked once, so that header offsets are masked into the first
//! copy and payloads of at most the ring size minus the header end inside the
//! second), [`MappedValue`] (the value of an mmapable global-data map, for
//! [`Variable`](crate::Variable), or a BPF arena mapped at the address its
//! programs expect, for [`Arena`](crate::Arena)) and, with the `tokio` feature, the
//! registration of a reader's epoll fd with tokio.
//!
//! # Invariants
//!
//! - A [`SharedPages`] owns its mapping: every pointer it derives lies inside
//!   `[base, base + len)`, checked on every access (a failed check panics, it
//!   is a bug in the caller, never undefined behaviour). A [`Window`] or a
//!   [`RingView`] borrows the mapping and keeps the same guarantee with a
//!   cheaper per-access check (for ring headers, a mask) established once.
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
//!   (non-overwriting) ring; an overwritable ring while its output is paused.
//!   The callers lend such views only while they hold the reader mutably and
//!   publish the consumer position after the view ends, so the kernel does not
//!   reuse the bytes while they are borrowed.
//! - Positions user space publishes are moved by one owner only. A BPF ring
//!   buffer or user ring buffer map has at most one reader or writer in this
//!   process (the exclusive claim of the ring buffer module, keyed by map id and
//!   held while the ring is mapped), and a perf ring is a perf event the
//!   reader opened itself and never shares. So no other thread of this process
//!   can move a consumer position past a lent record or reserve the bytes of
//!   a record being written. Another process can only do so by mapping the
//!   same ring itself, which needs a descriptor of the map opened for writing
//!   (an inherited or passed fd, or write access to a pin): the library never
//!   passes one on, and such a process can equally write this process's memory
//!   through `ptrace` or `/proc/PID/mem`. Sharing one ring between processes
//!   is unsupported (docs/ARCHITECTURE.md).
//! - A record or position that does not fit the ring (a corrupt header or
//!   `data_head`) is reported as [`ReaderError::Corrupt`](crate::reader_error::ReaderError::Corrupt)
//!   by the readers before any view of it is taken; the panicking checks here
//!   are a last line that valid callers never reach.
//! - A [`MappedValue`] owns its mapping of a global-data map's value; every
//!   access is bounds-checked (an error, never undefined behaviour). BPF
//!   programs read and write those bytes with no synchronisation the Rust
//!   memory model knows of, so no `&[u8]` view of it is ever created: bytes are
//!   copied one at a time through `AtomicU8` with relaxed ordering (a variable
//!   a program updates concurrently may be torn across bytes, exactly as with
//!   `bpf_map_lookup_elem`). Writes need a writable mapping (checked).
//! - An arena's [`MappedValue`] is created at a fixed address with
//!   `MAP_FIXED_NOREPLACE`, which fails instead of replacing anything already
//!   mapped there, so no memory of this process changes under a Rust object;
//!   the mapping is owned and unmapped exactly once on drop. A user-space
//!   access to an arena page no program allocated makes the kernel allocate
//!   it, or with `BPF_F_SEGV_ON_FAULT` raises `SIGSEGV` (which kills the
//!   process; it is never undefined behaviour).
//! - A mutable view ([`SharedPages::bytes_mut`]) is only taken of a user ring
//!   buffer record that user space reserved (its header carries the busy bit,
//!   so the kernel does not read the payload until it is submitted) by the
//!   map's only writer in this process (see above).
#![allow(
    unsafe_code,
    reason = "the one audited module of raw access to kernel-shared memory (see the invariants above)"
)]

use core::ffi::c_void;
use core::num::NonZeroUsize;
use core::ptr::NonNull;
use std::marker::PhantomData;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

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
        // head is not overwritten in a writable ring, and the position is moved
        // only by this mapping's owner, the ring's only reader or writer in this
        // process (module invariants).
        unsafe { core::slice::from_raw_parts(ptr, len) }
    }

    /// The window `[off, off + len)` of the mapping, for per-record views
    /// checked against `len` only.
    #[inline]
    #[track_caller]
    pub(crate) fn window(&self, off: usize, len: usize) -> Window<'_> {
        Window {
            ptr: self.check(off, len, 1),
            len,
            _pages: PhantomData,
        }
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
        // SAFETY: `[ptr, ptr + len)` is inside the writable mapping (checked),
        // which outlives the returned borrow. That borrow holds `self`, the
        // mapping of the map's only writer in this process (the ring buffer
        // claim), exclusively, so no other view of this process overlaps it:
        // no other thread can reserve these bytes. The kernel does not read a
        // user ring buffer record while its header's busy bit is set, and does
        // not write user ring buffer data. Another process could write them only
        // through its own writable mapping of the map (module invariants).
        unsafe { core::slice::from_raw_parts_mut(ptr, len) }
    }
}

/// A bounds-checked window `[off, off + len)` of a [`SharedPages`]
/// ([`SharedPages::window`]): its accesses are checked against the window's
/// length, a local value, instead of the mapping.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window<'a> {
    ptr: *mut u8,
    len: usize,
    _pages: PhantomData<&'a SharedPages>,
}

impl<'a> Window<'a> {
    /// The `n` bytes at `off` of the window, for `'a`; `None` if they are not
    /// all inside the window.
    ///
    /// The caller only views ranges the kernel does not write while the view
    /// lives (see the module invariants).
    #[inline(always)]
    pub(crate) fn get(self, off: usize, n: usize) -> Option<&'a [u8]> {
        if off > self.len || n > self.len - off {
            return None;
        }
        // SAFETY: `[off, off + n)` is inside the window (checked), which is inside
        // the mapping (checked by `SharedPages::window`), which outlives `'a`. The
        // kernel contract keeps the range unwritten while it is viewed (perf data
        // between tail and head in a writable ring, module invariants).
        Some(unsafe { core::slice::from_raw_parts(self.ptr.add(off), n) })
    }

    /// Asks the CPU to start loading the bytes [`PREFETCH_AHEAD`] after offset `off`
    /// ([`prefetch`]; past the window's end it is a hint about other memory, or none).
    #[inline(always)]
    pub(crate) fn prefetch(self, off: usize) {
        prefetch(self.ptr.wrapping_add(off.wrapping_add(PREFETCH_AHEAD)));
    }
}

// The panic of the per-record check takes its values by value, so the view
// does not escape to memory in the hot loop.
#[cold]
#[inline(never)]
#[track_caller]
fn payload_exceeds_ring(len: usize, size: usize) -> ! {
    panic!("ring buffer record of {len} bytes exceeds the ring of {size} bytes")
}

/// The mapping of a BPF ring buffer's producer page and data area, the data
/// area mapped twice in a row (as the kernel maps it for user space), with its
/// geometry checked once so that per-record access needs no further checks.
///
/// Invariants (established by [`RingPages::new`], fields private): `size` is a
/// power of two of at least 8 bytes, `data_off` is 8-byte aligned, and
/// `[data_off, data_off + 2 * size)` lies inside `pages`.
#[derive(Debug)]
pub(crate) struct RingPages {
    pages: SharedPages,
    data_off: usize,
    size: usize,
}

impl RingPages {
    /// Wraps `pages`, whose data area of `size` bytes is mapped twice from
    /// `data_off`; `Err(pages)` if the geometry does not fit the mapping.
    pub(crate) fn new(
        pages: SharedPages,
        data_off: usize,
        size: usize,
    ) -> Result<Self, SharedPages> {
        let fits = size.is_power_of_two()
            && size >= 8
            && data_off % 8 == 0
            && size
                .checked_mul(2)
                .and_then(|twice| twice.checked_add(data_off))
                .is_some_and(|end| end <= pages.map.len());
        if fits {
            Ok(Self {
                pages,
                data_off,
                size,
            })
        } else {
            Err(pages)
        }
    }

    /// The whole mapping (positions on the producer page).
    #[inline]
    pub(crate) fn pages(&self) -> &SharedPages {
        &self.pages
    }

    /// A view of the data area for per-record access.
    #[inline]
    pub(crate) fn view(&self) -> RingView<'_> {
        RingView {
            data: self.pages.map.as_ptr().wrapping_add(self.data_off),
            size: self.size,
            hdr_mask: (self.size - 1) & !7,
            _pages: PhantomData,
        }
    }
}

/// How far ahead of the record being read a drain asks for the ring's bytes
/// ([`RingView::prefetch`], [`Window::prefetch`]): enough cache lines to cover a memory
/// round trip at the rate records are read (measured: 512 bytes gave 60% of the speed,
/// 1 KiB 90%, 4 KiB the same as 2 KiB).
pub(crate) const PREFETCH_AHEAD: usize = 2048;

/// Hints the CPU to load the cache line at `ptr` (x86_64 `prefetcht0`; nothing
/// elsewhere). Never faults and reads nothing the program can observe, whatever `ptr` is.
#[inline(always)]
fn prefetch(ptr: *const u8) {
    // SAFETY: `prefetch` needs SSE, which every x86_64 CPU has (it is in the target's
    // baseline); the instruction only hints the cache, reading and writing nothing the
    // program can observe and never faulting, whatever the address (mapped or not; a
    // line another thread or the kernel is writing is not raced by a hint).
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(ptr.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = ptr;
}

/// Per-record access to a double-mapped ring buffer data area ([`RingPages::view`]).
///
/// Every header offset is `pos & (size - 1) & !7`, so it is 8-byte aligned and
/// inside the first copy of the data area; a payload of at most `size - 8`
/// bytes after such a header ends inside the second copy. Neither needs a
/// check against the mapping.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RingView<'a> {
    data: *mut u8,
    size: usize,
    hdr_mask: usize,
    _pages: PhantomData<&'a SharedPages>,
}

impl<'a> RingView<'a> {
    /// The longest payload a record can have: the ring size minus the header.
    #[inline(always)]
    pub(crate) fn max_payload(self) -> usize {
        self.size - 8
    }

    /// An acquire load of the record header (length word) at ring position
    /// `pos`, which the caller keeps 8-byte aligned (records are; a misaligned
    /// `pos` reads the header of the 8 bytes it falls in).
    #[inline(always)]
    pub(crate) fn header_acquire(self, pos: u64) -> u32 {
        // Truncation is fine: the offset is masked to the ring size, which fits usize.
        let off = pos as usize & self.hdr_mask;
        // SAFETY: `off < size` and is 8-byte aligned, `data` is 8-byte aligned
        // and `[data, data + 2 * size)` is inside the mapping (`RingPages`
        // invariants), which outlives `'a`; the kernel writes record headers
        // only with `smp_store_release` of the 4-byte length word (commit,
        // discard) or atomic reservation, so an `AtomicU32` view of it adds no
        // non-atomic race, and the acquire load pairs with that release.
        unsafe { AtomicU32::from_ptr(self.data.add(off).cast()) }.load(Ordering::Acquire)
    }

    /// Asks the CPU to start loading the ring's bytes [`PREFETCH_AHEAD`] bytes after ring
    /// position `pos` ([`prefetch`]). A drain reads each record's header to find the next
    /// one, so without it every cache line of a backlog that is not cached costs a full
    /// memory round trip, one after another.
    #[inline(always)]
    pub(crate) fn prefetch(self, pos: u64) {
        // Inside the double mapping: the offset is below `size`, plus at most `size`.
        let off = (pos as usize & self.hdr_mask) + PREFETCH_AHEAD.min(self.size);
        prefetch(self.data.wrapping_add(off));
    }

    /// The `len`-byte payload of the record whose header is at ring position
    /// `pos`, for `'a`. Panics if `len > size - 8` (the caller reports such a
    /// record as corrupt before asking for it).
    ///
    /// The caller only views a record the kernel contract keeps stable: its
    /// header's busy bit was seen clear (acquire) and the published consumer
    /// position is not past it while the view lives (module invariants).
    #[inline(always)]
    #[track_caller]
    pub(crate) fn payload(self, pos: u64, len: usize) -> &'a [u8] {
        if len > self.max_payload() {
            payload_exceeds_ring(len, self.size);
        }
        let off = (pos as usize & self.hdr_mask) + 8;
        // SAFETY: `off <= size` and `len <= size - 8`, so `[off, off + len)`
        // lies inside the double-mapped data area `[data, data + 2 * size)`
        // (`RingPages` invariants; the second copy maps the same pages, so the
        // bytes are contiguous), which outlives `'a`. The kernel does not write
        // a committed record before the consumer position passes it, the
        // callers publish that position only after the view ends, and nothing
        // else in this process publishes it (the ring's claim; module invariants).
        unsafe { core::slice::from_raw_parts(self.data.add(off), len) }
    }
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

/// A shared, writable mapping at an address the caller chose; unmapped on drop.
#[derive(Debug)]
struct FixedMapping {
    ptr: NonNull<c_void>,
    len: NonZeroUsize,
}

// SAFETY: the region is plain shared memory owned by this value (accessed only
// through `MappedValue`'s atomic byte copies); the pointer is not tied to the
// creating thread.
unsafe impl Send for FixedMapping {}
// SAFETY: `&FixedMapping` only hands out the raw address and length.
unsafe impl Sync for FixedMapping {}

impl FixedMapping {
    /// Maps `len` bytes of `fd` from offset 0 at exactly `addr`.
    fn map(fd: impl AsFd, len: NonZeroUsize, addr: NonZeroUsize) -> crate::error::Result<Self> {
        use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap};
        let io_err = |e: nix::errno::Errno| crate::error::Error::Io {
            path: format!("mmap of {len} bytes at {addr:#x}"),
            source: e.into(),
        };
        let prot = ProtFlags::PROT_READ | ProtFlags::PROT_WRITE;
        let flags = MapFlags::MAP_SHARED | MapFlags::MAP_FIXED_NOREPLACE;
        // SAFETY: `MAP_FIXED_NOREPLACE` fails with `EEXIST` rather than replace
        // any existing mapping, so the new mapping overlaps no Rust object; the
        // kernel object behind `fd` decides what the pages hold. The mapping is
        // owned by the returned value.
        let ptr = unsafe { mmap(Some(addr), len, prot, flags, fd, 0) }.map_err(io_err)?;
        if ptr.as_ptr() as usize != addr.get() {
            // Kernels before 4.17 take the flag as a hint and may map elsewhere.
            // SAFETY: `ptr`/`len` are exactly the new mapping, owned here and not used again.
            let _ = unsafe { munmap(ptr, len.get()) };
            return Err(io_err(nix::errno::Errno::EEXIST));
        }
        Ok(Self { ptr, len })
    }
}

impl Drop for FixedMapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly the range `mmap` returned, owned by
        // this value and unmapped only here.
        let _ = unsafe { nix::sys::mman::munmap(self.ptr, self.len.get()) };
    }
}

/// The pages behind a [`MappedValue`].
#[derive(Debug)]
enum Region {
    /// Mapped where the kernel chose.
    Kernel(Mmap),
    /// Mapped at a fixed address.
    Fixed(FixedMapping),
}

impl Region {
    fn as_ptr(&self) -> *mut u8 {
        match self {
            Region::Kernel(m) => m.as_ptr(),
            Region::Fixed(f) => f.ptr.as_ptr().cast(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Region::Kernel(m) => m.len(),
            Region::Fixed(f) => f.len.get(),
        }
    }
}

/// A shared mapping of an mmapable array map's value, or of a BPF arena.
#[derive(Debug)]
pub(crate) struct MappedValue {
    map: Region,
    len: usize,
    writable: bool,
}

impl MappedValue {
    /// Maps the first `len` bytes of the value of `fd` (an mmapable array).
    pub(crate) fn map(fd: impl AsFd, len: usize, writable: bool) -> crate::error::Result<Self> {
        let page = Mmap::page_size();
        let map_len = len.max(1).next_multiple_of(page);
        let map = Region::Kernel(Mmap::map(fd, map_len, writable, 0)?);
        Ok(Self { map, len, writable })
    }

    /// Maps all `len` bytes of the arena `fd`, writable, at `addr` (its
    /// `map_extra`), or where the kernel chooses for `addr` 0.
    pub(crate) fn map_arena(fd: impl AsFd, len: usize, addr: u64) -> crate::error::Result<Self> {
        let size = NonZeroUsize::new(len)
            .ok_or_else(|| crate::error::Error::InvalidArgument("arena of zero bytes".into()))?;
        let map = match usize::try_from(addr).ok().and_then(NonZeroUsize::new) {
            Some(at) => Region::Fixed(FixedMapping::map(fd, size, at)?),
            None if addr == 0 => Region::Kernel(Mmap::map(fd, len, true, 0)?),
            None => {
                return Err(crate::error::Error::InvalidArgument(format!(
                    "arena address {addr:#x} does not fit a pointer"
                )));
            }
        };
        Ok(Self {
            map,
            len,
            writable: true,
        })
    }

    /// The address of the first byte.
    pub(crate) fn address(&self) -> usize {
        self.map.as_ptr() as usize
    }

    /// The length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn check(&self, off: usize, n: usize) -> crate::error::Result<*mut u8> {
        match off.checked_add(n) {
            Some(end) if end <= self.len && end <= self.map.len() => {
                Ok(self.map.as_ptr().wrapping_add(off))
            }
            _ => Err(crate::error::Error::InvalidArgument(format!(
                "access of {n} bytes at {off} is outside the value of {} bytes",
                self.len
            ))),
        }
    }

    /// Copies `out.len()` bytes at `off` into `out`.
    pub(crate) fn read(&self, off: usize, out: &mut [u8]) -> crate::error::Result<()> {
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
    pub(crate) fn write(&self, off: usize, data: &[u8]) -> crate::error::Result<()> {
        if !self.writable {
            return Err(crate::error::Error::InvalidArgument(
                "the mapping is read-only".into(),
            ));
        }
        let base = self.check(off, data.len())?;
        for (i, b) in data.iter().enumerate() {
            // SAFETY: as in `read`; the mapping is writable (checked above).
            unsafe { AtomicU8::from_ptr(base.add(i)) }.store(*b, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{RingPages, SharedPages};

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
        assert_eq!(
            p.bytes(16, 8),
            [7u32.to_ne_bytes(), 9u32.to_ne_bytes()].concat()
        );
        p.bytes_mut(8190, 2).copy_from_slice(&[1, 2]);
        assert_eq!(p.bytes(8190, 2), [1, 2]);
        assert!(p.bytes(8192, 0).is_empty());
    }

    #[test]
    fn ring_geometry_is_checked_once() {
        assert!(RingPages::new(pages(false), 0, 4096).is_ok());
        assert!(
            RingPages::new(pages(false), 8, 4064).is_err(),
            "not a power of two"
        );
        assert!(
            RingPages::new(pages(false), 4, 2048).is_err(),
            "misaligned data"
        );
        assert!(
            RingPages::new(pages(false), 8, 4096).is_err(),
            "past the mapping"
        );
        assert!(
            RingPages::new(pages(false), 0, 4).is_err(),
            "smaller than a header"
        );
        assert!(RingPages::new(pages(false), usize::MAX & !7, 1 << 62).is_err());
    }

    #[test]
    fn ring_view_masks_positions_and_views_payloads() {
        let p = pages(true);
        p.store_release_u32(4096 + 8, 0xdead_beef);
        p.store_release_u32(4096 + 2048 + 2032, 7);
        let ring = RingPages::new(p, 4096, 2048).unwrap();
        let view = ring.view();
        // Positions wrap around the ring size and are rounded down to 8 bytes.
        assert_eq!(view.header_acquire(8), 0xdead_beef);
        assert_eq!(view.header_acquire(2048 * 5 + 8), 0xdead_beef);
        assert_eq!(view.header_acquire(2048 + 12), 0xdead_beef);
        // A payload after the last header of the ring runs into the second copy.
        assert_eq!(view.payload(2040, 2040).len(), 2040);
        assert_eq!(view.payload(u64::MAX, 8).len(), 8);
        assert_eq!(view.payload(0, 4), 0xdead_beef_u32.to_ne_bytes());
        assert_eq!(view.payload(2040, 2040)[2032..2036], 7u32.to_ne_bytes());
        let window = ring.pages().window(4096, 4096);
        assert_eq!(window.get(8, 4).unwrap(), 0xdead_beef_u32.to_ne_bytes());
        assert_eq!(window.get(4096, 0).unwrap(), [0u8; 0]);
        assert!(window.get(4096, 1).is_none());
        assert!(window.get(4095, 2).is_none());
        assert!(window.get(4097, 0).is_none());
        assert!(window.get(usize::MAX, 2).is_none());
        assert!(window.get(8, usize::MAX).is_none());
    }

    #[test]
    #[should_panic(expected = "exceeds the ring")]
    fn ring_payloads_are_bounded_by_the_ring() {
        let ring = RingPages::new(pages(false), 0, 4096).unwrap();
        let _ = ring.view().payload(4088, 4089);
    }

    #[test]
    #[should_panic(expected = "outside the mapping")]
    fn windows_are_bounds_checked() {
        let _ = pages(false).window(4096, 4097);
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
