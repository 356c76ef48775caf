//! Golden tests: every committed fixture `testdata/*.o` is read and its text dump compared
//! with `tests/golden/NAME.txt`. Set `EBPF_TESTDATA_UPDATE=1` to rewrite the expected
//! files. The two byte orders of one object must give the same spec except for raw bytes.

use std::path::{Path, PathBuf};

use ebpf_spec::CollectionSpec;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn update() -> bool {
    std::env::var_os("EBPF_TESTDATA_UPDATE").is_some_and(|v| v == "1")
}

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(testdata())
        .expect("read testdata")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    v.sort();
    v
}

#[test]
fn golden_dumps() {
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 8,
        "expected the committed fixtures, found {fixtures:?}"
    );
    let mut failures = Vec::new();
    for path in &fixtures {
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let spec =
            CollectionSpec::from_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let got = spec.dump();
        let golden = golden_dir().join(format!("{stem}.txt"));
        if update() {
            std::fs::write(&golden, &got).expect("write golden file");
            continue;
        }
        let Ok(want) = std::fs::read_to_string(&golden) else {
            failures.push(format!("{stem}: no golden file {}", golden.display()));
            continue;
        };
        if got != want {
            let line = got.lines().zip(want.lines()).position(|(a, b)| a != b);
            let line = line.unwrap_or_else(|| got.lines().count().min(want.lines().count())) + 1;
            failures.push(format!(
                "{stem}: differs from {} (first at line {line})",
                golden.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nrerun with EBPF_TESTDATA_UPDATE=1 to rewrite the golden files, and review the diff",
        failures.join("\n")
    );
}

/// Fixtures whose source compiles to different code per byte order (libbpf's
/// usdt.bpf.h shifts big-endian values once more): only their layouts agree.
const BYTE_ORDER_DEPENDENT_CODE: &[&str] = &["usdt", "usdt_libbpf17"];

#[test]
fn byte_orders_agree() {
    let mut pairs = 0;
    for el in fixtures() {
        let name = el.file_name().expect("name").to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix("-el.o") else {
            continue;
        };
        let eb = testdata().join(format!("{stem}-eb.o"));
        let a = CollectionSpec::from_file(&el).expect("el");
        let b = CollectionSpec::from_file(&eb).expect("eb");
        assert_eq!(a.byte_order, ebpf_asm::Endianness::Little);
        assert_eq!(b.byte_order, ebpf_asm::Endianness::Big);
        // Everything but the instructions' text is the same; clang lays out bitfields by
        // byte order, and byte swaps by target order, so an
        // immediate or a byte-swap opcode may legitimately differ, never the shape or metadata.
        let strip = |d: String| {
            d.lines()
                .filter(|l| !l.starts_with("     "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            strip(a.dump_layout()),
            strip(b.dump_layout()),
            "{stem}: el and eb differ"
        );
        if BYTE_ORDER_DEPENDENT_CODE.contains(&stem) {
            continue;
        }
        for (p, q) in a.programs.values().zip(b.programs.values()) {
            assert_eq!(
                p.instructions.len(),
                q.instructions.len(),
                "{stem}: program {}",
                p.name
            );
            for (n, (x, y)) in p.instructions.iter().zip(q.instructions.iter()).enumerate() {
                let what = format!("{stem}: program {} instruction {n}", p.name);
                assert_eq!(x.width(), y.width(), "{what}");
                assert_eq!(
                    (x.pseudo_load(), x.pseudo_call()),
                    (y.pseudo_load(), y.pseudo_call()),
                    "{what}"
                );
                assert_eq!(
                    (x.symbol(), x.reference(), x.source()),
                    (y.symbol(), y.reference(), y.source()),
                    "{what}"
                );
                assert_eq!(
                    x.metadata.get::<ebpf_btf::FuncInfo>(),
                    y.metadata.get::<ebpf_btf::FuncInfo>(),
                    "{what}"
                );
                assert_eq!(
                    x.metadata.get::<ebpf_btf::CoreRelo>(),
                    y.metadata.get::<ebpf_btf::CoreRelo>(),
                    "{what}"
                );
                assert_eq!(
                    x.metadata.get::<ebpf_spec::KconfigRef>(),
                    y.metadata.get::<ebpf_spec::KconfigRef>(),
                    "{what}"
                );
                assert_eq!(
                    x.metadata.get::<ebpf_spec::KsymRef>(),
                    y.metadata.get::<ebpf_spec::KsymRef>(),
                    "{what}"
                );
            }
        }
        // Raw bytes have the same lengths.
        for (m, n) in a.maps.values().zip(b.maps.values()) {
            assert_eq!(
                m.data().map(<[u8]>::len),
                n.data().map(<[u8]>::len),
                "{stem}: map {}",
                m.name
            );
        }
        pairs += 1;
    }
    assert!(pairs >= 4, "found {pairs} el/eb pairs");
}

#[test]
fn deterministic_and_cloneable() {
    let bytes = std::fs::read(testdata().join("loader-el.o")).expect("read");
    let a = CollectionSpec::from_elf(&bytes).expect("parse");
    let b = CollectionSpec::from_elf(&bytes).expect("parse");
    assert_eq!(a.dump(), b.dump());
    let mut c = a.clone();
    c.programs
        .get_mut("xdp_prog")
        .expect("xdp_prog")
        .instructions
        .truncate(1);
    c.maps.get_mut("hash_map").expect("hash_map").max_entries = 1;
    assert_ne!(a.dump(), c.dump());
    assert_eq!(a.maps["hash_map"].max_entries, 64);
}
