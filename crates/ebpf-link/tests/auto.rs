//! Auto-attach from section names, with the committed fixtures and with
//! programs built here.

mod common;

use std::hint::black_box;

use common::*;
use ebpf_link::{AttachPoint, Link};
use ebpf_test_support::kernel_test;

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn ebpf_rs_uprobe_target(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

fn call_target(n: u64) {
    let f: extern "C" fn(u64) -> u64 = black_box(ebpf_rs_uprobe_target);
    for i in 0..n {
        black_box(f(i));
    }
}

#[test]
fn fixture_sections_resolve() {
    kernel_test(|| {
        fixture_sections_body();
        Ok(())
    });
}

fn fixture_sections_body() {
    let path = format!("{}/../../testdata/loader-el.o", env!("CARGO_MANIFEST_DIR"));
    let coll = ebpf::CollectionSpec::from_file(&path).unwrap();
    let point = |n: &str| AttachPoint::from_spec(&coll.programs[n]);
    assert_eq!(
        point("tp_getpid").unwrap(),
        AttachPoint::Tracepoint {
            group: "syscalls".into(),
            name: "sys_enter_getpid".into()
        }
    );
    assert_eq!(
        point("raw_tp_prog").unwrap(),
        AttachPoint::RawTracepoint {
            name: "sys_enter".into()
        }
    );
    assert!(
        matches!(point("uprobe_prog").unwrap(), AttachPoint::Uprobe { ref binary, ref symbol, retprobe: false, .. } if binary == "/proc/self/exe" && symbol == "ebpf_rs_uprobe_target")
    );
    assert_eq!(point("iter_task").unwrap(), AttachPoint::Iter);
    assert_eq!(point("fentry_prog").unwrap(), AttachPoint::Tracing);
    assert_eq!(point("fexit_prog").unwrap(), AttachPoint::Tracing);
    assert_eq!(point("lsm_prog").unwrap(), AttachPoint::Tracing);
    for needs_target in [
        "xdp_prog",
        "tc_prog",
        "cgroup_skb_prog",
        "connect4_prog",
        "sk_lookup_prog",
    ] {
        let err = point(needs_target).unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&err)
                .to_string()
                .contains("needs an attach point"),
            "{needs_target}: {err}"
        );
    }
}

#[test]
fn fixture_tp_getpid_counts() {
    kernel_test(|| {
        let fx = fixture("loader-el.o", "tp_getpid");
        // Asked before attaching: std::process::id() is a getpid call too.
        let me = pid();
        let link = ebpf_link::attach_spec(&fx.spec, &fx.program).unwrap();
        assert_eq!(link.kind(), "tracepoint");
        for _ in 0..5 {
            raw_getpid();
        }
        let map = &fx.maps["hash_map"];
        // One entry for this process: the fixture zeroes the key's padding byte,
        // which kernels that let root read uninitialised stack (6.1) would
        // otherwise turn into a new key on every call.
        let ours: Vec<(Vec<u8>, u64)> = map
            .iter()
            .map(|kv| kv.unwrap())
            .filter(|(k, _)| u32::from_ne_bytes(k[..4].try_into().unwrap()) == me)
            .map(|(k, v)| (k, u64::from_ne_bytes(v[..8].try_into().unwrap())))
            .collect();
        assert_eq!(
            ours,
            [(me.to_ne_bytes().into_iter().chain([0; 4]).collect(), 5)]
        );
        Ok(())
    });
}

#[test]
fn fixture_syscount_counts() {
    kernel_test(|| {
        let fx = fixture("syscount-el.o", "count_syscalls");
        let link = ebpf_link::attach(&fx.program).unwrap();
        raw_getpid();
        let map = &fx.maps["counts"];
        let ours = map
            .iter()
            .map(|kv| kv.unwrap())
            .filter(|(k, _)| u32::from_ne_bytes(k[..4].try_into().unwrap()) == pid())
            .map(|(_, v)| u64::from_ne_bytes(v[..8].try_into().unwrap()))
            .sum::<u64>();
        assert!(ours >= 1, "no syscalls counted for this process");
        drop(link);
        Ok(())
    });
}

#[test]
fn fixture_uprobe_on_proc_self_exe() {
    kernel_test(|| {
        let fx = fixture("loader-el.o", "uprobe_prog");
        let link = ebpf_link::attach_spec(&fx.spec, &fx.program).unwrap();
        assert_eq!(link.kind(), "uprobe");
        call_target(6);
        let per_cpu = fx.maps["percpu_array"]
            .lookup_percpu(&0u32.to_ne_bytes())
            .unwrap()
            .unwrap();
        let total: u64 = per_cpu
            .iter()
            .map(|v| u64::from_ne_bytes(v[..8].try_into().unwrap()))
            .sum();
        assert_eq!(total, 6);
        Ok(())
    });
}

#[test]
fn auto_attach_built_programs() {
    kernel_test(|| {
        let map = counter();
        // raw_tp
        let p = counting_program("raw_tp/sys_enter", &map, Some(pid()), 0);
        let link = ebpf_link::attach(&p).unwrap();
        raw_getpid();
        assert!(count(&map) >= 1);
        assert_eq!(link.kind(), "raw tracepoint");
        drop(link);
        // uretprobe through the spec's section name
        reset(&map);
        let mut spec = ebpf::ProgramSpec::new(
            "ret",
            "uretprobe//proc/self/exe:ebpf_rs_uprobe_target",
            counting_insns(&map, Some(pid()), 0),
        );
        spec.license = "GPL".into();
        let prog = ebpf::Program::load(&spec, &Default::default()).unwrap();
        let link = ebpf_link::attach_spec(&spec, &prog).unwrap();
        call_target(3);
        assert_eq!(count(&map), 3);
        let data = link.info()?.data;
        if perf_link_info(&data) {
            assert!(matches!(
                data,
                ebpf_link::LinkInfoData::PerfEvent(ebpf_link::PerfEventInfo::Uprobe {
                    retprobe: true,
                    ..
                })
            ));
        }
        drop(link);
        // iter
        let it = load(
            "it",
            "iter/task",
            ebpf_asm::Instructions::from(vec![
                ebpf_asm::mov64(ebpf_asm::Register::R0, 0),
                ebpf_asm::exit(),
            ]),
        )
        .unwrap();
        let link = ebpf_link::attach(&it).unwrap();
        assert_eq!(link.kind(), "iter");
        // Not auto-attachable.
        let xdp = trivial_program("xdp", 2);
        let err = ebpf_link::attach(&xdp).unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&err)
                .to_string()
                .contains("needs an attach point"),
            "{err}"
        );
        Ok(())
    });
}
