//! One module per subcommand.

pub mod btf;
pub mod codegen;
pub mod core;
pub mod disasm;
pub mod feature;
pub mod inspect;
pub mod load;
pub mod objects;
pub mod pin;
pub mod run;
pub mod usdt;

/// Reads the object file at `path`; errors start with the path once
/// (`ebpf_spec::Error::Io` already names it).
pub fn open_object(path: &str) -> crate::Result<ebpf_spec::CollectionSpec> {
    ebpf_spec::CollectionSpec::from_file(path).map_err(|e| match e {
        ebpf_spec::Error::Io { .. } => e.into(),
        e => anyhow::Error::new(e).context(path.to_owned()),
    })
}
