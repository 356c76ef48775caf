//! netkit (`SEC("netkit/primary")`, `SEC("netkit/peer")`): programs on a
//! netkit device pair, with the same ordering anchors as TCX.
//!
//! ```no_run
//! use ebpf_link::netkit::{self, NetkitSide};
//! # fn f(prog: &ebpf::Program) -> ebpf_link::Result<()> {
//! let ifindex = ebpf_link::ifindex("nk0")?;
//! let link = netkit::attach(prog, ifindex, NetkitSide::Primary, &Default::default())?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 6.7.

use ebpf::features::LinkKind;
use ebpf::{Program, ProgramType};
use ebpf_syscall as sys;

use crate::error::{Error, Result};
use crate::link::{RawLink, fd_link};
use crate::tcx::{HookQuery, TcxOptions, create_ordered, query_hook};
use crate::util::{expect_program_type, probe_link};

fd_link! {
    /// A program attached to a netkit device.
    ///
    /// # Minimum kernel version
    ///
    /// 6.7.
    #[doc(alias = "BPF_LINK_TYPE_NETKIT")]
    NetkitLink, "netkit", [NETKIT]
}

/// Which side of the netkit pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetkitSide {
    /// `BPF_NETKIT_PRIMARY`.
    Primary,
    /// `BPF_NETKIT_PEER`.
    Peer,
}

impl NetkitSide {
    fn attach_type(self) -> sys::AttachType {
        match self {
            NetkitSide::Primary => sys::AttachType::NETKIT_PRIMARY,
            NetkitSide::Peer => sys::AttachType::NETKIT_PEER,
        }
    }
}

/// Attaches a `BPF_PROG_TYPE_SCHED_CLS` program to netkit device `ifindex`
/// (the primary device of the pair).
///
/// # Minimum kernel version
///
/// 6.7.
pub fn attach(
    program: &Program,
    ifindex: u32,
    side: NetkitSide,
    opts: &TcxOptions<'_>,
) -> Result<NetkitLink> {
    (|| {
        expect_program_type(program, &[ProgramType::SCHED_CLS], "netkit")?;
        probe_link(LinkKind::Netkit)?;
        let fd = create_ordered(
            program,
            ifindex,
            side.attach_type(),
            &opts.anchor,
            opts.expected_revision,
            LinkKind::Netkit,
        )?;
        Ok(NetkitLink {
            link: RawLink::from_fd(fd),
        })
    })()
    .map_err(Error::attach(program, || {
        format!("netkit {side:?} on ifindex {ifindex}")
    }))
}

/// Lists the programs of a netkit hook.
///
/// # Minimum kernel version
///
/// 6.7.
pub fn query(ifindex: u32, side: NetkitSide) -> Result<HookQuery> {
    query_hook(ifindex, side.attach_type())
}
