//! Object commands: pinning (`BPF_OBJ_PIN`, `BPF_OBJ_GET`), ids
//! (`BPF_*_GET_NEXT_ID`, `BPF_*_GET_FD_BY_ID`) and `BPF_OBJ_GET_INFO_BY_FD`.
//!
//! ```no_run
//! use ebpf_syscall::{map_get_next_id, map_get_fd_by_id, map_info};
//! let mut id = 0;
//! while let Some(next) = map_get_next_id(id)? {
//!     id = next;
//!     let Ok(fd) = map_get_fd_by_id(id, 0) else { continue }; // gone meanwhile
//!     println!("{id}: {}", map_info(&fd)?.name());
//! }
//! # Ok::<(), ebpf_syscall::Error>(())
//! ```
//!
//! # Safety
//!
//! [`obj_get_info_by_fd`] is an `unsafe fn`: info structs contain addresses
//! and counts of arrays the kernel fills, which the caller vouches for. The
//! safe readers ([`prog_info`], [`map_info`], ...) pass info structs whose
//! addresses are all zero, or set them from buffers they allocate.
//! [`link_info_with_names`] passes a name buffer only after checking (in
//! procfs) that its fd is a link: the kernel fills whichever info struct the
//! fd's object has, and a program's has addresses where a link's has names.
#![allow(unsafe_code, reason = "audited: see the module's # Safety section")]

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

use crate::info::{
    BtfInfo, LinkInfo, MapInfo, ProgInfo, UPROBE_MULTI_COOKIES_OFF, UPROBE_MULTI_COUNT_OFF,
    UPROBE_MULTI_OFFSETS_OFF, UPROBE_MULTI_REF_CTR_OFF,
};
use crate::map::{len_u32, raw_fd};
use crate::sys::{bpf, bpf_fd};
use crate::{Cmd, Errno, Error, Pointer, Result};

/// The attr of `BPF_OBJ_PIN` and `BPF_OBJ_GET`.
#[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the layout (natural alignment, explicit padding) is checked by the layout tests.
#[repr(C, packed)]
pub struct ObjAttr<'a> {
    /// The path in a bpffs (relative to `path_fd` with `BPF_F_PATH_FD`).
    pub pathname: Pointer<'a>,
    /// The object to pin (`BPF_OBJ_PIN`).
    pub bpf_fd: u32,
    /// `BPF_F_RDONLY`, `BPF_F_WRONLY`, `BPF_F_PATH_FD` (`BPF_OBJ_GET`: open flags).
    pub file_flags: u32,
    /// Directory fd for a relative `pathname`, with `BPF_F_PATH_FD` (6.5).
    pub path_fd: i32,
    pub(crate) _pad0: u32,
}

/// `BPF_F_PATH_FD` (`file_flags`, 6.5).
pub const BPF_F_PATH_FD: u32 = 1 << 14;

pub(crate) fn path_cstring(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::InvalidArgument(format!("path {} contains a NUL byte", path.display())))
}

/// `BPF_OBJ_PIN`: pins an object (map, program, link, BTF) at `path` in a bpffs.
///
/// # Minimum kernel version
///
/// 4.4; links 5.7.
#[doc(alias = "BPF_OBJ_PIN")]
pub fn obj_pin(obj: impl AsFd, path: impl AsRef<Path>) -> Result<()> {
    let path = path_cstring(path.as_ref())?;
    let mut attr = ObjAttr {
        pathname: Pointer::from_cstr(&path),
        bpf_fd: raw_fd(&obj),
        ..ObjAttr::default()
    };
    bpf(Cmd::OBJ_PIN, &mut attr)
        .map(drop)
        .map_err(Error::bpf(Cmd::OBJ_PIN))
}

