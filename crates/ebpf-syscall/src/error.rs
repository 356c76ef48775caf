//! The crate's error type.

use crate::{Cmd, Errno, NotSupported, VerifierLog};

/// An error from this crate: a failed `bpf()` command (naming the command), a
/// rejected load with its log, a failed non-`bpf` call, or a missing feature.
///
/// ```
/// use ebpf_syscall::{Cmd, Errno, Error};
/// let e = Error::Bpf { cmd: Cmd::MAP_CREATE, errno: Errno::INVAL };
/// assert_eq!(e.to_string(), "BPF_MAP_CREATE: Invalid argument (EINVAL)");
/// assert_eq!(e.errno(), Some(Errno::INVAL));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `bpf()` command failed.
    #[error("{cmd}: {errno}{hint}", hint = hint(*errno))]
    Bpf {
        /// The command.
        cmd: Cmd,
        /// What the kernel returned.
        errno: Errno,
    },
    /// `BPF_PROG_LOAD` or `BPF_BTF_LOAD` failed; the kernel's log explains why.
    #[error("{cmd}: {errno}{hint}\n{log}", hint = hint(*errno))]
    Load {
        /// The command.
        cmd: Cmd,
        /// What the kernel returned.
        errno: Errno,
        /// The verifier's (or BTF checker's) log of the failed attempt.
        log: VerifierLog,
    },
    /// Another system call failed (`perf_event_open`, `mmap`, `ioctl`, ...).
    #[error("{call}: {errno}")]
    Syscall {
        /// What was called, e.g. `"perf_event_open"` or `"ioctl(PERF_EVENT_IOC_SET_BPF)"`.
        call: &'static str,
        /// What the kernel returned.
        errno: Errno,
    },
    /// The running kernel lacks a feature.
    ///
    /// Not `transparent`: the [`NotSupported`] is this error's `source()`, so
    /// code walking the source chain (such as the test helpers) finds it.
    #[error("{0}")]
    NotSupported(#[from] NotSupported),
    /// Reading or writing a kernel file (tracefs, sysfs, procfs) failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, including the path.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An argument cannot be passed to the kernel (name too long, NUL inside a
    /// path, buffer sizes that do not match, ...). Nothing was called.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A buffer given to a map element or batch operation does not have the
    /// size the kernel uses for it (from the map's key and value sizes; see
    /// [`MapFd`](crate::MapFd)). Nothing was called.
    #[error("{buffer} has {given} bytes, the map needs {expected}")]
    BufferSize {
        /// Which buffer.
        buffer: MapBuffer,
        /// The size the kernel uses.
        expected: usize,
        /// The size given.
        given: usize,
    },
}

/// A buffer of a map operation, named by [`Error::BufferSize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MapBuffer {
    /// The key (`key_size` bytes; empty for queue, stack and bloom filter maps).
    Key,
    /// The value (`value_size` bytes; per-CPU maps: one 8-byte-aligned value per possible CPU).
    Value,
    /// The buffer receiving the next key (`key_size` bytes).
    NextKey,
    /// The keys of a batch (`count` keys).
    Keys,
    /// The values of a batch (`count` values).
    Values,
    /// The position a batch continues from (`in_batch`).
    InBatch,
    /// The buffer receiving the position to continue from (`out_batch`).
    OutBatch,
}

impl core::fmt::Display for MapBuffer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Key => "key",
            Self::Value => "value",
            Self::NextKey => "next key buffer",
            Self::Keys => "keys buffer",
            Self::Values => "values buffer",
            Self::InBatch => "in_batch",
            Self::OutBatch => "out_batch",
        })
    }
}

impl Error {
    /// The kernel's error number, if this error came from a system call.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Self::Bpf { errno, .. } | Self::Load { errno, .. } | Self::Syscall { errno, .. } => {
                Some(*errno)
            }
            Self::Io { source, .. } => source.raw_os_error().map(Errno),
            Self::NotSupported(_) | Self::InvalidArgument(_) | Self::BufferSize { .. } => None,
        }
    }

    /// The verifier log, for a failed load.
    pub fn log(&self) -> Option<&VerifierLog> {
        match self {
            Self::Load { log, .. } => Some(log),
            _ => None,
        }
    }

    pub(crate) fn bpf(cmd: Cmd) -> impl FnOnce(Errno) -> Self {
        move |errno| Self::Bpf { cmd, errno }
    }

    pub(crate) fn syscall(call: &'static str) -> impl FnOnce(nix::errno::Errno) -> Self {
        move |errno| Self::Syscall {
            call,
            errno: errno.into(),
        }
    }

    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}

/// Extra words for errors whose cause is usually outside the attr.
fn hint(errno: Errno) -> String {
    if errno == Errno::PERM {
        format!("; {}", crate::eperm_hint(None))
    } else {
        String::new()
    }
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KernelVersion;

    #[test]
    fn not_supported_is_the_source() {
        let e = Error::from(NotSupported::new("x", KernelVersion::new(9, 9, 0)));
        let src = std::error::Error::source(&e).expect("a source");
        assert!(src.downcast_ref::<NotSupported>().is_some());
        assert_eq!(e.to_string(), src.to_string());
    }

    #[test]
    fn eperm_has_a_hint() {
        let e = Error::Bpf {
            cmd: Cmd::PROG_LOAD,
            errno: Errno::PERM,
        };
        let s = e.to_string();
        assert!(s.starts_with("BPF_PROG_LOAD: Operation not permitted (EPERM); "));
        assert!(s.len() > "BPF_PROG_LOAD: Operation not permitted (EPERM); ".len());
    }
}
