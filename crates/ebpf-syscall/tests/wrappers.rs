//! Real-kernel tests of the socket filter calls, `Epoll::add_with` and
//! `link_info_with_names`.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::ffi::CString;
use std::io::ErrorKind;
use std::net::UdpSocket;
use std::os::fd::AsFd;
use std::time::Duration;

use common::{BTF_KIND_FUNC, load, ret, socket_filter, vmlinux_type_id};
use ebpf_syscall::perf::*;
use ebpf_syscall::*;
use ebpf_test_support::{kernel_test, skip};

fn current() -> KernelVersion {
    ebpf_syscall::current_kernel().unwrap()
}

/// A bound UDP socket with a read timeout, and one sending to it.
fn udp_pair() -> (UdpSocket, UdpSocket) {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.connect(rx.local_addr().unwrap()).unwrap();
    (rx, tx)
}

/// Whether `rx` receives what `tx` sends now.
fn delivered(rx: &UdpSocket, tx: &UdpSocket, payload: &[u8]) -> bool {
    tx.send(payload).unwrap();
    let mut buf = [0u8; 64];
    match rx.recv(&mut buf) {
        Ok(n) => {
            assert_eq!(&buf[..n], payload);
            true
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn socket_filter_attach_replace_detach() {
    kernel_test(|| {
        let (rx, tx) = udp_pair();
        let drop_all = socket_filter(0);
        let keep_all = socket_filter(-1);
        assert!(delivered(&rx, &tx, b"before"));

        attach_socket_filter(&rx, &drop_all).unwrap();
        // The socket holds the program: closing our fd changes nothing.
        drop(drop_all);
        assert!(!delivered(&rx, &tx, b"dropped"));

        // Attaching again replaces the filter.
        attach_socket_filter(&rx, &keep_all).unwrap();
        assert!(delivered(&rx, &tx, b"kept"));
        attach_socket_filter(&rx, socket_filter(0)).unwrap();
        assert!(!delivered(&rx, &tx, b"dropped again"));

        detach_socket_filter(&rx).unwrap();
        assert!(delivered(&rx, &tx, b"after"));

        // Nothing to detach.
        let err = detach_socket_filter(&rx).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOENT));
        assert!(
            err.to_string().starts_with("setsockopt(SO_DETACH_BPF): "),
            "{err}"
        );

        // Not a socket filter program.
        let tp = load(ProgramType::RAW_TRACEPOINT, AttachType(0), &ret(0)).unwrap();
        let err = attach_socket_filter(&rx, &tp).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::INVAL));
        assert!(
            err.to_string().starts_with("setsockopt(SO_ATTACH_BPF): "),
            "{err}"
        );
        // Not a socket.
        let not_sock = EventFd::new().unwrap();
        let err = attach_socket_filter(&not_sock, &keep_all).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOTSOCK));
        let err = detach_socket_filter(&not_sock).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOTSOCK));
        Ok(())
    });
}

#[test]
fn socket_filter_constants() {
    // The values of the generic (x86, arm, riscv, ...) socket.h.
    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    ))]
    assert_eq!((SO_ATTACH_BPF, SO_DETACH_BPF), (50, 27));
    assert_eq!(PERF_ATTR_FLAG_WRITE_BACKWARD, 1 << 27);
}

#[test]
fn epoll_interest() {
    kernel_test(|| {
        let epoll = Epoll::new().unwrap();
        let mut tokens = [0u64; 4];
        // A fresh eventfd is writable, not readable.
        let efd = EventFd::new().unwrap();
        epoll.add_with(&efd, 1, EpollInterest::READABLE).unwrap();
        assert_eq!(epoll.wait(&mut tokens, Some(Duration::ZERO)).unwrap(), 0);
        let efd2 = EventFd::new().unwrap();
        epoll.add_with(&efd2, 2, EpollInterest::WRITABLE).unwrap();
        assert_eq!(epoll.wait(&mut tokens, Some(Duration::ZERO)).unwrap(), 1);
        assert_eq!(tokens[0], 2);
        epoll.delete(&efd2).unwrap();
        // Either of two interests.
        let efd3 = EventFd::new().unwrap();
        let mut both = EpollInterest::READABLE;
        both |= EpollInterest::WRITABLE;
        assert_eq!(both, EpollInterest::READABLE | EpollInterest::WRITABLE);
        assert_eq!(both.bits(), 0x1 | 0x4);
        epoll.add_with(&efd3, 3, both).unwrap();
        assert_eq!(epoll.wait(&mut tokens, Some(Duration::ZERO)).unwrap(), 1);
        assert_eq!(tokens[0], 3);
        // `add` is still readable-only.
        efd.wake().unwrap();
        let n = epoll.wait(&mut tokens, Some(Duration::ZERO)).unwrap();
        let mut got = tokens[..n].to_vec();
        got.sort_unstable();
        assert_eq!(got, [1, 3]);
        // Adding twice is EEXIST.
        let err = epoll
            .add_with(&efd3, 4, EpollInterest::WRITABLE)
            .unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EXIST));
        Ok(())
    });
}

