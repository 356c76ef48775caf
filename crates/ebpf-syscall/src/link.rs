//! Link commands: `BPF_LINK_CREATE` (one attr struct per kind of target),
//! `BPF_LINK_UPDATE`, `BPF_LINK_DETACH`, and the older link-returning
//! `BPF_RAW_TRACEPOINT_OPEN` and `BPF_ITER_CREATE`.
//!
//! `union bpf_attr`'s `link_create` is a common header followed by a union of
//! per-target tails; each tail is its own struct here ([`LinkCreateAttr`] for
//! the plain `target_btf_id` one, [`LinkCreateCgroupAttr`] for
//! cgroup/tcx/netkit, [`LinkCreateUprobeMultiAttr`], ...), all accepted by
//! [`link_create`].
//!
//! ```no_run
//! use ebpf_syscall::{link_create, AttachType, LinkCreateAttr};
//! # fn f(prog: std::os::fd::OwnedFd, cgroup: std::fs::File) -> ebpf_syscall::Result<()> {
//! let link = link_create(&LinkCreateAttr::new(&prog, &cgroup, AttachType::CGROUP_INET_INGRESS))?;
//! # Ok(()) }
//! ```

#![allow(
    missing_debug_implementations,
    reason = "zerocopy's KnownLayout derive, expanded inside macro_rules, emits helper types without Debug"
)]

use core::ffi::CStr;
use std::os::fd::{AsFd, OwnedFd};

use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

use crate::map::{len_u32, raw_fd};
use crate::sys::{bpf, bpf_fd};
use crate::{AttachType, Cmd, Error, Pointer, Result};

mod sealed {
    pub trait Sealed {}
}

/// An attr accepted by [`link_create`]: one of the `LinkCreate*Attr` structs.
pub trait LinkCreate: sealed::Sealed + IntoBytes + Immutable + Clone {}

