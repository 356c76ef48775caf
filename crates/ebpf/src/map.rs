//! [`Map`]: a BPF map in the kernel, created from a [`MapSpec`] or opened by
//! pin or id, with byte-level and typed element operations.
//!
//! ```no_run
//! use ebpf::{Map, MapSpec, MapType, UpdateFlags};
//! let map = Map::create(&MapSpec::new("counts", MapType::HASH, 4, 8, 16))?;
//! map.put(&1u32, &42u64, UpdateFlags::ANY)?;
//! assert_eq!(map.get::<u32, u64>(&1)?, Some(42));
//! for entry in map.iter() {
//!     let (key, value) = entry?;
//!     println!("{key:?} = {value:?}");
//! }
//! # Ok::<(), ebpf::Error>(())
//! ```
//!
//! Per-CPU maps (`PERCPU_HASH`, `PERCPU_ARRAY`, `LRU_PERCPU_HASH`,
//! `PERCPU_CGROUP_STORAGE`) hold one value per possible CPU; the kernel pads
//! each to 8 bytes. [`Map::lookup_percpu`] and [`Map::update_percpu`] take and
//! give one value per CPU; the plain byte operations take the padded buffer
//! ([`Map::value_buffer_size`]).
//!
//! The element and batch operations go through [`ebpf_syscall::MapFd`],
//! which knows the map's sizes and refuses buffers that do not match them;
//! this module checks them first too, to name the map and the fix.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use ebpf_syscall as sys;
use ebpf_syscall::{Errno, KernelVersion, MapCreateAttr, NotSupported};
use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::error::{Error, Result};
use crate::info::MapInfo;
use crate::names::sanitize_name;
use crate::{MapSpec, MapType};
use create_error::create_error;

mod batch;
mod create_error;
mod iter;
mod percpu;

pub use batch::BatchCursor;
pub use iter::{MapIter, MapKeys};

bitflags::bitflags! {
    /// Flags of an update (`BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`, `BPF_F_LOCK`); combine
    /// with `|`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct UpdateFlags: u64 {
        /// Create only; `EEXIST` if the key exists.
        #[doc(alias = "BPF_NOEXIST")]
        const NO_EXIST = sys::BPF_NOEXIST;
        /// Update only; `ENOENT` if the key is absent.
        #[doc(alias = "BPF_EXIST")]
        const EXIST = sys::BPF_EXIST;
        /// Take the value's `bpf_spin_lock` (5.1).
        #[doc(alias = "BPF_F_LOCK")]
        const LOCK = sys::BPF_F_LOCK;
    }
}

impl UpdateFlags {
    /// Create or update (no flag: the same as [`UpdateFlags::empty`]).
    #[doc(alias = "BPF_ANY")]
    pub const ANY: Self = Self::empty();
}

/// The number of possible CPUs (`/sys/devices/system/cpu/possible`): the
/// number of values of a per-CPU map and the default size of a perf event array.
///
/// The same as [`ebpf_syscall::possible_cpus`] (read once per process).
pub fn possible_cpus() -> Result<usize> {
    sys::possible_cpus().map_err(|e| match e {
        sys::Error::Io { what, source } => Error::Io { path: what, source },
        sys::Error::InvalidArgument(s) => Error::InvalidArgument(s),
        other => Error::from(other),
    })
}

/// Map types whose values hold fds or ids, not data described by BTF.
fn no_btf_values(t: MapType) -> bool {
    matches!(
        t,
        MapType::PROG_ARRAY
            | MapType::PERF_EVENT_ARRAY
            | MapType::CGROUP_ARRAY
            | MapType::ARRAY_OF_MAPS
            | MapType::HASH_OF_MAPS
            | MapType::STACK_TRACE
            | MapType::DEVMAP
            | MapType::DEVMAP_HASH
            | MapType::SOCKMAP
            | MapType::SOCKHASH
            | MapType::CPUMAP
            | MapType::XSKMAP
            | MapType::REUSEPORT_SOCKARRAY
    )
}

