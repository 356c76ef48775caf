//! CO-RE relocation of the `testdata/core-{el,eb}.o` fixtures against
//! `core_target-{el,eb}.o`: a golden table of every fixup, libbpf's own patch log as
//! oracle, and the running kernel's vmlinux.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use ebpf_asm::{Endianness, Instruction, Instructions};
use ebpf_btf::core::{Fixup, Patch, Relocator};
use ebpf_btf::{CoreRelo, ExtInfo, Spec};

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name)
}

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/core")
        .join(name);
    if std::env::var("EBPF_TESTDATA_UPDATE").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with EBPF_TESTDATA_UPDATE=1 to create)",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "golden mismatch for {name}; rerun with EBPF_TESTDATA_UPDATE=1 if intended"
    );
}

/// One program of an object: its section, name, instructions and CO-RE relocations
/// (with program-relative `insn_off`) and the section-wide number of each.
struct Program {
    name: String,
    insns: Vec<Instruction>,
    relos: Vec<(usize, CoreRelo)>,
}

struct Object {
    btf: Spec,
    programs: Vec<Program>,
}

fn section<'a>(elf: &goblin::elf::Elf<'_>, bytes: &'a [u8], name: &str) -> Option<&'a [u8]> {
    elf.section_headers
        .iter()
        .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(name))
        .map(|sh| {
            let r = sh.file_range().expect("section has data");
            &bytes[r]
        })
}

fn load(name: &str) -> Object {
    let bytes = std::fs::read(testdata(name)).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    let order = if elf.little_endian {
        Endianness::Little
    } else {
        Endianness::Big
    };
    let btf = Spec::parse(section(&elf, &bytes, ".BTF").expect(".BTF")).unwrap();
    let ext = section(&elf, &bytes, ".BTF.ext")
        .map(|b| ExtInfo::parse(b, &btf).unwrap())
        .unwrap_or_default();
    let mut programs = Vec::new();
    for (idx, sh) in elf.section_headers.iter().enumerate() {
        if sh.sh_flags & u64::from(goblin::elf::section_header::SHF_EXECINSTR) == 0
            || sh.sh_size == 0
        {
            continue;
        }
        let sec_name = elf.shdr_strtab.get_at(sh.sh_name).unwrap();
        let data = &bytes[sh.file_range().unwrap()];
        let insns = Instructions::unmarshal(data, order).unwrap();
        let relos: &[CoreRelo] = ext.section(sec_name).map_or(&[], |s| &s.core_relos);
        let mut funcs: Vec<(u64, u64, String)> = elf
            .syms
            .iter()
            .filter(|s| s.st_shndx == idx && s.st_type() == goblin::elf::sym::STT_FUNC)
            .map(|s| {
                (
                    s.st_value,
                    s.st_size,
                    elf.strtab.get_at(s.st_name).unwrap().to_string(),
                )
            })
            .collect();
        funcs.sort();
        for (start, size, pname) in funcs {
            let (start_slot, end_slot) = (start as usize / 8, (start + size) as usize / 8);
            let mut slot = 0;
            let mut prog = Vec::new();
            for ins in insns.iter() {
                if slot >= start_slot && slot < end_slot {
                    prog.push(ins.clone());
                }
                slot += ins.width();
            }
            let prelos = relos
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    u64::from(r.insn_off) >= start && u64::from(r.insn_off) < start + size
                })
                .map(|(i, r)| {
                    (
                        i,
                        CoreRelo {
                            insn_off: r.insn_off - start as u32,
                            ..r.clone()
                        },
                    )
                })
                .collect();
            programs.push(Program {
                name: pname,
                insns: prog,
                relos: prelos,
            });
        }
    }
    Object { btf, programs }
}

fn target_btf(name: &str) -> Spec {
    let bytes = std::fs::read(testdata(name)).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    Spec::parse(section(&elf, &bytes, ".BTF").unwrap()).unwrap()
}

/// Per program: the fixups with their patches (and whether the instruction was
/// `ld_imm64`), or the error.
type Results = Vec<(String, Result<Vec<(Fixup, Patch, bool)>, String>)>;