/// `BPF_OBJ_GET`: opens the object pinned at `path`, with `file_flags`
/// (`BPF_F_RDONLY`, `BPF_F_WRONLY`; 0 for read-write).
///
/// # Minimum kernel version
///
/// 4.4; `file_flags` 4.15.
#[doc(alias = "BPF_OBJ_GET")]
pub fn obj_get(path: impl AsRef<Path>, file_flags: u32) -> Result<OwnedFd> {
    let path = path_cstring(path.as_ref())?;
    let mut attr = ObjAttr {
        pathname: Pointer::from_cstr(&path),
        file_flags,
        ..ObjAttr::default()
    };
    bpf_fd(Cmd::OBJ_GET, &mut attr).map_err(Error::bpf(Cmd::OBJ_GET))
}

/// The attr of the `GET_NEXT_ID` and `GET_FD_BY_ID` commands.
#[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct GetIdAttr {
    /// `start_id` (next id) or `prog_id`/`map_id`/`btf_id`/`link_id` (fd by id).
    pub id: u32,
    /// Output of `GET_NEXT_ID`.
    pub next_id: u32,
    /// `BPF_F_RDONLY`/`BPF_F_WRONLY` for maps; `BPF_F_TOKEN_FD`.
    pub open_flags: u32,
    /// BPF token fd, with `BPF_F_TOKEN_FD` (6.17).
    pub fd_by_id_token_fd: i32,
}

fn next_id(cmd: Cmd, start: u32) -> Result<Option<u32>> {
    let mut attr = GetIdAttr {
        id: start,
        ..GetIdAttr::default()
    };
    match bpf(cmd, &mut attr) {
        Ok(_) => Ok(Some(attr.next_id)),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(Error::bpf(cmd)(e)),
    }
}

fn fd_by_id(cmd: Cmd, id: u32, open_flags: u32) -> Result<OwnedFd> {
    let mut attr = GetIdAttr {
        id,
        open_flags,
        ..GetIdAttr::default()
    };
    bpf_fd(cmd, &mut attr).map_err(Error::bpf(cmd))
}

/// `BPF_PROG_GET_NEXT_ID`: the smallest program id above `start` (`None`: no more).
///
/// # Minimum kernel version
///
/// 4.13.
#[doc(alias = "BPF_PROG_GET_NEXT_ID")]
pub fn prog_get_next_id(start: u32) -> Result<Option<u32>> {
    next_id(Cmd::PROG_GET_NEXT_ID, start)
}

/// `BPF_MAP_GET_NEXT_ID`: the smallest map id above `start` (`None`: no more).
///
/// # Minimum kernel version
///
/// 4.13.
#[doc(alias = "BPF_MAP_GET_NEXT_ID")]
pub fn map_get_next_id(start: u32) -> Result<Option<u32>> {
    next_id(Cmd::MAP_GET_NEXT_ID, start)
}

/// `BPF_BTF_GET_NEXT_ID`: the smallest BTF object id above `start` (`None`: no more).
///
/// # Minimum kernel version
///
/// 5.4.
#[doc(alias = "BPF_BTF_GET_NEXT_ID")]
pub fn btf_get_next_id(start: u32) -> Result<Option<u32>> {
    next_id(Cmd::BTF_GET_NEXT_ID, start)
}

/// `BPF_LINK_GET_NEXT_ID`: the smallest link id above `start` (`None`: no more).
///
/// # Minimum kernel version
///
/// 5.8.
#[doc(alias = "BPF_LINK_GET_NEXT_ID")]
pub fn link_get_next_id(start: u32) -> Result<Option<u32>> {
    next_id(Cmd::LINK_GET_NEXT_ID, start)
}

/// `BPF_PROG_GET_FD_BY_ID`: opens the program with id `id`.
///
/// # Minimum kernel version
///
/// 4.13.
#[doc(alias = "BPF_PROG_GET_FD_BY_ID")]
pub fn prog_get_fd_by_id(id: u32) -> Result<OwnedFd> {
    fd_by_id(Cmd::PROG_GET_FD_BY_ID, id, 0)
}

