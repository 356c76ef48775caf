//! Fixing up the object's BTF from the ELF: clang leaves every `DATASEC` with size 0 and its
//! global variables at offset 0; the loader must fill them in from the section sizes and the
//! symbol values (and lay out the virtual `.kconfig` section itself). Objects from libbpf's
//! static linker come with sizes and offsets already set.
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! let btf = spec.btf.as_ref().expect("loader.c has BTF");
//! let (_, data) = btf.type_by_name::<ebpf_btf::Datasec>(".data").expect(".data");
//! assert_eq!(data.size, 8);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use ebpf_btf::{Kind, Spec, Type, TypeId, VarLinkage};

use crate::elf::{ElfFile, STB_GLOBAL, STB_WEAK, STT_OBJECT, STV_DEFAULT, Symbol};
use crate::error::{Error, Result};

/// The virtual section of `__kconfig` externs.
pub const KCONFIG_SECTION: &str = ".kconfig";
/// The virtual section of `__ksym` externs.
pub const KSYMS_SECTION: &str = ".ksyms";

fn btf_err(section: &str) -> impl FnOnce(ebpf_btf::Error) -> Error + '_ {
    move |source| Error::Btf {
        section: section.to_owned(),
        source,
    }
}

/// All datasecs of `spec` with their names, read from their records (none is decoded).
pub(crate) fn datasecs(spec: &Spec) -> Result<Vec<(TypeId, &str)>> {
    spec.ids_of_kind(Kind::Datasec)
        .map(|id| Ok((id, spec.type_name(id).map_err(btf_err(".BTF"))?)))
        .collect()
}

/// The datasec named `name`, found among the datasecs only (a lookup by name would
/// index every name of the spec, which opening an object needs nowhere else), with its
/// size; read from records, nothing is decoded.
/// Two of that name are none (as a lookup by name finds them ambiguous;
/// [`fixup_datasecs`] refuses them).
pub(crate) fn datasec_by_name(spec: &Spec, name: &str) -> Option<(TypeId, u32)> {
    let mut named = spec
        .ids_of_kind(Kind::Datasec)
        .filter(|&id| spec.name_is(id, name));
    let first = named.next();
    let id = named.next().is_none().then_some(first).flatten()?;
    Some((id, spec.sizeof(id).ok()?))
}

/// The offsets `.kconfig` variables get, as libbpf lays them out: sorted by alignment
/// (largest first), then size (smallest first), then name, each aligned to its type.
fn kconfig_layout(spec: &Spec, id: TypeId) -> Result<(BTreeMap<String, u32>, u32)> {
    let too_large = || Error::BtfMismatch {
        section: KCONFIG_SECTION.into(),
        reason: "section too large".into(),
    };
    let entries = spec.datasec_entries(id).map_err(btf_err(KCONFIG_SECTION))?;
    let mut vars = Vec::with_capacity(entries.len());
    for v in entries {
        let name = spec
            .type_name(v.type_id)
            .map_err(btf_err(KCONFIG_SECTION))?
            .to_owned();
        let ty = match spec
            .type_by_id(v.type_id)
            .map_err(btf_err(KCONFIG_SECTION))?
        {
            Type::Var(var) => var.type_id,
            _ => {
                return Err(Error::BtfMismatch {
                    section: KCONFIG_SECTION.into(),
                    reason: format!("entry '{name}' is not a variable"),
                });
            }
        };
        let size = spec.sizeof(ty).map_err(btf_err(KCONFIG_SECTION))?;
        let align = spec.alignof(ty).map_err(btf_err(KCONFIG_SECTION))?.max(1);
        vars.push((std::cmp::Reverse(align), size, name));
    }
    vars.sort();
    let mut offsets = BTreeMap::new();
    let mut end: u32 = 0;
    for (std::cmp::Reverse(align), size, name) in vars {
        let off = end.checked_next_multiple_of(align).ok_or_else(too_large)?;
        end = off.checked_add(size).ok_or_else(too_large)?;
        offsets.insert(name, off);
    }
    Ok((offsets, end))
}

