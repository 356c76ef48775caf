//! The one harness every kernel test runs in: privileges checked, the body run
//! inside the fd-leak check, and its error turned into a visible skip only
//! when the kernel lacks the feature or refuses by policy.

use std::error::Error;
use std::fmt::Write as _;

use ebpf_syscall::{Errno, NotSupported};

use crate::fd_leak::check_fd_leaks;
use crate::report::{kernel_version, skip};

/// What a kernel test body returns: use `?` on any fallible call.
pub type TestResult = Result<(), Box<dyn Error>>;

/// With this variable set to `1`, a kernel test run without privileges fails
/// instead of skipping (CI sets it: a green run must have touched the kernel).
pub const REQUIRE_ROOT_ENV: &str = "EBPF_TEST_REQUIRE_ROOT";

/// Set this variable to let a probe report "not supported" on a kernel that is
/// new enough for the feature (e.g. a distribution kernel with it configured
/// out, where the configuration cannot be read to prove it).
pub const ALLOW_MISSING_ENV: &str = "EBPF_TEST_ALLOW_MISSING";

/// Why a failed body does not fail the test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Skip, printing this reason.
    Skip(String),
    /// Fail with this message.
    Fail(String),
}

/// Runs a kernel test.
///
/// - Without root (or `CAP_BPF` + `CAP_PERFMON` + `CAP_NET_ADMIN`, or
///   `CAP_SYS_ADMIN`) it prints `SKIP <test>: needs root` and returns; with
///   `EBPF_TEST_REQUIRE_ROOT=1` it fails instead.
/// - The body runs inside [`check_fd_leaks`].
/// - An error from the body is a visible skip when it is (or wraps) a
///   [`NotSupported`] for a feature newer than the running kernel or one the
///   kernel was built without, or a refusal by policy (`EPERM`: lockdown, a
///   missing capability, an LSM). Any other error fails the test, with its
///   whole chain of causes.
/// - A normal pass prints nothing.
///
/// ```no_run
/// use ebpf_test_support::{TestResult, kernel_test};
///
/// #[test]
/// fn creates_a_map() {
///     kernel_test(|| {
///         let spec = ebpf::MapSpec::new("m", ebpf::MapType::ARRAY, 4, 8, 1);
///         let map = ebpf::Map::create(&spec)?;
///         assert_eq!(map.max_entries(), 1);
///         Ok(())
///     });
/// }
/// ```
#[track_caller]
pub fn kernel_test(body: impl FnOnce() -> TestResult) {
    // Inside the leak check, which runs one body at a time: reading
    // /proc/self/status opens a file that another test's check would see.
    let Err(err) = check_fd_leaks(|| {
        if has_privileges() {
            // Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; raise it
            // as the loader does, so tests of the raw layer see the same limits.
            ebpf_syscall::remove_memlock_rlimit()?;
            return body();
        }
        let why = "needs root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN)";
        assert!(
            !require_root(),
            "{why}, and {REQUIRE_ROOT_ENV}=1 says this run must test the kernel"
        );
        skip(why);
        Ok(())
    }) else {
        return;
    };
    match verdict(&*err) {
        Verdict::Skip(reason) => skip(reason),
        Verdict::Fail(message) => panic!("{message}"),
    }
}

/// Whether this process may use `bpf()` fully.
pub fn has_privileges() -> bool {
    ebpf_syscall::has_bpf_capabilities().unwrap_or_else(|| nix::unistd::geteuid().is_root())
}

/// Whether [`REQUIRE_ROOT_ENV`] is set to `1`.
pub fn require_root() -> bool {
    std::env::var(REQUIRE_ROOT_ENV).is_ok_and(|v| v == "1")
}

