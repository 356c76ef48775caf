//! Attaching programs to kernel hooks through links, one module per link kind.
//!
//! # Layer
//!
//! `ebpf-link` is a **kernel** crate (it talks to the running kernel).
//! It may depend on `ebpf` and the layers below it, including `ebpf-syscall`; see `docs/ARCHITECTURE.md` for the whole chain.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
