//! Typed views of maps: `HashMap<K, V>`, `Array<V>`, `PerCpuHashMap<K, V>`,
//! `Queue<V>`, `ProgramArray`, ... Each is made from a [`Map`] with
//! `TryFrom`, which checks the map's type and its key and value sizes once;
//! after that no call checks sizes again, and keys and values are plain Rust
//! types (any `zerocopy` Pod type: integers, arrays, `#[repr(C)]` structs
//! deriving [`zerocopy`]'s traits, re-exported as `ebpf::zerocopy`).
//!
//! ```no_run
//! use ebpf::maps::{Array, HashMap};
//! use ebpf::{Collection, CollectionOptions, CollectionSpec};
//!
//! let spec = CollectionSpec::from_file("testdata/loader-el.o")?;
//! let mut coll = Collection::load(&spec, CollectionOptions::default())?;
//! let counts: HashMap<u32, u64> = coll.take_map("counts")?.try_into()?;
//! counts.insert(&1, &10, ebpf::UpdateFlags::ANY)?;
//! for entry in counts.iter() {
//!     let (pid, n) = entry?;
//!     println!("{pid}: {n}");
//! }
//! let config: Array<u32> = coll.take_map("config")?.try_into()?;
//! config.set(0, &7)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Iterating reads entries in batches (`BPF_MAP_LOOKUP_BATCH`, 5.6) into
//! buffers allocated once per iterator, falling back to one key at a time
//! where the kernel or map type has no batch lookup: nothing is allocated per
//! entry (but per-CPU values, one `V` per possible CPU).

mod entries;
mod fd_maps;
mod hash;
mod percpu;
mod queue;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::error::{Error, Result};
use crate::{Map, MapType};

pub use entries::Entries;
pub use fd_maps::{
    ArrayOfMaps, CpuMap, DevMap, HashOfMaps, ProgramArray, SockHash, SockMap, StackTrace, XskMap,
};
pub use hash::{Array, BloomFilter, HashMap, LpmKey, LpmTrie, LruHashMap};
pub use percpu::{LruPerCpuHashMap, PerCpuArray, PerCpuHashMap, PerCpuValues};
pub use queue::{Queue, Stack};

/// A plain-data type that can be a map key or value: any bit pattern is a
/// valid value and it has no padding bytes (derive zerocopy's `FromBytes`,
/// `IntoBytes`, `Immutable` and `KnownLayout` on a `#[repr(C)]` struct).
pub trait Pod: FromBytes + IntoBytes + Immutable + KnownLayout {}

impl<T: FromBytes + IntoBytes + Immutable + KnownLayout> Pod for T {}

/// Checks that `map` is of one of `types` and has `key`-byte keys and
/// `value`-byte values; the error names the map, the view and what differs.
fn check(map: &Map, view: &'static str, types: &[MapType], key: usize, value: usize) -> Result<()> {
    let mut diff = Vec::new();
    if !types.contains(&map.map_type()) {
        let want: Vec<String> = types.iter().map(ToString::to_string).collect();
        diff.push(format!(
            "its type is {}, not {}",
            map.map_type(),
            want.join(" or ")
        ));
    }
    if map.key_size() as usize != key {
        diff.push(format!(
            "its keys have {} bytes, the key type {key}",
            map.key_size()
        ));
    }
    if map.value_size() as usize != value {
        diff.push(format!(
            "its values have {} bytes, the value type {value}",
            map.value_size()
        ));
    }
    if diff.is_empty() {
        Ok(())
    } else {
        Err(Error::map(map.name(), view)(Error::InvalidArgument(
            diff.join("; "),
        )))
    }
}

/// Decodes a `T` from the start of `bytes` (sizes were checked at construction).
fn decode<T: Pod>(bytes: &[u8]) -> T {
    T::read_from_prefix(bytes)
        .map(|(v, _)| v)
        .unwrap_or_else(|_| T::new_zeroed())
}

/// Implements what every typed view has: `TryFrom<Map>`, `map()`, `into_inner()`.
macro_rules! typed_view {
    ($ty:ident < $($p:ident),* >, $view:literal, [$($t:ident),+], $key:expr, $value:expr) => {
        impl<$($p: crate::maps::Pod),*> TryFrom<crate::Map> for $ty<$($p),*> {
            type Error = crate::error::Error;
            fn try_from(map: crate::Map) -> crate::error::Result<Self> {
                crate::maps::check(&map, $view, &[$(crate::MapType::$t),+], $key, $value)?;
                Ok(Self { map, _types: std::marker::PhantomData })
            }
        }

        impl<$($p: crate::maps::Pod),*> $ty<$($p),*> {
            /// The underlying map.
            pub fn map(&self) -> &crate::Map {
                &self.map
            }

            /// The underlying map, giving up the view.
            pub fn into_inner(self) -> crate::Map {
                self.map
            }
        }

        impl<$($p: crate::maps::Pod),*> std::os::fd::AsFd for $ty<$($p),*> {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(&self.map)
            }
        }
    };
    ($ty:ident, $view:literal, [$($t:ident),+], $key:expr, $value:expr) => {
        impl TryFrom<crate::Map> for $ty {
            type Error = crate::error::Error;
            fn try_from(map: crate::Map) -> crate::error::Result<Self> {
                crate::maps::check(&map, $view, &[$(crate::MapType::$t),+], $key, $value)?;
                Ok(Self { map })
            }
        }

        impl $ty {
            /// The underlying map.
            pub fn map(&self) -> &crate::Map {
                &self.map
            }

            /// The underlying map, giving up the view.
            pub fn into_inner(self) -> crate::Map {
                self.map
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(&self.map)
            }
        }
    };
}
use typed_view;
