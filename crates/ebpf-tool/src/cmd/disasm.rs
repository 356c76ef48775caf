//! `ebpf-tool disasm OBJECT.o [--program NAME] [--json]`: each program's
//! instructions in llvm-objdump syntax, annotated with symbols, map and call
//! references, source lines and CO-RE relocations.

use ebpf_spec::ProgramSpec;

use anyhow::Context as _;

use crate::Result;
use crate::json::Json;

fn program_json(p: &ProgramSpec) -> Json {
    let mut insns = Vec::new();
    for (offset, ins) in p.instructions.iter_offsets() {
        let meta = &ins.metadata;
        insns.push(
            Json::object()
                .with("offset", offset)
                .with("text", ins.to_string())
                .with("symbol", meta.symbol().map(str::to_owned))
                .with("reference", meta.reference().map(str::to_owned))
                .with("source", meta.source().map(|s| s.to_string()))
                .with(
                    "core_relocation",
                    meta.get::<ebpf_btf::CoreRelo>().map(|r| format!("{r:?}")),
                ),
        );
    }
    Json::object()
        .with("name", p.name.as_str())
        .with("section", p.section_name.as_str())
        .with("instructions", Json::Array(insns))
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
            Json::object().with(
                "programs",
                Json::Array(programs.into_iter().map(program_json).collect())
            )
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
