//! The peer implementations measured beside ours.

pub mod aya;
pub mod libbpf;
