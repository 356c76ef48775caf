//! BPF Type Format: wire format, type graph, kernel and module BTF, ext info, marshalling
//! and C output.
//!
//! # Layer
//!
//! `ebpf-btf` sits above `ebpf-asm` in the layering (see the workspace docs). Apart from
//! reading `/sys/kernel/btf/*` in [`kernel`], everything here is pure and gives the
//! same result on any host.
//!
//! # Overview
//!
//! - [`Spec`]: a parsed `.BTF` blob; an arena of [`Type`]s addressed by [`TypeId`],
//!   decoded lazily, with an O(1) name index.
//! - [`KernelBtf`]: vmlinux and module BTF, cached process-wide.
//! - [`ExtInfo`]: `.BTF.ext` func/line info and CO-RE relocations per ELF section.
//! - [`Builder`]: encoding, with graph [`dedup`](mod@dedup); [`sanitize`](mod@sanitize)
//!   for older kernels.
//! - [`format_raw`] (`bpftool btf dump ... format raw`) and [`format_c`] (`format c`).
//!
//! ```
//! use ebpf_btf::{Builder, Int, IntEncoding, Spec, Type};
//! let mut b = Builder::new();
//! b.add(Type::Int(Int { name: "int".into(), size: 4, encoding: IntEncoding::Signed, offset: 0, bits: 32 }));
//! let spec = Spec::parse(&b.marshal(Default::default())?)?;
//! assert_eq!(spec.dump_raw()?, "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n");
//! # Ok::<(), ebpf_btf::Error>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod bits;
pub mod core;
pub mod dedup;
mod encode;
pub mod error;
pub mod ext_info;
pub mod format_c;
pub mod format_raw;
pub mod kernel;
mod marshal;
mod mmap;
mod names;
pub mod raw;
pub mod sanitize;
mod spec;
pub mod strings;
mod threads;
mod types;
mod unmarshal;

pub use error::{Error, Result};
pub use ext_info::{
    CoreRelo, CoreReloKind, ExtInfo, ExtSection, ExtStrings, FuncInfo, LineInfo, RawCoreRelo,
    RawExtInfo, RawExtSection, RawLineInfo,
};
pub use kernel::KernelBtf;
pub use marshal::{Builder, MarshalOptions};
pub use names::essential_name;
pub use raw::Endian;
pub use spec::{
    DatasecEntries, MAX_RESOLVE_DEPTH, MemberRef, Members, POINTER_SIZE, RawEdit, Spec,
};
pub use types::*;
