//! The skeletons `ebpf-gen` generates for every object under `testdata/`
//! (by `build.rs`), compiled with warnings denied in a crate that depends
//! only on `ebpf` and `ebpf-link`. The tests load some for real.
#![deny(warnings)]
#![deny(unsafe_code)]

include!(concat!(env!("OUT_DIR"), "/skeletons.rs"));
