//! Every instruction of every executable section of the committed BPF C fixtures
//! (`testdata/NAME-el.o`, `NAME-eb.o`, compiled by clang-19) decodes, displays exactly as
//! `llvm-objdump-19 -d --no-show-raw-insn` (golden files in `tests/golden/fixtures/`), parses
//! back and re-encodes to the same bytes in both byte orders. Regenerate the golden files with
//! `EBPF_TESTDATA_UPDATE=1 cargo test -p ebpf-asm --test fixtures`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{check_section, exec_sections, golden_dir, objdump_listing, updating};
use ebpf_asm::{Endianness, Instructions};

fn fixtures() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with("-el.o") || n.ends_with("-eb.o"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn fixtures_match_llvm_objdump() {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let golden = golden_dir().join("fixtures");
    let names = fixtures();
    if names.is_empty() {
        eprintln!("no fixtures in {}", testdata.display());
        return;
    }
    if updating() {
        // Drop listings of fixtures that are gone.
        for entry in std::fs::read_dir(&golden).into_iter().flatten().flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.ends_with(".objdump") && !names.contains(&file.replace(".objdump", ".o")) {
                std::fs::remove_file(entry.path()).expect("remove stale listing");
            }
        }
    }
    let mut total = (0usize, 0usize, 0usize);
    for name in &names {
        let obj_path = testdata.join(name);
        let listing_path = golden.join(name.replace(".o", ".objdump"));
        if updating() {
            std::fs::create_dir_all(&golden).expect("create golden dir");
            let out = Command::new("llvm-objdump-19")
                .args(["-d", "--no-show-raw-insn"])
                .arg(&obj_path)
                .output()
                .expect("run llvm-objdump-19");
            assert!(out.status.success(), "llvm-objdump-19 {name} failed");
            let text = String::from_utf8(out.stdout).expect("utf-8");
            let text = text.replace(&*testdata.to_string_lossy(), "testdata");
            std::fs::write(&listing_path, text).expect("write listing");
        }
        let listing = std::fs::read_to_string(&listing_path).unwrap_or_else(|_| {
            panic!(
                "{name}: no golden listing {}; regenerate with EBPF_TESTDATA_UPDATE=1",
                listing_path.display()
            )
        });
        let listing = objdump_listing(&listing);
        let obj = std::fs::read(&obj_path).expect("read fixture");
        let (order, sections) = exec_sections(&obj);
        let want_order = if name.ends_with("-el.o") {
            Endianness::Little
        } else {
            Endianness::Big
        };
        assert_eq!(order, want_order, "{name}");
        for (section, bytes) in &sections {
            let what = format!("{name} {section}");
            let insns =
                Instructions::unmarshal(bytes, order).unwrap_or_else(|e| panic!("{what}: {e}"));
            let lines = listing
                .get(section)
                .unwrap_or_else(|| panic!("{what}: not in the golden listing"));
            let got = check_section(&what, &insns, bytes, order, lines);
            // The same instructions in the other byte order.
            let other = match order {
                Endianness::Little => Endianness::Big,
                Endianness::Big => Endianness::Little,
            };
            let swapped = insns.marshal(other).expect("marshal");
            assert_eq!(
                Instructions::unmarshal(&swapped, other).expect("decode swapped"),
                insns,
                "{what}"
            );
            total.0 += insns.len();
            total.1 += got.exact;
            total.2 += got.lossy;
        }
    }
    eprintln!(
        "{} fixtures: {} instructions, {} compared exactly, {} lossy in llvm 19",
        names.len(),
        total.0,
        total.1,
        total.2
    );
    assert!(total.0 > 0);
}
