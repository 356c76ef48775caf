//! The [`Link`] trait and [`RawLink`], the `bpf_link` fd every link kind wraps.
//!
//! ```no_run
//! use ebpf_link::{Link, RawLink};
//! let mut link = RawLink::from_pin("/sys/fs/bpf/my_link")?;
//! println!("{:?}", link.info()?);
//! link.unpin()?; // the link goes away when `link` is dropped
//! # Ok::<(), ebpf_link::Error>(())
//! ```

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use ebpf::Program;
use ebpf_syscall::{self as sys, Errno, LinkType};

use crate::error::{Error, Result};
use crate::info::LinkInfo;

pub(crate) mod sealed {
    /// Only this crate's link types implement [`Link`](crate::Link).
    pub trait Sealed {}
}

/// An attachment of a program to a kernel hook. Dropping it detaches the
/// program, unless the link is pinned (then the pin keeps it until
/// [`unpin`](Link::unpin)ned).
///
/// Implemented by every link kind of this crate (sealed). Kinds that are not
/// a `bpf_link` in the kernel (an ioctl-attached perf event on an old kernel,
/// a `BPF_PROG_ATTACH` cgroup attachment, a socket filter) emulate what they
/// can and say [`Error::Unsupported`] or [`Error::NotSupported`] otherwise.
#[must_use = "dropping a link detaches the program: keep it, or pin it"]
pub trait Link: sealed::Sealed + fmt::Debug + Send + Sync {
    /// The link kind, e.g. `"tracepoint"`.
    fn kind(&self) -> &'static str;

    /// The `bpf_link` fd, if this attachment is a `bpf_link`.
    fn fd(&self) -> Option<BorrowedFd<'_>>;

    /// Pins the link at `path` in a bpffs, so it outlives this value (moves
    /// an existing pin).
    ///
    /// # Minimum kernel version
    ///
    /// 5.7.
    #[doc(alias = "BPF_OBJ_PIN")]
    fn pin(&mut self, path: &Path) -> Result<()>;

    /// Removes the pin, if any; the link then lives as long as this value.
    fn unpin(&mut self) -> Result<()>;

    /// Where the link is pinned.
    fn pinned_path(&self) -> Option<&Path>;

    /// Atomically replaces the attached program with `program`.
    ///
    /// # Minimum kernel version
    ///
    /// 5.7 (for the link kinds that support it).
    #[doc(alias = "BPF_LINK_UPDATE")]
    fn update(&mut self, program: &Program) -> Result<()>;

    /// Detaches the program now, even if the link is pinned or shared; the
    /// link stays open but defunct.
    ///
    /// # Minimum kernel version
    ///
    /// 5.9 (`BPF_LINK_DETACH`); kinds without kernel support are detached by
    /// closing their descriptors when not pinned.
    #[doc(alias = "BPF_LINK_DETACH")]
    fn detach(&mut self) -> Result<()>;

    /// What the kernel says about the link.
    ///
    /// # Minimum kernel version
    ///
    /// 5.8.
    fn info(&self) -> Result<LinkInfo>;
}

/// A `bpf_link` of any kind: the fd and where it is pinned. Every
/// fd-based link kind of this crate wraps one; it is also what
/// [`RawLink::from_pin`] and [`RawLink::from_id`] return when the kind does
/// not matter.
#[derive(Debug)]
#[must_use = "dropping it detaches the program: keep it, or pin it"]
pub struct RawLink {
    fd: OwnedFd,
    pinned: Option<PathBuf>,
}

impl AsFd for RawLink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl RawLink {
    /// Wraps a `bpf_link` fd.
    pub fn from_fd(fd: OwnedFd) -> RawLink {
        RawLink { fd, pinned: None }
    }

    /// Opens the link pinned at `path`.
    ///
    /// # Minimum kernel version
    ///
    /// 5.7.
    #[doc(alias = "BPF_OBJ_GET")]
    pub fn from_pin(path: impl AsRef<Path>) -> Result<RawLink> {
        let path = path.as_ref();
        let fd = crate::error::sys(sys::obj_get(path, 0))
            .map_err(Error::link("open pinned", "bpf_link"))?;
        Ok(RawLink {
            fd,
            pinned: Some(path.to_owned()),
        })
    }

    /// The link of a pinned object found by [`ebpf::pin_walk`] (its pin stays
    /// recorded).
    pub fn from_pinned(link: ebpf::pin_walk::PinnedLink) -> RawLink {
        let pinned = Some(link.path().to_owned());
        RawLink {
            fd: link.into_fd(),
            pinned,
        }
    }

