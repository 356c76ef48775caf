//! Typed Rust bindings for BPF objects, generated from their BTF: Rust types
//! with the exact C layout, a skeleton per object (typed programs, maps and
//! global variables), and a helper for `build.rs` that compiles the BPF C
//! with clang and writes both into `OUT_DIR`.
//!
//! # Layer
//!
//! `ebpf-gen` is a **pure** crate: it reads objects and BTF (`ebpf-spec`,
//! `ebpf-btf`) and writes text; it never calls into the kernel. The code it
//! generates depends only on `ebpf` and `ebpf-link` (zerocopy comes through
//! `ebpf::zerocopy`).
//!
//! # In `build.rs`
//!
//! ```no_run
//! // build.rs of a crate with `src/bpf/opensnoop.bpf.c`:
//! ebpf_gen::Builder::new("src/bpf/opensnoop.bpf.c")
//!     .build()
//!     .expect("compile opensnoop.bpf.c");
//! ```
//!
//! and in the crate: `include!(concat!(env!("OUT_DIR"), "/opensnoop.skel.rs"));`,
//! which defines `OpensnoopSkel` (open, typed `rodata_mut()`, `load()`) and
//! `Opensnoop` (`progs`, `maps`, `bss()`, `attach_all()`).
//!
//! # From an object or BTF file
//!
//! ```
//! # fn main() -> Result<(), ebpf_gen::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/syscount-el.o"))?;
//! let code = ebpf_gen::generate_skeleton(&spec, &ebpf_gen::SkeletonOptions::new("syscount"))?;
//! assert!(code.code.contains("pub struct ProcKey {"));
//! assert!(code.code.contains("pub counts: ::ebpf::maps::LruHashMap<ProcKey, u64>,"));
//! # Ok(()) }
//! ```
//!
//! # What the types look like
//!
//! See [`types`](mod@types) for the mapping. Every struct is `#[repr(C)]` with
//! its padding as fields, derives zerocopy's traits (so it can be a map key or
//! value and be read from a ring buffer), and is followed by compile-time
//! assertions of its size and of every field's offset against the BTF: code
//! with a wrong layout does not compile. A type that Rust cannot represent
//! exactly (a bitfield wider than 64 bits, overlapping members, a type that
//! contains itself) becomes a struct of its bytes, with the reason in its doc
//! comment and in [`Generated::warnings`].
//!
//! All the types of a BTF ([`generate_types`] without names, like
//! `ebpf-tool gen types /sys/kernel/btf/vmlinux`: about 13,000 structs and
//! unions) are [plain](TypeStyle::Plain) instead: `Clone` and `Copy` and one
//! size assertion each, which rustc checks in seconds where the derives and
//! per-field assertions took it tens of minutes. The size assertion still
//! proves every offset, since all padding is an explicit field.
//!
//! # Minimal BTF for shipping
//!
//! [`MinCoreBtf`] (and `ebpf-tool gen min-core-btf`) keeps only what the CO-RE
//! relocations of some objects read of a kernel's BTF: a few kilobytes that
//! relocate those objects exactly as the full BTF does, for kernels without
//! `/sys/kernel/btf/vmlinux`.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod builder;
mod emit;
mod error;
mod fmt;
mod ident;
pub mod min_core_btf;
mod skeleton;
pub mod types;

use ebpf_btf::{Spec, Type};
use ebpf_spec::CollectionSpec;

pub use builder::{Builder, Built, Target};
pub use error::{Error, Result};
pub use min_core_btf::{MinCoreBtf, min_core_btf};

use crate::ident::camel;
use crate::types::TypeGen;

/// Generated code and what the user should know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// Rust source, formatted as rustfmt would.
    pub code: String,
    /// Types kept as bytes, objects without BTF, ... (a `build.rs` prints them
    /// as `cargo:warning`).
    pub warnings: Vec<String>,
}

