//! Classic tc (clsact + cls_bpf) with real traffic across a veth pair
//! between two namespaces: `veth0` 10.77.0.1 in `a`, `veth1` 10.77.0.2 in `b`.

mod common;

use std::time::Duration;

use common::*;
use ebpf_link::tc::{self, ETH_P_IP, TcDirection, TcOptions};
use ebpf_link::{Error, Link};
use ebpf_test_support::{Side, VethPair, kernel_test, require_tool};

/// `TC_ACT_OK` and `TC_ACT_SHOT`.
const TC_ACT_OK: i32 = 0;
const TC_ACT_SHOT: i32 = 2;

fn ipv4_only() -> TcOptions<'static> {
    TcOptions {
        protocol: ETH_P_IP,
        ..Default::default()
    }
}

#[test]
fn cls_bpf_counts_pings_and_datagrams() {
    kernel_test(|| {
        let veth = VethPair::new()?;
        let map = counter();
        let prog = counting_program("tc", &map, None, TC_ACT_OK);
        // IPv4 only, so neither ARP nor IPv6 neighbour discovery is counted.
        let filter = veth
            .b
            .run(|| tc::attach(&prog, "veth1", TcDirection::Ingress, &ipv4_only()))??;
        assert!(filter.created_qdisc());
        assert_eq!(veth.ping(Side::A, 5)?, 5);
        assert_eq!(count(&map), 5, "one echo request each enters veth1");
        assert_eq!(veth.udp(Side::A, 7)?, 7);
        assert_eq!(count(&map), 12);
        let listed = veth.b.run(|| tc::query("veth1", TcDirection::Ingress))??;
        assert_eq!(listed.len(), 1, "{listed:?}");
        let f = &listed[0];
        assert_eq!(f.id, filter.id());
        assert_eq!(f.id.protocol, ETH_P_IP);
        assert_eq!(
            (f.kind.as_str(), f.name.as_deref()),
            ("bpf", Some("counter"))
        );
        assert_eq!(f.program_id, Some(prog.id()?));
        assert!(f.direct_action);
        assert_ne!(f.id.priority, 0, "the kernel chose a priority");
        assert_ne!(f.id.handle, 0, "the kernel chose a handle");
        let egress = veth.b.run(|| tc::query("veth1", TcDirection::Egress))??;
        assert!(egress.is_empty());
        // Dropped: the filter goes, then the qdisc it created.
        drop(filter);
        assert!(
            veth.b
                .run(|| tc::query("veth1", TcDirection::Ingress))??
                .is_empty()
        );
        assert!(
            veth.b.run(|| tc::create_clsact("veth1"))??,
            "clsact was removed"
        );
        veth.b.run(|| tc::destroy_clsact("veth1"))??;
        assert_eq!(veth.udp(Side::A, 3)?, 3);
        assert_eq!(count(&map), 12);
        Ok(())
    });
}

#[test]
fn cls_bpf_drops_until_detached() {
    kernel_test(|| {
        let veth = VethPair::new()?;
        let drop_all = trivial_program("tc", TC_ACT_SHOT);
        let ifindex = veth.ifindex(Side::B)?;
        // By index this time.
        let mut filter = veth.b.run(|| {
            tc::attach(
                &drop_all,
                ifindex,
                TcDirection::Ingress,
                &TcOptions::default(),
            )
        })??;
        assert_eq!(veth.ping(Side::A, 3)?, 0, "pings get through a dropper");
        assert_eq!(veth.udp(Side::A, 3)?, 0);
        // Detached explicitly through the Link trait; a second detach is a no-op.
        filter.detach()?;
        filter.detach()?;
        assert!(veth.wait_reachable(Side::A)?, "traffic is back");
        assert_eq!(veth.ping(Side::A, 3)?, 3);
        drop(filter);
        // And again, detached on drop.
        let filter = veth.b.run(|| {
            tc::attach(
                &drop_all,
                "veth1",
                TcDirection::Ingress,
                &TcOptions::default(),
            )
        })??;
        assert_eq!(veth.udp(Side::A, 2)?, 0);
        drop(filter);
        assert!(veth.wait_reachable(Side::A)?);
        assert_eq!(veth.udp(Side::A, 2)?, 2);
        Ok(())
    });
}

#[test]
fn cls_bpf_egress_counts() {
    kernel_test(|| {
        let veth = VethPair::new()?;
        let map = counter();
        let prog = counting_program("classifier", &map, None, TC_ACT_OK);
        let _filter = veth
            .a
            .run(|| tc::attach(&prog, "veth0", TcDirection::Egress, &ipv4_only()))??;
        assert_eq!(veth.udp(Side::A, 4)?, 4);
        assert_eq!(count(&map), 4, "datagrams leaving veth0");
        assert_eq!(veth.ping(Side::B, 2)?, 2);
        assert_eq!(count(&map), 6, "echo replies leaving veth0");
        Ok(())
    });
}