/// BTF for a map being created: the object's BTF in the kernel and the key and
/// value type ids (0: none; without a value type the map is created without BTF).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MapBtf<'a> {
    pub fd: BorrowedFd<'a>,
    pub key: u32,
    pub value: u32,
}

/// A BPF map in the kernel. Closed when dropped (the kernel frees it when no
/// program, pin or other fd holds it).
#[derive(Debug)]
pub struct Map {
    fd: sys::MapFd,
    name: String,
    map_type: MapType,
    pinned: Option<PathBuf>,
    /// An arena's mapping (`crate::arena`).
    pub(crate) arena: crate::arena::ArenaSlot,
}

impl AsFd for Map {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Map {
    /// Creates a map from `spec` and writes its initial contents (byte values
    /// only; program and map values are filled in by
    /// [`Collection::load`](crate::Collection::load)), then freezes it if the
    /// spec says so.
    ///
    /// Adjustments, as cilium/ebpf and libbpf make them: a perf event array
    /// with `max_entries` 0 (or more than the CPUs) gets one entry per
    /// possible CPU; a ring buffer's size is rounded up to a power-of-two
    /// multiple of the page size; a map of maps gets its inner map template
    /// from `spec.inner_map`.
    ///
    /// # Minimum kernel version
    ///
    /// 3.19; each map type has its own (`NotSupported` names it).
    #[doc(alias = "BPF_MAP_CREATE")]
    pub fn create(spec: &MapSpec) -> Result<Map> {
        let map = Self::create_with(spec, None, None)?;
        map.init_contents(spec)?;
        if spec.freeze {
            map.freeze()?;
        }
        Ok(map)
    }

    /// Like [`Map::create`], with the key and value types of the spec
    /// (`key_type`, `value_type`) taken from `btf`, which is loaded into the
    /// kernel for the map. Map types whose values the kernel checks against
    /// BTF need this: `bpf_spin_lock` values ([`UpdateFlags::LOCK`]), timers,
    /// and the local storage maps (`SK_STORAGE`, `INODE_STORAGE`,
    /// `TASK_STORAGE`, `CGRP_STORAGE`).
    ///
    /// # Minimum kernel version
    ///
    /// 4.18 (map BTF).
    pub fn create_with_btf(spec: &MapSpec, btf: &ebpf_btf::Spec) -> Result<Map> {
        let name = spec.name.as_str();
        let fd = crate::object_btf::load_for_kernel(btf).map_err(Error::map(name, "load BTF"))?;
        let value = spec.value_type.ok_or_else(|| {
            Error::map(name, "create")(Error::InvalidArgument("the spec has no value_type".into()))
        })?;
        let map_btf = MapBtf {
            fd: fd.as_fd(),
            key: spec.key_type.map_or(0, |k| k.0),
            value: value.0,
        };
        let map = Self::create_with(spec, Some(map_btf), None)?;
        map.init_contents(spec)?;
        if spec.freeze {
            map.freeze()?;
        }
        Ok(map)
    }

