//! Step 4: the programs, relocated and loaded.

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::sync::Arc;

use ebpf_asm::Instructions;
use ebpf_btf::Spec;
use ebpf_btf::core::Relocator;
use ebpf_syscall::LogLevel;

use super::btf::ObjectBtf;
use super::maps::Maps;
use super::plan::Plan;
use crate::error::{Error, Result};
use crate::ksym::Resolver;
use crate::map::Map;
use crate::program::{ATTACH_MAPS, LoadContext, ProgBtf, Program, ProgramOptions};

/// Loads the plan's programs one after the other, sharing the CO-RE
/// relocator (whose candidate cache spans programs) and the ksym resolver.
pub(super) struct Loader<'a> {
    plan: &'a Plan<'a>,
    btf: &'a ObjectBtf,
    maps: &'a Maps,
    relocator: Option<Relocator<'a>>,
    ksyms: Resolver,
    log_level: LogLevel,
    log_size: u32,
    /// Second handles on the collection's [`ATTACH_MAPS`], made on first use.
    attach_maps: BTreeMap<&'static str, Arc<Map>>,
}

impl<'a> Loader<'a> {
    /// A loader for `plan`'s programs, with the object BTF and maps made so far.
    /// `core_targets` are the plan's CO-RE targets ([`Plan::core_target_refs`]).
    pub fn new(
        plan: &'a Plan<'a>,
        core_targets: &'a [&'a Spec],
        btf: &'a ObjectBtf,
        maps: &'a Maps,
        log_level: LogLevel,
        log_size: u32,
    ) -> Loader<'a> {
        let relocator = plan
            .spec
            .btf
            .as_deref()
            .filter(|_| !core_targets.is_empty())
            .map(|local| Relocator::new(local, core_targets));
        Loader {
            plan,
            btf,
            maps,
            relocator,
            // ksyms and kfuncs always resolve in the running kernel.
            ksyms: Resolver::new(plan.kernel.clone(), true),
            log_level,
            log_size,
            attach_maps: BTreeMap::new(),
        }
    }

    /// The [`ATTACH_MAPS`] that `insns` reference, shared by every program
    /// that uses them.
    fn attach_maps_of(&mut self, name: &str, insns: &Instructions) -> Result<Vec<Arc<Map>>> {
        let mut out = Vec::new();
        for wanted in ATTACH_MAPS {
            if !insns.iter().any(|i| i.reference() == Some(wanted)) {
                continue;
            }
            let Some(map) = self.maps.created.get(wanted) else {
                continue;
            };
            if let Some(kept) = self.attach_maps.get(wanted) {
                out.push(kept.clone());
                continue;
            }
            let kept = Arc::new(
                map.try_clone()
                    .map_err(Error::program(name, "keep the maps attaching fills"))?,
            );
            self.attach_maps.insert(wanted, kept.clone());
            out.push(kept);
        }
        Ok(out)
    }

    /// Loads every program of the plan; `attach_programs` names the target
    /// program of freplace (and fentry/fexit on BPF) programs.
    pub fn load_all(
        mut self,
        attach_programs: &BTreeMap<String, Arc<Program>>,
    ) -> Result<BTreeMap<String, Program>> {
        let mut programs = BTreeMap::new();
        for name in &self.plan.programs {
            let opts = ProgramOptions {
                log_level: self.log_level,
                log_size: self.log_size,
                attach_program: attach_programs.get(name).cloned(),
            };
            let prog = self.load_one(name, &opts)?;
            programs.insert(name.clone(), prog);
        }
        Ok(programs)
    }

    /// Applies CO-RE and resolves externs of program `name`, then loads it.
    fn load_one(&mut self, name: &str, opts: &ProgramOptions) -> Result<Program> {
        let plan = self.plan;
        let ps = &plan.spec.programs[name];
        let attach_maps = self.attach_maps_of(name, &ps.instructions)?;
        let mut insns = ps.instructions.clone();
        let mut fixups = Vec::new();
        if crate::relocate::has_core_relos(&insns) {
            let Some(relocator) = self.relocator.as_mut() else {
                return Err(Error::program(name, "apply CO-RE relocations")(
                    Error::InvalidArgument(
                        "CO-RE relocations need the object's BTF and kernel BTF".into(),
                    ),
                ));
            };
            fixups = crate::relocate::apply_core(&mut insns, relocator)
                .map_err(Error::program(name, "apply CO-RE relocations"))?;
        }
        let fd_array = self
            .ksyms
            .rewrite(&mut insns)
            .map_err(Error::program(name, "resolve externs"))?;
        let ctx = LoadContext {
            btf: self.btf.loaded().map(|b| ProgBtf {
                fd: b.fd.as_fd(),
                strings: &b.strings,
            }),
            maps: self
                .maps
                .created
                .iter()
                .map(|(n, m)| (n.clone(), m.as_fd()))
                .collect(),
            fd_array,
            fixups,
            struct_ops: self.plan.struct_ops_targets.get(name).copied(),
        };
        Ok(Program::load_with(ps, insns, opts, &ctx)?.with_attach_maps(attach_maps))
    }
}
