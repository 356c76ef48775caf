//! Loading the committed fixtures into the running kernel.

use std::collections::BTreeMap;
use std::sync::Arc;

use ebpf::{
    Collection, CollectionOptions, CollectionSpec, Error, MapType, ProgramType, TestRunOptions,
    UpdateFlags,
};
use ebpf_test_support::{kernel_test, skip, skip_if_not_supported};

mod fixtures;

use fixtures::{spec, testdata, without_struct_ops};

/// Loads `spec`; when a program fails by policy (lockdown), because a kernel
/// symbol is missing or because the kernel is older than its feature, prints
/// why, drops it and retries. Returns the collection, what was dropped, and
/// which of those the kernel does not support.
fn load_tolerant(
    mut spec: CollectionSpec,
    mut opts: impl FnMut() -> CollectionOptions,
) -> (Collection, Vec<String>, Vec<String>) {
    let mut dropped = Vec::new();
    let mut unsupported = Vec::new();
    loop {
        match Collection::load(&spec, opts()) {
            Ok(c) => return (c, dropped, unsupported),
            Err(e) => {
                if let (Error::Map { name, .. }, Some(_)) = (&e, e.not_supported()) {
                    // A struct_ops map the kernel cannot create (.struct_ops.link before 6.4).
                    assert!(spec.maps[name].struct_ops.is_some(), "load failed: {e}");
                    let name = name.clone();
                    skip_if_not_supported::<(), _>(Err(e));
                    dropped.push(name.clone());
                    unsupported.push(name);
                    spec = without_struct_ops(spec);
                    continue;
                }
                let Error::Program { name, .. } = &e else {
                    panic!("load failed: {e}")
                };
                let missing_ksym = ebpf::ErrorChain(&e).to_string().starts_with(&format!(
                    "program '{name}': resolve externs: kernel variable"
                ));
                if e.is_permission_denied() {
                    assert!(ebpf::ErrorChain(&e).to_string().contains("EPERM"), "{e}");
                    assert!(
                        ebpf::ErrorChain(&e)
                            .to_string()
                            .contains("refused by policy"),
                        "{e}"
                    );
                    skip(format!("{name}: {e}"));
                } else if missing_ksym {
                    // A typed ksym this kernel's BTF does not describe (Debian's
                    // 5.10 has no BTF for per-CPU variables such as bpf_prog_active).
                    skip(format!("{name}: {e}"));
                } else if e.not_supported().is_some() {
                    // Skips below the feature's minimum kernel, fails at or above it.
                    let name = name.clone();
                    skip_if_not_supported::<(), _>(Err(e));
                    assert!(spec.programs.remove(&name).is_some());
                    dropped.push(name.clone());
                    unsupported.push(name);
                    continue;
                } else {
                    panic!("load failed: {e}");
                }
                let name = name.clone();
                assert!(spec.programs.remove(&name).is_some());
                dropped.push(name);
            }
        }
    }
}

fn run(coll: &Collection, name: &str) -> u32 {
    let p = &coll.programs[name];
    let opts = TestRunOptions {
        data_in: vec![0u8; 64],
        ..Default::default()
    };
    match p.test_run(&opts) {
        Ok(r) => r.retval,
        Err(e) => panic!("{name}: {e}"),
    }
}

