//! System call probes, kprobe_multi patterns, kprobe and uprobe sessions,
//! and kprobes and uprobes made through tracefs events, on the running kernel.
//!
//! Kernels without kprobes (`CONFIG_KPROBES=n`, the development host) skip
//! the kprobe tests, naming the missing option; uprobes run everywhere.

mod common;

use std::hint::black_box;

use common::*;
use ebpf_link::kprobe::{self, KprobeMultiOptions, KprobeOptions, ProbeAttachMode};
use ebpf_link::uprobe::{self, UprobeMultiOptions, UprobeOptions};
use ebpf_link::{AttachPoint, Link};
use ebpf_test_support::kernel_test;

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn ebpf_rs_probe_kinds_target(x: u64) -> u64 {
    black_box(x).wrapping_mul(5)
}

fn call_target(n: u64) {
    let f: extern "C" fn(u64) -> u64 = black_box(ebpf_rs_probe_kinds_target);
    for i in 0..n {
        black_box(f(i));
    }
}

/// Opens and closes a file (security_file_open, do_sys_openat2, ...).
fn touch_a_file(tag: &str) {
    let f = std::env::temp_dir().join(format!("ebpf-link-{tag}-{}", pid()));
    std::fs::write(&f, b"x").unwrap();
    std::fs::remove_file(&f).unwrap();
}

#[test]
fn syscall_function_follows_the_kernel() {
    kernel_test(|| {
        let f = ebpf::features::syscall_function("getpid");
        match ebpf::features::have_syscall_wrapper() {
            Ok(()) => {
                let arch = ebpf::features::syscall_arch_prefix().unwrap();
                assert_eq!(f, format!("__{arch}_sys_getpid"));
                if cfg!(target_arch = "x86_64") {
                    assert_eq!(f, "__x64_sys_getpid");
                }
                let kallsyms = std::fs::read_to_string("/proc/kallsyms").unwrap();
                assert!(
                    kallsyms.lines().any(|l| l.ends_with(&format!(" {f}"))),
                    "{f} is not a kernel symbol"
                );
            }
            Err(e) if e.is_not_supported() => assert_eq!(f, "__se_sys_getpid"),
            Err(e) => panic!("{e}"),
        }
        Ok(())
    });
}

#[test]
fn ksyscall_fires_on_getpid() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("ksyscall/getpid", &map, Some(pid()), 0);
        let spec = ebpf::ProgramSpec::new("p", "ksyscall/getpid", Default::default());
        assert_eq!(
            AttachPoint::from_spec(&spec)?,
            AttachPoint::Ksyscall {
                syscall: "getpid".into(),
                retprobe: false
            }
        );
        let link = kprobe::attach_syscall(&prog, "getpid", &KprobeOptions::default())?;
        raw_getpid();
        raw_getpid();
        assert!(count(&map) >= 2);
        drop(link);
        // The kretprobe form, auto-attached.
        let ret = counting_program("kretsyscall/getpid", &map, Some(pid()), 0);
        reset(&map);
        let link = ebpf_link::attach(&ret)?;
        raw_getpid();
        assert!(count(&map) >= 1);
        drop(link);
        Ok(())
    });
}

#[test]
fn kprobe_multi_patterns_resolve() {
    kernel_test(|| {
        let found = kprobe::resolve_pattern("security_file_*")?;
        assert!(
            found.iter().any(|(n, _)| n == "security_file_open"),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .all(|(n, _)| kprobe::glob_match(n, "security_file_*")),
            "{found:?}"
        );
        let err = kprobe::resolve_pattern("ebpf_rs_no_such_function_*").unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&err)
                .to_string()
                .contains("no traceable kernel function"),
            "{err}"
        );
        // Attaching needs kprobe_multi (CONFIG_FPROBE).
        let map = counter();
        let prog = counting_program("kprobe.multi/security_file_*", &map, Some(pid()), 0);
        let link = ebpf_link::attach(&prog)?;
        touch_a_file("kmulti-pattern");
        assert!(count(&map) >= 1);
        let info = link.info()?;
        let ebpf_link::LinkInfoData::KprobeMulti { count: n, .. } = info.data else {
            panic!("{info:?}");
        };
        assert_eq!(n as usize, found.len());
        Ok(())
    });
}

#[test]
fn kprobe_multi_by_address() {
    kernel_test(|| {
        let found = kprobe::resolve_pattern("security_file_open")?;
        let Some((_, Some(addr))) = found.first().cloned() else {
            ebpf_test_support::skip(
                "no addresses: available_filter_functions_addrs is missing (before 6.5) or refused (lockdown)",
            );
            return Ok(());
        };
        let map = counter();
        let prog = counting_program("kprobe.multi", &map, Some(pid()), 0);
        let _link = kprobe::attach_multi_addresses(&prog, &[addr], &KprobeMultiOptions::default())?;
        touch_a_file("kmulti-addr");
        assert!(count(&map) >= 1);
        Ok(())
    });
}

