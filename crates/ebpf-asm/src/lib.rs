//! The eBPF instruction model: encode/decode in both byte orders, a builder with labels, disassembly and a text assembler.
//!
//! # Layer
//!
//! `ebpf-asm` is a **pure** crate (it never makes a system call and gives the same result on any host).
//! It may depend on no other crate of this workspace; see `docs/ARCHITECTURE.md` for the whole chain.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