#[test]
fn loader_fixture() {
    kernel_test(|| {
        let s = spec("loader-el.o");
        let (coll, dropped, unsupported) = load_tolerant(s, CollectionOptions::default);
        println!("dropped: {dropped:?}");
        // Only what lockdown refuses is dropped (or nothing on an open kernel),
        // the struct_ops map with its programs where the kernel lacks it, and
        // what the kernel is too old for (checked against its minimum kernel).
        for d in dropped.iter().filter(|d| !unsupported.contains(d)) {
            assert!(
                ["fentry_prog", "fexit_prog", "lsm_prog", "ebpf_rs_cc"].contains(&d.as_str()),
                "{d} dropped"
            );
        }
        let struct_ops = !dropped.iter().any(|d| d == "ebpf_rs_cc");
        // Programs refused by lockdown (fentry/fexit/lsm) or missing symbols are dropped; the rest load.
        for name in [
            "socket_prog",
            "socket_prog_two",
            "tail_target",
            "xdp_prog",
            "tc_prog",
            "tp_getpid",
            "raw_tp_prog",
            "uprobe_prog",
            "cgroup_skb_prog",
            "connect4_prog",
            "sk_lookup_prog",
            "iter_task",
            "syscall_prog",
            "ksym_prog",
            "ebpf_rs_ssthresh",
            "ebpf_rs_cong_avoid",
            "ebpf_rs_undo_cwnd",
        ] {
            if (!struct_ops && name.starts_with("ebpf_rs_"))
                || unsupported.iter().any(|u| u == name)
            {
                continue;
            }
            assert!(
                coll.programs.contains_key(name),
                "{name} not loaded (dropped: {dropped:?})"
            );
        }
        // Global data and bpf2bpf calls.
        assert_eq!(coll.variables["counter"].get::<u32>().unwrap(), 1);
        assert_eq!(coll.variables["const_limit"].get::<u32>().unwrap(), 42);
        assert_eq!(run(&coll, "socket_prog"), 0);
        assert_eq!(coll.variables["counter"].get::<u32>().unwrap(), 2);
        assert_eq!(coll.variables["bss_total"].get::<u64>().unwrap(), 7 + 4);
        let e = coll.maps["array_map"]
            .lookup(&0u32.to_ne_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(u32::from_ne_bytes(e[4..8].try_into().unwrap()), 1);
        // Tail call through the prog array populated at load.
        assert_eq!(run(&coll, "xdp_prog"), 2);
        assert_eq!(run(&coll, "tail_target"), 2);
        // kconfig and ksyms (typed, typeless and a missing weak one) as the programs see them.
        // (Syscall programs: 5.14.)
        let syscall = TestRunOptions::default();
        for name in ["syscall_prog", "ksym_prog"] {
            if let Some(p) = coll.programs.get(name) {
                assert_eq!(p.test_run(&syscall)?.retval, 0, "{name}");
            }
        }
        // struct_ops: the map holds the three callbacks.
        if struct_ops {
            assert_eq!(
                coll.struct_ops["ebpf_rs_cc"].map().map_type(),
                MapType::STRUCT_OPS
            );
        }
        // kconfig values, at their datasec offsets.
        let kconfig = coll.maps[".kconfig"]
            .lookup(&0u32.to_ne_bytes())
            .unwrap()
            .unwrap();
        let btf = spec("loader-el.o").btf.unwrap();
        let (_, ds) = btf.type_by_name::<ebpf_btf::Datasec>(".kconfig").unwrap();
        let mut vals = BTreeMap::new();
        for v in &ds.vars {
            let ebpf_btf::Type::Var(var) = btf.type_by_id(v.type_id).unwrap() else {
                panic!()
            };
            vals.insert(
                var.name.clone(),
                kconfig[v.offset as usize..(v.offset + v.size) as usize].to_vec(),
            );
        }
        let k = ebpf_test_support::kernel_version();
        let code = (k.major << 16) | (k.minor << 8) | k.patch.min(255);
        assert_eq!(vals["LINUX_KERNEL_VERSION"], code.to_ne_bytes());
        assert_eq!(vals["CONFIG_BPF_SYSCALL"], [1]);
        assert!(i32::from_ne_bytes(vals["CONFIG_HZ"][..].try_into().unwrap()) >= 100);
        assert!(
            coll.maps[".kconfig"]
                .update(&0u32.to_ne_bytes(), &kconfig, UpdateFlags::ANY)
                .is_err(),
            "frozen"
        );
        // Map-in-map values.
        let aom = &coll.maps["array_of_maps"];
        let id = aom.lookup(&0u32.to_ne_bytes()).unwrap().unwrap();
        assert_eq!(
            u32::from_ne_bytes(id[..].try_into().unwrap()),
            coll.maps["inner_a"].id().unwrap()
        );
        // Data sections are mmapable and rodata frozen.
        assert!(coll.variables["counter"].is_mmapped());
        assert!(coll.variables["const_limit"].is_read_only());
        assert!(coll.variables["const_limit"].set(&1u32).is_err());
        coll.variables["counter"].set(&10u32).unwrap();
        assert_eq!(run(&coll, "socket_prog"), 0);
        assert_eq!(coll.variables["counter"].get::<u32>().unwrap(), 11);
        // info
        let info = coll.programs["socket_prog"].info().unwrap();
        assert_eq!(info.name, "socket_prog");
        assert!(info.xlated_size > 0);
        assert_ne!(info.tag, [0; 8]);
        assert!(info.btf_id > 0);
        // Func and line info reached the kernel (socket_prog + 3 subprograms).
        let raw = ebpf_syscall::prog_info(&coll.programs["socket_prog"]).unwrap();
        assert_eq!(raw.nr_func_info, 4);
        assert!(raw.nr_line_info > 4);
        assert!(coll.programs["socket_prog"].map_ids().unwrap().len() >= 3);
        Ok(())
    });
}

#[test]
fn struct_ops() {
    kernel_test(|| {
        const AVAILABLE: &str = "/proc/sys/net/ipv4/tcp_available_congestion_control";
        let before = std::fs::read_to_string(AVAILABLE)?;
        let mut s = spec("loader-el.o");
        s.programs.retain(|n, _| n.starts_with("ebpf_rs_"));
        let coll = Collection::load(&s, CollectionOptions::default())?;
        // Loading registers nothing: that is attaching (ebpf_link::struct_ops).
        assert_eq!(std::fs::read_to_string(AVAILABLE)?, before);
        assert!(!coll.maps.contains_key("ebpf_rs_cc"));
        let ops = &coll.struct_ops["ebpf_rs_cc"];
        assert_eq!(ops.type_name(), "tcp_congestion_ops");
        assert!(ops.is_link());
        let map = ops.map();
        assert_eq!(map.map_type(), MapType::STRUCT_OPS);
        assert_eq!(map.info()?.map_type, MapType::STRUCT_OPS);
        assert_ne!(map.flags() & ebpf_spec::MAP_FLAG_LINK, 0);
        assert_eq!(ops.value().len(), map.value_size() as usize);
        for p in [
            "ebpf_rs_ssthresh",
            "ebpf_rs_cong_avoid",
            "ebpf_rs_undo_cwnd",
        ] {
            assert_eq!(coll.programs[p].program_type(), ProgramType::STRUCT_OPS);
        }
        // A struct_ops program no map references has no attach point: it
        // is not loaded (libbpf 1.5).
        let mut prog_only = s.clone();
        prog_only.maps.remove("ebpf_rs_cc").unwrap();
        let coll = Collection::load(&prog_only, CollectionOptions::default())?;
        assert!(coll.programs.is_empty() && coll.struct_ops.is_empty());
        // A map in a `?.struct_ops` section is created only on request.
        let mut optional = s.clone();
        optional.maps.get_mut("ebpf_rs_cc").unwrap().section = "?.struct_ops.link".into();
        let coll = Collection::load(&optional, CollectionOptions::default())?;
        assert!(coll.programs.is_empty() && coll.struct_ops.is_empty());
        Ok(())
    });
}

#[test]
fn lockdown_is_permission_denied() {
    kernel_test(|| {
        let mut s = without_struct_ops(spec("loader-el.o"));
        s.programs.retain(|n, _| n == "fexit_prog");
        match Collection::load(&s, CollectionOptions::default()) {
            Ok(_) => skip("fexit loaded: this kernel is not locked down"),
            Err(e) => {
                assert!(e.is_permission_denied(), "{e}");
                assert!(e.not_supported().is_none());
                let msg = ebpf::ErrorChain(&e).to_string();
                assert!(msg.starts_with("program 'fexit_prog': load:"), "{msg}");
                assert!(msg.contains("(EPERM): refused by policy"), "{msg}");
            }
        }
        Ok(())
    });
}

#[test]
fn nobtf_fixture() {
    kernel_test(|| {
        let s = spec("nobtf-el.o");
        let coll = Collection::load(&s, CollectionOptions::default()).unwrap();
        assert_eq!(coll.programs.len(), 2);
        for (name, p) in &coll.programs {
            let r = p.test_run(&TestRunOptions {
                data_in: vec![0; 64],
                ..Default::default()
            });
            assert!(r.is_ok(), "{name}: {r:?}");
        }
        assert!(coll.maps.contains_key("legacy_hash"));
        Ok(())
    });
}

#[test]
fn isa_fixtures() {
    kernel_test(|| {
        for f in [
            "isa-el.o",
            "isa_v1-el.o",
            "isa_v2-el.o",
            "isa_v3-el.o",
            "isa_v4-el.o",
        ] {
            if f == "isa_v4-el.o"
                && skip_if_not_supported(ebpf::features::have_isa(ebpf::features::IsaVersion::V4))
                    .is_none()
            {
                continue;
            }
            let s = spec(f);
            let coll = Collection::load(&s, CollectionOptions::default())
                .unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(!coll.programs.is_empty(), "{f}");
            for (name, p) in &coll.programs {
                let r = p
                    .test_run(&TestRunOptions {
                        data_in: vec![0; 64],
                        ..Default::default()
                    })
                    .unwrap_or_else(|e| panic!("{f} {name}: {e}"));
                assert_eq!(r.retval, 0, "{f} {name}");
            }
        }
        Ok(())
    });
}

#[test]
fn verifier_error_is_readable() {
    kernel_test(|| {
        use ebpf_asm::{Register, exit};
        // r0 is read before it is written.
        let e = ebpf::Program::load_raw(ProgramType::SOCKET_FILTER, vec![exit()].into(), "GPL")
            .unwrap_err();
        let v = e.verifier().expect("a verifier error");
        assert!(v.log.as_str().contains("R0 !read_ok"), "{}", v.log.as_str());
        let msg = ebpf::ErrorChain(&e).to_string();
        assert!(
            msg.starts_with("program 'raw': load: verifier rejected the program"),
            "{msg}"
        );
        assert!(msg.contains("R0 !read_ok"), "{msg}");
        let ok = ebpf::Program::load_raw(
            ProgramType::SOCKET_FILTER,
            vec![ebpf_asm::mov64(Register::R0, 3), exit()].into(),
            "GPL",
        )
        .unwrap();
        assert_eq!(
            ok.test_run(&TestRunOptions {
                data_in: vec![0; 32],
                ..Default::default()
            })
            .unwrap()
            .retval,
            3
        );
        Ok(())
    });
}

#[test]
fn core_fixture() {
    kernel_test(|| {
        let s = spec("core-el.o");
        let target = CollectionSpec::from_file(testdata("core_target-el.o")).unwrap();
        let target_btf: Arc<ebpf_btf::Spec> = target.btf.clone().unwrap();
        let mut ok = s.clone();
        ok.programs.retain(|n, _| !n.starts_with("err_"));
        let opts = || CollectionOptions {
            core_btf: Some(target_btf.clone()),
            ..Default::default()
        };
        let coll = Collection::load(&ok, opts()).unwrap();
        assert_eq!(coll.programs.len(), ok.programs.len());
        for name in coll.programs.keys() {
            assert_eq!(run(&coll, name), 0, "{name} failed at the line it returned");
        }
        let mut amb = s.clone();
        amb.programs.retain(|n, _| n == "err_ambiguous");
        let e = Collection::load(&amb, opts()).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e).to_string().contains("ambiguous"),
            "{e}"
        );
        assert!(
            e.core()
                .is_some_and(ebpf_btf::core::CoreError::is_ambiguous),
            "{e}"
        );
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .starts_with("program 'err_ambiguous': apply CO-RE relocations"),
            "{e}"
        );
        Ok(())
    });
}

