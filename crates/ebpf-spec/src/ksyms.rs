//! `__ksym` externs: kernel variables (typed or typeless) and kernel functions (kfuncs),
//! tagged on the referring instruction with a [`KsymRef`] or [`KfuncRef`]; the loader
//! resolves them against kernel BTF or `/proc/kallsyms`.
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! let refs: Vec<&ebpf_spec::KsymRef> = spec.programs["ksym_prog"].instructions.iter()
//!     .filter_map(|i| i.metadata.get::<ebpf_spec::KsymRef>())
//!     .collect();
//! assert!(refs.iter().any(|k| k.name == "ebpf_rs_missing_symbol" && k.weak && k.type_id.is_none()));
//! # Ok(()) }
//! ```

use ebpf_btf::TypeId;

/// Metadata on an `ld_imm64` that takes the address of a `__ksym` variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KsymRef {
    /// The kernel symbol.
    pub name: String,
    /// The variable's type in the object's BTF; `None` for a typeless (`void`) ksym.
    pub type_id: Option<TypeId>,
    /// Declared `__weak`: may be missing from the kernel.
    pub weak: bool,
}

/// Metadata on a call (or `ld_imm64`) of a kernel function declared `__ksym`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KfuncRef {
    /// The kernel function.
    pub name: String,
    /// Its `FUNC` in the object's BTF.
    pub type_id: TypeId,
    /// Declared `__weak`: may be missing from the kernel.
    pub weak: bool,
}