    /// Opens the link with kernel id `id`.
    ///
    /// # Minimum kernel version
    ///
    /// 5.8.
    #[doc(alias = "BPF_LINK_GET_FD_BY_ID")]
    pub fn from_id(id: u32) -> Result<RawLink> {
        let fd = crate::error::sys(sys::link_get_fd_by_id(id))
            .map_err(Error::link("open by id", "bpf_link"))?;
        Ok(RawLink::from_fd(fd))
    }

    /// The link's kernel type, from `BPF_OBJ_GET_INFO_BY_FD`.
    pub fn link_type(&self) -> Result<LinkType> {
        Ok(crate::error::sys(sys::link_info(&self.fd))?.r#type)
    }

    /// The link's kernel id.
    pub fn id(&self) -> Result<u32> {
        Ok(crate::error::sys(sys::link_info(&self.fd))?.id)
    }

    /// Checks that the link is of one of `types` (for the typed `from_pin`s).
    pub(crate) fn expect_type(self, types: &[LinkType], kind: &'static str) -> Result<RawLink> {
        let t = self.link_type()?;
        if types.contains(&t) {
            Ok(self)
        } else {
            Err(Error::InvalidArgument(format!(
                "the link's type is {t}, not {kind}"
            )))
        }
    }

    /// Gives up the fd (the pin, if any, stays).
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    pub(crate) fn pin_at(&mut self, path: &Path) -> Result<()> {
        if let Some(old) = &self.pinned {
            if old == path {
                return Ok(());
            }
            std::fs::rename(old, path).map_err(Error::io(format!(
                "move pin {} to {}",
                old.display(),
                path.display()
            )))?;
        } else {
            crate::error::sys(sys::obj_pin(&self.fd, path))?;
        }
        self.pinned = Some(path.to_owned());
        Ok(())
    }

    pub(crate) fn unpin_now(&mut self) -> Result<()> {
        if let Some(p) = &self.pinned {
            match std::fs::remove_file(p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(format!("remove pin {}", p.display()))(e)),
            }
        }
        self.pinned = None;
        Ok(())
    }

