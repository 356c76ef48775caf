//! Step 1: what the spec asks of this kernel.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ebpf_btf::Spec;

use crate::error::{Error, Result};
use crate::features::LinkKind;
use crate::program::StructOpsTarget;
use crate::{AttachType, CollectionSpec, ProgramType};
use ebpf_spec::SectionFlags;

/// The spec made ready for the running kernel, and what loading it needs.
#[derive(Debug)]
pub(super) struct Plan<'s> {
    /// The spec, with `.kconfig` filled in and USDT programs' attach type
    /// set: a copy only when one of those changes it.
    pub spec: Cow<'s, CollectionSpec>,
    /// The programs to load, by name.
    pub programs: BTreeSet<String>,
    /// The struct_ops maps to create, by name.
    pub struct_ops: BTreeSet<String>,
    /// The running kernel's BTF, when a ksym, a struct_ops map or CO-RE needs it.
    pub kernel: Option<Arc<Spec>>,
    /// What CO-RE relocates against: the custom target, or vmlinux and the
    /// loaded modules' BTF. Empty when no program has CO-RE relocations.
    pub core_targets: Vec<Arc<Spec>>,
    /// Where each struct_ops program attaches (its kernel struct and member).
    pub struct_ops_targets: BTreeMap<String, StructOpsTarget>,
}

/// USDT programs (`SEC("usdt/...")`) are loaded for `BPF_TRACE_UPROBE_MULTI`
/// when the kernel has uprobe_multi links (6.6), so that `ebpf_link::usdt`
/// attaches them with one link for every call site, as libbpf does; else
/// they stay plain uprobe programs, attached with one uprobe per call site.
fn usdt_multi(spec: &mut Cow<'_, CollectionSpec>) {
    let is_usdt = |p: &ebpf_spec::ProgramSpec| {
        p.section_flags.contains(SectionFlags::USDT) && p.attach_type.is_none()
    };
    if !spec.programs.values().any(is_usdt)
        || crate::features::have_link_kind(LinkKind::UprobeMulti).is_err()
    {
        return;
    }
    for p in spec.to_mut().programs.values_mut().filter(|p| is_usdt(p)) {
        p.attach_type = Some(AttachType::TRACE_UPROBE_MULTI);
    }
}

impl<'s> Plan<'s> {
    /// Checks that `spec` fits this host and decides what to load.
    pub fn new(
        spec: &'s CollectionSpec,
        limits: &ebpf_spec::Limits,
        core_btf: Option<Arc<Spec>>,
        skip_programs: &BTreeSet<String>,
    ) -> Result<Plan<'s>> {
        if spec.byte_order != ebpf_asm::Endianness::NATIVE {
            return Err(Error::InvalidArgument(format!(
                "the object is in {:?} byte order, the host is {:?}",
                spec.byte_order,
                ebpf_asm::Endianness::NATIVE
            )));
        }
        // Before anything is copied: a tiny object may ask for gigabytes.
        spec.check_limits(limits)?;
        let mut spec = Cow::Borrowed(spec);
        usdt_multi(&mut spec);
        if spec.maps.contains_key(ebpf_spec::KCONFIG_SECTION) {
            crate::kconfig::fill(spec.to_mut()).map_err(Error::context("kconfig"))?;
        }
        let has_core = spec
            .programs
            .values()
            .any(|p| crate::relocate::has_core_relos(&p.instructions));
        let has_struct_ops = spec.maps.values().any(|m| m.struct_ops.is_some());
        let has_ksyms = spec
            .programs
            .values()
            .any(|p| crate::ksym::has_externs(&p.instructions));
        let kernel = if has_struct_ops || has_ksyms || (has_core && core_btf.is_none()) {
            Some(crate::relocate::kernel_spec()?)
        } else {
            None
        };
        let core_targets = match (has_core, core_btf, &kernel) {
            (false, _, _) => Vec::new(),
            (true, Some(target), _) => vec![target],
            (true, None, Some(vmlinux)) => std::iter::once(vmlinux.clone())
                .chain(crate::relocate::module_specs()?)
                .collect(),
            (true, None, None) => Vec::new(),
        };
        let (struct_ops, struct_ops_targets) = match &kernel {
            Some(k) if has_struct_ops => crate::struct_ops::plan(&spec, k)?,
            _ => Default::default(),
        };
        let programs = spec
            .programs
            .iter()
            .filter(|(name, p)| p.autoload && !skip_programs.contains(*name))
            // A struct_ops program loads only for a struct_ops map that is
            // created (libbpf 1.5): its attach point is that map's member.
            .filter(|(name, p)| {
                p.program_type != ProgramType::STRUCT_OPS || struct_ops_targets.contains_key(*name)
            })
            .map(|(name, _)| name.clone())
            .collect();
        Ok(Plan {
            spec,
            programs,
            struct_ops,
            kernel,
            core_targets,
            struct_ops_targets,
        })
    }

    /// The CO-RE targets as the relocator takes them.
    pub fn core_target_refs(&self) -> Vec<&Spec> {
        self.core_targets.iter().map(Arc::as_ref).collect()
    }

    /// Whether the kernel must accept the object's BTF: struct_ops maps and
    /// programs, and freplace programs, cannot work without it (libbpf's rule).
    pub fn needs_btf(&self) -> bool {
        !self.struct_ops.is_empty()
            || self.programs.iter().any(|name| {
                matches!(
                    self.spec.programs[name].program_type,
                    ProgramType::STRUCT_OPS | ProgramType::EXT
                )
            })
    }
}
