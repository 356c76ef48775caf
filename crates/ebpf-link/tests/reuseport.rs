//! sk_reuseport selectors on a `SO_REUSEPORT` group of UDP sockets in a
//! network namespace: which socket receives is checked datagram by datagram.

mod common;

use std::net::UdpSocket;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use common::*;
use ebpf::{Map, MapSpec, MapType, Program, UpdateFlags};
use ebpf_asm::Register::*;
use ebpf_asm::{
    AluOp, Helper, Instructions, JumpOp, Size, call, exit, load_map_fd, load_mem, mov64, mov64_reg,
    store_imm, store_mem,
};
use ebpf_link::{Error, Link, reuseport};
use ebpf_syscall::SockFilter;
use ebpf_test_support::{NetNs, kernel_test};
use nix::sys::socket::{
    AddressFamily, SockFlag, SockType, SockaddrIn, bind, setsockopt, socket, sockopt,
};

const SK_PASS: i32 = 1;

/// Selects the socket at the index `selector[0]` holds, from `sockets`.
fn selecting_program(selector: &Map, sockets: &Map) -> Program {
    let insns = Instructions::from(vec![
        mov64_reg(R6, R1),
        store_imm(R10, -4, 0, Size::W),
        mov64_reg(R2, R10),
        AluOp::Add.imm(R2, -4),
        load_map_fd(R1, selector.as_fd().as_raw_fd()),
        call(Helper::MapLookupElem),
        JumpOp::Eq.imm(R0, 0, "out"),
        load_mem(R7, R0, 0, Size::W),
        store_mem(R10, -8, R7, Size::W),
        mov64_reg(R1, R6),
        load_map_fd(R2, sockets.as_fd().as_raw_fd()),
        mov64_reg(R3, R10),
        AluOp::Add.imm(R3, -8),
        mov64(R4, 0),
        call(Helper::SkSelectReuseport),
        mov64(R0, SK_PASS).with_symbol("out"),
        exit(),
    ]);
    load("select", "sk_reuseport", insns).unwrap()
}

/// A UDP socket with `SO_REUSEPORT` bound to 127.0.0.1:`port`.
fn reuseport_socket(port: u16) -> std::io::Result<UdpSocket> {
    let fd = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    setsockopt(&fd, sockopt::ReusePort, &true)?;
    bind(fd.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port))?;
    let sock = UdpSocket::from(fd);
    sock.set_read_timeout(Some(Duration::from_millis(200)))?;
    Ok(sock)
}

/// The group: two sockets on one port, in `ns`.
fn group(ns: &NetNs) -> std::io::Result<[UdpSocket; 2]> {
    ns.run(|| -> std::io::Result<[UdpSocket; 2]> {
        let first = reuseport_socket(0)?;
        let port = first.local_addr()?.port();
        Ok([first, reuseport_socket(port)?])
    })?
}

/// Sends `n` datagrams to the group's port (from a fresh socket each, so the
/// kernel's hash would spread them) and returns how many each socket got.
fn deliver(ns: &NetNs, group: &[UdpSocket; 2], n: usize) -> std::io::Result<[usize; 2]> {
    let to = group[0].local_addr()?;
    ns.run(|| -> std::io::Result<()> {
        for i in 0..n {
            UdpSocket::bind("127.0.0.1:0")?.send_to(&[i as u8], to)?;
        }
        Ok(())
    })??;
    let mut got = [0; 2];
    let mut buf = [0u8; 8];
    for (i, s) in group.iter().enumerate() {
        while s.recv(&mut buf).is_ok() {
            got[i] += 1;
        }
    }
    Ok(got)
}

#[test]
fn sk_reuseport_selects_by_map_entry() {
    kernel_test(|| {
        let ns = NetNs::new()?;
        let group = group(&ns)?;
        let sockets = Map::create(&MapSpec::new(
            "socks",
            MapType::REUSEPORT_SOCKARRAY,
            4,
            8,
            2,
        ))?;
        reuseport::set_socket(&sockets, 0, &group[0])?;
        reuseport::set_socket(&sockets, 1, &group[1])?;
        let selector = Map::create(&MapSpec::new("selector", MapType::ARRAY, 4, 4, 1))?;
        let prog = selecting_program(&selector, &sockets);
        let mut attachment = reuseport::attach(&prog, &group[0])?;
        for pick in [0usize, 1, 0] {
            selector.put(&0u32, &(pick as u32), UpdateFlags::ANY)?;
            let got = deliver(&ns, &group, 8)?;
            let mut want = [0; 2];
            want[pick] = 8;
            assert_eq!(got, want, "selector {pick}");
        }
        // Replaced atomically through the Link trait, then detached: the
        // kernel's hash spreads the datagrams again (all arrive).
        attachment.update(&prog)?;
        attachment.detach()?;
        let got = deliver(&ns, &group, 16)?;
        assert_eq!(got[0] + got[1], 16);
        assert!(
            attachment
                .pin(std::path::Path::new("/sys/fs/bpf/never"))
                .is_err()
        );
        // The map takes only sockarrays.
        let array = counter();
        assert!(matches!(
            reuseport::set_socket(&array, 0, &group[0]),
            Err(Error::InvalidArgument(_))
        ));
        assert!(reuseport::clear_socket(&sockets, 1)?);
        Ok(())
    });
}

#[test]
fn classic_bpf_selects_by_index() {
    kernel_test(|| {
        let ns = NetNs::new()?;
        let group = group(&ns)?;
        // BPF_RET | BPF_K: return the constant, the index in bind order.
        let ret = |k| {
            [SockFilter {
                code: 0x06,
                jt: 0,
                jf: 0,
                k,
            }]
        };
        let first = reuseport::attach_classic(&group[0], &ret(1))?;
        assert_eq!(deliver(&ns, &group, 6)?, [0, 6]);
        // Another selector replaces the group's.
        let second = reuseport::attach_classic(&group[1], &ret(0))?;
        assert_eq!(deliver(&ns, &group, 6)?, [6, 0]);
        drop(second);
        drop(first); // nothing left to detach: no error
        Ok(())
    });
}

#[test]
fn sk_reuseport_refuses_other_programs() {
    kernel_test(|| {
        let ns = NetNs::new()?;
        let group = group(&ns)?;
        let xdp = trivial_program("xdp", 2);
        let err = reuseport::attach(&xdp, &group[0]).unwrap_err();
        let Error::Attach { source, target, .. } = &err else {
            panic!("{err}")
        };
        assert!(target.contains("SO_REUSEPORT group"), "{target}");
        assert!(matches!(**source, Error::WrongProgramType { .. }), "{err}");
        Ok(())
    });
}
