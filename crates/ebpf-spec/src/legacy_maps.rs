//! Legacy map definitions: `struct bpf_map_def` variables in a `maps` (or `maps/...`)
//! section, the only map definitions that work without BTF. As libbpf does, each definition
//! is `section size / number of map symbols` bytes; the first five `u32` fields are read
//! (type, key size, value size, max entries, flags), and any larger definition's trailing
//! bytes must be zero.
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/nobtf-el.o"))?;
//! assert_eq!(spec.maps["legacy_hash"].max_entries, 32);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use crate::elf::{ElfFile, STB_LOCAL, STT_SECTION};
use crate::error::{Error, Result};
use crate::map::MapSpec;
use ebpf_abi::MapType;

/// Whether `name` is a legacy map section.
pub(crate) fn is_legacy_maps_section(name: &str) -> bool {
    name == "maps" || name.starts_with("maps/")
}

/// Reads every legacy map section.
pub(crate) fn load_legacy_maps(
    elf: &ElfFile<'_>,
    maps: &mut BTreeMap<String, MapSpec>,
) -> Result<()> {
    for section in elf
        .sections
        .iter()
        .filter(|s| is_legacy_maps_section(s.name))
    {
        let bad = |reason: String| Error::BadLegacyMaps {
            section: section.name.to_owned(),
            reason,
        };
        let symbols: Vec<_> = elf
            .symbols_in(section.index)
            .iter()
            .filter(|s| s.kind != STT_SECTION)
            .collect();
        if symbols.is_empty() {
            if section.size == 0 {
                continue;
            }
            return Err(bad("no map symbols".into()));
        }
        let def_size = section.data.len() / symbols.len();
        if def_size == 0 || def_size % 4 != 0 || def_size * symbols.len() != section.data.len() {
            return Err(bad(format!(
                "size {} is not a multiple of {} map definitions of 4-byte fields",
                section.data.len(),
                symbols.len()
            )));
        }
        for sym in symbols {
            if sym.bind == STB_LOCAL {
                return Err(Error::StaticMap {
                    section: section.name.to_owned(),
                    map: sym.name.to_owned(),
                });
            }
            let start = usize::try_from(sym.value)
                .ok()
                .filter(|v| v % def_size == 0);
            let Some(def) = start.and_then(|s| section.data.get(s..s.checked_add(def_size)?))
            else {
                return Err(bad(format!(
                    "map '{}': definition at offset {} out of bounds",
                    sym.name, sym.value
                )));
            };
            let field = |i: usize| elf.u32_at(def, i * 4).unwrap_or(0);
            if def.len() > 20 && def[20..].iter().any(|b| *b != 0) {
                return Err(bad(format!(
                    "map '{}': unrecognized non-zero fields after map_flags",
                    sym.name
                )));
            }
            if maps.contains_key(sym.name) {
                return Err(bad(format!("map '{}': duplicate map name", sym.name)));
            }
            let mut m = MapSpec::new(
                sym.name.to_owned(),
                MapType(field(0)),
                field(1),
                field(2),
                field(3),
            );
            m.flags = field(4);
            section.name.clone_into(&mut m.section);
            maps.insert(sym.name.to_owned(), m);
        }
    }
    Ok(())
}