#[test]
fn epoll_user_ringbuf_writable() {
    kernel_test(|| {
        if current() < KernelVersion::new(6, 1, 0) {
            skip("BPF_MAP_TYPE_USER_RINGBUF needs 6.1");
            return Ok(());
        }
        let page = Mmap::page_size() as u32;
        let map = map_create(&MapCreateAttr::new(MapType::USER_RINGBUF, 0, 0, page)).unwrap();
        let epoll = Epoll::new().unwrap();
        epoll.add(&map, 1).unwrap();
        let mut tokens = [0u64; 2];
        // Empty: nothing to read for user space, room to write.
        assert_eq!(epoll.wait(&mut tokens, Some(Duration::ZERO)).unwrap(), 0);
        epoll.delete(&map).unwrap();
        epoll.add_with(&map, 2, EpollInterest::WRITABLE).unwrap();
        assert_eq!(epoll.wait(&mut tokens, Some(Duration::ZERO)).unwrap(), 1);
        assert_eq!(tokens[0], 2);
        Ok(())
    });
}

#[test]
fn link_names_raw_tracepoint() {
    kernel_test(|| {
        let prog = load(ProgramType::RAW_TRACEPOINT, AttachType(0), &ret(0)).unwrap();
        let link = raw_tracepoint_open(Some(c"sys_enter"), &prog, 0).unwrap();
        let got = link_info_with_names(&link).unwrap();
        assert_eq!(got.name.as_deref(), Some("sys_enter"));
        assert_eq!(got.info.r#type, LinkType::RAW_TRACEPOINT);
        assert_eq!(got.info.prog_id, prog_info(&prog).unwrap().id);
        // No address is left behind; the length counts the NUL.
        assert_eq!(got.info.data[0], 0);
        assert_eq!(got.info.data[1] as u32, "sys_enter".len() as u32 + 1);
        // The plain reader fetches the length only.
        let plain = link_info(&link).unwrap();
        assert_eq!(plain.data[..2], got.info.data[..2]);
        assert_eq!(plain.perf_event_type(), None);
        assert_eq!(plain.iter_map_id(), None);
        Ok(())
    });
}

#[test]
fn link_names_absent_for_other_types() {
    kernel_test(|| {
        let cg = ebpf_test_support::TempCgroup::new().unwrap();
        let dir = std::fs::File::open(cg.path()).unwrap();
        let prog = load(
            ProgramType::CGROUP_SKB,
            AttachType::CGROUP_INET_EGRESS,
            &ret(1),
        )
        .unwrap();
        let link = link_create(&LinkCreateCgroupAttr::new(
            &prog,
            &dir,
            AttachType::CGROUP_INET_EGRESS,
        ))
        .unwrap();
        let got = link_info_with_names(&link).unwrap();
        assert_eq!(got.name, None);
        assert_eq!(got.info.cgroup().unwrap().1, AttachType::CGROUP_INET_EGRESS);
        // Not a link: a program whose type number is that of a link type
        // with a name (SOCKET_FILTER = RAW_TRACEPOINT = 1) is refused, not
        // handed a name buffer where its info has an address.
        let sf = socket_filter(0);
        assert_eq!(link_info(&sf).unwrap().r#type, LinkType::RAW_TRACEPOINT);
        let err = link_info_with_names(&sf).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::INVAL), "{err}");
        // A program of another type has no name field to fetch.
        assert_eq!(link_info_with_names(&prog).unwrap().name, None);
        Ok(())
    });
}

