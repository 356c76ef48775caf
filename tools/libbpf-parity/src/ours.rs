//! Our side: `CollectionSpec::from_file` and `Collection::load`, with the
//! options that match what the libbpf side is given.

use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use ebpf::{Collection, CollectionOptions, CollectionSpec};

/// An error and its causes on one line (`a: b: c`).
pub fn one_line(err: &(dyn Error + 'static)) -> String {
    ebpf::ErrorChain(err).to_string().replace('\n', " ")
}

/// Reads the object at `path`.
pub fn open(path: &Path) -> Result<CollectionSpec, String> {
    CollectionSpec::from_file(path).map_err(|e| one_line(&e))
}

/// The BTF of the object file at `path` as a CO-RE target (what libbpf's
/// `btf_custom_path` reads from an ELF file).
pub fn core_btf(path: &Path) -> Result<Arc<ebpf_btf::Spec>, String> {
    open(path)?
        .btf
        .ok_or_else(|| format!("{}: no .BTF section", path.display()))
}

/// Loads `spec` (only program `only`, when given, whatever its section says),
/// pinning under `pin_path` and relocating against `core_btf`.
pub fn load(
    spec: &CollectionSpec,
    only: Option<&str>,
    pin_path: Option<&Path>,
    core_btf: Option<Arc<ebpf_btf::Spec>>,
) -> Result<(), String> {
    let mut spec = spec.clone();
    if let Some(only) = only {
        for (name, p) in &mut spec.programs {
            p.autoload = name == only;
        }
    }
    let opts = CollectionOptions {
        pin_path: pin_path.map(Path::to_owned),
        core_btf,
        ..Default::default()
    };
    Collection::load(&spec, opts)
        .map(drop)
        .map_err(|e| one_line(&e))
}