/// `BPF_MAP_GET_FD_BY_ID`: opens the map with id `id` with `open_flags`
/// (`BPF_F_RDONLY`, `BPF_F_WRONLY`, or 0).
///
/// # Minimum kernel version
///
/// 4.13; `open_flags` 4.15.
#[doc(alias = "BPF_MAP_GET_FD_BY_ID")]
pub fn map_get_fd_by_id(id: u32, open_flags: u32) -> Result<OwnedFd> {
    fd_by_id(Cmd::MAP_GET_FD_BY_ID, id, open_flags)
}

/// `BPF_BTF_GET_FD_BY_ID`: opens the BTF object with id `id`.
///
/// # Minimum kernel version
///
/// 5.0.
#[doc(alias = "BPF_BTF_GET_FD_BY_ID")]
pub fn btf_get_fd_by_id(id: u32) -> Result<OwnedFd> {
    fd_by_id(Cmd::BTF_GET_FD_BY_ID, id, 0)
}

/// `BPF_LINK_GET_FD_BY_ID`: opens the link with id `id`.
///
/// # Minimum kernel version
///
/// 5.8.
#[doc(alias = "BPF_LINK_GET_FD_BY_ID")]
pub fn link_get_fd_by_id(id: u32) -> Result<OwnedFd> {
    fd_by_id(Cmd::LINK_GET_FD_BY_ID, id, 0)
}

/// The attr of `BPF_OBJ_GET_INFO_BY_FD` (`union bpf_attr`'s `info`).
#[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the layout (natural alignment, explicit padding) is checked by the layout tests.
#[repr(C, packed)]
pub struct InfoAttr<'a> {
    /// The object.
    pub bpf_fd: u32,
    pub(crate) info_len: u32,
    pub(crate) info: Pointer<'a>,
}

/// `BPF_OBJ_GET_INFO_BY_FD`: fills `info` (a [`ProgInfo`], [`MapInfo`],
/// [`BtfInfo`] or [`LinkInfo`], matching the object's kind) and returns how
/// many bytes the kernel wrote (less than `size_of_val(info)` on older kernels).
///
/// # Safety
///
/// Every non-zero address field of `info` points at writable memory of at
/// least the size its count field gives (for example `map_ids` holds
/// `nr_map_ids` `u32`s, `xlated_prog_insns` holds `xlated_prog_len` bytes).
///
/// # Minimum kernel version
///
/// 4.13; BTF 5.0; links 5.8.
#[doc(alias = "BPF_OBJ_GET_INFO_BY_FD")]
pub unsafe fn obj_get_info_by_fd<I: IntoBytes + FromBytes + Immutable>(
    obj: impl AsFd,
    info: &mut I,
) -> Result<u32> {
    let mut attr = InfoAttr {
        bpf_fd: raw_fd(&obj),
        info_len: len_u32(core::mem::size_of_val(info))?,
        info: Pointer::from_mut(info),
    };
    bpf(Cmd::OBJ_GET_INFO_BY_FD, &mut attr).map_err(Error::bpf(Cmd::OBJ_GET_INFO_BY_FD))?;
    Ok(attr.info_len)
}

