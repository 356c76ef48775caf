//! `libbpf-link OUT IN...`: links BPF object files with libbpf's static linker, the
//! `bpf_linker` API behind `bpftool gen object OUT IN...`.
//!
//! `cargo xtask build-fixtures` runs it for the multi-file fixtures. It exists because
//! Debian bookworm's bpftool (7.1, libbpf 1.1) refuses objects whose byte order is not the
//! host's, and the fixtures come in both; libbpf-sys vendors libbpf 1.7, which links either,
//! and its version is pinned by `Cargo.lock`, so the output is the same on every machine.
#![allow(unsafe_code, reason = "calls libbpf through its C API")]

use std::ffi::CString;
use std::process::ExitCode;

use libbpf_sys::{
    bpf_linker, bpf_linker__add_file, bpf_linker__finalize, bpf_linker__free, bpf_linker__new,
};

/// An open `struct bpf_linker`, freed on drop.
struct Linker(*mut bpf_linker);

impl Drop for Linker {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `bpf_linker__new` and is freed once, here.
        unsafe { bpf_linker__free(self.0) };
    }
}

fn c_path(path: &str) -> Result<CString, String> {
    CString::new(path).map_err(|_| format!("{path:?}: path contains a NUL byte"))
}

fn link(out: &str, inputs: &[String]) -> Result<(), String> {
    let out_c = c_path(out)?;
    // SAFETY: `out_c` is a NUL-terminated path; null options select the defaults.
    let raw = unsafe { bpf_linker__new(out_c.as_ptr(), std::ptr::null_mut()) };
    if raw.is_null() {
        return Err(format!(
            "bpf_linker__new({out}): {}",
            std::io::Error::last_os_error()
        ));
    }
    let linker = Linker(raw);
    for input in inputs {
        let path = c_path(input)?;
        // SAFETY: `linker.0` is a live linker and `path` a NUL-terminated path.
        let err = unsafe { bpf_linker__add_file(linker.0, path.as_ptr(), std::ptr::null()) };
        if err != 0 {
            return Err(format!(
                "link {input}: {}",
                std::io::Error::from_raw_os_error(-err)
            ));
        }
    }
    // SAFETY: `linker.0` is a live linker; finalizing writes and closes `out`.
    let err = unsafe { bpf_linker__finalize(linker.0) };
    if err != 0 {
        return Err(format!(
            "finalize {out}: {}",
            std::io::Error::from_raw_os_error(-err)
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, inputs)) = args.split_first().filter(|(_, i)| !i.is_empty()) else {
        eprintln!("usage: libbpf-link OUT IN...");
        return ExitCode::FAILURE;
    };
    match link(out, inputs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("libbpf-link: {e}");
            ExitCode::FAILURE
        }
    }
}
