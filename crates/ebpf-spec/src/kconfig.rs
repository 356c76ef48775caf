//! `__kconfig` externs: reads of kernel configuration values, relocated as loads from the
//! virtual `.kconfig` map (see [`crate::data`]), tagged with a [`KconfigRef`].
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! let prog = &spec.programs["syscall_prog"];
//! let k: Vec<&str> = prog.instructions.iter()
//!     .filter_map(|i| i.metadata.get::<ebpf_spec::KconfigRef>())
//!     .map(|k| k.name.as_str())
//!     .collect();
//! assert!(k.contains(&"LINUX_KERNEL_VERSION"));
//! # Ok(()) }
//! ```

use ebpf_btf::TypeId;

/// Metadata on an `ld_imm64` that reads a `__kconfig` extern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KconfigRef {
    /// The extern's name (`CONFIG_HZ`, `LINUX_KERNEL_VERSION`).
    pub name: String,
    /// Its offset in the `.kconfig` map's value.
    pub offset: u32,
    /// Its type in the object's BTF.
    pub type_id: TypeId,
    /// Declared `__weak`: a missing value reads as zero instead of failing the load.
    pub weak: bool,
}