/// Sets every datasec's size and variable offsets from the ELF, marks hidden variables
/// static, and lays out `.kconfig`, as libbpf does:
///
/// - clang leaves a datasec's size 0 and its global variables at offset 0 (static ones at
///   their offsets): the size comes from the ELF section, a global variable's offset from its
///   symbol;
/// - libbpf's static linker (`bpftool gen object`) writes sizes and offsets itself: a datasec
///   with a size keeps its offsets. Its variables may share a name (a static `counter` in two
///   source files), so they are never looked up by name;
/// - static and extern variables keep their offsets; only global ones have a symbol to read.
pub(crate) fn fixup_datasecs(spec: &mut Spec, elf: &ElfFile<'_>) -> Result<()> {
    // Read from the records first (names borrowed from the spec), edited after.
    let edits = datasec_edits(spec, elf)?;
    for edit in edits {
        let id = edit.id();
        let done = match edit {
            Edit::Kconfig { id, size, offsets } => {
                spec.fixup_datasec_id(id, size, |_, v| offsets.get(v).copied())
            }
            Edit::Layout {
                id,
                size,
                offsets,
                hidden,
            } => spec.set_datasec_layout(id, size, &offsets).and_then(|()| {
                hidden
                    .into_iter()
                    .try_for_each(|var| spec.set_var_linkage(var, VarLinkage::Static))
            }),
        };
        if let Err(source) = done {
            let name = spec.type_name(id).unwrap_or_default().to_owned();
            return Err(btf_err(&name)(source));
        }
    }
    Ok(())
}

/// What [`fixup_datasecs`] changes in one datasec.
enum Edit {
    /// `.kconfig`: libbpf's layout, by variable name.
    Kconfig {
        id: TypeId,
        size: u32,
        offsets: BTreeMap<String, u32>,
    },
    /// Any other: its size, each entry's offset by position (`None` keeps it), and the
    /// variables whose symbols are hidden (made static).
    Layout {
        id: TypeId,
        size: u32,
        offsets: Vec<Option<u32>>,
        hidden: Vec<TypeId>,
    },
}

impl Edit {
    fn id(&self) -> TypeId {
        match self {
            Edit::Kconfig { id, .. } | Edit::Layout { id, .. } => *id,
        }
    }
}

/// The edits [`fixup_datasecs`] makes, read from the datasecs' records and the ELF file.
fn datasec_edits(spec: &Spec, elf: &ElfFile<'_>) -> Result<Vec<Edit>> {
    let all = datasecs(spec)?;
    if let Some((_, name)) = all
        .iter()
        .enumerate()
        .find_map(|(i, (_, name))| all[..i].iter().find(|(_, n)| n == name))
    {
        return Err(Error::BtfMismatch {
            section: format!("datasec '{name}'"),
            reason: "two datasecs of that name".into(),
        });
    }
    let mut edits = Vec::with_capacity(all.len());
    for (id, name) in all {
        if name == KSYMS_SECTION {
            continue;
        }
        if name == KCONFIG_SECTION {
            let (offsets, size) = kconfig_layout(spec, id)?;
            edits.push(Edit::Kconfig { id, size, offsets });
            continue;
        }
        let ds_size = spec.sizeof(id).map_err(btf_err(name))?;
        let Some(section) = elf.section_by_name(name) else {
            return Err(Error::BtfMismatch {
                section: format!("datasec '{name}'"),
                reason: "no elf section of that name".into(),
            });
        };
        let fixup_offsets = ds_size == 0;
        let size = if fixup_offsets {
            u32::try_from(section.size).map_err(|_| Error::BtfMismatch {
                section: format!("datasec '{name}'"),
                reason: format!("section size {} too large", section.size),
            })?
        } else {
            ds_size
        };
        // The object symbol of each name: the global one; failing that, the first local
        // one (a global variable whose symbol is static is an error the maps or variables
        // report better). Sorted by name, a name's global symbol first and otherwise in
        // section order (the sort is stable): the first of a name is the one to take.
        let mut by_name: Vec<&Symbol<'_>> = elf
            .symbols_in(section.index)
            .iter()
            .filter(|s| s.kind == STT_OBJECT)
            .collect();
        by_name.sort_by_key(|s| (s.name, !matches!(s.bind, STB_GLOBAL | STB_WEAK)));
        // The offset of each entry, by position (`None` keeps it).
        let entries = spec.datasec_entries(id).map_err(btf_err(name))?;
        let mut offsets: Vec<Option<u32>> = Vec::with_capacity(entries.len());
        let mut hidden = Vec::new();
        for entry in entries {
            let (type_id, var_size) = (entry.type_id, entry.size);
            offsets.push(None);
            // Linkage and name read from the record: no variable is decoded.
            if spec.var_linkage(type_id).map_err(btf_err(name))? != Some(VarLinkage::Global) {
                continue;
            }
            let var_name = spec.type_name(type_id).map_err(btf_err(name))?;
            let first = by_name.partition_point(|s| s.name < var_name);
            let Some(sym) = by_name.get(first).filter(|s| s.name == var_name) else {
                return Err(Error::BtfMismatch {
                    section: format!("datasec '{name}'"),
                    reason: format!("variable '{var_name}' has no elf symbol"),
                });
            };
            if fixup_offsets {
                let off = u32::try_from(sym.value)
                    .ok()
                    .filter(|o| u64::from(*o) + u64::from(var_size) <= section.size);
                let Some(off) = off else {
                    return Err(Error::BtfMismatch {
                        section: format!("datasec '{name}'"),
                        reason: format!(
                            "variable '{var_name}' at offset {} size {} is past the section end",
                            sym.value, var_size
                        ),
                    });
                };
                if let Some(entry_offset) = offsets.last_mut() {
                    *entry_offset = Some(off);
                }
            }
            if sym.visibility != STV_DEFAULT {
                hidden.push(type_id);
            }
        }
        edits.push(Edit::Layout {
            id,
            size,
            offsets,
            hidden,
        });
    }
    Ok(edits)
}

