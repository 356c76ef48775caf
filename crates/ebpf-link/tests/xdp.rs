//! XDP through a bpf_link and over netlink (the path kernels before 5.9
//! take, forced here with `XdpAttachVia::Netlink`), with real traffic across
//! a veth pair: `veth0` 10.77.0.1 in `a`, `veth1` 10.77.0.2 in `b`.

mod common;

use std::os::fd::{AsFd, AsRawFd};

use common::*;
use ebpf::{Map, Program};
use ebpf_asm::Register::*;
use ebpf_asm::{
    AluOp, AtomicOp, Helper, Instructions, JumpOp, Size, call, exit, load_map_fd, load_mem, mov64,
    mov64_reg, store_imm,
};
use ebpf_link::xdp::{self, XdpAttachVia, XdpExpect, XdpMode, XdpOptions};
use ebpf_link::{Error, Link, LinkInfoData};
use ebpf_test_support::{Side, TestResult, VethPair, kernel_test, skip_if_not_supported};

const XDP_DROP: i32 = 1;
const XDP_PASS: i32 = 2;

/// Counts the IPv4 frames (ethertype 0x0800) in `map[0]` and passes every
/// frame: ARP and IPv6 neighbour discovery are not counted.
fn ipv4_counter(map: &Map) -> Program {
    let ipv4 = i32::from(0x0800u16.to_be());
    let insns = Instructions::from(vec![
        load_mem(R2, R1, 0, Size::W), // data
        load_mem(R3, R1, 4, Size::W), // data_end
        mov64_reg(R4, R2),
        AluOp::Add.imm(R4, 14),
        JumpOp::Gt.reg(R4, R3, "out"),
        load_mem(R4, R2, 12, Size::H), // h_proto
        JumpOp::Ne.imm(R4, ipv4, "out"),
        store_imm(R10, -4, 0, Size::W),
        mov64_reg(R2, R10),
        AluOp::Add.imm(R2, -4),
        load_map_fd(R1, map.as_fd().as_raw_fd()),
        call(Helper::MapLookupElem),
        JumpOp::Eq.imm(R0, 0, "out"),
        mov64(R1, 1),
        AtomicOp::Add.mem(R0, R1, 0, Size::DW),
        mov64(R0, XDP_PASS).with_symbol("out"),
        exit(),
    ]);
    load("ipv4_counter", "xdp", insns).unwrap()
}

/// The ways to attach this kernel has: netlink always, a bpf_link from 5.9.
fn vias() -> Vec<XdpAttachVia> {
    let mut v = vec![XdpAttachVia::Netlink];
    if ebpf::features::have_link_kind(ebpf::features::LinkKind::Xdp).is_ok() {
        v.push(XdpAttachVia::Link);
    }
    v
}

fn opts(mode: XdpMode, via: XdpAttachVia) -> XdpOptions<'static> {
    XdpOptions {
        mode,
        via,
        ..Default::default()
    }
}

/// The cause inside an attach error.
fn cause(e: Error) -> Error {
    match e {
        Error::Attach { source, .. } => *source,
        other => other,
    }
}

#[test]
fn xdp_generic_counts_then_detaches() {
    kernel_test(|| {
        for via in vias() {
            let veth = VethPair::new()?;
            let map = counter();
            let prog = ipv4_counter(&map);
            let link = veth
                .b
                .run(|| xdp::attach_with(&prog, "veth1", &opts(XdpMode::Generic, via)))??;
            assert_eq!(link.is_bpf_link(), via == XdpAttachVia::Link);
            assert_eq!(veth.ping(Side::A, 5)?, 5, "{via:?}");
            assert_eq!(count(&map), 5, "{via:?}: one echo request each");
            assert_eq!(veth.udp(Side::A, 7)?, 7);
            assert_eq!(count(&map), 12, "{via:?}");
            let q = veth.b.run(|| xdp::query("veth1"))??;
            assert_eq!(q.mode(), Some(XdpMode::Generic));
            assert_eq!(q.program_id(), prog.id()?);
            let info = link.info()?;
            assert_eq!(info.program_id, prog.id()?);
            assert!(matches!(info.data, LinkInfoData::Xdp { .. }));
            drop(link);
            assert_eq!(veth.b.run(|| xdp::query("veth1"))??.program_id(), 0);
            assert_eq!(veth.udp(Side::A, 3)?, 3);
            assert_eq!(count(&map), 12, "{via:?}: detached on drop");
        }
        Ok(())
    });
}

