//! Programs: names, section attributes, linking and the `.BTF.ext` records on instructions.

use std::path::Path;

use ebpf_btf::{CoreRelo, CoreReloKind, FuncInfo, LineInfo};
use ebpf_spec::{AttachTarget, AttachType, CollectionSpec, ProgramType};

fn open(name: &str) -> CollectionSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name);
    CollectionSpec::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn one_program_per_function_symbol() {
    let spec = open("loader-el.o");
    let socket: Vec<&str> = spec
        .programs
        .values()
        .filter(|p| p.section_name == "socket")
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(socket, ["socket_prog", "socket_prog_two"]);
    let xdp: Vec<&str> = spec
        .programs
        .values()
        .filter(|p| p.section_name == "xdp")
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(xdp, ["tail_target", "xdp_prog"]);
    assert_eq!(spec.programs.len(), 20);
    assert!(
        !spec.programs.contains_key("global_helper"),
        ".text functions are not programs"
    );
}

#[test]
fn attach_targets() {
    let spec = open("loader-el.o");
    let up = &spec.programs["uprobe_prog"];
    assert_eq!(up.program_type, ProgramType::KPROBE);
    assert_eq!(
        up.attach_target_parts(),
        Some(AttachTarget::Uprobe {
            path: "/proc/self/exe",
            function: Some("ebpf_rs_uprobe_target"),
            offset: 0
        })
    );
    let tp = &spec.programs["tp_getpid"];
    assert_eq!(
        tp.attach_target_parts(),
        Some(AttachTarget::Tracepoint {
            category: "syscalls",
            name: "sys_enter_getpid"
        })
    );
    let fentry = &spec.programs["fentry_prog"];
    assert_eq!(
        (fentry.attach_type, fentry.attach_target.as_deref()),
        (Some(AttachType::TRACE_FENTRY), Some("security_file_open"))
    );
}

#[test]
fn linked_subprograms_keep_their_records() {
    let spec = open("loader-el.o");
    for prog in ["socket_prog", "socket_prog_two"] {
        let p = &spec.programs[prog];
        // Every function start carries its func_info, and it names the function.
        let btf = spec.btf.as_ref().expect("btf");
        for ins in p.instructions.iter().filter(|i| i.symbol().is_some()) {
            let fi = ins
                .metadata
                .get::<FuncInfo>()
                .unwrap_or_else(|| panic!("{prog}: {:?} has no func_info", ins.symbol()));
            assert_eq!(
                btf.type_name(fi.type_id).expect("name"),
                ins.symbol().expect("symbol")
            );
        }
        assert!(p.instructions[0].metadata.get::<LineInfo>().is_some());
        assert!(p.instructions[0].source().is_some());
    }
    assert!(spec.programs["socket_prog_two"].subprograms().is_empty());
    assert_eq!(spec.programs["socket_prog"].license, "Dual MIT/GPL");
}

#[test]
fn core_relocations_on_instructions() {
    let spec = open("core-eb.o");
    let kinds: std::collections::BTreeSet<&str> = spec
        .programs
        .values()
        .flat_map(|p| p.instructions.iter())
        .filter_map(|i| i.metadata.get::<CoreRelo>())
        .map(|c| c.kind.name())
        .collect();
    // core.c uses every kind.
    for kind in [
        CoreReloKind::FieldByteOffset,
        CoreReloKind::FieldByteSize,
        CoreReloKind::FieldExists,
        CoreReloKind::FieldSigned,
        CoreReloKind::FieldLShiftU64,
        CoreReloKind::FieldRShiftU64,
        CoreReloKind::TypeIdLocal,
        CoreReloKind::TypeIdTarget,
        CoreReloKind::TypeExists,
        CoreReloKind::TypeSize,
        CoreReloKind::EnumvalExists,
        CoreReloKind::EnumvalValue,
        CoreReloKind::TypeMatches,
    ] {
        assert!(kinds.contains(kind.name()), "missing {}", kind.name());
    }
}

/// A program's instructions are decoded on first use, not at open, and give the same list
/// however and wherever they are first read.
#[test]
fn instructions_are_decoded_on_first_use() {
    for name in [
        "loader-el.o",
        "loader-eb.o",
        "core-el.o",
        "linked-el.o",
        "usdt-eb.o",
    ] {
        let spec = open(name);
        assert!(
            spec.programs.values().all(|p| !p.instructions.is_decoded()),
            "{name}"
        );
        let early = spec.clone();
        // Read from several threads at once.
        std::thread::scope(|s| {
            for p in spec.programs.values() {
                s.spawn(move || p.instructions.len());
                s.spawn(move || {
                    p.instructions
                        .first()
                        .and_then(|i| i.symbol())
                        .map(str::len)
                });
            }
        });
        for (n, p) in &spec.programs {
            assert!(p.instructions.is_decoded(), "{name}: {n}");
            assert_eq!(p.instructions[0].symbol(), Some(n.as_str()), "{name}");
            assert_eq!(
                p.instructions, early.programs[n].instructions,
                "{name}: {n}"
            );
        }
        // A program edited before it was read is decoded, then edited.
        let mut edited = open(name);
        for p in edited.programs.values_mut() {
            p.instructions.push(ebpf_asm::exit());
        }
        for (n, p) in &edited.programs {
            assert_eq!(
                p.instructions.len(),
                spec.programs[n].instructions.len() + 1
            );
        }
    }
}
