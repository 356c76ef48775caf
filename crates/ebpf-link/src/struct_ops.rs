//! struct_ops: registering a `BPF_MAP_TYPE_STRUCT_OPS` map (declared in
//! `SEC(".struct_ops.link")`, so created with `BPF_F_LINK`) with the kernel
//! subsystem it implements — a TCP congestion control, a sched_ext scheduler,
//! an HID driver — through a link. Closing the link unregisters it.
//!
//! ```no_run
//! # fn f(coll: &ebpf::Collection) -> Result<(), Box<dyn std::error::Error>> {
//! let link = ebpf_link::struct_ops::attach(&coll.maps["ebpf_rs_cc"])?;
//! // "ebpf_rs_cc" is now in /proc/sys/net/ipv4/tcp_available_congestion_control.
//! drop(link);
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 6.4 (struct_ops links).

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use ebpf::{Map, MapType, Program};
use ebpf_syscall as sys;

use crate::error::{Error, Result};
use crate::link::RawLink;
use crate::{Link, LinkInfo};

/// `BPF_F_LINK`: the struct_ops map is registered through a link.
const BPF_F_LINK: u32 = 1 << 13;

/// The kind name used in messages.
const KIND: &str = "struct_ops";

/// A registered struct_ops map. Dropping it unregisters the map.
///
/// # Minimum kernel version
///
/// 6.4.
#[doc(alias = "BPF_LINK_TYPE_STRUCT_OPS")]
#[derive(Debug)]
pub struct StructOpsLink {
    link: RawLink,
}

/// Registers struct_ops `map` (which must have `BPF_F_LINK`, i.e. come from a
/// `SEC(".struct_ops.link")` variable).
///
/// # Minimum kernel version
///
/// 6.4.
#[doc(alias = "BPF_STRUCT_OPS")]
pub fn attach(map: &Map) -> Result<StructOpsLink> {
    (|| {
        if map.map_type() != MapType::STRUCT_OPS {
            return Err(Error::InvalidArgument(format!(
                "map '{}' is a {}, not a struct_ops map",
                map.name(),
                map.map_type()
            )));
        }
        if map.flags() & BPF_F_LINK == 0 {
            return Err(Error::InvalidArgument(format!(
                "struct_ops map '{}' was not created with BPF_F_LINK (declare it in \
                 SEC(\".struct_ops.link\")); it was registered when its value was written",
                map.name()
            )));
        }
        // For struct_ops the "program" of the link is the map.
        let attr = sys::LinkCreateAttr::with_target(&map.as_fd(), 0, sys::AttachType::STRUCT_OPS);
        let fd = sys::link_create(&attr).map_err(|e| {
            if e.errno() == Some(sys::Errno::INVAL) {
                Error::NotSupported(sys::NotSupported::new(
                    "bpf_link for struct_ops",
                    sys::KernelVersion::new(6, 4, 0),
                ))
            } else {
                e.into()
            }
        })?;
        Ok(StructOpsLink {
            link: RawLink::from_fd(fd),
        })
    })()
    .map_err(|e| Error::Link {
        op: "attach",
        kind: KIND,
        source: Box::new(e),
    })
}

impl StructOpsLink {
    /// The link's kernel id.
    pub fn id(&self) -> Result<u32> {
        self.link.id()
    }

    /// Replaces the registered map with `map` (same struct_ops type, also
    /// created with `BPF_F_LINK`) without a gap.
    ///
    /// # Minimum kernel version
    ///
    /// 6.4.
    #[doc(alias = "BPF_LINK_UPDATE")]
    pub fn update_map(&mut self, map: &Map) -> Result<()> {
        let attr = sys::LinkUpdateAttr {
            link_fd: crate::link::raw(&self.link),
            new_prog_fd: crate::link::raw(map),
            flags: 0,
            old_prog_fd: 0,
        };
        sys::link_update(&attr)
            .map_err(Error::from)
            .map_err(Error::link("update", KIND))
    }
}

impl AsFd for StructOpsLink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.link.as_fd()
    }
}

impl crate::link::sealed::Sealed for StructOpsLink {}

impl Link for StructOpsLink {
    fn kind(&self) -> &'static str {
        KIND
    }
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.link.as_fd())
    }
    fn pin(&mut self, path: &Path) -> Result<()> {
        self.link.pin_at(path).map_err(Error::link("pin", KIND))
    }
    fn unpin(&mut self) -> Result<()> {
        self.link.unpin_now().map_err(Error::link("unpin", KIND))
    }
    fn pinned_path(&self) -> Option<&Path> {
        Link::pinned_path(&self.link)
    }
    fn update(&mut self, _program: &Program) -> Result<()> {
        Err(Error::Unsupported {
            op: "update with a program",
            kind: KIND,
            why: "a struct_ops link holds a map: use StructOpsLink::update_map",
        })
    }
    fn detach(&mut self) -> Result<()> {
        self.link.detach_now().map_err(Error::link("detach", KIND))
    }
    fn info(&self) -> Result<LinkInfo> {
        self.link.info_now().map_err(Error::link("info", KIND))
    }
}
