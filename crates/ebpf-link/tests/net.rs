//! XDP, TCX, netkit, sk_lookup, netfilter, socket filters and socket maps,
//! inside network namespaces the tests create (traffic only between their
//! own addresses).

mod common;

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use common::*;
use ebpf_link::tcx::{self, Anchor, TcxDirection, TcxOptions};
use ebpf_link::xdp::{self, XdpMode};
use ebpf_link::{Link, LinkInfoData};
use ebpf_test_support::{BpfFs, NetNs, create_netkit_pair, kernel_test, skip};

fn sh(cmd: &str) {
    let args: Vec<&str> = cmd.split_whitespace().collect();
    let st = Command::new(args[0]).args(&args[1..]).status().unwrap();
    assert!(st.success(), "{cmd}: {st}");
}

/// Two namespaces joined by a veth pair: `veth0` 10.77.0.1 in `a`, `veth1`
/// 10.77.0.2 in `b`.
struct Veth {
    a: NetNs,
    b: NetNs,
}

impl Veth {
    fn new() -> Veth {
        let a = NetNs::new().unwrap();
        a.run(|| sh("ip link add veth0 type veth peer name veth1"))
            .unwrap();
        Veth::join(a, "veth0", "veth1")
    }

    /// The same over a netkit pair in L3 mode: `nk0`, the primary, in `a`;
    /// `nk1`, the peer, in `b`. Fails with the kernel's errno (`EOPNOTSUPP`
    /// without netkit).
    fn netkit() -> std::io::Result<Veth> {
        let a = NetNs::new().unwrap();
        a.run(|| create_netkit_pair("nk0", "nk1")).unwrap()?;
        Ok(Veth::join(a, "nk0", "nk1"))
    }

    /// Moves `dev_b` from `a` into a new namespace `b`, addresses both
    /// ends and brings them up.
    fn join(a: NetNs, dev_a: &str, dev_b: &str) -> Veth {
        let b = NetNs::new().unwrap();
        let target = format!("/proc/{}/fd/{}", std::process::id(), b.raw_fd());
        a.run(|| {
            sh(&format!("ip link set {dev_b} netns {target}"));
            sh(&format!("ip addr add 10.77.0.1/24 dev {dev_a}"));
            sh(&format!("ip link set {dev_a} up"));
        })
        .unwrap();
        b.run(|| {
            sh(&format!("ip addr add 10.77.0.2/24 dev {dev_b}"));
            sh(&format!("ip link set {dev_b} up"));
        })
        .unwrap();
        Veth { a, b }
    }

    fn ifindex_a(&self) -> u32 {
        self.a.run(|| ebpf_link::ifindex("veth0").unwrap()).unwrap()
    }

    /// Sends one datagram from b to a and returns whether it arrived.
    fn udp_b_to_a(&self) -> bool {
        udp_between((&self.b, "10.77.0.2"), (&self.a, "10.77.0.1"))
    }

    /// Sends one datagram from a to b and returns whether it arrived.
    fn udp_a_to_b(&self) -> bool {
        udp_between((&self.a, "10.77.0.1"), (&self.b, "10.77.0.2"))
    }
}

/// Sends one datagram between two (namespace, address) ends and returns
/// whether it arrived.
fn udp_between(from: (&NetNs, &str), to: (&NetNs, &str)) -> bool {
    let rx = to.0.run(|| UdpSocket::bind((to.1, 0)).unwrap()).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let dst = rx.local_addr().unwrap();
    from.0
        .run(|| {
            let tx = UdpSocket::bind((from.1, 0)).unwrap();
            tx.send_to(b"ping", dst).unwrap();
        })
        .unwrap();
    let mut buf = [0u8; 16];
    rx.recv(&mut buf).is_ok()
}

