//! Socket map programs: sk_msg (`SEC("sk_msg")`) and sk_skb
//! (`SEC("sk_skb/stream_parser")`, `.../stream_verdict`, `SEC("sk_skb")`),
//! attached to a `SOCKMAP`/`SOCKHASH` map: a `BPF_LINK_TYPE_SOCKMAP` link
//! (6.10), or `BPF_PROG_ATTACH` to the map fd before that (detached with
//! `BPF_PROG_DETACH` on drop).
//!
//! ```no_run
//! # fn f(prog: &ebpf::Program, map: &ebpf::Map) -> ebpf_link::Result<()> {
//! let link = ebpf_link::sockmap::attach(prog, map)?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 4.17 (sk_msg; sk_skb 4.14); a bpf_link 6.10.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use ebpf::{AttachType, Program, ProgramType};
use ebpf_syscall as sys;

use crate::error::{Error, Result, sys as sysr};
use crate::info::LinkInfo;
use crate::link::{RawLink, sealed};
use crate::util::{expect_program_type, not_supported};

const KIND: &str = "sockmap";

#[derive(Debug)]
struct Attached {
    map: OwnedFd,
    program: OwnedFd,
    attach_type: sys::AttachType,
}

impl Drop for Attached {
    fn drop(&mut self) {
        let attr = sys::ProgAttachAttr::new(&self.map, &self.program, self.attach_type);
        if let Err(e) = sys::prog_detach(&attr) {
            log::warn!("detach sockmap program: {}", sys::ErrorChain(&e));
        }
    }
}

#[derive(Debug)]
enum Inner {
    Link(RawLink),
    ProgAttach(Option<Attached>),
}

/// A sk_msg or sk_skb program attached to a socket map.
///
/// # Minimum kernel version
///
/// 4.17; a bpf_link (`BPF_LINK_TYPE_SOCKMAP`) from 6.10.
#[doc(alias = "BPF_LINK_TYPE_SOCKMAP")]
#[derive(Debug)]
#[must_use = "dropping it detaches the program: keep it, or pin it"]
pub struct SockmapLink {
    inner: Inner,
}

impl SockmapLink {
    /// Opens a socket map link pinned at `path`.
    ///
    /// # Minimum kernel version
    ///
    /// 6.10.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Self> {
        let link = RawLink::from_pin(path)?.expect_type(&[sys::LinkType::SOCKMAP], KIND)?;
        Ok(SockmapLink {
            inner: Inner::Link(link),
        })
    }

    /// Whether this is a bpf_link (6.10) rather than a `BPF_PROG_ATTACH`.
    pub fn is_bpf_link(&self) -> bool {
        matches!(self.inner, Inner::Link(_))
    }
}

/// Attaches a sk_msg/sk_skb program to `map` with the attach type it was
/// loaded for (`sk_skb` without one: `BPF_SK_SKB_STREAM_VERDICT`).
///
/// # Minimum kernel version
///
/// 4.17.
pub fn attach(program: &Program, map: &impl AsFd) -> Result<SockmapLink> {
    (|| {
        expect_program_type(
            program,
            &[ProgramType::SK_MSG, ProgramType::SK_SKB],
            "a socket map program",
        )?;
        let at = match (program.program_type(), program.attach_type()) {
            (_, Some(a)) => sys::AttachType(a.as_raw()),
            (ProgramType::SK_MSG, None) => sys::AttachType(AttachType::SK_MSG_VERDICT.as_raw()),
            _ => sys::AttachType(AttachType::SK_SKB_STREAM_VERDICT.as_raw()),
        };
        if crate::util::kernel_at_least(6, 10) {
            let attr = sys::LinkCreateAttr::new(&program.as_fd(), &map.as_fd(), at);
            match sys::link_create(&attr) {
                Ok(fd) => {
                    return Ok(SockmapLink {
                        inner: Inner::Link(RawLink::from_fd(fd)),
                    });
                }
                Err(e) if e.errno() == Some(sys::Errno::INVAL) => {
                    log::debug!(
                        "sockmap link: {}; falling back to BPF_PROG_ATTACH",
                        sys::ErrorChain(&e)
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        let attr = sys::ProgAttachAttr::new(&map.as_fd(), &program.as_fd(), at);
        sysr(sys::prog_attach(&attr))?;
        let dup = |fd: BorrowedFd<'_>| fd.try_clone_to_owned().map_err(Error::io("dup fd"));
        Ok(SockmapLink {
            inner: Inner::ProgAttach(Some(Attached {
                map: dup(map.as_fd())?,
                program: dup(program.as_fd())?,
                attach_type: at,
            })),
        })
    })()
    .map_err(Error::attach(program, || "socket map".to_owned()))
}

impl sealed::Sealed for SockmapLink {}

impl crate::Link for SockmapLink {
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
            Inner::ProgAttach(_) => Err(not_supported("bpf_link for socket maps (pinning)", 6, 10)),
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
            Inner::ProgAttach(_) => Err(not_supported("bpf_link for socket maps (update)", 6, 10)),
        }
        .map_err(Error::link("update", KIND))
    }
    fn detach(&mut self) -> Result<()> {
        match &mut self.inner {
            Inner::Link(l) => l.detach_now().map_err(Error::link("detach", KIND)),
            Inner::ProgAttach(a) => {
                a.take();
                Ok(())
            }
        }
    }
    fn info(&self) -> Result<LinkInfo> {
        match &self.inner {
            Inner::Link(l) => l.info_now(),
            Inner::ProgAttach(_) => Err(not_supported("bpf_link for socket maps (info)", 6, 10)),
        }
        .map_err(Error::link("info", KIND))
    }
}
