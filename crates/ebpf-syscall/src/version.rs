//! The running kernel's version.

use crate::{KernelVersion, ParseKernelVersionError};

/// The version of the running kernel, from `uname(2)`'s release string.
///
/// Distribution suffixes (`-fc-v769`, `+deb12`) are ignored. A version says what mainline
/// had; whether this kernel has a feature is for the feature probes to say (distributions
/// backport).
///
/// ```
/// let v = ebpf_syscall::current_kernel().unwrap();
/// assert!(v >= ebpf_syscall::KernelVersion::new(3, 0, 0));
/// ```
///
/// Read once per process (the release does not change while a process runs):
/// program loads ask for it every time, for `kern_version`.
pub fn current_kernel() -> Result<KernelVersion, ParseKernelVersionError> {
    static RUNNING: std::sync::OnceLock<Result<KernelVersion, ParseKernelVersionError>> =
        std::sync::OnceLock::new();
    RUNNING.get_or_init(read_uname).clone()
}

fn read_uname() -> Result<KernelVersion, ParseKernelVersionError> {
    let uts = nix::sys::utsname::uname().map_err(|_| ParseKernelVersionError {
        release: String::from("<uname failed>"),
    })?;
    uts.release().to_string_lossy().parse()
}
