//! rtnetlink requests for the network fixtures, built with
//! netlink-packet-route (the crate `ebpf-link` uses for tc and XDP): netkit
//! pairs (bookworm's iproute2 6.1 predates `type netkit`), veth pairs across
//! two namespaces, addresses and link state.
//!
//! Each request goes out on a fresh `NETLINK_ROUTE` socket of the calling
//! thread's network namespace with `NLM_F_ACK`; the kernel answers with an
//! `NLMSG_ERROR` whose code is `0` or a negative errno, returned as the
//! `io::Error`'s raw OS error.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoNetkit, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
    NetkitMode,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, protocols::NETLINK_ROUTE};

/// `IFNAMSIZ`, counting the terminating NUL.
const IFNAMSIZ: usize = 16;

/// Creates a netkit device pair in the calling thread's network namespace:
/// `primary` (which carries the `netkit/primary` and `netkit/peer` programs)
/// and `peer`, in L3 mode with the default `forward` policy on both sides.
/// Both start down. Call it inside [`NetNs::run`](crate::NetNs::run).
///
/// A kernel without netkit (`CONFIG_NETKIT=n`, or older than 6.7) answers
/// `EOPNOTSUPP` ("unknown device type"); the error carries the raw errno.
///
/// # Minimum kernel version
///
/// 6.7.
pub fn create_netkit_pair(primary: &str, peer: &str) -> io::Result<()> {
    check_name(primary)?;
    check_name(peer)?;
    request(
        netkit_pair_message(primary, peer),
        NLM_F_CREATE | NLM_F_EXCL,
    )
}

/// Creates a veth pair: `name` in the calling thread's namespace and
/// `peer_name` in the namespace `peer_netns` (an open `/proc/.../ns/net`).
/// Both start down.
pub fn create_veth_pair(name: &str, peer_name: &str, peer_netns: BorrowedFd<'_>) -> io::Result<()> {
    check_name(name)?;
    check_name(peer_name)?;
    let mut peer = LinkMessage::default();
    peer.attributes = vec![
        LinkAttribute::IfName(peer_name.to_owned()),
        LinkAttribute::NetNsFd(peer_netns.as_raw_fd()),
    ];
    let mut msg = LinkMessage::default();
    msg.attributes = vec![
        LinkAttribute::IfName(name.to_owned()),
        LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]),
    ];
    request(RouteNetlinkMessage::NewLink(msg), NLM_F_CREATE | NLM_F_EXCL)
}

/// Adds the IPv4 address `addr/prefix_len` to interface `ifindex` of the
/// calling thread's namespace.
pub fn add_ipv4_address(ifindex: u32, addr: Ipv4Addr, prefix_len: u8) -> io::Result<()> {
    let mut msg = AddressMessage::default();
    msg.header.family = AddressFamily::Inet;
    msg.header.prefix_len = prefix_len;
    msg.header.index = ifindex;
    msg.attributes = vec![
        AddressAttribute::Local(IpAddr::V4(addr)),
        AddressAttribute::Address(IpAddr::V4(addr)),
    ];
    request(
        RouteNetlinkMessage::NewAddress(msg),
        NLM_F_CREATE | NLM_F_EXCL,
    )
}

/// Brings interface `ifindex` of the calling thread's namespace up.
pub fn set_link_up(ifindex: u32) -> io::Result<()> {
    let mut msg = LinkMessage::default();
    msg.header.index = ifindex;
    msg.header.flags = LinkFlags::Up;
    msg.header.change_mask = LinkFlags::Up;
    request(RouteNetlinkMessage::SetLink(msg), 0)
}

fn check_name(name: &str) -> io::Result<()> {
    if name.is_empty() || name.len() >= IFNAMSIZ || name.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("interface name {name:?}: 1 to 15 bytes, no NUL"),
        ));
    }
    Ok(())
}

