//! Map commands: `BPF_MAP_CREATE`, the element commands, the batch commands and `BPF_MAP_FREEZE`.
//!
//! The element and batch commands are methods of [`MapFd`](crate::MapFd),
//! which knows the map's sizes and checks every buffer:
//!
//! ```no_run
//! use ebpf_syscall::{map_create_sized, MapCreateAttr, MapType, BPF_ANY};
//! let mut attr = MapCreateAttr::new(MapType::HASH, 4, 8, 16);
//! attr.map_name = ebpf_syscall::obj_name("counts")?;
//! let map = map_create_sized(&attr)?;
//! let (key, mut value) = (1u32.to_ne_bytes(), [0u8; 8]);
//! map.update_elem(&key, &42u64.to_ne_bytes(), BPF_ANY)?;
//! map.lookup_elem(&key, &mut value, 0)?;
//! assert_eq!(u64::from_ne_bytes(value), 42);
//! # Ok::<(), ebpf_syscall::Error>(())
//! ```
//!
//! # Safety
//!
//! The raw element and batch commands here are `unsafe fn`s: the kernel reads
//! and writes keys and values using the sizes the map was created with, which
//! are not in the attr and which these functions do not know. Their callers
//! promise the buffers are large enough: [`MapFd`](crate::MapFd) (which
//! checks every buffer against the sizes it holds) and, for
//! [`map_lookup_elem`], [`map_update_elem`] and [`map_delete_elem`] only,
//! callers outside this crate that have not moved to `MapFd` yet.
#![allow(unsafe_code, reason = "audited: see the module's # Safety section")]

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use zerocopy::{FromZeros, Immutable, IntoBytes, KnownLayout};

use crate::sys::{bpf, bpf_fd};
use crate::{Cmd, Errno, Error, MapType, Pointer, Result};