#[test]
fn xdp_generic_drop_until_detached() {
    kernel_test(|| {
        for via in vias() {
            let veth = VethPair::new()?;
            let drop_all = trivial_program("xdp", XDP_DROP);
            let ifindex = veth.ifindex(Side::B)?;
            let mut link = veth
                .b
                .run(|| xdp::attach_with(&drop_all, ifindex, &opts(XdpMode::Generic, via)))??;
            assert_eq!(veth.ping(Side::A, 3)?, 0, "{via:?}: pings pass a dropper");
            link.detach()?;
            assert!(veth.wait_reachable(Side::A)?, "{via:?}: traffic is back");
            assert_eq!(veth.ping(Side::A, 3)?, 3);
            drop(link);
            // Detached on drop as well.
            let link = veth
                .b
                .run(|| xdp::attach_with(&drop_all, ifindex, &opts(XdpMode::Generic, via)))??;
            assert_eq!(veth.udp(Side::A, 3)?, 0);
            drop(link);
            assert!(veth.wait_reachable(Side::A)?);
            assert_eq!(veth.udp(Side::A, 3)?, 3);
        }
        Ok(())
    });
}

#[test]
fn xdp_netlink_update_and_driver_mode() {
    kernel_test(|| {
        let veth = VethPair::new()?;
        let (map_a, map_b) = (counter(), counter());
        let (prog_a, prog_b) = (ipv4_counter(&map_a), ipv4_counter(&map_b));
        // veth has native XDP: driver mode, chosen by the kernel for Default.
        let mut link = veth.b.run(|| {
            xdp::attach_with(
                &prog_a,
                "veth1",
                &opts(XdpMode::Default, XdpAttachVia::Netlink),
            )
        })??;
        let q = veth.b.run(|| xdp::query("veth1"))??;
        assert_eq!((q.mode(), q.driver), (Some(XdpMode::Driver), prog_a.id()?));
        assert_eq!(veth.udp(Side::A, 4)?, 4);
        link.update(&prog_b)?;
        assert_eq!(veth.b.run(|| xdp::query("veth1"))??.driver, prog_b.id()?);
        assert_eq!(veth.udp(Side::A, 4)?, 4);
        assert_eq!((count(&map_a), count(&map_b)), (4, 4));
        assert!(link.pin(std::path::Path::new("/sys/fs/bpf/never")).is_err());
        drop(link);
        assert_eq!(veth.b.run(|| xdp::query("veth1"))??, Default::default());
        Ok(())
    });
}

/// Replace-with-expected swaps the program only while the expected one is
/// there; when another program took its place it fails and changes nothing.
#[test]
fn xdp_replace_with_expected() {
    kernel_test(|| {
        let veth = VethPair::new()?;
        let (map_a, map_b, map_c) = (counter(), counter(), counter());
        let (a, b, c) = (
            ipv4_counter(&map_a),
            ipv4_counter(&map_b),
            ipv4_counter(&map_c),
        );
        let generic = XdpMode::Generic;
        let first = veth
            .b
            .run(|| xdp::attach_with(&a, "veth1", &opts(generic, XdpAttachVia::Netlink)))??;
        // b replaces a, as expected: an owned attachment of its own.
        let with_b = XdpOptions {
            replace: Some(&a),
            ..opts(generic, XdpAttachVia::Auto)
        };
        let res = veth.b.run(|| xdp::attach_with(&b, "veth1", &with_b))?;
        let Some(second) = skip_if_not_supported(res) else {
            return Ok(()); // before 5.7
        };
        assert!(!second.is_bpf_link());
        assert_eq!(veth.b.run(|| xdp::query("veth1"))??.generic, b.id()?);
        // c expects a, but b took its place.
        let with_c = XdpOptions {
            replace: Some(&a),
            ..with_b
        };
        let err = veth
            .b
            .run(|| xdp::attach_with(&c, "veth1", &with_c))?
            .unwrap_err();
        let msg = ebpf_link::ErrorChain(&err).to_string();
        let replaced = cause(err);
        assert!(
            matches!(replaced, Error::ProgramReplaced { expected, found, ref interface, .. }
                if expected == a.id()? && found == b.id()? && interface == "veth1"),
            "{msg}"
        );
        assert!(
            msg.contains("XDP (generic mode) of interface 'veth1'"),
            "{msg}"
        );
        // The unowned call says the same.
        let err = veth
            .b
            .run(|| xdp::set("veth1", Some(&c), generic, XdpExpect::Program(&a)))?
            .unwrap_err();
        assert!(matches!(cause(err), Error::ProgramReplaced { .. }));
        assert_eq!(veth.udp(Side::A, 3)?, 3);
        assert_eq!((count(&map_a), count(&map_b), count(&map_c)), (0, 3, 0));
        // `first` no longer holds its program: dropping it leaves b alone.
        drop(first);
        assert_eq!(veth.b.run(|| xdp::query("veth1"))??.generic, b.id()?);
        drop(second);
        assert_eq!(veth.b.run(|| xdp::query("veth1"))??.generic, 0);
        Ok(())
    });
}

