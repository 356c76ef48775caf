//! Printing a skip where `cargo test` shows it, and the running kernel's version.

use std::io::Write;

use ebpf_syscall::KernelVersion;

/// The running kernel's version; panics if `uname` gives something unparsable.
pub fn kernel_version() -> KernelVersion {
    ebpf_syscall::current_kernel().expect("parse the running kernel's release")
}

/// Prints `SKIP <test>: reason` where `cargo test` shows it even while capturing output.
pub fn skip(reason: impl std::fmt::Display) {
    let name = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned();
    // Written to the stderr handle directly: the test harness captures only the
    // print macros, and a skip must always be visible.
    let _ = writeln!(std::io::stderr(), "SKIP {name}: {reason}");
}