#[test]
fn poisoned_relocation_is_named() {
    kernel_test(|| {
        // struct core_s does not exist in the running kernel: every offset
        // relocation is poisoned and the verifier rejects the first one reached.
        let mut s = spec("core-el.o");
        s.programs.retain(|n, _| n == "reloc_field_offsets");
        let e = Collection::load(&s, CollectionOptions::default()).unwrap_err();
        let v = e
            .verifier()
            .unwrap_or_else(|| panic!("not a verifier error: {e}"));
        let relo = v
            .poisoned_relocation
            .as_deref()
            .expect("poisoned relocation named");
        assert!(relo.contains("core_s"), "{relo}");
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .contains("CO-RE relocation"),
            "{e}"
        );
        Ok(())
    });
}

#[test]
fn skip_programs() {
    kernel_test(|| {
        let s = without_struct_ops(spec("loader-el.o"));
        let opts = CollectionOptions {
            skip_programs: s
                .programs
                .keys()
                .filter(|n| *n != "tc_prog")
                .cloned()
                .collect(),
            ..Default::default()
        };
        let coll = skip_if_not_supported(Collection::load(&s, opts)).unwrap();
        assert_eq!(coll.programs.keys().collect::<Vec<_>>(), ["tc_prog"]);
        // Every map is still created.
        assert_eq!(coll.maps.len(), s.maps.len());
        Ok(())
    });
}

