//! `ebpf-tool core OBJECT.o [--target BTF]`: the CO-RE fixups that loading
//! would apply, against the running kernel's BTF or a target BTF file, one
//! line per relocation.

use std::fmt::Write as _;
use std::sync::Arc;

use ebpf_btf::core::Relocator;
use ebpf_btf::{CoreRelo, Spec};

use anyhow::Context as _;

use crate::Result;

/// The CO-RE relocations of a program, with `insn_off` relative to its start.
fn program_relos(p: &ebpf_spec::ProgramSpec) -> Vec<CoreRelo> {
    p.instructions
        .iter_offsets()
        .filter_map(|(slot, ins)| {
            ins.metadata.get::<CoreRelo>().map(|r| CoreRelo {
                insn_off: u32::try_from(slot * 8).unwrap_or(u32::MAX),
                ..r.clone()
            })
        })
        .collect()
}

/// Runs the command.
pub fn run(path: &str, target: Option<&str>) -> Result<String> {
    let spec = super::open_object(path)?;
    let Some(local) = &spec.btf else {
        anyhow::bail!("{path}: the object has no BTF, so no CO-RE relocations");
    };
    let target: Arc<Spec> = match target {
        Some(t) => super::btf::load(t)?,
        None => Spec::kernel_shared().context("kernel BTF")?,
    };
    let targets = [target.as_ref()];
    let mut relocator = Relocator::new(local, &targets);
    let mut out = String::new();
    let mut count = 0usize;
    for p in spec.programs.values() {
        for (i, relo) in program_relos(p).iter().enumerate() {
            count += 1;
            match relocator.calculate(i, relo) {
                Ok(fixup) => {
                    let result = if fixup.poisoned {
                        "poisoned".to_owned()
                    } else {
                        format!("{} -> {}", fixup.local_value, fixup.target_value)
                    };
                    let _ = writeln!(
                        out,
                        "{}\tinsn {}\t{}\t{}\t{}",
                        p.name,
                        relo.insn_off / 8,
                        fixup.kind.name(),
                        fixup.local,
                        result
                    );
                }
                Err(e) => {
                    let _ = writeln!(
                        out,
                        "{}\tinsn {}\terror: {}",
                        p.name,
                        relo.insn_off / 8,
                        ebpf::ErrorChain(&e)
                    );
                }
            }
        }
    }
    let _ = writeln!(out, "{count} CO-RE relocations");
    Ok(out)
}
