//! The linked fixture (`testdata/linked/{a,b,c}.c`, linked by libbpf's static linker, as
//! `bpftool gen object` does): weak maps and subprograms, static functions and variables of
//! the same name in several files, externs, and datasecs the linker laid out, in both byte
//! orders.

use std::path::Path;

use ebpf_btf::{Datasec, FuncLinkage, MarshalOptions, Spec, Type};
use ebpf_spec::{CollectionSpec, KconfigRef, KsymRef, ProgramSpec};

const FILES: [&str; 2] = ["linked-el.o", "linked-eb.o"];

fn read(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn open(name: &str) -> CollectionSpec {
    CollectionSpec::from_elf(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The callees of the BPF-to-BPF calls in `p`, in order.
fn callees(p: &ProgramSpec) -> Vec<&str> {
    p.instructions
        .iter()
        .filter(|i| i.is_function_call())
        .filter_map(|i| i.reference())
        .collect()
}

/// The instructions of function `name` inside program `p`.
fn function(p: &ProgramSpec, name: &str) -> Vec<String> {
    let start = p
        .instructions
        .iter()
        .position(|i| i.symbol() == Some(name))
        .unwrap_or_else(|| panic!("{}: no function {name}", p.name));
    let len = p.instructions[start + 1..]
        .iter()
        .position(|i| i.symbol().is_some())
        .map_or(p.instructions.len() - start, |n| n + 1);
    p.instructions[start..start + len]
        .iter()
        .map(|i| i.to_string())
        .collect()
}

#[test]
fn weak_map_is_one_map_used_by_both_files() {
    for file in FILES {
        let spec = open(file);
        let m = &spec.maps["map_weak"];
        assert_eq!(
            (m.max_entries, m.key_size, m.value_size),
            (4, 4, 4),
            "{file}"
        );
        for prog in ["weak_map_write", "weak_map_read"] {
            let refs: Vec<_> = spec.programs[prog]
                .instructions
                .iter()
                .filter(|i| i.is_map_load())
                .filter_map(|i| i.reference())
                .collect();
            assert_eq!(refs, ["map_weak"], "{file}: {prog}");
        }
    }
}

#[test]
fn strong_subprogram_wins_and_overridden_weak_code_is_dropped() {
    for file in FILES {
        let spec = open(file);
        let p = &spec.programs["strong_wins"];
        assert_eq!(p.subprograms(), ["pick", "only_weak"], "{file}");
        assert_eq!(
            function(p, "pick"),
            ["r0 = r1", "r0 += 0x7d0", "exit"],
            "{file}: b.c's pick"
        );
        assert_eq!(function(p, "only_weak")[1], "r0 += 0x7", "{file}");
        // The code of a.c's weak pick (x + 1000) stays in .text without a symbol: no
        // program holds it.
        for p in spec.programs.values() {
            assert!(
                p.instructions
                    .iter()
                    .all(|i| i.to_string() != "r0 += 0x3e8"),
                "{file}: {} holds the overridden weak pick",
                p.name
            );
        }
    }
}

#[test]
fn static_functions_of_the_same_name_stay_apart() {
    for file in FILES {
        let spec = open(file);
        // a.c's subprog, then b.c's through b_func; each reads its own file's `counter`.
        let statics = &spec.programs["statics"];
        assert_eq!(
            statics.subprograms(),
            ["subprog@0x30", "b_func", "subprog@0x80"],
            "{file}"
        );
        assert_eq!(callees(statics), ["subprog@0x30", "b_func", "subprog@0x80"]);
        assert_eq!(callees(&spec.programs["statics_b"]), ["subprog@0x80"]);
        // c.c's global subprog keeps its name.
        assert_eq!(callees(&spec.programs["statics_c"]), ["subprog"]);
        // The static counters of a.c and b.c and the global one of c.c at .data offsets 4,
        // 8 and 12 (after a.c's weak var_weak).
        for (prog, sub, offset) in [
            ("statics", "subprog@0x30", 4u32),
            ("statics", "subprog@0x80", 8),
            ("statics_c", "subprog", 12),
        ] {
            let p = &spec.programs[prog];
            let at = p
                .instructions
                .iter()
                .position(|i| i.symbol() == Some(sub))
                .expect("subprog");
            let load = p.instructions[at..]
                .iter()
                .find(|i| i.is_map_load())
                .expect("a .data load");
            assert_eq!(load.reference(), Some(".data"), "{file}: {sub}");
            assert_eq!(
                load.map_fd_and_offset().map(|(_, off)| off),
                Some(offset),
                "{file}: {sub}"
            );
        }
        // Statics are not variables; c.c's globals are, `counter` at its own offset.
        let vars: Vec<(&str, u32)> = spec
            .variables
            .values()
            .map(|v| (v.name.as_str(), v.offset))
            .collect();
        assert_eq!(
            vars,
            [("c_value", 16), ("counter", 12), ("var_weak", 20)],
            "{file}"
        );
    }
}

/// A weak variable a strong one overrides: the linker appends the strong definition's
/// data (offset 20) and points the symbol there, but leaves the datasec entry where the
/// weak definition was (offset 0). The object opens (as with libbpf), and the variable
/// and the code that reads it follow the symbol.
#[test]
fn overridden_weak_variable_follows_its_symbol() {
    for file in FILES {
        let spec = open(file);
        let btf = spec.btf.as_deref().expect("btf");
        let (_, ds) = btf.type_by_name::<Datasec>(".data").expect(".data");
        let entry = ds
            .vars
            .iter()
            .find(|v| matches!(btf.type_by_id(v.type_id), Ok(Type::Var(var)) if var.name == "var_weak"))
            .expect("var_weak in .data");
        assert_eq!(entry.offset, 0, "{file}: the linker's datasec entry");
        assert_eq!(spec.variables["var_weak"].offset, 20, "{file}");
        let load = spec.programs["weak_var"]
            .instructions
            .iter()
            .find(|i| i.is_map_load())
            .expect("a .data load");
        assert_eq!(
            load.map_fd_and_offset().map(|(_, off)| off),
            Some(20),
            "{file}"
        );
    }
}

#[test]
fn externs_are_resolved_or_weak() {
    for file in FILES {
        let spec = open(file);
        // a.c's weak extern c_func is c.c's function.
        let p = &spec.programs["weak_extern_func"];
        assert_eq!(p.subprograms(), ["c_func"], "{file}");
        // Weak in a.c, strong in c.c: strong. Weak in both: weak.
        let kconfig: Vec<(String, bool)> = spec.programs["weak_externs"]
            .instructions
            .iter()
            .filter_map(|i| i.metadata.get::<KconfigRef>())
            .map(|k| (k.name.clone(), k.weak))
            .collect();
        assert_eq!(
            kconfig,
            [
                ("LINUX_KERNEL_VERSION".to_owned(), false),
                ("CONFIG_EBPF_RS_MISSING".to_owned(), true)
            ],
            "{file}"
        );
        let ksym: Vec<(String, bool)> = spec.programs["weak_externs"]
            .instructions
            .iter()
            .filter_map(|i| i.metadata.get::<KsymRef>())
            .map(|k| (k.name.clone(), k.weak))
            .collect();
        assert_eq!(ksym, [("ebpf_rs_missing_ksym".to_owned(), true)], "{file}");
    }
}

/// A weak hidden subprogram is verified as a static one: its BTF FUNC is static, as libbpf
/// makes it (the helpers of libbpf's usdt.bpf.h need it).
#[test]
fn hidden_subprogram_is_static_in_btf() {
    for file in FILES {
        let spec = open(file);
        assert_eq!(spec.programs["hidden_weak"].subprograms(), ["store"]);
        let btf = spec.btf.as_ref().expect("btf");
        let linkage = |name: &str| {
            btf.types()
                .find_map(|(_, t)| match t {
                    Ok(Type::Func(f)) if f.name == name => Some(f.linkage),
                    _ => None,
                })
                .expect("func")
        };
        assert_eq!(linkage("store"), FuncLinkage::Static, "{file}");
        assert_eq!(linkage("c_func"), FuncLinkage::Global, "{file}");
        assert_eq!(linkage("only_weak"), FuncLinkage::Global, "{file}");
    }
}

/// The datasecs of `btf` other than the extern ones, as (name, size, [(var, offset, size)]).
type Layout = Vec<(String, u32, Vec<(String, u32, u32)>)>;

fn datasecs(btf: &Spec) -> Layout {
    let mut out = Vec::new();
    for (_, t) in btf.types() {
        let Ok(Type::Datasec(ds)) = t else { continue };
        if ds.name == ".kconfig" || ds.name == ".ksyms" {
            continue;
        }
        let vars = ds
            .vars
            .iter()
            .map(|v| {
                let name = btf.type_name(v.type_id).expect("name").to_owned();
                (name, v.offset, v.size)
            })
            .collect();
        out.push((ds.name.to_owned(), ds.size, vars));
    }
    out
}

/// The kernel checks datasec offsets ("Invalid offset"): the BTF we marshal for the kernel
/// keeps the ones the linker wrote, three `counter`s and the overridden weak `var_weak`
/// included.
#[test]
fn marshalled_datasecs_keep_the_linker_offsets() {
    for file in FILES {
        let bytes = read(file);
        let elf = goblin::elf::Elf::parse(&bytes).expect("elf");
        let sh = elf
            .section_headers
            .iter()
            .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".BTF"))
            .expect(".BTF");
        let raw = &bytes[sh.sh_offset as usize..(sh.sh_offset + sh.sh_size) as usize];
        let object = datasecs(&Spec::parse(raw).expect("object btf"));
        let data = object.iter().find(|d| d.0 == ".data").expect(".data");
        assert_eq!(
            data.2
                .iter()
                .map(|v| (v.0.as_str(), v.1))
                .collect::<Vec<_>>(),
            [
                ("var_weak", 0),
                ("counter", 4),
                ("counter", 8),
                ("counter", 12),
                ("c_value", 16)
            ],
            "{file}"
        );
        let spec = open(file);
        let btf = spec.btf.as_ref().expect("btf");
        assert_eq!(datasecs(btf), object, "{file}: fixed-up btf");
        let marshalled = btf.marshal(MarshalOptions::default()).expect("marshal");
        let back = Spec::parse(&marshalled).expect("parse marshalled");
        assert_eq!(datasecs(&back), object, "{file}: marshalled btf");
        assert!(back.type_by_name::<Datasec>(".data").is_ok());
    }
}
