//! Maps, programs and collections created from specs; ring buffer and perf readers; feature probes.
//!
//! # Layer
//!
//! `ebpf` is a **kernel** crate (it talks to the running kernel).
//! It may depend on `ebpf-asm`, `ebpf-btf`, `ebpf-spec` and `ebpf-syscall`; see `docs/ARCHITECTURE.md` for the whole chain.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
