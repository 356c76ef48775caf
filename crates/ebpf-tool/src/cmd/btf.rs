//! `ebpf-tool btf dump FILE [--format c|raw|json]`: the BTF of a raw BTF file
//! (such as `/sys/kernel/btf/vmlinux`) or of an ELF object.

use std::sync::Arc;

use ebpf_btf::{Spec, Type};
use ebpf_spec::CollectionSpec;

use anyhow::Context as _;

use crate::Result;
use serde_json::{Value, json};

/// Output formats of `btf dump`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A C header that compiles with clang (like `bpftool btf dump ... format c`).
    C,
    /// One line per type (like `bpftool btf dump ... format raw`).
    Raw,
    /// A JSON array of types.
    Json,
}

/// Reads BTF from `path`: an ELF object's `.BTF`, or a raw BTF blob.
pub fn load(path: &str) -> Result<Arc<Spec>> {
    // Regular files only, at most their size: a FIFO or /dev/zero is an error.
    let bytes = ebpf_spec::read_file(path)?;
    if bytes.starts_with(b"\x7fELF") {
        let spec = CollectionSpec::from_elf(&bytes).with_context(|| path.to_owned())?;
        spec.btf
            .with_context(|| format!("{path}: the object has no .BTF section"))
    } else {
        Spec::parse(&bytes)
            .map(Arc::new)
            .with_context(|| path.to_owned())
    }
}

fn type_json(spec: &Spec, id: ebpf_btf::TypeId, t: &Type) -> Value {
    let mut line = String::new();
    let _ = ebpf_btf::format_raw::write_type(spec, &mut line, id, t);
    // The first line of the raw form, without its `[id] ` prefix.
    let first = line.lines().next().unwrap_or("");
    let raw = first
        .split_once("] ")
        .map_or(first, |(_, rest)| rest)
        .to_owned();
    let mut obj = json!({
        "id": id.0,
        "kind": spec.kind_of(id)
            .map_or_else(|_| "unknown".to_owned(), |k| k.name().to_lowercase()),
        "name": spec.type_name(id).unwrap_or(""),
        "raw": raw,
    });
    if let Type::Struct(s) | Type::Union(s) = t {
        let members: Vec<Value> = s
            .members
            .iter()
            .map(|m| {
                json!({
                    "name": m.name,
                    "type_id": m.type_id.0,
                    "bits_offset": m.bit_offset,
                    "bitfield_size": m.bitfield_size,
                })
            })
            .collect();
        obj["size"] = json!(s.size);
        obj["members"] = Value::Array(members);
    }
    obj
}

/// Runs `btf dump`.
pub fn dump(path: &str, format: Format) -> Result<String> {
    let spec = load(path)?;
    let mut out = String::new();
    match format {
        Format::C => {
            let text = ebpf_btf::format_c::dump_c(&spec).with_context(|| path.to_owned())?;
            outw!(out, "{text}");
        }
        Format::Raw => {
            let text = spec.dump_raw().with_context(|| path.to_owned())?;
            outw!(out, "{text}");
        }
        Format::Json => {
            let mut types = Vec::new();
            for (id, t) in spec.types() {
                let t = t.with_context(|| path.to_owned())?;
                types.push(type_json(&spec, id, t));
            }
            outln!(out, "{}", Value::Array(types));
        }
    }
    Ok(out)
}