/// One datagram over loopback inside `ns`.
fn udp_loopback(ns: &NetNs) -> bool {
    ns.run(|| {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.send_to(b"ping", rx.local_addr().unwrap()).unwrap();
        let mut buf = [0u8; 16];
        rx.recv(&mut buf).is_ok()
    })
    .unwrap()
}

#[test]
fn xdp_counts_packets_on_veth() {
    kernel_test(|| {
        let veth = Veth::new();
        let map = counter();
        let prog = counting_program("xdp", &map, None, 2); // XDP_PASS
        let ifindex = veth.ifindex_a();
        for mode in [XdpMode::Generic, XdpMode::Driver] {
            reset(&map);
            let link = veth
                .a
                .run(|| xdp::attach(&prog, ifindex, mode))
                .unwrap()
                .unwrap();
            assert!(veth.udp_b_to_a(), "{mode:?}: the datagram passes");
            assert!(count(&map) >= 1, "{mode:?}: XDP saw no packet");
            assert_eq!(link.info().unwrap().data, LinkInfoData::Xdp { ifindex });
            drop(link);
            let before = count(&map);
            assert!(veth.udp_b_to_a());
            assert_eq!(count(&map), before, "{mode:?}: detached on drop");
        }
        Ok(())
    });
}

#[test]
fn xdp_update_pin_and_detach() {
    kernel_test(|| {
        let fs = BpfFs::new().unwrap();
        let veth = Veth::new();
        let map = counter();
        let prog = counting_program("xdp", &map, None, 2);
        let quiet = trivial_program("xdp", 2);
        let ifindex = veth.ifindex_a();
        let mut link = veth
            .a
            .run(|| xdp::attach(&prog, ifindex, XdpMode::Generic))
            .unwrap()
            .unwrap();
        // Update to the quiet program: no more counting.
        link.update(&quiet).unwrap();
        let before = count(&map);
        assert!(veth.udp_b_to_a());
        assert_eq!(count(&map), before);
        // Back, pinned, dropped: still attached.
        link.update(&prog).unwrap();
        let path = fs.path().join("xdp");
        link.pin(&path).unwrap();
        drop(link);
        assert!(veth.udp_b_to_a());
        assert!(count(&map) > before);
        // Reopen and detach explicitly (the pin stays, the link is defunct).
        let mut link = xdp::XdpLink::from_pin(&path).unwrap();
        link.detach().unwrap();
        let before = count(&map);
        assert!(veth.udp_b_to_a());
        assert_eq!(count(&map), before);
        link.unpin().unwrap();
        Ok(())
    });
}