macro_rules! info_fn {
    ($(#[$m:meta])* $name:ident -> $ty:ty) => {
        $(#[$m])*
        pub fn $name(obj: impl AsFd) -> Result<$ty> {
            let mut info = <$ty>::new_zeroed();
            // SAFETY: every address field of a zeroed info struct is null, so
            // the kernel writes nothing but the struct itself.
            unsafe { obj_get_info_by_fd(obj, &mut info)? };
            Ok(info)
        }
    };
}

info_fn! {
    /// `BPF_OBJ_GET_INFO_BY_FD` for a program, without its arrays (see
    /// [`prog_map_ids`] and [`prog_xlated_insns`]).
    ///
    /// # Minimum kernel version
    ///
    /// 4.13.
    prog_info -> ProgInfo
}
info_fn! {
    /// `BPF_OBJ_GET_INFO_BY_FD` for a map.
    ///
    /// # Minimum kernel version
    ///
    /// 4.13.
    map_info -> MapInfo
}
info_fn! {
    /// `BPF_OBJ_GET_INFO_BY_FD` for a BTF object, without its data (see [`btf_data`]).
    ///
    /// # Minimum kernel version
    ///
    /// 5.0.
    btf_info -> BtfInfo
}
info_fn! {
    /// `BPF_OBJ_GET_INFO_BY_FD` for a link. Name fields of the per-type part
    /// (`tp_name`, `target_name`, ...) are not fetched (their lengths are):
    /// see [`link_info_with_names`].
    ///
    /// # Minimum kernel version
    ///
    /// 5.8.
    link_info -> LinkInfo
}

/// What [`link_info_with_names`] returns.
#[derive(Debug, Clone)]
pub struct LinkInfoWithNames {
    /// The info; its name address field is zero, its length field is what the
    /// kernel reported (the name's length plus its NUL).
    pub info: LinkInfo,
    /// The string the per-type part points at, for the types that have one
    /// (`None` for the others):
    ///
    /// - [`LinkType::RAW_TRACEPOINT`](crate::LinkType::RAW_TRACEPOINT):
    ///   `raw_tracepoint.tp_name`, the tracepoint (5.8);
    /// - [`LinkType::ITER`](crate::LinkType::ITER): `iter.target_name`, the
    ///   iterator target such as `task` or `bpf_map_elem` (5.9);
    /// - [`LinkType::PERF_EVENT`](crate::LinkType::PERF_EVENT) of a uprobe,
    ///   kprobe or tracepoint: the binary's path (`uprobe.file_name`), the
    ///   function (`kprobe.func_name`) or the tracepoint (`tracepoint.tp_name`)
    ///   (6.6; see [`LinkInfo::perf_event_type`]);
    /// - [`LinkType::UPROBE_MULTI`](crate::LinkType::UPROBE_MULTI):
    ///   `uprobe_multi.path`, the binary (6.8).
    ///
    /// Empty when the kernel has no name for the link (an unnamed perf event
    /// probe); bytes that are not UTF-8 are replaced with U+FFFD.
    pub name: Option<String>,
}

/// Whether `fd` is a BPF link: its fdinfo has a `link_id:` line (5.8).
/// `None` when procfs cannot tell.
fn is_link(fd: BorrowedFd<'_>) -> Option<bool> {
    let path = format!("/proc/thread-self/fdinfo/{}", fd.as_raw_fd());
    let fdinfo = std::fs::read_to_string(path).ok()?;
    Some(fdinfo.lines().any(|l| l.starts_with("link_id:")))
}

/// `PATH_MAX`: the longest `uprobe_multi.path` the kernel reports.
const PATH_MAX: usize = 4096;

/// `BPF_OBJ_GET_INFO_BY_FD` for a link, with the name its per-type part
/// points at (see [`LinkInfoWithNames::name`]): one call for the type and the
/// name's length, and, for types with a name, a second one with a buffer of
/// that length.
///
/// Fails if either call fails (an older kernel may refuse the name of some
/// types: [`link_info`] still reads the numbers then), or with `EINVAL` (as
/// `BPF_OBJ_GET_INFO_BY_FD`) if `link` is another kind of BPF object. Whether
/// `link` is a link is read from `/proc/thread-self/fdinfo`: without procfs,
/// `name` is `None`.
///
/// # Minimum kernel version
///
/// 5.8; see [`LinkInfoWithNames::name`] for each name.
#[doc(alias = "BPF_OBJ_GET_INFO_BY_FD")]
pub fn link_info_with_names(link: impl AsFd) -> Result<LinkInfoWithNames> {
    let link = link.as_fd();
    let first = link_info(link)?;
    let Some((ptr_off, len_off)) = first.name_field() else {
        return Ok(LinkInfoWithNames {
            info: first,
            name: None,
        });
    };
    // The kernel fills the info struct of whatever object `link` is: a
    // program's info has addresses where a link's has names. Pass a buffer
    // only to a link.
    match is_link(link) {
        Some(true) => {}
        Some(false) => return Err(Error::bpf(Cmd::OBJ_GET_INFO_BY_FD)(Errno::INVAL)),
        None => {
            return Ok(LinkInfoWithNames {
                info: first,
                name: None,
            });
        }
    }
    let reported = first.u32_at(len_off) as usize;
    // A path may change between the calls (a rename): take room for any.
    let len = if first.r#type == crate::LinkType::UPROBE_MULTI {
        PATH_MAX
    } else {
        reported
    };
    if len == 0 {
        // The kernel counts the NUL, so 0 means it reports no name.
        return Ok(LinkInfoWithNames {
            info: first,
            name: Some(String::new()),
        });
    }
    let mut buf = vec![0u8; len];
    // Input fields of the union (arrays to fill, their counts) must be zero
    // but for the name: start from a zeroed info, not from `first`.
    let mut info = LinkInfo::new_zeroed();
    info.data[ptr_off / 8] = buf.as_mut_ptr() as usize as u64;
    info.set_u32(len_off, len_u32(buf.len())?);
    // SAFETY: `link` is a link (checked above, and a borrowed fd cannot be
    // closed and reused meanwhile), so the kernel reads `info` as a
    // `bpf_link_info` of the type `first` reported. Its only non-zero address
    // field is the name at `ptr_off`, which points at `buf`, `len` writable
    // bytes that outlive the call; the length field at `len_off` says `len`,
    // and the kernel writes at most that many bytes there (it fails with
    // ENOSPC rather than overrun).
    unsafe { obj_get_info_by_fd(link, &mut info)? };
    info.data[ptr_off / 8] = 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    Ok(LinkInfoWithNames {
        info,
        name: Some(name),
    })
}

/// The per-probe arrays of a uprobe_multi link, from [`uprobe_multi_arrays`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UprobeMultiArrays {
    /// Each probe's offset in the binary.
    pub offsets: Vec<u64>,
    /// Each probe's reference counter (semaphore) offset, 0 for none.
    pub ref_ctr_offsets: Vec<u64>,
    /// Each probe's `bpf_get_attach_cookie()` value.
    pub cookies: Vec<u64>,
}

