//! Real-kernel tests of the program, link, BTF and misc commands.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::os::fd::{AsFd, AsRawFd};

use common::{insn, load, minimal_btf, ret, socket_filter};
use ebpf_syscall::*;
use ebpf_test_support::{BpfFs, TempCgroup, kernel_test};

#[test]
fn load_and_test_run() {
    kernel_test(|| {
        let prog = socket_filter(42);
        let data = [0u8; 64];
        let mut attr = ProgTestRunAttr::new(&prog);
        attr.set_data_in(&data).unwrap();
        attr.repeat = 3;
        let res = prog_test_run(attr).unwrap();
        assert_eq!(res.retval, 42);

        // The packet comes back; a too small buffer is ENOSPC, never overflowed.
        let data: Vec<u8> = (0..64u8).collect();
        let mut out = [0u8; 64];
        let mut attr = ProgTestRunAttr::new(&prog);
        attr.set_data_in(&data).unwrap();
        attr.set_data_out(&mut out).unwrap();
        let res = prog_test_run(attr).unwrap();
        assert_eq!(res.data_size_out, 64);
        // (Socket filters see the packet after the Ethernet header; the kernel
        // hands back those 14 bytes zeroed.)
        assert_eq!(&out[14..], &data[14..]);
        let mut small = [0u8; 8];
        let mut attr = ProgTestRunAttr::new(&prog);
        attr.set_data_in(&data).unwrap();
        attr.set_data_out(&mut small).unwrap();
        let err = prog_test_run(attr).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOSPC));

        let info = prog_info(&prog).unwrap();
        assert_eq!(info.r#type, ProgramType::SOCKET_FILTER);
        assert_eq!(info.name(), "test_prog");
        assert!(info.gpl_compatible());
        let xlated = prog_xlated_insns(&prog).unwrap();
        assert_eq!(xlated.len(), 16, "two instructions");

        // Nothing was printed: the streams are empty (6.17).
        if ebpf_syscall::current_kernel().unwrap() >= KernelVersion::new(6, 17, 0) {
            let mut buf = [0u8; 256];
            assert_eq!(
                prog_stream_read(&prog, BPF_STREAM_STDOUT, &mut buf).unwrap(),
                0
            );
            assert_eq!(
                prog_stream_read(&prog, BPF_STREAM_STDERR, &mut buf).unwrap(),
                0
            );
        }

        let fd = prog_get_fd_by_id(info.id).unwrap();
        assert_eq!(prog_info(&fd).unwrap().tag, info.tag);
        let mut seen = false;
        let mut cur = 0;
        while let Some(next) = prog_get_next_id(cur).unwrap() {
            seen |= next == info.id;
            cur = next;
        }
        assert!(seen);
        Ok(())
    });
}

#[test]
fn verifier_rejection_carries_log() {
    kernel_test(|| {
        // `exit` with r0 never written.
        let insns = insn(0x95, 0, 0, 0, 0);
        let err = load(ProgramType::SOCKET_FILTER, AttachType(0), &insns).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ACCES));
        let log = err.log().expect("a failed load carries the verifier log");
        assert!(
            log.as_str().contains("R0 !read_ok"),
            "log: {}",
            log.as_str()
        );
        let shown = err.to_string();
        assert!(
            shown.starts_with("BPF_PROG_LOAD: Permission denied (EACCES)"),
            "{shown}"
        );
        assert!(shown.contains("R0 !read_ok"), "{shown}");

        // With a log requested on success, stats are there.
        let good = ret(0);
        let mut attr = ProgLoadAttr::new(ProgramType::SOCKET_FILTER, c"GPL");
        attr.set_insns(&good).unwrap();
        let (_fd, log) = prog_load_with_log(&attr, LogLevel::STATS.into()).unwrap();
        let log = log.expect("a log level keeps the log of a successful load");
        assert!(
            log.as_str().contains("processed"),
            "stats log: {}",
            log.as_str()
        );
        Ok(())
    });
}