#[test]
fn kprobe_session_runs_at_entry_and_return() {
    kernel_test(|| {
        let map = counter();
        // Returning 0 asks for the return probe too: two runs per call.
        let prog = counting_program("kprobe.session/security_file_open", &map, Some(pid()), 0);
        let _link = ebpf_link::attach(&prog)?;
        touch_a_file("ksession");
        let n = count(&map);
        assert!(n >= 2 && n % 2 == 0, "{n}");
        Ok(())
    });
}

#[test]
fn uprobe_session_runs_at_entry_and_return() {
    kernel_test(|| {
        let map = counter();
        let exe = std::env::current_exe().unwrap();
        let prog = counting_program("uprobe.session", &map, Some(pid()), 0);
        let link = uprobe::attach_multi(
            &prog,
            &exe,
            &["ebpf_rs_probe_kinds_target"],
            &UprobeMultiOptions::default(),
        )?;
        call_target(3);
        assert_eq!(count(&map), 6, "entry and return of 3 calls");
        drop(link);
        // Returning 1 at entry skips the return.
        let map = counter();
        let prog = counting_program("uprobe.session", &map, Some(pid()), 1);
        let _link = uprobe::attach_multi(
            &prog,
            &exe,
            &["ebpf_rs_probe_kinds_target"],
            &UprobeMultiOptions::default(),
        )?;
        call_target(3);
        assert_eq!(count(&map), 3);
        let retprobe = UprobeMultiOptions {
            retprobe: true,
            ..Default::default()
        };
        let err = uprobe::attach_multi(&prog, &exe, &["ebpf_rs_probe_kinds_target"], &retprobe)
            .unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&err)
                .to_string()
                .contains("cannot be a uretprobe"),
            "{err}"
        );
        Ok(())
    });
}

/// `path` relative to the working directory (`../..` up to `/`).
fn relative(path: &std::path::Path) -> std::path::PathBuf {
    let cwd = std::env::current_dir().unwrap();
    let mut rel = std::path::PathBuf::new();
    for _ in 1..cwd.components().count() {
        rel.push("..");
    }
    rel.join(path.strip_prefix("/").unwrap())
}

fn tracefs_events(file: &str) -> String {
    ebpf_syscall::tracefs::read(file)
        .unwrap()
        .unwrap_or_default()
}

#[test]
fn uprobe_through_uprobe_events() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("uprobe", &map, Some(pid()), 0);
        let exe = std::env::current_exe().unwrap();
        for retprobe in [false, true] {
            reset(&map);
            let opts = UprobeOptions {
                mode: ProbeAttachMode::Legacy,
                retprobe,
                ..Default::default()
            };
            let link = uprobe::attach(&prog, &exe, "ebpf_rs_probe_kinds_target", &opts)?;
            let (group, name) = link.tracefs_event().expect("a tracefs event");
            let (group, name) = (group.to_owned(), name.to_owned());
            assert_eq!(group, "ebpf_rs");
            let line = format!("{}:{group}/{name} ", if retprobe { 'r' } else { 'p' });
            assert!(tracefs_events("uprobe_events").contains(&line), "{line}");
            assert!(!link.is_bpf_link(), "legacy probes attach with the ioctls");
            call_target(4);
            assert_eq!(count(&map), 4);
            drop(link);
            assert!(
                !tracefs_events("uprobe_events").contains(&line),
                "{line} left behind"
            );
            call_target(1);
            assert_eq!(count(&map), 4);
        }
        // A relative path is made absolute for uprobe_events.
        let rel = relative(&exe);
        reset(&map);
        let opts = UprobeOptions {
            mode: ProbeAttachMode::Legacy,
            ..Default::default()
        };
        let _link = uprobe::attach(&prog, &rel, "ebpf_rs_probe_kinds_target", &opts)?;
        call_target(2);
        assert_eq!(count(&map), 2);
        Ok(())
    });
}

#[test]
fn kprobe_through_kprobe_events() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("kprobe/security_file_open", &map, Some(pid()), 0);
        let opts = KprobeOptions {
            mode: ProbeAttachMode::Legacy,
            ..Default::default()
        };
        let link = kprobe::attach(&prog, "security_file_open", &opts)?;
        let (_, name) = link.tracefs_event().expect("a tracefs event");
        let name = name.to_owned();
        assert!(tracefs_events("kprobe_events").contains(&name));
        touch_a_file("kprobe-events");
        assert!(count(&map) >= 1);
        drop(link);
        assert!(!tracefs_events("kprobe_events").contains(&name));
        Ok(())
    });
}

#[test]
fn probe_attach_modes() {
    kernel_test(|| {
        let map = counter();
        let prog = counting_program("uprobe", &map, Some(pid()), 0);
        let exe = std::env::current_exe().unwrap();
        let attach = |mode| {
            let opts = UprobeOptions {
                mode,
                ..Default::default()
            };
            uprobe::attach(&prog, &exe, "ebpf_rs_probe_kinds_target", &opts)
        };
        let perf = attach(ProbeAttachMode::Perf)?;
        assert!(!perf.is_bpf_link() && perf.tracefs_event().is_none());
        drop(perf);
        let link = attach(ProbeAttachMode::Link)?;
        assert!(link.is_bpf_link());
        call_target(2);
        assert_eq!(count(&map), 2);
        Ok(())
    });
}
