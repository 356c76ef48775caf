//! ELF object files to plain-data specs: `CollectionSpec`, `ProgramSpec`, `MapSpec`, `VariableSpec`.
//!
//! # Layer
//!
//! `ebpf-spec` is a **pure** crate (it never makes a system call and gives the same result on any host).
//! It may depend on `ebpf-asm` and `ebpf-btf`; see `docs/ARCHITECTURE.md` for the whole chain.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
