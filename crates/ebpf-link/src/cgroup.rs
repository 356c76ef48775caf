//! cgroup programs (`SEC("cgroup_skb/egress")`, `SEC("cgroup/connect4")`,
//! sockops, sysctl, sockopt, device, ...): a `BPF_LINK_CREATE` cgroup link
//! (5.7), or on older kernels `BPF_PROG_ATTACH` with `BPF_F_ALLOW_MULTI`
//! wrapped in an emulated link (detached on drop, updated with
//! `BPF_F_REPLACE`, but neither pinnable nor queryable).
//!
//! ```no_run
//! # fn f(prog: &ebpf::Program) -> Result<(), Box<dyn std::error::Error>> {
//! let cg = std::fs::File::open("/sys/fs/cgroup/unified/my.slice")?;
//! let link = ebpf_link::cgroup::attach(prog, &cg)?; // attach type from SEC("cgroup_skb/egress")
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 4.10 (`BPF_PROG_ATTACH`); 5.7 for a bpf_link.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use ebpf::features::LinkKind;
use ebpf::{AttachType, Program, ProgramSpec};
use ebpf_syscall as sys;

use crate::error::{Error, Result, sys as sysr};
use crate::info::LinkInfo;
use crate::link::{RawLink, raw, sealed};
use crate::tcx::{Anchor, HookQuery, query_hook_with};
use crate::util::{not_supported, probe_link};

/// How a cgroup program is attached.
#[derive(Debug)]
enum Inner {
    Link(RawLink),
    /// `BPF_PROG_ATTACH`; `None` once detached.
    ProgAttach(Option<Emulated>),
}

#[derive(Debug)]
struct Emulated {
    cgroup: OwnedFd,
    program: OwnedFd,
    attach_type: sys::AttachType,
    flags: u32,
}

impl Drop for Emulated {
    fn drop(&mut self) {
        let mut attr = sys::ProgAttachAttr::new(&self.cgroup, &self.program, self.attach_type);
        attr.attach_flags = 0;
        if let Err(e) = sys::prog_detach(&attr) {
            log::warn!("detach cgroup program: {}", sys::ErrorChain(&e));
        }
    }
}

/// A program attached to a cgroup. Dropping it detaches the program.
///
/// # Minimum kernel version
///
/// 4.10; a bpf_link (`BPF_LINK_TYPE_CGROUP`) from 5.7.
#[doc(alias = "BPF_LINK_TYPE_CGROUP")]
#[derive(Debug)]
#[must_use = "dropping it detaches the program: keep it, or pin it"]
pub struct CgroupLink {
    inner: Inner,
}

const KIND: &str = "cgroup";

impl CgroupLink {
    /// Opens a cgroup link pinned at `path`.
    ///
    /// # Minimum kernel version
    ///
    /// 5.7.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Self> {
        let link = RawLink::from_pin(path)?.expect_type(&[sys::LinkType::CGROUP], KIND)?;
        Ok(CgroupLink {
            inner: Inner::Link(link),
        })
    }

    /// Whether this is a bpf_link (not an emulated `BPF_PROG_ATTACH`).
    pub fn is_bpf_link(&self) -> bool {
        matches!(self.inner, Inner::Link(_))
    }
}

/// Options of [`attach_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CgroupOptions<'a> {
    /// The attach type; `None`: the program's expected attach type, else the only one its
    /// program type has (`ProgramSpec::only_attach_type`: a `CgroupDevice` program opened
    /// from a pin attaches as `CgroupDevice`).
    pub attach_type: Option<AttachType>,
    /// Use `BPF_PROG_ATTACH` even if links are available (`BPF_F_ALLOW_MULTI`).
    pub force_prog_attach: bool,
    /// Where the program runs among the cgroup's others (6.16; `None`: last).
    pub anchor: Option<Anchor<'a>>,
    /// Fail with `ESTALE` unless the attach point's revision is this (6.16; 0: any).
    pub expected_revision: u64,
}

/// Attaches `program` to `cgroup` (an fd of a cgroup v2 directory) with the
/// attach type it was loaded for (or the only one its program type has).
///
/// # Minimum kernel version
///
/// 4.10.
pub fn attach(program: &Program, cgroup: &impl AsFd) -> Result<CgroupLink> {
    attach_with(program, cgroup, &CgroupOptions::default())
}

/// Attaches `program` to the cgroup at `path`.
///
/// # Minimum kernel version
///
/// 4.10.
pub fn attach_path(program: &Program, path: impl AsRef<Path>) -> Result<CgroupLink> {
    let path = path.as_ref();
    let cg = std::fs::File::open(path)
        .map_err(Error::io(format!("open cgroup {}", path.display())))
        .map_err(Error::attach(program, || {
            format!("cgroup {}", path.display())
        }))?;
    attach(program, &cg)
}

/// [`attach`] with options.
///
/// # Minimum kernel version
///
/// 4.10.
pub fn attach_with(
    program: &Program,
    cgroup: &impl AsFd,
    opts: &CgroupOptions<'_>,
) -> Result<CgroupLink> {
    let at = opts
        .attach_type
        .or(program.attach_type())
        .or_else(|| ProgramSpec::only_attach_type(program.program_type()));
    let name = at.map_or_else(|| "no attach type".to_owned(), |a| a.to_string());
    attach_inner(program, cgroup.as_fd(), at, opts)
        .map_err(Error::attach(program, || format!("cgroup ({name})")))
}

