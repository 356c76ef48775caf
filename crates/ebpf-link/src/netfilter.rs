//! netfilter programs (`SEC("netfilter")`) on a netfilter hook of the
//! calling thread's network namespace.
//!
//! ```no_run
//! use ebpf_link::netfilter::{self, NetfilterOptions, NFPROTO_IPV4, NF_INET_LOCAL_IN};
//! # fn f(prog: &ebpf::Program) -> ebpf_link::Result<()> {
//! let opts = NetfilterOptions { pf: NFPROTO_IPV4, hooknum: NF_INET_LOCAL_IN, priority: -128, defrag: false };
//! let link = netfilter::attach(prog, &opts)?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 6.4.

use ebpf::features::LinkKind;
use ebpf::{Program, ProgramType};
use ebpf_syscall as sys;

use crate::error::{Error, Result};
use crate::link::{RawLink, fd_link};
use crate::util::{expect_program_type, probe_link};

fd_link! {
    /// A netfilter program on a hook.
    ///
    /// # Minimum kernel version
    ///
    /// 6.4.
    #[doc(alias = "BPF_LINK_TYPE_NETFILTER")]
    NetfilterLink, "netfilter", [NETFILTER]
}

/// `NFPROTO_IPV4`.
pub const NFPROTO_IPV4: u32 = 2;
/// `NFPROTO_IPV6`.
pub const NFPROTO_IPV6: u32 = 10;
/// `NF_INET_PRE_ROUTING`.
pub const NF_INET_PRE_ROUTING: u32 = 0;
/// `NF_INET_LOCAL_IN`.
pub const NF_INET_LOCAL_IN: u32 = 1;
/// `NF_INET_FORWARD`.
pub const NF_INET_FORWARD: u32 = 2;
/// `NF_INET_LOCAL_OUT`.
pub const NF_INET_LOCAL_OUT: u32 = 3;
/// `NF_INET_POST_ROUTING`.
pub const NF_INET_POST_ROUTING: u32 = 4;

/// The hook of a netfilter link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetfilterOptions {
    /// Protocol family ([`NFPROTO_IPV4`], [`NFPROTO_IPV6`]).
    pub pf: u32,
    /// Hook ([`NF_INET_LOCAL_IN`], ...).
    pub hooknum: u32,
    /// Priority (not `INT_MIN`/`INT_MAX`, which the kernel reserves).
    pub priority: i32,
    /// Defragment before the program (`BPF_F_NETFILTER_IP_DEFRAG`, 6.6).
    pub defrag: bool,
}

/// Attaches a netfilter program.
///
/// # Minimum kernel version
///
/// 6.4.
pub fn attach(program: &Program, opts: &NetfilterOptions) -> Result<NetfilterLink> {
    (|| {
        expect_program_type(program, &[ProgramType::NETFILTER], "netfilter")?;
        probe_link(LinkKind::Netfilter)?;
        let mut attr =
            sys::LinkCreateNetfilterAttr::with_target(program, 0, sys::AttachType::NETFILTER);
        attr.pf = opts.pf;
        attr.hooknum = opts.hooknum;
        attr.priority = opts.priority;
        attr.netfilter_flags = u32::from(opts.defrag);
        let fd = sys::link_create(&attr)
            .map_err(|e| crate::util::link_create_error(e, LinkKind::Netfilter))?;
        Ok(NetfilterLink {
            link: RawLink::from_fd(fd),
        })
    })()
    .map_err(Error::attach(program, || {
        format!(
            "netfilter hook {} of family {} (priority {})",
            opts.hooknum, opts.pf, opts.priority
        )
    }))
}
