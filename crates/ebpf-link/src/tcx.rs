//! TCX (`SEC("tcx/ingress")`, `SEC("tcx/egress")`): the multi-program
//! traffic control hook, with ordering anchors (before/after a link or a
//! program, by fd or id, first/last) and an expected revision.
//!
//! Links are created in the calling thread's network namespace.
//!
//! ```no_run
//! use ebpf_link::tcx::{self, Anchor, TcxDirection, TcxOptions};
//! # fn f(a: &ebpf::Program, b: &ebpf::Program) -> ebpf_link::Result<()> {
//! let ifindex = ebpf_link::ifindex("eth0")?;
//! let first = tcx::attach(a, ifindex, TcxDirection::Ingress, &TcxOptions::default())?;
//! let opts = TcxOptions { anchor: Anchor::BeforeLink(&first), ..Default::default() };
//! let second = tcx::attach(b, ifindex, TcxDirection::Ingress, &opts)?; // runs before `first`
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 6.6.

use std::os::fd::{AsFd, AsRawFd};

use ebpf::features::LinkKind;
use ebpf::{Program, ProgramType};
use ebpf_syscall::{self as sys, QueryBuffers};

use crate::error::{Error, Result, sys as sysr};
use crate::link::{Link, RawLink, fd_link};
use crate::util::{expect_program_type, probe_link};

fd_link! {
    /// A TCX program attached to an interface.
    ///
    /// # Minimum kernel version
    ///
    /// 6.6.
    #[doc(alias = "BPF_LINK_TYPE_TCX")]
    TcxLink, "tcx", [TCX]
}

/// The direction of a TCX (or netkit) attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcxDirection {
    /// `BPF_TCX_INGRESS`.
    Ingress,
    /// `BPF_TCX_EGRESS`.
    Egress,
}

impl TcxDirection {
    fn attach_type(self) -> sys::AttachType {
        match self {
            TcxDirection::Ingress => sys::AttachType::TCX_INGRESS,
            TcxDirection::Egress => sys::AttachType::TCX_EGRESS,
        }
    }
}