#[test]
fn tcx_counts_and_orders_programs() {
    kernel_test(|| {
        let veth = Veth::new();
        let map1 = counter();
        let map2 = counter();
        let p1 = counting_program("tcx/ingress", &map1, None, -1); // TCX_NEXT
        let p2 = counting_program("tcx/ingress", &map2, None, -1);
        let ifindex = veth.ifindex_a();
        let res = veth
            .a
            .run(|| tcx::attach(&p1, ifindex, TcxDirection::Ingress, &TcxOptions::default()))
            .unwrap();
        let Some(l1) = ebpf_test_support::skip_if_not_supported(res) else {
            return Ok(());
        };
        let q = veth
            .a
            .run(|| tcx::query(ifindex, TcxDirection::Ingress))
            .unwrap()
            .unwrap();
        assert_eq!(q.program_ids, vec![p1.id().unwrap()]);
        // Before l1, with the current revision.
        let opts = TcxOptions {
            anchor: Anchor::BeforeLink(&l1),
            expected_revision: q.revision,
        };
        let l2 = veth
            .a
            .run(|| tcx::attach(&p2, ifindex, TcxDirection::Ingress, &opts))
            .unwrap()
            .unwrap();
        let q2 = veth
            .a
            .run(|| tcx::query(ifindex, TcxDirection::Ingress))
            .unwrap()
            .unwrap();
        assert_eq!(q2.program_ids, vec![p2.id().unwrap(), p1.id().unwrap()]);
        assert_eq!(q2.link_ids, vec![l2.id().unwrap(), l1.id().unwrap()]);
        assert!(q2.revision > q.revision);
        // A stale revision is refused.
        let stale = TcxOptions {
            anchor: Anchor::First,
            expected_revision: q.revision,
        };
        let p3 = trivial_program("tcx/ingress", -1);
        let err = veth
            .a
            .run(|| tcx::attach(&p3, ifindex, TcxDirection::Ingress, &stale))
            .unwrap()
            .unwrap_err();
        assert_eq!(err.errno(), Some(ebpf_syscall::Errno::STALE), "{err}");
        // After a program, by id.
        let after = TcxOptions {
            anchor: Anchor::AfterProgramId(p1.id().unwrap()),
            expected_revision: 0,
        };
        let l3 = veth
            .a
            .run(|| tcx::attach(&p3, ifindex, TcxDirection::Ingress, &after))
            .unwrap()
            .unwrap();
        let q3 = veth
            .a
            .run(|| tcx::query(ifindex, TcxDirection::Ingress))
            .unwrap()
            .unwrap();
        assert_eq!(
            q3.program_ids,
            vec![p2.id().unwrap(), p1.id().unwrap(), p3.id().unwrap()]
        );
        // Both counting programs see the traffic.
        assert!(veth.udp_b_to_a());
        assert!(count(&map1) >= 1 && count(&map2) >= 1);
        assert!(matches!(
            l1.info().unwrap().data,
            LinkInfoData::Tcx { ifindex: i, attach_type: ebpf_syscall::AttachType::TCX_INGRESS } if i == ifindex
        ));
        drop((l1, l2, l3));
        let q4 = veth
            .a
            .run(|| tcx::query(ifindex, TcxDirection::Ingress))
            .unwrap()
            .unwrap();
        assert!(q4.program_ids.is_empty());
        Ok(())
    });
}

#[test]
fn tcx_egress_update() {
    kernel_test(|| {
        let veth = Veth::new();
        let map = counter();
        let quiet = trivial_program("tcx/egress", -1);
        let prog = counting_program("tcx/egress", &map, None, -1);
        let ifindex = veth.ifindex_a();
        let res = veth.a.run(|| {
            tcx::attach(
                &quiet,
                ifindex,
                TcxDirection::Egress,
                &TcxOptions::default(),
            )
        });
        let Some(mut link) = ebpf_test_support::skip_if_not_supported(res.unwrap()) else {
            return Ok(());
        };
        link.update(&prog).unwrap();
        // a -> b: egress of veth0.
        let rx = veth
            .b
            .run(|| UdpSocket::bind("10.77.0.2:0").unwrap())
            .unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let dst = rx.local_addr().unwrap();
        veth.a
            .run(|| {
                UdpSocket::bind("10.77.0.1:0")
                    .unwrap()
                    .send_to(b"x", dst)
                    .unwrap()
            })
            .unwrap();
        let mut buf = [0u8; 4];
        rx.recv(&mut buf).unwrap();
        assert!(count(&map) >= 1);
        Ok(())
    });
}

