//! Iterators (`SEC("iter/<target>")`): a `BPF_TRACE_ITER` link, and a
//! reader per run ([`IterLink::open`]: `BPF_ITER_CREATE` gives an fd whose
//! `read()` runs the program over the objects until EOF).
//!
//! ```no_run
//! # fn f(prog: &ebpf::Program) -> ebpf_link::Result<()> {
//! let link = ebpf_link::iter::attach(prog)?;
//! let text = link.read_to_string()?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 5.8; map iterators 5.9; task parameters 6.1; cgroup iterators 6.1.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use ebpf::{AttachType, Program, ProgramType};
use ebpf_syscall::{self as sys, IterLinkInfo};

use crate::error::{Error, Result, sys as sysr};
use crate::link::{RawLink, fd_link};
use crate::util::expect_program_type;

fd_link! {
    /// An iterator program attached to its target.
    ///
    /// # Minimum kernel version
    ///
    /// 5.8.
    #[doc(alias = "BPF_LINK_TYPE_ITER")]
    IterLink, "iter", [ITER]
}

/// What an iterator walks, for targets that take a parameter.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum IterTarget<'a> {
    /// The target needs no parameter (`task`, `bpf_map`, `tcp`, ...).
    None,
    /// The elements of this map (`bpf_map_elem`, `bpf_sk_storage_map`; 5.9).
    Map(BorrowedFd<'a>),
    /// Only this thread (`task`, `task_file`, `task_vma`; 6.1).
    Tid(u32),
    /// Only the threads of this process (6.1).
    Pid(u32),
    /// Only the threads of the process of this pidfd (6.1).
    PidFd(BorrowedFd<'a>),
    /// A cgroup (`cgroup` iterator, 6.1): the cgroup fd and the walk order
    /// (`BPF_CGROUP_ITER_SELF_ONLY` 1, `DESCENDANTS_PRE` 2, `_POST` 3, `ANCESTORS_UP` 4).
    Cgroup {
        /// The cgroup.
        cgroup: BorrowedFd<'a>,
        /// The order.
        order: u32,
    },
}

/// Attaches an iterator program with no parameter.
///
/// # Minimum kernel version
///
/// 5.8.
pub fn attach(program: &Program) -> Result<IterLink> {
    attach_with(program, IterTarget::None)
}

/// Attaches an iterator program to `target`.
///
/// # Minimum kernel version
///
/// 5.8; see [`IterTarget`].
pub fn attach_with(program: &Program, target: IterTarget<'_>) -> Result<IterLink> {
    (|| {
        expect_program_type(program, &[ProgramType::TRACING], "an iterator")?;
        if program.attach_type() != Some(AttachType::TRACE_ITER) {
            return Err(Error::InvalidArgument(
                "the program was not loaded as an iterator (SEC(\"iter/...\"))".into(),
            ));
        }
        // What the kernel must know of the parameter, for a kernel that
        // refuses the whole (longer) link info with E2BIG.
        let param = match target {
            IterTarget::None => None,
            IterTarget::Map(_) => Some(("map", sys::KernelVersion::new(5, 9, 0))),
            IterTarget::Tid(_) | IterTarget::Pid(_) | IterTarget::PidFd(_) => {
                Some(("task", sys::KernelVersion::new(5, 19, 0)))
            }
            IterTarget::Cgroup { .. } => Some(("cgroup", sys::KernelVersion::new(6, 1, 0))),
        };
        let info = match target {
            IterTarget::None => None,
            IterTarget::Map(m) => Some(IterLinkInfo {
                a: m.as_raw_fd() as u32,
                ..Default::default()
            }),
            IterTarget::Tid(t) => Some(IterLinkInfo {
                a: t,
                ..Default::default()
            }),
            IterTarget::Pid(p) => Some(IterLinkInfo {
                b: p,
                ..Default::default()
            }),
            IterTarget::PidFd(fd) => Some(IterLinkInfo {
                c: u64::from(fd.as_raw_fd() as u32),
                ..Default::default()
            }),
            IterTarget::Cgroup { cgroup, order } => Some(IterLinkInfo {
                a: order,
                b: cgroup.as_raw_fd() as u32,
                c: 0,
            }),
        };
        let mut attr =
            sys::LinkCreateIterAttr::with_target(program, 0, sys::AttachType::TRACE_ITER);
        if let Some(info) = &info {
            attr.set_iter_info(info);
        }
        let fd = match sys::link_create(&attr) {
            Err(e) if e.errno() == Some(sys::Errno::TOOBIG) && param.is_some() => {
                let (kind, min) = param.unwrap_or(("?", sys::KernelVersion::new(5, 8, 0)));
                return Err(Error::NotSupported(sys::NotSupported::new(
                    format!("{kind} parameter of iterator links"),
                    min,
                )));
            }
            other => sysr(other)?,
        };
        Ok(IterLink {
            link: RawLink::from_fd(fd),
        })
    })()
    .map_err(Error::attach(program, || {
        format!("iterator {}", program.attach_target().unwrap_or("?"))
    }))
}

impl IterLink {
    /// Starts a run of the iterator: reading the returned reader runs the
    /// program over the objects until EOF.
    ///
    /// # Minimum kernel version
    ///
    /// 5.8.
    #[doc(alias = "BPF_ITER_CREATE")]
    pub fn open(&self) -> Result<IterReader> {
        let fd = sysr(sys::iter_create(&self.link)).map_err(Error::link("open", "iter"))?;
        Ok(IterReader {
            file: File::from(fd),
        })
    }

    /// Runs the iterator once and returns all its output.
    pub fn read_to_end(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open()?
            .read_to_end(&mut out)
            .map_err(Error::io("read iterator output"))?;
        Ok(out)
    }

    /// Runs the iterator once and returns its output as text.
    pub fn read_to_string(&self) -> Result<String> {
        let bytes = self.read_to_end()?;
        String::from_utf8(bytes)
            .map_err(|e| Error::InvalidArgument(format!("iterator output is not UTF-8: {e}")))
    }
}

/// One run of an iterator: `read()` until EOF (0 bytes).
#[derive(Debug)]
pub struct IterReader {
    file: File,
}

impl Read for IterReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf)
    }
}

impl AsFd for IterReader {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl From<IterReader> for OwnedFd {
    fn from(r: IterReader) -> OwnedFd {
        r.file.into()
    }
}
