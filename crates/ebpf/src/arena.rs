//! [`Arena`]: the memory of a BPF arena map (`BPF_MAP_TYPE_ARENA`), shared by
//! programs and user space, mapped into this process at the address its
//! programs' pointers use.
//!
//! ```no_run
//! use ebpf::{Collection, CollectionOptions, CollectionSpec, TestRunOptions};
//! let spec = CollectionSpec::from_file("testdata/arena-el.o")?;
//! let coll = Collection::load(&spec, CollectionOptions::default())?;
//! coll.programs["arena_prog"].test_run(&TestRunOptions::default())?;
//! let arena = coll.maps["arena"].arena()?;
//! // `__arena` globals are variables too, read and written in the arena.
//! let runs = &coll.variables["arena_runs"];
//! assert_eq!(arena.get::<u32>(runs.offset() as usize)?, runs.get::<u32>()?);
//! // A pointer a program stored in the arena is an address in this process.
//! let page = coll.variables["arena_page"].get::<u64>()?;
//! let off = arena.offset_of(page).expect("inside the arena");
//! assert_eq!(arena.get::<u64>(off)?, 0xfeed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! As libbpf does, [`Collection::load`](crate::Collection::load) (and
//! [`Map::create`]) maps a new arena right after creating it, at its
//! `map_extra` address (where the kernel chooses when that is 0), and copies
//! the object's `__arena` globals to its start, all before any program loads:
//! the kernel fixes the arena's user address at the first mapping, and
//! programs' arena pointers are addresses in that mapping. The mapping lives
//! as long as the [`Map`] (and its clones). An arena opened by pin or id is
//! mapped on the first [`Map::arena`] call.
//!
//! # Minimum kernel version
//!
//! 6.9.

use std::os::fd::BorrowedFd;
use std::sync::{Arc, Mutex, OnceLock};

use ebpf_syscall::Mmap;
use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::MapType;
use crate::error::{Error, Result};
use crate::mem::MappedValue;

/// The mapping of an arena map, shared by the map's clones.
#[derive(Debug, Default)]
pub(crate) struct ArenaCell {
    mapped: OnceLock<Arena>,
    init: Mutex<()>,
}

/// The arena mapping slot of a map: `Some` for arena maps only.
pub(crate) type ArenaSlot = Option<Arc<ArenaCell>>;

/// A new slot for a map of type `t`.
pub(crate) fn slot(t: MapType) -> ArenaSlot {
    (t == MapType::ARENA).then(Arc::default)
}

/// The memory of an arena map in this process ([`Map::arena`](crate::Map::arena)).
///
/// Reads and writes copy bytes one at a time, as programs may access the
/// arena concurrently: a value a program updates at the same time may be
/// torn. Touching a page no program allocated makes the kernel allocate it
/// (or, for an arena created with `BPF_F_SEGV_ON_FAULT`, kills the process
/// with `SIGSEGV`).
#[derive(Debug)]
pub struct Arena {
    mem: MappedValue,
}

impl Arena {
    /// The address of the arena's first byte in this process: what a program's
    /// arena pointer to offset 0 holds.
    pub fn address(&self) -> u64 {
        self.mem.address() as u64
    }

    /// The size in bytes (`max_entries` pages).
    pub fn len(&self) -> usize {
        self.mem.len()
    }

    /// Always `false`: an arena has at least one page.
    pub fn is_empty(&self) -> bool {
        self.mem.len() == 0
    }

    /// The offset in the arena of `addr`, a pointer a program stored (for
    /// example in an `__arena` global); `None` if it points outside.
    pub fn offset_of(&self, addr: u64) -> Option<usize> {
        let off = usize::try_from(addr.checked_sub(self.address())?).ok()?;
        (off < self.len()).then_some(off)
    }

    /// Copies `out.len()` bytes at `offset` into `out`.
    pub fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.mem.read(offset, out)
    }

    /// Copies `data` to `offset`.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<()> {
        self.mem.write(offset, data)
    }

    /// The `T` at `offset`.
    pub fn get<T: FromBytes + IntoBytes>(&self, offset: usize) -> Result<T> {
        let mut v = T::new_zeroed();
        self.read(offset, v.as_mut_bytes())?;
        Ok(v)
    }

    /// Writes `value` at `offset`.
    pub fn set<T: IntoBytes + Immutable + ?Sized>(&self, offset: usize, value: &T) -> Result<()> {
        self.write(offset, value.as_bytes())
    }
}

impl ArenaCell {
    /// The arena's mapping, made on the first call: `len` bytes of map `fd`
    /// (named `name` in errors) at `addr`, or where the kernel chooses when
    /// that is 0.
    pub(crate) fn get_or_map(
        &self,
        fd: BorrowedFd<'_>,
        name: &str,
        len: usize,
        addr: u64,
    ) -> Result<&Arena> {
        if let Some(a) = self.mapped.get() {
            return Ok(a);
        }
        let _guard = self.init.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = self.mapped.get() {
            return Ok(a);
        }
        let mem = MappedValue::map_arena(fd, len, addr)?;
        log::debug!(
            "map '{name}': arena of {len} bytes mapped at {:#x}",
            mem.address()
        );
        Ok(self.mapped.get_or_init(|| Arena { mem }))
    }
}

/// Copies an arena's initial contents (the object's `__arena` globals) to its start.
pub(crate) fn write_initial(arena: &Arena, data: &[u8]) -> Result<()> {
    let need = data.len().next_multiple_of(Mmap::page_size());
    if need > arena.len() {
        return Err(Error::InvalidArgument(format!(
            "{} bytes of arena globals need {need} bytes of pages, the arena has {}",
            data.len(),
            arena.len()
        )));
    }
    arena.write(0, data)
}