#[test]
fn ksyms_typeless_and_weak() {
    kernel_test(|| {
        // ksym_prog returns 0 when &bpf_link_put (typeless, from /proc/kallsyms)
        // is set and the weak ebpf_rs_missing_symbol resolved to NULL.
        let mut s = without_struct_ops(spec("loader-el.o"));
        s.programs.retain(|n, _| n == "ksym_prog");
        // A syscall program (5.14).
        let coll = Collection::load(&s, CollectionOptions::default())?;
        let r = coll.programs["ksym_prog"]
            .test_run(&TestRunOptions::default())
            .unwrap();
        assert_eq!(r.retval, 0);
        // A missing non-weak typeless ksym is an error that names it.
        let prog = s.programs.get_mut("ksym_prog").unwrap();
        for ins in prog.instructions.iter_mut() {
            if let Some(k) = ins.metadata.get::<ebpf_spec::KsymRef>().cloned() {
                if k.name == "bpf_link_put" {
                    ins.metadata.insert(ebpf_spec::KsymRef {
                        name: "ebpf_rs_no_such_symbol".into(),
                        ..k
                    });
                }
            }
        }
        let e = Collection::load(&s, CollectionOptions::default()).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .contains("'ebpf_rs_no_such_symbol' not found"),
            "{e}"
        );
        Ok(())
    });
}

