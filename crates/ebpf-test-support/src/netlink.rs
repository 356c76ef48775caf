//! A minimal rtnetlink client: just enough `RTM_NEWLINK` to create the
//! network devices the tests need when the installed iproute2 is too old to
//! know their kind (bookworm's iproute2 6.1 predates `type netkit`).
//!
//! Messages are built by hand: an `nlmsghdr`, an `ifinfomsg`, then `rtattr`s
//! (nested ones are an `rtattr` whose payload is more `rtattr`s), all in host
//! byte order and padded to 4 bytes. The kernel answers a request carrying
//! `NLM_F_ACK` with an `NLMSG_ERROR` message whose first field is `0` or a
//! negative errno.

use std::io;
use std::os::fd::AsRawFd;

use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, recv, sendto, socket,
};

const NLMSG_ERROR: u16 = 2;
const RTM_NEWLINK: u16 = 16;

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;

const IFLA_IFNAME: u16 = 3;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_NETKIT_PEER_INFO: u16 = 1;
const IFLA_NETKIT_MODE: u16 = 5;
/// `enum netkit_mode`: `NETKIT_L2` is 0.
const NETKIT_L3: u32 = 1;

/// `sizeof(struct nlmsghdr)`, also `sizeof(struct ifinfomsg)`.
const HDR_LEN: usize = 16;
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
    request(&netkit_pair_request(primary, peer, 1), 1)
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

/// The `RTM_NEWLINK` message for [`create_netkit_pair`].
fn netkit_pair_request(primary: &str, peer: &str, seq: u32) -> Vec<u8> {
    let mut m = Vec::new();
    nlmsghdr(
        &mut m,
        RTM_NEWLINK,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE,
        seq,
    );
    ifinfomsg(&mut m);
    attr(&mut m, IFLA_IFNAME, &c_string(primary));
    let linkinfo = nest_begin(&mut m, IFLA_LINKINFO);
    attr(&mut m, IFLA_INFO_KIND, &c_string("netkit"));
    let data = nest_begin(&mut m, IFLA_INFO_DATA);
    // The peer: an ifinfomsg followed by its own IFLA_* attributes.
    let peer_info = nest_begin(&mut m, IFLA_NETKIT_PEER_INFO);
    ifinfomsg(&mut m);
    attr(&mut m, IFLA_IFNAME, &c_string(peer));
    nest_end(&mut m, peer_info);
    attr(&mut m, IFLA_NETKIT_MODE, &NETKIT_L3.to_ne_bytes());
    nest_end(&mut m, data);
    nest_end(&mut m, linkinfo);
    let len = u32::try_from(m.len()).unwrap();
    m[0..4].copy_from_slice(&len.to_ne_bytes());
    m
}

/// `struct nlmsghdr` with its length left 0 (patched once the message is
/// complete) and port id 0 (the kernel fills in the sender's).
fn nlmsghdr(m: &mut Vec<u8>, ty: u16, flags: u16, seq: u32) {
    m.extend(0u32.to_ne_bytes());
    m.extend(ty.to_ne_bytes());
    m.extend(flags.to_ne_bytes());
    m.extend(seq.to_ne_bytes());
    m.extend(0u32.to_ne_bytes());
}

/// An all-zero `struct ifinfomsg`: `AF_UNSPEC`, no index, no flag changes.
fn ifinfomsg(m: &mut Vec<u8>) {
    m.extend([0u8; HDR_LEN]);
}

fn c_string(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// One `rtattr`: length (header included, padding not), type, payload,
/// zero padding to 4 bytes.
fn attr(m: &mut Vec<u8>, ty: u16, payload: &[u8]) {
    let start = nest_begin(m, ty);
    m.extend(payload);
    nest_end(m, start);
}

/// Starts an `rtattr` whose payload follows; returns its offset for
/// [`nest_end`].
fn nest_begin(m: &mut Vec<u8>, ty: u16) -> usize {
    let start = m.len();
    m.extend(0u16.to_ne_bytes());
    m.extend(ty.to_ne_bytes());
    start
}

/// Writes the length of the `rtattr` at `start` and pads the message.
fn nest_end(m: &mut Vec<u8>, start: usize) {
    let len = u16::try_from(m.len() - start).unwrap();
    m[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    m.resize(m.len().next_multiple_of(4), 0);
}

/// Sends `req` on a fresh `NETLINK_ROUTE` socket and waits for its ACK.
fn request(req: &[u8], seq: u32) -> io::Result<()> {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )?;
    sendto(
        fd.as_raw_fd(),
        req,
        &NetlinkAddr::new(0, 0),
        MsgFlags::empty(),
    )?;
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty())?;
        if let Some(res) = find_ack(&buf[..n], seq)? {
            return res;
        }
    }
}

/// Looks through one datagram of replies for the `NLMSG_ERROR` answering
/// `seq`: `Ok(Some(Ok(())))` for an ACK, `Ok(Some(Err(errno)))` for a refusal,
/// `Ok(None)` if it is not in this datagram.
fn find_ack(mut buf: &[u8], seq: u32) -> io::Result<Option<io::Result<()>>> {
    let malformed = || io::Error::new(io::ErrorKind::InvalidData, "malformed netlink reply");
    while buf.len() >= HDR_LEN {
        let len = u32_at(buf, 0) as usize;
        if len < HDR_LEN || len > buf.len() {
            return Err(malformed());
        }
        let ty = u16::from_ne_bytes([buf[4], buf[5]]);
        if ty == NLMSG_ERROR && u32_at(buf, 8) == seq {
            if len < HDR_LEN + 4 {
                return Err(malformed());
            }
            let errno = i32::from_ne_bytes(buf[HDR_LEN..HDR_LEN + 4].try_into().unwrap());
            return Ok(Some(match errno {
                0 => Ok(()),
                e => Err(io::Error::from_raw_os_error(-e)),
            }));
        }
        buf = &buf[len.next_multiple_of(4).min(buf.len())..];
    }
    Ok(None)
}

fn u32_at(buf: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap())
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
        assert_eq!(netkit_pair_request("nk0", "nk1", 7), want);
    }

    #[test]
    fn acks_and_errors() {
        let reply = |seq: u32, errno: i32| {
            let mut v = Vec::new();
            fields(&mut v, &[(4, 36), (2, 2), (2, 0), (4, seq), (4, 0)]);
            v.extend(errno.to_ne_bytes());
            v.extend([0; 16]); // the request's header, echoed
            v
        };
        assert!(matches!(find_ack(&reply(3, 0), 3), Ok(Some(Ok(())))));
        let err = find_ack(&reply(3, -95), 3).unwrap().unwrap().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(95));
        // Another sequence number first, then ours, in one datagram.
        let mut two = reply(2, -1);
        two.extend(reply(3, -17));
        let err = find_ack(&two, 3).unwrap().unwrap().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(17));
        assert!(find_ack(&reply(2, 0), 3).unwrap().is_none());
        assert!(find_ack(&[0xff; 20], 3).is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(create_netkit_pair("", "nk1").is_err());
        assert!(create_netkit_pair("nk0", "sixteen-bytes-xx").is_err());
    }
}