    /// Creates the map without contents, with optional BTF and an inner map
    /// template fd (else one is created from `spec.inner_map`).
    pub(crate) fn create_with(
        spec: &MapSpec,
        btf: Option<MapBtf<'_>>,
        inner: Option<BorrowedFd<'_>>,
    ) -> Result<Map> {
        let name = spec.name.as_str();
        let mut spec_max = spec.max_entries;
        if spec.map_type == MapType::PERF_EVENT_ARRAY {
            let n = u32::try_from(possible_cpus()?).unwrap_or(u32::MAX);
            if spec_max == 0 || spec_max > n {
                spec_max = n;
            }
        }
        if spec.map_type == MapType::RINGBUF || spec.map_type == MapType::USER_RINGBUF {
            let page = u32::try_from(sys::Mmap::page_size()).unwrap_or(4096);
            let want = spec_max.max(page);
            let adjusted = want
                .checked_next_power_of_two()
                .ok_or_else(|| {
                    Error::InvalidArgument(format!("ring buffer size {spec_max} too large"))
                })
                .map_err(Error::map(name, "create"))?;
            if adjusted != spec_max {
                log::debug!("map '{name}': ring buffer size {spec_max} rounded up to {adjusted}");
            }
            spec_max = adjusted;
        }
        // The inner map template of a map of maps.
        let mut owned_inner = None;
        let inner_fd = if spec.map_type.is_map_in_map() {
            match inner {
                Some(fd) => Some(fd),
                None => {
                    let inner_spec = spec.inner_map.as_deref().ok_or_else(|| {
                        Error::map(name, "create")(Error::InvalidArgument(
                            "a map of maps needs an inner map template".into(),
                        ))
                    })?;
                    let mut tmpl = inner_spec.clone();
                    tmpl.contents.clear();
                    tmpl.freeze = false;
                    tmpl.pinning = ebpf_spec::PinType::None;
                    // With its key and value BTF: spin locks, timers, list
                    // heads and kptrs in inner maps need it to match.
                    let tmpl_btf = btf.and_then(|b| {
                        Some(MapBtf {
                            fd: b.fd,
                            key: tmpl.key_type.map_or(0, |k| k.0),
                            value: tmpl.value_type?.0,
                        })
                    });
                    let m = Self::create_with(&tmpl, tmpl_btf, None)
                        .map_err(Error::map(name, "create inner map template"))?;
                    owned_inner = Some(m);
                    owned_inner.as_ref().map(Map::as_fd)
                }
            }
        } else {
            None
        };

        // Ring buffers have no keys or values: a `__type(value, ...)` in the
        // object is only a hint for readers (libbpf ignores it too).
        let ring = spec.map_type == MapType::RINGBUF || spec.map_type == MapType::USER_RINGBUF;
        let (key_size, value_size) = if ring {
            (0, 0)
        } else {
            (spec.key_size, spec.value_size)
        };
        // Map types whose values the kernel does not describe with BTF, and
        // maps whose spec names no value type (the fd still serves the
        // inner map template above).
        let btf = btf.filter(|b| b.value != 0 && !ring && !no_btf_values(spec.map_type));
        let mut attr = MapCreateAttr::new(
            sys::MapType(spec.map_type.0),
            key_size,
            value_size,
            spec_max,
        );
        attr.map_flags = spec.flags;
        attr.numa_node = spec.numa_node;
        attr.map_extra = spec.map_extra;
        if let Some(fd) = inner_fd {
            attr.inner_map_fd = fd.as_raw_fd() as u32;
        }
        let kname = sanitize_name(name);
        attr.map_name = sys::obj_name(&kname).unwrap_or_default();
        if let Some(b) = btf {
            attr.btf_fd = b.fd.as_raw_fd() as u32;
            attr.btf_key_type_id = b.key;
            attr.btf_value_type_id = b.value;
        }
        crate::memlock::raise_once();
        let fd = match sys::map_create_sized(&attr) {
            Ok(fd) => fd,
            Err(e)
                if btf.is_some()
                    && matches!(
                        e.errno(),
                        Some(Errno::INVAL | Errno::ENOTSUPP | Errno::OPNOTSUPP)
                    ) =>
            {
                // Retry without BTF: the kernel may not like the key/value types.
                let mut plain = attr;
                plain.btf_fd = 0;
                plain.btf_key_type_id = 0;
                plain.btf_value_type_id = 0;
                sys::map_create_sized(&plain)
                    .map_err(|_| create_error(spec, spec_max, e))
                    .map_err(Error::map(name, "create"))?
            }
            Err(e) => return Err(Error::map(name, "create")(create_error(spec, spec_max, e))),
        };
        drop(owned_inner);
        Ok(Map {
            fd,
            name: name.to_owned(),
            map_type: spec.map_type,
            pinned: None,
            arena: crate::arena::slot(spec.map_type),
        })
    }