#[test]
fn log_grows_until_it_fits() {
    kernel_test(|| {
        // 20000 `mov r0, 0`, then `mov r0, r2` with r2 never written: the
        // verifier walks everything before failing, a level-2 log far above 64 KiB.
        let mut insns = Vec::new();
        for _ in 0..20_000 {
            insns.extend_from_slice(&insn(0xb7, 0, 0, 0, 0));
        }
        insns.extend_from_slice(&insn(0xbf, 0, 2, 0, 0));
        insns.extend_from_slice(&insn(0x95, 0, 0, 0, 0));
        let mut attr = ProgLoadAttr::new(ProgramType::SOCKET_FILTER, c"GPL");
        attr.set_insns(&insns).unwrap();
        let err = prog_load_with_log(&attr, LogLevel::INSTRUCTION.into()).unwrap_err();
        let log = err.log().unwrap();
        assert!(
            !log.is_truncated(),
            "log_true_size growth should fit the log"
        );
        assert!(
            log.as_str().len() > 64 * 1024,
            "{:?}: only {} bytes of log: {log}",
            err.errno(),
            log.as_str().len()
        );
        assert!(log.as_str().contains("R2 !read_ok"), "{log}");
        assert_eq!(err.errno(), Some(Errno::ACCES));
        Ok(())
    });
}

#[test]
fn cgroup_attach_query_detach() {
    kernel_test(|| {
        let cg = TempCgroup::new().unwrap();
        let prog = load(
            ProgramType::CGROUP_SKB,
            AttachType::CGROUP_INET_INGRESS,
            &ret(1),
        )
        .unwrap();
        let mut attr = ProgAttachAttr::new(&cg, &prog, AttachType::CGROUP_INET_INGRESS);
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        prog_attach(&attr).unwrap();

        let mut ids = [0u32; 4];
        let mut q = ProgQueryAttr::new(&cg, AttachType::CGROUP_INET_INGRESS);
        q.set_buffers(QueryBuffers {
            prog_ids: Some(&mut ids),
            ..QueryBuffers::default()
        })
        .unwrap();
        let res = prog_query(q).unwrap();
        assert_eq!(res.prog_cnt, 1);
        assert_eq!(res.attach_flags, BPF_F_ALLOW_MULTI);
        assert_eq!(ids[0], prog_info(&prog).unwrap().id);

        // Detach names the program; attach flags must be zero here.
        prog_detach(&ProgAttachAttr::new(
            &cg,
            &prog,
            AttachType::CGROUP_INET_INGRESS,
        ))
        .unwrap();
        let res = prog_query(ProgQueryAttr::new(&cg, AttachType::CGROUP_INET_INGRESS)).unwrap();
        assert_eq!(res.prog_cnt, 0);
        // Mismatched buffers are refused before the call.
        let (mut a, mut b) = ([0u32; 2], [0u32; 3]);
        let mut q = ProgQueryAttr::new(&cg, AttachType::CGROUP_INET_INGRESS);
        assert!(
            q.set_buffers(QueryBuffers {
                prog_ids: Some(&mut a),
                prog_attach_flags: Some(&mut b),
                ..QueryBuffers::default()
            })
            .is_err()
        );
        Ok(())
    });
}

