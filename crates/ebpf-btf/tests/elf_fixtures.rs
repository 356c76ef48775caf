//! The clang-compiled fixtures in `/testdata` (`*-el.o` / `*-eb.o`): `.BTF` and `.BTF.ext`
//! of both byte orders must give the same dump, which is checked in under
//! `tests/golden/elf/` and cross-checked against bpftool.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use ebpf_btf::*;
use goblin::elf::Elf;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// (`.BTF`, `.BTF.ext`) section contents of an object file.
fn sections(path: &Path) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let bytes = std::fs::read(path).unwrap();
    let elf = Elf::parse(&bytes).unwrap();
    let mut btf = None;
    let mut ext = None;
    for sh in &elf.section_headers {
        let name = elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("");
        let data = || bytes[sh.sh_offset as usize..(sh.sh_offset + sh.sh_size) as usize].to_vec();
        match name {
            ".BTF" => btf = Some(data()),
            ".BTF.ext" => ext = Some(data()),
            _ => {}
        }
    }
    (btf, ext)
}

fn describe_ext(info: &ExtInfo) -> String {
    let mut s = String::new();
    for (name, sec) in &info.sections {
        s += &format!("section {name}\n");
        for f in &sec.func_info {
            s += &format!(
                "  func_info insn_off={} type_id={}\n",
                f.insn_off, f.type_id
            );
        }
        for l in &sec.line_info {
            s += &format!(
                "  line_info insn_off={} {}:{}:{} {:?}\n",
                l.insn_off, l.file_name, l.line_num, l.column, l.line
            );
        }
        for r in &sec.core_relos {
            s += &format!(
                "  core_relo insn_off={} type_id={} access={} kind={}\n",
                r.insn_off,
                r.type_id,
                r.access,
                r.kind.name()
            );
        }
    }
    s
}

/// Full text for one object: raw dump then ext info.
fn dump(path: &Path) -> Option<(String, Spec)> {
    let (btf, ext) = sections(path);
    let spec = Spec::parse(&btf?).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = spec.dump_raw().unwrap();
    if let Some(ext) = ext {
        let info =
            ExtInfo::parse(&ext, &spec).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out += "--- .BTF.ext\n";
        out += &describe_ext(&info);
    }
    Some((out, spec))
}

fn fixtures() -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(testdata()) else {
        return vec![];
    };
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix("-el.o").map(str::to_owned))
        .collect();
    v.sort();
    v
}

/// Fixtures whose source differs per byte order: libbpf's usdt.bpf.h shifts
/// big-endian values once more (other code, other .BTF.ext offsets) and, from
/// 1.7, orders its bit-fields by byte order (other types).
const BYTE_ORDER_DEPENDENT: &[&str] = &["usdt", "usdt_libbpf17"];

#[test]
fn both_byte_orders_match_golden() {
    let names = fixtures();
    if names.is_empty() {
        panic!(
            "no fixtures in {}: they are committed",
            testdata().display()
        );
    }
    for name in names {
        let el = testdata().join(format!("{name}-el.o"));
        let eb = testdata().join(format!("{name}-eb.o"));
        let Some((a, spec_el)) = dump(&el) else {
            println!("{name}: no .BTF");
            continue;
        };
        if eb.exists() {
            let (b, spec_eb) = dump(&eb).expect("eb object has .BTF too");
            assert_eq!(spec_eb.endian(), Endian::Big);
            if !BYTE_ORDER_DEPENDENT.contains(&name.as_str()) {
                assert_eq!(a, b, "{name}: little and big endian dumps differ");
            }
        }
        common::golden_if_present(&format!("elf/{name}.txt"), &a);
        // Round trip through the marshaller in both orders.
        for endian in [Endian::Little, Endian::Big] {
            let again = Spec::parse(
                &spec_el
                    .marshal(MarshalOptions {
                        endian: Some(endian),
                    })
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(
                again.dump_raw().unwrap(),
                spec_el.dump_raw().unwrap(),
                "{name}: round trip"
            );
        }
        // C output is valid C.
        let c = format_c::dump_c(&spec_el).unwrap();
        if let Ok(mut child) = Command::new("clang-19")
            .args(["-target", "bpf", "-c", "-x", "c", "-", "-o", "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
        {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(c.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{name}: clang rejected:\n{}\n{c}",
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            common::skip(format!("clang check for {name}: clang-19 not available"));
        }
    }
}

#[test]
fn raw_dump_matches_bpftool() {
    for name in fixtures() {
        let el = testdata().join(format!("{name}-el.o"));
        let Some((ours, _)) = dump(&el) else { continue };
        let ours = ours
            .split("--- .BTF.ext\n")
            .next()
            .unwrap_or_default()
            .to_owned();
        let out = match Command::new("bpftool")
            .args(["btf", "dump", "file"])
            .arg(&el)
            .args(["format", "raw"])
            .output()
        {
            Ok(o) if o.status.success() => o.stdout,
            Ok(o) => {
                common::skip(format!(
                    "{name}: bpftool: {}",
                    String::from_utf8_lossy(&o.stderr)
                ));
                continue;
            }
            Err(e) => {
                common::skip(format!("bpftool unavailable: {e}"));
                return;
            }
        };
        assert_eq!(ours, String::from_utf8_lossy(&out), "{name}");
    }
}

/// Graph dedup: an object's BTF appended to itself (the copy's references shifted to the
/// copy) collapses to exactly what deduplicating one copy gives, with every id of the
/// copy mapped onto its original's class.
#[test]
fn dedup_of_doubled_fixture_btf() {
    let names = fixtures();
    assert!(!names.is_empty(), "no fixtures in {}", testdata().display());
    let mut checked = 0;
    for name in names {
        let (Some(btf), _) = sections(&testdata().join(format!("{name}-el.o"))) else {
            continue;
        };
        let spec = Spec::parse(&btf).unwrap();
        let n = spec.len() as u32;
        let mut single = Builder::new();
        single.add_spec(&spec).unwrap();
        let mut doubled = single.clone();
        for (_, t) in spec.types() {
            let mut t = t.unwrap().clone();
            t.map_refs(|id| {
                if id == TypeId::VOID {
                    id
                } else {
                    TypeId(id.0 + n)
                }
            });
            doubled.add(t);
        }
        let once = single.dedup();
        let twice = doubled.dedup();
        assert_eq!(doubled.types(), single.types(), "{name}");
        for id in 1..=n {
            assert_eq!(
                twice.get(TypeId(id + n)),
                once.get(TypeId(id)),
                "{name}: [{id}]"
            );
        }
        let round = single.to_spec(None).unwrap();
        assert_eq!(round.len(), single.len(), "{name}");
        checked += 1;
    }
    assert!(checked > 0, "no fixture has .BTF");
}