#[test]
fn netkit_counts_both_sides() {
    kernel_test(|| {
        use ebpf_link::netkit::{self, NetkitSide};
        use ebpf_syscall::AttachType;
        let nk = match Veth::netkit() {
            Ok(nk) => nk,
            Err(e) if e.raw_os_error() == Some(ebpf_syscall::Errno::OPNOTSUPP.0) => {
                // CONFIG_NETKIT=n, or a kernel before 6.7.
                skip(format!(
                    "no netkit support in the kernel (RTM_NEWLINK kind netkit: {e})"
                ));
                return Ok(());
            }
            Err(e) => panic!("creating the netkit pair nk0/nk1: {e}"),
        };
        let primary_map = counter();
        let peer_map = counter();
        let primary_prog = counting_program("netkit/primary", &primary_map, None, -1); // NETKIT_NEXT
        let peer_prog = counting_program("netkit/peer", &peer_map, None, -1);
        let ifindex = nk.a.run(|| ebpf_link::ifindex("nk0").unwrap()).unwrap();
        let peer_ifindex = nk.b.run(|| ebpf_link::ifindex("nk1").unwrap()).unwrap();
        let attach = |prog, side| {
            nk.a.run(|| netkit::attach(prog, ifindex, side, &Default::default()))
                .unwrap()
        };
        let res = attach(&primary_prog, NetkitSide::Primary);
        let Some(primary) = ebpf_test_support::skip_if_not_supported(res) else {
            return Ok(());
        };
        // Both sides are managed through the primary device.
        let peer = attach(&peer_prog, NetkitSide::Peer).unwrap();
        assert_eq!(
            primary.info().unwrap().data,
            LinkInfoData::Netkit {
                ifindex,
                attach_type: AttachType::NETKIT_PRIMARY
            }
        );
        assert_eq!(
            peer.info().unwrap().data,
            LinkInfoData::Netkit {
                ifindex: peer_ifindex,
                attach_type: AttachType::NETKIT_PEER
            }
        );
        let query = |side| nk.a.run(|| netkit::query(ifindex, side)).unwrap().unwrap();
        assert_eq!(
            query(NetkitSide::Primary).program_ids,
            vec![primary_prog.id().unwrap()]
        );
        assert_eq!(query(NetkitSide::Peer).link_ids, vec![peer.id().unwrap()]);
        // The primary's programs see what the primary transmits (a -> b),
        // the peer's what the peer transmits (b -> a).
        assert!(nk.udp_a_to_b(), "a -> b over netkit");
        assert!(count(&primary_map) >= 1, "the primary program saw nothing");
        assert_eq!(count(&peer_map), 0, "the peer program saw a -> b");
        assert!(nk.udp_b_to_a(), "b -> a over netkit");
        assert!(count(&peer_map) >= 1, "the peer program saw nothing");
        // Detached on drop: traffic flows, nothing counts.
        drop((primary, peer));
        assert!(query(NetkitSide::Primary).program_ids.is_empty());
        assert!(query(NetkitSide::Peer).program_ids.is_empty());
        reset(&primary_map);
        reset(&peer_map);
        assert!(nk.udp_a_to_b() && nk.udp_b_to_a());
        assert_eq!((count(&primary_map), count(&peer_map)), (0, 0));
        Ok(())
    });
}

#[test]
fn sk_lookup_runs_in_a_netns() {
    kernel_test(|| {
        let ns = NetNs::new().unwrap();
        let map = counter();
        let prog = counting_program("sk_lookup", &map, None, 1); // SK_PASS
        let mut link = ebpf_link::netns::attach(&prog, &ns).unwrap();
        assert!(udp_loopback(&ns));
        assert!(count(&map) >= 1);
        assert!(matches!(
            link.info().unwrap().data,
            LinkInfoData::Netns {
                attach_type: ebpf_syscall::AttachType::SK_LOOKUP,
                ..
            }
        ));
        // The host namespace is untouched: no traffic here, just the link's scope.
        link.detach().unwrap();
        let before = count(&map);
        assert!(udp_loopback(&ns));
        assert_eq!(count(&map), before);
        Ok(())
    });
}

#[test]
fn flow_dissector_attaches_to_a_netns() {
    kernel_test(|| {
        let ns = NetNs::new().unwrap();
        let prog = trivial_program("flow_dissector", 0);
        let mut link = ebpf_link::netns::attach(&prog, &ns).unwrap();
        assert!(matches!(
            link.info().unwrap().data,
            LinkInfoData::Netns {
                attach_type: ebpf_syscall::AttachType::FLOW_DISSECTOR,
                ..
            }
        ));
        let other = trivial_program("flow_dissector", 0);
        link.update(&other).unwrap();
        assert_eq!(link.info().unwrap().program_id, other.id().unwrap());
        Ok(())
    });
}

