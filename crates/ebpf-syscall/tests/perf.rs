//! Real-kernel tests of perf events, tracefs, mmap, epoll and iterators.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::io::Read;
use std::os::fd::AsRawFd;
use std::time::Duration;

use common::{BTF_KIND_FUNC, load, ret, vmlinux_type_id};
use ebpf_syscall::perf::*;
use ebpf_syscall::*;
use ebpf_test_support::{kernel_test, skip};

#[test]
fn software_event_mmap_and_ioctls() {
    kernel_test(|| {
        let mut attr = PerfEventAttr::new(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_BPF_OUTPUT);
        attr.sample_type = PERF_SAMPLE_RAW;
        attr.sample_period = 1;
        attr.wakeup_events = 1;
        attr.flags = PERF_ATTR_FLAG_DISABLED;
        let event = perf_event_open(&attr, -1, 0, None, 0).unwrap();
        let page = Mmap::page_size();
        let ring = Mmap::map(&event, page * 3, true, 0).unwrap();
        assert_eq!(ring.len(), page * 3);
        assert!(!ring.as_ptr().is_null());
        perf_event_enable(&event).unwrap();
        perf_event_pause_output(&event, true).unwrap();
        perf_event_pause_output(&event, false).unwrap();
        perf_event_disable(&event).unwrap();

        // A bad size is refused by the kernel with E2BIG, reported as the syscall.
        let mut bad = attr;
        bad.size = 1;
        let err = perf_event_open(&bad, -1, 0, None, 0).unwrap_err();
        assert!(err.to_string().starts_with("perf_event_open: "), "{err}");
        // Mapping a non-power-of-two data area fails.
        assert!(Mmap::map(&event, page * 4, true, 0).is_err());
        drop(ring);
        Ok(())
    });
}

#[test]
fn tracepoint_event_runs_program() {
    kernel_test(|| {
        let id = tracefs::tracepoint_id("syscalls", "sys_enter_getppid").unwrap();
        assert!(tracefs::tracefs_path().unwrap().join("events").is_dir());
        let attr = PerfEventAttr::new(PERF_TYPE_TRACEPOINT, id);
        // This process, any CPU.
        let event = perf_event_open(&attr, 0, -1, None, 0).unwrap();
        let prog = load(ProgramType::TRACEPOINT, AttachType(0), &ret(0)).unwrap();
        let stats = enable_stats(StatsType::RUN_TIME).unwrap();
        perf_event_set_bpf(&event, &prog).unwrap();
        perf_event_enable(&event).unwrap();
        for _ in 0..3 {
            let _ = nix::unistd::getppid();
        }
        perf_event_disable(&event).unwrap();
        assert!(prog_info(&prog).unwrap().run_cnt >= 3);

        // What is attached through the event fd.
        let mut name = [0u8; 64];
        let q = task_fd_query(std::process::id(), event.as_raw_fd(), &mut name).unwrap();
        assert_eq!(q.prog_id, prog_info(&prog).unwrap().id);
        assert_eq!(q.fd_type, BPF_FD_TYPE_TRACEPOINT);
        assert_eq!(q.name, "sys_enter_getppid");
        drop(stats);
        // A program can be attached to a tracepoint only once (else EEXIST).
        drop(event);

        // Attaching the same program through a perf-event link (5.15; EINVAL before).
        let event2 = perf_event_open(&attr, 0, -1, None, 0).unwrap();
        let mut link_attr = LinkCreatePerfEventAttr::new(&prog, &event2, AttachType::PERF_EVENT);
        link_attr.bpf_cookie = 7;
        let link = link_create(&link_attr);
        if ebpf_test_support::kernel_version() >= KernelVersion::new(5, 15, 0) {
            assert_eq!(
                link_info(link.unwrap()).unwrap().r#type,
                LinkType::PERF_EVENT
            );
        } else {
            assert_eq!(link.unwrap_err().errno(), Some(Errno::INVAL));
        }

        assert!(tracefs::tracepoint_id("syscalls", "no_such_event").is_err());
        assert!(matches!(
            tracefs::tracepoint_id("..", "x"),
            Err(Error::InvalidArgument(_))
        ));
        Ok(())
    });
}

#[test]
fn dynamic_pmus() {
    kernel_test(|| {
        let uprobe = pmu_type("uprobe").unwrap();
        assert!(uprobe > PERF_TYPE_TRACEPOINT);
        assert_eq!(pmu_retprobe_bit("uprobe").unwrap(), 0);
        // Kprobes are configured out of this kernel: the PMU is missing.
        match pmu_type("kprobe") {
            Ok(t) => assert!(t > PERF_TYPE_TRACEPOINT),
            Err(Error::NotSupported(ns)) => assert!(ns.feature.contains("kprobe")),
            Err(e) => panic!("{e}"),
        }
        Ok(())
    });
}

#[test]
fn uprobe_pmu_event() {
    kernel_test(|| {
        // A uprobe at offset 0 of this test binary: the kernel accepts any
        // offset inside a file-backed text mapping.
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let path = std::ffi::CString::new(exe.as_os_str().as_encoded_bytes()).unwrap();
        let mut attr = PerfEventAttr::new(pmu_type("uprobe").unwrap(), 0);
        attr.set_probe_target(&path, 0);
        attr.sample_period = 1;
        attr.wakeup_events = 1;
        let event = perf_event_open(&attr, -1, 0, None, 0).unwrap();
        perf_event_enable(&event).unwrap();
        perf_event_disable(&event).unwrap();
        Ok(())
    });
}

#[test]
fn epoll_wakes_on_eventfd() {
    kernel_test(|| {
        let epoll = Epoll::new().unwrap();
        let wake = EventFd::new().unwrap();
        epoll.add(&wake, 3).unwrap();
        let mut tokens = [0u64; 2];
        assert_eq!(epoll.wait(&mut tokens, Some(Duration::ZERO)).unwrap(), 0);
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(20));
                wake.wake().unwrap();
            });
            assert_eq!(
                epoll
                    .wait(&mut tokens, Some(Duration::from_secs(5)))
                    .unwrap(),
                1
            );
        });
        assert_eq!(tokens[0], 3);
        assert_eq!(wake.clear().unwrap(), 1);
        assert_eq!(wake.clear().unwrap(), 0);
        epoll.delete(&wake).unwrap();
        Ok(())
    });
}

#[test]
fn task_iterator() {
    kernel_test(|| {
        let Some(btf_id) = vmlinux_type_id(BTF_KIND_FUNC, "bpf_iter_task") else {
            skip("no bpf_iter_task in vmlinux BTF");
            return Ok(());
        };
        let insns = ret(0);
        let mut attr = ProgLoadAttr::new(ProgramType::TRACING, c"GPL");
        attr.set_insns(&insns).unwrap();
        attr.expected_attach_type = AttachType::TRACE_ITER;
        attr.attach_btf_id = btf_id;
        let prog = match prog_load(&attr) {
            Ok(p) => p,
            Err(e) if e.errno() == Some(Errno::PERM) => {
                skip(format!("tracing programs refused (lockdown?): {e}"));
                return Ok(());
            }
            Err(e) => panic!("{e}"),
        };
        let link = link_create(&LinkCreateIterAttr::with_target(
            &prog,
            0,
            AttachType::TRACE_ITER,
        ))
        .unwrap();
        assert_eq!(link_info(&link).unwrap().r#type, LinkType::ITER);
        let iter = iter_create(&link).unwrap();
        let mut out = Vec::new();
        std::fs::File::from(iter).read_to_end(&mut out).unwrap();
        assert!(out.is_empty(), "the program prints nothing");
        Ok(())
    });
}