fn attach_inner(
    program: &Program,
    cgroup: BorrowedFd<'_>,
    at: Option<AttachType>,
    opts: &CgroupOptions<'_>,
) -> Result<CgroupLink> {
    let at = at.ok_or_else(|| {
        Error::InvalidArgument("the program has no expected attach type; give one".into())
    })?;
    let at = sys::AttachType(at.as_raw());
    if !opts.force_prog_attach {
        match probe_link(LinkKind::Cgroup) {
            Ok(()) => {
                let res = if opts.anchor.is_some() || opts.expected_revision != 0 {
                    if !crate::util::kernel_at_least(6, 16) {
                        return Err(not_supported("ordering of cgroup programs", 6, 16));
                    }
                    let (flags, relative) = opts.anchor.unwrap_or_default().encode()?;
                    let mut attr = sys::LinkCreateCgroupAttr::new(&program.as_fd(), &cgroup, at);
                    attr.flags = flags;
                    attr.relative_fd = relative;
                    attr.expected_revision = opts.expected_revision;
                    sys::link_create(&attr)
                } else {
                    sys::link_create(&sys::LinkCreateAttr::new(&program.as_fd(), &cgroup, at))
                };
                let fd = res.map_err(|e| crate::util::link_create_error(e, LinkKind::Cgroup))?;
                return Ok(CgroupLink {
                    inner: Inner::Link(RawLink::from_fd(fd)),
                });
            }
            Err(ns) => log::debug!("{ns}: falling back to BPF_PROG_ATTACH"),
        }
    }
    let mut attr = sys::ProgAttachAttr::new(&cgroup, &program.as_fd(), at);
    attr.attach_flags = sys::BPF_F_ALLOW_MULTI;
    let flags = match sys::prog_attach(&attr) {
        Ok(()) => sys::BPF_F_ALLOW_MULTI,
        // Kernels before 4.15 have no multi attach: override is what is left.
        Err(e) if e.errno() == Some(sys::Errno::INVAL) => {
            attr.attach_flags = sys::BPF_F_ALLOW_OVERRIDE;
            sysr(sys::prog_attach(&attr))?;
            sys::BPF_F_ALLOW_OVERRIDE
        }
        Err(e) => return Err(e.into()),
    };
    let dup = |fd: BorrowedFd<'_>| fd.try_clone_to_owned().map_err(Error::io("dup fd"));
    Ok(CgroupLink {
        inner: Inner::ProgAttach(Some(Emulated {
            cgroup: dup(cgroup)?,
            program: dup(program.as_fd())?,
            attach_type: at,
            flags,
        })),
    })
}

impl sealed::Sealed for CgroupLink {}

impl crate::Link for CgroupLink {
    fn kind(&self) -> &'static str {
        KIND
    }
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.inner {
            Inner::Link(l) => Some(l.as_fd()),
            Inner::ProgAttach(_) => None,
        }
    }
    fn pin(&mut self, path: &Path) -> Result<()> {
        match &mut self.inner {
            Inner::Link(l) => l.pin_at(path),
            Inner::ProgAttach(_) => Err(not_supported("bpf_link for cgroups (pinning)", 5, 7)),
        }
        .map_err(Error::link("pin", KIND))
    }
    fn unpin(&mut self) -> Result<()> {
        match &mut self.inner {
            Inner::Link(l) => l.unpin_now().map_err(Error::link("unpin", KIND)),
            Inner::ProgAttach(_) => Ok(()),
        }
    }
    fn pinned_path(&self) -> Option<&Path> {
        match &self.inner {
            Inner::Link(l) => crate::Link::pinned_path(l),
            Inner::ProgAttach(_) => None,
        }
    }
    fn update(&mut self, program: &Program) -> Result<()> {
        match &mut self.inner {
            Inner::Link(l) => l.update_prog(program),
            Inner::ProgAttach(None) => Err(Error::Unsupported {
                op: "update",
                kind: KIND,
                why: "the program was detached",
            }),
            Inner::ProgAttach(Some(em)) => (|| {
                let mut attr =
                    sys::ProgAttachAttr::new(&em.cgroup, &program.as_fd(), em.attach_type);
                if em.flags == sys::BPF_F_ALLOW_MULTI {
                    attr.attach_flags = sys::BPF_F_ALLOW_MULTI | sys::BPF_F_REPLACE;
                    attr.replace_bpf_fd = raw(&em.program);
                } else {
                    attr.attach_flags = em.flags;
                }
                sysr(sys::prog_attach(&attr))?;
                em.program = program
                    .as_fd()
                    .try_clone_to_owned()
                    .map_err(Error::io("dup program fd"))?;
                Ok(())
            })(),
        }
        .map_err(Error::link("update", KIND))
    }
    fn detach(&mut self) -> Result<()> {
        match &mut self.inner {
            Inner::Link(l) => l.detach_now().map_err(Error::link("detach", KIND)),
            Inner::ProgAttach(em) => {
                // Dropping the emulated attachment detaches it.
                em.take();
                Ok(())
            }
        }
    }
    fn info(&self) -> Result<LinkInfo> {
        match &self.inner {
            Inner::Link(l) => l.info_now(),
            Inner::ProgAttach(_) => Err(not_supported("bpf_link for cgroups (info)", 5, 7)),
        }
        .map_err(Error::link("info", KIND))
    }
}

/// Lists the programs attached to `cgroup` as `attach_type` (run order for
/// multi-attach points) and the revision (6.16); the kernel leaves the
/// link ids 0 for cgroups.
///
/// # Minimum kernel version
///
/// 4.15.
#[doc(alias = "BPF_PROG_QUERY")]
pub fn query(cgroup: &impl AsFd, attach_type: AttachType) -> Result<HookQuery> {
    use std::os::fd::AsRawFd;
    query_hook_with(
        cgroup.as_fd().as_raw_fd() as u32,
        sys::AttachType(attach_type.as_raw()),
        false,
    )
}