/// Relocates every program of `obj`.
fn relocate_all(obj: &mut Object, targets: &[&Spec]) -> Results {
    let mut r = Relocator::new(&obj.btf, targets);
    let mut out = Vec::new();
    for p in &mut obj.programs {
        let first = p.relos.first().map_or(0, |(i, _)| *i);
        let relos: Vec<CoreRelo> = p.relos.iter().map(|(_, r)| r.clone()).collect();
        // Numbering must be contiguous for relocate_at.
        assert!(
            p.relos
                .iter()
                .enumerate()
                .all(|(k, (i, _))| *i == first + k)
        );
        let before = p.insns.clone();
        match r.relocate_at(first, &mut p.insns, &relos) {
            Ok(fixups) => {
                let mut list = Vec::new();
                for f in fixups {
                    // Re-apply to the original instruction to learn what was patched.
                    let idx = slot_index(&before, f.insn_off as usize / 8);
                    let mut ins = before[idx].clone();
                    let patch = f.apply(&mut ins).unwrap();
                    assert_eq!(ins, p.insns[idx], "{}: apply is deterministic", p.name);
                    list.push((f, patch, before[idx].is_load_imm64()));
                }
                out.push((p.name.clone(), Ok(list)));
            }
            Err(e) => out.push((p.name.clone(), Err(common::chain(&e)))),
        }
    }
    out
}

fn slot_index(insns: &[Instruction], slot: usize) -> usize {
    let mut s = 0;
    for (i, ins) in insns.iter().enumerate() {
        if s == slot {
            return i;
        }
        s += ins.width();
    }
    panic!("no instruction at slot {slot}");
}

fn table(results: &Results) -> String {
    let mut s = String::new();
    for (prog, r) in results {
        match r {
            Ok(list) => {
                for (f, p, _) in list {
                    let _ = writeln!(s, "{prog}: {f}; {p}");
                }
            }
            Err(e) => {
                let _ = writeln!(s, "{prog}: error: {e}");
            }
        }
    }
    s
}

fn check_fixture(obj: &str, target: &str, golden_name: &str) {
    let mut o = load(obj);
    let t = target_btf(target);
    let results = relocate_all(&mut o, &[&t]);
    golden(golden_name, &table(&results));

    // err_ambiguous fails with an ambiguity naming both flavours; everything else relocates.
    for (prog, r) in &results {
        if prog.starts_with("err_") {
            let e = r
                .as_ref()
                .err()
                .unwrap_or_else(|| panic!("{prog} must fail"));
            assert!(e.contains("ambiguous relocation"), "{e}");
            assert!(e.contains("amb___one") && e.contains("amb___two"), "{e}");
            assert!(
                e.starts_with("relocation 71 (field byte offset of struct amb.y, insn 0)"),
                "{e}"
            );
        } else {
            assert!(r.is_ok(), "{prog}: {r:?}", r = r.as_ref().err());
        }
    }
    let all: Vec<&Fixup> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .flatten()
        .map(|(f, _, _)| f)
        .collect();
    assert_eq!(all.len(), 71);
    // Only the guarded offset of the missing field is poisoned.
    let poisoned: Vec<_> = all
        .iter()
        .filter(|f| f.poisoned)
        .map(|f| f.local.as_str())
        .collect();
    assert_eq!(poisoned, ["struct core_s.gone"]);
}

#[test]
fn core_el_golden() {
    check_fixture("core-el.o", "core_target-el.o", "core-el.txt");
}

#[test]
fn core_eb_golden() {
    check_fixture("core-eb.o", "core_target-eb.o", "core-eb.txt");
}

/// Both byte orders give the same fixups except the bitfield left shifts.
#[test]
fn core_el_eb_agree_except_lshift() {
    let mut el = load("core-el.o");
    let mut eb = load("core-eb.o");
    let (tel, teb) = (
        target_btf("core_target-el.o"),
        target_btf("core_target-eb.o"),
    );
    let rel = relocate_all(&mut el, &[&tel]);
    let reb = relocate_all(&mut eb, &[&teb]);
    let mut lshifts = 0;
    for ((pa, a), (pb, b)) in rel.iter().zip(&reb) {
        assert_eq!(pa, pb);
        let (Ok(a), Ok(b)) = (a, b) else { continue };
        for ((fa, _, _), (fb, _, _)) in a.iter().zip(b) {
            if fa.kind == ebpf_btf::CoreReloKind::FieldLShiftU64 {
                lshifts += 1;
                continue;
            }
            assert_eq!(
                (fa.local_value, fa.target_value, fa.poisoned),
                (fb.local_value, fb.target_value, fb.poisoned),
                "{fa}"
            );
        }
    }
    assert_eq!(lshifts, 2);
}

