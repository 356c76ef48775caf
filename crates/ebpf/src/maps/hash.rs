//! Typed hash maps, arrays, LPM tries and bloom filters.

use std::marker::PhantomData;

use super::{Entries, Pod, decode, typed_view};
use crate::error::Result;
use crate::{Map, UpdateFlags};

/// The entries of a one-value-per-key map, decoded.
fn entries<K: Pod, V: Pod>(map: &Map) -> Entries<'_, K, V> {
    Entries::new(map, |bytes, _| decode::<V>(bytes))
}

macro_rules! key_value_map {
    ($(#[$doc:meta])* $ty:ident, $view:literal, [$($t:ident),+]) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $ty<K, V> {
            map: Map,
            _types: PhantomData<(K, V)>,
        }

        typed_view!($ty<K, V>, $view, [$($t),+], size_of::<K>(), size_of::<V>());

        impl<K: Pod, V: Pod> $ty<K, V> {
            /// The value of `key`, if present.
            #[doc(alias = "BPF_MAP_LOOKUP_ELEM")]
            pub fn get(&self, key: &K) -> Result<Option<V>> {
                self.map.get(key)
            }

            /// Sets `key` to `value` (`flags`: [`UpdateFlags::ANY`],
            /// `NO_EXIST` to only add, `EXIST` to only replace).
            #[doc(alias = "BPF_MAP_UPDATE_ELEM")]
            pub fn insert(&self, key: &K, value: &V, flags: UpdateFlags) -> Result<()> {
                self.map.put(key, value, flags)
            }

            /// Removes `key`; `false` if it was absent.
            #[doc(alias = "BPF_MAP_DELETE_ELEM")]
            pub fn remove(&self, key: &K) -> Result<bool> {
                self.map.remove(key)
            }

            /// Whether `key` is present.
            pub fn contains_key(&self, key: &K) -> Result<bool> {
                Ok(self.get(key)?.is_some())
            }

            /// The `(key, value)` entries, read in batches.
            pub fn iter(&self) -> Entries<'_, K, V> {
                entries(&self.map)
            }

            /// The keys.
            pub fn keys(&self) -> impl Iterator<Item = Result<K>> + '_ {
                self.iter().map(|e| e.map(|(k, _)| k))
            }
        }
    };
}

key_value_map!(
    /// A `BPF_MAP_TYPE_HASH` map with keys `K` and values `V`.
    ///
    /// # Minimum kernel version
    ///
    /// 3.19.
    #[doc(alias = "BPF_MAP_TYPE_HASH")]
    HashMap,
    "hash map",
    [HASH]
);

key_value_map!(
    /// A `BPF_MAP_TYPE_LRU_HASH` map: a hash map that evicts the least
    /// recently used entry when full.
    ///
    /// # Minimum kernel version
    ///
    /// 4.10.
    #[doc(alias = "BPF_MAP_TYPE_LRU_HASH")]
    LruHashMap,
    "LRU hash map",
    [LRU_HASH]
);

/// A key of an LPM trie: a prefix length in bits, then the data it applies to
/// (an address, most often, in network byte order), with no padding between
/// them, as the kernel's `struct bpf_lpm_trie_key_u8` lays them out.
#[derive(
    Clone,
    Copy,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
#[repr(C, packed)]
pub struct LpmKey<K> {
    /// How many leading bits of `data` the key matches.
    pub prefix_len: u32,
    /// The data.
    pub data: K,
}

impl<K: Copy + std::fmt::Debug> std::fmt::Debug for LpmKey<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (prefix_len, data) = (self.prefix_len, self.data);
        f.debug_struct("LpmKey")
            .field("prefix_len", &prefix_len)
            .field("data", &data)
            .finish()
    }
}

impl<K> LpmKey<K> {
    /// A key matching the first `prefix_len` bits of `data`.
    pub fn new(prefix_len: u32, data: K) -> Self {
        Self { prefix_len, data }
    }
}

key_value_map!(
    /// A `BPF_MAP_TYPE_LPM_TRIE` map (longest prefix match), with keys
    /// `LpmKey<D>` given as `K` (for an IPv4 trie: `HashMap`-like with
    /// `K = LpmKey<[u8; 4]>`).
    ///
    /// # Minimum kernel version
    ///
    /// 4.11.
    #[doc(alias = "BPF_MAP_TYPE_LPM_TRIE")]
    LpmTrie,
    "LPM trie",
    [LPM_TRIE]
);

/// A `BPF_MAP_TYPE_ARRAY` map of `V` values, indexed from 0.
///
/// # Minimum kernel version
///
/// 3.19.
#[doc(alias = "BPF_MAP_TYPE_ARRAY")]
#[derive(Debug)]
pub struct Array<V> {
    map: Map,
    _types: PhantomData<V>,
}

typed_view!(Array<V>, "array", [ARRAY], 4, size_of::<V>());

impl<V: Pod> Array<V> {
    /// The number of elements.
    pub fn len(&self) -> u32 {
        self.map.max_entries()
    }

    /// Whether the array has no elements (never, for a map the kernel made).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element at `index` (an error past the end).
    #[doc(alias = "BPF_MAP_LOOKUP_ELEM")]
    pub fn get(&self, index: u32) -> Result<V> {
        self.map.get(&index).and_then(|v| {
            v.ok_or_else(|| {
                crate::Error::map(self.map.name(), "lookup")(out_of_range(index, self.len()))
            })
        })
    }

    /// Sets the element at `index`.
    #[doc(alias = "BPF_MAP_UPDATE_ELEM")]
    pub fn set(&self, index: u32, value: &V) -> Result<()> {
        self.map.put(&index, value, UpdateFlags::ANY)
    }

    /// The elements in index order, read in batches.
    pub fn iter(&self) -> impl Iterator<Item = Result<V>> + '_ {
        entries::<u32, V>(&self.map).map(|e| e.map(|(_, v)| v))
    }
}

/// The error for an index past an array's end.
pub(super) fn out_of_range(index: u32, len: u32) -> crate::Error {
    crate::Error::InvalidArgument(format!("index {index} is past the end ({len} elements)"))
}

/// A `BPF_MAP_TYPE_BLOOM_FILTER` map of `V` values: membership with false
/// positives, no removal.
///
/// # Minimum kernel version
///
/// 5.16.
#[doc(alias = "BPF_MAP_TYPE_BLOOM_FILTER")]
#[derive(Debug)]
pub struct BloomFilter<V> {
    map: Map,
    _types: PhantomData<V>,
}

typed_view!(
    BloomFilter<V>,
    "bloom filter",
    [BLOOM_FILTER],
    0,
    size_of::<V>()
);

impl<V: Pod> BloomFilter<V> {
    /// Adds `value`.
    #[doc(alias = "BPF_MAP_PUSH_ELEM")]
    pub fn insert(&self, value: &V) -> Result<()> {
        self.map
            .update(&[], zerocopy::IntoBytes::as_bytes(value), UpdateFlags::ANY)
    }

    /// Whether `value` may have been added: `false` is certain, `true` may
    /// be a false positive.
    #[doc(alias = "BPF_MAP_LOOKUP_ELEM")]
    pub fn contains(&self, value: &V) -> Result<bool> {
        let mut buf = zerocopy::IntoBytes::as_bytes(value).to_vec();
        self.map.lookup_into(&[], &mut buf, UpdateFlags::ANY)
    }
}
