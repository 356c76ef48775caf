//! uprobes, kprobes, perf events and tracing programs on the running kernel.

mod common;

use std::hint::black_box;

use common::*;
use ebpf_link::kprobe::{self, KprobeMultiOptions, KprobeOptions};
use ebpf_link::perf_event::{self, PerfEvent, PerfEventOptions, Sampling};
use ebpf_link::uprobe::{self, UprobeOptions};
use ebpf_link::{Link, LinkInfoData, PerfEventInfo};
use ebpf_test_support::{BpfFs, kernel_test, skip};

/// The function the uprobe tests probe.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn ebpf_rs_uprobe_target(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

fn call_target(n: u64) {
    let f: extern "C" fn(u64) -> u64 = black_box(ebpf_rs_uprobe_target);
    for i in 0..n {
        black_box(f(i));
    }
}

#[test]
fn symbol_offset_is_a_file_offset() {
    kernel_test(|| {
        symbol_offset_body();
        Ok(())
    });
}

fn symbol_offset_body() {
    let exe = std::env::current_exe().unwrap();
    let off = uprobe::symbol_offset(&exe, "ebpf_rs_uprobe_target").unwrap();
    assert!(off > 0);
    let err = uprobe::symbol_offset(&exe, "ebpf_rs_no_such_symbol").unwrap_err();
    assert!(
        matches!(err, ebpf_link::Error::SymbolNotFound { .. }),
        "{err}"
    );
    // A dynamic symbol of libc (through .dynsym).
    let libc = std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.contains("libc.so"))
        .map(str::to_owned);
    if let Some(libc) = libc {
        assert!(uprobe::symbol_offset(libc.as_ref(), "malloc").unwrap() > 0);
    }
}

#[test]
fn uprobe_counts_calls() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("uprobe", &map, None, 0);
        let exe = std::env::current_exe().unwrap();
        let opts = UprobeOptions {
            pid: Some(pid()),
            ..Default::default()
        };
        let link = uprobe::attach(&prog, &exe, "ebpf_rs_uprobe_target", &opts).unwrap();
        call_target(7);
        assert_eq!(count(&map), 7);
        match link.info()?.data {
            data if !perf_link_info(&data) => {}
            LinkInfoData::PerfEvent(PerfEventInfo::Uprobe {
                retprobe,
                path,
                offset,
                ..
            }) => {
                assert!(!retprobe);
                assert_eq!(std::path::Path::new(&path), exe.as_path());
                assert_eq!(
                    u64::from(offset),
                    uprobe::symbol_offset(&exe, "ebpf_rs_uprobe_target").unwrap()
                );
            }
            other => panic!("unexpected info {other:?}"),
        }
        drop(link);
        call_target(2);
        assert_eq!(count(&map), 7);
        Ok(())
    });
}

#[test]
fn uretprobe_counts_returns() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("uretprobe", &map, Some(pid()), 0);
        let exe = std::env::current_exe().unwrap();
        let opts = UprobeOptions {
            retprobe: true,
            ..Default::default()
        };
        let link = uprobe::attach(&prog, &exe, "ebpf_rs_uprobe_target", &opts).unwrap();
        call_target(4);
        assert_eq!(count(&map), 4);
        let data = link.info()?.data;
        if perf_link_info(&data) {
            assert!(matches!(
                data,
                LinkInfoData::PerfEvent(PerfEventInfo::Uprobe { retprobe: true, .. })
            ));
        }
        Ok(())
    });
}

#[test]
fn uprobe_cookie_reaches_the_program() {
    kernel_test(|| {
        let map = counter();
        ebpf::features::have_prog_helper(
            ebpf::features::ProgramType::KPROBE,
            ebpf_asm::Helper::GetAttachCookie,
        )?;
        let prog = load("cookie", "uprobe", cookie_insns(&map, pid()))?;
        let exe = std::env::current_exe().unwrap();
        let opts = UprobeOptions {
            cookie: 10,
            ..Default::default()
        };
        let link = uprobe::attach(&prog, &exe, "ebpf_rs_uprobe_target", &opts).unwrap();
        call_target(3);
        assert_eq!(count(&map), 30);
        let data = link.info()?.data;
        if perf_link_info(&data) {
            assert!(matches!(
                data,
                LinkInfoData::PerfEvent(PerfEventInfo::Uprobe { cookie: 10, .. })
            ));
        }
        Ok(())
    });
}