/// `BPF_OBJ_GET_INFO_BY_FD` of a uprobe_multi link with its `offsets`,
/// `ref_ctr_offsets` and `cookies` arrays: one call for the count, one with
/// buffers of that size. `EINVAL` if `link` is not a uprobe_multi link.
///
/// # Minimum kernel version
///
/// 6.8.
#[doc(alias = "BPF_OBJ_GET_INFO_BY_FD")]
pub fn uprobe_multi_arrays(link: impl AsFd) -> Result<UprobeMultiArrays> {
    let link = link.as_fd();
    let first = link_info(link)?;
    if first.r#type != crate::LinkType::UPROBE_MULTI || is_link(link) != Some(true) {
        return Err(Error::bpf(Cmd::OBJ_GET_INFO_BY_FD)(Errno::INVAL));
    }
    let count = first.u32_at(UPROBE_MULTI_COUNT_OFF) as usize;
    let mut out = UprobeMultiArrays {
        offsets: vec![0; count],
        ref_ctr_offsets: vec![0; count],
        cookies: vec![0; count],
    };
    if count == 0 {
        return Ok(out);
    }
    let mut info = LinkInfo::new_zeroed();
    for (off, v) in [
        (UPROBE_MULTI_OFFSETS_OFF, &mut out.offsets),
        (UPROBE_MULTI_REF_CTR_OFF, &mut out.ref_ctr_offsets),
        (UPROBE_MULTI_COOKIES_OFF, &mut out.cookies),
    ] {
        info.data[off / 8] = v.as_mut_ptr() as usize as u64;
    }
    info.set_u32(UPROBE_MULTI_COUNT_OFF, len_u32(count)?);
    // SAFETY: `link` is a uprobe_multi link (its type and fdinfo were checked;
    // a borrowed fd cannot be closed and reused meanwhile), so the kernel reads
    // `info` as `bpf_link_info.uprobe_multi`: no path (address and size 0), and
    // three arrays of `count` u64s, each a live Vec of that length that outlives
    // the call. The kernel writes at most `count` entries to each (ENOSPC if the
    // link has more), and nothing else through user pointers.
    unsafe { obj_get_info_by_fd(link, &mut info)? };
    let n = (info.u32_at(UPROBE_MULTI_COUNT_OFF) as usize).min(count);
    for v in [&mut out.offsets, &mut out.ref_ctr_offsets, &mut out.cookies] {
        v.truncate(n);
    }
    Ok(out)
}

