//! Two network namespaces joined by a veth pair, and traffic between them:
//! UDP datagrams and ICMP echo requests (a `ping -c N` of our own, over a raw
//! socket, so the tests need no `ping` binary).

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn, recv, sendto, socket,
};
use nix::sys::time::TimeVal;

use crate::NetNs;
use crate::netlink::{add_ipv4_address, create_veth_pair, set_link_up};

/// One end of a [`VethPair`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `veth0`, 10.77.0.1, in namespace `a`.
    A,
    /// `veth1`, 10.77.0.2, in namespace `b`.
    B,
}

/// Two new network namespaces joined by a veth pair, created over rtnetlink:
/// `veth0` 10.77.0.1/24 in [`a`](Self::a), `veth1` 10.77.0.2/24 in
/// [`b`](Self::b), both up. Traffic stays between the two namespaces; both
/// disappear when this value is dropped.
#[derive(Debug)]
pub struct VethPair {
    /// The namespace of `veth0`.
    pub a: NetNs,
    /// The namespace of `veth1`.
    pub b: NetNs,
}

/// How long to wait for an answer that does not come (a dropped packet).
const WAIT: Duration = Duration::from_millis(500);

impl VethPair {
    /// The address of `veth0`.
    pub const A_ADDR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
    /// The address of `veth1`.
    pub const B_ADDR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);

    /// Creates the namespaces and the pair, and waits until a ping crosses
    /// it. Needs root.
    pub fn new() -> io::Result<VethPair> {
        let a = NetNs::new()?;
        let b = NetNs::new()?;
        a.run(|| create_veth_pair("veth0", "veth1", b.as_fd()))??;
        for (ns, dev, addr) in [(&a, "veth0", Self::A_ADDR), (&b, "veth1", Self::B_ADDR)] {
            ns.run(|| -> io::Result<()> {
                let index = nix::net::if_::if_nametoindex(dev)?;
                add_ipv4_address(index, addr, 24)?;
                set_link_up(index)
            })??;
        }
        let pair = VethPair { a, b };
        // Packets sent before the link is running (carrier, qdisc activation
        // by linkwatch) are dropped: start with both neighbour entries resolved.
        if !pair.wait_reachable(Side::A)? {
            return Err(io::Error::other("the veth pair never passed a ping"));
        }
        Ok(pair)
    }

    /// The namespace, device name and address of `side`.
    pub fn end(&self, side: Side) -> (&NetNs, &'static str, Ipv4Addr) {
        match side {
            Side::A => (&self.a, "veth0", Self::A_ADDR),
            Side::B => (&self.b, "veth1", Self::B_ADDR),
        }
    }

    /// The interface index of `side`'s device, in its namespace.
    pub fn ifindex(&self, side: Side) -> io::Result<u32> {
        let (ns, dev, _) = self.end(side);
        Ok(ns.run(|| nix::net::if_::if_nametoindex(dev))??)
    }

    /// Sends `count` UDP datagrams from `from` to the other side and returns
    /// how many arrived.
    pub fn udp(&self, from: Side, count: usize) -> io::Result<usize> {
        self.udp_paced(from, count, Duration::ZERO)
    }

    /// [`udp`](Self::udp), with `gap` between two datagrams (for traffic
    /// that goes on while the test changes something).
    pub fn udp_paced(&self, from: Side, count: usize, gap: Duration) -> io::Result<usize> {
        let (src_ns, _, src) = self.end(from);
        let (dst_ns, _, dst) = self.end(other(from));
        let rx = dst_ns.run(|| UdpSocket::bind((dst, 0)))??;
        rx.set_read_timeout(Some(WAIT))?;
        let to = rx.local_addr()?;
        // Received while they are sent, so the socket's buffer never fills.
        std::thread::scope(|s| {
            let receiver = s.spawn(|| -> io::Result<usize> {
                let mut got = 0;
                let mut buf = [0u8; 16];
                while got < count {
                    match rx.recv(&mut buf) {
                        Ok(_) => got += 1,
                        Err(e)
                            if matches!(
                                e.kind(),
                                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                            ) =>
                        {
                            break;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(got)
            });
            src_ns.run(|| -> io::Result<()> {
                let tx = UdpSocket::bind((src, 0))?;
                for i in 0..count {
                    tx.send_to(&(i as u32).to_ne_bytes(), to)?;
                    if !gap.is_zero() {
                        std::thread::sleep(gap);
                    }
                }
                Ok(())
            })??;
            receiver
                .join()
                .map_err(|_| io::Error::other("UDP receiver panicked"))?
        })
    }

    /// Pings from `from` until an echo is answered (up to 5 s): after a
    /// dropping program goes, the neighbour entries it starved of ARP
    /// answers take a moment to resolve again. Returns whether one was.
    pub fn wait_reachable(&self, from: Side) -> io::Result<bool> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.ping(from, 1)? == 1 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `ping -c count` from `from` to the other side: sends `count` ICMP
    /// echo requests one after the other and returns how many were
    /// answered.
    pub fn ping(&self, from: Side, count: usize) -> io::Result<usize> {
        let (src_ns, _, _) = self.end(from);
        let (_, _, dst) = self.end(other(from));
        src_ns.run(|| ping(dst, count))?
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::A => Side::B,
        Side::B => Side::A,
    }
}

/// ICMP echo over a raw socket of the calling thread's namespace.
fn ping(dst: Ipv4Addr, count: usize) -> io::Result<usize> {
    let sock = socket(
        AddressFamily::Inet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::Icmp,
    )?;
    let timeout = TimeVal::new(0, 100_000);
    nix::sys::socket::setsockopt(&sock, nix::sys::socket::sockopt::ReceiveTimeout, &timeout)?;
    let to = SockaddrIn::from(SocketAddrV4::new(dst, 0));
    let ident = (std::process::id() & 0xffff) as u16;
    let mut answered = 0;
    for seq in 0..count as u16 {
        let request = echo_request(ident, seq);
        sendto(sock.as_raw_fd(), &request, &to, MsgFlags::empty())?;
        let deadline = Instant::now() + WAIT;
        let mut buf = [0u8; 1500];
        while Instant::now() < deadline {
            let n = match recv(sock.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Ok(n) => n,
                Err(nix::Error::EAGAIN | nix::Error::EINTR) => continue,
                Err(e) => return Err(e.into()),
            };
            if is_echo_reply(&buf[..n], dst, ident, seq) {
                answered += 1;
                break;
            }
        }
    }
    Ok(answered)
}

/// An ICMP echo request (type 8) with identifier `ident` and sequence `seq`.
fn echo_request(ident: u16, seq: u16) -> Vec<u8> {
    let mut m = vec![8, 0, 0, 0];
    m.extend(ident.to_be_bytes());
    m.extend(seq.to_be_bytes());
    m.extend(b"ebpf-rs ping");
    let sum = checksum(&m);
    m[2..4].copy_from_slice(&sum.to_be_bytes());
    m
}

/// The Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Whether `packet` (an IPv4 datagram, as raw sockets deliver it) is the
/// echo reply from `from` to request (`ident`, `seq`).
fn is_echo_reply(packet: &[u8], from: Ipv4Addr, ident: u16, seq: u16) -> bool {
    let Some(&first) = packet.first() else {
        return false;
    };
    let ihl = usize::from(first & 0x0f) * 4;
    let Some(icmp) = packet.get(ihl..ihl + 8) else {
        return false;
    };
    packet.get(12..16) == Some(&from.octets()[..])
        && icmp[0] == 0
        && icmp[4..6] == ident.to_be_bytes()
        && icmp[6..8] == seq.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel_test;

    #[test]
    fn checksum_of_an_echo_request() {
        let m = echo_request(0x1234, 1);
        assert_eq!(checksum(&m), 0, "a packet with its checksum sums to 0");
    }

    #[test]
    fn traffic_crosses_the_pair() {
        kernel_test(|| {
            let veth = VethPair::new()?;
            assert_eq!(veth.ping(Side::A, 3)?, 3);
            assert_eq!(veth.udp(Side::B, 5)?, 5);
            assert_ne!(veth.ifindex(Side::A)?, 0);
            Ok(())
        });
    }
}
