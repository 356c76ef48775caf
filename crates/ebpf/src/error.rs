//! The error type of the object layer.
//!
//! Errors read like a path from the object to the cause:
//! `program 'tp_getpid': load: verifier rejected the program (EACCES): ...`.
//! Each wrapper's message is only its own context (`program 'tp_getpid':
//! load`); the cause is its [`source`](std::error::Error::source). Print the
//! whole chain with [`ErrorChain`](crate::ErrorChain) (or `anyhow`'s `{:#}`),
//! which shows each cause once.
//!
//! A missing kernel feature is a [`NotSupported`] at any depth: ask
//! [`Error::not_supported`] (as `ebpf_test_support::skip_if_not_supported`
//! does) rather than downcasting the chain, where a transparent variant is no
//! link of its own; a refusal by policy is [`Error::PermissionDenied`], never
//! `NotSupported`.
//!
//! ```
//! use ebpf::Error;
//! let e = Error::InvalidArgument("key of 3 bytes, map has 4".into());
//! assert_eq!(e.to_string(), "invalid argument: key of 3 bytes, map has 4");
//! ```

use core::fmt;

use ebpf_syscall::{Errno, NotSupported, VerifierLog};

use crate::reader_error::ReaderError;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// An error of the object layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed (the error names the `bpf()` command and errno).
    #[error(transparent)]
    Syscall(ebpf_syscall::Error),
    /// The running kernel lacks a feature.
    #[error(transparent)]
    NotSupported(#[from] NotSupported),
    /// The verifier rejected a program; carries the whole log.
    #[error(transparent)]
    Verifier(#[from] Box<VerifierError>),
    /// The kernel refused by policy (`EPERM`): a missing capability, lockdown, or memlock.
    #[error("{what}: {errno}: refused by policy, not by a missing feature: {hint}")]
    #[doc(alias = "EPERM")]
    PermissionDenied {
        /// What was refused (`BPF_PROG_LOAD of a tracing program`, ...).
        what: String,
        /// Always `EPERM` (or `EACCES` for some paths).
        errno: Errno,
        /// The likely cause.
        hint: String,
    },
    /// A map operation failed.
    #[error("map '{name}': {op}")]
    Map {
        /// The map's name.
        name: String,
        /// The operation (`create`, `update`, `pin`, ...).
        op: &'static str,
        /// The cause.
        #[source]
        source: Box<Error>,
    },
    /// A program operation failed.
    #[error("program '{name}': {op}")]
    Program {
        /// The program's name.
        name: String,
        /// The operation (`load`, `test run`, `pin`, ...).
        op: &'static str,
        /// The cause.
        #[source]
        source: Box<Error>,
    },
    /// A step of loading a collection failed.
    #[error("{what}")]
    Context {
        /// What was being done (`kconfig`, `ksym 'bpf_prog_active'`, ...).
        what: String,
        /// The cause.
        #[source]
        source: Box<Error>,
    },
    /// A map given as a replacement does not match its spec.
    #[error("map '{name}': replacement is incompatible: {diff}")]
    IncompatibleMap {
        /// The map's name.
        name: String,
        /// What differs, e.g. `key size 4 != 8`.
        diff: String,
    },
    /// Something named does not exist.
    #[error("{kind} '{name}' not found")]
    NotFound {
        /// `map`, `program`, `variable`, `kernel symbol`, ...
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// The spec is malformed or over a limit, or an object file could not be
    /// read into a spec (a skeleton's `open()`); see [`ebpf_spec::Error`].
    #[error(transparent)]
    Spec(#[from] ebpf_spec::Error),
    /// BTF could not be parsed, relocated or marshalled (its messages start
    /// with `btf:`).
    #[error(transparent)]
    Btf(#[from] ebpf_btf::Error),
    /// A CO-RE relocation could not be computed or applied (an ambiguous
    /// candidate, a malformed accessor, ...). Unsatisfiable relocations are
    /// not errors: they poison their instruction.
    #[error("CO-RE")]
    Core(#[source] ebpf_btf::core::CoreError),
    /// Instructions could not be encoded.
    #[error("instructions")]
    Asm(#[from] ebpf_asm::Error),
    /// Reading a file (config, kallsyms, pins) failed.
    #[error("{path}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A ring buffer or perf reader could not be set up.
    #[error(transparent)]
    Reader(#[from] ReaderError),
    /// An argument does not fit the object (wrong key size, bad name, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl From<ebpf_syscall::Error> for Error {
    fn from(e: ebpf_syscall::Error) -> Self {
        match e {
            // Keep NotSupported itself in the chain (the syscall error is transparent).
            ebpf_syscall::Error::NotSupported(ns) => Error::NotSupported(ns),
            other => Error::Syscall(other),
        }
    }
}

impl Error {
    /// The kernel's error number, if a system call failed.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Syscall(e) => e.errno(),
            Error::Reader(ReaderError::Syscall { source, .. }) => source.errno(),
            Error::Verifier(v) => Some(v.errno),
            Error::PermissionDenied { errno, .. } => Some(*errno),
            Error::Map { source, .. }
            | Error::Program { source, .. }
            | Error::Context { source, .. } => source.errno(),
            Error::Io { source, .. } => source.raw_os_error().map(Errno),
            _ => None,
        }
    }

    /// The [`NotSupported`] this error is or wraps.
    pub fn not_supported(&self) -> Option<&NotSupported> {
        match self {
            Error::NotSupported(ns) | Error::Reader(ReaderError::NotSupported(ns)) => Some(ns),
            Error::Syscall(e) => e.not_supported(),
            Error::Map { source, .. }
            | Error::Program { source, .. }
            | Error::Context { source, .. } => source.not_supported(),
            _ => None,
        }
    }

    /// The [`VerifierError`] this error is or wraps.
    pub fn verifier(&self) -> Option<&VerifierError> {
        match self {
            Error::Verifier(v) => Some(v),
            Error::Map { source, .. }
            | Error::Program { source, .. }
            | Error::Context { source, .. } => source.verifier(),
            _ => None,
        }
    }

    /// The [`ebpf_btf::core::CoreError`] this error is or wraps.
    pub fn core(&self) -> Option<&ebpf_btf::core::CoreError> {
        match self {
            Error::Core(c) => Some(c),
            Error::Map { source, .. }
            | Error::Program { source, .. }
            | Error::Context { source, .. } => source.core(),
            _ => None,
        }
    }

    /// Whether this is (or wraps) a refusal by policy ([`Error::PermissionDenied`]).
    pub fn is_permission_denied(&self) -> bool {
        match self {
            Error::PermissionDenied { .. } => true,
            Error::Map { source, .. }
            | Error::Program { source, .. }
            | Error::Context { source, .. } => source.is_permission_denied(),
            _ => false,
        }
    }

    pub(crate) fn map<'a>(name: &'a str, op: &'static str) -> impl FnOnce(Error) -> Error + 'a {
        move |e| Error::Map {
            name: name.to_owned(),
            op,
            source: Box::new(e),
        }
    }

    pub(crate) fn program<'a>(name: &'a str, op: &'static str) -> impl FnOnce(Error) -> Error + 'a {
        move |e| Error::Program {
            name: name.to_owned(),
            op,
            source: Box::new(e),
        }
    }

    pub(crate) fn context(what: impl Into<String>) -> impl FnOnce(Error) -> Error {
        let what = what.into();
        move |e| Error::Context {
            what,
            source: Box::new(e),
        }
    }

    pub(crate) fn io(path: impl fmt::Display) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.to_string();
        move |source| Error::Io { path, source }
    }
}

/// The verifier rejected a program.
///
/// Carries the whole [`VerifierLog`]; `Display` shows its last lines (where the
/// verifier explains itself) and, when a CO-RE relocation could not be
/// applied and the program reached it, which one.
#[derive(Debug, Clone)]
pub struct VerifierError {
    /// What the kernel returned (`EACCES`, `EINVAL`, ...).
    pub errno: Errno,
    /// The verifier's log of the failed attempt.
    pub log: VerifierLog,
    /// A poisoned CO-RE relocation the program reached, if any.
    pub poisoned_relocation: Option<String>,
}

impl fmt::Display for VerifierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "verifier rejected the program: {}", self.errno)?;
        if let Some(relo) = &self.poisoned_relocation {
            write!(
                f,
                "; the program reached a CO-RE relocation that could not be applied: {relo}"
            )?;
        }
        write!(f, "\n{}", self.log)
    }
}

impl std::error::Error for VerifierError {}
