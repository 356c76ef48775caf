//! Maps, programs and collections created from specs; ring buffer and perf readers; feature probes.
//!
//! # Layer
//!
//! `ebpf` is a **kernel** crate (it talks to the running kernel).
//! It may depend on `ebpf-asm`, `ebpf-btf`, `ebpf-spec` and `ebpf-syscall`; see `docs/ARCHITECTURE.md` for the whole chain.
//!
//! # Loading
//!
//! Modelled on cilium/ebpf's root package:
//!
//! - [`Collection::load`] turns a [`CollectionSpec`] (from `ebpf_spec`) into
//!   [`Map`]s, [`Program`]s and [`Variable`]s: `.kconfig` values, ksyms and
//!   kfuncs, CO-RE relocations against the kernel BTF, BTF sanitised for the
//!   running kernel, func/line info, prog arrays and maps of maps populated,
//!   `.rodata` frozen, pins by name ([`CollectionOptions`]).
//! - [`Map`]: byte-level and typed (`zerocopy`) element operations,
//!   iteration, batches, per-CPU values, freeze, pin, info; [`Arena`]: the
//!   memory of an arena map ([`Map::arena`]).
//! - [`Program`]: [`Program::load`], [`Program::test_run`], pin, info.
//! - [`info`]: every loaded program, map, BTF object and link by id.
//! - [`Error`]: reads like a path (`program 'x': load: ...`), each cause printed
//!   once by [`ErrorChain`]; a missing kernel feature is a [`NotSupported`]
//!   ([`Error::not_supported`]), a refusal by policy is
//!   [`Error::PermissionDenied`], a verifier rejection is a [`VerifierError`]
//!   with the whole log ([`Error::verifier`]).
//!
//! ```no_run
//! use ebpf::{Collection, CollectionOptions, CollectionSpec, TestRunOptions, UpdateFlags};
//! let spec = CollectionSpec::from_file("testdata/loader-el.o")?;
//! let coll = Collection::load(&spec, CollectionOptions::default())?;
//! let res = coll.programs["socket_prog"].test_run(&TestRunOptions {
//!     data_in: vec![0; 64],
//!     ..Default::default()
//! })?;
//! println!("returned {}", res.retval);
//! coll.maps["percpu_hash"].update_percpu(
//!     &1u32.to_ne_bytes(),
//!     &vec![0u64.to_ne_bytes(); ebpf::possible_cpus()?],
//!     UpdateFlags::ANY,
//! )?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod arena;
pub mod codegen;
mod global_data;
mod mem;
pub mod perf;
pub mod ringbuf;

// Loader: maps, programs, collections (owned by the loader engineer).
mod collection;
mod error;
pub mod features;
pub mod info;
mod kconfig;
mod ksym;
mod loader;
mod map;
pub mod maps;
mod memlock;
mod names;
mod object_btf;
pub mod pin;
pub mod pin_walk;
mod program;
mod reader_error;
mod relocate;
mod struct_ops;
mod variable;

pub use arena::Arena;
pub use collection::Collection;
/// The program tag ([`info::ProgramInfo::tag`]) and its hash, from `ebpf-asm`.
pub use ebpf_asm::{ProgramTag, TagAlgorithm};
pub use ebpf_spec::{
    AttachType, CollectionSpec, Limits, MapSpec, MapType, ProgramSpec, ProgramType, SmolStr,
};
/// BPF tokens (6.9): see [`ebpf_syscall::token`]; [`CollectionOptions::token`].
pub use ebpf_syscall::token;
pub use ebpf_syscall::token::Token;
pub use ebpf_syscall::{
    ErrorChain, KernelConfig, KernelVersion, LogLevel, NotSupported, PermissionFacts, VerifierLog,
    current_kernel, eperm_hint,
};
pub use error::{Error, Result, VerifierError};
pub use global_data::GlobalData;
pub use loader::CollectionOptions;
pub use map::{BatchCursor, Map, MapIter, MapKeys, UpdateFlags, possible_cpus};
pub use program::{ATTACH_MAPS, Program, ProgramOptions, TestRunOptions, TestRunResult};
pub use struct_ops::StructOpsMap;
pub use variable::Variable;
/// The crate behind [`maps::Pod`]: derive its traits on `#[repr(C)]` key and value types.
pub use zerocopy;
