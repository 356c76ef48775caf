//! [`VariableSpec`]: a global, non-hidden variable in a data section, and reading or
//! rewriting its bytes before load (for example a `volatile const` in `.rodata`).
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let mut spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! assert_eq!(spec.variables["const_limit"].section, ".rodata");
//! assert_eq!(spec.variable_bytes("const_limit")?, 42u32.to_le_bytes());
//! spec.set_variable("const_limit", &7u32.to_le_bytes())?;
//! assert_eq!(spec.variable_bytes("const_limit")?, 7u32.to_le_bytes());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use ebpf_btf::{Spec, TypeId};

use crate::arena::is_arena_section;
use crate::data::data_kind;
use crate::datasec::datasec_vars;
use crate::elf::{ElfFile, STB_GLOBAL, STB_WEAK, STT_OBJECT, STV_DEFAULT};
use crate::error::{Error, Result};

/// A global variable in a data section.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VariableSpec {
    /// The symbol name.
    pub name: String,
    /// The data section holding it: the map of that name, or for
    /// [`ARENA_SECTION`](crate::ARENA_SECTION) the object's arena map.
    pub section: String,
    /// Byte offset in the section.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
    /// The variable's type in the object's BTF (`None` without BTF).
    pub type_id: Option<TypeId>,
}

/// Collects the variables of every data section, checking them against the BTF datasecs.
pub(crate) fn load_variables(
    elf: &ElfFile<'_>,
    btf: Option<&Spec>,
) -> Result<BTreeMap<String, VariableSpec>> {
    let mut out = BTreeMap::new();
    for section in &elf.sections {
        if data_kind(section).is_none() && !is_arena_section(section) {
            continue;
        }
        let vars = match btf {
            Some(b) => Some(datasec_vars(b, section.name)?),
            None => None,
        };
        for sym in elf.symbols_in(section.index) {
            if sym.kind != STT_OBJECT
                || !(sym.bind == STB_GLOBAL || sym.bind == STB_WEAK)
                || sym.visibility != STV_DEFAULT
            {
                continue;
            }
            let bad = |reason: String| Error::BtfMismatch {
                section: format!("datasec '{}'", section.name),
                reason,
            };
            let (offset, size) = match (u32::try_from(sym.value), u32::try_from(sym.size)) {
                (Ok(o), Ok(s)) if u64::from(o) + u64::from(s) <= section.size => (o, s),
                _ => {
                    return Err(Error::BadSymbol {
                        section: section.name.to_owned(),
                        symbol: sym.name.to_owned(),
                        reason: format!(
                            "offset {} size {} past the section end",
                            sym.value, sym.size
                        ),
                    });
                }
            };
            let type_id = match &vars {
                None => None,
                // A datasec may be missing for a section clang emitted no BTF for.
                Some(vars) if vars.is_empty() => None,
                Some(vars) => {
                    // Statics of other source files may share the name (linked objects):
                    // prefer the entry at the symbol's offset.
                    let Some(v) = vars
                        .iter()
                        .find(|v| v.name == sym.name && v.offset == offset)
                        .or_else(|| vars.iter().find(|v| v.name == sym.name))
                    else {
                        return Err(bad(format!(
                            "variable '{}' is not in the datasec",
                            sym.name
                        )));
                    };
                    if v.offset != offset || v.size != size {
                        // libbpf's linker leaves a weak variable's datasec entry where the
                        // weak definition was when a strong one overrides it; the symbol
                        // says where the code reads it (libbpf checks neither).
                        log::debug!(
                            "datasec '{}': variable '{}': btf says offset {} size {}, elf says \
                             offset {offset} size {size}: the symbol wins",
                            section.name,
                            sym.name,
                            v.offset,
                            v.size
                        );
                    }
                    Some(v.type_id)
                }
            };
            if out.contains_key(sym.name) {
                return Err(Error::BadSymbol {
                    section: section.name.to_owned(),
                    symbol: sym.name.to_owned(),
                    reason: "duplicate variable name".into(),
                });
            }
            out.insert(
                sym.name.to_owned(),
                VariableSpec {
                    name: sym.name.to_owned(),
                    section: section.name.to_owned(),
                    offset,
                    size,
                    type_id,
                },
            );
        }
    }
    Ok(out)
}
