//! `ebpf-tool inspect OBJECT.o [--json]`: what a `CollectionSpec` holds.

use ebpf_spec::{CollectionSpec, MapSpec, ProgramSpec, VariableSpec};

use serde_json::{Value, json};

use crate::{Result, core_relo_count};

fn program_json(p: &ProgramSpec) -> Value {
    json!({
        "name": p.name.as_str(),
        "section": p.section_name.as_str(),
        "type": p.program_type.to_string(),
        "attach_type": p.attach_type.map(|a| a.to_string()),
        "attach_target": p.attach_target.as_deref(),
        "instructions": p.instructions.iter().count(),
        "license": p.license.as_str(),
        "core_relocations": core_relo_count(p),
    })
}

fn map_json(m: &MapSpec) -> Value {
    json!({
        "name": m.name,
        "type": m.map_type.to_string(),
        "key_size": m.key_size,
        "value_size": m.value_size,
        "max_entries": m.max_entries,
        "flags": m.flags,
        "pinning": format!("{:?}", m.pinning).to_lowercase(),
        "inner_map": m.inner_map.as_ref().map(|inner| map_json(inner)),
    })
}

fn variable_json(spec: &CollectionSpec, v: &VariableSpec) -> Value {
    let type_name = match (&spec.btf, v.type_id) {
        (Some(btf), Some(id)) => Some(crate::value::type_string(btf, id)),
        _ => None,
    };
    json!({
        "name": v.name,
        "section": v.section,
        "offset": v.offset,
        "size": v.size,
        "type": type_name,
    })
}

/// The whole spec as JSON with the stable keys `programs`, `maps`, `variables`, `btf`.
pub fn to_json(spec: &CollectionSpec) -> Value {
    let relos: usize = spec.programs.values().map(core_relo_count).sum();
    json!({
        "license": spec.license,
        "kernel_version": spec.kernel_version,
        "programs": spec.programs.values().map(program_json).collect::<Vec<_>>(),
        "maps": spec.maps.values().map(map_json).collect::<Vec<_>>(),
        "variables": spec
            .variables
            .values()
            .map(|v| variable_json(spec, v))
            .collect::<Vec<_>>(),
        "btf": spec
            .btf
            .as_ref()
            .map(|b| json!({ "types": b.len(), "core_relocations": relos })),
    })
}

/// Writes the spec as aligned text tables.
pub fn print_text(out: &mut String, spec: &CollectionSpec) {
    outln!(out, "license: {}", spec.license);
    if spec.kernel_version != 0 {
        outln!(out, "kernel version: {:#x}", spec.kernel_version);
    }
    outln!(out, "\nprograms ({}):", spec.programs.len());
    outln!(
        out,
        "  {:<22} {:<40} {:<16} {:<22} {:>6}  {}",
        "NAME",
        "SECTION",
        "TYPE",
        "ATTACH",
        "INSNS",
        "TARGET"
    );
    for p in spec.programs.values() {
        outln!(
            out,
            "  {:<22} {:<40} {:<16} {:<22} {:>6}  {}",
            p.name,
            p.section_name,
            p.program_type.to_string(),
            p.attach_type.map(|a| a.to_string()).unwrap_or_default(),
            p.instructions.iter().count(),
            p.attach_target.as_deref().unwrap_or("")
        );
    }
    outln!(out, "\nmaps ({}):", spec.maps.len());
    outln!(
        out,
        "  {:<22} {:<22} {:>6} {:>8} {:>8} {:>8}  {}",
        "NAME",
        "TYPE",
        "KEY",
        "VALUE",
        "ENTRIES",
        "FLAGS",
        "INNER/PIN"
    );
    for m in spec.maps.values() {
        let mut extra = Vec::new();
        if let Some(inner) = &m.inner_map {
            extra.push(format!("inner {} {}", inner.map_type, inner.name));
        }
        if m.pinning != ebpf_spec::PinType::None {
            extra.push("pinned by name".to_owned());
        }
        outln!(
            out,
            "  {:<22} {:<22} {:>6} {:>8} {:>8} {:>#8x}  {}",
            m.name,
            m.map_type.to_string(),
            m.key_size,
            m.value_size,
            m.max_entries,
            m.flags,
            extra.join(", ")
        );
    }
    outln!(out, "\nvariables ({}):", spec.variables.len());
    outln!(
        out,
        "  {:<22} {:<16} {:>8} {:>6}  {}",
        "NAME",
        "SECTION",
        "OFFSET",
        "SIZE",
        "TYPE"
    );
    for v in spec.variables.values() {
        let ty = match (&spec.btf, v.type_id) {
            (Some(btf), Some(id)) => crate::value::type_string(btf, id),
            _ => String::new(),
        };
        outln!(
            out,
            "  {:<22} {:<16} {:>8} {:>6}  {}",
            v.name,
            v.section,
            v.offset,
            v.size,
            ty
        );
    }
    match &spec.btf {
        Some(btf) => {
            let relos: usize = spec.programs.values().map(core_relo_count).sum();
            outln!(out, "\nbtf: {} types, {relos} CO-RE relocations", btf.len());
        }
        None => outln!(out, "\nbtf: none"),
    }
}

/// Runs the command.
pub fn run(path: &str, json: bool) -> Result<String> {
    let spec = super::open_object(path)?;
    let mut out = String::new();
    if json {
        outln!(out, "{}", to_json(&spec));
    } else {
        print_text(&mut out, &spec);
    }
    Ok(out)
}
