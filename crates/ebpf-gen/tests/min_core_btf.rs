//! Minimal BTF (`MinCoreBtf`): relocating the fixtures' CO-RE relocations
//! against the minimised BTF gives the fixups relocating against the full
//! source gives, for both byte orders; the result is small; and it agrees
//! with `bpftool gen min_core_btf`.

use std::path::{Path, PathBuf};
use std::process::Command;

use ebpf_btf::core::{CoreError, Fixup, Relocator};
use ebpf_btf::{CoreRelo, CoreReloKind, Spec};
use ebpf_gen::MinCoreBtf;
use ebpf_spec::CollectionSpec;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name)
}

fn skip(reason: impl std::fmt::Display) {
    let test = std::thread::current().name().unwrap_or("<test>").to_owned();
    eprintln!("SKIP {test}: {reason}");
}

fn object(name: &str) -> CollectionSpec {
    CollectionSpec::from_file(testdata(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every fixture object (both byte orders) with CO-RE relocations.
fn core_fixtures() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(testdata(""))
        .expect("testdata")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with("-el.o") || n.ends_with("-eb.o"))
        .filter(|n| !relos(&object(n)).is_empty())
        .collect();
    out.sort();
    out
}

/// The CO-RE relocations of each program, `insn_off` relative to its start.
fn relos(spec: &CollectionSpec) -> Vec<(String, Vec<CoreRelo>)> {
    let mut out: Vec<(String, Vec<CoreRelo>)> = spec
        .programs
        .values()
        .map(|p| {
            let r: Vec<CoreRelo> = p
                .instructions
                .iter_offsets()
                .filter_map(|(slot, ins)| {
                    ins.metadata.get::<CoreRelo>().map(|r| CoreRelo {
                        insn_off: (slot * 8) as u32,
                        ..r.clone()
                    })
                })
                .collect();
            (p.name.to_string(), r)
        })
        .filter(|(_, r)| !r.is_empty())
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Strips what depends on type ids and member positions of the target from a
/// target spec (`[12] struct s.a (0:3 @ offset 14)` → `struct s.a @ offset 14`).
fn strip_ids(spec: &str) -> String {
    let spec = match spec.strip_prefix('[') {
        Some(rest) => rest.split_once("] ").map_or(rest, |(_, r)| r),
        None => spec,
    };
    match (spec.find(" ("), spec.find(" @ ")) {
        (Some(open), Some(at)) if open < at => {
            format!("{}{}", &spec[..open], spec[at..].trim_end_matches(')'))
        }
        _ => spec.to_owned(),
    }
}

/// A fixup without what legitimately differs between two targets with the
/// same layouts: type ids (and `target type id`'s value), candidate
/// positions, member indices.
fn normalize(r: &Result<Fixup, CoreError>) -> String {
    match r {
        Ok(f) => {
            let target_value = if f.kind == CoreReloKind::TypeIdTarget {
                u64::from(f.target_value != 0)
            } else {
                f.target_value
            };
            format!(
                "{} {} local={} target={:?} value={}->{} size={}->{} validate={} forbidden={} poison={}",
                f.kind.name(),
                f.local_spec,
                f.local,
                f.target.as_ref().map(|t| strip_ids(&t.spec)),
                f.local_value,
                target_value,
                f.local_size,
                f.target_size,
                f.validate,
                f.size_change_forbidden,
                f.poisoned
            )
        }
        Err(e) => format!(
            "error {} {}: ambiguous={}",
            e.kind.name(),
            e.local,
            e.is_ambiguous()
        ),
    }
}

/// The normalized fixups of every relocation of `spec` against `target`.
fn fixups(spec: &CollectionSpec, target: &Spec) -> Vec<String> {
    let local = spec.btf.as_ref().expect("object has BTF");
    let targets = [target];
    let mut relocator = Relocator::new(local, &targets);
    let mut out = Vec::new();
    for (prog, relos) in relos(spec) {
        for (i, relo) in relos.iter().enumerate() {
            out.push(format!(
                "{prog} #{i}: {}",
                normalize(&relocator.calculate(i, relo))
            ));
        }
    }
    out
}

fn minimise(source: &Spec, objects: &[&CollectionSpec]) -> (Vec<u8>, Spec) {
    let mut min = MinCoreBtf::new(source).expect("complete BTF");
    for o in objects {
        min.add_object(o).expect("relocations resolve");
    }
    let bytes = min.marshal().expect("marshal");
    let spec = Spec::parse(&bytes).expect("the minimal BTF parses");
    spec.validate().expect("the minimal BTF is valid");
    (bytes, spec)
}

fn assert_same(name: &str, full: &Spec, small: &Spec, spec: &CollectionSpec) {
    let a = fixups(spec, full);
    let b = fixups(spec, small);
    assert!(!a.is_empty(), "{name}: no relocations");
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "{name}: full vs minimal BTF");
    }
}

