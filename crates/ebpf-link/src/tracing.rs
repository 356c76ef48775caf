//! Tracing programs: fentry, fexit and fmod_ret (`SEC("fentry/<function>")`
//! ...), LSM (`SEC("lsm/<hook>")`) and freplace (`SEC("freplace/<function>")`).
//! Their target was fixed at load time (a BTF id), so attaching needs no
//! argument.
//!
//! ```no_run
//! # fn f(prog: &ebpf::Program) -> ebpf_link::Result<()> {
//! let link = ebpf_link::tracing::attach(prog)?;
//! # Ok(()) }
//! ```
//!
//! A freplace program is loaded against a function of another program
//! (`ebpf::ProgramOptions::attach_program`); [`attach`] replaces that
//! function, and [`attach_freplace_to`] attaches it again once that link is
//! gone (the kernel forgets the load-time target at the first attach).
//!
//! Kernels in lockdown refuse these program types with `EPERM`
//! ([`Error::PermissionDenied`]), not [`Error::NotSupported`].
//!
//! # Minimum kernel version
//!
//! 5.5 (fentry/fexit), 5.7 (fmod_ret, LSM), 5.6 (freplace); a cookie 6.0.

use std::os::fd::AsFd;

use ebpf::{AttachType, Program, ProgramType};
use ebpf_syscall as sys;

use crate::error::{Error, Result, sys as sysr};
use crate::link::{RawLink, fd_link};
use crate::util::{expect_program_type, kernel_at_least, not_supported};

fd_link! {
    /// A tracing program (fentry/fexit/fmod_ret/LSM/freplace) attached to its target.
    ///
    /// # Minimum kernel version
    ///
    /// 5.5.
    #[doc(alias = "BPF_LINK_TYPE_TRACING")]
    TracingLink, "tracing", [TRACING]
}

/// Attaches a fentry/fexit/fmod_ret/tp_btf, LSM or freplace program to the
/// target it was loaded for.
///
/// # Minimum kernel version
///
/// 5.5.
pub fn attach(program: &Program) -> Result<TracingLink> {
    attach_with_cookie(program, 0)
}

/// [`attach`] with a cookie for `bpf_get_attach_cookie()`.
///
/// # Minimum kernel version
///
/// 6.0 for a non-zero cookie.
pub fn attach_with_cookie(program: &Program, cookie: u64) -> Result<TracingLink> {
    attach_inner(program, cookie).map_err(Error::attach(program, || target_name(program)))
}

fn target_name(program: &Program) -> String {
    let kind = match program.attach_type() {
        Some(AttachType::TRACE_FENTRY) => "fentry",
        Some(AttachType::TRACE_FEXIT) => "fexit",
        Some(AttachType::MODIFY_RETURN) => "fmod_ret",
        Some(AttachType::LSM_MAC) => "lsm",
        Some(AttachType::TRACE_RAW_TP) => "tp_btf",
        _ if program.program_type() == ProgramType::EXT => "freplace",
        _ => "tracing target",
    };
    format!(
        "{kind} {}",
        program.attach_target().unwrap_or("(load-time target)")
    )
}

fn attach_inner(program: &Program, cookie: u64) -> Result<TracingLink> {
    expect_program_type(
        program,
        &[ProgramType::TRACING, ProgramType::LSM, ProgramType::EXT],
        "a tracing program",
    )?;
    if program.program_type() == ProgramType::TRACING
        && program.attach_type() == Some(AttachType::TRACE_ITER)
    {
        return Err(Error::InvalidArgument(
            "an iterator program: use the iter module".into(),
        ));
    }
    let fd = if cookie != 0 {
        if !kernel_at_least(6, 0) {
            return Err(not_supported("cookie for tracing links", 6, 0));
        }
        let at = program
            .attach_type()
            .map_or(sys::AttachType::TRACE_FENTRY, |a| {
                sys::AttachType(a.as_raw())
            });
        let mut attr = sys::LinkCreateTracingAttr::with_target(program, 0, at);
        attr.cookie = cookie;
        sysr(sys::link_create(&attr))?
    } else if program.program_type() == ProgramType::EXT {
        let attr = sys::LinkCreateAttr::with_target(program, 0, sys::AttachType(0));
        sysr(sys::link_create(&attr))?
    } else {
        sysr(sys::raw_tracepoint_open(None, program, 0))?
    };
    Ok(TracingLink {
        link: RawLink::from_fd(fd),
    })
}

/// Attaches a freplace (`BPF_PROG_TYPE_EXT`) program in place of its
/// function (the name in `SEC("freplace/<function>")`) in `target`, found by
/// name in `target`'s BTF: to attach again after the first link (loaded with
/// `ProgramOptions::attach_program`, which [`attach`] uses) was dropped, or
/// to another program with the same function.
///
/// ```no_run
/// # fn f(ext: &ebpf::Program, target: &ebpf::Program) -> ebpf_link::Result<()> {
/// let link = ebpf_link::tracing::attach_freplace_to(ext, target)?;
/// # Ok(()) }
/// ```
///
/// # Minimum kernel version
///
/// 5.10.
pub fn attach_freplace_to(program: &Program, target: &Program) -> Result<TracingLink> {
    let function = program.attach_target().filter(|t| !t.is_empty());
    let btf_id = match function {
        Some(function) => target.btf_func_id(function).map_err(Error::from),
        None => Err(Error::InvalidArgument(
            "the program names no function to replace (SEC(\"freplace/<function>\"))".into(),
        )),
    };
    let btf_id = btf_id.map_err(Error::attach(program, || {
        format!(
            "freplace of '{}' in program '{}'",
            function.unwrap_or("?"),
            target.name()
        )
    }))?;
    attach_freplace(program, target, btf_id)
}

/// Attaches a freplace (`BPF_PROG_TYPE_EXT`) program in place of function
/// `btf_id` of `target` (a program with BTF), instead of its load-time target.
///
/// # Minimum kernel version
///
/// 5.10.
pub fn attach_freplace(program: &Program, target: &Program, btf_id: u32) -> Result<TracingLink> {
    let run = || -> Result<TracingLink> {
        expect_program_type(program, &[ProgramType::EXT], "freplace")?;
        let mut attr =
            sys::LinkCreateAttr::new(&program.as_fd(), &target.as_fd(), sys::AttachType(0));
        attr.target_btf_id = btf_id;
        let fd = sysr(sys::link_create(&attr))?;
        Ok(TracingLink {
            link: RawLink::from_fd(fd),
        })
    };
    run().map_err(Error::attach(program, || {
        format!("freplace of BTF id {btf_id} in program '{}'", target.name())
    }))
}

/// Attaches an LSM program (`SEC("lsm/<hook>")`) to its hook; the same as [`attach`].
///
/// # Minimum kernel version
///
/// 5.7.
#[doc(alias = "BPF_LSM_MAC")]
pub fn attach_lsm(program: &Program) -> Result<TracingLink> {
    attach(program)
}
