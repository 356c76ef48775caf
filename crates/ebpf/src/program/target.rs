//! The attach target fixed at load time: a function (or tracepoint) in
//! kernel BTF for tracing, LSM and iterator programs, or a function in
//! another program's BTF for freplace and fentry/fexit of a BPF program.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::error::{Error, Result};
use crate::program::{Program, ProgramOptions};
use crate::{AttachType, ProgramSpec, ProgramType};

/// What `attach_prog_fd` names: a module's BTF object or the target program.
#[derive(Debug)]
pub(super) enum TargetFd<'a> {
    /// The BTF of the kernel module holding the function.
    Module(OwnedFd),
    /// The program whose function is replaced or traced.
    Program(BorrowedFd<'a>),
}

impl AsRawFd for TargetFd<'_> {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            TargetFd::Module(fd) => fd.as_raw_fd(),
            TargetFd::Program(fd) => fd.as_raw_fd(),
        }
    }
}

/// The `attach_btf_id` of `spec` and the fd for `attach_prog_fd`, if its
/// type has a load-time target.
pub(super) fn resolve<'a>(
    spec: &ProgramSpec,
    opts: &'a ProgramOptions,
) -> Result<Option<(u32, Option<TargetFd<'a>>)>> {
    let traces_functions = spec.program_type == ProgramType::TRACING
        && matches!(
            spec.attach_type,
            Some(AttachType::TRACE_FENTRY | AttachType::TRACE_FEXIT | AttachType::MODIFY_RETURN)
        );
    match &opts.attach_program {
        Some(target) if spec.program_type == ProgramType::EXT || traces_functions => {
            let id = program_target(spec, target)?;
            Ok(Some((id, Some(TargetFd::Program(target.as_fd())))))
        }
        Some(target) => Err(Error::InvalidArgument(format!(
            "a target program ('{}') is only for freplace and fentry/fexit/fmod_ret programs, not {}",
            target.name(),
            spec.program_type
        ))),
        None if spec.program_type == ProgramType::EXT => Err(Error::InvalidArgument(format!(
            "a freplace program needs the program whose function '{}' it replaces \
             (ProgramOptions::attach_program, CollectionOptions::attach_programs)",
            spec.attach_target.as_deref().unwrap_or("?")
        ))),
        None => Ok(kernel_target(spec)?.map(|(id, m)| (id, m.map(TargetFd::Module)))),
    }
}

/// The BTF id of the function `spec` attaches to in `target`'s BTF.
fn program_target(spec: &ProgramSpec, target: &Program) -> Result<u32> {
    let Some(name) = spec.attach_target.as_deref().filter(|t| !t.is_empty()) else {
        return Err(Error::InvalidArgument(format!(
            "{} program without the name of a function of '{}' to attach to",
            spec.program_type,
            target.name()
        )));
    };
    target.btf_func_id(name)
}

impl Program {
    /// The BTF id of function `name` in this program's BTF: what a freplace
    /// or fentry/fexit program attached to one of this program's functions
    /// names as its target (`ProgramOptions::attach_program` looks it up
    /// itself).
    ///
    /// # Minimum kernel version
    ///
    /// 5.0 (a program's BTF).
    pub fn btf_func_id(&self, name: &str) -> Result<u32> {
        let find = || -> Result<u32> {
            let btf_id = ebpf_syscall::prog_info(&self.fd)?.btf_id;
            if btf_id == 0 {
                return Err(Error::InvalidArgument(
                    "the program was loaded without BTF (load it from an object with BTF \
                     through a Collection)"
                        .into(),
                ));
            }
            let btf = crate::info::btf_spec_by_id(btf_id)?;
            let (id, _) =
                btf.type_by_name::<ebpf_btf::Func>(name)
                    .map_err(|_| Error::NotFound {
                        kind: "function",
                        name: name.to_owned(),
                    })?;
            Ok(id.0)
        };
        find().map_err(Error::program(&self.name, "find a function in its BTF"))
    }
}

/// The kernel BTF id of the attach target of tracing, LSM and iterator
/// programs, in the running kernel's vmlinux or a module, whose BTF fd is
/// then returned too.
fn kernel_target(spec: &ProgramSpec) -> Result<Option<(u32, Option<OwnedFd>)>> {
    let (prefix, kind_func) = match (spec.program_type, spec.attach_type) {
        (ProgramType::TRACING, Some(AttachType::TRACE_RAW_TP)) => ("btf_trace_", false),
        (
            ProgramType::TRACING,
            Some(AttachType::TRACE_FENTRY | AttachType::TRACE_FEXIT | AttachType::MODIFY_RETURN),
        ) => ("", true),
        (ProgramType::TRACING, Some(AttachType::TRACE_ITER)) => ("bpf_iter_", true),
        (ProgramType::LSM, _) => ("bpf_lsm_", true),
        _ => return Ok(None),
    };
    let Some(target) = spec.attach_target.as_deref().filter(|t| !t.is_empty()) else {
        return Err(Error::InvalidArgument(format!(
            "{} program without an attach target",
            spec.program_type
        )));
    };
    // `module:function` names a module's function explicitly.
    let target = target.rsplit(':').next().unwrap_or(target);
    // Always the running kernel's BTF: a custom CO-RE target says nothing
    // about where the kernel can attach.
    let btf = crate::relocate::kernel_spec()?;
    let name = format!("{prefix}{target}");
    let id = if kind_func {
        btf.type_by_name::<ebpf_btf::Func>(&name).map(|(id, _)| id)
    } else {
        btf.type_by_name::<ebpf_btf::Typedef>(&name)
            .map(|(id, _)| id)
    };
    if let Ok(id) = id {
        return Ok(Some((id.0, None)));
    }
    let found = if kind_func {
        crate::ksym::find_in_modules::<ebpf_btf::Func>(&name)
    } else {
        crate::ksym::find_in_modules::<ebpf_btf::Typedef>(&name)
    };
    if let Some((module, id)) = found {
        let fd = crate::ksym::module_btf_fd(&module)?;
        return Ok(Some((id, Some(fd))));
    }
    Err(Error::NotFound {
        kind: "attach target in kernel BTF",
        name,
    })
}
