//! `ebpf-tool disasm OBJECT.o [--program NAME] [--json]`: each program's
//! instructions in llvm-objdump syntax, annotated with symbols, map and call
//! references, source lines and CO-RE relocations.

use ebpf_spec::ProgramSpec;

use anyhow::Context as _;

use crate::Result;
use serde_json::{Value, json};

fn program_json(p: &ProgramSpec) -> Value {
    let mut insns = Vec::new();
    for (offset, ins) in p.instructions.iter_offsets() {
        let meta = &ins.metadata;
        insns.push(json!({
            "offset": offset,
            "text": ins.to_string(),
            "symbol": meta.symbol(),
            "reference": meta.reference(),
            "source": meta.source().map(|s| s.to_string()),
            "core_relocation": meta.get::<ebpf_btf::CoreRelo>().map(|r| format!("{r:?}")),
        }));
    }
    json!({
        "name": p.name.as_str(),
        "section": p.section_name.as_str(),
        "instructions": insns,
    })
}

/// Runs the command.
pub fn run(path: &str, program: Option<&str>, json: bool) -> Result<String> {
    let mut out = String::new();
    let spec = super::open_object(path)?;
    let programs: Vec<&ProgramSpec> = match program {
        Some(name) => vec![
            spec.programs
                .get(name)
                .with_context(|| format!("{path}: no program named '{name}'"))?,
        ],
        None => spec.programs.values().collect(),
    };
    if json {
        outln!(
            out,
            "{}",
            json!({ "programs": programs.into_iter().map(program_json).collect::<Vec<_>>() })
        );
        return Ok(out);
    }
    for (i, p) in programs.into_iter().enumerate() {
        if i > 0 {
            outln!(out);
        }
        outln!(out, "{} (section {}):", p.name, p.section_name);
        outw!(out, "{:#}", p.instructions);
    }
    Ok(out)
}