/// The ids of the maps a program uses (`BPF_OBJ_GET_INFO_BY_FD` with `map_ids`).
///
/// # Minimum kernel version
///
/// 4.15.
pub fn prog_map_ids(prog: impl AsFd) -> Result<Vec<u32>> {
    let first = prog_info(prog.as_fd())?;
    let mut ids = vec![0u32; first.nr_map_ids as usize];
    if ids.is_empty() {
        return Ok(ids);
    }
    let mut info = ProgInfo::new_zeroed();
    info.nr_map_ids = len_u32(ids.len())?;
    info.map_ids = ids.as_mut_ptr() as usize as u64;
    // SAFETY: `map_ids` points at `nr_map_ids` writable u32s that outlive the call;
    // the kernel writes at most that many.
    unsafe { obj_get_info_by_fd(prog, &mut info)? };
    ids.truncate(info.nr_map_ids as usize);
    Ok(ids)
}

/// The program's instructions as the verifier rewrote them (`xlated_prog_insns`).
///
/// Empty when the kernel hides them (`kernel.kptr_restrict`, lockdown).
///
/// # Minimum kernel version
///
/// 4.13.
pub fn prog_xlated_insns(prog: impl AsFd) -> Result<Vec<u8>> {
    let first = prog_info(prog.as_fd())?;
    let mut buf = vec![0u8; first.xlated_prog_len as usize];
    if buf.is_empty() {
        return Ok(buf);
    }
    let mut info = ProgInfo::new_zeroed();
    info.xlated_prog_len = len_u32(buf.len())?;
    info.xlated_prog_insns = buf.as_mut_ptr() as usize as u64;
    // SAFETY: `xlated_prog_insns` points at `xlated_prog_len` writable bytes that
    // outlive the call; the kernel writes at most that many.
    unsafe { obj_get_info_by_fd(prog, &mut info)? };
    buf.truncate(info.xlated_prog_len as usize);
    Ok(buf)
}

/// A BTF object's raw data and name (`BPF_OBJ_GET_INFO_BY_FD` with `btf` and `name`).
///
/// # Minimum kernel version
///
/// 5.0; name 5.11.
pub fn btf_data(btf: impl AsFd) -> Result<(BtfInfo, Vec<u8>, String)> {
    let first = btf_info(btf.as_fd())?;
    let mut data = vec![0u8; first.btf_size as usize];
    let mut name = vec![0u8; first.name_len as usize + 1];
    let mut info = BtfInfo::new_zeroed();
    info.btf_size = len_u32(data.len())?;
    info.btf = data.as_mut_ptr() as usize as u64;
    // Only a BTF object with a name gets a name buffer: kernels before 5.11
    // have no name fields and refuse (E2BIG) an info whose tail is not zero.
    if first.name_len > 0 {
        info.name_len = len_u32(name.len())?;
        info.name = name.as_mut_ptr() as usize as u64;
    }
    // SAFETY: `btf` points at `btf_size` writable bytes and `name` at `name_len`
    // writable bytes, both outliving the call; the kernel writes at most those.
    unsafe { obj_get_info_by_fd(btf, &mut info)? };
    data.truncate(info.btf_size as usize);
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    let name = String::from_utf8_lossy(&name[..end]).into_owned();
    info.btf = 0;
    info.name = 0;
    Ok((info, data, name))
}