    pub(crate) fn update_prog(&self, program: &Program) -> Result<()> {
        let attr = sys::LinkUpdateAttr {
            link_fd: raw(&self.fd),
            new_prog_fd: raw(program),
            ..Default::default()
        };
        match sys::link_update(&attr) {
            Ok(()) => Ok(()),
            Err(e)
                if e.errno() == Some(Errno::INVAL)
                    || e.errno().is_some_and(Errno::is_not_supported) =>
            {
                match self.link_type() {
                    Ok(t) if !UPDATABLE.contains(&t) => Err(Error::Unsupported {
                        op: "update",
                        kind: link_type_name(t),
                        why: "the kernel cannot replace the program of this link type; attach a new link",
                    }),
                    _ => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) fn detach_now(&self) -> Result<()> {
        match sys::link_detach(&self.fd) {
            Ok(()) => Ok(()),
            Err(e) if e.errno() == Some(Errno::INVAL) && !crate::util::have_link_detach() => {
                Err(ebpf_syscall::NotSupported::new(
                    "BPF_LINK_DETACH",
                    ebpf_syscall::KernelVersion::new(5, 9, 0),
                )
                .into())
            }
            Err(e) if e.errno().is_some_and(Errno::is_not_supported) => {
                let kind = self.link_type().map_or("this", link_type_name);
                Err(Error::Unsupported {
                    op: "detach",
                    kind,
                    why: "the kernel has no BPF_LINK_DETACH for this link type; unpin and drop the link",
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) fn info_now(&self) -> Result<LinkInfo> {
        LinkInfo::of(&self.fd)
    }
}

/// Link types whose program `BPF_LINK_UPDATE` can replace.
const UPDATABLE: &[LinkType] = &[
    LinkType::CGROUP,
    LinkType::ITER,
    LinkType::NETNS,
    LinkType::XDP,
    LinkType::STRUCT_OPS,
    LinkType::TCX,
    LinkType::NETKIT,
    LinkType::SOCKMAP,
];

/// A short name of a link type, for messages.
pub(crate) fn link_type_name(t: LinkType) -> &'static str {
    match t {
        LinkType::RAW_TRACEPOINT => "raw tracepoint",
        LinkType::TRACING => "tracing",
        LinkType::CGROUP => "cgroup",
        LinkType::ITER => "iter",
        LinkType::NETNS => "netns",
        LinkType::XDP => "XDP",
        LinkType::PERF_EVENT => "perf event",
        LinkType::KPROBE_MULTI => "kprobe_multi",
        LinkType::STRUCT_OPS => "struct_ops",
        LinkType::NETFILTER => "netfilter",
        LinkType::TCX => "tcx",
        LinkType::UPROBE_MULTI => "uprobe_multi",
        LinkType::NETKIT => "netkit",
        LinkType::SOCKMAP => "sockmap",
        _ => "unknown",
    }
}

/// The raw number of an fd, for attrs.
pub(crate) fn raw(fd: &impl AsFd) -> u32 {
    use std::os::fd::AsRawFd;
    fd.as_fd().as_raw_fd() as u32
}

impl sealed::Sealed for RawLink {}

impl Link for RawLink {
    fn kind(&self) -> &'static str {
        "bpf_link"
    }
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.fd.as_fd())
    }
    fn pin(&mut self, path: &Path) -> Result<()> {
        self.pin_at(path).map_err(Error::link("pin", "bpf_link"))
    }
    fn unpin(&mut self) -> Result<()> {
        self.unpin_now().map_err(Error::link("unpin", "bpf_link"))
    }
    fn pinned_path(&self) -> Option<&Path> {
        self.pinned.as_deref()
    }
    fn update(&mut self, program: &Program) -> Result<()> {
        self.update_prog(program)
            .map_err(Error::link("update", "bpf_link"))
    }
    fn detach(&mut self) -> Result<()> {
        self.detach_now().map_err(Error::link("detach", "bpf_link"))
    }
    fn info(&self) -> Result<LinkInfo> {
        self.info_now().map_err(Error::link("info", "bpf_link"))
    }
}

/// Defines a link kind that is a plain `bpf_link`: a newtype of [`RawLink`]
/// with `from_pin`, `id`, `AsFd` and the [`Link`] trait.
macro_rules! fd_link {
    (
        $(#[$m:meta])*
        $name:ident, $kind:literal, [$($lt:ident),+ $(,)?]
    ) => {
        $(#[$m])*
        #[derive(Debug)]
        #[must_use = "dropping it detaches the program: keep it, or pin it"]
        pub struct $name {
            pub(crate) link: $crate::link::RawLink,
        }

        impl $name {
            /// Opens a link of this kind pinned at `path`.
            ///
            /// # Minimum kernel version
            ///
            /// 5.8.
            #[doc(alias = "BPF_OBJ_GET")]
            pub fn from_pin(path: impl AsRef<std::path::Path>) -> $crate::Result<Self> {
                let link = $crate::link::RawLink::from_pin(path)?
                    .expect_type(&[$(ebpf_syscall::LinkType::$lt),+], $kind)?;
                Ok(Self { link })
            }

            /// The link's kernel id.
            pub fn id(&self) -> $crate::Result<u32> {
                self.link.id()
            }

            /// Gives up the link as a [`RawLink`](crate::RawLink).
            pub fn into_raw(self) -> $crate::link::RawLink {
                self.link
            }
        }

        impl std::os::fd::AsFd for $name {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.link.as_fd()
            }
        }

        impl $crate::link::sealed::Sealed for $name {}

        impl $crate::Link for $name {
            fn kind(&self) -> &'static str {
                $kind
            }
            fn fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
                Some(std::os::fd::AsFd::as_fd(&self.link))
            }
            fn pin(&mut self, path: &std::path::Path) -> $crate::Result<()> {
                self.link.pin_at(path).map_err($crate::Error::link("pin", $kind))
            }
            fn unpin(&mut self) -> $crate::Result<()> {
                self.link.unpin_now().map_err($crate::Error::link("unpin", $kind))
            }
            fn pinned_path(&self) -> Option<&std::path::Path> {
                $crate::Link::pinned_path(&self.link)
            }
            fn update(&mut self, program: &ebpf::Program) -> $crate::Result<()> {
                self.link
                    .update_prog(program)
                    .map_err($crate::Error::link("update", $kind))
            }
            fn detach(&mut self) -> $crate::Result<()> {
                self.link.detach_now().map_err($crate::Error::link("detach", $kind))
            }
            fn info(&self) -> $crate::Result<$crate::LinkInfo> {
                self.link.info_now().map_err($crate::Error::link("info", $kind))
            }
        }
    };
}
pub(crate) use fd_link;

impl<L: Link + ?Sized> sealed::Sealed for Box<L> {}

impl<L: Link + ?Sized> Link for Box<L> {
    fn kind(&self) -> &'static str {
        (**self).kind()
    }
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        (**self).fd()
    }
    fn pin(&mut self, path: &Path) -> Result<()> {
        (**self).pin(path)
    }
    fn unpin(&mut self) -> Result<()> {
        (**self).unpin()
    }
    fn pinned_path(&self) -> Option<&Path> {
        (**self).pinned_path()
    }
    fn update(&mut self, program: &Program) -> Result<()> {
        (**self).update(program)
    }
    fn detach(&mut self) -> Result<()> {
        (**self).detach()
    }
    fn info(&self) -> Result<LinkInfo> {
        (**self).info()
    }
}
