//! struct_ops maps: each variable of a `.struct_ops` or `.struct_ops.link` section is a
//! `BPF_MAP_TYPE_STRUCT_OPS` map; its bytes are kept raw and its function pointer
//! relocations name the programs that implement the operations. The same sections with a
//! leading `?` hold maps that are not created unless asked for (libbpf's `autocreate`
//! off): they are maps of the spec all the same, with that section name.
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! let ops = spec.maps["ebpf_rs_cc"].struct_ops.as_ref().expect("struct_ops");
//! assert_eq!(ops.type_name, "tcp_congestion_ops");
//! assert_eq!(ops.programs[&0], "ebpf_rs_ssthresh");
//! assert!(ops.link);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use ebpf_btf::{Spec, Type};

use crate::datasec::datasec_vars;
use crate::elf::{ElfFile, R_BPF_64_64, R_BPF_64_ABS64, Reloc, STT_FUNC, STT_SECTION};
use crate::error::{Error, Result};
use crate::map::{MapSpec, StructOpsSpec};
use ebpf_abi::MapType;

/// `BPF_F_LINK`: the struct_ops map is attached through a BPF link.
#[doc(alias = "BPF_F_LINK")]
pub const MAP_FLAG_LINK: u32 = 1 << 13;

/// Whether `name` is a struct_ops section (`?` first for maps not created by default).
pub(crate) fn is_struct_ops_section(name: &str) -> bool {
    let name = name.strip_prefix('?').unwrap_or(name);
    name == ".struct_ops" || name == ".struct_ops.link"
}

/// Reads the struct_ops variables of every struct_ops section.
pub(crate) fn load_struct_ops(
    elf: &ElfFile<'_>,
    btf: Option<&Spec>,
    maps: &mut BTreeMap<String, MapSpec>,
) -> Result<()> {
    for section in elf
        .sections
        .iter()
        .filter(|s| is_struct_ops_section(s.name))
    {
        let Some(btf) = btf else {
            return Err(Error::BtfMismatch {
                section: section.name.to_owned(),
                reason: "section needs .BTF".into(),
            });
        };
        let bad = |reason: String| Error::BadSection {
            section: section.name.to_owned(),
            reason,
        };
        let link = section.name.ends_with(".link");
        // Read from the file once for all the section's variables.
        let relocs: Vec<Reloc> = elf.relocs_for(section.index).collect();
        for var in datasec_vars(btf, section.name)? {
            let (name, type_id, offset, size) = (var.name, var.type_id, var.offset, var.size);
            let resolved = btf.skip_qualifiers(type_id).map_err(|source| Error::Btf {
                section: section.name.to_owned(),
                source,
            })?;
            let type_name = match btf.type_by_id(resolved) {
                Ok(Type::Struct(s)) => s.name.to_owned(),
                _ => return Err(bad(format!("variable '{name}' is not a struct"))),
            };
            let (start, end) = (offset as usize, offset as usize + size as usize);
            let data = section
                .data
                .get(start..end)
                .ok_or_else(|| {
                    bad(format!(
                        "variable '{name}' at offset {offset} size {size} out of bounds"
                    ))
                })?
                .to_vec();
            let mut programs = BTreeMap::new();
            for r in &relocs {
                if r.offset < start as u64 || r.offset >= end as u64 {
                    continue;
                }
                if r.kind != R_BPF_64_ABS64 && r.kind != R_BPF_64_64 {
                    return Err(Error::UnknownRelocation {
                        section: section.name.to_owned(),
                        index: r.index,
                        offset: r.offset,
                        kind: r.kind,
                    });
                }
                let Some(sym) = elf.symbols.get(r.symbol) else {
                    return Err(Error::SymbolNotFound {
                        section: section.name.to_owned(),
                        index: r.index,
                        symbol: format!("#{}", r.symbol),
                    });
                };
                let program = match sym.kind {
                    STT_FUNC => sym.name.to_owned(),
                    STT_SECTION => {
                        // The function's offset is the implicit addend stored in the pointer.
                        let at = r.offset as usize;
                        let lo = elf.u32_at(section.data, at).unwrap_or(0);
                        let hi = elf.u32_at(section.data, at + 4).unwrap_or(0);
                        let addend = match elf.order {
                            ebpf_asm::Endianness::Little => u64::from(lo) | (u64::from(hi) << 32),
                            ebpf_asm::Endianness::Big => (u64::from(lo) << 32) | u64::from(hi),
                        };
                        let off = sym.value.wrapping_add(addend).wrapping_add(r.addend as u64);
                        elf.symbols_in(sym.section)
                            .iter()
                            .find(|s| s.kind == STT_FUNC && s.value == off)
                            .map(|s| s.name.to_owned())
                            .ok_or_else(|| {
                                bad(format!(
                                    "relocation {}: no function at offset {off}",
                                    r.index
                                ))
                            })?
                    }
                    k => {
                        return Err(bad(format!(
                            "relocation {}: symbol '{}' of type {k} is not a function",
                            r.index, sym.name
                        )));
                    }
                };
                let member_off = u32::try_from(r.offset - start as u64).unwrap_or(u32::MAX);
                programs.insert(member_off, program);
            }
            if maps.contains_key(name) {
                return Err(bad(format!("map '{name}': duplicate map name")));
            }
            let mut m = MapSpec::new(name, MapType::STRUCT_OPS, 4, size, 1);
            section.name.clone_into(&mut m.section);
            m.value_type = Some(type_id);
            if link {
                m.flags = MAP_FLAG_LINK;
            }
            m.struct_ops = Some(StructOpsSpec {
                type_name,
                type_id: resolved,
                data,
                programs,
                link,
            });
            maps.insert(name.to_owned(), m);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_struct_ops_section;

    #[test]
    fn optional_sections_are_struct_ops_sections() {
        for name in [
            ".struct_ops",
            ".struct_ops.link",
            "?.struct_ops",
            "?.struct_ops.link",
        ] {
            assert!(is_struct_ops_section(name), "{name}");
        }
        for name in ["struct_ops", ".struct_ops.x", "??.struct_ops", "?"] {
            assert!(!is_struct_ops_section(name), "{name}");
        }
    }
}
