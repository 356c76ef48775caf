//! [`MapFd`]: a map file descriptor that knows the map's key and value sizes,
//! with safe element and batch operations.
//!
//! ```no_run
//! use ebpf_syscall::{BPF_ANY, Error, MapBuffer, MapCreateAttr, MapType, map_create_sized};
//! let map = map_create_sized(&MapCreateAttr::new(MapType::HASH, 4, 8, 16))?;
//! map.update_elem(&1u32.to_ne_bytes(), &42u64.to_ne_bytes(), BPF_ANY)?;
//! let mut value = [0u8; 8];
//! map.lookup_elem(&1u32.to_ne_bytes(), &mut value, 0)?;
//! assert_eq!(u64::from_ne_bytes(value), 42);
//! // A buffer of the wrong size is refused before the kernel is asked.
//! let err = map.lookup_elem(&[0; 3], &mut value, 0).unwrap_err();
//! assert!(matches!(
//!     err,
//!     Error::BufferSize { buffer: MapBuffer::Key, expected: 4, given: 3 }
//! ));
//! # Ok::<(), ebpf_syscall::Error>(())
//! ```
//!
//! # Safety
//!
//! For the element and batch commands the kernel copies `key_size` bytes
//! from and to every key buffer (none for maps with `key_size` 0: queues,
//! stacks, bloom filters), and `bpf_map_value_size()` bytes from and to every
//! value buffer: `value_size`, or for per-CPU maps `value_size` rounded up to
//! 8 times `num_possible_cpus()`, or 4 for maps of fds. Batch tokens are a
//! `u32` (hash maps) or a key (every other map with batch commands).
//!
//! A [`MapFd`] owns its fd, so the fd names the same map for the handle's
//! whole life, and holds the sizes the kernel uses for that map: either from
//! the attr the kernel accepted when it created the map (the kernel keeps
//! `key_size` and `value_size` as given) or from the map's `bpf_map_info`,
//! read once. An fd that is not a map gets nonsense sizes, but then every map
//! command fails before the kernel touches a buffer. Every method checks each
//! buffer's length against those sizes before calling the `unsafe fn`
//! commands of [`crate::map`]. The number of possible CPUs is the highest
//! possible CPU + 1 from `/sys/devices/system/cpu/possible`, never less than
//! the kernel's count of possible CPUs.
#![allow(unsafe_code, reason = "audited: see the module's # Safety section")]

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use crate::map::{
    BatchResult, LookupBatch, MapCreateAttr, map_create, map_delete_batch, map_delete_elem,
    map_freeze, map_get_next_key, map_lookup_and_delete_batch, map_lookup_and_delete_elem,
    map_lookup_batch, map_lookup_elem, map_update_batch, map_update_elem,
};
use crate::{
    Error, MapBuffer, MapInfo, MapType, Result, map_get_fd_by_id, map_info, obj_get, possible_cpus,
};

/// Whether the kernel keeps one value per possible CPU for maps of type `t`.
fn is_per_cpu(t: MapType) -> bool {
    matches!(
        t,
        MapType::PERCPU_HASH
            | MapType::PERCPU_ARRAY
            | MapType::LRU_PERCPU_HASH
            | MapType::PERCPU_CGROUP_STORAGE
    )
}

/// Whether the kernel takes fds and gives ids (a `u32`) as values of maps of type `t`.
fn is_fd_map(t: MapType) -> bool {
    matches!(
        t,
        MapType::PROG_ARRAY
            | MapType::PERF_EVENT_ARRAY
            | MapType::CGROUP_ARRAY
            | MapType::ARRAY_OF_MAPS
            | MapType::HASH_OF_MAPS
    )
}

/// The kernel's `bpf_map_value_size()`.
fn value_buffer_size(map_type: MapType, value_size: u32) -> Result<usize> {
    let value_size = value_size as usize;
    if is_per_cpu(map_type) {
        value_size
            .next_multiple_of(8)
            .checked_mul(possible_cpus()?)
            .ok_or_else(|| Error::InvalidArgument("per-CPU value size overflows".into()))
    } else if is_fd_map(map_type) {
        Ok(4)
    } else {
        Ok(value_size)
    }
}

fn check(buffer: MapBuffer, expected: usize, given: usize) -> Result<()> {
    if expected == given {
        Ok(())
    } else {
        Err(Error::BufferSize {
            buffer,
            expected,
            given,
        })
    }
}

fn times(count: u32, size: usize) -> Result<usize> {
    (count as usize)
        .checked_mul(size)
        .ok_or_else(|| Error::InvalidArgument(format!("{count} elements of {size} bytes overflow")))
}

