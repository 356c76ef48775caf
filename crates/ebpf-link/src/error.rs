//! The crate's error type.
//!
//! Errors read like a path from the attachment to the cause:
//! `attach program 'tp_getpid' to tracepoint syscalls/sys_enter_getpid:
//! perf_event_open: No such file or directory (ENOENT)`.
//!
//! Each wrapper's message is its own context (`attach program 'tp_getpid'
//! to tracepoint syscalls/sys_enter_getpid`) and the cause is its
//! [`source`](std::error::Error::source): print the whole chain with
//! [`ErrorChain`](crate::ErrorChain) or `anyhow`'s `{:#}`, which show each
//! cause once.
//!
//! A missing kernel feature is [`Error::NotSupported`] (find it anywhere in
//! the chain with [`Error::not_supported`], as the test helpers do); a
//! refusal by policy (`EPERM`: lockdown, missing `CAP_BPF`/`CAP_PERFMON`) is
//! [`Error::PermissionDenied`], never `NotSupported`.
//!
//! ```
//! use ebpf_link::Error;
//! let e = Error::InvalidArgument("tracepoint name 'a/b/c'".into());
//! assert_eq!(e.to_string(), "invalid argument: tracepoint name 'a/b/c'");
//! ```

use ebpf_syscall::{Errno, NotSupported};

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// An error of the link layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Attaching a program failed; `target` names the attach point
    /// (`tracepoint syscalls/sys_enter_getpid`, `cgroup /sys/fs/cgroup/x (BPF_CGROUP_INET_EGRESS)`).
    #[error("attach program '{program}' to {target}")]
    Attach {
        /// The program's name.
        program: String,
        /// The attach point.
        target: String,
        /// The cause.
        #[source]
        source: Box<Error>,
    },
    /// An operation on an existing link failed (`pin`, `update`, `detach`, `info`, ...).
    #[error("{op} {kind} link")]
    Link {
        /// The operation.
        op: &'static str,
        /// The link kind (`tracepoint`, `cgroup`, ...).
        kind: &'static str,
        /// The cause.
        #[source]
        source: Box<Error>,
    },
    /// A system call failed (the error names the call and the errno).
    #[error(transparent)]
    Syscall(ebpf_syscall::Error),
    /// The running kernel lacks a feature.
    #[error(transparent)]
    NotSupported(#[from] NotSupported),
    /// The kernel refused by policy: `EPERM` (lockdown, or a missing capability).
    #[error("{what}: {errno}: refused by policy, not by a missing feature: {hint}")]
    #[doc(alias = "EPERM")]
    PermissionDenied {
        /// What was refused (`BPF_LINK_CREATE`, `perf_event_open`, ...).
        what: String,
        /// `EPERM` (or `EACCES`).
        errno: Errno,
        /// The likely cause.
        hint: String,
    },
    /// An error of the object layer (a program or map operation).
    #[error(transparent)]
    Object(ebpf::Error),
    /// The link kind cannot do this at all (pinning a socket filter, updating
    /// an ioctl-attached perf event, ...), on any kernel.
    #[error("{op} is not possible for a {kind} attachment: {why}")]
    Unsupported {
        /// The operation.
        op: &'static str,
        /// The link kind.
        kind: &'static str,
        /// Why.
        why: &'static str,
    },
    /// A symbol was not found in a binary's symbol tables.
    #[error("symbol '{symbol}' not found in {binary}")]
    SymbolNotFound {
        /// The binary.
        binary: String,
        /// The symbol.
        symbol: String,
    },
    /// A binary has no USDT probe of this provider and name.
    #[error("no USDT probe {provider}:{name} in {binary}")]
    UsdtNotFound {
        /// The binary.
        binary: String,
        /// The provider.
        provider: String,
        /// The probe's name.
        name: String,
    },
    /// A binary could not be parsed as ELF.
    #[error("parse ELF {binary}: {message}")]
    Elf {
        /// The binary.
        binary: String,
        /// What went wrong.
        message: String,
    },
    /// Reading a file (binary, sysfs, iterator output) failed.
    #[error("{what}")]
    Io {
        /// What was being done, with the path.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An argument does not fit the attach point (bad name, missing attach
    /// target, ...). Nothing was attached.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The program's type does not fit the hook. Nothing was attached.
    #[error("a {found} program cannot be attached as {hook} (needs {expected})")]
    WrongProgramType {
        /// The program's type.
        found: ebpf::ProgramType,
        /// The type(s) the hook takes (`sched_cls`, `xdp`, ...).
        expected: String,
        /// The hook (`tc`, `XDP`, ...).
        hook: String,
    },
    /// No network interface has this name or index in the calling thread's
    /// network namespace.
    #[error("no network interface {interface} in this network namespace")]
    NoSuchInterface {
        /// The name or index asked for.
        interface: String,
    },
    /// An rtnetlink request failed. `message` is the kernel's own
    /// explanation (its extended ack), when it gave one.
    #[error("{op}: {errno}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Netlink {
        /// The request (`RTM_NEWTFILTER`, `RTM_SETLINK`, ...).
        op: &'static str,
        /// The kernel's answer.
        errno: Errno,
        /// The extended ack message.
        message: Option<String>,
    },
    /// A qdisc of another kind holds the place (`ffff:`) that `clsact` needs.
    #[error(
        "{interface} (ifindex {ifindex}) has a '{kind}' qdisc where clsact goes (handle ffff:); \
         cls_bpf filters need clsact: remove it first (tc qdisc del dev {interface} {kind})"
    )]
    QdiscInTheWay {
        /// The interface's name.
        interface: String,
        /// Its index.
        ifindex: u32,
        /// The kind of the qdisc in the way (`ingress`, ...).
        kind: String,
    },
    /// A tc filter already sits where the new one would go: the same
    /// priority and handle, or the same priority with another filter kind or
    /// protocol.
    #[error(
        "tc {hook} of {interface} (ifindex {ifindex}) already has a filter at priority {priority}: {existing}"
    )]
    FilterExists {
        /// The interface's name.
        interface: String,
        /// Its index.
        ifindex: u32,
        /// `ingress` or `egress`.
        hook: &'static str,
        /// The priority asked for.
        priority: u16,
        /// What is there (`bpf filter 'x' (program 12), handle 0x1, protocol all`).
        existing: String,
    },
    /// The hook already runs a program and this call may not replace it
    /// (XDP with `UPDATE_IF_NOEXIST`, or a program held by another link).
    #[error("{hook} of {interface} (ifindex {ifindex}) already runs program {program_id}: {why}")]
    HookBusy {
        /// The interface's name.
        interface: String,
        /// Its index.
        ifindex: u32,
        /// The hook (`XDP (generic mode)`, ...).
        hook: String,
        /// The id of the program there (0: unknown).
        program_id: u32,
        /// Why it cannot be replaced.
        why: &'static str,
    },
    /// A replace-if-still-there found another program than the expected one:
    /// someone else attached in between. Nothing was changed.
    #[error(
        "{hook} of {interface} (ifindex {ifindex}) runs program {found}, not the expected {expected}: another program took its place"
    )]
    ProgramReplaced {
        /// The interface's name.
        interface: String,
        /// Its index.
        ifindex: u32,
        /// The hook.
        hook: String,
        /// The id of the program that was expected (0: none).
        expected: u32,
        /// The id of the program found (0: none).
        found: u32,
    },
}

