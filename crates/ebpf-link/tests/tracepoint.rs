//! Tracepoints and raw tracepoints on the running kernel.

mod common;

use common::*;
use ebpf_link::{Link, LinkInfoData, PerfEventInfo, RawLink};
use ebpf_test_support::{BpfFs, kernel_test};

#[test]
fn tracepoint_counts_getpid() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("tracepoint/syscalls/sys_enter_getpid", &map, Some(pid()), 0);
        let link = ebpf_link::tracepoint::attach(&prog, "syscalls", "sys_enter_getpid").unwrap();
        for _ in 0..5 {
            raw_getpid();
        }
        assert_eq!(count(&map), 5);
        if ebpf_test_support::kernel_version() >= ebpf_syscall::KernelVersion::new(5, 15, 0) {
            assert!(link.is_bpf_link(), "5.15+ has perf event links");
        }
        let info = link.info()?;
        assert_eq!(info.link_type, ebpf_syscall::LinkType::PERF_EVENT);
        assert_eq!(info.program_id, prog.id().unwrap());
        match &info.data {
            data if !perf_link_info(data) => {}
            LinkInfoData::PerfEvent(PerfEventInfo::Tracepoint { name, .. }) => {
                assert_eq!(name, "sys_enter_getpid")
            }
            other => panic!("unexpected info {other:?}"),
        }
        // Detach on drop.
        drop(link);
        raw_getpid();
        assert_eq!(count(&map), 5);
        Ok(())
    });
}

#[test]
fn tracepoint_errors_name_the_target() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("tracepoint/syscalls/sys_enter_getpid", &map, None, 0);
        let err =
            ebpf_link::tracepoint::attach(&prog, "syscalls", "sys_enter_no_such_call").unwrap_err();
        let msg = ebpf_link::ErrorChain(&err).to_string();
        assert!(
            msg.starts_with(
                "attach program 'counter' to tracepoint syscalls/sys_enter_no_such_call: "
            ),
            "{msg}"
        );
        // Wrong program type.
        let raw = counting_program("raw_tp/sys_enter", &map, None, 0);
        let err = ebpf_link::tracepoint::attach(&raw, "syscalls", "sys_enter_getpid").unwrap_err();
        assert!(
            matches!(&err, ebpf_link::Error::Attach { source, .. } if matches!(**source, ebpf_link::Error::WrongProgramType { .. })),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn tracepoint_pin_and_reopen() {
    kernel_test(|| {
        let fs = BpfFs::new().unwrap();
        let map = counter();
        let prog = counting_program("tracepoint/syscalls/sys_enter_getpid", &map, Some(pid()), 0);
        let mut link =
            ebpf_link::tracepoint::attach(&prog, "syscalls", "sys_enter_getpid").unwrap();
        let path = fs.path().join("tp");
        link.pin(&path)?;
        assert_eq!(link.pinned_path(), Some(path.as_path()));
        let id = link.info()?.id;
        drop(link);
        // The pin keeps it attached.
        raw_getpid();
        assert_eq!(count(&map), 1);
        let mut reopened = ebpf_link::tracepoint::TracepointLink::from_pin(&path).unwrap();
        assert_eq!(reopened.info().unwrap().id, id);
        assert!(ebpf_link::link_ids().any(|i| i.unwrap() == id));
        assert!(ebpf_link::links().unwrap().any(|i| i.unwrap().id == id));
        let raw = RawLink::from_pin(&path).unwrap();
        assert_eq!(raw.id().unwrap(), id);
        drop(raw);
        let by_id = RawLink::from_id(id).unwrap();
        assert_eq!(
            by_id.link_type().unwrap(),
            ebpf_syscall::LinkType::PERF_EVENT
        );
        assert!(by_id.pinned_path().is_none());
        drop(by_id);
        reopened.unpin().unwrap();
        assert!(!path.exists());
        drop(reopened);
        raw_getpid();
        assert_eq!(count(&map), 1);
        Ok(())
    });
}

#[test]
fn tracepoint_detach_explicitly() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("tracepoint/syscalls/sys_enter_getpid", &map, Some(pid()), 0);
        let mut link =
            ebpf_link::tracepoint::attach(&prog, "syscalls", "sys_enter_getpid").unwrap();
        raw_getpid();
        link.detach().unwrap();
        raw_getpid();
        assert_eq!(count(&map), 1);
        Ok(())
    });
}

#[test]
fn raw_tracepoint_counts_sys_enter() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("raw_tp/sys_enter", &map, Some(pid()), 0);
        let mut link = ebpf_link::raw_tracepoint::attach(&prog, "sys_enter").unwrap();
        for _ in 0..3 {
            raw_getpid();
        }
        assert!(count(&map) >= 3);
        let info = link.info()?;
        assert_eq!(info.link_type, ebpf_syscall::LinkType::RAW_TRACEPOINT);
        assert_eq!(
            info.data,
            LinkInfoData::RawTracepoint {
                name: "sys_enter".into(),
                cookie: 0
            }
        );
        // The kernel has no detach for raw tracepoint links: a distinct error.
        let err = link.detach().unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&err)
                .to_string()
                .contains("detach is not possible"),
            "{err}"
        );
        drop(link);
        let before = count(&map);
        raw_getpid();
        assert_eq!(count(&map), before);
        Ok(())
    });
}

