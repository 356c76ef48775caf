//! Maps whose values are kernel objects: programs, maps, sockets, devices,
//! and stack traces.

use std::os::fd::AsFd;

use super::typed_view;
use crate::error::{Error, Result};
use crate::{Map, MapType, Program, UpdateFlags};

/// A `BPF_MAP_TYPE_PROG_ARRAY`: the programs `bpf_tail_call` jumps to, by index.
///
/// # Minimum kernel version
///
/// 4.2.
#[doc(alias = "BPF_MAP_TYPE_PROG_ARRAY")]
#[derive(Debug)]
pub struct ProgramArray {
    map: Map,
}

typed_view!(ProgramArray, "program array", [PROG_ARRAY], 4, 4);

impl ProgramArray {
    /// Puts `program` at `index`.
    pub fn set(&self, index: u32, program: &Program) -> Result<()> {
        self.map.set_fd(&index.to_ne_bytes(), program)
    }

    /// Empties slot `index`; `false` if it was empty.
    pub fn clear(&self, index: u32) -> Result<bool> {
        self.map.delete(&index.to_ne_bytes())
    }

    /// The id of the program at `index`, if any.
    pub fn program_id(&self, index: u32) -> Result<Option<u32>> {
        self.map.get::<u32, u32>(&index)
    }
}

/// Implements a map of kernel objects keyed by `$key`: `set(key, fd)`,
/// `remove(key)` and, where the kernel reports one, the id at a key.
macro_rules! fd_map {
    ($(#[$doc:meta])* $ty:ident, $view:literal, [$($t:ident),+], $key:ty, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $ty {
            map: Map,
        }

        typed_view!($ty, $view, [$($t),+], size_of::<$key>(), 4);

        impl $ty {
            #[doc = concat!("Puts ", $what, " at `key`.")]
            pub fn set(&self, key: &$key, value: impl AsFd) -> Result<()> {
                self.map.set_fd(zerocopy::IntoBytes::as_bytes(key), value)
            }

            /// Removes `key`; `false` if it was absent.
            pub fn remove(&self, key: &$key) -> Result<bool> {
                self.map.remove(key)
            }
        }
    };
}

fd_map!(
    /// A `BPF_MAP_TYPE_ARRAY_OF_MAPS`: inner maps by index.
    ///
    /// # Minimum kernel version
    ///
    /// 4.12.
    #[doc(alias = "BPF_MAP_TYPE_ARRAY_OF_MAPS")]
    ArrayOfMaps,
    "array of maps",
    [ARRAY_OF_MAPS],
    u32,
    "an inner map (of the outer map's inner template's kind)"
);

/// A `BPF_MAP_TYPE_HASH_OF_MAPS`: inner maps by key `K`.
///
/// # Minimum kernel version
///
/// 4.12.
#[doc(alias = "BPF_MAP_TYPE_HASH_OF_MAPS")]
#[derive(Debug)]
pub struct HashOfMaps<K> {
    map: Map,
    _types: std::marker::PhantomData<K>,
}

typed_view!(
    HashOfMaps<K>,
    "hash of maps",
    [HASH_OF_MAPS],
    size_of::<K>(),
    4
);

impl<K: super::Pod> HashOfMaps<K> {
    /// Puts inner map `map` at `key`.
    pub fn set(&self, key: &K, map: &Map) -> Result<()> {
        self.map.set_fd(zerocopy::IntoBytes::as_bytes(key), map)
    }

    /// Removes `key`; `false` if it was absent.
    pub fn remove(&self, key: &K) -> Result<bool> {
        self.map.remove(key)
    }

    /// The id of the inner map at `key`, if any.
    pub fn map_id(&self, key: &K) -> Result<Option<u32>> {
        self.map.get::<K, u32>(key)
    }
}

fd_map!(
    /// A `BPF_MAP_TYPE_SOCKMAP`: sockets by index, for sk_msg and sk_skb
    /// programs to redirect to.
    ///
    /// # Minimum kernel version
    ///
    /// 4.14.
    #[doc(alias = "BPF_MAP_TYPE_SOCKMAP")]
    SockMap,
    "sockmap",
    [SOCKMAP],
    u32,
    "a socket (its fd)"
);

/// A `BPF_MAP_TYPE_SOCKHASH`: sockets by key `K`.
///
/// # Minimum kernel version
///
/// 4.18.
#[doc(alias = "BPF_MAP_TYPE_SOCKHASH")]
#[derive(Debug)]
pub struct SockHash<K> {
    map: Map,
    _types: std::marker::PhantomData<K>,
}

