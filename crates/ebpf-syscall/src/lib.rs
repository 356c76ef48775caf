//! The typed `bpf(2)` layer and the other kernel calls the library needs (perf events, mmap, epoll).
//!
//! # Layer
//!
//! `ebpf-syscall` is a **kernel** crate (it talks to the running kernel).
//! It may depend on no other crate of this workspace; see `docs/ARCHITECTURE.md` for the whole chain.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod not_supported;
mod version;

pub use not_supported::NotSupported;
pub use version::{KernelVersion, ParseKernelVersionError};
