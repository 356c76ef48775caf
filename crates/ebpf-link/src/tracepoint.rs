//! Tracepoints (`SEC("tracepoint/<group>/<name>")`): the event id from
//! tracefs, a `PERF_TYPE_TRACEPOINT` perf event, and a `BPF_PERF_EVENT`
//! bpf_link (5.15) or, on older kernels, the `PERF_EVENT_IOC_SET_BPF` ioctl.
//!
//! ```no_run
//! # fn f(prog: &ebpf::Program) -> ebpf_link::Result<()> {
//! let link = ebpf_link::tracepoint::attach(prog, "syscalls", "sys_enter_getpid")?;
//! // ... the program runs on every getpid() until `link` is dropped.
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 4.7 (ioctl); 5.15 for a bpf_link (pin, info, cookie).

use ebpf::{Program, ProgramType};
use ebpf_syscall::perf::PERF_TYPE_TRACEPOINT;
use ebpf_syscall::tracefs;

use crate::error::{Error, Result, sys};
use crate::perf_attach::{PerfAttachment, open_event, perf_link, probe_attr};
use crate::util::expect_program_type;

perf_link! {
    /// A program attached to a tracepoint. Dropping it detaches the program.
    ///
    /// # Minimum kernel version
    ///
    /// 4.7; a bpf_link (`BPF_LINK_TYPE_PERF_EVENT`) from 5.15.
    #[doc(alias = "BPF_LINK_TYPE_PERF_EVENT")]
    TracepointLink, "tracepoint"
}

/// Options of [`attach_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TracepointOptions {
    /// The value `bpf_get_attach_cookie()` returns (5.15).
    pub cookie: u64,
    /// Only this process (0: every process).
    pub pid: u32,
    /// Attach with `PERF_EVENT_IOC_SET_BPF` even when the kernel has perf
    /// event links (what kernels before 5.15 always get: no pin, no info).
    pub legacy_ioctl: bool,
}

/// Attaches a `BPF_PROG_TYPE_TRACEPOINT` program to tracepoint `group/name`.
///
/// # Minimum kernel version
///
/// 4.7.
pub fn attach(program: &Program, group: &str, name: &str) -> Result<TracepointLink> {
    attach_with(program, group, name, &TracepointOptions::default())
}

/// [`attach`] with options.
///
/// # Minimum kernel version
///
/// 4.7; a cookie 5.15.
pub fn attach_with(
    program: &Program,
    group: &str,
    name: &str,
    opts: &TracepointOptions,
) -> Result<TracepointLink> {
    attach_inner(program, group, name, opts).map_err(Error::attach(program, || {
        format!("tracepoint {group}/{name}")
    }))
}

fn attach_inner(
    program: &Program,
    group: &str,
    name: &str,
    opts: &TracepointOptions,
) -> Result<TracepointLink> {
    expect_program_type(program, &[ProgramType::TRACEPOINT], "a tracepoint")?;
    let id = sys(tracefs::tracepoint_id(group, name)).map_err(|e| match e {
        Error::Syscall(ebpf_syscall::Error::Io { what, source })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Error::InvalidArgument(format!("no tracepoint {group}/{name} ({what}: {source})"))
        }
        other => other,
    })?;
    let attr = probe_attr(PERF_TYPE_TRACEPOINT, id);
    let pid = if opts.pid == 0 { -1 } else { opts.pid as i32 };
    let event = open_event(&attr, pid)?;
    Ok(TracepointLink {
        inner: PerfAttachment::attach_how(program, event, opts.cookie, opts.legacy_ioctl)?,
        tracefs: None,
    })
}

/// Splits a section target `group/name` (`syscalls/sys_enter_getpid`).
pub(crate) fn split_target(target: &str) -> Result<(&str, &str)> {
    target
        .split_once('/')
        .or_else(|| target.split_once(':'))
        .filter(|(g, n)| !g.is_empty() && !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "tracepoint '{target}' is not of the form group/name"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_targets() {
        assert_eq!(
            split_target("syscalls/sys_enter_getpid").unwrap(),
            ("syscalls", "sys_enter_getpid")
        );
        assert_eq!(
            split_target("sched:sched_switch").unwrap(),
            ("sched", "sched_switch")
        );
        assert!(split_target("nogroup").is_err());
        assert!(split_target("a/b/c").is_err());
    }
}
