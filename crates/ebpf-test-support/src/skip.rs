//! Printing a skip, and skipping on a missing kernel feature or tool.

use std::error::Error;
use std::path::PathBuf;

use crate::harness::{Verdict, verdict};
use crate::report::skip;

/// `Ok(v)` gives `Some(v)`. An error that is (or wraps)
/// [`NotSupported`](ebpf_syscall::NotSupported) prints a skip and gives `None`, unless the running kernel is at or above the feature's
/// minimum version and the kernel is not known to be built without it: then
/// the test fails, because the probe or the declared minimum is wrong. A refusal
/// by policy (`EPERM`: lockdown, an LSM) prints a skip naming it and gives `None`,
/// as it does for a whole [`kernel_test`](crate::kernel_test). Any other error
/// fails the test.
///
/// For one step of a test that goes on without it; a whole kernel test
/// returns its error to [`kernel_test`](crate::kernel_test) instead.
/// Setting `EBPF_TEST_ALLOW_MISSING=1` turns that failure into a skip too.
#[track_caller]
pub fn skip_if_not_supported<T, E: Error + 'static>(result: Result<T, E>) -> Option<T> {
    let err = match result {
        Ok(v) => return Some(v),
        Err(e) => e,
    };
    // The rule a whole kernel test follows.
    match verdict(&err) {
        Verdict::Skip(reason) => skip(reason),
        Verdict::Fail(message) => panic!("{message}"),
    }
    None
}

/// The path of command `name` on `PATH`, or `None` after printing a skip that
/// names the missing tool and the Debian package that has it.
pub fn require_tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        skip(format!("needs {name} (apt-get install {package})"));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::classify;
    use ebpf_syscall::{KernelVersion, NotSupported};

    #[derive(Debug, thiserror::Error)]
    #[error("load program 'x'")]
    struct Wrapper(#[source] NotSupported);

    #[test]
    fn ok_passes_through() {
        assert_eq!(skip_if_not_supported(Ok::<_, NotSupported>(3)), Some(3));
    }

    #[test]
    fn not_supported_is_found_through_wrappers() {
        let ns = NotSupported::new("thing", KernelVersion::new(3, 0, 0));
        assert_eq!(
            classify(&Wrapper(ns.clone())).not_supported,
            Some(ns.clone())
        );
        let transparent: ebpf::Error = ebpf_syscall::Error::NotSupported(ns.clone()).into();
        let wrapped = ebpf::Error::Program {
            name: "p".into(),
            op: "load",
            source: Box::new(transparent),
        };
        assert_eq!(classify(&wrapped).not_supported, Some(ns));
    }

    #[test]
    fn old_feature_missing_on_new_kernel_fails() {
        let err = Wrapper(NotSupported::new("thing", KernelVersion::new(3, 0, 0)));
        if std::env::var_os(crate::ALLOW_MISSING_ENV).is_none() {
            // Under the leak check's lock, as kernel test bodies run: the verdict reads the
            // kernel's version and config, which another test's check would count.
            let res = crate::fd_leak::check_fd_leaks(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    skip_if_not_supported::<(), _>(Err(err))
                }))
            });
            assert!(
                res.is_err(),
                "a feature older than the kernel must not be skipped"
            );
        }
    }

    #[test]
    fn a_refusal_by_policy_is_skipped() {
        let err = ebpf::Error::Map {
            name: "arena".into(),
            op: "create",
            source: Box::new(ebpf::Error::PermissionDenied {
                what: "BPF_MAP_CREATE".into(),
                errno: ebpf_syscall::Errno::PERM,
                hint: "locked down".into(),
            }),
        };
        let res = crate::fd_leak::check_fd_leaks(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                skip_if_not_supported::<(), _>(Err(err))
            }))
        });
        assert!(matches!(res, Ok(None)), "a refusal by policy is a skip");
    }

    #[test]
    fn other_errors_fail() {
        let res = crate::fd_leak::check_fd_leaks(|| {
            std::panic::catch_unwind(|| {
                skip_if_not_supported::<(), _>(Err(std::io::Error::other("boom")))
            })
        });
        assert!(res.is_err());
    }

    #[test]
    fn a_tool_on_path_is_found() {
        assert!(require_tool("sh", "dash").is_some());
    }
}