#[test]
fn cgroup_link_lifecycle() {
    kernel_test(|| {
        let cg = TempCgroup::new().unwrap();
        let prog = load(
            ProgramType::CGROUP_SKB,
            AttachType::CGROUP_INET_EGRESS,
            &ret(1),
        )
        .unwrap();
        let other = load(
            ProgramType::CGROUP_SKB,
            AttachType::CGROUP_INET_EGRESS,
            &ret(1),
        )
        .unwrap();
        let link = link_create(&LinkCreateAttr::new(
            &prog,
            &cg,
            AttachType::CGROUP_INET_EGRESS,
        ))
        .unwrap();
        let info = link_info(&link).unwrap();
        assert_eq!(info.r#type, LinkType::CGROUP);
        assert_eq!(info.prog_id, prog_info(&prog).unwrap().id);
        let (_cgroup_id, attach) = info.cgroup().unwrap();
        assert_eq!(attach, AttachType::CGROUP_INET_EGRESS);

        let by_id = link_get_fd_by_id(info.id).unwrap();
        assert_eq!(link_info(&by_id).unwrap().id, info.id);
        let mut seen = false;
        let mut cur = 0;
        while let Some(next) = link_get_next_id(cur).unwrap() {
            seen |= next == info.id;
            cur = next;
        }
        assert!(seen);

        link_update(&LinkUpdateAttr {
            link_fd: link.as_fd().as_raw_fd_u32(),
            new_prog_fd: other.as_fd().as_raw_fd_u32(),
            flags: 0,
            old_prog_fd: 0,
        })
        .unwrap();
        assert_eq!(
            link_info(&link).unwrap().prog_id,
            prog_info(&other).unwrap().id
        );

        link_detach(&link).unwrap();
        // The link fd stays open but the cgroup no longer runs the program.
        let res = prog_query(ProgQueryAttr::new(&cg, AttachType::CGROUP_INET_EGRESS)).unwrap();
        assert_eq!(res.prog_cnt, 0);
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
fn raw_tracepoint() {
    kernel_test(|| {
        let prog = load(ProgramType::RAW_TRACEPOINT, AttachType(0), &ret(0)).unwrap();
        let link = raw_tracepoint_open(Some(c"sys_enter"), &prog, 0).unwrap();
        let info = link_info(&link).unwrap();
        assert_eq!(info.r#type, LinkType::RAW_TRACEPOINT);
        let mut name = [0u8; 32];
        let q = task_fd_query(std::process::id(), link.as_raw_fd(), &mut name).unwrap();
        assert_eq!(q.fd_type, BPF_FD_TYPE_RAW_TRACEPOINT);
        assert_eq!(q.name, "sys_enter");
        assert_eq!(q.prog_id, prog_info(&prog).unwrap().id);
        let err = raw_tracepoint_open(Some(c"no_such_tracepoint_xyz"), &prog, 0).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::NOENT));
        Ok(())
    });
}

#[test]
fn btf_load_info_and_ids() {
    kernel_test(|| {
        let blob = minimal_btf();
        let mut attr = BtfLoadAttr::default();
        attr.set_btf(&blob).unwrap();
        let btf = btf_load(&attr).unwrap();
        let info = btf_info(&btf).unwrap();
        assert_eq!(info.btf_size as usize, blob.len());
        let (_, data, _name) = btf_data(&btf).unwrap();
        assert_eq!(data, blob);
        let again = btf_get_fd_by_id(info.id).unwrap();
        assert_eq!(btf_info(&again).unwrap().id, info.id);
        let mut seen = false;
        let mut cur = 0;
        while let Some(next) = btf_get_next_id(cur).unwrap() {
            seen |= next == info.id;
            cur = next;
        }
        assert!(seen);

        // A broken blob (string offset out of range) fails with the checker's log.
        let mut bad = blob.clone();
        bad[24] = 0xff;
        let mut attr = BtfLoadAttr::default();
        attr.set_btf(&bad).unwrap();
        let err = btf_load(&attr).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::INVAL));
        let log = err.log().unwrap();
        assert!(!log.is_empty(), "BTF log expected");
        assert!(
            err.to_string()
                .starts_with("BPF_BTF_LOAD: Invalid argument (EINVAL)")
        );
        Ok(())
    });
}

#[test]
fn stats_and_bind_map() {
    kernel_test(|| {
        let stats = enable_stats(StatsType::RUN_TIME).unwrap();
        let prog = socket_filter(1);
        let data = [0u8; 64];
        let mut attr = ProgTestRunAttr::new(&prog);
        attr.set_data_in(&data).unwrap();
        prog_test_run(attr).unwrap();
        drop(stats);

        let map = map_create(&MapCreateAttr::new(MapType::ARRAY, 4, 4, 1)).unwrap();
        assert!(prog_map_ids(&prog).unwrap().is_empty());
        prog_bind_map(&prog, &map).unwrap();
        assert_eq!(prog_map_ids(&prog).unwrap(), [map_info(&map).unwrap().id]);
        Ok(())
    });
}

#[test]
fn token_needs_delegation() {
    kernel_test(|| {
        if ebpf_syscall::current_kernel().unwrap() < KernelVersion::new(6, 9, 0) {
            return Ok(());
        }
        // A bpffs mounted in the initial user namespace without delegate_* options
        // cannot create tokens: the kernel refuses, and the error names the command.
        let fs = BpfFs::new().unwrap();
        let dir = std::fs::File::open(fs.path()).unwrap();
        let err = token_create(&dir).unwrap_err();
        assert!(
            matches!(
                err.errno(),
                Some(Errno::INVAL | Errno::PERM | Errno::OPNOTSUPP | Errno::NOENT)
            ),
            "{err}"
        );
        assert!(err.to_string().starts_with("BPF_TOKEN_CREATE: "), "{err}");
        Ok(())
    });
}