macro_rules! link_attr {
    (
        $(#[$m:meta])* $name:ident $(<$lt:lifetime>)? [$($attr:tt)*] {
            $($(#[$fm:meta])* $vis:vis $field:ident : $ty:ty,)*
        }
    ) => {
        $(#[$m])*
        $($attr)*
        pub struct $name $(<$lt>)? {
            /// The program (or, for struct_ops, the map).
            pub prog_fd: u32,
            /// The target: cgroup/netns/map fd, ifindex, or 0.
            pub target_fd: u32,
            /// The attach type.
            pub attach_type: AttachType,
            /// Flags for the attach point (`BPF_F_*`).
            pub flags: u32,
            $($(#[$fm])* $vis $field: $ty,)*
        }

        impl $(<$lt>)? sealed::Sealed for $name $(<$lt>)? {}
        impl $(<$lt>)? LinkCreate for $name $(<$lt>)? {}

        impl $(<$lt>)? $name $(<$lt>)? {
            /// An attr linking `prog` to `target` as `attach_type`; the tail is zero.
            pub fn new(prog: &impl AsFd, target: &impl AsFd, attach_type: AttachType) -> Self {
                Self {
                    prog_fd: raw_fd(prog),
                    target_fd: raw_fd(target),
                    attach_type,
                    ..Self::default()
                }
            }

            /// An attr with a target that is not an fd (an ifindex, or 0).
            pub fn with_target(prog: &impl AsFd, target: u32, attach_type: AttachType) -> Self {
                Self {
                    prog_fd: raw_fd(prog),
                    target_fd: target,
                    attach_type,
                    ..Self::default()
                }
            }
        }
    };
}

link_attr! {
    /// `BPF_LINK_CREATE` with the plain tail: `target_btf_id` (cgroup, netns,
    /// XDP, sockmap, struct_ops, freplace, LSM, ...).
    LinkCreateAttr [
        #[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
        #[repr(C)]
    ] {
        /// BTF id of the target function (freplace, tracing; 5.10), or 0.
        pub target_btf_id: u32,
        pub(crate) _pad0: u32,
    }
}

link_attr! {
    /// `BPF_LINK_CREATE` for `BPF_TRACE_ITER`: `iter_info` (5.9).
    LinkCreateIterAttr<'a> [
        #[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
        // `packed` only because zerocopy cannot prove a lifetime-generic struct
        // free of padding; the natural layout is checked by the layout tests.
        #[repr(C, packed)]
    ] {
        pub(crate) iter_info: Pointer<'a>,
        pub(crate) iter_info_len: u32,
        pub(crate) _pad0: u32,
    }
}

impl<'a> LinkCreateIterAttr<'a> {
    /// Sets the iterator's parameters (a `union bpf_iter_link_info`).
    pub fn set_iter_info(&mut self, info: &'a IterLinkInfo) {
        self.iter_info = Pointer::from_ref(info);
        self.iter_info_len = core::mem::size_of::<IterLinkInfo>() as u32;
    }
}

/// `union bpf_iter_link_info`: what an iterator walks, as three words whose
/// meaning depends on the iterator (map: `map_fd`; cgroup: `order`,
/// `cgroup_fd`, `cgroup_id`; task: `tid`, `pid`, `pid_fd`).
#[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct IterLinkInfo {
    /// `map.map_fd`, `cgroup.order` or `task.tid`.
    pub a: u32,
    /// `cgroup.cgroup_fd` or `task.pid`.
    pub b: u32,
    /// `cgroup.cgroup_id`, or `task.pid_fd` in the low half.
    pub c: u64,
}

link_attr! {
    /// `BPF_LINK_CREATE` for perf events (`BPF_PERF_EVENT`, 5.15): `perf_event.bpf_cookie`.
    LinkCreatePerfEventAttr [
        #[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
        #[repr(C)]
    ] {
        /// The value `bpf_get_attach_cookie()` returns.
        pub bpf_cookie: u64,
    }
}

link_attr! {
    /// `BPF_LINK_CREATE` for `BPF_TRACE_KPROBE_MULTI`/`_SESSION` (5.18): `kprobe_multi`.
    LinkCreateKprobeMultiAttr<'a> [
        #[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
        // `packed` only because zerocopy cannot prove a lifetime-generic struct
        // free of padding; the natural layout is checked by the layout tests.
        #[repr(C, packed)]
    ] {
        /// `BPF_F_KPROBE_MULTI_RETURN`.
        pub kprobe_flags: u32,
        pub(crate) cnt: u32,
        pub(crate) syms: Pointer<'a>,
        pub(crate) addrs: Pointer<'a>,
        pub(crate) cookies: Pointer<'a>,
    }
}

impl<'a> LinkCreateKprobeMultiAttr<'a> {
    /// Sets the targets by symbol (`syms`, each a [`Pointer::from_cstr`]) or by
    /// address (`addrs`), with optional per-target cookies; the given slices
    /// must have one length.
    pub fn set_targets(
        &mut self,
        syms: Option<&'a [Pointer<'a>]>,
        addrs: Option<&'a [u64]>,
        cookies: Option<&'a [u64]>,
    ) -> Result<()> {
        let lens = [
            syms.map(<[_]>::len),
            addrs.map(<[_]>::len),
            cookies.map(<[_]>::len),
        ];
        self.cnt = len_u32(same_len(&lens)?)?;
        self.syms = syms.map_or(Pointer::NULL, Pointer::from_slice);
        self.addrs = addrs.map_or(Pointer::NULL, Pointer::from_slice);
        self.cookies = cookies.map_or(Pointer::NULL, Pointer::from_slice);
        Ok(())
    }
}

fn same_len(lens: &[Option<usize>]) -> Result<usize> {
    let mut it = lens.iter().flatten();
    let first = it.next().copied().unwrap_or(0);
    if it.any(|&l| l != first) {
        return Err(Error::InvalidArgument(
            "link_create arrays differ in length".into(),
        ));
    }
    Ok(first)
}

link_attr! {
    /// `BPF_LINK_CREATE` for fentry/fexit/LSM with a cookie (6.0): `tracing`.
    LinkCreateTracingAttr [
        #[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
        #[repr(C)]
    ] {
        /// BTF id of the target, or 0.
        pub target_btf_id: u32,
        pub(crate) _pad0: u32,
        /// The value `bpf_get_attach_cookie()` returns.
        pub cookie: u64,
    }
}

link_attr! {
    /// `BPF_LINK_CREATE` for `BPF_NETFILTER` (6.4): `netfilter`.
    LinkCreateNetfilterAttr [
        #[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
        #[repr(C)]
    ] {
        /// Protocol family (`NFPROTO_*`).
        pub pf: u32,
        /// Hook number (`NF_INET_*`).
        pub hooknum: u32,
        /// Hook priority.
        pub priority: i32,
        /// `BPF_F_NETFILTER_IP_DEFRAG`.
        pub netfilter_flags: u32,
    }
}

link_attr! {
    /// `BPF_LINK_CREATE` for the attach points with ordering: `tcx` (6.6),
    /// `netkit` (6.7) and `cgroup` (6.16) share one layout.
    LinkCreateCgroupAttr [
        #[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
        #[repr(C)]
    ] {
        /// With `BPF_F_BEFORE`/`BPF_F_AFTER`: the neighbour's fd (or id with `BPF_F_ID`).
        pub relative_fd: u32,
        pub(crate) _pad0: u32,
        /// Fail with `ESTALE` unless the attach point's revision is this (0: any).
        pub expected_revision: u64,
    }
}

/// The tcx tail (same layout as cgroup's).
pub type LinkCreateTcxAttr = LinkCreateCgroupAttr;
/// The netkit tail (same layout as cgroup's).
pub type LinkCreateNetkitAttr = LinkCreateCgroupAttr;

link_attr! {
    /// `BPF_LINK_CREATE` for `BPF_TRACE_UPROBE_MULTI`/`_SESSION` (6.6): `uprobe_multi`.
    LinkCreateUprobeMultiAttr<'a> [
        #[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
        // `packed` only because zerocopy cannot prove a lifetime-generic struct
        // free of padding; the natural layout is checked by the layout tests.
        #[repr(C, packed)]
    ] {
        pub(crate) path: Pointer<'a>,
        pub(crate) offsets: Pointer<'a>,
        pub(crate) ref_ctr_offsets: Pointer<'a>,
        pub(crate) cookies: Pointer<'a>,
        pub(crate) cnt: u32,
        /// `BPF_F_UPROBE_MULTI_RETURN`.
        pub uprobe_flags: u32,
        /// Only this process (0: all).
        pub pid: u32,
        pub(crate) _pad0: u32,
    }
}

