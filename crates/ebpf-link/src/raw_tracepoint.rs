//! Raw tracepoints (`SEC("raw_tp/<name>")`, `SEC("raw_tracepoint.w/<name>")`)
//! and BTF-enabled raw tracepoints (`SEC("tp_btf/<name>")`), through
//! `BPF_RAW_TRACEPOINT_OPEN`.
//!
//! ```no_run
//! # fn f(prog: &ebpf::Program) -> ebpf_link::Result<()> {
//! let link = ebpf_link::raw_tracepoint::attach(prog, "sys_enter")?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 4.17; `tp_btf` 5.5; a cookie 6.10.

use ebpf::{AttachType, Program, ProgramType};

use crate::error::{Error, Result, sys};
use crate::link::{RawLink, fd_link};
use crate::util::{cstring, expect_program_type, kernel_at_least, not_supported};

fd_link! {
    /// A program attached to a raw tracepoint (or a `tp_btf` program).
    ///
    /// # Minimum kernel version
    ///
    /// 4.17 (`BPF_LINK_TYPE_RAW_TRACEPOINT`; `tp_btf` programs give a
    /// `BPF_LINK_TYPE_TRACING` link, 5.5).
    #[doc(alias = "BPF_LINK_TYPE_RAW_TRACEPOINT")]
    #[doc(alias = "BPF_RAW_TRACEPOINT_OPEN")]
    RawTracepointLink, "raw tracepoint", [RAW_TRACEPOINT, TRACING]
}

/// Attaches a raw tracepoint program to tracepoint `name` (`sys_enter`,
/// `sched_switch`, ...), or a `tp_btf` program to the tracepoint it was
/// loaded for (`name` is then ignored and may be empty).
///
/// # Minimum kernel version
///
/// 4.17; `tp_btf` 5.5.
pub fn attach(program: &Program, name: &str) -> Result<RawTracepointLink> {
    attach_with_cookie(program, name, 0)
}

/// [`attach`] with a cookie for `bpf_get_attach_cookie()`.
///
/// # Minimum kernel version
///
/// 6.10 for a non-zero cookie.
pub fn attach_with_cookie(program: &Program, name: &str, cookie: u64) -> Result<RawTracepointLink> {
    attach_inner(program, name, cookie)
        .map_err(Error::attach(program, || format!("raw tracepoint {name}")))
}

fn attach_inner(program: &Program, name: &str, cookie: u64) -> Result<RawTracepointLink> {
    expect_program_type(
        program,
        &[
            ProgramType::RAW_TRACEPOINT,
            ProgramType::RAW_TRACEPOINT_WRITABLE,
            ProgramType::TRACING,
        ],
        "a raw tracepoint",
    )?;
    if cookie != 0 && !kernel_at_least(6, 10) {
        return Err(not_supported("cookie for raw tracepoints", 6, 10));
    }
    let fd = if program.program_type() == ProgramType::TRACING {
        if program
            .attach_type()
            .is_some_and(|t| t != AttachType::TRACE_RAW_TP)
        {
            return Err(Error::InvalidArgument(
                "a tracing program that is not tp_btf: use the tracing module".into(),
            ));
        }
        sys(ebpf_syscall::raw_tracepoint_open(None, program, cookie))?
    } else {
        if name.is_empty() {
            return Err(Error::InvalidArgument("empty raw tracepoint name".into()));
        }
        let c = cstring("raw tracepoint", name)?;
        sys(ebpf_syscall::raw_tracepoint_open(Some(&c), program, cookie))?
    };
    Ok(RawTracepointLink {
        link: RawLink::from_fd(fd),
    })
}
