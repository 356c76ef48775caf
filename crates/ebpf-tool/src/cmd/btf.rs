//! `ebpf-tool btf dump FILE [--format c|raw|json] [--type NAME]...`: the BTF of a
//! raw BTF file (such as `/sys/kernel/btf/vmlinux`) or of an ELF object; with
//! `--type`, only the named types and what they depend on.

use std::collections::BTreeMap;
use std::sync::Arc;

use ebpf_btf::{Spec, Type, TypeId};
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

/// The types named `names`, each name naming at least one (a struct and a
/// typedef may share a name: both are taken).
fn named(spec: &Spec, path: &str, names: &[String]) -> Result<Vec<TypeId>> {
    let mut ids = Vec::new();
    for name in names {
        let found = spec.types_by_name(name);
        if found.is_empty() {
            anyhow::bail!("{path}: no type named '{name}'");
        }
        ids.extend(found);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// `roots` and every type their definitions need, in id order: what a C
/// definition needs, so a struct or union reached through a pointer is listed
/// but not what it contains (C needs only its forward declaration).
fn dependencies(spec: &Spec, roots: &[TypeId]) -> ebpf_btf::Result<Vec<TypeId>> {
    // Each id listed, and whether its contents were followed.
    let mut seen: BTreeMap<TypeId, bool> = BTreeMap::new();
    let mut todo: Vec<(TypeId, bool)> = roots.iter().map(|&id| (id, false)).collect();
    while let Some((id, through_ptr)) = todo.pop() {
        if id == TypeId::VOID {
            continue;
        }
        let t = spec.type_by_id(id)?;
        let opaque =
            through_ptr && matches!(t, Type::Struct(_) | Type::Union(_)) && !t.name().is_empty();
        match seen.get(&id) {
            Some(true) => continue,
            Some(false) if opaque => continue,
            _ => {}
        }
        seen.insert(id, !opaque);
        match t {
            _ if opaque => {}
            Type::Pointer(p) => todo.push((p.target, true)),
            // What a typedef, qualifier or prototype names needs no more than they do.
            Type::Typedef(_)
            | Type::Volatile(_)
            | Type::Const(_)
            | Type::Restrict(_)
            | Type::TypeTag(_)
            | Type::DeclTag(_)
            | Type::FuncProto(_) => t.for_each_ref(|r| todo.push((r, through_ptr))),
            _ => t.for_each_ref(|r| todo.push((r, false))),
        }
    }
    Ok(seen.into_keys().collect())
}

/// Runs `btf dump`: every type, or only the types named in `types` and what
/// they depend on.
pub fn dump(path: &str, format: Format, types: &[String]) -> Result<String> {
    let spec = load(path)?;
    let roots = if types.is_empty() {
        None
    } else {
        Some(named(&spec, path, types)?)
    };
    let mut out = String::new();
    match (format, &roots) {
        (Format::C, None) => {
            let text = ebpf_btf::format_c::dump_c(&spec).with_context(|| path.to_owned())?;
            outw!(out, "{text}");
        }
        (Format::C, Some(roots)) => {
            // A function or variable has no C definition of its own: its type's is shown.
            let ids = roots.iter().map(|&id| match spec.type_by_id(id) {
                Ok(Type::Func(f)) => f.proto,
                Ok(Type::Var(v)) => v.type_id,
                _ => id,
            });
            let text =
                ebpf_btf::format_c::dump_c_types(&spec, ids).with_context(|| path.to_owned())?;
            outw!(out, "{text}");
        }
        (Format::Raw, None) => {
            let text = spec.dump_raw().with_context(|| path.to_owned())?;
            outw!(out, "{text}");
        }
        (Format::Raw, Some(roots)) => {
            for id in dependencies(&spec, roots).with_context(|| path.to_owned())? {
                let t = spec.type_by_id(id).with_context(|| path.to_owned())?;
                ebpf_btf::format_raw::write_type(&spec, &mut out, id, t)
                    .with_context(|| path.to_owned())?;
            }
        }
        (Format::Json, _) => {
            let mut types = Vec::new();
            match &roots {
                None => {
                    for (id, t) in spec.types() {
                        let t = t.with_context(|| path.to_owned())?;
                        types.push(type_json(&spec, id, t));
                    }
                }
                Some(roots) => {
                    for id in dependencies(&spec, roots).with_context(|| path.to_owned())? {
                        let t = spec.type_by_id(id).with_context(|| path.to_owned())?;
                        types.push(type_json(&spec, id, t));
                    }
                }
            }
            outln!(out, "{}", Value::Array(types));
        }
    }
    Ok(out)
}
