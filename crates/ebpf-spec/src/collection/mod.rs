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

use std::collections::{BTreeMap, HashSet};
use std::hash::BuildHasherDefault;
use std::path::Path;
use std::sync::Arc;

use ebpf_asm::{Endianness, Instructions, PseudoLoad};
use ebpf_btf::{RawExtInfo, Spec};
use smol_str::SmolStr;

mod limits;
mod variables;

use crate::arena::load_arena;
use crate::btf_maps::{MAPS_SECTION, load_btf_maps};
use crate::data::load_data_maps;
use crate::datasec::fixup_datasecs;
use crate::deferred::{ObjectCode, ProgramCode};
use crate::elf::{ElfFile, STB_LOCAL, Section, TEXT_SECTION};
use crate::error::{Error, Result};
use crate::ext_rows::{ExtRecords, PendingRows};
use crate::legacy_maps::load_legacy_maps;
use crate::limits::Limits;
use crate::link::{
    Functions, exception_callbacks, link_subprograms, mark_hidden_subprograms_static,
    split_functions,
};
use crate::map::MapSpec;
use crate::program::{ProgramSpec, spec_name};
use crate::relocate::{AddrHasher, Externs, References, read_section, relocate_section};
use crate::section_name::SectionInfo;
use crate::struct_ops::{is_struct_ops_section, load_struct_ops};
use crate::variable::{VariableSpec, load_variables};

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

/// Whether anything reads the relocations of `section`: code, `.maps` and struct_ops
/// data. The others' (`.BTF`, `.BTF.ext`, DWARF, global data) are checked, not copied.
fn relocs_used(section: &Section<'_>) -> bool {
    section.is_program() || section.name == MAPS_SECTION || is_struct_ops_section(section.name)
}