impl From<ebpf_syscall::Error> for Error {
    fn from(e: ebpf_syscall::Error) -> Self {
        match e {
            ebpf_syscall::Error::NotSupported(ns) => Error::NotSupported(ns),
            other => match other.errno() {
                Some(errno) if errno == Errno::PERM => Error::PermissionDenied {
                    what: call_name(&other),
                    errno,
                    hint: ebpf_syscall::eperm_hint(None),
                },
                _ => Error::Syscall(other),
            },
        }
    }
}

impl From<ebpf::Error> for Error {
    fn from(e: ebpf::Error) -> Self {
        match e {
            ebpf::Error::NotSupported(ns) => Error::NotSupported(ns),
            other => Error::Object(other),
        }
    }
}

/// The call an `ebpf_syscall::Error` names, without the errno.
fn call_name(e: &ebpf_syscall::Error) -> String {
    match e {
        ebpf_syscall::Error::Bpf { cmd, .. } | ebpf_syscall::Error::Load { cmd, .. } => cmd
            .kernel_name()
            .map_or_else(|| format!("bpf command {}", cmd.0), str::to_owned),
        ebpf_syscall::Error::Syscall { call, .. } => (*call).to_owned(),
        ebpf_syscall::Error::Io { what, .. } => what.clone(),
        other => other.to_string(),
    }
}

