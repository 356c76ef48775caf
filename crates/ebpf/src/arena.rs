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

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use ebpf_syscall::Mmap;
use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::error::{Error, Result};
use crate::map::Map;
use crate::mem::MappedValue;
use crate::{MapSpec, MapType};

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

/// The memory of an arena map in this process ([`Map::arena`]).
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

impl Map {
    /// The memory of an arena map, mapped into this process (on the first
    /// call for an arena opened by pin or id; maps created by this crate
    /// were mapped at creation).
    ///
    /// The mapping is at the arena's `map_extra` address, or where the kernel
    /// chooses when that is 0; the kernel fixes the address at the first
    /// mapping of the arena, so an arena another process mapped first without
    /// a `map_extra` cannot be mapped here.
    ///
    /// # Minimum kernel version
    ///
    /// 6.9.
    pub fn arena(&self) -> Result<&Arena> {
        let Some(cell) = self.arena.as_deref() else {
            return Err(Error::map(self.name(), "arena")(Error::InvalidArgument(
                format!("map type {} is not an arena", self.map_type()),
            )));
        };
        if let Some(a) = cell.mapped.get() {
            return Ok(a);
        }
        let _guard = cell.init.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = cell.mapped.get() {
            return Ok(a);
        }
        let arena = self
            .map_arena()
            .map_err(Error::map(self.name(), "mmap arena"))?;
        Ok(cell.mapped.get_or_init(|| arena))
    }

    fn map_arena(&self) -> Result<Arena> {
        let len = Mmap::page_size()
            .checked_mul(self.max_entries() as usize)
            .ok_or_else(|| Error::InvalidArgument("arena size overflows".into()))?;
        let addr = self.info()?.map_extra;
        let mem = MappedValue::map_arena(self, len, addr)?;
        log::debug!(
            "map '{}': arena of {len} bytes mapped at {:#x}",
            self.name(),
            mem.address()
        );
        Ok(Arena { mem })
    }
}

/// Maps a new arena and copies the spec's initial contents (the object's
/// `__arena` globals) to its start.
pub(crate) fn init(map: &Map, spec: &MapSpec) -> Result<()> {
    let arena = map.arena()?;
    let Some(data) = spec.data() else {
        return Ok(());
    };
    let need = data.len().next_multiple_of(Mmap::page_size());
    if need > arena.len() {
        return Err(Error::map(map.name(), "write contents")(
            Error::InvalidArgument(format!(
                "{} bytes of arena globals need {need} bytes of pages, the arena has {}",
                data.len(),
                arena.len()
            )),
        ));
    }
    arena.write(0, data)
}

/// The map holding the globals of data section `section`: the map of that
/// name, or the arena map for [`ebpf_spec::ARENA_SECTION`].
pub(crate) fn section_map<'a>(maps: &'a BTreeMap<String, Map>, section: &str) -> Option<&'a Map> {
    if section == ebpf_spec::ARENA_SECTION {
        maps.values().find(|m| m.map_type() == MapType::ARENA)
    } else {
        maps.get(section)
    }
}
