//! Poisoned instructions and reading them back out of a verifier log.
//!
//! An unsatisfiable relocation does not fail relocation: its instruction is replaced by
//! one the verifier rejects if (and only if) it is reachable, the way libbpf does:
//! `call 0xbad2310` (an invalid helper id; the verifier says
//! `invalid func unknown#195896080`). A poisoned `ld_imm64` keeps its two slots and becomes
//! `r10 = 0xbad2310 ll` (the verifier says `frame pointer is read only`).

use std::fmt;

use ebpf_asm::{Instruction, OpCode, Register};

use super::Fixup;
use super::error::kind_description;

/// The helper id of a poisoned instruction: `0xbad2310` ("bad relo"), 195896080.
pub const POISON_HELPER_ID: i32 = 0x0bad_2310;

/// Replaces `ins` by its poisoned form, keeping its width and metadata (symbol, source).
pub fn poison(ins: &mut Instruction) {
    if ins.is_load_imm64() {
        ins.op = OpCode::LOAD_IMM64;
        ins.dst = Register::R10;
    } else {
        ins.op = OpCode(0x85); // BPF_JMP | BPF_CALL
        ins.dst = Register::R0;
    }
    ins.src = Register::R0;
    ins.offset = 0;
    ins.constant = i64::from(POISON_HELPER_ID);
}

/// Parses the instruction index at the start of a verifier log line (`12: (85) call ...`).
fn insn_index(line: &str) -> Option<usize> {
    let (num, rest) = line.split_once(": (")?;
    let _ = rest;
    num.trim_start().parse().ok()
}

/// Finds the instruction a verifier log rejected because it was poisoned by CO-RE:
/// its index in 8-byte slots from the start of the loaded program.
///
/// ```
/// use ebpf_btf::core::poisoned_insn_in_log;
/// let log = "0: (b7) r0 = 0\n1: (85) call unknown#195896080\ninvalid func unknown#195896080\n";
/// assert_eq!(poisoned_insn_in_log(log), Some(1));
/// assert_eq!(poisoned_insn_in_log("0: (95) exit\nR0 !read_ok\n"), None);
/// ```
#[must_use]
pub fn poisoned_insn_in_log(log: &str) -> Option<usize> {
    let call_marker = format!("invalid func unknown#{POISON_HELPER_ID}");
    let ld_marker = format!("r10 = {POISON_HELPER_ID:#x}");
    let mut last: Option<(usize, &str)> = None;
    for line in log.lines() {
        if let Some(i) = insn_index(line) {
            last = Some((i, line));
            continue;
        }
        if line.contains(&call_marker) {
            return last.map(|(i, _)| i);
        }
        if line.contains("frame pointer is read only") {
            if let Some((i, l)) = last {
                if l.contains(&ld_marker) {
                    return Some(i);
                }
            }
        }
    }
    None
}

/// A verifier failure traced back to a CO-RE relocation.
#[derive(Debug, Clone, Copy)]
pub struct Diagnosis<'f> {
    /// The rejected instruction (slot index in the loaded program).
    pub insn: usize,
    /// The poisoned fixup at that instruction, if found.
    pub fixup: Option<&'f Fixup>,
}

impl fmt::Display for Diagnosis<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fixup {
            Some(x) => write!(
                f,
                "CO-RE relocation {} for {} ({}) could not be satisfied (insn {})",
                x.relocation,
                x.local,
                kind_description(x.kind),
                self.insn
            ),
            None => write!(
                f,
                "instruction {} was poisoned by an unsatisfied CO-RE relocation",
                self.insn
            ),
        }
    }
}

/// Scans a verifier log for a poisoned instruction and finds the fixup that poisoned it.
/// The fixups' `insn_off` must be relative to the start of the loaded program.
#[must_use]
pub fn diagnose<'f>(log: &str, fixups: &'f [Fixup]) -> Option<Diagnosis<'f>> {
    let insn = poisoned_insn_in_log(log)?;
    let fixup = fixups
        .iter()
        .find(|f| f.poisoned && f.insn_off as usize / 8 == insn);
    Some(Diagnosis { insn, fixup })
}