/// How a skeleton embeds its object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Embed {
    /// `include_bytes!("PATH")`: a path relative to the generated file.
    File(String),
    /// `include_bytes!(concat!(env!("OUT_DIR"), "/FILE"))`.
    OutDir(String),
    /// One object per byte order from `OUT_DIR`, chosen by `target_endian`.
    OutDirBoth {
        /// The `bpfel` object's file name.
        little: String,
        /// The `bpfeb` object's file name.
        big: String,
    },
}

/// What [`generate_skeleton`] generates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkeletonOptions {
    /// The object's name (`opensnoop`): the skeleton is `OpensnoopSkel`, its
    /// module `opensnoop_skel`.
    pub name: String,
    /// More types to generate by name (like bpf2go's `-type`).
    pub types: Vec<String>,
    /// How the object is embedded.
    pub embed: Embed,
}

impl SkeletonOptions {
    /// Options for object `name`, embedded from `NAME.o` next to the generated file.
    pub fn new(name: &str) -> Self {
        SkeletonOptions {
            name: name.to_owned(),
            types: Vec::new(),
            embed: Embed::File(format!("{name}.o")),
        }
    }
}

/// The module wrapper of generated code: lint allowances (C names, unused
/// items) and the zerocopy imports the derives (or, plain, the union
/// accessors) use.
fn module(module: &str, source: &str, doc_text: &str, body: &str, style: emit::Style) -> String {
    let mut out = format!("// Generated by ebpf-gen from {source}. Do not edit.\n\n");
    out.push_str(
        "#[allow(\n    dead_code,\n    missing_docs,\n    non_camel_case_types,\n    non_snake_case,\n    \
         non_upper_case_globals,\n    unused_imports,\n    clippy::all,\n    \
         reason = \"generated from C: C names, and items the crate may not use\"\n)]\n",
    );
    out.push_str(&format!("pub mod {module} {{\n"));
    for line in doc_text.lines() {
        out.push_str(&format!("    //! {line}\n"));
    }
    out.push_str(match style {
        emit::Style::Full => {
            "\n    use ::ebpf::zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};\n"
        }
        emit::Style::Plain => "\n    use ::ebpf::zerocopy::IntoBytes;\n",
    });
    if !body.is_empty() {
        out.push('\n');
        out.push_str(body);
    }
    out.push_str(&format!("}}\npub use {module}::*;\n"));
    out
}

/// The Rust module name for object or file `name`.
fn module_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        format!("_{s}")
    } else {
        s
    }
}

/// Generates the type named `name` (`task_struct`, `struct task_struct`,
/// `enum bpf_map_type`, a typedef name).
pub(crate) fn request(tg: &mut TypeGen<'_>, btf: &Spec, name: &str) -> Result<()> {
    let (kind, bare) = match name.split_once(' ') {
        Some((k @ ("struct" | "union" | "enum"), n)) => (Some(k), n.trim()),
        _ => (None, name.trim()),
    };
    let mut found = false;
    for id in btf.types_by_name(bare) {
        let t = btf.type_by_id(id)?;
        let ok = matches!(
            (kind, t),
            (Some("struct") | None, Type::Struct(_))
                | (Some("union") | None, Type::Union(_))
                | (Some("enum") | None, Type::Enum(_) | Type::Enum64(_))
                | (None, Type::Typedef(_))
        );
        if !ok {
            continue;
        }
        found = true;
        if let Type::Typedef(td) = t {
            let target = btf.skip_qualifiers(td.target)?;
            let anon_aggregate = matches!(btf.type_by_id(target)?,
                Type::Struct(s) | Type::Union(s) if s.name.is_empty())
                || matches!(btf.type_by_id(target)?, Type::Enum(e) | Type::Enum64(e) if e.name.is_empty());
            let ty = tg.ty(id, &|| camel(bare))?;
            if !anon_aggregate {
                let alias = tg.names.claim(&camel(bare));
                tg.push_item(format!(
                    "    /// `typedef {} {bare}`.\n    pub type {alias} = {};\n",
                    types::c_name(btf, td.target),
                    ty.text
                ));
            }
        } else {
            tg.named(id, &|| camel(bare))?;
        }
    }
    if found {
        Ok(())
    } else {
        Err(Error::NoSuchType(name.to_owned()))
    }
}