fn vmlinux() -> Option<Spec> {
    match std::fs::read("/sys/kernel/btf/vmlinux") {
        Ok(bytes) => Some(Spec::parse(&bytes).expect("vmlinux BTF parses")),
        Err(e) => {
            skip(format!("/sys/kernel/btf/vmlinux: {e}"));
            None
        }
    }
}

#[test]
fn against_core_target_same_fixups_both_byte_orders() {
    for order in ["el", "eb"] {
        let target = object(&format!("core_target-{order}.o"));
        let source = target.btf.as_ref().expect("core_target has BTF");
        let obj = object(&format!("core-{order}.o"));
        let (bytes, small) = minimise(source, &[&obj]);
        assert_eq!(small.endian(), source.endian(), "{order}: byte order kept");
        assert!(
            small.len() < source.len(),
            "{order}: {} of {} types kept",
            small.len(),
            source.len()
        );
        eprintln!(
            "core-{order}.o against core_target-{order}.o: {} bytes, {} of {} types",
            bytes.len(),
            small.len(),
            source.len()
        );
        assert_same(&format!("core-{order}.o"), source, &small, &obj);
    }
}

#[test]
fn against_vmlinux_every_fixture_same_fixups() {
    let Some(vmlinux) = vmlinux() else { return };
    let names = core_fixtures();
    assert!(
        names.iter().any(|n| n.ends_with("-eb.o")) && names.iter().any(|n| n.ends_with("-el.o")),
        "fixtures of both byte orders: {names:?}"
    );
    for name in &names {
        let obj = object(name);
        let (bytes, small) = minimise(&vmlinux, &[&obj]);
        eprintln!("{name}: {} bytes, {} types", bytes.len(), small.len());
        assert!(bytes.len() < 16 * 1024, "{name}: {} bytes", bytes.len());
        assert_same(name, &vmlinux, &small, &obj);
    }
    // All of them at once: one file for an application's objects.
    let objs: Vec<CollectionSpec> = names.iter().map(|n| object(n)).collect();
    let refs: Vec<&CollectionSpec> = objs.iter().collect();
    let (bytes, small) = minimise(&vmlinux, &refs);
    eprintln!("all fixtures: {} bytes, {} types", bytes.len(), small.len());
    assert!(bytes.len() < 32 * 1024, "{} bytes", bytes.len());
    for (name, obj) in names.iter().zip(&objs) {
        assert_same(name, &vmlinux, &small, obj);
    }
}