/// Swaps the program of a filter back and forth while datagrams flow: every
/// datagram is counted by one of the two programs, so the filter was never
/// missing, and the list always shows one filter in the same place.
#[test]
fn cls_bpf_replace_leaves_no_gap() {
    kernel_test(|| {
        let veth = VethPair::new()?;
        let (map_a, map_b) = (counter(), counter());
        let prog_a = counting_program("tc", &map_a, None, TC_ACT_OK);
        let prog_b = counting_program("tc", &map_b, None, TC_ACT_OK);
        let opts = TcOptions {
            priority: 10,
            handle: 7,
            protocol: ETH_P_IP,
            name: Some("swapped"),
            replace: false,
        };
        let mut filter = veth
            .b
            .run(|| tc::attach(&prog_a, "veth1", TcDirection::Ingress, &opts))??;
        assert_eq!((filter.id().priority, filter.id().handle), (10, 7));
        const SENT: usize = 300;
        let received = std::thread::scope(|s| -> ebpf_test_support::TestResult {
            let traffic = s.spawn(|| veth.udp_paced(Side::A, SENT, Duration::from_micros(500)));
            for i in 0..20 {
                let next = if i % 2 == 0 { &prog_b } else { &prog_a };
                filter.replace(next)?;
                let listed = veth.b.run(|| tc::query("veth1", TcDirection::Ingress))??;
                assert_eq!(listed.len(), 1, "{listed:?}");
                assert_eq!(listed[0].id, filter.id());
                assert_eq!(listed[0].program_id, Some(next.id()?));
                assert_eq!(listed[0].name.as_deref(), Some("swapped"));
                std::thread::sleep(Duration::from_millis(5));
            }
            let got = traffic.join().map_err(|_| "traffic thread panicked")??;
            assert_eq!(got, SENT);
            Ok(())
        });
        received?;
        assert_eq!(
            count(&map_a) + count(&map_b),
            SENT as u64,
            "a: {}, b: {}",
            count(&map_a),
            count(&map_b)
        );
        assert!(count(&map_a) > 0 && count(&map_b) > 0);
        Ok(())
    });
}

/// `replace: true` takes over a filter another attachment put there; the
/// first attachment then leaves it alone when dropped.
#[test]
fn cls_bpf_replace_by_id_takes_over() {
    kernel_test(|| {
        let veth = VethPair::new()?;
        let (map_a, map_b) = (counter(), counter());
        let prog_a = counting_program("tc", &map_a, None, TC_ACT_OK);
        let prog_b = counting_program("tc", &map_b, None, TC_ACT_OK);
        let first = veth
            .b
            .run(|| tc::attach(&prog_a, "veth1", TcDirection::Ingress, &ipv4_only()))??;
        let opts = TcOptions {
            priority: first.id().priority,
            handle: first.id().handle,
            replace: true,
            ..ipv4_only()
        };
        let second = veth
            .b
            .run(|| tc::attach(&prog_b, "veth1", TcDirection::Ingress, &opts))??;
        assert!(!second.created_qdisc());
        drop(first); // no longer its program: left in place
        assert_eq!(veth.udp(Side::A, 3)?, 3);
        assert_eq!((count(&map_a), count(&map_b)), (0, 3));
        drop(second);
        assert!(
            veth.b
                .run(|| tc::query("veth1", TcDirection::Ingress))??
                .is_empty()
        );
        Ok(())
    });
}

/// Two attachments share the qdisc; only the one that created it removes
/// it, and only when no filter is left.
#[test]
fn cls_bpf_qdisc_is_shared_and_kept() {
    kernel_test(|| {
        let veth = VethPair::new()?;
        let map = counter();
        let prog = counting_program("tc", &map, None, TC_ACT_OK);
        let attach = |dir| veth.b.run(|| tc::attach(&prog, "veth1", dir, &ipv4_only()));
        let creator = attach(TcDirection::Ingress)??;
        let other = attach(TcDirection::Egress)??;
        assert!(creator.created_qdisc() && !other.created_qdisc());
        drop(creator); // the egress filter still uses clsact
        let egress = veth.b.run(|| tc::query("veth1", TcDirection::Egress))??;
        assert_eq!(egress.len(), 1);
        drop(other); // did not create it: leaves it
        assert!(
            !veth.b.run(|| tc::create_clsact("veth1"))??,
            "clsact is still there"
        );
        veth.b.run(|| tc::destroy_clsact("veth1"))??;
        assert!(veth.b.run(|| tc::create_clsact("veth1"))??);
        veth.b.run(|| tc::destroy_clsact("veth1"))??;
        Ok(())
    });
}

#[test]
fn cls_bpf_keep_then_detach_by_id() {
    kernel_test(|| {
        let veth = VethPair::new()?;
        let drop_all = trivial_program("tc", TC_ACT_SHOT);
        let filter = veth.b.run(|| {
            tc::attach(
                &drop_all,
                "veth1",
                TcDirection::Ingress,
                &TcOptions::default(),
            )
        })??;
        let mut filter = filter;
        assert!(
            filter
                .pin(std::path::Path::new("/sys/fs/bpf/never"))
                .is_err()
        );
        let id = filter.keep();
        assert_eq!(veth.udp(Side::A, 2)?, 0, "kept: still dropping");
        veth.b
            .run(|| tc::detach("veth1", TcDirection::Ingress, id))??;
        assert!(veth.wait_reachable(Side::A)?);
        assert_eq!(veth.udp(Side::A, 2)?, 2);
        veth.b.run(|| tc::destroy_clsact("veth1"))??;
        Ok(())
    });
}

