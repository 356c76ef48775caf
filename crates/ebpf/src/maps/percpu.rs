//! Typed per-CPU maps: one value per possible CPU under each key.

use std::marker::PhantomData;
use std::ops::Deref;

use super::{Entries, Pod, decode, typed_view};
use crate::error::Result;
use crate::{Map, UpdateFlags};

/// The values of one key of a per-CPU map, indexed by CPU number (one per
/// *possible* CPU, online or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerCpuValues<V>(Vec<V>);

impl<V> PerCpuValues<V> {
    /// Values for the CPUs in order; there must be one per possible CPU.
    pub fn new(values: Vec<V>) -> Self {
        Self(values)
    }

    /// The values, by CPU.
    pub fn into_inner(self) -> Vec<V> {
        self.0
    }
}

impl<V> Deref for PerCpuValues<V> {
    type Target = [V];
    fn deref(&self) -> &[V] {
        &self.0
    }
}

impl<V: Copy + std::iter::Sum<V>> PerCpuValues<V> {
    /// The sum over every CPU (a per-CPU counter's total).
    pub fn sum(&self) -> V {
        self.0.iter().copied().sum()
    }
}

/// Decodes a per-CPU value buffer: `cpus` values, each 8-byte aligned.
fn decode_values<V: Pod>(bytes: &[u8], len: usize) -> PerCpuValues<V> {
    let stride = size_of::<V>().next_multiple_of(8).max(8);
    PerCpuValues(
        (0..len / stride)
            .map(|cpu| decode::<V>(&bytes[cpu * stride..]))
            .collect(),
    )
}

/// The bytes of each CPU's value (the map checks there is one per CPU).
fn value_bytes<V: Pod>(values: &[V]) -> Vec<&[u8]> {
    values.iter().map(zerocopy::IntoBytes::as_bytes).collect()
}

macro_rules! per_cpu_hash {
    ($(#[$doc:meta])* $ty:ident, $view:literal, [$($t:ident),+]) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $ty<K, V> {
            map: Map,
            _types: PhantomData<(K, V)>,
        }

        typed_view!($ty<K, V>, $view, [$($t),+], size_of::<K>(), size_of::<V>());

        impl<K: Pod, V: Pod> $ty<K, V> {
            /// The values of `key` on every possible CPU, if present.
            #[doc(alias = "BPF_MAP_LOOKUP_ELEM")]
            pub fn get(&self, key: &K) -> Result<Option<PerCpuValues<V>>> {
                Ok(self.map.get_percpu::<K, V>(key)?.map(PerCpuValues))
            }

            /// Sets `key` to `values`, one per possible CPU.
            #[doc(alias = "BPF_MAP_UPDATE_ELEM")]
            pub fn insert(&self, key: &K, values: &[V], flags: UpdateFlags) -> Result<()> {
                let bytes = value_bytes(values);
                self.map.update_percpu(zerocopy::IntoBytes::as_bytes(key), &bytes, flags)
            }

            /// Removes `key`; `false` if it was absent.
            #[doc(alias = "BPF_MAP_DELETE_ELEM")]
            pub fn remove(&self, key: &K) -> Result<bool> {
                self.map.remove(key)
            }

            /// The `(key, values)` entries, read in batches.
            pub fn iter(&self) -> Entries<'_, K, PerCpuValues<V>> {
                Entries::new(&self.map, decode_values::<V>)
            }
        }
    };
}

per_cpu_hash!(
    /// A `BPF_MAP_TYPE_PERCPU_HASH` map: a hash map with one `V` per possible
    /// CPU under each key.
    ///
    /// # Minimum kernel version
    ///
    /// 4.6.
    #[doc(alias = "BPF_MAP_TYPE_PERCPU_HASH")]
    PerCpuHashMap,
    "per-CPU hash map",
    [PERCPU_HASH]
);

per_cpu_hash!(
    /// A `BPF_MAP_TYPE_LRU_PERCPU_HASH` map.
    ///
    /// # Minimum kernel version
    ///
    /// 4.10.
    #[doc(alias = "BPF_MAP_TYPE_LRU_PERCPU_HASH")]
    LruPerCpuHashMap,
    "LRU per-CPU hash map",
    [LRU_PERCPU_HASH]
);

/// A `BPF_MAP_TYPE_PERCPU_ARRAY` map: an array with one `V` per possible CPU
/// in each element.
///
/// # Minimum kernel version
///
/// 4.6.
#[doc(alias = "BPF_MAP_TYPE_PERCPU_ARRAY")]
#[derive(Debug)]
pub struct PerCpuArray<V> {
    map: Map,
    _types: PhantomData<V>,
}

typed_view!(
    PerCpuArray<V>,
    "per-CPU array",
    [PERCPU_ARRAY],
    4,
    size_of::<V>()
);

impl<V: Pod> PerCpuArray<V> {
    /// The number of elements.
    pub fn len(&self) -> u32 {
        self.map.max_entries()
    }

    /// Whether the array has no elements (never, for a map the kernel made).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of element `index` on every possible CPU.
    #[doc(alias = "BPF_MAP_LOOKUP_ELEM")]
    pub fn get(&self, index: u32) -> Result<PerCpuValues<V>> {
        match self.map.get_percpu::<u32, V>(&index)? {
            Some(v) => Ok(PerCpuValues(v)),
            None => Err(crate::Error::map(self.map.name(), "lookup")(
                super::hash::out_of_range(index, self.len()),
            )),
        }
    }

    /// Sets element `index` to `values`, one per possible CPU.
    #[doc(alias = "BPF_MAP_UPDATE_ELEM")]
    pub fn set(&self, index: u32, values: &[V]) -> Result<()> {
        let bytes = value_bytes(values);
        self.map
            .update_percpu(&index.to_ne_bytes(), &bytes, UpdateFlags::ANY)
    }

    /// The elements in index order, read in batches.
    pub fn iter(&self) -> impl Iterator<Item = Result<PerCpuValues<V>>> + '_ {
        Entries::<u32, PerCpuValues<V>>::new(&self.map, decode_values::<V>)
            .map(|e| e.map(|(_, v)| v))
    }
}