/// What the test does with `err`.
pub(crate) fn verdict(err: &(dyn Error + 'static)) -> Verdict {
    let found = classify(err);
    if found.permission_denied {
        return Verdict::Skip(format!("refused by policy: {}", chain(err)));
    }
    match found.not_supported {
        Some(ns) => not_supported_verdict(&ns),
        None => Verdict::Fail(chain(err)),
    }
}

/// Skip a [`NotSupported`] when the kernel is older than the feature, or was
/// built without it; fail when the kernel should have it.
pub(crate) fn not_supported_verdict(ns: &NotSupported) -> Verdict {
    let running = kernel_version();
    if ns.missing_config.is_some() {
        return Verdict::Skip(format!("{ns} (running {running})"));
    }
    if running >= ns.min_kernel && std::env::var_os(ALLOW_MISSING_ENV).is_none() {
        return Verdict::Fail(format!(
            "{ns}, but the running kernel is {running}: the probe or the declared minimum \
             is wrong (set {ALLOW_MISSING_ENV}=1 if this kernel has the feature configured out)"
        ));
    }
    Verdict::Skip(format!("{ns} (running {running})"))
}

#[derive(Default)]
pub(crate) struct Found {
    pub(crate) not_supported: Option<NotSupported>,
    pub(crate) permission_denied: bool,
}

/// Looks through `err` and its sources for a missing feature or a refusal by
/// policy, asking each layer's error type as well as the plain types (a
/// [`NotSupported`] inside an `#[error(transparent)]` variant is no link of
/// the chain of its own: the layer's `not_supported()` finds it).
pub(crate) fn classify(err: &(dyn Error + 'static)) -> Found {
    let mut found = Found::default();
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(ns) = e.downcast_ref::<NotSupported>() {
            found.not_supported.get_or_insert_with(|| ns.clone());
        } else if let Some(e) = e.downcast_ref::<ebpf_link::Error>() {
            found.permission_denied |= e.is_permission_denied();
            if let Some(ns) = e.not_supported() {
                found.not_supported.get_or_insert_with(|| ns.clone());
            }
        } else if let Some(e) = e.downcast_ref::<ebpf::Error>() {
            found.permission_denied |= e.is_permission_denied();
            if let Some(ns) = e.not_supported() {
                found.not_supported.get_or_insert_with(|| ns.clone());
            }
        } else if let Some(e) = e.downcast_ref::<ebpf_syscall::Error>() {
            found.permission_denied |= e.errno() == Some(Errno::PERM);
            if let Some(ns) = e.not_supported() {
                found.not_supported.get_or_insert_with(|| ns.clone());
            }
        } else if let Some(e) = e.downcast_ref::<ebpf::features::FeatureError>() {
            found.permission_denied |= e.errno() == Some(Errno::PERM);
            if let Some(ns) = e.not_supported() {
                found.not_supported.get_or_insert_with(|| ns.clone());
            }
        } else if let Some(ebpf::ringbuf::ReaderError::NotSupported(ns)) = e.downcast_ref() {
            found.not_supported.get_or_insert_with(|| ns.clone());
        }
        cur = e.source();
    }
    found
}

/// `err` and its causes, each on its own line.
pub(crate) fn chain(err: &(dyn Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let _ = write!(out, "\n  caused by: {e}");
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebpf_syscall::KernelVersion;

    /// `verdict`, run as kernel test bodies run: reading the kernel's version and config
    /// opens files, which a leak check running at the same time would count as its own.
    fn locked_verdict(err: &(dyn Error + 'static)) -> Verdict {
        crate::fd_leak::check_fd_leaks(|| verdict(err))
    }

    #[derive(Debug, thiserror::Error)]
    #[error("load program 'x'")]
    struct Wrapper(#[source] NotSupported);

    #[test]
    fn future_feature_is_a_skip() {
        let err = Wrapper(NotSupported::new("thing", KernelVersion::new(99, 0, 0)));
        assert!(matches!(locked_verdict(&err), Verdict::Skip(r) if r.contains("thing")));
    }

    #[test]
    fn old_feature_missing_on_a_new_kernel_fails() {
        let err = Wrapper(NotSupported::new("thing", KernelVersion::new(3, 0, 0)));
        if std::env::var_os(ALLOW_MISSING_ENV).is_none() {
            assert!(
                matches!(locked_verdict(&err), Verdict::Fail(m) if m.contains("the probe or the declared minimum"))
            );
        }
    }

    #[test]
    fn a_configured_out_feature_is_a_skip_on_any_kernel() {
        let mut ns = NotSupported::new("thing", KernelVersion::new(3, 0, 0));
        ns.missing_config = Some("CONFIG_THING".into());
        assert!(
            matches!(locked_verdict(&Wrapper(ns)), Verdict::Skip(r) if r.contains("built without CONFIG_THING"))
        );
    }

    #[test]
    fn permission_denied_is_a_skip_naming_the_refusal() {
        let err = ebpf::Error::Program {
            name: "p".into(),
            op: "load",
            source: Box::new(ebpf::Error::PermissionDenied {
                what: "BPF_PROG_LOAD".into(),
                errno: Errno::PERM,
                hint: "locked down".into(),
            }),
        };
        assert!(
            matches!(locked_verdict(&err), Verdict::Skip(r) if r.starts_with("refused by policy: program 'p'"))
        );
        let raw = ebpf_syscall::Error::Bpf {
            cmd: ebpf_syscall::Cmd::PROG_LOAD,
            errno: Errno::PERM,
        };
        assert!(matches!(locked_verdict(&raw), Verdict::Skip(_)));
    }

    #[test]
    fn other_errors_fail_with_their_causes() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let err = Outer(std::io::Error::other("boom"));
        assert_eq!(
            locked_verdict(&err),
            Verdict::Fail("outer\n  caused by: boom".into())
        );
    }
}
