//! What the kernel reports about loaded objects, and iteration over every
//! program, map and BTF object in the system by id.
//!
//! ```no_run
//! for id in ebpf::info::program_ids() {
//!     let Ok(prog) = ebpf::Program::from_id(id?) else { continue }; // gone meanwhile
//!     let info = prog.info()?;
//!     println!("{} {} {}", info.id, info.program_type, info.name);
//! }
//! # Ok::<(), ebpf::Error>(())
//! ```

use ebpf_asm::{Instructions, ProgramTag, TagAlgorithm};
use ebpf_syscall as sys;

use crate::error::{Error, Result};
use crate::{MapType, ProgramType};

/// A map as the kernel reports it (`struct bpf_map_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[doc(alias = "bpf_map_info")]
#[non_exhaustive]
pub struct MapInfo {
    /// Kernel id.
    pub id: u32,
    /// Map type.
    pub map_type: MapType,
    /// Name (at most 15 bytes).
    pub name: String,
    /// Key size.
    pub key_size: u32,
    /// Value size.
    pub value_size: u32,
    /// Maximum entries.
    pub max_entries: u32,
    /// `BPF_F_*` flags.
    pub flags: u32,
    /// Id of the map's BTF object (0 if none).
    pub btf_id: u32,
    /// The key's type in that BTF object (0 if none).
    pub btf_key_type_id: u32,
    /// The value's type in that BTF object (0 if none).
    pub btf_value_type_id: u32,
    /// `map_extra`.
    pub map_extra: u64,
}

impl MapInfo {
    pub(crate) fn from_raw(i: &sys::MapInfo) -> Self {
        MapInfo {
            id: i.id,
            map_type: MapType(i.r#type.0),
            name: i.name().to_owned(),
            key_size: i.key_size,
            value_size: i.value_size,
            max_entries: i.max_entries,
            flags: i.map_flags,
            btf_id: i.btf_id,
            btf_key_type_id: i.btf_key_type_id,
            btf_value_type_id: i.btf_value_type_id,
            map_extra: i.map_extra,
        }
    }
}

/// A program as the kernel reports it (`struct bpf_prog_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[doc(alias = "bpf_prog_info")]
#[non_exhaustive]
pub struct ProgramInfo {
    /// Kernel id.
    pub id: u32,
    /// Program type (the raw value for a type this crate does not know).
    pub program_type: ProgramType,
    /// Name (at most 15 bytes).
    pub name: String,
    /// The program tag: the first 8 bytes of the hash of the instructions as loaded (map
    /// fds zeroed), SHA-1 before Linux 6.18 and SHA-256 from 6.18 on ([`tag_algorithm`]).
    /// `Display` prints it as `bpftool` does; [`ProgramTag::matches`] compares it with
    /// instructions built or read here.
    pub tag: ProgramTag,
    /// Size of the JIT-compiled code in bytes (0 if hidden or not JITed).
    pub jited_size: u32,
    /// Size of the verifier-rewritten instructions in bytes (0 if hidden).
    pub xlated_size: u32,
    /// Load time (ns since boot).
    pub load_time: u64,
    /// Uid of the loader.
    pub created_by_uid: u32,
    /// Number of maps the program uses.
    pub nr_map_ids: u32,
    /// Id of the program's BTF object (0 if none).
    pub btf_id: u32,
    /// Instructions the verifier processed (5.16).
    pub verified_insns: u32,
    /// Total run time in ns, with `BPF_ENABLE_STATS`.
    pub run_time_ns: u64,
    /// Number of runs, with `BPF_ENABLE_STATS`.
    pub run_count: u64,
    /// Whether the license is GPL-compatible.
    pub gpl_compatible: bool,
}

impl ProgramInfo {
    pub(crate) fn from_raw(i: &sys::ProgInfo) -> Self {
        ProgramInfo {
            id: i.id,
            program_type: i.r#type,
            name: i.name().to_owned(),
            tag: ProgramTag(i.tag),
            jited_size: i.jited_prog_len,
            xlated_size: i.xlated_prog_len,
            load_time: i.load_time,
            created_by_uid: i.created_by_uid,
            nr_map_ids: i.nr_map_ids,
            btf_id: i.btf_id,
            verified_insns: i.verified_insns,
            run_time_ns: i.run_time_ns,
            run_count: i.run_cnt,
            gpl_compatible: i.gpl_compatible(),
        }
    }