#[test]
fn uprobe_pin_and_reopen() {
    kernel_test(|| {
        let fs = BpfFs::new().unwrap();
        let map = counter();
        let prog = counting_program("uprobe", &map, Some(pid()), 0);
        let exe = std::env::current_exe().unwrap();
        let mut link = uprobe::attach(
            &prog,
            &exe,
            "ebpf_rs_uprobe_target",
            &UprobeOptions::default(),
        )
        .unwrap();
        let path = fs.path().join("up");
        link.pin(&path)?;
        drop(link);
        call_target(3);
        assert_eq!(count(&map), 3);
        let mut again = uprobe::UprobeLink::from_pin(&path).unwrap();
        again.unpin().unwrap();
        drop(again);
        call_target(3);
        assert_eq!(count(&map), 3);
        Ok(())
    });
}

#[test]
fn uprobe_multi_counts_calls() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("uprobe.multi", &map, Some(pid()), 0);
        let exe = std::env::current_exe().unwrap();
        let opts = uprobe::UprobeMultiOptions {
            pid: pid(),
            cookies: vec![0xfeed],
            ..Default::default()
        };
        let res = uprobe::attach_multi(&prog, &exe, &["ebpf_rs_uprobe_target"], &opts);
        let Some(link) = ebpf_test_support::skip_if_not_supported(res) else {
            return Ok(());
        };
        call_target(5);
        assert_eq!(count(&map), 5);
        let info = link.info()?;
        let LinkInfoData::UprobeMulti {
            path,
            count,
            flags,
            pid: filter,
            probes,
        } = info.data
        else {
            panic!("an uprobe_multi link: {info:?}");
        };
        assert_eq!(count, 1);
        assert_eq!(flags, 0, "not a return probe");
        assert_eq!(filter, pid(), "the pid filter");
        // The kernel reports the path from 6.8.
        if ebpf_test_support::kernel_version() >= ebpf_syscall::KernelVersion::new(6, 8, 0) {
            let real = std::fs::canonicalize(&exe).unwrap();
            assert_eq!(std::path::Path::new(&path), real);
            // And each probe's offset, reference counter and cookie.
            let offset = uprobe::symbol_offset(&exe, "ebpf_rs_uprobe_target").unwrap();
            let want = ebpf_link::UprobeMultiProbe {
                offset,
                ref_ctr_offset: 0,
                cookie: 0xfeed,
            };
            assert_eq!(probes, [want]);
        }
        Ok(())
    });
}

#[test]
fn kprobe_attaches_or_is_not_supported() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("kprobe/security_file_open", &map, Some(pid()), 0);
        match kprobe::attach(&prog, "security_file_open", &KprobeOptions::default()) {
            Ok(link) => {
                let dir = std::env::temp_dir().join(format!("ebpf-link-kprobe-{}", pid()));
                std::fs::write(&dir, b"x").unwrap();
                std::fs::remove_file(&dir).unwrap();
                assert!(count(&map) >= 1);
                drop(link);
            }
            Err(e) => {
                // CONFIG_KPROBES=n: no kprobe PMU. Not a policy refusal.
                assert!(!e.is_permission_denied(), "{e}");
                assert!(e.not_supported().is_some(), "unexpected error: {e}");
                assert!(
                    ebpf_link::ErrorChain(&e)
                        .to_string()
                        .starts_with("attach program 'counter' to kprobe security_file_open: "),
                    "{e}"
                );
                return Err(e.into());
            }
        }
        Ok(())
    });
}

#[test]
fn kretprobe_attaches_or_is_not_supported() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("kretprobe/security_file_open", &map, Some(pid()), 0);
        let opts = KprobeOptions {
            retprobe: true,
            ..Default::default()
        };
        match kprobe::attach(&prog, "security_file_open", &opts) {
            Ok(link) => {
                let f = std::env::temp_dir().join(format!("ebpf-link-kretprobe-{}", pid()));
                std::fs::write(&f, b"x").unwrap();
                std::fs::remove_file(&f).unwrap();
                assert!(count(&map) >= 1);
                drop(link);
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    });
}

#[test]
fn kprobe_multi_attaches_or_is_not_supported() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("kprobe.multi/security_file_open", &map, Some(pid()), 0);
        match kprobe::attach_multi(
            &prog,
            &["security_file_open"],
            &KprobeMultiOptions::default(),
        ) {
            Ok(link) => {
                let f = std::env::temp_dir().join(format!("ebpf-link-kmulti-{}", pid()));
                std::fs::write(&f, b"x").unwrap();
                std::fs::remove_file(&f).unwrap();
                assert!(count(&map) >= 1);
                assert!(matches!(
                    link.info()?.data,
                    LinkInfoData::KprobeMulti { count: 1, .. }
                ));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    });
}