/// The libbpf oracle's log lines for one relocation run, keyed by relocation number.
fn libbpf_lines(text: &str) -> BTreeMap<usize, Vec<String>> {
    let mut out: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.split_once(": relo #") else {
            continue;
        };
        let n: usize = rest.1.split(':').next().unwrap().parse().unwrap();
        out.entry(n).or_default().push(line.to_string());
    }
    out
}

/// Our fixups written the way libbpf logs them.
fn our_lines(results: &Results) -> BTreeMap<usize, Vec<String>> {
    let mut out: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (prog, r) in results {
        let Ok(list) = r else { continue };
        for (f, p, was_ldimm) in list {
            let n = f.relocation;
            let insn = f.insn_off / 8;
            let pre = format!("prog '{prog}': relo #{n}:");
            let v = out.entry(n).or_default();
            v.push(format!("{pre} <{}> {}", f.kind.name(), f.local_spec));
            if let Some(t) = &f.target {
                v.push(format!(
                    "{pre} matching candidate #{} <{}> {}",
                    t.candidate,
                    f.kind.name(),
                    t.spec
                ));
            }
            match p {
                Patch::Poisoned => {
                    if *was_ldimm {
                        v.push(format!(
                            "{pre} substituting insn #{} w/ invalid insn",
                            insn + 1
                        ));
                    }
                    v.push(format!("{pre} substituting insn #{insn} w/ invalid insn"));
                }
                Patch::Offset { old, new, mem_size } => {
                    v.push(format!(
                        "{pre} patched insn #{insn} (LDX/ST/STX) off {old} -> {new}"
                    ));
                    if let Some((a, b)) = mem_size {
                        v.push(format!(
                            "{pre} patched insn #{insn} (LDX/ST/STX) mem_sz {a} -> {b}"
                        ));
                    }
                }
                other => v.push(format!("{pre} patched insn #{insn} {other}")),
            }
        }
    }
    out
}

/// Every fixup equals libbpf's (tests/golden/core/libbpf-el.txt, captured from libbpf's
/// debug log; see its header).
#[test]
fn core_el_matches_libbpf() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/core/libbpf-el.txt"),
    )
    .unwrap();
    let theirs = libbpf_lines(&text);
    let mut o = load("core-el.o");
    let t = target_btf("core_target-el.o");
    let ours = our_lines(&relocate_all(&mut o, &[&t]));
    assert_eq!(theirs.len(), 72, "71 relocations plus the ambiguous #71");
    // #71: libbpf names both candidates and fails on the offset; so do we.
    let amb = &theirs[&71];
    let results = relocate_all(&mut load("core-el.o"), &[&t]);
    let err = results
        .iter()
        .find(|(p, _)| p == "err_ambiguous")
        .unwrap()
        .1
        .as_ref()
        .unwrap_err();
    for line in amb.iter().filter(|l| l.contains(": matching candidate")) {
        let spec = line.split_once("<byte_off> ").unwrap().1;
        assert!(err.contains(spec), "{err} lacks {spec}");
    }
    assert!(
        amb.iter()
            .any(|l| l.ends_with("field offset ambiguity: 0 != 32"))
    );
    assert!(
        err.contains("field offset ambiguity: bit offset 0 != 32"),
        "{err}"
    );
    for (n, lines) in theirs.iter().filter(|(n, _)| **n != 71) {
        let mine = ours.get(n).unwrap_or_else(|| panic!("relo #{n} missing"));
        let want: Vec<&String> = lines
            .iter()
            .filter(|l| !l.contains("non-matching") && !l.contains("no matching targets"))
            .collect();
        let got: Vec<&String> = mine.iter().collect();
        assert_eq!(got, want, "relo #{n}");
    }
    assert_eq!(ours.len(), theirs.len() - 1);
}

