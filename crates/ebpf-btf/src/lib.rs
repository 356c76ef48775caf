//! BPF Type Format: wire format, type graph, kernel and module BTF, ext info, marshalling and CO-RE.
//!
//! # Layer
//!
//! `ebpf-btf` is a **pure** crate (it never makes a system call and gives the same result on any host).
//! It may depend on `ebpf-asm` only; see `docs/ARCHITECTURE.md` for the whole chain.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