impl CollectionSpec {
    /// Reads the object file at `path` (a regular file, see [`read_file`](crate::read_file))
    /// with the default [`Limits`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<CollectionSpec> {
        Self::from_file_with(path, &Limits::default())
    }

    /// Reads the object file at `path` within `limits`.
    pub fn from_file_with(path: impl AsRef<Path>, limits: &Limits) -> Result<CollectionSpec> {
        CollectionSpec::from_elf_with(&crate::read_file(path)?, limits)
    }

    /// Reads an object file from its bytes (either byte order) with the default [`Limits`].
    /// Deterministic, and never panics on malformed input.
    pub fn from_elf(bytes: &[u8]) -> Result<CollectionSpec> {
        Self::from_elf_with(bytes, &Limits::default())
    }

    /// Reads an object file from its bytes within `limits`: global data that would need
    /// more than [`Limits::max_data_bytes`] is refused, from the section headers, before
    /// it is allocated.
    pub fn from_elf_with(bytes: &[u8], limits: &Limits) -> Result<CollectionSpec> {
        let elf = ElfFile::parse(bytes, relocs_used)?;

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
        // A `.BTF.ext` that does not parse is an error naming the record at fault.
        // libbpf drops it with a warning instead, and then loads programs without
        // their CO-RE relocations applied; which programs had any cannot be known
        // once it is dropped, so there is no safe fallback.
        // Checked in full here, its strings read only when a record is first used: the
        // rows share a copy of the `.BTF` string table (an object's BTF is never split).
        let ext = match (elf.section_by_name(".BTF.ext"), btf.as_ref()) {
            (Some(s), Some(spec)) => {
                let raw = RawExtInfo::parse(s.data, spec).map_err(btf_err(".BTF.ext"))?;
                let strings: Arc<[u8]> = Arc::from(spec.strings().as_bytes());
                Some(ExtRecords::new(raw, strings))
            }
            (Some(_), None) => {
                log::warn!("section '.BTF.ext': ignored: the object has no .BTF");
                None
            }
            _ => None,
        };
        let externs = Externs::from_btf(btf.as_ref())?;

        let mut maps = BTreeMap::new();
        load_btf_maps(&elf, btf.as_ref(), &mut maps)?;
        load_legacy_maps(&elf, &mut maps)?;
        load_data_maps(&elf, btf.as_ref(), &mut maps, limits)?;
        load_struct_ops(&elf, btf.as_ref(), &mut maps)?;
        let arena = load_arena(&elf, &mut maps)?;

        // Names borrow from the ELF file: one `String` per program, made for its spec. The
        // instructions stay raw, in `code`, until a program is first used.
        let mut functions = Vec::with_capacity(elf.function_places());
        let mut refs = References::default();
        let mut code = ObjectCode::new(elf.order);
        for section in elf.sections.iter().filter(|s| s.is_program()) {
            let read = (|| {
                let mut raw = read_section(&elf, section.index)?;
                let rows = PendingRows::new(&raw, ext.as_ref())?;
                relocate_section(&elf, &mut raw, &externs, arena.as_deref(), &mut refs)?;
                crate::relocate::resolve_local_calls(&elf, &mut raw, &mut refs)?;
                let split = split_functions(&elf, &raw, code.next_section())?;
                Ok((raw, rows, split))
            })();
            let (raw, rows, split) = match read {
                Ok(read) => read,
                Err(e) => {
                    // A name taken twice in an earlier section comes first, and is reported
                    // first (names are checked once all sections are read).
                    Functions::new(functions)?;
                    return Err(e);
                }
            };
            if section.name != TEXT_SECTION {
                if let Some(i) = split.iter().position(|f| f.bind == STB_LOCAL) {
                    let program = split[i].name;
                    // A name taken twice before it comes first, and is reported first.
                    functions.extend(split.into_iter().take(i));
                    Functions::new(functions)?;
                    return Err(Error::StaticProgram {
                        section: section.name.to_owned(),
                        program: program.to_owned(),
                    });
                }
            }
            functions.extend(split);
            code.add_section(raw, rows.map(PendingRows::into_table));
        }
        let mut functions = Functions::new(functions)?;

        // The functions' names, kept in one string.
        code.reserve_names(functions.iter().map(|f| f.name.len()).sum());
        for f in functions.iter_mut() {
            f.code.name = code.add_name(f.name);
        }

        if let Some(btf) = btf.as_mut() {
            let subprograms = functions.iter().filter(|f| f.section == TEXT_SECTION);
            mark_hidden_subprograms_static(
                btf,
                subprograms.map(|f| (f.name, f.bind, f.visibility)),
            )?;
        }

        // Each program is its function followed by the functions it needs, transitively.
        // Errors are reported in program order.
        let callbacks = btf.as_ref().map(exception_callbacks).unwrap_or_default();
        // The map names found in `maps`, by where they are stored: instructions that refer to
        // the same map share the name (see `References`), so most are looked up once.
        let mut known: HashSet<(usize, usize), BuildHasherDefault<AddrHasher>> = HashSet::default();
        let programs = functions.programs();
        let mut linked = Vec::with_capacity(programs.len());
        for f in programs {
            let name = f.name;
            let cb = callbacks.get(name).map(String::as_str);
            let callees = link_subprograms(f, &functions, cb)?;
            let list = std::iter::once(f).chain(callees.iter().copied());
            let patched = list.flat_map(|f| code.patches(&f.code));
            for (_, ins) in patched {
                if !matches!(
                    ins.pseudo_load(),
                    Some(PseudoLoad::MapFd | PseudoLoad::MapValue)
                ) {
                    continue;
                }
                if let Some(map) = ins.reference() {
                    if known.insert((map.as_ptr() as usize, map.len())) && !maps.contains_key(map) {
                        return Err(Error::MissingMap {
                            program: name.to_owned(),
                            map: map.to_owned(),
                        });
                    }
                }
            }
            linked.push((f, callees));
        }
        let code = Arc::new(code);
        // Programs come in file order, so the programs of a section parse and copy its name
        // once.
        let mut section: Option<(&str, SectionInfo, SmolStr, Option<SmolStr>)> = None;
        let mut programs = BTreeMap::new();
        let program_license = spec_name(&license);
        for (f, callees) in linked {
            let name = f.name;
            let instructions = Instructions::deferred(Arc::new(ProgramCode {
                object: Arc::clone(&code),
                main: f.code,
                callees: callees.iter().map(|f| f.code).collect(),
            }));
            let (_, info, section_name, target) = match section.take() {
                Some(same) if same.0 == f.section => section.insert(same),
                _ => {
                    let info = SectionInfo::parse(f.section);
                    let target = info.attach_target.as_deref().map(spec_name);
                    section.insert((f.section, info, spec_name(f.section), target))
                }
            };
            let mut p = ProgramSpec::from_section(
                spec_name(name),
                section_name.clone(),
                info,
                target.clone(),
                instructions,
            );
            if p.program_type == crate::ProgramType::UNSPEC {
                log::warn!(
                    "section '{}': program '{name}': unknown section name, program type unspecified",
                    p.section_name
                );
            }
            p.license.clone_from(&program_license);
            p.kernel_version = kernel_version;
            p.byte_order = elf.order;
            programs.insert(name.to_owned(), p);
        }

        let variables = load_variables(&elf, btf.as_ref())?;
        let spec = CollectionSpec {
            programs,
            maps,
            variables,
            btf: btf.map(Arc::new),
            license,
            kernel_version,
            byte_order: elf.order,
        };
        spec.check_limits(limits)?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use ebpf_btf::{CoreRelo, FuncInfo, LineInfo};

    use super::*;

    /// `e` and its causes, joined with ": ", as a user's program prints them.
    fn chain(e: &(dyn std::error::Error + 'static)) -> String {
        let mut out = e.to_string();
        let mut cur = e.source();
        while let Some(c) = cur {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cur = c.source();
        }
        out
    }

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

    /// The `.BTF.ext` section's range in `bytes`.
    fn ext_range(bytes: &[u8]) -> (usize, usize) {
        let elf = ElfFile::parse(bytes, relocs_used).expect("parse");
        let ext = elf.section_by_name(".BTF.ext").expect(".BTF.ext");
        let start = ext.data.as_ptr() as usize - bytes.as_ptr() as usize;
        (start, ext.data.len())
    }

    /// A `.BTF.ext` that does not parse is an error naming what is wrong, never
    /// a silent drop of every program's func info, line info and CO-RE
    /// relocations.
    #[test]
    fn corrupt_btf_ext_is_an_error() {
        for name in ["core-el.o", "core-eb.o", "loader-el.o"] {
            let mut bytes = fixture(name);
            let good = CollectionSpec::from_elf(&bytes).expect("fixture opens");
            assert!(count::<FuncInfo>(&good) > 0 && count::<LineInfo>(&good) > 0);
            let (start, len) = ext_range(&bytes);
            // A bad magic, then a header length that moves every offset.
            for (at, value) in [(0, 0u8), (4, 0xff)] {
                let saved = bytes[start + at];
                bytes[start + at] = value;
                assert!(len > at);
                let e = CollectionSpec::from_elf(&bytes).expect_err(name);
                let text = chain(&e);
                assert!(text.starts_with(".BTF.ext: "), "{name}: {text}");
                assert!(text.contains("ext header"), "{name}: {text}");
                bytes[start + at] = saved;
            }
        }
    }

    /// One CO-RE record whose type id is out of range: an error naming the
    /// record's section and field (it used to drop the whole `.BTF.ext`, so the
    /// object opened with 0 CO-RE relocations and loaded unrelocated).
    #[test]
    fn a_bad_core_record_is_an_error() {
        for name in ["core-el.o", "core-eb.o"] {
            let mut bytes = fixture(name);
            let good = CollectionSpec::from_elf(&bytes).expect("fixture opens");
            assert!(count::<CoreRelo>(&good) > 0, "{name}");
            let big = name.ends_with("-eb.o");
            let (start, len) = ext_range(&bytes);
            let u32_at = |b: &[u8], at: usize| {
                let w: [u8; 4] = b[at..at + 4].try_into().expect("4 bytes");
                if big {
                    u32::from_be_bytes(w)
                } else {
                    u32::from_le_bytes(w)
                }
            };
            // Header: magic, version, flags, hdr_len, then func/line info
            // offsets and lengths, then core_relo_off and core_relo_len.
            let hdr_len = u32_at(&bytes, start + 4) as usize;
            let core_off = u32_at(&bytes, start + 24) as usize;
            let core = start + hdr_len + core_off;
            // rec_size, then the first section: sec_name_off, num_info, records
            // of insn_off, type_id, access_str_off, kind.
            let type_id = core + 4 + 8 + 4;
            assert!(type_id + 4 <= start + len, "{name}");
            let bad = if big {
                0x00ff_ffff_u32.to_be_bytes()
            } else {
                0x00ff_ffff_u32.to_le_bytes()
            };
            bytes[type_id..type_id + 4].copy_from_slice(&bad);
            let e = CollectionSpec::from_elf(&bytes).expect_err(name);
            let text = chain(&e);
            assert!(text.starts_with(".BTF.ext: "), "{name}: {text}");
            assert!(text.contains("core_relo"), "{name}: {text}");
            assert!(text.contains("type_id"), "{name}: {text}");
        }
    }
}