    /// Writes the byte contents of `spec` (`MapValue::Bytes` only).
    /// The memory of an arena map, mapped into this process (on the first
    /// call for an arena opened by pin or id; maps created by this crate
    /// were mapped at creation).
    ///
    /// The mapping is at the arena's `map_extra` address, or where the kernel
    /// chooses when that is 0; the kernel fixes the address at the first
    /// mapping of the arena, so an arena another process mapped first without
    /// a `map_extra` cannot be mapped here. The mapping lives as long as this
    /// map and its clones.
    ///
    /// # Minimum kernel version
    ///
    /// 6.9.
    pub fn arena(&self) -> Result<&crate::arena::Arena> {
        let Some(cell) = self.arena.as_deref() else {
            return Err(Error::map(self.name(), "arena")(Error::InvalidArgument(
                format!("map type {} is not an arena", self.map_type()),
            )));
        };
        (|| {
            let len = sys::Mmap::page_size()
                .checked_mul(self.max_entries() as usize)
                .ok_or_else(|| Error::InvalidArgument("arena size overflows".into()))?;
            let addr = self.info()?.map_extra;
            cell.get_or_map(self.as_fd(), self.name(), len, addr)
        })()
        .map_err(Error::map(self.name(), "mmap arena"))
    }

    pub(crate) fn init_contents(&self, spec: &MapSpec) -> Result<()> {
        use ebpf_spec::{MapKey, MapValue};
        if self.map_type == MapType::ARENA {
            let arena = self.arena()?;
            return match spec.data() {
                Some(data) => crate::arena::write_initial(arena, data)
                    .map_err(Error::map(self.name(), "write contents")),
                None => Ok(()),
            };
        }
        // A new array's values are zeros already: the single value of a global data map
        // that is zeros nobody accessed (a `.bss`) is not written (nor made).
        let untouched_zeros = spec
            .data_bytes()
            .is_some_and(ebpf_spec::ValueBytes::is_unmade_zeros)
            && matches!(self.map_type, MapType::ARRAY | MapType::PERCPU_ARRAY)
            && self.max_entries() > 0
            && spec.flags & sys::BPF_F_RDONLY == 0;
        if untouched_zeros {
            return Ok(());
        }
        for entry in &spec.contents {
            let MapValue::Bytes(value) = &entry.value else {
                continue;
            };
            let key = match &entry.key {
                MapKey::Index(i) => i.to_ne_bytes().to_vec(),
                MapKey::Bytes(b) => b.clone(),
            };
            let mut value = value.to_vec();
            if value.len() < self.value_size() as usize {
                value.resize(self.value_size() as usize, 0);
            }
            if self.is_per_cpu() {
                let vals: Vec<&[u8]> = (0..self.cpus()).map(|_| value.as_slice()).collect();
                self.update_percpu(&key, &vals, UpdateFlags::ANY)?;
            } else {
                self.update(&key, &value, UpdateFlags::ANY)?;
            }
        }
        Ok(())
    }

