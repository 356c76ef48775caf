//! XDP (`SEC("xdp")`) through a bpf_link on an interface, in the mode the
//! driver supports or a chosen one (generic/SKB, driver, offload).
//!
//! The interface index is looked up in the calling thread's network
//! namespace, and the link is created there.
//!
//! ```no_run
//! use ebpf_link::xdp::{self, XdpMode};
//! # fn f(prog: &ebpf::Program) -> ebpf_link::Result<()> {
//! let ifindex = ebpf_link::ifindex("eth0")?;
//! let link = xdp::attach(prog, ifindex, XdpMode::Default)?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 5.9 (XDP bpf_link).

use ebpf::features::LinkKind;
use ebpf::{Program, ProgramType};
use ebpf_syscall as sys;

use crate::error::{Error, Result};
use crate::link::{RawLink, fd_link};
use crate::util::{expect_program_type, probe_link};

fd_link! {
    /// An XDP program attached to an interface.
    ///
    /// # Minimum kernel version
    ///
    /// 5.9.
    #[doc(alias = "BPF_LINK_TYPE_XDP")]
    XdpLink, "XDP", [XDP]
}

/// Where in the stack XDP runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum XdpMode {
    /// The driver's native mode if it has one, else generic.
    #[default]
    Default,
    /// Generic XDP on the `sk_buff` (`XDP_FLAGS_SKB_MODE`), any interface.
    Generic,
    /// In the driver (`XDP_FLAGS_DRV_MODE`).
    Driver,
    /// Offloaded to the NIC (`XDP_FLAGS_HW_MODE`).
    Offload,
}

impl XdpMode {
    /// The `XDP_FLAGS_*` bits.
    pub fn flags(self) -> u32 {
        match self {
            XdpMode::Default => 0,
            XdpMode::Generic => 1 << 1,
            XdpMode::Driver => 1 << 2,
            XdpMode::Offload => 1 << 3,
        }
    }
}

/// Attaches an XDP program to interface `ifindex` (of the calling thread's
/// network namespace).
///
/// # Minimum kernel version
///
/// 5.9.
pub fn attach(program: &Program, ifindex: u32, mode: XdpMode) -> Result<XdpLink> {
    (|| {
        expect_program_type(program, &[ProgramType::Xdp], "XDP")?;
        probe_link(LinkKind::Xdp)?;
        let mut attr = sys::LinkCreateAttr::with_target(program, ifindex, sys::AttachType::XDP);
        attr.flags = mode.flags();
        let fd = sys::link_create(&attr)
            .map_err(|e| crate::util::link_create_error(e, LinkKind::Xdp))?;
        Ok(XdpLink {
            link: RawLink::from_fd(fd),
        })
    })()
    .map_err(Error::attach(program, || {
        format!("XDP on ifindex {ifindex} ({mode:?} mode)")
    }))
}