impl<'a> LinkCreateUprobeMultiAttr<'a> {
    /// Sets the binary and the offsets in it, with optional reference counter
    /// offsets and cookies of the same length.
    pub fn set_targets(
        &mut self,
        path: &'a CStr,
        offsets: &'a [u64],
        ref_ctr_offsets: Option<&'a [u64]>,
        cookies: Option<&'a [u64]>,
    ) -> Result<()> {
        let lens = [
            Some(offsets.len()),
            ref_ctr_offsets.map(<[_]>::len),
            cookies.map(<[_]>::len),
        ];
        self.cnt = len_u32(same_len(&lens)?)?;
        self.path = Pointer::from_cstr(path);
        self.offsets = Pointer::from_slice(offsets);
        self.ref_ctr_offsets = ref_ctr_offsets.map_or(Pointer::NULL, Pointer::from_slice);
        self.cookies = cookies.map_or(Pointer::NULL, Pointer::from_slice);
        Ok(())
    }
}

/// `BPF_LINK_CREATE`: attaches a program through a link, returning the link's fd.
///
/// # Minimum kernel version
///
/// 5.7 (cgroup); each attach point has its own (netns 5.8, iterators 5.9,
/// XDP 5.9, perf events 5.15, kprobe_multi 5.18, netfilter 6.4, tcx and
/// uprobe_multi 6.6, netkit 6.7).
#[doc(alias = "BPF_LINK_CREATE")]
pub fn link_create<A: LinkCreate>(attr: &A) -> Result<OwnedFd> {
    let mut attr = attr.clone();
    bpf_fd(Cmd::LINK_CREATE, &mut attr).map_err(Error::bpf(Cmd::LINK_CREATE))
}

/// The attr of `BPF_LINK_UPDATE`.
#[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct LinkUpdateAttr {
    /// The link.
    pub link_fd: u32,
    /// The new program (or, for struct_ops links, map).
    pub new_prog_fd: u32,
    /// `BPF_F_REPLACE`: only if the current program is `old_prog_fd`.
    pub flags: u32,
    /// With `BPF_F_REPLACE`: the expected current program.
    pub old_prog_fd: u32,
}