    /// Wraps a map fd, reading its properties from the kernel.
    ///
    /// # Minimum kernel version
    ///
    /// 4.13 (`BPF_OBJ_GET_INFO_BY_FD`).
    pub fn from_fd(fd: OwnedFd) -> Result<Map> {
        let (fd, info) = sys::MapFd::from_fd_with_info(fd)?;
        Ok(Map {
            name: info.name().to_owned(),
            map_type: MapType(info.r#type.0),
            pinned: None,
            arena: crate::arena::slot(MapType(info.r#type.0)),
            fd,
        })
    }

    /// Opens the map pinned at `path` (in a bpffs).
    ///
    /// # Minimum kernel version
    ///
    /// 4.4.
    #[doc(alias = "BPF_OBJ_GET")]
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Map> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let fd = sys::obj_get(path, 0)
            .map_err(Error::from)
            .map_err(Error::map(&name, "open pin"))?;
        let mut m = Self::from_fd(fd).map_err(Error::map(&name, "open pin"))?;
        m.pinned = Some(path.to_owned());
        Ok(m)
    }

    /// Opens the map with kernel id `id`.
    ///
    /// # Minimum kernel version
    ///
    /// 4.13.
    #[doc(alias = "BPF_MAP_GET_FD_BY_ID")]
    pub fn from_id(id: u32) -> Result<Map> {
        let fd = sys::map_get_fd_by_id(id, 0)?;
        Self::from_fd(fd)
    }

    /// Records where the map is pinned (for maps opened from a pin).
    pub(crate) fn with_pinned(mut self, path: &Path) -> Map {
        self.pinned = Some(path.to_owned());
        self
    }

    /// Sets the name (for maps wrapped from an fd, whose kernel name is truncated).
    pub(crate) fn with_name(mut self, name: &str) -> Map {
        name.clone_into(&mut self.name);
        self
    }

    /// A second handle on the same map (`dup`).
    pub fn try_clone(&self) -> Result<Map> {
        let fd = self
            .fd
            .try_clone()
            .map_err(Error::io(format!("dup of map '{}'", self.name)))?;
        Ok(Map {
            fd,
            name: self.name.clone(),
            map_type: self.map_type,
            pinned: self.pinned.clone(),
            arena: self.arena.clone(),
        })
    }

    /// The name (from the spec, or as the kernel reports it for opened maps).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The map type.
    pub fn map_type(&self) -> MapType {
        self.map_type
    }
    /// Key size in bytes.
    pub fn key_size(&self) -> u32 {
        self.fd.key_size()
    }
    /// Value size in bytes (of one CPU's value for per-CPU maps).
    pub fn value_size(&self) -> u32 {
        self.fd.value_size()
    }
    /// Maximum number of entries (as created, after adjustments).
    pub fn max_entries(&self) -> u32 {
        self.fd.max_entries()
    }
    /// `BPF_F_*` flags the map was created with.
    pub fn flags(&self) -> u32 {
        self.fd.flags()
    }
    /// Whether values are per CPU.
    pub fn is_per_cpu(&self) -> bool {
        self.fd.is_per_cpu()
    }
    /// The path this map was pinned at by [`Map::pin`] or opened from.
    pub fn pinned_path(&self) -> Option<&Path> {
        self.pinned.as_deref()
    }

    /// The size of the value buffer the kernel reads and writes: the value
    /// size, or for per-CPU maps the value size rounded up to 8 times the
    /// number of possible CPUs.
    pub fn value_buffer_size(&self) -> usize {
        self.fd.value_buffer_size()
    }

    /// The number of values of a per-CPU map (one per possible CPU).
    fn cpus(&self) -> usize {
        self.value_buffer_size() / (self.value_size() as usize).next_multiple_of(8).max(1)
    }

    fn check_key(&self, key: &[u8]) -> Result<()> {
        if key.len() != self.key_size() as usize {
            return Err(Error::map(&self.name, "key")(Error::InvalidArgument(
                format!(
                    "key has {} bytes, map has {}-byte keys",
                    key.len(),
                    self.key_size()
                ),
            )));
        }
        Ok(())
    }

    fn check_value(&self, value: &[u8]) -> Result<()> {
        if value.len() != self.value_buffer_size() {
            return Err(Error::map(&self.name, "value")(Error::InvalidArgument(
                format!(
                    "value has {} bytes, map needs {}{}",
                    value.len(),
                    self.value_buffer_size(),
                    if self.is_per_cpu() {
                        " (per-CPU: use update_percpu)"
                    } else {
                        ""
                    }
                ),
            )));
        }
        Ok(())
    }

    fn op_err(&self, op: &'static str) -> impl FnOnce(sys::Error) -> Error + '_ {
        move |e| Error::map(&self.name, op)(Error::from(e))
    }

    /// Copies the value of `key` into `value` (of [`Map::value_buffer_size`]
    /// bytes). Returns `false` if the key is absent.
    #[doc(alias = "BPF_MAP_LOOKUP_ELEM")]
    pub fn lookup_into(&self, key: &[u8], value: &mut [u8], flags: UpdateFlags) -> Result<bool> {
        self.check_key(key)?;
        self.check_value(value)?;
        match self.fd.lookup_elem(key, value, flags.bits()) {
            Ok(()) => Ok(true),
            Err(e) if e.errno() == Some(Errno::NOENT) => Ok(false),
            Err(e) => Err(self.op_err("lookup")(e)),
        }
    }

    /// The value of `key`, or `None` if absent (per-CPU maps: the padded
    /// buffer of all CPUs' values; see [`Map::lookup_percpu`]).
    ///
    /// Queue and stack maps take an empty key and return the head (peek).
    pub fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut value = vec![0u8; self.value_buffer_size()];
        Ok(self
            .lookup_into(key, &mut value, UpdateFlags::ANY)?
            .then_some(value))
    }

    /// Creates or updates `key` (queue/stack maps: push, with an empty key).
    #[doc(alias = "BPF_MAP_UPDATE_ELEM")]
    pub fn update(&self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<()> {
        self.check_key(key)?;
        self.check_value(value)?;
        self.fd
            .update_elem(key, value, flags.bits())
            .map_err(self.op_err("update"))
    }

    /// Deletes `key`. Returns `false` if it was absent.
    #[doc(alias = "BPF_MAP_DELETE_ELEM")]
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.check_key(key)?;
        match self.fd.delete_elem(key) {
            Ok(()) => Ok(true),
            Err(e) if e.errno() == Some(Errno::NOENT) => Ok(false),
            Err(e) => Err(self.op_err("delete")(e)),
        }
    }

    /// Looks up and deletes `key` (queue and stack maps: pops, with an empty key).
    ///
    /// # Minimum kernel version
    ///
    /// 4.20 for queues and stacks, 5.14 for hash maps.
    #[doc(alias = "BPF_MAP_LOOKUP_AND_DELETE_ELEM")]
    pub fn lookup_and_delete(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.check_key(key)?;
        let mut value = vec![0u8; self.value_buffer_size()];
        match self.fd.lookup_and_delete_elem(key, &mut value, 0) {
            Ok(()) => Ok(Some(value)),
            Err(e) if e.errno() == Some(Errno::NOENT) => Ok(None),
            // Hash maps gained lookup-and-delete in 5.14 (ENOTSUPP before).
            Err(e) if e.errno().is_some_and(Errno::is_not_supported) => {
                let min = if matches!(self.map_type, MapType::QUEUE | MapType::STACK) {
                    KernelVersion::new(4, 20, 0)
                } else {
                    KernelVersion::new(5, 14, 0)
                };
                Err(Error::map(&self.name, "lookup and delete")(
                    Error::NotSupported(NotSupported::new(
                        format!("BPF_MAP_LOOKUP_AND_DELETE_ELEM on {}", self.map_type),
                        min,
                    )),
                ))
            }
            Err(e) => Err(self.op_err("lookup and delete")(e)),
        }
    }

    /// The key after `key`, or the first key for `None`; `None` at the end.
    #[doc(alias = "BPF_MAP_GET_NEXT_KEY")]
    pub fn next_key(&self, key: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
        if let Some(k) = key {
            self.check_key(k)?;
        }
        let mut next = vec![0u8; self.key_size() as usize];
        let found = self
            .fd
            .get_next_key(key, &mut next)
            .map_err(self.op_err("next key"))?;
        Ok(found.then_some(next))
    }

    /// Writes the key after `key` (the first for `None`) into `next`, of the
    /// map's key size; `false` at the end. Nothing is allocated.
    #[doc(alias = "BPF_MAP_GET_NEXT_KEY")]
    pub fn next_key_into(&self, key: Option<&[u8]>, next: &mut [u8]) -> Result<bool> {
        if let Some(k) = key {
            self.check_key(k)?;
        }
        self.check_key(next)?;
        self.fd
            .get_next_key(key, next)
            .map_err(self.op_err("next key"))
    }

    /// Typed lookup: `K` and `V` must have the map's key and value sizes.
    pub fn get<K, V>(&self, key: &K) -> Result<Option<V>>
    where
        K: IntoBytes + Immutable + ?Sized,
        V: FromBytes,
    {
        let Some(bytes) = self.lookup(key.as_bytes())? else {
            return Ok(None);
        };
        V::read_from_bytes(&bytes).map(Some).map_err(|_| {
            Error::map(&self.name, "lookup")(Error::InvalidArgument(format!(
                "value type has {} bytes, map values have {}",
                core::mem::size_of::<V>(),
                bytes.len()
            )))
        })
    }

    /// Typed update.
    pub fn put<K, V>(&self, key: &K, value: &V, flags: UpdateFlags) -> Result<()>
    where
        K: IntoBytes + Immutable + ?Sized,
        V: IntoBytes + Immutable + ?Sized,
    {
        self.update(key.as_bytes(), value.as_bytes(), flags)
    }

    /// Typed delete. Returns `false` if the key was absent.
    pub fn remove<K: IntoBytes + Immutable + ?Sized>(&self, key: &K) -> Result<bool> {
        self.delete(key.as_bytes())
    }

    /// Makes the map read-only to user space (programs can still write unless
    /// it was created with `BPF_F_RDONLY_PROG`).
    ///
    /// # Minimum kernel version
    ///
    /// 5.2.
    #[doc(alias = "BPF_MAP_FREEZE")]
    pub fn freeze(&self) -> Result<()> {
        sys::map_freeze(&self.fd).map_err(|e| {
            let e = if e.errno() == Some(Errno::INVAL)
                && ebpf_syscall::current_kernel().is_ok_and(|v| v < KernelVersion::new(5, 2, 0))
            {
                Error::NotSupported(NotSupported::new(
                    "BPF_MAP_FREEZE",
                    KernelVersion::new(5, 2, 0),
                ))
            } else {
                Error::from(e)
            };
            Error::map(&self.name, "freeze")(e)
        })
    }

    /// Pins the map at `path` in a bpffs (moving no existing pin). Pinning
    /// again at the same path is a no-op.
    ///
    /// # Minimum kernel version
    ///
    /// 4.4.
    #[doc(alias = "BPF_OBJ_PIN")]
    pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if self.pinned.as_deref() == Some(path) {
            return Ok(());
        }
        crate::pin::pin(&self.fd, path).map_err(Error::map(&self.name, "pin"))?;
        self.pinned = Some(path.to_owned());
        Ok(())
    }

    /// Removes the pin made by [`Map::pin`] (or the one it was opened from).
    pub fn unpin(&mut self) -> Result<()> {
        if let Some(p) = self.pinned.take() {
            crate::pin::unpin(&p).map_err(Error::map(&self.name, "unpin"))?;
        }
        Ok(())
    }

    /// What the kernel reports about the map.
    ///
    /// # Minimum kernel version
    ///
    /// 4.13.
    #[doc(alias = "BPF_OBJ_GET_INFO_BY_FD")]
    pub fn info(&self) -> Result<MapInfo> {
        let info = sys::map_info(&self.fd).map_err(self.op_err("info"))?;
        Ok(MapInfo::from_raw(&info))
    }

    /// The kernel id of the map.
    pub fn id(&self) -> Result<u32> {
        Ok(self.info()?.id)
    }

    /// Stores the fd of `value` (a program for prog arrays, a map for maps of
    /// maps, ...) at `key`.
    pub fn set_fd(&self, key: &[u8], value: impl AsFd) -> Result<()> {
        let fd = value.as_fd().as_raw_fd() as u32;
        self.update(key, &fd.to_ne_bytes(), UpdateFlags::ANY)
    }
}