/// A hook that runs a program refuses another attachment, whichever way
/// either came (UPDATE_IF_NOEXIST on the netlink path, a bpf_link's own rule).
#[test]
fn xdp_busy_hook_is_refused() {
    kernel_test(|| {
        let veth = VethPair::new()?;
        let map = counter();
        let (a, b) = (ipv4_counter(&map), trivial_program("xdp", XDP_PASS));
        for first_via in vias() {
            for second_via in vias() {
                let first = veth
                    .b
                    .run(|| xdp::attach_with(&a, "veth1", &opts(XdpMode::Generic, first_via)))??;
                let err = veth
                    .b
                    .run(|| xdp::attach_with(&b, "veth1", &opts(XdpMode::Generic, second_via)))?
                    .unwrap_err();
                let msg = ebpf_link::ErrorChain(&err).to_string();
                assert!(
                    matches!(cause(err), Error::HookBusy { program_id, .. } if program_id == a.id()?),
                    "{first_via:?} then {second_via:?}: {msg}"
                );
                drop(first);
            }
        }
        // Unowned, with UPDATE_IF_NOEXIST, then replacing anything.
        veth.b
            .run(|| xdp::set("veth1", Some(&a), XdpMode::Generic, XdpExpect::Nothing))??;
        let err = veth
            .b
            .run(|| xdp::set("veth1", Some(&b), XdpMode::Generic, XdpExpect::Nothing))?
            .unwrap_err();
        assert!(
            matches!(cause(err), Error::HookBusy { .. }),
            "UPDATE_IF_NOEXIST"
        );
        veth.b
            .run(|| xdp::set("veth1", Some(&b), XdpMode::Generic, XdpExpect::Anything))??;
        assert_eq!(veth.b.run(|| xdp::query("veth1"))??.generic, b.id()?);
        veth.b
            .run(|| xdp::set("veth1", None, XdpMode::Generic, XdpExpect::Anything))??;
        assert_eq!(veth.b.run(|| xdp::query("veth1"))??.program_id(), 0);
        Ok(())
    });
}

#[test]
fn xdp_errors_name_the_interface() {
    kernel_test(|| -> TestResult {
        let veth = VethPair::new()?;
        let prog = trivial_program("xdp", XDP_PASS);
        for via in vias() {
            let err = veth
                .b
                .run(|| xdp::attach_with(&prog, "nosuch0", &opts(XdpMode::Generic, via)))?
                .unwrap_err();
            assert!(
                ebpf_link::ErrorChain(&err)
                    .to_string()
                    .contains("'nosuch0'"),
                "{err}"
            );
            assert!(matches!(cause(err), Error::NoSuchInterface { .. }));
        }
        let tc = trivial_program("tc", 0);
        let err = veth
            .b
            .run(|| xdp::attach(&tc, "veth1", XdpMode::Generic))?
            .unwrap_err();
        assert!(matches!(cause(err), Error::WrongProgramType { .. }));
        Ok(())
    });
}