/// A map's file descriptor with the sizes the kernel uses for its keys and
/// values, so that its element and batch operations are safe: each checks
/// its buffers and returns [`Error::BufferSize`] for a wrong length.
///
/// Made by [`map_create_sized`] (sizes from the attr) or from any map fd by
/// [`MapFd::from_fd`], [`MapFd::from_id`] or [`MapFd::from_pin`] (sizes from
/// the kernel's `bpf_map_info`). Maps without keys (queues, stacks, bloom
/// filters) take empty keys; per-CPU maps take one value per possible CPU,
/// each padded to 8 bytes ([`MapFd::value_buffer_size`]).
#[derive(Debug)]
pub struct MapFd {
    fd: OwnedFd,
    map_type: MapType,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    flags: u32,
    value_buffer_size: usize,
}

impl AsFd for MapFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl From<MapFd> for OwnedFd {
    fn from(map: MapFd) -> OwnedFd {
        map.fd
    }
}

/// `BPF_MAP_CREATE`: creates a map, like [`map_create`], and returns a
/// [`MapFd`] with the attr's sizes.
///
/// # Minimum kernel version
///
/// 3.19; each map type and flag has its own.
#[doc(alias = "BPF_MAP_CREATE")]
pub fn map_create_sized(attr: &MapCreateAttr<'_>) -> Result<MapFd> {
    let (map_type, key_size, value_size) = (attr.map_type, attr.key_size, attr.value_size);
    let (max_entries, flags) = (attr.max_entries, attr.map_flags);
    // Before the call, so that a per-CPU map is not created only to be closed.
    let value_buffer_size = value_buffer_size(map_type, value_size)?;
    let fd = map_create(attr)?;
    Ok(MapFd {
        fd,
        map_type,
        key_size,
        value_size,
        max_entries,
        flags,
        value_buffer_size,
    })
}

impl MapFd {
    /// Wraps the map fd `fd`, reading its sizes from the kernel
    /// (`BPF_OBJ_GET_INFO_BY_FD`, once).
    ///
    /// # Minimum kernel version
    ///
    /// 4.13.
    pub fn from_fd(fd: OwnedFd) -> Result<MapFd> {
        Self::from_fd_with_info(fd).map(|(map, _)| map)
    }

