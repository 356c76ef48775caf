//! Shared helpers of the golden-file tests: ELF sections, `llvm-objdump` listings, and the
//! instructions LLVM 19 prints lossily.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ebpf_asm::{AtomicOp, Endianness, Instruction, Instructions, PseudoCall, PseudoLoad, Size};
use goblin::elf::Elf;
use goblin::elf::section_header::SHF_EXECINSTR;

/// Whether golden files are to be regenerated.
pub fn updating() -> bool {
    std::env::var_os("EBPF_TESTDATA_UPDATE").is_some_and(|v| v == "1")
}

/// This crate's `tests/golden` directory.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The executable sections of an ELF file with instructions: name, bytes, byte order.
pub fn exec_sections(bytes: &[u8]) -> (Endianness, Vec<(String, Vec<u8>)>) {
    let elf = Elf::parse(bytes).expect("parse ELF");
    let order = if elf.little_endian {
        Endianness::Little
    } else {
        Endianness::Big
    };
    let mut out = Vec::new();
    for sh in &elf.section_headers {
        if sh.sh_flags & u64::from(SHF_EXECINSTR) == 0 || sh.sh_size == 0 {
            continue;
        }
        let name = elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("").to_string();
        let start = usize::try_from(sh.sh_offset).expect("offset");
        let end = start + usize::try_from(sh.sh_size).expect("size");
        out.push((name, bytes[start..end].to_vec()));
    }
    (order, out)
}

/// The instruction lines of an `llvm-objdump -d --no-show-raw-insn` listing, by section:
/// `(slot offset, text)` with a trailing `<annotation>` removed.
pub fn objdump_listing(text: &str) -> BTreeMap<String, Vec<(usize, String)>> {
    let mut out: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("Disassembly of section ") {
            section = name.trim_end_matches(':').to_string();
            continue;
        }
        let Some((head, rest)) = line.split_once(":\t") else {
            continue;
        };
        let Ok(offset) = head.trim().parse::<usize>() else {
            continue;
        };
        let mut rest = rest.trim_end();
        if rest.ends_with('>') {
            if let Some(i) = rest.rfind(" <") {
                rest = &rest[..i];
            }
        }
        out.entry(section.clone())
            .or_default()
            .push((offset, rest.to_string()));
    }
    out
}

/// Whether `llvm-objdump-19` prints `ins` losing information (so our text differs on purpose;
/// see the table in the `display` module).
pub fn lossy_in_llvm19(ins: &Instruction) -> bool {
    let raw = ins.op.raw();
    if ins.validate().is_err() {
        return true; // `<unknown>` or an undefined register; ours is the raw form
    }
    if ins.pseudo_call().is_some_and(|p| p != PseudoCall::Helper) {
        return true;
    }
    if ins.is_load_imm64() && ins.pseudo_load().is_some_and(|p| p != PseudoLoad::None) {
        return (ins.constant as u64) >> 32 != 0;
    }
    if raw & 0xe7 == 0x40 && ins.constant != 0 {
        return true; // LD_IND with an immediate
    }
    if raw == 0xc3 || raw == 0xcb || raw == 0xd3 || (raw == 0xdb && ins.constant >= 0x100) {
        // Every 8/16/32-bit atomic but a plain add; load-acquire and store-release.
        return !(raw == 0xc3 && AtomicOp::from_imm(ins.constant) == Some(AtomicOp::Add));
    }
    false
}

/// What the disassembly comparison found.
#[derive(Debug, Default)]
pub struct Compared {
    /// Instructions whose text matched exactly.
    pub exact: usize,
    /// Instructions LLVM 19 prints lossily (not compared).
    pub lossy: usize,
}

/// Checks `insns` (decoded from `bytes` in `order`) against the objdump `listing` and checks
/// the display -> parse -> encode round trip in both byte orders.
pub fn check_section(
    what: &str,
    insns: &Instructions,
    bytes: &[u8],
    order: Endianness,
    listing: &[(usize, String)],
) -> Compared {
    let mut got = Compared::default();
    let offsets: Vec<usize> = insns.iter_offsets().map(|(o, _)| o).collect();
    let golden_offsets: Vec<usize> = listing.iter().map(|(o, _)| *o).collect();
    assert_eq!(
        offsets, golden_offsets,
        "{what}: instruction offsets differ from llvm-objdump"
    );
    for ((offset, ins), (_, want)) in insns.iter_offsets().zip(listing) {
        let text = ins.to_string();
        if lossy_in_llvm19(ins) {
            got.lossy += 1;
        } else {
            assert_eq!(&text, want, "{what}: slot {offset}: {ins:?}");
            got.exact += 1;
            let from_llvm = ebpf_asm::parse(want)
                .unwrap_or_else(|e| panic!("{what}: slot {offset}: parse llvm text: {e}"));
            assert_eq!(
                *from_llvm,
                vec![ins.clone()],
                "{what}: slot {offset}: llvm text {want:?}"
            );
        }
        let back = ebpf_asm::parse(&text)
            .unwrap_or_else(|e| panic!("{what}: slot {offset}: parse {text:?}: {e}"));
        assert_eq!(*back, vec![ins.clone()], "{what}: slot {offset}: {text:?}");
        let start = offset * 8;
        assert_eq!(
            ins.encode(order).expect("encode"),
            &bytes[start..start + ins.size()],
            "{what}: slot {offset}"
        );
        for o in [Endianness::Little, Endianness::Big] {
            let enc = ins.encode(o).expect("encode");
            let (dec, width) = Instruction::decode(&enc, o).expect("decode");
            assert_eq!(
                (dec, width),
                (ins.clone(), ins.width()),
                "{what}: slot {offset} {o:?}"
            );
        }
    }
    assert_eq!(
        insns.marshal(order).expect("marshal"),
        bytes,
        "{what}: marshal"
    );
    let listing_text = insns.to_string();
    assert_eq!(
        &ebpf_asm::parse(&listing_text).expect("parse listing"),
        insns,
        "{what}: listing round trip"
    );
    let _ = Size::DW;
    got
}