/// Where a new program goes among those already attached.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub enum Anchor<'a> {
    /// After the others (the kernel's default).
    #[default]
    Last,
    /// Before all others.
    First,
    /// Before this link.
    BeforeLink(&'a dyn Link),
    /// After this link.
    AfterLink(&'a dyn Link),
    /// Before the link with this id.
    BeforeLinkId(u32),
    /// After the link with this id.
    AfterLinkId(u32),
    /// Before this program.
    BeforeProgram(&'a Program),
    /// After this program.
    AfterProgram(&'a Program),
    /// Before the program with this id.
    BeforeProgramId(u32),
    /// After the program with this id.
    AfterProgramId(u32),
}

impl Anchor<'_> {
    /// `(flags, relative_fd_or_id)`.
    pub(crate) fn encode(&self) -> Result<(u32, u32)> {
        use sys::{
            BPF_F_AFTER as AFTER, BPF_F_BEFORE as BEFORE, BPF_F_ID as ID, BPF_F_LINK as LINK,
        };
        let link_fd = |l: &dyn Link| -> Result<u32> {
            l.fd().map(|fd| fd.as_raw_fd() as u32).ok_or_else(|| {
                Error::InvalidArgument(format!("the {} anchor is not a bpf_link", l.kind()))
            })
        };
        Ok(match *self {
            Anchor::Last => (AFTER, 0),
            Anchor::First => (BEFORE, 0),
            Anchor::BeforeLink(l) => (BEFORE | LINK, link_fd(l)?),
            Anchor::AfterLink(l) => (AFTER | LINK, link_fd(l)?),
            Anchor::BeforeLinkId(id) => (BEFORE | LINK | ID, id),
            Anchor::AfterLinkId(id) => (AFTER | LINK | ID, id),
            Anchor::BeforeProgram(p) => (BEFORE, p.as_fd().as_raw_fd() as u32),
            Anchor::AfterProgram(p) => (AFTER, p.as_fd().as_raw_fd() as u32),
            Anchor::BeforeProgramId(id) => (BEFORE | ID, id),
            Anchor::AfterProgramId(id) => (AFTER | ID, id),
        })
    }
}

/// Options of [`attach`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TcxOptions<'a> {
    /// Where the program goes.
    pub anchor: Anchor<'a>,
    /// Fail with `ESTALE` unless the hook's revision is this (0: any).
    pub expected_revision: u64,
}

/// Attaches a `BPF_PROG_TYPE_SCHED_CLS` program to the TCX hook of `ifindex`.
///
/// # Minimum kernel version
///
/// 6.6.
pub fn attach(
    program: &Program,
    ifindex: u32,
    direction: TcxDirection,
    opts: &TcxOptions<'_>,
) -> Result<TcxLink> {
    (|| {
        expect_program_type(program, &[ProgramType::SCHED_CLS], "TCX")?;
        probe_link(LinkKind::Tcx)?;
        let fd = create_ordered(
            program,
            ifindex,
            direction.attach_type(),
            &opts.anchor,
            opts.expected_revision,
            LinkKind::Tcx,
        )?;
        Ok(TcxLink {
            link: RawLink::from_fd(fd),
        })
    })()
    .map_err(Error::attach(program, || {
        format!("tcx {direction:?} on ifindex {ifindex}")
    }))
}

pub(crate) fn create_ordered(
    program: &Program,
    ifindex: u32,
    attach_type: sys::AttachType,
    anchor: &Anchor<'_>,
    expected_revision: u64,
    kind: LinkKind,
) -> Result<std::os::fd::OwnedFd> {
    let (flags, relative) = anchor.encode()?;
    let mut attr = sys::LinkCreateTcxAttr::with_target(program, ifindex, attach_type);
    attr.flags = flags;
    attr.relative_fd = relative;
    attr.expected_revision = expected_revision;
    sys::link_create(&attr).map_err(|e| crate::util::link_create_error(e, kind))
}

/// The programs on a TCX, netkit or cgroup hook, in run order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookQuery {
    /// The hook's revision (bumped by every change).
    pub revision: u64,
    /// Program ids, in run order.
    pub program_ids: Vec<u32>,
    /// The link id of each program (0: attached without a link).
    pub link_ids: Vec<u32>,
}

/// Lists the programs of the TCX hook of `ifindex` (in the calling thread's
/// network namespace).
///
/// # Minimum kernel version
///
/// 6.6.
#[doc(alias = "BPF_PROG_QUERY")]
pub fn query(ifindex: u32, direction: TcxDirection) -> Result<HookQuery> {
    query_hook(ifindex, direction.attach_type())
}

pub(crate) fn query_hook(ifindex: u32, attach_type: sys::AttachType) -> Result<HookQuery> {
    query_hook_with(ifindex, attach_type, true)
}

/// [`query_hook`], asking for link ids only when `with_links`: the field is from
/// 6.6, and older kernels refuse a query that sets it with `EINVAL` (cgroups,
/// which never fill it, query without it).
pub(crate) fn query_hook_with(
    ifindex: u32,
    attach_type: sys::AttachType,
    with_links: bool,
) -> Result<HookQuery> {
    let mut cap = 16usize;
    loop {
        let mut progs = vec![0u32; cap];
        let mut links = vec![0u32; cap];
        let mut attr = sys::ProgQueryAttr::default();
        attr.target_fd = ifindex;
        attr.attach_type = attach_type;
        sysr(attr.set_buffers(QueryBuffers {
            prog_ids: Some(&mut progs),
            link_ids: with_links.then_some(&mut links[..]),
            ..Default::default()
        }))?;
        match sys::prog_query(attr) {
            Ok(res) => {
                let n = res.prog_cnt as usize;
                progs.truncate(n);
                links.truncate(n);
                return Ok(HookQuery {
                    revision: res.revision,
                    program_ids: progs,
                    link_ids: links,
                });
            }
            Err(e) if e.errno() == Some(sys::Errno::NOSPC) && cap < 1 << 16 => cap *= 4,
            Err(e) => return Err(e.into()),
        }
    }
}