#[test]
fn perf_event_samples_cpu_clock() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("perf_event", &map, None, 0);
        let opts = PerfEventOptions {
            event: PerfEvent::Software(ebpf_syscall::perf::PERF_COUNT_SW_CPU_CLOCK),
            sampling: Sampling::Period(100_000),
            pid: Some(0),
            cpu: None,
            ..Default::default()
        };
        // pid 0: this thread.
        let link = perf_event::attach(&prog, &opts).unwrap();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(100) {
            x = black_box(x.wrapping_add(1));
        }
        assert!(count(&map) > 0, "no samples");
        let info = link.info()?;
        assert!(
            !perf_link_info(&info.data)
                || matches!(
                    info.data,
                    // The kernel may report the cpu-clock PMU's own type here.
                    LinkInfoData::PerfEvent(PerfEventInfo::Event { config: 0, .. })
                ),
            "{info:?}"
        );
        Ok(())
    });
}

/// Loads a tracing program; a refusal by policy (lockdown) goes back to the
/// harness as a skip, and a verifier rejection fails with its log.
fn load_tracer(section: &str, map: &ebpf::Map) -> ebpf::Result<ebpf::Program> {
    load("tracer", section, counting_insns(map, Some(pid()), 0)).inspect_err(|e| {
        if let Some(log) = e.verifier() {
            panic!("load {section}: {e}\n{log}");
        }
    })
}

#[test]
fn fentry_fires_or_lockdown_refuses() {
    kernel_test(|| {
        let map = counter();
        let prog = load_tracer("fentry/security_file_open", &map)?;
        let link = ebpf_link::tracing::attach(&prog).unwrap();
        let f = std::env::temp_dir().join(format!("ebpf-link-fentry-{}", pid()));
        std::fs::write(&f, b"x").unwrap();
        std::fs::remove_file(&f).unwrap();
        assert!(count(&map) >= 1);
        assert!(matches!(
            link.info()?.data,
            LinkInfoData::Tracing {
                attach_type: ebpf_syscall::AttachType::TRACE_FENTRY,
                ..
            }
        ));
        Ok(())
    });
}

#[test]
fn fexit_fires_or_lockdown_refuses() {
    kernel_test(|| {
        let map = counter();
        let prog = load_tracer("fexit/security_file_open", &map)?;
        let _link = ebpf_link::tracing::attach(&prog).unwrap();
        let f = std::env::temp_dir().join(format!("ebpf-link-fexit-{}", pid()));
        std::fs::write(&f, b"x").unwrap();
        std::fs::remove_file(&f).unwrap();
        assert!(count(&map) >= 1);
        Ok(())
    });
}

#[test]
fn lsm_fires_or_lockdown_refuses() {
    kernel_test(|| {
        let map = counter();
        let prog = load_tracer("lsm/file_open", &map)?;
        let res = ebpf_link::tracing::attach_lsm(&prog);
        let _link = match res {
            Ok(l) => l,
            // CONFIG_BPF_LSM without "bpf" in the lsm= list.
            Err(e) => {
                skip(format!("{e}"));
                return Ok(());
            }
        };
        drop(std::fs::File::open("/proc/self/status").unwrap());
        assert!(count(&map) >= 1);
        Ok(())
    });
}

#[test]
fn tp_btf_fires_or_lockdown_refuses() {
    kernel_test(|| {
        let map = counter();
        let prog = load_tracer("tp_btf/sys_enter", &map)?;
        let _link = ebpf_link::raw_tracepoint::attach(&prog, "").unwrap();
        raw_getpid();
        assert!(count(&map) >= 1);
        Ok(())
    });
}

#[test]
fn fmod_ret_replaces_the_return_value_or_lockdown_refuses() {
    kernel_test(|| {
        // fmod_ret may hook the error-injection list (often configured out) and the
        // LSM hooks: make security_file_open fail with EPERM for this thread only;
        // a non-zero return skips the hook and becomes its result.
        let map = counter();
        let tid = nix::unistd::gettid().as_raw() as u32;
        let insns = counting_insns_for(&map, Only::Thread(tid), -1, 0);
        let prog = load("tracer", "fmod_ret/security_file_open", insns)?;
        let open = || std::fs::File::open("/proc/self/status").map(drop);
        open().unwrap();
        let link = ebpf_link::tracing::attach(&prog).unwrap();
        let err = open().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(nix::libc::EPERM), "{err}");
        assert_eq!(count(&map), 1);
        assert!(matches!(
            link.info()?.data,
            LinkInfoData::Tracing {
                attach_type: ebpf_syscall::AttachType::MODIFY_RETURN,
                ..
            }
        ));
        drop(link);
        open().unwrap();
        assert_eq!(count(&map), 1, "detached on drop");
        Ok(())
    });
}
