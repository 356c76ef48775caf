//! Kernel-dependent rewriting of a program's instructions before load: the
//! shared kernel BTF, CO-RE relocations (with `ebpf_btf::core`) and the scan
//! of verifier logs for poisoned relocations.

use std::sync::Arc;

use ebpf_asm::Instructions;
use ebpf_btf::core::{Fixup, Relocator};
use ebpf_btf::{CoreRelo, Spec};
use ebpf_syscall::VerifierLog;

use crate::error::{Error, Result};

/// The running kernel's BTF, parsed once per process (ebpf-btf's shared cache).
pub(crate) fn kernel_spec() -> Result<Arc<Spec>> {
    ebpf_btf::KernelBtf::shared()
        .vmlinux()
        .map_err(|e| Error::Context {
            what: "kernel BTF (/sys/kernel/btf/vmlinux)".into(),
            source: Box::new(Error::Btf(e)),
        })
}

/// The BTF of every loaded kernel module (split on vmlinux), each parsed once
/// per process by the shared cache. A module that goes away meanwhile is
/// skipped.
pub(crate) fn module_specs() -> Result<Vec<Arc<Spec>>> {
    let kernel = ebpf_btf::KernelBtf::shared();
    let names = kernel.module_names().map_err(|e| Error::Context {
        what: "kernel module BTF (/sys/kernel/btf)".into(),
        source: Box::new(Error::Btf(e)),
    })?;
    Ok(names
        .iter()
        .filter_map(|name| kernel.module(name).ok())
        .collect())
}

/// Whether any instruction carries a CO-RE relocation.
pub(crate) fn has_core_relos(insns: &Instructions) -> bool {
    insns.iter().any(|i| i.metadata.get::<CoreRelo>().is_some())
}

/// Applies the CO-RE relocations of `insns` with `relocator` (whose local
/// BTF is the object's). Unsatisfiable relocations poison their instruction
/// (the verifier rejects it only if reachable); the fixups are returned for
/// [`diagnose`] after a verifier failure.
pub(crate) fn apply_core(
    insns: &mut Instructions,
    relocator: &mut Relocator<'_>,
) -> Result<Vec<Fixup>> {
    // Each relocation goes to its instruction by index; its `insn_off` becomes
    // the instruction's place in the linked program (what the verifier names).
    let mut relos = Vec::new();
    for (idx, (slot, ins)) in insns.iter_offsets().enumerate() {
        if let Some(r) = ins.metadata.get::<CoreRelo>() {
            let mut r = r.clone();
            r.insn_off = u32::try_from(slot * ebpf_asm::SLOT_SIZE)
                .map_err(|_| Error::InvalidArgument("program too large".into()))?;
            relos.push((idx, r));
        }
    }
    if relos.is_empty() {
        return Ok(Vec::new());
    }
    relocator
        .relocate_indexed(insns, &relos)
        .map_err(Error::Core)
}

/// Names the poisoned CO-RE relocation the verifier complained about, if
/// the log shows the program reached one.
pub(crate) fn diagnose(log: &VerifierLog, fixups: &[Fixup]) -> Option<String> {
    ebpf_btf::core::diagnose(log.as_str(), fixups).map(|d| d.to_string())
}