typed_view!(SockHash<K>, "sockhash", [SOCKHASH], size_of::<K>(), 4);

impl<K: super::Pod> SockHash<K> {
    /// Puts the socket `socket` at `key`.
    pub fn set(&self, key: &K, socket: impl AsFd) -> Result<()> {
        self.map.set_fd(zerocopy::IntoBytes::as_bytes(key), socket)
    }

    /// Removes `key`; `false` if it was absent.
    pub fn remove(&self, key: &K) -> Result<bool> {
        self.map.remove(key)
    }
}

/// Implements a map of `u32` values by `u32` index (devices, CPUs, queues).
macro_rules! index_map {
    ($(#[$doc:meta])* $ty:ident, $view:literal, [$($t:ident),+], $value:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $ty {
            map: Map,
        }

        typed_view!($ty, $view, [$($t),+], 4, 4);

        impl $ty {
            #[doc = concat!("Sets slot `index` to ", $value, ".")]
            pub fn set(&self, index: u32, value: u32) -> Result<()> {
                self.map.put(&index, &value, UpdateFlags::ANY)
            }

            /// The value at `index`, if set.
            pub fn get(&self, index: u32) -> Result<Option<u32>> {
                self.map.get(&index)
            }

            /// Clears slot `index`; `false` if it was empty.
            pub fn remove(&self, index: u32) -> Result<bool> {
                self.map.remove(&index)
            }
        }
    };
}

index_map!(
    /// A `BPF_MAP_TYPE_DEVMAP`: interfaces (by ifindex) for XDP redirects.
    ///
    /// # Minimum kernel version
    ///
    /// 4.14.
    #[doc(alias = "BPF_MAP_TYPE_DEVMAP")]
    DevMap,
    "devmap",
    [DEVMAP],
    "the interface with ifindex `value`"
);

index_map!(
    /// A `BPF_MAP_TYPE_CPUMAP`: CPUs for XDP redirects, each with a queue size.
    ///
    /// # Minimum kernel version
    ///
    /// 4.15.
    #[doc(alias = "BPF_MAP_TYPE_CPUMAP")]
    CpuMap,
    "cpumap",
    [CPUMAP],
    "CPU `index` with a queue of `value` packets"
);

fd_map!(
    /// A `BPF_MAP_TYPE_XSKMAP`: AF_XDP sockets by receive queue index.
    ///
    /// # Minimum kernel version
    ///
    /// 4.18.
    #[doc(alias = "BPF_MAP_TYPE_XSKMAP")]
    XskMap,
    "xskmap",
    [XSKMAP],
    u32,
    "an AF_XDP socket (its fd)"
);

/// A `BPF_MAP_TYPE_STACK_TRACE`: the stacks `bpf_get_stackid` recorded, as
/// instruction pointers, by stack id.
///
/// # Minimum kernel version
///
/// 4.6.
#[doc(alias = "BPF_MAP_TYPE_STACK_TRACE")]
#[derive(Debug)]
pub struct StackTrace {
    map: Map,
}

impl TryFrom<Map> for StackTrace {
    type Error = Error;
    fn try_from(map: Map) -> Result<Self> {
        // Values are `max_depth` u64 addresses: any multiple of 8.
        let depth = map.value_size() as usize / 8;
        super::check(
            &map,
            "stack trace map",
            &[MapType::STACK_TRACE],
            4,
            depth * 8,
        )?;
        Ok(Self { map })
    }
}

impl StackTrace {
    /// The underlying map.
    pub fn map(&self) -> &Map {
        &self.map
    }

    /// The underlying map, giving up the view.
    pub fn into_inner(self) -> Map {
        self.map
    }

    /// The instruction pointers of stack `id`, innermost first (trailing
    /// zeros dropped), if the map holds it.
    pub fn get(&self, id: u32) -> Result<Option<Vec<u64>>> {
        let Some(bytes) = self.map.lookup(&id.to_ne_bytes())? else {
            return Ok(None);
        };
        let ips = bytes
            .chunks_exact(8)
            .map(|c| u64::from_ne_bytes(c.try_into().unwrap_or([0; 8])))
            .take_while(|&ip| ip != 0)
            .collect();
        Ok(Some(ips))
    }

    /// Removes stack `id`; `false` if absent.
    pub fn remove(&self, id: u32) -> Result<bool> {
        self.map.delete(&id.to_ne_bytes())
    }
}