#[test]
fn netfilter_counts_local_in() {
    kernel_test(|| {
        use ebpf_link::netfilter::{self, NF_INET_LOCAL_IN, NFPROTO_IPV4, NetfilterOptions};
        let ns = NetNs::new().unwrap();
        let map = counter();
        let res = load("counter", "netfilter", counting_insns(&map, None, 1)); // NF_ACCEPT
        let Some(prog) = ebpf_test_support::skip_if_not_supported(res) else {
            return Ok(());
        };
        let opts = NetfilterOptions {
            pf: NFPROTO_IPV4,
            hooknum: NF_INET_LOCAL_IN,
            priority: -128,
            defrag: false,
        };
        let res = ns.run(|| netfilter::attach(&prog, &opts)).unwrap();
        let link = match res {
            Ok(l) => l,
            Err(e) if e.not_supported().is_some() => {
                // CONFIG_NETFILTER_BPF_LINK=n.
                skip(format!("{e}"));
                return Ok(());
            }
            Err(e) => panic!("{e}"),
        };
        assert!(udp_loopback(&ns));
        assert!(count(&map) >= 1);
        assert_eq!(
            link.info().unwrap().data,
            LinkInfoData::Netfilter {
                pf: NFPROTO_IPV4,
                hooknum: NF_INET_LOCAL_IN,
                priority: -128,
                flags: 0
            }
        );
        Ok(())
    });
}

#[test]
fn socket_filter_sees_datagrams() {
    kernel_test(|| {
        let ns = NetNs::new().unwrap();
        let map = counter();
        let prog = counting_program("socket", &map, None, -1); // keep the packet
        let (rx, tx) = ns
            .run(|| {
                (
                    UdpSocket::bind("127.0.0.1:0").unwrap(),
                    UdpSocket::bind("127.0.0.1:0").unwrap(),
                )
            })
            .unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut filter = ebpf_link::socket_filter::attach(&prog, &rx).unwrap();
        let mut buf = [0u8; 8];
        for _ in 0..3 {
            tx.send_to(b"x", rx.local_addr().unwrap()).unwrap();
            rx.recv(&mut buf).unwrap();
        }
        assert_eq!(count(&map), 3);
        assert!(filter.pin(&std::env::temp_dir().join("never")).is_err());
        filter.detach().unwrap();
        tx.send_to(b"x", rx.local_addr().unwrap()).unwrap();
        rx.recv(&mut buf).unwrap();
        assert_eq!(count(&map), 3);
        Ok(())
    });
}

#[test]
fn sk_msg_on_a_sockmap() {
    kernel_test(|| {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        let ns = NetNs::new().unwrap();
        let map = counter();
        let sockmap = ebpf::Map::create(&ebpf::MapSpec::new(
            "socks",
            ebpf::MapType::SOCKMAP,
            4,
            4,
            2,
        ))
        .unwrap();
        let prog = counting_program("sk_msg", &map, None, 1); // SK_PASS
        let link = ebpf_link::sockmap::attach(&prog, &sockmap).unwrap();
        let (mut client, mut server) = ns
            .run(|| {
                let l = TcpListener::bind("127.0.0.1:0").unwrap();
                let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
                let (s, _) = l.accept().unwrap();
                (c, s)
            })
            .unwrap();
        sockmap.set_fd(&0u32.to_ne_bytes(), &client).unwrap();
        client.write_all(b"hello").unwrap();
        let mut buf = [0u8; 5];
        server.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hello");
        assert!(count(&map) >= 1);
        if link.is_bpf_link() {
            assert!(matches!(
                link.info().unwrap().data,
                LinkInfoData::Sockmap { .. }
            ));
        }
        drop(link);
        sockmap.delete(&0u32.to_ne_bytes()).unwrap();
        Ok(())
    });
}
