//! The kernel's BPF vocabulary, defined once for every crate of ebpf-rs: map, program,
//! attach and link types (`enum bpf_map_type`, `bpf_prog_type`, `bpf_attach_type`,
//! `bpf_link_type`), the `bpf(2)` commands and statistics types, their names, and the first
//! kernel that has each map and program type.
//!
//! Every type is an open newtype over the kernel's `u32` with an associated constant per
//! value, so a value from a newer kernel is representable. [`Display`](core::fmt::Display)
//! prints the kernel's name without its prefix in lower case, as bpftool does (`hash`,
//! `kprobe`, `cgroup_inet_ingress`); [`kernel_name`](MapType::kernel_name) gives the full
//! name. This crate is pure and has no dependencies (the `zerocopy` feature adds the derives
//! `ebpf-syscall` needs to put the types inside `bpf(2)` attributes).
//!
//! ```
//! use ebpf_abi::{AttachType, KernelVersion, MapType, ProgramType};
//!
//! assert_eq!(MapType::HASH.0, 1);
//! assert_eq!(MapType::LRU_HASH.to_string(), "lru_hash");
//! assert_eq!(MapType::RINGBUF.kernel_name(), Some("BPF_MAP_TYPE_RINGBUF"));
//! assert_eq!(MapType::from_name("ringbuf"), Some(MapType::RINGBUF));
//! assert_eq!(format!("{:?}", MapType(1000)), "MapType(1000)");
//! assert_eq!(ProgramType::CGROUP_DEVICE.to_string(), "cgroup_device");
//! assert_eq!(AttachType::TRACE_FENTRY.kernel_name(), Some("BPF_TRACE_FENTRY"));
//! assert_eq!(ProgramType::XDP.min_kernel(), Some(KernelVersion::new(4, 8, 0)));
//! ```

#![deny(missing_docs)]
#![allow(
    missing_debug_implementations,
    reason = "zerocopy's KnownLayout derive, expanded inside macro_rules, emits helper types without Debug"
)]

mod kernel_enum;
mod min_kernel;
mod types;
mod version;

pub use types::{AttachType, Cmd, LinkType, MapType, ProgramType, StatsType};
pub use version::{KernelVersion, ParseKernelVersionError};

impl MapType {
    /// Whether values of this map type are other maps (`ARRAY_OF_MAPS`, `HASH_OF_MAPS`).
    pub const fn is_map_in_map(self) -> bool {
        matches!(self, Self::ARRAY_OF_MAPS | Self::HASH_OF_MAPS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in MapType::ALL {
            assert_eq!(MapType::from_name(t.kernel_name().unwrap()), Some(*t));
            assert_eq!(MapType::from_name(&t.to_string()), Some(*t));
        }
        for t in AttachType::ALL {
            assert_eq!(AttachType::from_name(t.kernel_name().unwrap()), Some(*t));
        }
        assert_eq!(MapType::from_name("nonsense"), None);
    }

    #[test]
    fn older_spellings_are_aliases_not_second_entries() {
        assert_eq!(MapType::CGROUP_STORAGE_DEPRECATED, MapType::CGROUP_STORAGE);
        let storage = MapType::ALL.iter().filter(|t| t.0 == 19).count();
        assert_eq!(storage, 1);
        assert_eq!(MapType::CGROUP_STORAGE.to_string(), "cgroup_storage");
        assert_eq!(
            MapType::from_name("BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED"),
            Some(MapType::CGROUP_STORAGE)
        );
    }

    #[test]
    fn unknown_values_print_as_numbers() {
        assert_eq!(ProgramType(9999).to_string(), "9999");
        assert_eq!(format!("{:?}", ProgramType(9999)), "ProgramType(9999)");
        assert_eq!(format!("{:?}", ProgramType::KPROBE), "ProgramType::KPROBE");
        assert!(!LinkType(9999).is_known());
    }

    #[test]
    fn values_are_the_kernels() {
        assert_eq!(ProgramType::NETFILTER.0, 32);
        assert_eq!(AttachType::CGROUP_INET_INGRESS.0, 0);
        assert_eq!(AttachType::TRACE_FSESSION.0, 58);
        assert_eq!(LinkType::NETKIT.0, 13);
        assert_eq!(Cmd::PROG_LOAD.0, 5);
    }
}
