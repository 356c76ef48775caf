//! Instructions: decode and encode throughput over every executable section
//! of the committed fixtures (libbpf and aya have no public decoder to compare).

use std::hint::black_box;
use std::path::Path;

use ebpf_asm::{Endianness, Instructions};
use goblin::elf::Elf;
use goblin::elf::section_header::SHF_EXECINSTR;

use crate::Ctx;
use crate::measure::{Op, interleaved};
use crate::report::{Row, Unit};

/// The raw bytes of every executable section of the little-endian fixtures.
fn code_sections() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if !path.to_string_lossy().ends_with("-el.o") {
            continue;
        }
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        let Ok(elf) = Elf::parse(&data) else { continue };
        for sh in &elf.section_headers {
            if sh.sh_flags & u64::from(SHF_EXECINSTR) != 0 && sh.sh_size > 0 {
                if let Some(bytes) = sh.file_range().and_then(|r| data.get(r)) {
                    out.push(bytes.to_vec());
                }
            }
        }
    }
    out
}

pub fn run(ctx: &Ctx) -> Vec<Row> {
    let sections = code_sections();
    let decoded: Vec<Instructions> = sections
        .iter()
        .filter_map(|s| Instructions::unmarshal(s, Endianness::Little).ok())
        .collect();
    let count: usize = decoded.iter().map(|i| i.iter().count()).sum();
    let mut rows = Vec::new();
    if count == 0 {
        return rows;
    }
    let name = "asm_decode";
    if ctx.wants(name) {
        let mut ops: Vec<Option<Op<'_>>> = vec![Some(Box::new(|| {
            for s in &sections {
                black_box(Instructions::unmarshal(s, Endianness::Little).ok());
            }
        }))];
        let secs = interleaved(&mut ops, ctx.budget);
        rows.push(throughput(name, secs[0], count));
    }
    let name = "asm_encode";
    if ctx.wants(name) {
        let mut ops: Vec<Option<Op<'_>>> = vec![Some(Box::new(|| {
            for insns in &decoded {
                black_box(insns.marshal(Endianness::Little).ok());
            }
        }))];
        let secs = interleaved(&mut ops, ctx.budget);
        rows.push(throughput(name, secs[0], count));
    }
    rows
}

/// Instructions per second from seconds per pass over `count` instructions.
fn throughput(name: &str, secs_per_pass: Option<f64>, count: usize) -> Row {
    Row {
        name: name.to_owned(),
        ours: secs_per_pass.map(|s| count as f64 / s),
        libbpf: None,
        aya: None,
        unit: Unit::PerSec,
        spread: None,
        aya_spread: None,
    }
}
