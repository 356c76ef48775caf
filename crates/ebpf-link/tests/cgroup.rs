//! cgroup programs in a temporary cgroup, with traffic inside a private
//! network namespace.

mod common;

use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::Duration;

use common::*;
use ebpf_link::cgroup::{self, CgroupOptions};
use ebpf_link::{Link, LinkInfoData};
use ebpf_test_support::{BpfFs, NetNs, TempCgroup, kernel_test};

/// Moves this process into `cg` while `f` runs, then back where it was.
fn inside<R>(cg: &TempCgroup, f: impl FnOnce() -> R) -> R {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let rel = own
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap()
        .trim_start_matches('/')
        .to_owned();
    let root: PathBuf = cg.path().parent().unwrap().to_owned();
    let back = root.join(rel).join("cgroup.procs");
    cg.add_process(std::process::id()).unwrap();
    let out = f();
    std::fs::write(&back, std::process::id().to_string()).unwrap();
    out
}

/// A socket pair made while this process is in `cg` (sockets keep the
/// cgroup they were created in), inside `ns`.
fn sockets_in(cg: &TempCgroup, ns: &NetNs) -> (UdpSocket, UdpSocket) {
    inside(cg, || {
        ns.run(|| {
            (
                UdpSocket::bind("127.0.0.1:0").unwrap(),
                UdpSocket::bind("127.0.0.1:0").unwrap(),
            )
        })
        .unwrap()
    })
}

fn send(tx: &UdpSocket, rx: &UdpSocket, n: usize) {
    rx.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut buf = [0u8; 8];
    for _ in 0..n {
        tx.send_to(b"x", rx.local_addr().unwrap()).unwrap();
        rx.recv(&mut buf).unwrap();
    }
}

#[test]
fn cgroup_skb_egress_counts_packets() {
    kernel_test(|| {
        let cg = TempCgroup::new().unwrap();
        let ns = NetNs::new().unwrap();
        let map = counter();
        let prog = counting_program("cgroup_skb/egress", &map, None, 1);
        let link = cgroup::attach(&prog, &cg).unwrap();
        assert_eq!(
            link.is_bpf_link(),
            ebpf_test_support::kernel_version() >= ebpf_syscall::KernelVersion::new(5, 7, 0)
        );
        let (tx, rx) = sockets_in(&cg, &ns);
        send(&tx, &rx, 3);
        assert_eq!(count(&map), 3);
        match link.info().unwrap().data {
            LinkInfoData::Cgroup {
                cgroup_id,
                attach_type,
            } => {
                use std::os::unix::fs::MetadataExt;
                assert_eq!(cgroup_id, std::fs::metadata(cg.path()).unwrap().ino());
                assert_eq!(attach_type, ebpf_syscall::AttachType::CGROUP_INET_EGRESS);
            }
            other => panic!("{other:?}"),
        }
        drop(link);
        send(&tx, &rx, 1);
        assert_eq!(count(&map), 3, "detached on drop");
        Ok(())
    });
}

#[test]
fn cgroup_link_update_pin_detach() {
    kernel_test(|| {
        let fs = BpfFs::new().unwrap();
        let cg = TempCgroup::new().unwrap();
        let ns = NetNs::new().unwrap();
        let map = counter();
        let prog = counting_program("cgroup_skb/egress", &map, None, 1);
        let quiet = trivial_program("cgroup_skb/egress", 1);
        let mut link = cgroup::attach_path(&quiet, cg.path()).unwrap();
        let (tx, rx) = sockets_in(&cg, &ns);
        send(&tx, &rx, 1);
        assert_eq!(count(&map), 0);
        link.update(&prog).unwrap();
        send(&tx, &rx, 2);
        assert_eq!(count(&map), 2);
        let path = fs.path().join("cg");
        link.pin(&path).unwrap();
        drop(link);
        send(&tx, &rx, 1);
        assert_eq!(count(&map), 3, "the pin keeps it");
        let mut link = cgroup::CgroupLink::from_pin(&path).unwrap();
        link.detach().unwrap();
        send(&tx, &rx, 1);
        assert_eq!(count(&map), 3, "detached");
        link.unpin().unwrap();
        Ok(())
    });
}

