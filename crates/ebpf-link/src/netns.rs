//! Network namespace programs: sk_lookup (`SEC("sk_lookup")`) and flow
//! dissector (`SEC("flow_dissector")`), attached to a namespace fd
//! (`/proc/<pid>/ns/net`).
//!
//! ```no_run
//! # fn f(prog: &ebpf::Program) -> Result<(), Box<dyn std::error::Error>> {
//! let ns = std::fs::File::open("/proc/self/ns/net")?;
//! let link = ebpf_link::netns::attach(prog, &ns)?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 5.8 (flow dissector links); sk_lookup 5.9.

use std::os::fd::AsFd;

use ebpf::features::LinkKind;
use ebpf::{Program, ProgramType};
use ebpf_syscall as sys;

use crate::error::{Error, Result};
use crate::link::{RawLink, fd_link};
use crate::util::{expect_program_type, probe_link};

fd_link! {
    /// A program attached to a network namespace.
    ///
    /// # Minimum kernel version
    ///
    /// 5.8.
    #[doc(alias = "BPF_LINK_TYPE_NETNS")]
    NetNsLink, "netns", [NETNS]
}

/// Attaches an sk_lookup or flow dissector program to network namespace `netns`.
///
/// # Minimum kernel version
///
/// 5.8; sk_lookup 5.9.
pub fn attach(program: &Program, netns: &impl AsFd) -> Result<NetNsLink> {
    (|| {
        expect_program_type(
            program,
            &[ProgramType::SK_LOOKUP, ProgramType::FLOW_DISSECTOR],
            "a netns program",
        )?;
        probe_link(LinkKind::Netns)?;
        let at = if program.program_type() == ProgramType::SK_LOOKUP {
            sys::AttachType::SK_LOOKUP
        } else {
            sys::AttachType::FLOW_DISSECTOR
        };
        let attr = sys::LinkCreateAttr::new(&program.as_fd(), &netns.as_fd(), at);
        let fd = sys::link_create(&attr)
            .map_err(|e| crate::util::link_create_error(e, LinkKind::Netns))?;
        Ok(NetNsLink {
            link: RawLink::from_fd(fd),
        })
    })()
    .map_err(Error::attach(program, || {
        format!("network namespace ({})", program.program_type())
    }))
}