/// Against the running kernel: core_s and friends do not exist there.
#[test]
fn core_el_against_vmlinux() {
    let vmlinux = match Spec::load_kernel() {
        Ok(s) => s,
        Err(e) => {
            common::skip(format!("no kernel BTF: {e}"));
            return;
        }
    };
    let mut o = load("core-el.o");
    let results = relocate_all(&mut o, &[&vmlinux]);
    for (prog, r) in &results {
        let list = r.as_ref().unwrap_or_else(|e| panic!("{prog}: {e}"));
        for (f, _, _) in list {
            use ebpf_btf::CoreReloKind as K;
            let name = f.local.split(['.', ':']).next().unwrap();
            if vmlinux
                .types_by_essential_name(name.rsplit(' ').next().unwrap())
                .is_empty()
            {
                match f.kind {
                    K::FieldExists
                    | K::TypeExists
                    | K::TypeMatches
                    | K::EnumvalExists
                    | K::TypeIdTarget
                    | K::TypeSize => {
                        assert_eq!(f.target_value, 0, "{f}");
                        assert!(!f.poisoned, "{f}");
                    }
                    K::TypeIdLocal => assert_eq!(f.target_value, f.local_value),
                    _ => assert!(f.poisoned, "{f}"),
                }
            }
        }
    }
}

/// Byte for byte, the relocated programs equal what libbpf loads
/// (tests/golden/core/libbpf-el-insns.txt; see its header).
#[test]
fn core_el_bytes_match_libbpf() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/core/libbpf-el-insns.txt"),
    )
    .unwrap();
    let mut theirs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut it = line.split(' ');
        let (prog, _slot, hex) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
        theirs
            .entry(prog.to_string())
            .or_default()
            .push(hex.to_string());
    }
    let mut o = load("core-el.o");
    let t = target_btf("core_target-el.o");
    let results = relocate_all(&mut o, &[&t]);
    let mut compared = 0;
    for p in o.programs.iter().filter(|p| !p.name.starts_with("err_")) {
        assert!(results.iter().any(|(n, r)| *n == p.name && r.is_ok()));
        let bytes = Instructions::from(p.insns.clone())
            .marshal(Endianness::Little)
            .unwrap();
        let ours: Vec<String> = bytes
            .chunks(8)
            .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<String>())
            .collect();
        assert_eq!(ours, theirs[&p.name], "{}", p.name);
        compared += 1;
    }
    assert_eq!(compared, theirs.len());
}

/// Arbitrary accessors and kinds on every named type of the fixture never panic: they
/// relocate, poison, or fail with an error.
#[test]
fn core_arbitrary_accessors_do_not_panic() {
    use ebpf_btf::CoreReloKind as K;
    let o = load("core-el.o");
    let t = target_btf("core_target-el.o");
    let targets = [&t];
    let kinds = [
        K::FieldByteOffset,
        K::FieldByteSize,
        K::FieldExists,
        K::FieldSigned,
        K::FieldLShiftU64,
        K::FieldRShiftU64,
        K::TypeIdLocal,
        K::TypeIdTarget,
        K::TypeExists,
        K::TypeSize,
        K::TypeMatches,
        K::EnumvalExists,
        K::EnumvalValue,
    ];
    let mut outcomes = [0usize; 3];
    for id in o.btf.ids() {
        let mut r = Relocator::new(&o.btf, &targets);
        for access in [
            "0",
            "1",
            "0:0",
            "0:3",
            "0:5:3",
            "0:6:1",
            "0:7:0",
            "0:0:2:1",
            "0:9",
            "0:0:0:0:0",
            "3:1:99",
        ] {
            for kind in kinds {
                let relo = CoreRelo {
                    insn_off: 0,
                    type_id: id,
                    access: access.into(),
                    kind,
                };
                match r.calculate(0, &relo) {
                    Ok(f) if f.poisoned => outcomes[1] += 1,
                    Ok(_) => outcomes[0] += 1,
                    Err(e) => {
                        assert!(e.to_string().starts_with("relocation 0 ("), "{e}");
                        outcomes[2] += 1;
                    }
                }
            }
        }
    }
    assert!(outcomes.iter().all(|&n| n > 0), "{outcomes:?}");
}