/// `BPF_LINK_UPDATE`: replaces the program of a link.
///
/// # Minimum kernel version
///
/// 5.7.
#[doc(alias = "BPF_LINK_UPDATE")]
pub fn link_update(attr: &LinkUpdateAttr) -> Result<()> {
    let mut attr = attr.clone();
    bpf(Cmd::LINK_UPDATE, &mut attr)
        .map(drop)
        .map_err(Error::bpf(Cmd::LINK_UPDATE))
}

/// The attr of `BPF_LINK_DETACH`.
#[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct LinkDetachAttr {
    /// The link.
    pub link_fd: u32,
}

/// `BPF_LINK_DETACH`: detaches a link's program while the link fd stays open
/// (the link becomes defunct).
///
/// # Minimum kernel version
///
/// 5.9.
#[doc(alias = "BPF_LINK_DETACH")]
pub fn link_detach(link: impl AsFd) -> Result<()> {
    let mut attr = LinkDetachAttr {
        link_fd: raw_fd(&link),
    };
    bpf(Cmd::LINK_DETACH, &mut attr)
        .map(drop)
        .map_err(Error::bpf(Cmd::LINK_DETACH))
}

/// The attr of `BPF_RAW_TRACEPOINT_OPEN`.
#[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the layout (natural alignment, explicit padding) is checked by the layout tests.
#[repr(C, packed)]
pub struct RawTracepointOpenAttr<'a> {
    /// The tracepoint's name, or null for tracing programs (which name their target by BTF id).
    pub name: Pointer<'a>,
    /// The program.
    pub prog_fd: u32,
    pub(crate) _pad0: u32,
    /// The value `bpf_get_attach_cookie()` returns (6.10).
    pub cookie: u64,
}

/// `BPF_RAW_TRACEPOINT_OPEN`: attaches a raw tracepoint program to the
/// tracepoint `name` (or a tracing/LSM program, with `None`), returning a link fd.
///
/// # Minimum kernel version
///
/// 4.17; `None` name 5.5; cookie 6.10.
#[doc(alias = "BPF_RAW_TRACEPOINT_OPEN")]
pub fn raw_tracepoint_open(name: Option<&CStr>, prog: impl AsFd, cookie: u64) -> Result<OwnedFd> {
    let mut attr = RawTracepointOpenAttr {
        name: name.map_or(Pointer::NULL, Pointer::from_cstr),
        prog_fd: raw_fd(&prog),
        cookie,
        ..RawTracepointOpenAttr::default()
    };
    bpf_fd(Cmd::RAW_TRACEPOINT_OPEN, &mut attr).map_err(Error::bpf(Cmd::RAW_TRACEPOINT_OPEN))
}

/// The attr of `BPF_ITER_CREATE`.
#[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct IterCreateAttr {
    /// The iterator link.
    pub link_fd: u32,
    /// Must be 0.
    pub flags: u32,
}

/// `BPF_ITER_CREATE`: opens a new instance of an iterator link; reading the
/// returned fd runs the program over the objects.
///
/// # Minimum kernel version
///
/// 5.8.
#[doc(alias = "BPF_ITER_CREATE")]
pub fn iter_create(link: impl AsFd) -> Result<OwnedFd> {
    let mut attr = IterCreateAttr {
        link_fd: raw_fd(&link),
        flags: 0,
    };
    bpf_fd(Cmd::ITER_CREATE, &mut attr).map_err(Error::bpf(Cmd::ITER_CREATE))
}

/// The attr of `BPF_ENABLE_STATS`.
#[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct EnableStatsAttr {
    /// What to collect.
    pub r#type: crate::StatsType,
}

/// `BPF_ENABLE_STATS`: turns on statistics (run time and count of every
/// program) until the returned fd is closed.
///
/// # Minimum kernel version
///
/// 5.8.
#[doc(alias = "BPF_ENABLE_STATS")]
pub fn enable_stats(stats: crate::StatsType) -> Result<OwnedFd> {
    let mut attr = EnableStatsAttr { r#type: stats };
    bpf_fd(Cmd::ENABLE_STATS, &mut attr).map_err(Error::bpf(Cmd::ENABLE_STATS))
}

/// The attr of `BPF_TOKEN_CREATE`.
#[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct TokenCreateAttr {
    /// Must be 0.
    pub flags: u32,
    /// A bpffs mounted with delegation options (`delegate_cmds=...`).
    pub bpffs_fd: u32,
}

