//! Map type probes: create a tiny map of the type.

use ebpf_syscall::{
    BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BtfLoadAttr, Errno, MapCreateAttr, MapType, Mmap, btf_load,
    map_create,
};

use super::{FeatureError, FeatureResult, KernelVersion, Key, cached, int_btf};

/// Probes whether the kernel can create maps of type `t`.
///
/// Storage maps are created with a one-`int` BTF (their keys must be
/// described); struct_ops maps count as supported when the kernel gets as far
/// as looking up the (deliberately bogus) vmlinux value type (`ENOTSUPP`).
///
/// # Minimum kernel version
///
/// See [`MapType::min_kernel`]; `BPF_MAP_TYPE_UNSPEC` and unknown types are
/// refused with [`FeatureError::Probe`].
pub fn have_map_type(t: MapType) -> FeatureResult {
    let Some(min) = t.min_kernel() else {
        return Err(FeatureError::Probe {
            feature: format!("map type {t}"),
            errno: None,
            message: "no probe for this map type".into(),
        });
    };
    cached(Key::Map(t.0), || probe(t, min))
}

fn probe(t: MapType, min: KernelVersion) -> FeatureResult {
    let feature = format!("map type {t}");
    let mut attr = MapCreateAttr::new(t, 4, 4, 1);
    let mut _btf = None;
    let mut _inner = None;
    match t {
        MapType::STACK_TRACE => attr.value_size = 8,
        MapType::LPM_TRIE => {
            attr.key_size = 8;
            attr.map_flags = BPF_F_NO_PREALLOC;
        }
        MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS => {
            let inner = map_create(&MapCreateAttr::new(MapType::ARRAY, 4, 4, 1))
                .map_err(|e| FeatureError::probe(&feature, &e))?;
            attr.inner_map_fd = raw(&inner);
            _inner = Some(inner);
        }
        MapType::CGROUP_STORAGE | MapType::PERCPU_CGROUP_STORAGE => {
            // struct bpf_cgroup_storage_key { __u64 cgroup_inode_id; __u32 attach_type; }
            attr.key_size = 16;
            attr.max_entries = 0;
        }
        MapType::QUEUE | MapType::STACK | MapType::BLOOM_FILTER => attr.key_size = 0,
        MapType::RINGBUF | MapType::USER_RINGBUF => {
            attr.key_size = 0;
            attr.value_size = 0;
            attr.max_entries = Mmap::page_size() as u32;
        }
        MapType::ARENA => {
            attr.key_size = 0;
            attr.value_size = 0;
            attr.map_flags = BPF_F_MMAPABLE;
        }
        MapType::STRUCT_OPS => {
            // Type 1 of vmlinux is never a struct_ops value type: a kernel that
            // knows struct_ops maps gets as far as rejecting it with ENOTSUPP.
            attr.btf_vmlinux_value_type_id = 1;
        }
        MapType::SK_STORAGE
        | MapType::INODE_STORAGE
        | MapType::TASK_STORAGE
        | MapType::CGRP_STORAGE => {
            let blob = int_btf();
            let mut battr = BtfLoadAttr::default();
            battr
                .set_btf(&blob)
                .map_err(|e| FeatureError::probe(&feature, &e))?;
            let btf = match btf_load(&battr) {
                Ok(fd) => fd,
                Err(e) if e.errno() == Some(Errno::INVAL) => {
                    // No BTF (before 4.18): no storage maps either.
                    return Err(FeatureError::missing(feature, min));
                }
                Err(e) => return Err(FeatureError::probe(feature, &e)),
            };
            attr.btf_fd = raw(&btf);
            attr.btf_key_type_id = 1;
            attr.btf_value_type_id = 1;
            attr.map_flags = BPF_F_NO_PREALLOC;
            attr.max_entries = 0;
            _btf = Some(btf);
        }
        _ => {}
    }
    match map_create(&attr) {
        Ok(_fd) => Ok(()),
        Err(e) if t == MapType::STRUCT_OPS && e.errno() == Some(Errno::ENOTSUPP) => Ok(()),
        // EINVAL: unknown map type. E2BIG: the attr is longer than the kernel's
        // and non-zero past its end, which only happens on kernels too old.
        Err(e) if matches!(e.errno(), Some(Errno::INVAL | Errno::TOOBIG)) => {
            Err(FeatureError::missing(feature, min))
        }
        Err(e) => Err(FeatureError::probe(feature, &e)),
    }
}

pub(super) fn raw(fd: &impl std::os::fd::AsRawFd) -> u32 {
    fd.as_raw_fd() as u32
}