#[test]
fn cls_bpf_errors_name_the_interface_and_hook() {
    kernel_test(|| {
        let veth = VethPair::new()?;
        let map = counter();
        let prog = counting_program("tc", &map, None, TC_ACT_OK);
        let source = |e: Error| match e {
            Error::Attach { source, target, .. } => (*source, target),
            other => panic!("not an attach error: {other}"),
        };
        // No such interface, by name and by index.
        let err = veth
            .b
            .run(|| {
                tc::attach(
                    &prog,
                    "nosuch0",
                    TcDirection::Ingress,
                    &TcOptions::default(),
                )
            })?
            .unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&err)
                .to_string()
                .contains("tc ingress of interface 'nosuch0'"),
            "{err}"
        );
        assert!(matches!(source(err).0, Error::NoSuchInterface { .. }));
        let err = veth
            .b
            .run(|| tc::attach(&prog, 99_999, TcDirection::Egress, &TcOptions::default()))?
            .unwrap_err();
        assert!(matches!(source(err).0, Error::NoSuchInterface { .. }));
        // A filter at that priority and handle; then the same priority with
        // another protocol.
        let opts = TcOptions {
            priority: 5,
            handle: 1,
            ..Default::default()
        };
        let _first = veth
            .b
            .run(|| tc::attach(&prog, "veth1", TcDirection::Ingress, &opts))??;
        let err = veth
            .b
            .run(|| tc::attach(&prog, "veth1", TcDirection::Ingress, &opts))?
            .unwrap_err();
        let (cause, target) = source(err);
        assert!(target.contains("veth1"), "{target}");
        assert!(
            matches!(&cause, Error::FilterExists { priority: 5, hook: "ingress", interface, .. } if interface == "veth1"),
            "{cause}"
        );
        assert!(cause.to_string().contains("'counter'"), "{cause}");
        let other_protocol = TcOptions {
            handle: 2,
            ..ipv4_only()
        };
        let other_protocol = TcOptions {
            priority: 5,
            ..other_protocol
        };
        let err = veth
            .b
            .run(|| tc::attach(&prog, "veth1", TcDirection::Ingress, &other_protocol))?
            .unwrap_err();
        assert!(matches!(source(err).0, Error::FilterExists { .. }));
        // A program of another type.
        let xdp = trivial_program("xdp", 2);
        let err = veth
            .b
            .run(|| tc::attach(&xdp, "veth1", TcDirection::Ingress, &TcOptions::default()))?
            .unwrap_err();
        assert!(matches!(source(err).0, Error::WrongProgramType { .. }));
        Ok(())
    });
}

#[test]
fn cls_bpf_refuses_an_ingress_qdisc() {
    kernel_test(|| {
        let Some(tc_bin) = require_tool("tc", "iproute2") else {
            return Ok(());
        };
        let veth = VethPair::new()?;
        let prog = trivial_program("tc", TC_ACT_OK);
        let st = veth.b.run(|| {
            std::process::Command::new(&tc_bin)
                .args(["qdisc", "add", "dev", "veth1", "ingress"])
                .status()
        })??;
        assert!(st.success(), "tc qdisc add dev veth1 ingress: {st}");
        let err = veth
            .b
            .run(|| tc::attach(&prog, "veth1", TcDirection::Egress, &TcOptions::default()))?
            .unwrap_err();
        let Error::Attach { source, .. } = &err else {
            panic!("{err}")
        };
        assert!(
            matches!(&**source, Error::QdiscInTheWay { kind, .. } if kind == "ingress"),
            "{err}"
        );
        // Left alone by the clean-up of a failed attach and by destroy_clsact.
        veth.b.run(|| tc::destroy_clsact("veth1"))??;
        let st = veth.b.run(|| {
            std::process::Command::new(&tc_bin)
                .args(["qdisc", "del", "dev", "veth1", "ingress"])
                .status()
        })??;
        assert!(st.success(), "the ingress qdisc was still there");
        Ok(())
    });
}

/// TCX where the kernel has it (6.6), cls_bpf before; the program runs
/// either way.
#[test]
fn attach_auto_prefers_tcx() {
    kernel_test(|| {
        let veth = VethPair::new()?;
        let map = counter();
        let prog = counting_program("tc", &map, None, TC_ACT_OK);
        let link = veth
            .b
            .run(|| tc::attach_auto(&prog, "veth1", TcDirection::Ingress))??;
        let tcx =
            ebpf_test_support::kernel_version() >= ebpf_test_support::KernelVersion::new(6, 6, 0);
        assert_eq!(link.mechanism(), if tcx { "tcx" } else { "cls_bpf" });
        assert_eq!(veth.udp(Side::A, 3)?, 3);
        assert!(count(&map) >= 3);
        Ok(())
    });
}