/// `BPF_TOKEN_CREATE`: creates a BPF token from a bpffs mounted with
/// delegation options, for unprivileged use inside a user namespace.
///
/// Fails with `EINVAL`/`ENOENT`-like errors for a bpffs without delegation.
///
/// # Minimum kernel version
///
/// 6.9.
#[doc(alias = "BPF_TOKEN_CREATE")]
pub fn token_create(bpffs: impl AsFd) -> Result<OwnedFd> {
    let mut attr = TokenCreateAttr {
        flags: 0,
        bpffs_fd: raw_fd(&bpffs),
    };
    bpf_fd(Cmd::TOKEN_CREATE, &mut attr).map_err(Error::bpf(Cmd::TOKEN_CREATE))
}

/// The attr of `BPF_TASK_FD_QUERY`.
#[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the natural layout is checked by the layout tests.
#[repr(C, packed)]
pub struct TaskFdQueryAttr<'a> {
    /// The process that holds `fd`.
    pub pid: u32,
    /// An fd in that process: a perf event or raw tracepoint fd.
    pub fd: u32,
    /// Must be 0.
    pub flags: u32,
    pub(crate) buf_len: u32,
    pub(crate) buf: Pointer<'a>,
    pub(crate) prog_id: u32,
    pub(crate) fd_type: u32,
    pub(crate) probe_offset: u64,
    pub(crate) probe_addr: u64,
}

/// `BPF_FD_TYPE_RAW_TRACEPOINT` (`fd_type` of [`TaskFdQueryResult`]).
pub const BPF_FD_TYPE_RAW_TRACEPOINT: u32 = 0;
/// `BPF_FD_TYPE_TRACEPOINT`.
pub const BPF_FD_TYPE_TRACEPOINT: u32 = 1;
/// `BPF_FD_TYPE_KPROBE`.
pub const BPF_FD_TYPE_KPROBE: u32 = 2;
/// `BPF_FD_TYPE_KRETPROBE`.
pub const BPF_FD_TYPE_KRETPROBE: u32 = 3;
/// `BPF_FD_TYPE_UPROBE`.
pub const BPF_FD_TYPE_UPROBE: u32 = 4;
/// `BPF_FD_TYPE_URETPROBE`.
pub const BPF_FD_TYPE_URETPROBE: u32 = 5;

/// What `BPF_TASK_FD_QUERY` returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFdQueryResult {
    /// The id of the attached program.
    pub prog_id: u32,
    /// `BPF_FD_TYPE_*`.
    pub fd_type: u32,
    /// The tracepoint, function or file name (truncated to the buffer).
    pub name: String,
    /// Offset of a kprobe/uprobe.
    pub probe_offset: u64,
    /// Address of a kprobe.
    pub probe_addr: u64,
}

/// `BPF_TASK_FD_QUERY`: what program is attached through fd `fd` of process
/// `pid` (a perf event or raw tracepoint fd), and to what. `name_buf`
/// receives the name.
///
/// # Minimum kernel version
///
/// 4.18.
#[doc(alias = "BPF_TASK_FD_QUERY")]
pub fn task_fd_query(pid: u32, fd: i32, name_buf: &mut [u8]) -> Result<TaskFdQueryResult> {
    let buf_len = crate::map::len_u32(name_buf.len())?;
    let mut attr = TaskFdQueryAttr {
        pid,
        fd: fd as u32,
        buf_len,
        buf: Pointer::from_mut_slice(name_buf),
        ..TaskFdQueryAttr::default()
    };
    bpf(Cmd::TASK_FD_QUERY, &mut attr).map_err(Error::bpf(Cmd::TASK_FD_QUERY))?;
    let (prog_id, fd_type, probe_offset, probe_addr) = (
        attr.prog_id,
        attr.fd_type,
        attr.probe_offset,
        attr.probe_addr,
    );
    let end = name_buf
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(name_buf.len());
    Ok(TaskFdQueryResult {
        prog_id,
        fd_type,
        name: String::from_utf8_lossy(&name_buf[..end]).into_owned(),
        probe_offset,
        probe_addr,
    })
}