impl Error {
    /// The kernel's error number, if a system call failed.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Syscall(e) => e.errno(),
            Error::PermissionDenied { errno, .. } => Some(*errno),
            Error::Object(e) => e.errno(),
            Error::Attach { source, .. } | Error::Link { source, .. } => source.errno(),
            Error::Io { source, .. } => source.raw_os_error().map(Errno),
            Error::Netlink { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// The [`NotSupported`] this error is or wraps.
    pub fn not_supported(&self) -> Option<&NotSupported> {
        match self {
            Error::NotSupported(ns) => Some(ns),
            Error::Syscall(e) => e.not_supported(),
            Error::Object(e) => e.not_supported(),
            Error::Attach { source, .. } | Error::Link { source, .. } => source.not_supported(),
            _ => None,
        }
    }

    /// Whether this is (or wraps) a refusal by policy (`EPERM`).
    pub fn is_permission_denied(&self) -> bool {
        match self {
            Error::PermissionDenied { .. } => true,
            Error::Object(e) => e.is_permission_denied(),
            Error::Attach { source, .. } | Error::Link { source, .. } => {
                source.is_permission_denied()
            }
            _ => false,
        }
    }

    pub(crate) fn attach(
        program: &ebpf::Program,
        target: impl FnOnce() -> String,
    ) -> impl FnOnce(Error) -> Error {
        let program = program.name().to_owned();
        let target = target();
        move |e| Error::Attach {
            program,
            target,
            source: Box::new(e),
        }
    }

    pub(crate) fn link(op: &'static str, kind: &'static str) -> impl FnOnce(Error) -> Error {
        move |e| Error::Link {
            op,
            kind,
            source: Box::new(e),
        }
    }

    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}

/// Converts a syscall result into this crate's result.
pub(crate) fn sys<T>(r: ebpf_syscall::Result<T>) -> Result<T> {
    r.map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebpf_syscall::Cmd;

    #[test]
    fn eperm_is_a_policy_refusal() {
        let e: Error = ebpf_syscall::Error::Bpf {
            cmd: Cmd::LINK_CREATE,
            errno: Errno::PERM,
        }
        .into();
        assert!(e.is_permission_denied());
        assert!(e.not_supported().is_none());
        let msg = e.to_string();
        assert!(
            msg.starts_with("BPF_LINK_CREATE: Operation not permitted (EPERM): refused by policy"),
            "{msg}"
        );
        assert!(msg.ends_with(&ebpf_syscall::eperm_hint(None)), "{msg}");
    }

    #[test]
    fn not_supported_stays_in_the_chain() {
        let ns = NotSupported::new("thing", ebpf_syscall::KernelVersion::new(9, 9, 0));
        let e = Error::Attach {
            program: "p".into(),
            target: "t".into(),
            source: Box::new(ebpf_syscall::Error::NotSupported(ns.clone()).into()),
        };
        assert_eq!(e.not_supported(), Some(&ns));
        assert_eq!(e.to_string(), "attach program 'p' to t");
        assert_eq!(
            ebpf_syscall::ErrorChain(&e).to_string(),
            "attach program 'p' to t: thing is not supported by the running kernel (requires Linux 9.9 or later)"
        );
    }

    #[test]
    fn other_errors_keep_the_call() {
        let e: Error = ebpf_syscall::Error::Syscall {
            call: "perf_event_open",
            errno: Errno::NOENT,
        }
        .into();
        assert_eq!(e.errno(), Some(Errno::NOENT));
        assert!(e.to_string().starts_with("perf_event_open: "));
    }
}
