//! Map types, with the kernel's numeric values (`enum bpf_map_type`).
//!
//! A newtype rather than an enum, so an object naming a map type newer than this crate
//! still opens.
//!
//! ```
//! use ebpf_spec::MapType;
//! assert_eq!(MapType::HASH.0, 1);
//! assert_eq!(MapType::RINGBUF.kernel_name(), Some("BPF_MAP_TYPE_RINGBUF"));
//! assert_eq!(format!("{:?}", MapType(1000)), "MapType(1000)");
//! assert_eq!(MapType::LRU_HASH.to_string(), "lru_hash");
//! ```

use std::fmt;

/// The type of a BPF map (`enum bpf_map_type`).
#[doc(alias = "bpf_map_type")]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MapType(pub u32);

impl MapType {
    /// `BPF_MAP_TYPE_UNSPEC`.
    #[doc(alias = "BPF_MAP_TYPE_UNSPEC")]
    pub const UNSPECIFIED: MapType = MapType(0);
    /// `BPF_MAP_TYPE_HASH`.
    #[doc(alias = "BPF_MAP_TYPE_HASH")]
    pub const HASH: MapType = MapType(1);
    /// `BPF_MAP_TYPE_ARRAY`.
    #[doc(alias = "BPF_MAP_TYPE_ARRAY")]
    pub const ARRAY: MapType = MapType(2);
    /// `BPF_MAP_TYPE_PROG_ARRAY`.
    #[doc(alias = "BPF_MAP_TYPE_PROG_ARRAY")]
    pub const PROG_ARRAY: MapType = MapType(3);
    /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`.
    #[doc(alias = "BPF_MAP_TYPE_PERF_EVENT_ARRAY")]
    pub const PERF_EVENT_ARRAY: MapType = MapType(4);
    /// `BPF_MAP_TYPE_PERCPU_HASH`.
    #[doc(alias = "BPF_MAP_TYPE_PERCPU_HASH")]
    pub const PERCPU_HASH: MapType = MapType(5);
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`.
    #[doc(alias = "BPF_MAP_TYPE_PERCPU_ARRAY")]
    pub const PERCPU_ARRAY: MapType = MapType(6);
    /// `BPF_MAP_TYPE_STACK_TRACE`.
    #[doc(alias = "BPF_MAP_TYPE_STACK_TRACE")]
    pub const STACK_TRACE: MapType = MapType(7);
    /// `BPF_MAP_TYPE_CGROUP_ARRAY`.
    #[doc(alias = "BPF_MAP_TYPE_CGROUP_ARRAY")]
    pub const CGROUP_ARRAY: MapType = MapType(8);
    /// `BPF_MAP_TYPE_LRU_HASH`.
    #[doc(alias = "BPF_MAP_TYPE_LRU_HASH")]
    pub const LRU_HASH: MapType = MapType(9);
    /// `BPF_MAP_TYPE_LRU_PERCPU_HASH`.
    #[doc(alias = "BPF_MAP_TYPE_LRU_PERCPU_HASH")]
    pub const LRU_PERCPU_HASH: MapType = MapType(10);
    /// `BPF_MAP_TYPE_LPM_TRIE`.
    #[doc(alias = "BPF_MAP_TYPE_LPM_TRIE")]
    pub const LPM_TRIE: MapType = MapType(11);
    /// `BPF_MAP_TYPE_ARRAY_OF_MAPS`.
    #[doc(alias = "BPF_MAP_TYPE_ARRAY_OF_MAPS")]
    pub const ARRAY_OF_MAPS: MapType = MapType(12);
    /// `BPF_MAP_TYPE_HASH_OF_MAPS`.
    #[doc(alias = "BPF_MAP_TYPE_HASH_OF_MAPS")]
    pub const HASH_OF_MAPS: MapType = MapType(13);
    /// `BPF_MAP_TYPE_DEVMAP`.
    #[doc(alias = "BPF_MAP_TYPE_DEVMAP")]
    pub const DEVMAP: MapType = MapType(14);
    /// `BPF_MAP_TYPE_SOCKMAP`.
    #[doc(alias = "BPF_MAP_TYPE_SOCKMAP")]
    pub const SOCKMAP: MapType = MapType(15);
    /// `BPF_MAP_TYPE_CPUMAP`.
    #[doc(alias = "BPF_MAP_TYPE_CPUMAP")]
    pub const CPUMAP: MapType = MapType(16);
    /// `BPF_MAP_TYPE_XSKMAP`.
    #[doc(alias = "BPF_MAP_TYPE_XSKMAP")]
    pub const XSKMAP: MapType = MapType(17);
    /// `BPF_MAP_TYPE_SOCKHASH`.
    #[doc(alias = "BPF_MAP_TYPE_SOCKHASH")]
    pub const SOCKHASH: MapType = MapType(18);
    /// `BPF_MAP_TYPE_CGROUP_STORAGE`.
    #[doc(alias = "BPF_MAP_TYPE_CGROUP_STORAGE")]
    pub const CGROUP_STORAGE: MapType = MapType(19);
    /// `BPF_MAP_TYPE_REUSEPORT_SOCKARRAY`.
    #[doc(alias = "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY")]
    pub const REUSEPORT_SOCKARRAY: MapType = MapType(20);
    /// `BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE`.
    #[doc(alias = "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE")]
    pub const PERCPU_CGROUP_STORAGE: MapType = MapType(21);
    /// `BPF_MAP_TYPE_QUEUE`.
    #[doc(alias = "BPF_MAP_TYPE_QUEUE")]
    pub const QUEUE: MapType = MapType(22);
    /// `BPF_MAP_TYPE_STACK`.
    #[doc(alias = "BPF_MAP_TYPE_STACK")]
    pub const STACK: MapType = MapType(23);
    /// `BPF_MAP_TYPE_SK_STORAGE`.
    #[doc(alias = "BPF_MAP_TYPE_SK_STORAGE")]
    pub const SK_STORAGE: MapType = MapType(24);
    /// `BPF_MAP_TYPE_DEVMAP_HASH`.
    #[doc(alias = "BPF_MAP_TYPE_DEVMAP_HASH")]
    pub const DEVMAP_HASH: MapType = MapType(25);
    /// `BPF_MAP_TYPE_STRUCT_OPS`.
    #[doc(alias = "BPF_MAP_TYPE_STRUCT_OPS")]
    pub const STRUCT_OPS: MapType = MapType(26);
    /// `BPF_MAP_TYPE_RINGBUF`.
    #[doc(alias = "BPF_MAP_TYPE_RINGBUF")]
    pub const RINGBUF: MapType = MapType(27);
    /// `BPF_MAP_TYPE_INODE_STORAGE`.
    #[doc(alias = "BPF_MAP_TYPE_INODE_STORAGE")]
    pub const INODE_STORAGE: MapType = MapType(28);
    /// `BPF_MAP_TYPE_TASK_STORAGE`.
    #[doc(alias = "BPF_MAP_TYPE_TASK_STORAGE")]
    pub const TASK_STORAGE: MapType = MapType(29);
    /// `BPF_MAP_TYPE_BLOOM_FILTER`.
    #[doc(alias = "BPF_MAP_TYPE_BLOOM_FILTER")]
    pub const BLOOM_FILTER: MapType = MapType(30);
    /// `BPF_MAP_TYPE_USER_RINGBUF`.
    #[doc(alias = "BPF_MAP_TYPE_USER_RINGBUF")]
    pub const USER_RINGBUF: MapType = MapType(31);
    /// `BPF_MAP_TYPE_CGRP_STORAGE`.
    #[doc(alias = "BPF_MAP_TYPE_CGRP_STORAGE")]
    pub const CGRP_STORAGE: MapType = MapType(32);
    /// `BPF_MAP_TYPE_ARENA`.
    #[doc(alias = "BPF_MAP_TYPE_ARENA")]
    pub const ARENA: MapType = MapType(33);
    /// `BPF_MAP_TYPE_INSN_ARRAY`.
    #[doc(alias = "BPF_MAP_TYPE_INSN_ARRAY")]
    pub const INSN_ARRAY: MapType = MapType(34);