/// What [`generate_types`] gives each type besides its exact layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TypeStyle {
    /// [`Full`](TypeStyle::Full) for named types, [`Plain`](TypeStyle::Plain)
    /// for all the types of a BTF (`types` empty), which would take rustc tens
    /// of minutes with the full derives.
    #[default]
    Auto,
    /// `Debug`, `PartialEq`, zerocopy's `FromBytes`, `IntoBytes`,
    /// `Immutable` and `KnownLayout` (map keys and values, ring buffer
    /// records), `Default`, an accessor pair per union member, and an
    /// assertion of the size and of every field's offset.
    Full,
    /// `Clone` and `Copy`, bitfield and `char` array accessors, accessors for
    /// union members of integer, float and array types, and one size
    /// assertion per type, which proves every offset too (all padding is an
    /// explicit field, so the size is right only if Rust added no padding).
    /// Enums are the same open newtypes without zerocopy's derives.
    Plain,
}

/// Options of [`generate_types`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TypesOptions {
    /// The types to generate (and what they contain); empty: every named
    /// struct, union and enum.
    pub types: Vec<String>,
    /// What each type gets besides its layout.
    pub style: TypeStyle,
    /// The generated module's name (default `types`).
    pub module: String,
    /// What the header says the code was generated from.
    pub source: String,
}

/// Rust types for the types of `btf` (for example the kernel's
/// `/sys/kernel/btf/vmlinux`), like `aya-tool generate`.
pub fn generate_types(btf: &Spec, options: &TypesOptions) -> Result<Generated> {
    let big = btf.endian() == ebpf_btf::Endian::Big;
    let style = match (options.style, options.types.is_empty()) {
        (TypeStyle::Full, _) | (TypeStyle::Auto, false) => emit::Style::Full,
        (TypeStyle::Plain, _) | (TypeStyle::Auto, true) => emit::Style::Plain,
    };
    let mut tg = TypeGen::new(btf, big).with_style(style);
    if options.types.is_empty() {
        for id in btf.ids() {
            let named = match btf.type_by_id(id)? {
                Type::Struct(s) | Type::Union(s) => !s.name.is_empty(),
                Type::Enum(e) | Type::Enum64(e) => !e.name.is_empty(),
                _ => false,
            };
            if named {
                tg.named(id, &|| format!("Anon{id}"))?;
            }
        }
    } else {
        for t in &options.types {
            request(&mut tg, btf, t)?;
        }
    }
    let warnings = tg.warnings.clone();
    let module_name = if options.module.is_empty() {
        "types".to_owned()
    } else {
        module_name(&options.module)
    };
    let source = if options.source.is_empty() {
        "BTF"
    } else {
        &options.source
    };
    let body = tg.finish();
    Ok(Generated {
        code: module(
            &module_name,
            source,
            &format!("Rust types for the BTF types of `{source}`."),
            &body,
            style,
        ),
        warnings,
    })
}

/// The skeleton of the object `spec` was read from: its types, the embedded
/// object, `NameSkel` (open, typed global variables, load) and `Name`
/// (typed programs, maps and data sections, `attach_all`).
pub fn generate_skeleton(spec: &CollectionSpec, options: &SkeletonOptions) -> Result<Generated> {
    let (body, warnings) = skeleton::generate(spec, options)?;
    let module_name = format!("{}_skel", module_name(&options.name));
    Ok(Generated {
        code: module(
            &module_name,
            &options.name,
            &format!(
                "The skeleton of the BPF object `{}`: its types, programs, maps and global\nvariables, typed.",
                options.name
            ),
            &body,
            emit::Style::Full,
        ),
        warnings,
    })
}
