//! The info structs of `BPF_OBJ_GET_INFO_BY_FD` (`struct bpf_prog_info`,
//! `bpf_map_info`, `bpf_btf_info`, `bpf_link_info`).
//!
//! Address fields are plain `u64`s here: the safe readers in
//! [`obj`](crate::obj_get_info_by_fd) leave them zero or fill them from their
//! own buffers.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::{AttachType, LinkType, MapType, ProgramType};

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
    pub r#type: ProgramType,
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

/// `enum bpf_perf_event_type` values of [`LinkInfo::perf_event_type`] (6.6).
pub mod perf_event_type {
    /// `BPF_PERF_EVENT_UNSPEC`: the kernel does not say.
    pub const UNSPEC: u32 = 0;
    /// `BPF_PERF_EVENT_UPROBE`.
    pub const UPROBE: u32 = 1;
    /// `BPF_PERF_EVENT_URETPROBE`.
    pub const URETPROBE: u32 = 2;
    /// `BPF_PERF_EVENT_KPROBE`.
    pub const KPROBE: u32 = 3;
    /// `BPF_PERF_EVENT_KRETPROBE`.
    pub const KRETPROBE: u32 = 4;
    /// `BPF_PERF_EVENT_TRACEPOINT`.
    pub const TRACEPOINT: u32 = 5;
    /// `BPF_PERF_EVENT_EVENT`: a hardware or software event.
    pub const EVENT: u32 = 6;
}

// Offsets in `LinkInfo::data` (the union starts at byte 16 of the struct;
// checked against the kernel's BTF by the layout tests).
/// `raw_tracepoint.tp_name`, `iter.target_name`, `uprobe_multi.path`.
pub(crate) const NAME_PTR_OFF: usize = 0;
/// `raw_tracepoint.tp_name_len`, `iter.target_name_len`.
pub(crate) const NAME_LEN_OFF: usize = 8;
/// `iter.map.map_id`.
pub(crate) const ITER_MAP_ID_OFF: usize = 12;
/// `uprobe_multi.path_size`.
pub(crate) const UPROBE_MULTI_PATH_SIZE_OFF: usize = 32;
/// `uprobe_multi.offsets`, `.ref_ctr_offsets`, `.cookies` (array addresses) and
/// `.count`, offsets in `data`.
pub(crate) const UPROBE_MULTI_OFFSETS_OFF: usize = 8;
pub(crate) const UPROBE_MULTI_REF_CTR_OFF: usize = 16;
pub(crate) const UPROBE_MULTI_COOKIES_OFF: usize = 24;
pub(crate) const UPROBE_MULTI_COUNT_OFF: usize = 36;
/// `perf_event.type`.
pub(crate) const PERF_EVENT_TYPE_OFF: usize = 0;
/// `perf_event.{uprobe.file_name,kprobe.func_name,tracepoint.tp_name}`.
pub(crate) const PERF_EVENT_NAME_PTR_OFF: usize = 8;
/// `perf_event.{uprobe,kprobe,tracepoint}.name_len`.
pub(crate) const PERF_EVENT_NAME_LEN_OFF: usize = 16;

impl LinkInfo {
    pub(crate) fn u32_at(&self, off: usize) -> u32 {
        let word = self.data[off / 8];
        // The union is in host byte order; pick the half at `off`.
        let bytes = word.to_ne_bytes();
        let i = off % 8;
        u32::from_ne_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]])
    }

    pub(crate) fn set_u32(&mut self, off: usize, v: u32) {
        let mut bytes = self.data[off / 8].to_ne_bytes();
        let i = off % 8;
        bytes[i..i + 4].copy_from_slice(&v.to_ne_bytes());
        self.data[off / 8] = u64::from_ne_bytes(bytes);
    }

    /// Where the link's name lives in `data`: the offsets of its address and
    /// of its length (a `u32`), for the types that have one.
    pub(crate) fn name_field(&self) -> Option<(usize, usize)> {
        match self.r#type {
            LinkType::RAW_TRACEPOINT | LinkType::ITER => Some((NAME_PTR_OFF, NAME_LEN_OFF)),
            LinkType::UPROBE_MULTI => Some((NAME_PTR_OFF, UPROBE_MULTI_PATH_SIZE_OFF)),
            LinkType::PERF_EVENT => match self.u32_at(PERF_EVENT_TYPE_OFF) {
                perf_event_type::UPROBE..=perf_event_type::TRACEPOINT => {
                    Some((PERF_EVENT_NAME_PTR_OFF, PERF_EVENT_NAME_LEN_OFF))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// `perf_event.type` (a [`perf_event_type`] value, for
    /// [`LinkType::PERF_EVENT`]; 0 before 6.6).
    pub fn perf_event_type(&self) -> Option<u32> {
        (self.r#type == LinkType::PERF_EVENT).then(|| self.u32_at(PERF_EVENT_TYPE_OFF))
    }

    /// `iter.map.map_id`: the map a map iterator (`bpf_map_elem`,
    /// `bpf_sk_storage_map`, `sockmap`) walks; 0 for other iterators (for
    /// [`LinkType::ITER`]; 5.9).
    pub fn iter_map_id(&self) -> Option<u32> {
        (self.r#type == LinkType::ITER).then(|| self.u32_at(ITER_MAP_ID_OFF))
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