    /// The kernel's name (`BPF_MAP_TYPE_HASH`), if this crate knows the value.
    pub const fn kernel_name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "BPF_MAP_TYPE_UNSPEC",
            1 => "BPF_MAP_TYPE_HASH",
            2 => "BPF_MAP_TYPE_ARRAY",
            3 => "BPF_MAP_TYPE_PROG_ARRAY",
            4 => "BPF_MAP_TYPE_PERF_EVENT_ARRAY",
            5 => "BPF_MAP_TYPE_PERCPU_HASH",
            6 => "BPF_MAP_TYPE_PERCPU_ARRAY",
            7 => "BPF_MAP_TYPE_STACK_TRACE",
            8 => "BPF_MAP_TYPE_CGROUP_ARRAY",
            9 => "BPF_MAP_TYPE_LRU_HASH",
            10 => "BPF_MAP_TYPE_LRU_PERCPU_HASH",
            11 => "BPF_MAP_TYPE_LPM_TRIE",
            12 => "BPF_MAP_TYPE_ARRAY_OF_MAPS",
            13 => "BPF_MAP_TYPE_HASH_OF_MAPS",
            14 => "BPF_MAP_TYPE_DEVMAP",
            15 => "BPF_MAP_TYPE_SOCKMAP",
            16 => "BPF_MAP_TYPE_CPUMAP",
            17 => "BPF_MAP_TYPE_XSKMAP",
            18 => "BPF_MAP_TYPE_SOCKHASH",
            19 => "BPF_MAP_TYPE_CGROUP_STORAGE",
            20 => "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY",
            21 => "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE",
            22 => "BPF_MAP_TYPE_QUEUE",
            23 => "BPF_MAP_TYPE_STACK",
            24 => "BPF_MAP_TYPE_SK_STORAGE",
            25 => "BPF_MAP_TYPE_DEVMAP_HASH",
            26 => "BPF_MAP_TYPE_STRUCT_OPS",
            27 => "BPF_MAP_TYPE_RINGBUF",
            28 => "BPF_MAP_TYPE_INODE_STORAGE",
            29 => "BPF_MAP_TYPE_TASK_STORAGE",
            30 => "BPF_MAP_TYPE_BLOOM_FILTER",
            31 => "BPF_MAP_TYPE_USER_RINGBUF",
            32 => "BPF_MAP_TYPE_CGRP_STORAGE",
            33 => "BPF_MAP_TYPE_ARENA",
            34 => "BPF_MAP_TYPE_INSN_ARRAY",
            _ => return None,
        })
    }

    /// Whether values of this map type are other maps (`ARRAY_OF_MAPS`, `HASH_OF_MAPS`).
    pub const fn is_map_in_map(self) -> bool {
        self.0 == MapType::ARRAY_OF_MAPS.0 || self.0 == MapType::HASH_OF_MAPS.0
    }
}

impl fmt::Debug for MapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kernel_name() {
            Some(n) => write!(f, "MapType::{}", &n["BPF_MAP_TYPE_".len()..]),
            None => write!(f, "MapType({})", self.0),
        }
    }
}

impl fmt::Display for MapType {
    /// The kernel name without its prefix in lower case (`hash`), or the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kernel_name() {
            Some(n) => f.write_str(&n["BPF_MAP_TYPE_".len()..].to_ascii_lowercase()),
            None => write!(f, "{}", self.0),
        }
    }
}