#[test]
fn foreign_byte_order_is_refused() {
    kernel_test(|| {
        let name = if cfg!(target_endian = "little") {
            "loader-eb.o"
        } else {
            "loader-el.o"
        };
        let e = Collection::load(&spec(name), CollectionOptions::default()).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e).to_string().contains("byte order"),
            "{e}"
        );
        Ok(())
    });
}

#[test]
fn custom_core_target_leaves_attach_targets_to_the_kernel() {
    kernel_test(|| {
        // CO-RE against core_target-el.o's BTF, which has no `btf_trace_*`
        // typedefs: a tp_btf program must still find its attach point in the
        // running kernel (libbpf's btf_custom_path affects CO-RE only).
        let mut s = spec("core-el.o");
        s.programs.retain(|n, _| !n.starts_with("err_"));
        let insns = ebpf_asm::Instructions::from(vec![
            ebpf_asm::mov64(ebpf_asm::Register::R0, 0),
            ebpf_asm::exit(),
        ]);
        let mut tp = ebpf::ProgramSpec::new("tp_btf_enter", "tp_btf/sys_enter", insns);
        tp.license = "GPL".into();
        s.programs.insert(tp.name.to_string(), tp);
        let target = CollectionSpec::from_file(testdata("core_target-el.o"))?;
        let opts = CollectionOptions {
            core_btf: target.btf.clone(),
            ..Default::default()
        };
        let coll = Collection::load(&s, opts)?;
        assert_eq!(
            coll.programs["tp_btf_enter"].program_type(),
            ProgramType::TRACING
        );
        Ok(())
    });
}

