//! The hand-written corpus in `tests/golden/corpus.s` covers every opcode. Its objects
//! (`corpus-el.o`, `corpus-eb.o`, by llvm-mc-19) and their `llvm-objdump-19 -d
//! --no-show-raw-insn` listings are committed; this test checks decode, display, parse and
//! encode against them in both byte orders without needing LLVM. Regenerate with
//! `EBPF_TESTDATA_UPDATE=1 cargo test -p ebpf-asm --test golden`.

mod common;

use std::process::Command;

use common::{check_section, exec_sections, golden_dir, objdump_listing, updating};
use ebpf_asm::Instructions;

/// Rewrites the little-endian `.byte` lines of the corpus for big endian: per 8-byte slot,
/// swap the register nibbles and reverse the offset and immediate fields.
fn big_endian_source(src: &str) -> String {
    let mut out = String::new();
    for line in src.lines() {
        let Some(list) = line.strip_prefix(".byte ") else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let mut bytes: Vec<u8> = list
            .split(',')
            .map(|b| u8::from_str_radix(b.trim().trim_start_matches("0x"), 16).expect("hex byte"))
            .collect();
        for slot in bytes.chunks_exact_mut(8) {
            slot[1] = slot[1].rotate_left(4);
            slot[2..4].reverse();
            slot[4..8].reverse();
        }
        let list: Vec<String> = bytes.iter().map(|b| format!("{b:#04x}")).collect();
        out.push_str(&format!(".byte {}\n", list.join(", ")));
    }
    out
}

fn regenerate() {
    let dir = golden_dir();
    let src = std::fs::read_to_string(dir.join("corpus.s")).expect("read corpus.s");
    for (suffix, triple, text) in [
        ("el", "bpfel", src.clone()),
        ("eb", "bpfeb", big_endian_source(&src)),
    ] {
        let s_path = std::env::temp_dir().join(format!("ebpf-asm-corpus-{suffix}.s"));
        std::fs::write(&s_path, text).expect("write temp source");
        let obj = dir.join(format!("corpus-{suffix}.o"));
        let status = Command::new("llvm-mc-19")
            .args(["-triple", triple, "-mcpu=v4", "-filetype=obj", "-o"])
            .arg(&obj)
            .arg(&s_path)
            .status()
            .expect("run llvm-mc-19");
        assert!(status.success(), "llvm-mc-19 failed");
        let out = Command::new("llvm-objdump-19")
            .args(["-d", "--no-show-raw-insn"])
            .arg(&obj)
            .output()
            .expect("run llvm-objdump-19");
        assert!(out.status.success(), "llvm-objdump-19 failed");
        let listing = String::from_utf8(out.stdout)
            .expect("utf-8")
            .replace(&*dir.to_string_lossy(), "");
        std::fs::write(dir.join(format!("corpus-{suffix}.objdump")), listing)
            .expect("write listing");
    }
}

#[test]
fn corpus_matches_llvm_objdump() {
    if updating() {
        regenerate();
    }
    let dir = golden_dir();
    let mut counts = Vec::new();
    for suffix in ["el", "eb"] {
        let obj = std::fs::read(dir.join(format!("corpus-{suffix}.o"))).expect("read object");
        let listing = std::fs::read_to_string(dir.join(format!("corpus-{suffix}.objdump")))
            .expect("read listing");
        let listing = objdump_listing(&listing);
        let (order, sections) = exec_sections(&obj);
        assert_eq!(sections.len(), 1);
        let (name, bytes) = &sections[0];
        let insns = Instructions::unmarshal(bytes, order).expect("decode corpus");
        let what = format!("corpus-{suffix} {name}");
        let got = check_section(&what, &insns, bytes, order, &listing[name]);
        assert!(got.exact > 120, "{what}: {got:?}");
        let opcodes: std::collections::BTreeSet<u8> = insns.iter().map(|i| i.op.raw()).collect();
        // Every defined opcode: ALU 27, ALU64 26, JMP 27, JMP32 23, LD 7, LDX 7, ST 4, STX 8.
        assert_eq!(opcodes.len(), 129, "{what}: opcodes covered");
        counts.push((suffix, insns.len(), got));
    }
    eprintln!("corpus: {counts:?}");
}