    /// The tag as 16 hex digits, as `bpftool prog` prints it (`tag.to_string()`).
    pub fn tag_hex(&self) -> String {
        self.tag.to_string()
    }
}

/// The hash the running kernel computes program tags with: SHA-256 from Linux 6.18,
/// SHA-1 before (SHA-256 when the release cannot be parsed).
///
/// ```
/// let alg = ebpf::info::tag_algorithm();
/// # let _ = alg;
/// ```
pub fn tag_algorithm() -> TagAlgorithm {
    sys::current_kernel().map_or(TagAlgorithm::Sha256, |v| {
        TagAlgorithm::for_kernel(v.major, v.minor)
    })
}

/// The tag the running kernel gives `insns` once loaded ([`ProgramInfo::tag`]), computed
/// with [`tag_algorithm`].
///
/// ```
/// use ebpf_asm::{Instructions, Register::R0, exit, mov64};
/// let prog = Instructions::from(vec![mov64(R0, 0), exit()]);
/// let tag = ebpf::info::kernel_tag(&prog)?;
/// assert!(tag.matches(&prog));
/// # Ok::<(), ebpf::Error>(())
/// ```
pub fn kernel_tag(insns: &Instructions) -> Result<ProgramTag> {
    Ok(insns.tag(tag_algorithm())?)
}

/// A BTF object as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BtfInfo {
    /// Kernel id.
    pub id: u32,
    /// Name (`vmlinux`, a module name, or empty for program BTF; 5.11).
    pub name: String,
    /// Size of the raw BTF in bytes.
    pub size: u32,
    /// Whether this is kernel (vmlinux or module) BTF.
    pub kernel: bool,
}

/// The BTF object with kernel id `id`, with its name.
///
/// # Minimum kernel version
///
/// 5.0; names 5.11.
#[doc(alias = "BPF_BTF_GET_FD_BY_ID")]
pub fn btf_info_by_id(id: u32) -> Result<BtfInfo> {
    let fd = sys::btf_get_fd_by_id(id)?;
    let (info, _data, name) = sys::btf_data(&fd)?;
    Ok(BtfInfo {
        id: info.id,
        name,
        size: info.btf_size,
        kernel: info.kernel_btf != 0,
    })
}

/// The types of the BTF object with kernel id `id`, parsed. A module's or a
/// program's split BTF is parsed on top of the kernel's vmlinux BTF.
///
/// # Minimum kernel version
///
/// 5.0.
#[doc(alias = "BPF_BTF_GET_FD_BY_ID")]
pub fn btf_spec_by_id(id: u32) -> Result<ebpf_btf::Spec> {
    let fd = sys::btf_get_fd_by_id(id)?;
    let (_info, data, _name) = sys::btf_data(&fd)?;
    match ebpf_btf::Spec::parse(&data) {
        Ok(spec) => Ok(spec),
        // Split BTF starts its ids after vmlinux's: parse it on top of it.
        Err(first) => {
            let base = ebpf_btf::Spec::kernel_shared().map_err(|_| Error::Btf(first))?;
            ebpf_btf::Spec::parse_split(&data, base).map_err(Error::Btf)
        }
    }
}

/// Which kind of object an [`ObjectIds`] iterates over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Program,
    Map,
    Btf,
    Link,
}

/// Iterator over the ids of loaded objects of one kind (`BPF_*_GET_NEXT_ID`).
/// Objects may disappear between the id and opening it.
#[derive(Debug)]
pub struct ObjectIds {
    kind: Kind,
    next: u32,
    done: bool,
}

impl Iterator for ObjectIds {
    type Item = Result<u32>;
    fn next(&mut self) -> Option<Result<u32>> {
        if self.done {
            return None;
        }
        let r = match self.kind {
            Kind::Program => sys::prog_get_next_id(self.next),
            Kind::Map => sys::map_get_next_id(self.next),
            Kind::Btf => sys::btf_get_next_id(self.next),
            Kind::Link => sys::link_get_next_id(self.next),
        };
        match r {
            Ok(Some(id)) => {
                self.next = id;
                Some(Ok(id))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(Error::from(e)))
            }
        }
    }
}

fn ids(kind: Kind) -> ObjectIds {
    ObjectIds {
        kind,
        next: 0,
        done: false,
    }
}

/// Ids of every loaded program.
///
/// # Minimum kernel version
///
/// 4.13.
#[doc(alias = "BPF_PROG_GET_NEXT_ID")]
pub fn program_ids() -> ObjectIds {
    ids(Kind::Program)
}

/// Ids of every map.
///
/// # Minimum kernel version
///
/// 4.13.
#[doc(alias = "BPF_MAP_GET_NEXT_ID")]
pub fn map_ids() -> ObjectIds {
    ids(Kind::Map)
}

/// Ids of every BTF object (vmlinux, modules, programs').
///
/// # Minimum kernel version
///
/// 5.4.
#[doc(alias = "BPF_BTF_GET_NEXT_ID")]
pub fn btf_ids() -> ObjectIds {
    ids(Kind::Btf)
}

/// Ids of every BPF link.
///
/// # Minimum kernel version
///
/// 5.8.
#[doc(alias = "BPF_LINK_GET_NEXT_ID")]
pub fn link_ids() -> ObjectIds {
    ids(Kind::Link)
}
