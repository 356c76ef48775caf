//! [`MapSpec`]: everything needed to create a map, as plain editable data.
//!
//! ```
//! use ebpf_spec::{MapEntry, MapKey, MapSpec, MapType, MapValue};
//! let mut m = MapSpec::new("counts", MapType::ARRAY, 4, 8, 16);
//! m.contents.push(MapEntry { key: MapKey::Index(0), value: MapValue::Bytes(vec![0; 8].into()) });
//! let copy = m.clone();
//! assert_eq!(copy, m);
//! ```

use std::collections::BTreeMap;

use ebpf_btf::TypeId;

use ebpf_abi::MapType;

use crate::value_bytes::ValueBytes;

/// `BPF_F_NO_PREALLOC`.
pub const MAP_FLAG_NO_PREALLOC: u32 = 1 << 0;
/// `BPF_F_RDONLY_PROG`: programs may only read the map.
#[doc(alias = "BPF_F_RDONLY_PROG")]
pub const MAP_FLAG_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_MMAPABLE`.
#[doc(alias = "BPF_F_MMAPABLE")]
pub const MAP_FLAG_MMAPABLE: u32 = 1 << 10;

/// How a map is pinned (libbpf's `enum libbpf_pin_type`).
#[doc(alias = "libbpf_pin_type")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PinType {
    /// Not pinned (`LIBBPF_PIN_NONE`).
    #[default]
    None,
    /// Pinned by name under the pin path (`LIBBPF_PIN_BY_NAME`).
    ByName,
}

/// The key of an initial map entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MapKey {
    /// An array index (prog arrays, arrays of maps, data sections).
    Index(u32),
    /// Raw key bytes, in the object's byte order.
    Bytes(Vec<u8>),
}

/// The value of an initial map entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MapValue {
    /// Raw value bytes, in the object's byte order (a `.bss`'s zeros allocated on first
    /// access).
    Bytes(ValueBytes),
    /// The program of that name (prog arrays).
    Program(String),
    /// The map of that name (maps of maps).
    Map(String),
}

/// One initial entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MapEntry {
    /// The key.
    pub key: MapKey,
    /// The value.
    pub value: MapValue,
}

/// A `.struct_ops` / `.struct_ops.link` variable: the kernel struct it implements, its raw
/// bytes and the programs its function pointers name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StructOpsSpec {
    /// The name of the struct type (`tcp_congestion_ops`).
    pub type_name: String,
    /// The struct type in the object's BTF.
    pub type_id: TypeId,
    /// The variable's bytes as the object initialises them (function pointers are zero).
    pub data: Vec<u8>,
    /// Function pointer members: byte offset in `data` → program name.
    pub programs: BTreeMap<u32, String>,
    /// Whether the variable was in `.struct_ops.link` (attached through a BPF link).
    pub link: bool,
}

/// A map, as described by an object file, editable before load.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MapSpec {
    /// The name (the symbol, or the section name for global data).
    pub name: String,
    /// The ELF section the map came from (`.maps`, `maps`, `.data`, `.kconfig`, ...).
    pub section: String,
    /// The map type.
    pub map_type: MapType,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries (0 for perf event arrays: one per CPU at load time).
    pub max_entries: u32,
    /// `map_flags` (`BPF_F_*`).
    pub flags: u32,
    /// NUMA node (only with `BPF_F_NUMA_NODE`).
    pub numa_node: u32,
    /// Pinning.
    pub pinning: PinType,
    /// `map_extra` (bloom filter hashes, arena address).
    pub map_extra: u64,
    /// The key type in the object's BTF.
    pub key_type: Option<TypeId>,
    /// The value type in the object's BTF (the datasec for global data).
    pub value_type: Option<TypeId>,
    /// The inner map template of a map of maps.
    pub inner_map: Option<Box<MapSpec>>,
    /// Initial contents.
    pub contents: Vec<MapEntry>,
    /// Whether the map is frozen after its contents are written (`.rodata`, `.kconfig`).
    pub freeze: bool,
    /// A struct_ops map's variable.
    pub struct_ops: Option<StructOpsSpec>,
}

impl MapSpec {
    /// A map with the given shape and nothing else set.
    pub fn new(
        name: impl Into<String>,
        map_type: MapType,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
    ) -> Self {
        MapSpec {
            name: name.into(),
            map_type,
            key_size,
            value_size,
            max_entries,
            ..MapSpec::default()
        }
    }

    /// The bytes of the single value of a global data map (`.data`, `.rodata`, `.bss`,
    /// `.kconfig`), if this is one.
    pub fn data(&self) -> Option<&[u8]> {
        self.data_bytes().map(|b| b.as_slice())
    }

    /// The value of a global data map, like [`data`](MapSpec::data) but without making
    /// zeros not accessed yet ([`ValueBytes::is_unmade_zeros`]).
    pub fn data_bytes(&self) -> Option<&ValueBytes> {
        match self.contents.first() {
            Some(MapEntry {
                key: MapKey::Index(0),
                value: MapValue::Bytes(b),
            }) if self.contents.len() == 1 => Some(b),
            _ => None,
        }
    }

    /// Mutable access to the bytes of a global data map.
    pub fn data_mut(&mut self) -> Option<&mut Vec<u8>> {
        if self.contents.len() != 1 {
            return None;
        }
        match self.contents.first_mut() {
            Some(MapEntry {
                key: MapKey::Index(0),
                value: MapValue::Bytes(b),
            }) => Some(b),
            _ => None,
        }
    }
}
