//! Why the kernel refused to create a map, in words that say what to change.

use ebpf_syscall as sys;
use ebpf_syscall::{Errno, KernelVersion, NotSupported};

use crate::error::Error;
use crate::features::{self, FeatureError};
use crate::{MapSpec, MapType};

/// Turns a failed `BPF_MAP_CREATE` into an error that names the likely cause.
pub(super) fn create_error(spec: &MapSpec, max_entries: u32, e: sys::Error) -> Error {
    let errno = e.errno();
    if errno == Some(Errno::INVAL) || errno == Some(Errno::ENOTSUPP) {
        // Whether the kernel has the type at all is the cached probe's answer, not a
        // comparison of version numbers (distributions backport map types).
        if let Err(FeatureError::NotSupported(ns)) = features::have_map_type(spec.map_type) {
            return Error::NotSupported(ns);
        }
        // Before 6.2 an inner map whose values hold a bpf_spin_lock (or,
        // later, other special fields) is refused with ENOTSUPP.
        let inner_has_btf = spec
            .inner_map
            .as_ref()
            .is_some_and(|m| m.value_type.is_some());
        if spec.map_type.is_map_in_map() && errno == Some(Errno::ENOTSUPP) && inner_has_btf {
            return Error::NotSupported(NotSupported::new(
                "maps of maps whose inner map values hold a bpf_spin_lock or timer",
                KernelVersion::new(6, 2, 0),
            ));
        }
        let hint = if matches!(
            spec.map_type,
            MapType::SK_STORAGE
                | MapType::INODE_STORAGE
                | MapType::TASK_STORAGE
                | MapType::CGRP_STORAGE
        ) && spec.value_type.is_none()
        {
            Some("local storage maps need BTF key and value types (Map::create_with_btf)")
        } else if spec.map_type == MapType::LPM_TRIE && spec.flags & sys::BPF_F_NO_PREALLOC == 0 {
            Some("an LPM trie requires BPF_F_NO_PREALLOC")
        } else if spec.flags & sys::BPF_F_NO_PREALLOC != 0
            && !matches!(
                spec.map_type,
                MapType::HASH
                    | MapType::PERCPU_HASH
                    | MapType::LRU_HASH
                    | MapType::LRU_PERCPU_HASH
                    | MapType::LPM_TRIE
                    | MapType::HASH_OF_MAPS
                    | MapType::SK_STORAGE
                    | MapType::INODE_STORAGE
                    | MapType::TASK_STORAGE
                    | MapType::CGRP_STORAGE
            )
        {
            Some("BPF_F_NO_PREALLOC may be incompatible with this map type")
        } else if max_entries == 0
            && !matches!(
                spec.map_type,
                MapType::SK_STORAGE
                    | MapType::INODE_STORAGE
                    | MapType::TASK_STORAGE
                    | MapType::CGRP_STORAGE
                    | MapType::CGROUP_STORAGE
                    | MapType::PERCPU_CGROUP_STORAGE
                    | MapType::STRUCT_OPS
            )
        {
            Some("max_entries may be incorrectly set to zero")
        } else {
            None
        };
        if let Some(h) = hint {
            return Error::Context {
                what: h.to_owned(),
                source: Box::new(Error::from(e)),
            };
        }
    }
    if errno == Some(Errno::PERM) {
        return Error::PermissionDenied {
            what: "BPF_MAP_CREATE".into(),
            errno: Errno::PERM,
            hint: ebpf_syscall::eperm_hint(None),
        };
    }
    Error::from(e)
}