#[test]
fn raw_tracepoint_pin_survives_drop() {
    kernel_test(|| {
        let fs = BpfFs::new().unwrap();
        let map = counter();
        let prog = counting_program("raw_tp/sys_enter", &map, Some(pid()), 0);
        let mut link = ebpf_link::raw_tracepoint::attach(&prog, "sys_enter").unwrap();
        let path = fs.path().join("raw");
        link.pin(&path)?;
        // Moving a pin.
        let path2 = fs.path().join("raw2");
        link.pin(&path2).unwrap();
        assert!(!path.exists() && path2.exists());
        drop(link);
        let before = count(&map);
        raw_getpid();
        assert!(count(&map) > before);
        let mut again = ebpf_link::raw_tracepoint::RawTracepointLink::from_pin(&path2).unwrap();
        // Raw tracepoint links cannot be updated: a distinct error.
        let quiet = trivial_program("raw_tp/sys_enter", 0);
        let err = again.update(&quiet).unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&err)
                .to_string()
                .contains("update is not possible"),
            "{err}"
        );
        assert_eq!(again.info().unwrap().program_id, prog.id().unwrap());
        // A raw tracepoint pin is not a tracepoint link.
        assert!(ebpf_link::tracepoint::TracepointLink::from_pin(&path2).is_err());
        again.unpin().unwrap();
        drop(again);
        assert_detached(&map);
        Ok(())
    });
}

#[test]
fn tracepoint_legacy_ioctl_attachment() {
    kernel_test(|| {
        use ebpf_link::tracepoint::TracepointOptions;
        let map = counter();
        let prog = counting_program("tracepoint/syscalls/sys_enter_getpid", &map, Some(pid()), 0);
        let opts = TracepointOptions {
            legacy_ioctl: true,
            ..Default::default()
        };
        let mut link =
            ebpf_link::tracepoint::attach_with(&prog, "syscalls", "sys_enter_getpid", &opts)
                .unwrap();
        assert!(!link.is_bpf_link());
        assert!(link.perf_event().is_some());
        for _ in 0..4 {
            raw_getpid();
        }
        assert_eq!(count(&map), 4);
        // No bpf_link: pin and info are NotSupported (before 5.15).
        let err = link.pin(&std::env::temp_dir().join("never")).unwrap_err();
        assert!(err.not_supported().is_some(), "{err}");
        assert!(link.info().unwrap_err().not_supported().is_some());
        // A cookie needs a link.
        let with_cookie = TracepointOptions {
            legacy_ioctl: true,
            cookie: 7,
            ..Default::default()
        };
        let err =
            ebpf_link::tracepoint::attach_with(&prog, "syscalls", "sys_enter_getpid", &with_cookie)
                .unwrap_err();
        assert!(err.not_supported().is_some(), "{err}");
        link.detach().unwrap();
        raw_getpid();
        assert_eq!(count(&map), 4);
        Ok(())
    });
}

#[test]
fn tracepoint_cookie_reaches_the_program() {
    kernel_test(|| {
        let map = counter();
        ebpf::features::have_prog_helper(
            ebpf::features::ProgramType::TRACEPOINT,
            ebpf_asm::Helper::GetAttachCookie,
        )?;
        let insns = cookie_insns(&map, pid());
        let prog = load("cookie", "tracepoint/syscalls/sys_enter_getpid", insns)?;
        let opts = ebpf_link::tracepoint::TracepointOptions {
            cookie: 1000,
            ..Default::default()
        };
        let link = ebpf_link::tracepoint::attach_with(&prog, "syscalls", "sys_enter_getpid", &opts)
            .unwrap();
        raw_getpid();
        raw_getpid();
        assert_eq!(count(&map), 2000);
        match link.info()?.data {
            data if !perf_link_info(&data) => {}
            LinkInfoData::PerfEvent(PerfEventInfo::Tracepoint { cookie, .. }) => {
                assert_eq!(cookie, 1000)
            }
            other => panic!("{other:?}"),
        }
        Ok(())
    });
}

/// Asserts the counting program stopped counting: a `getpid` after the last
/// reading leaves the count alone. The kernel may release a link after the
/// last fd and pin are gone rather than at once (seen on 5.10 for raw
/// tracepoints), so this waits up to a second for the count to settle.
fn assert_detached(map: &ebpf::Map) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        // Reading the count is a syscall too: attached, the program counts
        // it, the getpid and the second reading, so the readings differ.
        let before = count(map);
        raw_getpid();
        let after = count(map);
        if after == before {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still counting a second after the link was released ({before} -> {after})"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
