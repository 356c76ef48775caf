//! `ebpf-tool gen skeleton OBJ` and `ebpf-tool gen types BTF`: Rust code from
//! an object's or a BTF file's types (`ebpf-gen`), for users who build their
//! BPF outside cargo, and kernel types (like `aya-tool generate`);
//! `ebpf-tool gen min-core-btf SOURCE OUTPUT OBJ...`: the minimal BTF the
//! objects' CO-RE relocations need (like `bpftool gen min_core_btf`).

use std::path::Path;

use ebpf_gen::{Embed, SkeletonOptions, TypeStyle, TypesOptions};

use anyhow::Context as _;

use crate::Result;

/// Writes `code` to `out` (or returns it for stdout); warnings go to stderr.
fn emit(generated: ebpf_gen::Generated, out: Option<&str>) -> Result<String> {
    for w in &generated.warnings {
        eprintln!("ebpf-tool: warning: {w}");
    }
    match out {
        Some(path) => {
            std::fs::write(path, &generated.code).with_context(|| path.to_owned())?;
            Ok(String::new())
        }
        None => Ok(generated.code),
    }
}

/// `gen skeleton OBJ [--name NAME] [--type T]... [-o FILE]`: the object is
/// embedded by its path relative to the output file (or as given, for stdout).
pub fn skeleton(
    object: &str,
    name: Option<&str>,
    types: &[String],
    out: Option<&str>,
) -> Result<String> {
    let spec = crate::cmd::open_object(object)?;
    let stem = Path::new(object)
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.split('.').next())
        .unwrap_or("object");
    let name = name.unwrap_or(stem);
    let embed = match out {
        Some(o) => relative(Path::new(object), Path::new(o)),
        None => object.to_owned(),
    };
    let options = SkeletonOptions {
        name: name.to_owned(),
        types: types.to_vec(),
        embed: Embed::File(embed),
    };
    let generated =
        ebpf_gen::generate_skeleton(&spec, &options).with_context(|| object.to_owned())?;
    emit(generated, out)
}

/// The path of `object` relative to the directory of `out` when both are
/// relative or both absolute; else `object` made absolute.
fn relative(object: &Path, out: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (obj, dir) = (abs(object), abs(out));
    let dir = dir.parent().unwrap_or(Path::new("/"));
    let common = obj
        .components()
        .zip(dir.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut rel = std::path::PathBuf::new();
    for _ in dir.components().skip(common) {
        rel.push("..");
    }
    for c in obj.components().skip(common) {
        rel.push(c);
    }
    rel.display().to_string()
}

/// `gen types BTF [--type T]... [-o FILE]`: Rust types for a raw BTF file
/// (`/sys/kernel/btf/vmlinux`) or an object's BTF.
pub fn types(file: &str, types: &[String], out: Option<&str>) -> Result<String> {
    let spec = crate::cmd::btf::load(file)?;
    let stem = Path::new(file)
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.split('.').next())
        .unwrap_or("types");
    let options = TypesOptions {
        types: types.to_vec(),
        module: stem.to_owned(),
        source: file.to_owned(),
        // Full derives for named types, plain types for all of a BTF.
        style: TypeStyle::Auto,
    };
    let generated = ebpf_gen::generate_types(&spec, &options).with_context(|| file.to_owned())?;
    emit(generated, out)
}

/// `gen min-core-btf SOURCE_BTF OUTPUT OBJ...`: writes the minimal BTF and
/// says what it kept.
pub fn min_core_btf(source: &str, output: &str, objects: &[String]) -> Result<String> {
    let btf = crate::cmd::btf::load(source)?;
    let mut min = ebpf_gen::MinCoreBtf::new(&btf).with_context(|| source.to_owned())?;
    for object in objects {
        let spec = crate::cmd::open_object(object)?;
        if spec.btf.is_none() {
            eprintln!("ebpf-tool: warning: {object}: no BTF, so no CO-RE relocations");
        }
        min.add_object(&spec).with_context(|| object.clone())?;
    }
    let bytes = min.marshal().with_context(|| source.to_owned())?;
    std::fs::write(output, &bytes).with_context(|| output.to_owned())?;
    Ok(format!(
        "{output}: {} bytes, {} of {} types, for {} CO-RE relocations\n",
        bytes.len(),
        min.types(),
        btf.len(),
        min.relocations()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("bpf/x.o"), Path::new("src/x.skel.rs")),
            "../bpf/x.o"
        );
        assert_eq!(relative(Path::new("x.o"), Path::new("x.rs")), "x.o");
    }

    /// All of a BTF is plain (compiles in seconds for vmlinux); named types
    /// get the full derives.
    #[test]
    fn all_types_plain_named_types_full() {
        let obj = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/gen-el.o");
        let all = types(obj, &[], None).expect("gen types");
        assert!(all.contains("pub struct Flags {"), "{all}");
        assert!(!all.contains("#[zerocopy(") && !all.contains("offset_of!("));
        let named = types(obj, &["struct flags".to_owned()], None).expect("gen types");
        assert!(named.contains("#[zerocopy(crate = \"::ebpf::zerocopy\")]"));
        assert!(named.contains("offset_of!("), "{named}");
    }
}
