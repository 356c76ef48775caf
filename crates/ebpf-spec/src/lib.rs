//! ELF object files to plain-data specs: `CollectionSpec`, `ProgramSpec`, `MapSpec`, `VariableSpec`.
//!
//! # Layer
//!
//! `ebpf-spec` is a **pure** crate (it never makes a system call and gives the same result on any host).
//! It may depend on `ebpf-asm` and `ebpf-btf`; see `docs/ARCHITECTURE.md` for the whole chain.
//!
//! # Overview
//!
//! - [`CollectionSpec::from_elf`] / [`CollectionSpec::from_file`]: read a clang-compiled BPF
//!   object (either byte order) the way libbpf does.
//! - [`ProgramSpec`]: one per function symbol of each program section, with subprograms
//!   linked in and relocations recorded as instruction metadata.
//! - [`MapSpec`]: BTF-defined (`.maps`), legacy (`maps`), global data, `.kconfig`,
//!   struct_ops and arena maps (with the `__arena` globals of [`ARENA_SECTION`]).
//! - [`VariableSpec`]: global variables, readable and writable before load.
//! - [`SectionInfo`]: libbpf's section-name conventions ([`section_defs`]).
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! let xdp = &spec.programs["xdp_prog"];
//! assert_eq!(xdp.program_type, ebpf_spec::ProgramType::XDP);
//! assert_eq!(spec.maps["hash_map"].max_entries, 64);
//! # Ok(()) }
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod arena;
mod attach_target;
mod btf_maps;
mod collection;
mod data;
mod datasec;
mod deferred;
mod dump;
mod elf;
mod error;
mod ext_rows;
mod kconfig;
mod ksyms;
mod legacy_maps;
mod limits;
mod link;
mod map;
mod program;
mod relocate;
mod section_def;
mod section_name;
#[rustfmt::skip]
mod sections;
mod slots;
mod struct_ops;
mod value_bytes;
mod variable;

pub use arena::ARENA_SECTION;
pub use attach_target::AttachTarget;
pub use btf_maps::MAPS_SECTION;
pub use collection::CollectionSpec;
pub use data::MAX_DATA_SECTION_SIZE;
pub use datasec::{KCONFIG_SECTION, KSYMS_SECTION};
pub use ebpf_abi::{AttachType, MapType, ProgramType};
pub use error::{Error, Result};
pub use kconfig::KconfigRef;
pub use ksyms::{KfuncRef, KsymRef};
pub use limits::{Limits, read_file};
pub use map::{
    MAP_FLAG_MMAPABLE, MAP_FLAG_NO_PREALLOC, MAP_FLAG_RDONLY_PROG, MapEntry, MapKey, MapSpec,
    MapValue, PinType, StructOpsSpec,
};
pub use program::ProgramSpec;
pub use section_def::{
    PROG_FLAG_SLEEPABLE, PROG_FLAG_XDP_HAS_FRAGS, SectionDef, SectionFlags, SectionPattern,
};
pub use section_name::{SectionInfo, section_defs};
/// The string type of spec names ([`ProgramSpec::name`], its section name, attach target
/// and license): up to 23 bytes kept inline, longer ones shared on clone ([`smol_str`]).
pub use smol_str::SmolStr;
pub use struct_ops::MAP_FLAG_LINK;
pub use value_bytes::ValueBytes;
pub use variable::VariableSpec;