/// One entry of a datasec.
#[derive(Debug, Clone)]
pub(crate) struct DatasecVar<'a> {
    /// The variable's (or function's) name, borrowed from the BTF.
    pub name: &'a str,
    /// The type of the variable (the prototype of a function).
    pub type_id: TypeId,
    /// Offset in the section.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// The variables of datasec `name` (none if there is no such datasec).
pub(crate) fn datasec_vars<'s>(spec: &'s Spec, name: &str) -> Result<Vec<DatasecVar<'s>>> {
    let Some((id, _)) = datasec_by_name(spec, name) else {
        return Ok(Vec::new());
    };
    let entries = spec.datasec_entries(id).map_err(btf_err(name))?;
    let mut out = Vec::with_capacity(entries.len());
    for v in entries {
        // Name and type read from the record: no variable is decoded.
        if !matches!(
            spec.kind_of(v.type_id).map_err(btf_err(name))?,
            Kind::Var | Kind::Func
        ) {
            continue;
        }
        let Some(type_id) = spec.target_of(v.type_id).map_err(btf_err(name))? else {
            continue;
        };
        out.push(DatasecVar {
            name: spec.type_name(v.type_id).map_err(btf_err(name))?,
            type_id,
            offset: v.offset,
            size: v.size,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use ebpf_btf::{Builder, Datasec, Spec, Type};

    use super::datasec_by_name;

    fn spec(names: &[&str]) -> Spec {
        let mut b = Builder::new();
        for name in names {
            b.add(Type::Datasec(Datasec {
                name: (*name).into(),
                size: 0,
                vars: vec![],
            }));
        }
        Spec::parse(&b.marshal(Default::default()).expect("marshal")).expect("parse")
    }

    #[test]
    fn a_datasec_by_name_is_one_of_that_name() {
        let s = spec(&[".data", ".bss"]);
        assert_eq!(datasec_by_name(&s, ".bss").map(|(id, _)| id.0), Some(2));
        assert!(datasec_by_name(&s, ".rodata").is_none());
        // Two of a name are none, as a lookup by name finds them ambiguous.
        let s = spec(&[".data", ".data"]);
        assert!(datasec_by_name(&s, ".data").is_none());
    }
}
