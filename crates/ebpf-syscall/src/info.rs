//! The info structs of `BPF_OBJ_GET_INFO_BY_FD` (`struct bpf_prog_info`,
//! `bpf_map_info`, `bpf_btf_info`, `bpf_link_info`).
//!
//! Address fields are plain `u64`s here: the safe readers in
//! [`obj`](crate::obj_get_info_by_fd) leave them zero or fill them from their
//! own buffers.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::{AttachType, LinkType, MapType, ProgType};

fn name_str(name: &[u8]) -> &str {
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    core::str::from_utf8(&name[..end]).unwrap_or("")
}

/// `struct bpf_prog_info`.
#[derive(Debug, Clone, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
#[allow(
    missing_docs,
    reason = "fields are the kernel's, documented in include/uapi/linux/bpf.h"
)]
pub struct ProgInfo {
    pub r#type: ProgType,
    pub id: u32,
    pub tag: [u8; 8],
    pub jited_prog_len: u32,
    pub xlated_prog_len: u32,
    pub jited_prog_insns: u64,
    pub xlated_prog_insns: u64,
    pub load_time: u64,
    pub created_by_uid: u32,
    pub nr_map_ids: u32,
    pub map_ids: u64,
    pub name: [u8; 16],
    pub ifindex: u32,
    /// Bit 0: `gpl_compatible`.
    pub flags: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub nr_jited_ksyms: u32,
    pub nr_jited_func_lens: u32,
    pub jited_ksyms: u64,
    pub jited_func_lens: u64,
    pub btf_id: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub nr_func_info: u32,
    pub nr_line_info: u32,
    pub line_info: u64,
    pub jited_line_info: u64,
    pub nr_jited_line_info: u32,
    pub line_info_rec_size: u32,
    pub jited_line_info_rec_size: u32,
    pub nr_prog_tags: u32,
    pub prog_tags: u64,
    pub run_time_ns: u64,
    pub run_cnt: u64,
    pub recursion_misses: u64,
    pub verified_insns: u32,
    pub attach_btf_obj_id: u32,
    pub attach_btf_id: u32,
    pub _pad0: u32,
}

impl ProgInfo {
    /// The program's name.
    pub fn name(&self) -> &str {
        name_str(&self.name)
    }

    /// Whether the program was loaded under a GPL-compatible license.
    pub fn gpl_compatible(&self) -> bool {
        self.flags & 1 != 0
    }
}

/// `struct bpf_map_info`.
#[derive(Debug, Clone, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
#[allow(
    missing_docs,
    reason = "fields are the kernel's, documented in include/uapi/linux/bpf.h"
)]
pub struct MapInfo {
    pub r#type: MapType,
    pub id: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: [u8; 16],
    pub ifindex: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub btf_id: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_id: u32,
    pub map_extra: u64,
    pub hash: u64,
    pub hash_size: u32,
    pub _pad0: u32,
}

impl MapInfo {
    /// The map's name.
    pub fn name(&self) -> &str {
        name_str(&self.name)
    }
}

/// `struct bpf_btf_info`.
#[derive(Debug, Clone, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
#[allow(
    missing_docs,
    reason = "fields are the kernel's, documented in include/uapi/linux/bpf.h"
)]
pub struct BtfInfo {
    pub btf: u64,
    pub btf_size: u32,
    pub id: u32,
    pub name: u64,
    pub name_len: u32,
    pub kernel_btf: u32,
}

/// `struct bpf_link_info`: a common header and a per-link-type union, kept as
/// bytes (`data`) with typed readers for the common kinds.
#[derive(Debug, Clone, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct LinkInfo {
    /// The link type.
    pub r#type: LinkType,
    /// The link's id.
    pub id: u32,
    /// The id of the program it holds.
    pub prog_id: u32,
    /// Padding before the union.
    pub _pad0: u32,
    /// The per-type union, as 8-byte words.
    pub data: [u64; 6],
}

impl LinkInfo {
    fn u32_at(&self, off: usize) -> u32 {
        let word = self.data[off / 8];
        // The union is in host byte order; pick the half at `off`.
        let bytes = word.to_ne_bytes();
        let i = off % 8;
        u32::from_ne_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]])
    }

    /// `cgroup`: the cgroup id and attach type (for [`LinkType::CGROUP`]).
    pub fn cgroup(&self) -> Option<(u64, AttachType)> {
        (self.r#type == LinkType::CGROUP).then(|| (self.data[0], AttachType(self.u32_at(8))))
    }

    /// `netns`: the netns inode and attach type (for [`LinkType::NETNS`]).
    pub fn netns(&self) -> Option<(u32, AttachType)> {
        (self.r#type == LinkType::NETNS).then(|| (self.u32_at(0), AttachType(self.u32_at(4))))
    }

    /// `xdp`, `tcx`, `netkit`: the interface index.
    pub fn ifindex(&self) -> Option<u32> {
        matches!(
            self.r#type,
            LinkType::XDP | LinkType::TCX | LinkType::NETKIT
        )
        .then(|| self.u32_at(0))
    }

    /// `tracing`: attach type, target object id and target BTF id.
    pub fn tracing(&self) -> Option<(AttachType, u32, u32)> {
        (self.r#type == LinkType::TRACING)
            .then(|| (AttachType(self.u32_at(0)), self.u32_at(4), self.u32_at(8)))
    }
}
