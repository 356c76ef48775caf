//! Skipping a test when the kernel lacks a feature, and failing when it should not.

use std::error::Error;
use std::io::Write;

use ebpf_syscall::{KernelVersion, NotSupported};

/// Set this variable to let a probe report "not supported" on a kernel that is
/// new enough for the feature (e.g. a distribution kernel with it configured out).
pub const ALLOW_MISSING_ENV: &str = "EBPF_TEST_ALLOW_MISSING";

/// The running kernel's version; panics if `uname` gives something unparsable.
pub fn kernel_version() -> KernelVersion {
    KernelVersion::current().expect("parse the running kernel's release")
}

/// Prints `SKIP: reason` where `cargo test` shows it even while capturing output.
pub fn skip(reason: impl std::fmt::Display) {
    let name = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned();
    // Written to the stderr handle directly: the test harness captures only the
    // print macros, and a skip must always be visible.
    let _ = writeln!(std::io::stderr(), "SKIP {name}: {reason}");
}

/// Whether the process runs as root (effective uid 0).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Returns `true` (after printing a skip) when the process is not root.
///
/// Use as `if skip_unless_root() { return; }` in tests that need privileges.
pub fn skip_unless_root() -> bool {
    if is_root() {
        false
    } else {
        skip("needs root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN)");
        true
    }
}

/// Finds a [`NotSupported`] in `err` or its chain of sources.
fn find_not_supported<'a>(err: &'a (dyn Error + 'static)) -> Option<&'a NotSupported> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(ns) = e.downcast_ref::<NotSupported>() {
            return Some(ns);
        }
        cur = e.source();
    }
    None
}

/// `Ok(v)` gives `Some(v)`. An error that is (or wraps) [`NotSupported`] prints a
/// skip and gives `None`, unless the running kernel is at or above the feature's
/// minimum version: then the test fails, because the probe or the declared
/// minimum is wrong. Any other error fails the test.
///
/// Setting `EBPF_TEST_ALLOW_MISSING=1` turns that failure into a skip too.
#[track_caller]
pub fn skip_if_not_supported<T, E: Error + 'static>(result: Result<T, E>) -> Option<T> {
    let err = match result {
        Ok(v) => return Some(v),
        Err(e) => e,
    };
    let Some(ns) = find_not_supported(&err) else {
        panic!("unexpected error: {err}");
    };
    let running = kernel_version();
    if running >= ns.min_kernel && std::env::var_os(ALLOW_MISSING_ENV).is_none() {
        panic!(
            "{ns}, but the running kernel is {running}: the probe or the declared minimum \
             is wrong (set {ALLOW_MISSING_ENV}=1 if this kernel has the feature configured out)"
        );
    }
    skip(format!("{ns} (running {running})"));
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("load program 'x'")]
    struct Wrapper(#[source] NotSupported);

    #[test]
    fn ok_passes_through() {
        assert_eq!(skip_if_not_supported(Ok::<_, NotSupported>(3)), Some(3));
    }

    #[test]
    fn old_feature_missing_on_new_kernel_fails() {
        let err = Wrapper(NotSupported::new("thing", KernelVersion::new(3, 0, 0)));
        let res = std::panic::catch_unwind(|| skip_if_not_supported::<(), _>(Err(err)));
        assert!(
            res.is_err(),
            "a feature older than the kernel must not be skipped"
        );
    }

    #[test]
    fn future_feature_is_skipped() {
        let err = Wrapper(NotSupported::new("thing", KernelVersion::new(99, 0, 0)));
        assert_eq!(skip_if_not_supported::<(), _>(Err(err)), None);
    }

    #[test]
    fn other_errors_fail() {
        let res = std::panic::catch_unwind(|| {
            skip_if_not_supported::<(), _>(Err(std::io::Error::other("boom")))
        });
        assert!(res.is_err());
    }
}