#[test]
fn cgroup_prog_attach_fallback_behaves_like_a_link() {
    kernel_test(|| {
        let cg = TempCgroup::new().unwrap();
        let ns = NetNs::new().unwrap();
        let map = counter();
        let prog = counting_program("cgroup_skb/egress", &map, None, 1);
        let quiet = trivial_program("cgroup_skb/egress", 1);
        let opts = CgroupOptions {
            force_prog_attach: true,
            ..Default::default()
        };
        let mut link = cgroup::attach_with(&quiet, &cg, &opts).unwrap();
        assert!(!link.is_bpf_link());
        // A real link alongside (BPF_F_ALLOW_MULTI).
        let map2 = counter();
        let prog2 = counting_program("cgroup_skb/egress", &map2, None, 1);
        let real = cgroup::attach(&prog2, &cg).unwrap();
        let (tx, rx) = sockets_in(&cg, &ns);
        send(&tx, &rx, 1);
        assert_eq!((count(&map), count(&map2)), (0, 1));
        link.update(&prog).unwrap();
        send(&tx, &rx, 1);
        assert_eq!((count(&map), count(&map2)), (1, 2));
        let err = link.pin(&std::env::temp_dir().join("never")).unwrap_err();
        assert!(err.not_supported().is_some(), "{err}");
        assert!(link.info().is_err());
        drop(link);
        send(&tx, &rx, 1);
        assert_eq!(
            (count(&map), count(&map2)),
            (1, 3),
            "emulated link detached on drop"
        );
        drop(real);
        Ok(())
    });
}

#[test]
fn connect4_runs_on_connect() {
    kernel_test(|| {
        let cg = TempCgroup::new().unwrap();
        let ns = NetNs::new().unwrap();
        let map = counter();
        let prog = counting_program("cgroup/connect4", &map, None, 1);
        let _link = cgroup::attach(&prog, &cg).unwrap();
        let (tx, rx) = sockets_in(&cg, &ns);
        tx.connect(rx.local_addr().unwrap()).unwrap();
        assert_eq!(count(&map), 1);
        Ok(())
    });
}

#[test]
fn cgroup_errors_name_the_attach_point() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("cgroup_skb/egress", &map, None, 1);
        let err = cgroup::attach_path(&prog, "/nonexistent/cgroup").unwrap_err();
        let msg = ebpf_link::ErrorChain(&err).to_string();
        assert!(
            msg.starts_with("attach program 'counter' to cgroup /nonexistent/cgroup: "),
            "{msg}"
        );
        Ok(())
    });
}

#[test]
fn cgroup_programs_are_ordered() {
    kernel_test(|| {
        use ebpf::AttachType;
        use ebpf_link::tcx::Anchor;
        let cg = TempCgroup::new().unwrap();
        let a = trivial_program("cgroup_skb/egress", 1);
        let b = trivial_program("cgroup_skb/egress", 1);
        let la = cgroup::attach(&a, &cg).unwrap();
        let q = cgroup::query(&cg, AttachType::CGROUP_INET_EGRESS).unwrap();
        assert_eq!(q.program_ids, vec![a.id().unwrap()]);
        let opts = CgroupOptions {
            anchor: Some(Anchor::BeforeLink(&la)),
            expected_revision: q.revision,
            ..Default::default()
        };
        let res = cgroup::attach_with(&b, &cg, &opts);
        let Some(lb) = ebpf_test_support::skip_if_not_supported(res) else {
            return Ok(());
        };
        let q2 = cgroup::query(&cg, AttachType::CGROUP_INET_EGRESS).unwrap();
        assert_eq!(q2.program_ids, vec![b.id().unwrap(), a.id().unwrap()]);
        assert!(q2.revision > q.revision);
        drop((la, lb));
        assert!(
            cgroup::query(&cg, AttachType::CGROUP_INET_EGRESS)
                .unwrap()
                .program_ids
                .is_empty()
        );
        Ok(())
    });
}
