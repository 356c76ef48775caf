//! [`CollectionSpec`]: everything an object file describes (programs, maps, variables, BTF,
//! license, kernel version), read without touching the kernel.
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! use ebpf_spec::CollectionSpec;
//! let spec = CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/nobtf-el.o"))?;
//! assert_eq!(spec.license, "GPL");
//! assert_eq!(spec.kernel_version, 0x060100);
//! assert!(spec.btf.is_none());
//! assert_eq!(spec.programs.keys().collect::<Vec<_>>(), ["legacy_socket", "legacy_xdp"]);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use ebpf_asm::{Endianness, Instruction, PseudoLoad};
use ebpf_btf::{ExtInfo, Spec};

use crate::arena::load_arena;
use crate::btf_maps::load_btf_maps;
use crate::data::load_data_maps;
use crate::datasec::fixup_datasecs;
use crate::elf::{ElfFile, STB_LOCAL};
use crate::error::{Error, Result};
use crate::legacy_maps::load_legacy_maps;
use crate::link::{
    Function, exception_callbacks, link_subprograms, mark_hidden_subprograms_static,
    split_functions,
};
use crate::map::MapSpec;
use crate::program::ProgramSpec;
use crate::relocate::{Externs, attach_ext_info, decode_section, relocate_section};
use crate::struct_ops::load_struct_ops;
use crate::variable::{VariableSpec, load_variables};

/// The section of subprograms shared by every program.
pub(crate) const TEXT_SECTION: &str = ".text";

/// The programs, maps and variables of one object file, as plain editable data.
#[derive(Debug, Clone)]
pub struct CollectionSpec {
    /// Programs by name.
    pub programs: BTreeMap<String, ProgramSpec>,
    /// Maps by name (global data maps are named after their section).
    pub maps: BTreeMap<String, MapSpec>,
    /// Global variables by name.
    pub variables: BTreeMap<String, VariableSpec>,
    /// The object's BTF, with datasec sizes and offsets fixed up; `None` without `.BTF`.
    pub btf: Option<Arc<Spec>>,
    /// The `license` section.
    pub license: String,
    /// The `version` section (0 when absent).
    pub kernel_version: u32,
    /// The object's byte order.
    pub byte_order: Endianness,
}

fn btf_err(section: &str) -> impl FnOnce(ebpf_btf::Error) -> Error + '_ {
    move |source| Error::Btf {
        section: section.to_owned(),
        source,
    }
}