/// A `BPF_TRACE_ITER` program for the iterator `target` (`bpf_iter_<target>`).
fn iter_prog(target: &str) -> Option<std::os::fd::OwnedFd> {
    let Some(btf_id) = vmlinux_type_id(BTF_KIND_FUNC, &format!("bpf_iter_{target}")) else {
        skip(format!("no bpf_iter_{target} in vmlinux BTF"));
        return None;
    };
    let insns = ret(0);
    let mut attr = ProgLoadAttr::new(ProgramType::TRACING, c"GPL");
    attr.set_insns(&insns).unwrap();
    attr.expected_attach_type = AttachType::TRACE_ITER;
    attr.attach_btf_id = btf_id;
    match prog_load(&attr) {
        Ok(p) => Some(p),
        Err(e) if e.errno() == Some(Errno::PERM) => {
            skip(format!("tracing programs refused (lockdown?): {e}"));
            None
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn link_names_iter() {
    kernel_test(|| {
        let Some(prog) = iter_prog("task") else {
            return Ok(());
        };
        let link = link_create(&LinkCreateIterAttr::with_target(
            &prog,
            0,
            AttachType::TRACE_ITER,
        ))
        .unwrap();
        let got = link_info_with_names(&link).unwrap();
        assert_eq!(got.name.as_deref(), Some("task"));
        assert_eq!(got.info.iter_map_id(), Some(0));

        // A map iterator reports its map.
        let Some(prog) = iter_prog("bpf_map_elem") else {
            return Ok(());
        };
        let map = map_create(&MapCreateAttr::new(MapType::HASH, 4, 4, 4)).unwrap();
        let info = IterLinkInfo {
            a: map.as_fd().as_raw_fd_u32(),
            ..IterLinkInfo::default()
        };
        let mut attr = LinkCreateIterAttr::with_target(&prog, 0, AttachType::TRACE_ITER);
        attr.set_iter_info(&info);
        let link = link_create(&attr).unwrap();
        let got = link_info_with_names(&link).unwrap();
        assert_eq!(got.name.as_deref(), Some("bpf_map_elem"));
        assert_eq!(got.info.iter_map_id(), Some(map_info(&map).unwrap().id));
        Ok(())
    });
}

trait RawU32 {
    fn as_raw_fd_u32(&self) -> u32;
}
impl RawU32 for std::os::fd::BorrowedFd<'_> {
    fn as_raw_fd_u32(&self) -> u32 {
        use std::os::fd::AsRawFd;
        self.as_raw_fd() as u32
    }
}

#[test]
fn link_names_perf_event() {
    kernel_test(|| {
        if current() < KernelVersion::new(6, 6, 0) {
            skip("perf event link info needs 6.6");
            return Ok(());
        }
        // A tracepoint.
        let id = tracefs::tracepoint_id("syscalls", "sys_enter_getppid").unwrap();
        let event = perf_event_open(
            &PerfEventAttr::new(PERF_TYPE_TRACEPOINT, id),
            0,
            -1,
            None,
            0,
        )
        .unwrap();
        let prog = load(ProgramType::TRACEPOINT, AttachType(0), &ret(0)).unwrap();
        let mut attr = LinkCreatePerfEventAttr::new(&prog, &event, AttachType::PERF_EVENT);
        attr.bpf_cookie = 7;
        let link = link_create(&attr).unwrap();
        let got = link_info_with_names(&link).unwrap();
        assert_eq!(
            got.info.perf_event_type(),
            Some(perf_event_type::TRACEPOINT)
        );
        assert_eq!(got.name.as_deref(), Some("sys_enter_getppid"));
        assert_eq!(got.info.data[3], 7, "tracepoint.cookie");
        drop((link, event));

        // A uprobe on this test binary.
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let path = CString::new(exe.as_os_str().as_encoded_bytes()).unwrap();
        let mut attr = PerfEventAttr::new(pmu_type("uprobe").unwrap(), 0);
        attr.set_probe_target(&path, 0);
        let event = perf_event_open(&attr, -1, 0, None, 0).unwrap();
        let prog = load(ProgramType::KPROBE, AttachType(0), &ret(0)).unwrap();
        let link = link_create(&LinkCreatePerfEventAttr::new(
            &prog,
            &event,
            AttachType::PERF_EVENT,
        ))
        .unwrap();
        let got = link_info_with_names(&link).unwrap();
        assert_eq!(got.info.perf_event_type(), Some(perf_event_type::UPROBE));
        assert_eq!(got.name.as_deref(), exe.to_str());
        assert_eq!(got.info.data[1], 0, "no address left behind");
        Ok(())
    });
}

#[test]
fn link_names_uprobe_multi() {
    kernel_test(|| {
        if current() < KernelVersion::new(6, 8, 0) {
            skip("uprobe_multi link info needs 6.8");
            return Ok(());
        }
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let path = CString::new(exe.as_os_str().as_encoded_bytes()).unwrap();
        let prog = load(ProgramType::KPROBE, AttachType::TRACE_UPROBE_MULTI, &ret(0)).unwrap();
        let offsets = [0u64];
        let mut attr =
            LinkCreateUprobeMultiAttr::with_target(&prog, 0, AttachType::TRACE_UPROBE_MULTI);
        attr.set_targets(&path, &offsets, None, None).unwrap();
        attr.pid = std::process::id();
        let link = link_create(&attr).unwrap();
        let got = link_info_with_names(&link).unwrap();
        assert_eq!(got.info.r#type, LinkType::UPROBE_MULTI);
        assert_eq!(got.name.as_deref(), exe.to_str());
        assert_eq!(got.info.data[0], 0, "no address left behind");
        Ok(())
    });
}