/// The `RTM_NEWLINK` for [`create_netkit_pair`].
fn netkit_pair_message(primary: &str, peer: &str) -> RouteNetlinkMessage {
    let mut peer_msg = LinkMessage::default();
    peer_msg.attributes = vec![LinkAttribute::IfName(peer.to_owned())];
    let mut msg = LinkMessage::default();
    msg.attributes = vec![
        LinkAttribute::IfName(primary.to_owned()),
        LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Netkit),
            LinkInfo::Data(InfoData::Netkit(vec![
                InfoNetkit::Peer(peer_msg),
                InfoNetkit::Mode(NetkitMode::L3),
            ])),
        ]),
    ];
    RouteNetlinkMessage::NewLink(msg)
}

/// The bytes of request `msg` with sequence number `seq`.
fn encode(msg: RouteNetlinkMessage, flags: u16, seq: u32) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    header.sequence_number = seq;
    let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
    packet.finalize();
    let mut buf = vec![0u8; packet.buffer_len()];
    packet.serialize(&mut buf);
    buf
}

/// Sends `msg` on a fresh `NETLINK_ROUTE` socket and waits for its ack.
fn request(msg: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    socket.send(&encode(msg, flags, 1), 0)?;
    loop {
        let (datagram, _) = socket.recv_from_full()?;
        let mut rest = &datagram[..];
        while !rest.is_empty() {
            let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(rest)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            let len = (reply.header.length as usize).next_multiple_of(4).max(16);
            if reply.header.sequence_number == 1 {
                if let NetlinkPayload::Error(e) = reply.payload {
                    return match e.code {
                        None => Ok(()),
                        Some(code) => Err(io::Error::from_raw_os_error(-code.get())),
                    };
                }
            }
            rest = rest.get(len..).unwrap_or_default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends native-endian fields: `(2, v)` a `u16`, `(4, v)` a `u32`.
    fn fields(v: &mut Vec<u8>, fs: &[(u8, u32)]) {
        for &(size, x) in fs {
            match size {
                2 => v.extend(u16::try_from(x).unwrap().to_ne_bytes()),
                _ => v.extend(x.to_ne_bytes()),
            }
        }
    }

    /// The crate encodes exactly the request the hand-written client sent
    /// before it (and the kernel accepted): same attributes, order, padding.
    #[test]
    fn netkit_request_bytes() {
        let mut want = Vec::new();
        // nlmsghdr: 96 bytes, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE, seq 7.
        fields(&mut want, &[(4, 96), (2, 16), (2, 0x605), (4, 7), (4, 0)]);
        want.extend([0; 16]); // ifinfomsg
        fields(&mut want, &[(2, 8), (2, 3)]); // IFLA_IFNAME
        want.extend(b"nk0\0");
        fields(&mut want, &[(2, 56), (2, 18)]); // IFLA_LINKINFO
        fields(&mut want, &[(2, 11), (2, 1)]); // IFLA_INFO_KIND, 1 byte padding
        want.extend(b"netkit\0\0");
        fields(&mut want, &[(2, 40), (2, 2)]); // IFLA_INFO_DATA
        fields(&mut want, &[(2, 28), (2, 1)]); // IFLA_NETKIT_PEER_INFO
        want.extend([0; 16]); // its ifinfomsg
        fields(&mut want, &[(2, 8), (2, 3)]); // the peer's IFLA_IFNAME
        want.extend(b"nk1\0");
        fields(&mut want, &[(2, 8), (2, 5), (4, 1)]); // IFLA_NETKIT_MODE = L3
        let got = encode(
            netkit_pair_message("nk0", "nk1"),
            NLM_F_CREATE | NLM_F_EXCL,
            7,
        );
        assert_eq!(got, want);
    }

    #[test]
    fn names_are_checked() {
        assert!(create_netkit_pair("", "nk1").is_err());
        assert!(create_netkit_pair("nk0", "sixteen-bytes-xx").is_err());
    }
}