impl CollectionSpec {
    /// Reads the object file at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<CollectionSpec> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        CollectionSpec::from_elf(&bytes)
    }

    /// Reads an object file from its bytes (either byte order). Deterministic, and never
    /// panics on malformed input.
    pub fn from_elf(bytes: &[u8]) -> Result<CollectionSpec> {
        let elf = ElfFile::parse(bytes)?;

        let license = elf
            .section_by_name("license")
            .map_or_else(String::new, |s| {
                let end = s.data.iter().position(|b| *b == 0).unwrap_or(s.data.len());
                String::from_utf8_lossy(&s.data[..end]).into_owned()
            });
        let kernel_version = match elf.section_by_name("version") {
            Some(s) => elf.u32_at(s.data, 0).ok_or_else(|| Error::BadSection {
                section: "version".into(),
                reason: format!("size {} is not 4", s.data.len()),
            })?,
            None => 0,
        };

        let mut btf = match elf.section_by_name(".BTF") {
            Some(s) => Some(Spec::parse(s.data).map_err(btf_err(".BTF"))?),
            None => None,
        };
        if let Some(spec) = btf.as_mut() {
            fixup_datasecs(spec, &elf)?;
        }
        // Like libbpf, a `.BTF.ext` that does not parse is dropped with a warning: the
        // programs lose their func and line info and CO-RE relocations.
        let ext = match (elf.section_by_name(".BTF.ext"), btf.as_ref()) {
            (Some(s), Some(spec)) => ExtInfo::parse(s.data, spec)
                .inspect_err(|e| {
                    log::warn!("section '.BTF.ext': {e}: ignored (no func info, line info or CO-RE relocations)");
                })
                .ok(),
            _ => None,
        };
        let externs = Externs::from_btf(btf.as_ref())?;

        let mut maps = BTreeMap::new();
        load_btf_maps(&elf, btf.as_ref(), &mut maps)?;
        load_legacy_maps(&elf, &mut maps)?;
        load_data_maps(&elf, btf.as_ref(), &mut maps)?;
        load_struct_ops(&elf, btf.as_ref(), &mut maps)?;
        let arena = load_arena(&elf, &mut maps)?;

        let mut functions: BTreeMap<String, Function> = BTreeMap::new();
        let mut program_names = Vec::new();
        for section in elf.sections.iter().filter(|s| s.is_program()) {
            let mut code = decode_section(&elf, section.index)?;
            attach_ext_info(&mut code, ext.as_ref())?;
            relocate_section(&elf, &mut code, &externs, arena.as_deref())?;
            crate::relocate::resolve_local_calls(&elf, &mut code)?;
            for f in split_functions(&elf, code)? {
                if section.name != TEXT_SECTION {
                    if f.bind == STB_LOCAL {
                        return Err(Error::StaticProgram {
                            section: section.name.to_owned(),
                            program: f.name,
                        });
                    }
                    program_names.push(f.name.to_owned());
                }
                if functions.contains_key(&f.name) {
                    return Err(Error::DuplicateFunction {
                        section: section.name.to_owned(),
                        function: f.name,
                    });
                }
                functions.insert(f.name.to_owned(), f);
            }
        }

        if let Some(btf) = btf.as_mut() {
            let subprograms = functions.values().filter(|f| f.section == TEXT_SECTION);
            mark_hidden_subprograms_static(
                btf,
                subprograms.map(|f| (f.name.clone(), f.bind, f.visibility)),
            )?;
        }

        // Copy every program's subprograms first (a program can be another's callee), then
        // move the programs' own instructions out of `functions` instead of copying them.
        // Errors are kept per program and reported in program order.
        let callbacks = btf.as_ref().map(exception_callbacks).unwrap_or_default();
        let subprograms: Vec<Result<Vec<Instruction>>> = program_names
            .iter()
            .map(|name| {
                let cb = callbacks.get(name).map(String::as_str);
                link_subprograms(&functions[name], &functions, cb)
            })
            .collect();
        let mut programs = BTreeMap::new();
        for (name, subprograms) in program_names.into_iter().zip(subprograms) {
            let subprograms = subprograms?;
            let Some(f) = functions.remove(&name) else {
                continue;
            };
            let mut instructions = f.insns;
            instructions.0.extend(subprograms);
            for ins in instructions.iter() {
                if matches!(
                    ins.pseudo_load(),
                    Some(PseudoLoad::MapFd | PseudoLoad::MapValue)
                ) {
                    if let Some(map) = ins.reference() {
                        if !maps.contains_key(map) {
                            return Err(Error::MissingMap {
                                program: name.clone(),
                                map: map.to_owned(),
                            });
                        }
                    }
                }
            }
            let mut p = ProgramSpec::new(name.clone(), f.section, instructions);
            if p.program_type == crate::ProgramType::Unspecified {
                log::warn!(
                    "section '{}': program '{name}': unknown section name, program type unspecified",
                    p.section_name
                );
            }
            p.license.clone_from(&license);
            p.kernel_version = kernel_version;
            p.byte_order = elf.order;
            programs.insert(name, p);
        }

        let variables = load_variables(&elf, btf.as_ref())?;
        Ok(CollectionSpec {
            programs,
            maps,
            variables,
            btf: btf.map(Arc::new),
            license,
            kernel_version,
            byte_order: elf.order,
        })
    }
}

#[cfg(test)]
mod tests {
    use ebpf_btf::{CoreRelo, FuncInfo, LineInfo};

    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn count<T: std::any::Any + Send + Sync>(spec: &CollectionSpec) -> usize {
        spec.programs
            .values()
            .flat_map(|p| p.instructions.iter())
            .filter(|i| i.metadata.get::<T>().is_some())
            .count()
    }

    /// A `.BTF.ext` that does not parse is dropped (as libbpf does), not fatal.
    #[test]
    fn corrupt_btf_ext_is_dropped() {
        for name in ["core-el.o", "core-eb.o", "loader-el.o"] {
            let mut bytes = fixture(name);
            let good = CollectionSpec::from_elf(&bytes).expect("fixture opens");
            assert!(count::<FuncInfo>(&good) > 0 && count::<LineInfo>(&good) > 0);
            let (start, len) = {
                let elf = ElfFile::parse(&bytes).expect("parse");
                let ext = elf.section_by_name(".BTF.ext").expect(".BTF.ext");
                let start = ext.data.as_ptr() as usize - bytes.as_ptr() as usize;
                (start, ext.data.len())
            };
            // A bad magic, then a header length past the section.
            for (at, value) in [(0, 0u8), (4, 0xff)] {
                let saved = bytes[start + at];
                bytes[start + at] = value;
                let spec = CollectionSpec::from_elf(&bytes)
                    .unwrap_or_else(|e| panic!("{name}: corrupt .BTF.ext byte {at}: {e}"));
                assert!(len > at);
                assert_eq!(
                    spec.programs.keys().collect::<Vec<_>>(),
                    good.programs.keys().collect::<Vec<_>>(),
                    "{name}"
                );
                assert_eq!(spec.maps, good.maps, "{name}");
                assert_eq!(count::<FuncInfo>(&spec), 0, "{name}");
                assert_eq!(count::<LineInfo>(&spec), 0, "{name}");
                assert_eq!(count::<CoreRelo>(&spec), 0, "{name}");
                bytes[start + at] = saved;
            }
        }
    }
}
