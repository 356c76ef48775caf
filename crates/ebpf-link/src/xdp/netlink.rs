//! XDP over rtnetlink: `RTM_SETLINK` with an `IFLA_XDP` nest to attach,
//! replace or detach, `RTM_GETLINK` to read what is attached (what `ip link
//! set dev eth0 xdp ...` does; libbpf's `bpf_xdp_attach`/`bpf_xdp_query`).
//!
//! Kernel behaviour relied on (`net/core/dev.c`, `dev_xdp_attach`, and
//! `dev_change_xdp_fd` before 5.9): `UPDATE_IF_NOEXIST` refuses with `EBUSY`
//! when the mode already runs a program; `REPLACE` with an expected fd
//! refuses with `EEXIST` when the program there is another one (`-1`:
//! none), for attach and detach alike; a program held by an XDP bpf_link
//! (5.9) cannot be replaced over netlink (`EBUSY`); no mode flag means
//! driver mode if the driver has it, generic otherwise.

use netlink_packet_core::{NlasIterator, ParseableParametrized};
use netlink_packet_route::link::{LinkAttribute, LinkMessage, LinkXdp, XdpAttached};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::XdpQuery;
use crate::error::Result;
use crate::iface::Iface;
use crate::rtnetlink::Rtnl;

/// `XDP_FLAGS_UPDATE_IF_NOEXIST`.
pub(crate) const UPDATE_IF_NOEXIST: u32 = 1 << 0;
/// `XDP_FLAGS_REPLACE` (5.7).
pub(crate) const REPLACE: u32 = 1 << 4;
/// `sizeof(struct ifinfomsg)`.
const IFINFOMSG_LEN: usize = 16;

/// Sets the XDP program of `iface` (`fd` -1: none) with `flags`;
/// `expected_fd` is sent (with `REPLACE` in `flags`) when given.
pub(crate) fn set(
    rtnl: &mut Rtnl,
    iface: &Iface,
    fd: i32,
    flags: u32,
    expected_fd: Option<i32>,
) -> Result<()> {
    let mut xdp = vec![LinkXdp::Fd(fd), LinkXdp::Flags(flags)];
    if let Some(e) = expected_fd {
        xdp.push(LinkXdp::ExpectedFd(e as u32));
    }
    let mut msg = LinkMessage::default();
    msg.header.interface_family = AddressFamily::Unspec;
    msg.header.index = iface.index;
    msg.attributes = vec![LinkAttribute::Xdp(xdp)];
    rtnl.request("RTM_SETLINK", RouteNetlinkMessage::SetLink(msg), 0)?;
    Ok(())
}

/// The XDP programs of `iface`, from `RTM_GETLINK`.
pub(crate) fn query(rtnl: &mut Rtnl, iface: &Iface) -> Result<XdpQuery> {
    let mut msg = LinkMessage::default();
    msg.header.index = iface.index;
    let answers = rtnl.request("RTM_GETLINK", RouteNetlinkMessage::GetLink(msg), 0)?;
    let mut q = XdpQuery::default();
    for payload in &answers {
        if let Some(attrs) = payload.get(IFINFOMSG_LEN..) {
            read_xdp(attrs, &mut q);
        }
    }
    Ok(q)
}

/// Reads the `IFLA_XDP` nest among a link message's attributes; the others
/// are skipped unread.
fn read_xdp(attrs: &[u8], q: &mut XdpQuery) {
    let mut single = 0;
    let mut attached = XdpAttached::None;
    for nla in NlasIterator::new(attrs).flatten() {
        let Ok(LinkAttribute::Xdp(xdp)) =
            LinkAttribute::parse_with_param(&nla, AddressFamily::Unspec)
        else {
            continue;
        };
        for a in xdp {
            match a {
                LinkXdp::SkbProgId(id) => q.generic = id,
                LinkXdp::DrvProgId(id) => q.driver = id,
                LinkXdp::HwProgId(id) => q.offload = id,
                LinkXdp::ProgId(id) => single = id,
                LinkXdp::Attached(mode) => attached = mode,
                _ => {}
            }
        }
    }
    // Kernels before 4.19 report one program and its mode only.
    if q.generic == 0 && q.driver == 0 && q.offload == 0 && single != 0 {
        match attached {
            XdpAttached::SocketBuffer => q.generic = single,
            XdpAttached::Hardware => q.offload = single,
            _ => q.driver = single,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdp::XdpMode;
    use netlink_packet_core::Emitable;

    #[test]
    fn reads_the_xdp_nest() {
        let attrs = vec![
            LinkAttribute::IfName("veth0".into()),
            LinkAttribute::Xdp(vec![
                LinkXdp::Attached(XdpAttached::SocketBuffer),
                LinkXdp::SkbProgId(12),
                LinkXdp::ProgId(12),
            ]),
        ];
        let mut buf = vec![0u8; attrs.as_slice().buffer_len()];
        attrs.as_slice().emit(&mut buf);
        let mut q = XdpQuery::default();
        read_xdp(&buf, &mut q);
        assert_eq!((q.generic, q.driver, q.offload), (12, 0, 0));
        assert_eq!(q.mode(), Some(XdpMode::Generic));
        assert_eq!(q.program_id(), 12);
        // A kernel that only says "one program, in driver mode".
        let attrs = vec![LinkAttribute::Xdp(vec![
            LinkXdp::Attached(XdpAttached::Driver),
            LinkXdp::ProgId(7),
        ])];
        let mut buf = vec![0u8; attrs.as_slice().buffer_len()];
        attrs.as_slice().emit(&mut buf);
        let mut q = XdpQuery::default();
        read_xdp(&buf, &mut q);
        assert_eq!((q.driver, q.mode()), (7, Some(XdpMode::Driver)));
    }
}
