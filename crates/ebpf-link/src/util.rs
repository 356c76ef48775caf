//! Small helpers shared by the link kinds.

use ebpf::Program;
use ebpf_syscall::{Errno, KernelVersion, NotSupported};

use crate::error::{Error, Result};

/// Whether the running kernel is at least `major.minor` (true if unknown).
pub(crate) fn kernel_at_least(major: u32, minor: u32) -> bool {
    match ebpf_syscall::current_kernel() {
        Ok(v) => v >= KernelVersion::new(major, minor, 0),
        Err(_) => true,
    }
}

/// Whether `BPF_LINK_DETACH` exists (5.9).
pub(crate) fn have_link_detach() -> bool {
    kernel_at_least(5, 9)
}

/// `NotSupported` for `feature`, new in `major.minor`.
pub(crate) fn not_supported(feature: impl Into<String>, major: u32, minor: u32) -> Error {
    NotSupported::new(feature, KernelVersion::new(major, minor, 0)).into()
}

/// Checks that `program` is one of `types`.
pub(crate) fn expect_program_type(
    program: &Program,
    types: &[ebpf::ProgramType],
    what: &str,
) -> Result<()> {
    if types.contains(&program.program_type()) {
        Ok(())
    } else {
        Err(Error::WrongProgramType {
            found: program.program_type(),
            expected: types
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" or "),
            hook: what.to_owned(),
        })
    }
}

/// Maps a `BPF_LINK_CREATE` failure: `EINVAL` on a kernel without the link
/// kind (the probe says so) becomes `NotSupported`.
pub(crate) fn link_create_error(e: ebpf_syscall::Error, kind: ebpf::features::LinkKind) -> Error {
    if matches!(e.errno(), Some(Errno::INVAL)) || e.errno().is_some_and(Errno::is_not_supported) {
        if let Err(ebpf::features::FeatureError::NotSupported(ns)) =
            ebpf::features::have_link_kind(kind)
        {
            return ns.into();
        }
    }
    e.into()
}

/// Probes a link kind: `Ok(true)` supported, `Ok(false)` missing (with the
/// `NotSupported` to report), an undecided probe counts as supported (the
/// real call then reports the kernel's answer).
pub(crate) fn probe_link(kind: ebpf::features::LinkKind) -> Result<(), NotSupported> {
    match ebpf::features::have_link_kind(kind) {
        Err(ebpf::features::FeatureError::NotSupported(ns)) => Err(ns),
        _ => Ok(()),
    }
}

/// A C string from `s`, or `InvalidArgument`.
pub(crate) fn cstring(what: &str, s: &str) -> Result<std::ffi::CString> {
    std::ffi::CString::new(s)
        .map_err(|_| Error::InvalidArgument(format!("{what} '{s}' contains a NUL byte")))
}