/// `BPF_F_NO_PREALLOC`: do not preallocate hash map elements.
pub const BPF_F_NO_PREALLOC: u32 = 1 << 0;
/// `BPF_F_RDONLY`: the map is read-only to user space (map flags and `open_flags`).
pub const BPF_F_RDONLY: u32 = 1 << 3;
/// `BPF_F_WRONLY`: the map is write-only to user space.
pub const BPF_F_WRONLY: u32 = 1 << 4;
/// `BPF_F_RDONLY_PROG`: programs may only read the map (5.2).
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_WRONLY_PROG`: programs may only write the map (5.2).
pub const BPF_F_WRONLY_PROG: u32 = 1 << 8;
/// `BPF_F_MMAPABLE`: an array map that can be `mmap`ed (5.5).
pub const BPF_F_MMAPABLE: u32 = 1 << 10;
/// `BPF_F_INNER_MAP`: inner maps of different `max_entries` (5.10).
pub const BPF_F_INNER_MAP: u32 = 1 << 12;

/// `BPF_ANY`: create or update an element.
pub const BPF_ANY: u64 = 0;
/// `BPF_NOEXIST`: create an element; fail with `EEXIST` if it exists.
pub const BPF_NOEXIST: u64 = 1;
/// `BPF_EXIST`: update an existing element; fail with `ENOENT` otherwise.
pub const BPF_EXIST: u64 = 2;
/// `BPF_F_LOCK`: take the value's `bpf_spin_lock` (5.1).
pub const BPF_F_LOCK: u64 = 4;

/// An object name (`map_name`, `prog_name`) from `name`: at most 15 bytes,
/// NUL-padded. Names are truncated by the caller, not here.
///
/// Dots are accepted by kernels since 5.2 (see the `ebpf` crate's feature probes).
pub fn obj_name(name: &str) -> Result<[u8; 16]> {
    if name.len() > 15 {
        return Err(Error::InvalidArgument(format!(
            "object name '{name}' is longer than 15 bytes"
        )));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    {
        return Err(Error::InvalidArgument(format!(
            "object name '{name}' may contain only ASCII letters, digits, '_' and '.'"
        )));
    }
    let mut out = [0u8; 16];
    out[..name.len()].copy_from_slice(name.as_bytes());
    Ok(out)
}

/// The attr of `BPF_MAP_CREATE` (`union bpf_attr`'s first struct).
///
/// File descriptor fields (`inner_map_fd`, `btf_fd`, ...) are raw numbers: the
/// caller keeps the descriptors open until [`map_create`] returns.
#[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the layout (natural alignment, explicit padding) is checked by the layout tests.
#[repr(C, packed)]
pub struct MapCreateAttr<'a> {
    /// The map type.
    pub map_type: MapType,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// `BPF_F_*` map flags.
    pub map_flags: u32,
    /// For map-in-map types: an fd of a map like the inner maps.
    pub inner_map_fd: u32,
    /// NUMA node, with `BPF_F_NUMA_NODE`.
    pub numa_node: u32,
    /// The name (see [`obj_name`]; 4.15).
    pub map_name: [u8; 16],
    /// Offload target interface.
    pub map_ifindex: u32,
    /// BTF object describing key and value (4.18).
    pub btf_fd: u32,
    /// BTF type id of the key.
    pub btf_key_type_id: u32,
    /// BTF type id of the value.
    pub btf_value_type_id: u32,
    /// For struct_ops maps: the vmlinux BTF type id of the value (5.6).
    pub btf_vmlinux_value_type_id: u32,
    /// Type-specific extra (bloom filter hash count, arena address; 5.16).
    pub map_extra: u64,
    /// BTF object (module) of `btf_vmlinux_value_type_id` (6.9).
    pub value_type_btf_obj_fd: i32,
    /// BPF token fd, with `BPF_F_TOKEN_FD` (6.9).
    pub map_token_fd: i32,
    pub(crate) excl_prog_hash: Pointer<'a>,
    pub(crate) excl_prog_hash_size: u32,
    pub(crate) _pad0: u32,
}

impl<'a> MapCreateAttr<'a> {
    /// An attr for a map of `map_type` with the given sizes; everything else zero.
    pub fn new(map_type: MapType, key_size: u32, value_size: u32, max_entries: u32) -> Self {
        Self {
            map_type,
            key_size,
            value_size,
            max_entries,
            ..Self::default()
        }
    }

    /// Restricts the map to the program whose SHA-256 is `hash` (6.18, `excl_prog_hash`).
    pub fn set_excl_prog_hash(&mut self, hash: &'a [u8]) -> Result<()> {
        self.excl_prog_hash_size = len_u32(hash.len())?;
        self.excl_prog_hash = Pointer::from_slice(hash);
        Ok(())
    }
}

pub(crate) fn len_u32(len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| Error::InvalidArgument(format!("length {len} exceeds u32")))
}

pub(crate) fn raw_fd(fd: &impl AsFd) -> u32 {
    // A borrowed fd is never negative.
    fd.as_fd().as_raw_fd() as u32
}

/// `BPF_MAP_CREATE`: creates a map.
///
/// # Minimum kernel version
///
/// 3.19; each map type and flag has its own (see the `ebpf` crate's feature probes).
#[doc(alias = "BPF_MAP_CREATE")]
pub fn map_create(attr: &MapCreateAttr<'_>) -> Result<OwnedFd> {
    let mut attr = *attr;
    (attr.map_token_fd, attr.map_flags) = crate::token::apply(attr.map_token_fd, attr.map_flags);
    bpf_fd(Cmd::MAP_CREATE, &mut attr).map_err(Error::bpf(Cmd::MAP_CREATE))
}

/// The attr of the element commands (`map_fd`, `key`, `value`/`next_key`, `flags`).
#[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the layout (natural alignment, explicit padding) is checked by the layout tests.
#[repr(C, packed)]
pub struct MapElemAttr<'a> {
    /// The map.
    pub map_fd: u32,
    pub(crate) _pad0: u32,
    pub(crate) key: Pointer<'a>,
    pub(crate) value: Pointer<'a>,
    /// `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`, `BPF_F_LOCK`.
    pub flags: u64,
}

fn elem(
    cmd: Cmd,
    map: &impl AsFd,
    key: Pointer<'_>,
    value: Pointer<'_>,
    flags: u64,
) -> Result<(), Errno> {
    let mut attr = MapElemAttr {
        map_fd: raw_fd(map),
        key,
        value,
        flags,
        ..MapElemAttr::default()
    };
    bpf(cmd, &mut attr).map(drop)
}

/// `BPF_MAP_LOOKUP_ELEM`: copies the value of `key` into `value`.
///
/// Prefer [`MapFd::lookup_elem`](crate::MapFd::lookup_elem), which checks the buffers.
///
/// Fails with `ENOENT` when the key is absent.
///
/// # Safety
///
/// `key` holds at least the map's key size and `value` at least its value
/// size (for per-CPU maps: the value size rounded up to 8, times the number
/// of possible CPUs). Queue and stack maps take no key: use an empty slice.
///
/// # Minimum kernel version
///
/// 3.19; `BPF_F_LOCK` 5.1.
#[doc(alias = "BPF_MAP_LOOKUP_ELEM")]
pub(crate) unsafe fn map_lookup_elem(
    map: impl AsFd,
    key: &[u8],
    value: &mut [u8],
    flags: u64,
) -> Result<()> {
    let key = if key.is_empty() {
        Pointer::NULL
    } else {
        Pointer::from_slice(key)
    };
    elem(
        Cmd::MAP_LOOKUP_ELEM,
        &map,
        key,
        Pointer::from_mut_slice(value),
        flags,
    )
    .map_err(Error::bpf(Cmd::MAP_LOOKUP_ELEM))
}

/// `BPF_MAP_UPDATE_ELEM`: creates or updates the element `key`.
///
/// Prefer [`MapFd::update_elem`](crate::MapFd::update_elem), which checks the buffers.
///
/// # Safety
///
/// As for [`map_lookup_elem`] (queue and stack maps take an empty key).
///
/// # Minimum kernel version
///
/// 3.19.
#[doc(alias = "BPF_MAP_UPDATE_ELEM")]
pub(crate) unsafe fn map_update_elem(
    map: impl AsFd,
    key: &[u8],
    value: &[u8],
    flags: u64,
) -> Result<()> {
    let key = if key.is_empty() {
        Pointer::NULL
    } else {
        Pointer::from_slice(key)
    };
    elem(
        Cmd::MAP_UPDATE_ELEM,
        &map,
        key,
        Pointer::from_slice(value),
        flags,
    )
    .map_err(Error::bpf(Cmd::MAP_UPDATE_ELEM))
}

/// `BPF_MAP_DELETE_ELEM`: deletes the element `key`.
///
/// Prefer [`MapFd::delete_elem`](crate::MapFd::delete_elem), which checks the buffers.
///
/// # Safety
///
/// `key` holds at least the map's key size (empty for maps without keys).
///
/// # Minimum kernel version
///
/// 3.19.
#[doc(alias = "BPF_MAP_DELETE_ELEM")]
pub(crate) unsafe fn map_delete_elem(map: impl AsFd, key: &[u8]) -> Result<()> {
    let key = if key.is_empty() {
        Pointer::NULL
    } else {
        Pointer::from_slice(key)
    };
    elem(Cmd::MAP_DELETE_ELEM, &map, key, Pointer::NULL, 0)
        .map_err(Error::bpf(Cmd::MAP_DELETE_ELEM))
}

/// `BPF_MAP_GET_NEXT_KEY`: writes the key after `key` (or the first key, for
/// `None`) into `next_key`. Returns `false` when there is no next key.
///
/// # Safety
///
/// `key` and `next_key` hold at least the map's key size.
///
/// # Minimum kernel version
///
/// 3.19; `None` for the first key 4.12.
#[doc(alias = "BPF_MAP_GET_NEXT_KEY")]
pub(crate) unsafe fn map_get_next_key(
    map: impl AsFd,
    key: Option<&[u8]>,
    next_key: &mut [u8],
) -> Result<bool> {
    let key = key.map_or(Pointer::NULL, Pointer::from_slice);
    match elem(
        Cmd::MAP_GET_NEXT_KEY,
        &map,
        key,
        Pointer::from_mut_slice(next_key),
        0,
    ) {
        Ok(()) => Ok(true),
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(Error::bpf(Cmd::MAP_GET_NEXT_KEY)(e)),
    }
}

/// `BPF_MAP_LOOKUP_AND_DELETE_ELEM`: copies the value of `key` into `value`
/// and deletes it (queue and stack maps: pops; pass `None`).
///
/// # Safety
///
/// As for [`map_lookup_elem`].
///
/// # Minimum kernel version
///
/// 4.20 (queue/stack); hash maps 5.14.
#[doc(alias = "BPF_MAP_LOOKUP_AND_DELETE_ELEM")]
pub(crate) unsafe fn map_lookup_and_delete_elem(
    map: impl AsFd,
    key: Option<&[u8]>,
    value: &mut [u8],
    flags: u64,
) -> Result<()> {
    let key = key.map_or(Pointer::NULL, Pointer::from_slice);
    elem(
        Cmd::MAP_LOOKUP_AND_DELETE_ELEM,
        &map,
        key,
        Pointer::from_mut_slice(value),
        flags,
    )
    .map_err(Error::bpf(Cmd::MAP_LOOKUP_AND_DELETE_ELEM))
}

/// `BPF_MAP_FREEZE`: makes the map read-only to user space from now on.
///
/// # Minimum kernel version
///
/// 5.2.
#[doc(alias = "BPF_MAP_FREEZE")]
pub fn map_freeze(map: impl AsFd) -> Result<()> {
    elem(Cmd::MAP_FREEZE, &map, Pointer::NULL, Pointer::NULL, 0)
        .map_err(Error::bpf(Cmd::MAP_FREEZE))
}

/// The attr of the batch commands (`union bpf_attr`'s `batch`).
#[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the layout (natural alignment, explicit padding) is checked by the layout tests.
#[repr(C, packed)]
pub struct MapBatchAttr<'a> {
    pub(crate) in_batch: Pointer<'a>,
    pub(crate) out_batch: Pointer<'a>,
    pub(crate) keys: Pointer<'a>,
    pub(crate) values: Pointer<'a>,
    pub(crate) count: u32,
    /// The map.
    pub map_fd: u32,
    /// Per-element flags (`BPF_F_LOCK`).
    pub elem_flags: u64,
    /// Command flags.
    pub flags: u64,
}

/// What a lookup batch returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchResult {
    /// How many elements were copied into `keys` and `values`.
    pub count: u32,
    /// `true` when the map has no more elements (the kernel said `ENOENT`);
    /// otherwise pass `out_batch` as the next call's `in_batch`.
    pub done: bool,
}

/// The buffers of a lookup batch.
#[derive(Debug)]
pub struct LookupBatch<'a> {
    /// The previous call's `out_batch`, or `None` to start.
    pub in_batch: Option<&'a [u8]>,
    /// Receives the position to continue from.
    pub out_batch: &'a mut [u8],
    /// Receives up to `count` keys.
    pub keys: &'a mut [u8],
    /// Receives up to `count` values.
    pub values: &'a mut [u8],
    /// How many elements to copy at most.
    pub count: u32,
    /// Per-element flags (`BPF_F_LOCK`).
    pub elem_flags: u64,
}

fn lookup_batch(cmd: Cmd, map: &impl AsFd, b: LookupBatch<'_>) -> Result<BatchResult> {
    let mut attr = MapBatchAttr {
        in_batch: b.in_batch.map_or(Pointer::NULL, Pointer::from_slice),
        out_batch: Pointer::from_mut_slice(b.out_batch),
        keys: Pointer::from_mut_slice(b.keys),
        values: Pointer::from_mut_slice(b.values),
        count: b.count,
        map_fd: raw_fd(map),
        elem_flags: b.elem_flags,
        flags: 0,
    };
    match bpf(cmd, &mut attr) {
        Ok(_) => Ok(BatchResult {
            count: attr.count,
            done: false,
        }),
        Err(Errno::NOENT) => Ok(BatchResult {
            count: attr.count,
            done: true,
        }),
        Err(e) => Err(Error::bpf(cmd)(e)),
    }
}

/// `BPF_MAP_LOOKUP_BATCH`: copies up to `count` elements, starting after `in_batch`.
///
/// # Safety
///
/// `keys` holds `count` keys and `values` `count` values of the map's sizes
/// (per-CPU: as in [`map_lookup_elem`]); `in_batch` and `out_batch` hold at
/// least the map's key size and at least 4 bytes (hash maps use a bucket index).
///
/// # Minimum kernel version
///
/// 5.6.
#[doc(alias = "BPF_MAP_LOOKUP_BATCH")]
pub(crate) unsafe fn map_lookup_batch(
    map: impl AsFd,
    batch: LookupBatch<'_>,
) -> Result<BatchResult> {
    lookup_batch(Cmd::MAP_LOOKUP_BATCH, &map, batch)
}

/// `BPF_MAP_LOOKUP_AND_DELETE_BATCH`: like [`map_lookup_batch`], deleting what it copies.
///
/// # Safety
///
/// As for [`map_lookup_batch`].
///
/// # Minimum kernel version
///
/// 5.6.
#[doc(alias = "BPF_MAP_LOOKUP_AND_DELETE_BATCH")]
pub(crate) unsafe fn map_lookup_and_delete_batch(
    map: impl AsFd,
    batch: LookupBatch<'_>,
) -> Result<BatchResult> {
    lookup_batch(Cmd::MAP_LOOKUP_AND_DELETE_BATCH, &map, batch)
}

/// `BPF_MAP_UPDATE_BATCH`: creates or updates `count` elements. Returns how
/// many were processed; on error, the elements before the failing one were.
///
/// # Safety
///
/// `keys` holds `count` keys and `values` `count` values of the map's sizes.
///
/// # Minimum kernel version
///
/// 5.6.
#[doc(alias = "BPF_MAP_UPDATE_BATCH")]
pub(crate) unsafe fn map_update_batch(
    map: impl AsFd,
    keys: &[u8],
    values: &[u8],
    count: u32,
    elem_flags: u64,
) -> Result<u32> {
    let mut attr = MapBatchAttr {
        keys: Pointer::from_slice(keys),
        values: Pointer::from_slice(values),
        count,
        map_fd: raw_fd(&map),
        elem_flags,
        ..MapBatchAttr::default()
    };
    bpf(Cmd::MAP_UPDATE_BATCH, &mut attr).map_err(Error::bpf(Cmd::MAP_UPDATE_BATCH))?;
    Ok(attr.count)
}

/// `BPF_MAP_DELETE_BATCH`: deletes `count` elements. Returns how many were deleted.
///
/// # Safety
///
/// `keys` holds `count` keys of the map's key size.
///
/// # Minimum kernel version
///
/// 5.6.
#[doc(alias = "BPF_MAP_DELETE_BATCH")]
pub(crate) unsafe fn map_delete_batch(
    map: impl AsFd,
    keys: &[u8],
    count: u32,
    elem_flags: u64,
) -> Result<u32> {
    let mut attr = MapBatchAttr {
        keys: Pointer::from_slice(keys),
        count,
        map_fd: raw_fd(&map),
        elem_flags,
        ..MapBatchAttr::default()
    };
    bpf(Cmd::MAP_DELETE_BATCH, &mut attr).map_err(Error::bpf(Cmd::MAP_DELETE_BATCH))?;
    Ok(attr.count)
}
