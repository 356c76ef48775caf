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
    #[error("{}: {errno}{hint}", command(*cmd), hint = hint(*errno))]
    Bpf {
        /// The command.
        cmd: Cmd,
        /// What the kernel returned.
        errno: Errno,
    },
    /// `BPF_PROG_LOAD` or `BPF_BTF_LOAD` failed; the kernel's log explains why.
    #[error("{}: {errno}{hint}\n{log}", command(*cmd), hint = hint(*errno))]
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
    /// `transparent`: it prints the [`NotSupported`] once; find it with
    /// [`Error::not_supported`] (the wrappers of the crates above have the
    /// same accessor).
    #[error(transparent)]
    NotSupported(#[from] NotSupported),
    /// Reading or writing a kernel file (tracefs, sysfs, procfs) failed.
    ///
    /// Its message is `what` alone; the I/O error is its `source()`.
    #[error("{what}")]
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

    /// The [`NotSupported`] this error is.
    pub fn not_supported(&self) -> Option<&NotSupported> {
        match self {
            Self::NotSupported(ns) => Some(ns),
            _ => None,
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
/// A command as strace and the kernel's headers spell it (`BPF_MAP_CREATE`).
pub(crate) fn command(cmd: Cmd) -> String {
    cmd.kernel_name()
        .map_or_else(|| format!("bpf command {}", cmd.0), str::to_owned)
}

fn hint(errno: Errno) -> String {
    if errno == Errno::PERM {
        format!("; {}", crate::eperm_hint(None))
    } else {
        String::new()
    }
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Prints an error and each of its causes once, joined with `": "`: the
/// whole message of an error of this workspace, whose wrappers show only
/// their own context and leave the cause to
/// [`source`](std::error::Error::source).
///
/// `anyhow`'s `{:#}` prints the same; this is for code without `anyhow`
/// (libraries, log lines).
///
/// ```
/// use ebpf_syscall::{Error, ErrorChain};
/// let e = Error::Io {
///     what: "read /sys/kernel/tracing/events/x/id".into(),
///     source: std::io::Error::from_raw_os_error(2),
/// };
/// assert_eq!(e.to_string(), "read /sys/kernel/tracing/events/x/id");
/// assert!(ErrorChain(&e).to_string().starts_with(
///     "read /sys/kernel/tracing/events/x/id: No such file or directory"
/// ));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl core::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KernelVersion;

    #[test]
    fn not_supported_prints_once() {
        let e = Error::from(NotSupported::new("x", KernelVersion::new(9, 9, 0)));
        assert!(e.not_supported().is_some());
        assert!(std::error::Error::source(&e).is_none());
        assert_eq!(ErrorChain(&e).to_string(), e.to_string());
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