#[test]
fn same_relocations_as_bpftool() {
    if Path::new("/sys/kernel/btf/vmlinux").metadata().is_err() {
        skip("no /sys/kernel/btf/vmlinux");
        return;
    }
    let Some(vmlinux) = vmlinux() else { return };
    let dir = std::env::temp_dir().join(format!("ebpf-gen-min-core-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join("bpftool.btf");
    // libbpf opens only objects of the host's byte order.
    let name = if cfg!(target_endian = "little") {
        "bench_core-el.o"
    } else {
        "bench_core-eb.o"
    };
    let run = Command::new("bpftool")
        .args(["gen", "min_core_btf", "/sys/kernel/btf/vmlinux"])
        .arg(&out)
        .arg(testdata(name))
        .output();
    let run = match run {
        Ok(r) => r,
        Err(e) => {
            skip(format!("bpftool: {e}"));
            return;
        }
    };
    assert!(
        run.status.success(),
        "bpftool gen min_core_btf: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let theirs = Spec::parse(&std::fs::read(&out).expect("bpftool's output")).expect("parses");
    let _ = std::fs::remove_dir_all(&dir);
    let obj = object(name);
    let (bytes, ours) = minimise(&vmlinux, &[&obj]);
    eprintln!(
        "{name}: ours {} bytes, {} types; bpftool's {} types",
        bytes.len(),
        ours.len(),
        theirs.len()
    );
    assert_eq!(fixups(&obj, &ours), fixups(&obj, &theirs));
    assert_same(name, &vmlinux, &ours, &obj);
}

#[test]
fn split_btf_source_is_refused() {
    let Some(vmlinux) = vmlinux() else { return };
    let Ok(entries) = std::fs::read_dir("/sys/kernel/btf") else {
        skip("no /sys/kernel/btf");
        return;
    };
    let module = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n != "vmlinux"));
    let Some(module) = module else {
        skip("no module BTF");
        return;
    };
    let bytes = std::fs::read(&module).expect("module BTF");
    let split = Spec::parse_split(&bytes, std::sync::Arc::new(vmlinux)).expect("module BTF parses");
    let err = MinCoreBtf::new(&split).expect_err("split BTF refused");
    assert!(err.to_string().contains("split BTF"), "{err}");
}

/// `struct s { int a[0]; int b; }` (zero-length array not last) or, with
/// `last`, `struct s { int a[0]; }` (a flexible array member).
fn zero_array_btf(last: bool) -> Spec {
    use ebpf_btf::{Array, Builder, Int, IntEncoding, Member, Struct, Type, TypeId};
    let mut b = Builder::new();
    let int = b.add(Type::Int(Int {
        name: "int".into(),
        size: 4,
        encoding: IntEncoding::Signed,
        offset: 0,
        bits: 32,
    }));
    let arr = b.add(Type::Array(Array {
        elem: int,
        index: int,
        nelems: 0,
    }));
    let mut members = vec![Member {
        name: "a".into(),
        type_id: arr,
        ..Member::default()
    }];
    if !last {
        members.push(Member {
            name: "b".into(),
            type_id: int,
            ..Member::default()
        });
    }
    let s = b.add(Type::Struct(Struct {
        name: "s".into(),
        size: 4,
        members,
    }));
    assert_eq!(s, TypeId(3));
    Spec::parse(&b.marshal(Default::default()).expect("marshal")).expect("parse")
}

#[test]
fn zero_length_array_stays_not_flexible() {
    // Locally `a` is a flexible array; in the source it is not (b follows),
    // so `s.a[1]` has no target there. Keeping `a` alone would make it last,
    // and so flexible, in the minimal BTF.
    let local = zero_array_btf(true);
    let source = zero_array_btf(false);
    let relo = |access: &str, kind| CoreRelo {
        insn_off: 0,
        type_id: ebpf_btf::TypeId(3),
        access: access.into(),
        kind,
    };
    let relos = [
        relo("0:0", CoreReloKind::FieldExists),
        relo("0:0:1", CoreReloKind::FieldByteOffset),
    ];
    let mut min = MinCoreBtf::new(&source).expect("complete BTF");
    min.add_relocations(&local, &relos).expect("relocations");
    let small = Spec::parse(&min.marshal().expect("marshal")).expect("parse");
    let fix = |target: &Spec| -> Vec<String> {
        let targets = [target];
        let mut r = Relocator::new(&local, &targets);
        relos
            .iter()
            .enumerate()
            .map(|(i, relo)| normalize(&r.calculate(i, relo)))
            .collect()
    };
    let full = fix(&source);
    assert!(full[1].contains("poison=true"), "{full:?}");
    assert_eq!(full, fix(&small));
}