#[test]
fn inner_maps_with_spin_locks() {
    kernel_test(|| {
        // The inner map template carries the value's BTF, so an inner map
        // whose value holds a bpf_spin_lock fits the outer map.
        let coll = Collection::load(&spec("inner_lock-el.o"), CollectionOptions::default())?;
        for expected in 1..=3u32 {
            assert_eq!(run(&coll, "count_locked"), 0);
            let v = coll.maps["inner_one"].lookup(&0u32.to_ne_bytes())?.unwrap();
            assert_eq!(u32::from_ne_bytes(v[4..8].try_into()?), expected);
        }
        Ok(())
    });
}

/// BTF the kernel refuses whatever it supports: a struct whose member lies
/// past its end ("Member exceeds struct_size").
fn refused_btf() -> Arc<ebpf_btf::Spec> {
    use ebpf_btf::{Builder, Int, IntEncoding, Member, Struct, Type};
    let mut b = Builder::new();
    let int = b.add(Type::Int(Int {
        name: "int".into(),
        size: 4,
        encoding: IntEncoding::Signed,
        offset: 0,
        bits: 32,
    }));
    b.add(Type::Struct(Struct {
        name: "bad".into(),
        size: 4,
        members: vec![Member {
            name: "past_the_end".into(),
            type_id: int,
            bit_offset: 64,
            bitfield_size: 0,
        }],
    }));
    let bytes = b.marshal(Default::default()).unwrap();
    Arc::new(ebpf_btf::Spec::parse(&bytes).unwrap())
}

#[test]
fn refused_object_btf_is_dropped_when_nothing_needs_it() {
    kernel_test(|| {
        let insns = ebpf_asm::Instructions::from(vec![
            ebpf_asm::mov64(ebpf_asm::Register::R0, 7),
            ebpf_asm::exit(),
        ]);
        let mut s = CollectionSpec {
            btf: Some(refused_btf()),
            license: "GPL".into(),
            ..spec("nobtf-el.o")
        };
        s.maps.clear();
        s.variables.clear();
        s.programs.clear();
        let mut p = ebpf::ProgramSpec::new("seven", "socket", insns);
        p.license = "GPL".into();
        s.programs.insert(p.name.to_string(), p);
        // Loads without BTF (libbpf: "BTF is optional, ignoring").
        let coll = Collection::load(&s, CollectionOptions::default())?;
        assert_eq!(run(&coll, "seven"), 7);
        assert_eq!(coll.programs["seven"].info()?.btf_id, 0);
        // A freplace program needs the object's BTF: the refusal is the error.
        let mut needs = s.clone();
        needs.programs.get_mut("seven").unwrap().program_type = ProgramType::EXT;
        let e = Collection::load(&needs, CollectionOptions::default()).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .starts_with("load object BTF (struct_ops and freplace programs need it): "),
            "{e}"
        );
        Ok(())
    });
}