    /// Like [`MapFd::from_fd`], also returning the `bpf_map_info` it read.
    pub fn from_fd_with_info(fd: OwnedFd) -> Result<(MapFd, MapInfo)> {
        let info = map_info(&fd)?;
        let map = MapFd {
            fd,
            map_type: info.r#type,
            key_size: info.key_size,
            value_size: info.value_size,
            max_entries: info.max_entries,
            flags: info.map_flags,
            value_buffer_size: value_buffer_size(info.r#type, info.value_size)?,
        };
        Ok((map, info))
    }

    /// Opens the map with id `id` (`BPF_MAP_GET_FD_BY_ID`, with `open_flags`
    /// `BPF_F_RDONLY`, `BPF_F_WRONLY` or 0).
    ///
    /// # Minimum kernel version
    ///
    /// 4.13.
    pub fn from_id(id: u32, open_flags: u32) -> Result<MapFd> {
        Self::from_fd(map_get_fd_by_id(id, open_flags)?)
    }

    /// Opens the map pinned at `path` (`BPF_OBJ_GET`, with `file_flags`
    /// `BPF_F_RDONLY`, `BPF_F_WRONLY` or 0).
    ///
    /// # Minimum kernel version
    ///
    /// 4.13 (4.4 for the pin, 4.13 for the info).
    pub fn from_pin(path: impl AsRef<Path>, file_flags: u32) -> Result<MapFd> {
        Self::from_fd(obj_get(path, file_flags)?)
    }

    /// A second handle on the same map (`dup`).
    pub fn try_clone(&self) -> std::io::Result<MapFd> {
        Ok(MapFd {
            fd: self.fd.try_clone()?,
            ..*self
        })
    }

    /// The map type.
    pub fn map_type(&self) -> MapType {
        self.map_type
    }
    /// Key size in bytes (0: the map takes no key).
    pub fn key_size(&self) -> u32 {
        self.key_size
    }
    /// Value size in bytes (of one CPU's value, for per-CPU maps).
    pub fn value_size(&self) -> u32 {
        self.value_size
    }
    /// Maximum number of entries.
    pub fn max_entries(&self) -> u32 {
        self.max_entries
    }
    /// `BPF_F_*` map flags.
    pub fn flags(&self) -> u32 {
        self.flags
    }
    /// Whether the map keeps one value per possible CPU.
    pub fn is_per_cpu(&self) -> bool {
        is_per_cpu(self.map_type)
    }
    /// The size of a value buffer: the value size; per-CPU maps: the value
    /// size rounded up to 8, times [`possible_cpus`]; maps of fds
    /// (`PROG_ARRAY`, `PERF_EVENT_ARRAY`, `CGROUP_ARRAY`, maps of maps): 4.
    pub fn value_buffer_size(&self) -> usize {
        self.value_buffer_size
    }
    /// The size of the `in_batch` and `out_batch` tokens of the batch
    /// commands: the key size, at least 4 (hash maps use a bucket index).
    pub fn batch_token_size(&self) -> usize {
        (self.key_size as usize).max(4)
    }

    fn check_key(&self, buffer: MapBuffer, key: &[u8]) -> Result<()> {
        check(buffer, self.key_size as usize, key.len())
    }

    fn check_value(&self, value: &[u8]) -> Result<()> {
        check(MapBuffer::Value, self.value_buffer_size, value.len())
    }

    /// `BPF_MAP_LOOKUP_ELEM`: copies the value of `key` into `value` (queues
    /// and stacks: peeks, with an empty key). Fails with `ENOENT` when the key
    /// is absent.
    ///
    /// `key` has [`MapFd::key_size`] bytes and `value`
    /// [`MapFd::value_buffer_size`], else [`Error::BufferSize`].
    ///
    /// # Minimum kernel version
    ///
    /// 3.19; `BPF_F_LOCK` 5.1.
    #[doc(alias = "BPF_MAP_LOOKUP_ELEM")]
    pub fn lookup_elem(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<()> {
        self.check_key(MapBuffer::Key, key)?;
        self.check_value(value)?;
        // SAFETY: the kernel reads key_size bytes of key and writes
        // bpf_map_value_size() bytes of value; both lengths were just checked
        // against this map's sizes (module docs).
        unsafe { map_lookup_elem(&self.fd, key, value, flags) }
    }

    /// `BPF_MAP_UPDATE_ELEM`: creates or updates `key` (queues, stacks and
    /// bloom filters: pushes, with an empty key). Buffers as for
    /// [`MapFd::lookup_elem`].
    ///
    /// # Minimum kernel version
    ///
    /// 3.19.
    #[doc(alias = "BPF_MAP_UPDATE_ELEM")]
    pub fn update_elem(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        self.check_key(MapBuffer::Key, key)?;
        self.check_value(value)?;
        // SAFETY: the kernel reads key_size bytes of key and
        // bpf_map_value_size() bytes of value; both lengths were just checked.
        unsafe { map_update_elem(&self.fd, key, value, flags) }
    }

    /// `BPF_MAP_DELETE_ELEM`: deletes `key` (of [`MapFd::key_size`] bytes).
    /// Fails with `ENOENT` when the key is absent.
    ///
    /// # Minimum kernel version
    ///
    /// 3.19.
    #[doc(alias = "BPF_MAP_DELETE_ELEM")]
    pub fn delete_elem(&self, key: &[u8]) -> Result<()> {
        self.check_key(MapBuffer::Key, key)?;
        // SAFETY: the kernel reads key_size bytes of key; its length was just checked.
        unsafe { map_delete_elem(&self.fd, key) }
    }

    /// `BPF_MAP_LOOKUP_AND_DELETE_ELEM`: copies the value of `key` into
    /// `value` and deletes it (queues and stacks: pops, with an empty key).
    /// Buffers as for [`MapFd::lookup_elem`].
    ///
    /// # Minimum kernel version
    ///
    /// 4.20 (queue/stack); hash maps 5.14.
    #[doc(alias = "BPF_MAP_LOOKUP_AND_DELETE_ELEM")]
    pub fn lookup_and_delete_elem(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<()> {
        self.check_key(MapBuffer::Key, key)?;
        self.check_value(value)?;
        let key = (!key.is_empty()).then_some(key);
        // SAFETY: the kernel reads key_size bytes of key (none when it is 0,
        // the only case with no key) and writes bpf_map_value_size() bytes
        // of value; both lengths were just checked.
        unsafe { map_lookup_and_delete_elem(&self.fd, key, value, flags) }
    }

    /// `BPF_MAP_GET_NEXT_KEY`: writes the key after `key` (or the first key,
    /// for `None`) into `next_key`; `false` when there is no next key. Both
    /// have [`MapFd::key_size`] bytes.
    ///
    /// # Minimum kernel version
    ///
    /// 3.19; `None` for the first key 4.12.
    #[doc(alias = "BPF_MAP_GET_NEXT_KEY")]
    pub fn get_next_key(&self, key: Option<&[u8]>, next_key: &mut [u8]) -> Result<bool> {
        if let Some(key) = key {
            self.check_key(MapBuffer::Key, key)?;
        }
        self.check_key(MapBuffer::NextKey, next_key)?;
        // SAFETY: the kernel reads key_size bytes of key and writes key_size
        // bytes of next_key; both lengths were just checked.
        unsafe { map_get_next_key(&self.fd, key, next_key) }
    }

    fn check_batch(&self, b: &LookupBatch<'_>) -> Result<()> {
        let token = self.batch_token_size();
        if let Some(in_batch) = b.in_batch {
            check(MapBuffer::InBatch, token, in_batch.len())?;
        }
        check(MapBuffer::OutBatch, token, b.out_batch.len())?;
        check(
            MapBuffer::Keys,
            times(b.count, self.key_size as usize)?,
            b.keys.len(),
        )?;
        check(
            MapBuffer::Values,
            times(b.count, self.value_buffer_size)?,
            b.values.len(),
        )
    }

    /// `BPF_MAP_LOOKUP_BATCH`: copies up to `count` elements, starting after
    /// `in_batch`. `keys` holds `count` keys, `values` `count` values of
    /// [`MapFd::value_buffer_size`], the tokens [`MapFd::batch_token_size`]
    /// bytes; else [`Error::BufferSize`].
    ///
    /// # Minimum kernel version
    ///
    /// 5.6.
    #[doc(alias = "BPF_MAP_LOOKUP_BATCH")]
    pub fn lookup_batch(&self, batch: LookupBatch<'_>) -> Result<BatchResult> {
        self.check_batch(&batch)?;
        // SAFETY: the kernel writes at most count keys of key_size and values
        // of bpf_map_value_size() bytes, and reads and writes a u32 or a key
        // as token; all lengths were just checked.
        unsafe { map_lookup_batch(&self.fd, batch) }
    }

    /// `BPF_MAP_LOOKUP_AND_DELETE_BATCH`: like [`MapFd::lookup_batch`],
    /// deleting what it copies.
    ///
    /// # Minimum kernel version
    ///
    /// 5.6.
    #[doc(alias = "BPF_MAP_LOOKUP_AND_DELETE_BATCH")]
    pub fn lookup_and_delete_batch(&self, batch: LookupBatch<'_>) -> Result<BatchResult> {
        self.check_batch(&batch)?;
        // SAFETY: as in lookup_batch; all lengths were just checked.
        unsafe { map_lookup_and_delete_batch(&self.fd, batch) }
    }

    /// `BPF_MAP_UPDATE_BATCH`: creates or updates `count` elements from the
    /// concatenated `keys` and `values` (exactly `count` of each). Returns how
    /// many were processed; on error, the elements before the failing one were.
    ///
    /// # Minimum kernel version
    ///
    /// 5.6.
    #[doc(alias = "BPF_MAP_UPDATE_BATCH")]
    pub fn update_batch(
        &self,
        keys: &[u8],
        values: &[u8],
        count: u32,
        elem_flags: u64,
    ) -> Result<u32> {
        check(
            MapBuffer::Keys,
            times(count, self.key_size as usize)?,
            keys.len(),
        )?;
        check(
            MapBuffer::Values,
            times(count, self.value_buffer_size)?,
            values.len(),
        )?;
        // SAFETY: the kernel reads count keys of key_size and count values of
        // bpf_map_value_size() bytes; both lengths were just checked.
        unsafe { map_update_batch(&self.fd, keys, values, count, elem_flags) }
    }

    /// `BPF_MAP_DELETE_BATCH`: deletes the `count` concatenated `keys`.
    /// Returns how many were deleted.
    ///
    /// # Minimum kernel version
    ///
    /// 5.6.
    #[doc(alias = "BPF_MAP_DELETE_BATCH")]
    pub fn delete_batch(&self, keys: &[u8], count: u32, elem_flags: u64) -> Result<u32> {
        check(
            MapBuffer::Keys,
            times(count, self.key_size as usize)?,
            keys.len(),
        )?;
        // SAFETY: the kernel reads count keys of key_size; the length was just checked.
        unsafe { map_delete_batch(&self.fd, keys, count, elem_flags) }
    }

    /// `BPF_MAP_FREEZE`: makes the map read-only to user space from now on.
    ///
    /// # Minimum kernel version
    ///
    /// 5.2.
    #[doc(alias = "BPF_MAP_FREEZE")]
    pub fn freeze(&self) -> Result<()> {
        map_freeze(&self.fd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_size_error() {
        let e = check(MapBuffer::Value, 8, 3).unwrap_err();
        assert_eq!(e.to_string(), "value has 3 bytes, the map needs 8");
        assert_eq!(e.errno(), None);
        assert!(check(MapBuffer::Key, 0, 0).is_ok());
        assert!(times(u32::MAX, usize::MAX).is_err());
    }

    #[test]
    fn value_buffer_sizes() {
        assert_eq!(value_buffer_size(MapType::HASH, 12).unwrap(), 12);
        assert_eq!(value_buffer_size(MapType::RINGBUF, 0).unwrap(), 0);
        assert_eq!(value_buffer_size(MapType::PROG_ARRAY, 4).unwrap(), 4);
        let cpus = possible_cpus().unwrap();
        assert_eq!(
            value_buffer_size(MapType::PERCPU_ARRAY, 12).unwrap(),
            16 * cpus
        );
    }
}
