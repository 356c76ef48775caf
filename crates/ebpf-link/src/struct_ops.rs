//! struct_ops: registering a `BPF_MAP_TYPE_STRUCT_OPS` map with the kernel
//! subsystem it implements — a TCP congestion control, a sched_ext
//! scheduler, an HID driver. [`Collection::load`](ebpf::Collection::load)
//! only creates the map and prepares its value; attaching it registers it,
//! as libbpf's `bpf_map__attach_struct_ops` does:
//!
//! - a map from `SEC(".struct_ops.link")` (created with `BPF_F_LINK`, 6.4)
//!   gets its value written and registers through a link; closing the link
//!   unregisters it;
//! - a map from `SEC(".struct_ops")` registers when its value is written,
//!   and unregisters when the value is deleted, which dropping (or
//!   detaching) the returned [`StructOpsLink`] does.
//!
//! ```no_run
//! # fn f(coll: &ebpf::Collection) -> Result<(), Box<dyn std::error::Error>> {
//! let link = ebpf_link::struct_ops::attach(&coll.struct_ops["ebpf_rs_cc"])?;
//! // "ebpf_rs_cc" is now in /proc/sys/net/ipv4/tcp_available_congestion_control.
//! drop(link);
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 5.6; 6.4 for struct_ops links.

use std::os::fd::BorrowedFd;
use std::path::Path;

use ebpf::{Map, Program, StructOpsMap, UpdateFlags};
use ebpf_syscall as sys;

use crate::error::{Error, Result};
use crate::link::RawLink;
use crate::{Link, LinkInfo};

/// The kind name used in messages.
const KIND: &str = "struct_ops";

/// A registered struct_ops map. Dropping it unregisters the map.
///
/// # Minimum kernel version
///
/// 5.6; 6.4 for a map registered through a link.
#[doc(alias = "BPF_LINK_TYPE_STRUCT_OPS")]
#[derive(Debug)]
#[must_use = "dropping it detaches the program: keep it, or pin it"]
pub struct StructOpsLink {
    registration: Registration,
}

/// How a struct_ops map is registered.
#[derive(Debug)]
enum Registration {
    /// Through a `BPF_LINK_TYPE_STRUCT_OPS` link (`BPF_F_LINK` maps).
    Link(RawLink),
    /// By its value (legacy maps): deleting the value unregisters it. `None`
    /// once unregistered.
    Value(Option<Map>),
}

/// Writes `map`'s value at key 0. A `BPF_F_LINK` map's value is set once: one
/// registered through a link before keeps it (`EBUSY`, which libbpf ignores too).
fn write_value(map: &StructOpsMap) -> Result<()> {
    match map
        .map()
        .update(&0u32.to_ne_bytes(), map.value(), UpdateFlags::ANY)
    {
        Err(e) if map.is_link() && e.errno() == Some(sys::Errno::BUSY) => Ok(()),
        other => other.map_err(Error::from),
    }
}

/// Registers struct_ops `map`: writes its value and, for a map with
/// `BPF_F_LINK`, creates the link.
///
/// # Minimum kernel version
///
/// 5.6; 6.4 for a map with `BPF_F_LINK`.
#[doc(alias = "BPF_STRUCT_OPS")]
#[doc(alias = "bpf_map__attach_struct_ops")]
pub fn attach(map: &StructOpsMap) -> Result<StructOpsLink> {
    (|| {
        write_value(map)?;
        if !map.is_link() {
            return Ok(StructOpsLink {
                registration: Registration::Value(Some(map.map().try_clone()?)),
            });
        }
        // For struct_ops the "program" of the link is the map.
        let attr = sys::LinkCreateAttr::with_target(map, 0, sys::AttachType::STRUCT_OPS);
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
            registration: Registration::Link(RawLink::from_fd(fd)),
        })
    })()
    .map_err(|e| Error::Attach {
        program: map.name().to_owned(),
        target: format!("struct_ops {}", map.type_name()),
        source: Box::new(e),
    })
}

impl StructOpsLink {
    /// The link's kernel id (maps registered through a link only).
    pub fn id(&self) -> Result<u32> {
        self.link("id")?.id()
    }

    /// Whether the map is registered through a link (rather than by its value).
    pub fn is_link(&self) -> bool {
        matches!(self.registration, Registration::Link(_))
    }

    fn link(&self, op: &'static str) -> Result<&RawLink> {
        match &self.registration {
            Registration::Link(l) => Ok(l),
            Registration::Value(_) => Err(Error::Unsupported {
                op,
                kind: KIND,
                why: "the map was registered by its value (SEC(\".struct_ops\")), not through a link",
            }),
        }
    }

    fn link_mut(&mut self, op: &'static str) -> Result<&mut RawLink> {
        match &mut self.registration {
            Registration::Link(l) => Ok(l),
            Registration::Value(_) => Err(Error::Unsupported {
                op,
                kind: KIND,
                why: "the map was registered by its value (SEC(\".struct_ops\")), not through a link",
            }),
        }
    }

    /// Replaces the registered map with `map` (same struct_ops type, also
    /// created with `BPF_F_LINK`) without a gap.
    ///
    /// # Minimum kernel version
    ///
    /// 6.4.
    #[doc(alias = "BPF_LINK_UPDATE")]
    pub fn update_map(&mut self, map: &StructOpsMap) -> Result<()> {
        let link = self.link("update")?;
        (|| {
            write_value(map)?;
            let attr = sys::LinkUpdateAttr {
                link_fd: crate::link::raw(link),
                new_prog_fd: crate::link::raw(map),
                flags: 0,
                old_prog_fd: 0,
            };
            sys::link_update(&attr).map_err(Error::from)
        })()
        .map_err(Error::link("update", KIND))
    }

    /// Unregisters a map registered by its value (once).
    fn unregister(&mut self) -> Result<()> {
        if let Registration::Value(map) = &mut self.registration {
            if let Some(m) = map.take() {
                m.delete(&0u32.to_ne_bytes())?;
            }
        }
        Ok(())
    }
}

impl Drop for StructOpsLink {
    fn drop(&mut self) {
        if let Err(e) = self.unregister() {
            log::warn!("struct_ops: unregister on drop: {}", sys::ErrorChain(&e));
        }
    }
}

impl crate::link::sealed::Sealed for StructOpsLink {}

impl Link for StructOpsLink {
    fn kind(&self) -> &'static str {
        KIND
    }
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.link("fd").ok().map(std::os::fd::AsFd::as_fd)
    }
    fn pin(&mut self, path: &Path) -> Result<()> {
        self.link_mut("pin")?
            .pin_at(path)
            .map_err(Error::link("pin", KIND))
    }
    fn unpin(&mut self) -> Result<()> {
        self.link_mut("unpin")?
            .unpin_now()
            .map_err(Error::link("unpin", KIND))
    }
    fn pinned_path(&self) -> Option<&Path> {
        self.link("pinned_path")
            .ok()
            .and_then(|l| Link::pinned_path(l))
    }
    fn update(&mut self, _program: &Program) -> Result<()> {
        Err(Error::Unsupported {
            op: "update with a program",
            kind: KIND,
            why: "a struct_ops link holds a map: use StructOpsLink::update_map",
        })
    }
    fn detach(&mut self) -> Result<()> {
        match &self.registration {
            Registration::Link(l) => l.detach_now().map_err(Error::link("detach", KIND)),
            Registration::Value(_) => self.unregister().map_err(Error::link("detach", KIND)),
        }
    }
    fn info(&self) -> Result<LinkInfo> {
        self.link("info")?
            .info_now()
            .map_err(Error::link("info", KIND))
    }
}
