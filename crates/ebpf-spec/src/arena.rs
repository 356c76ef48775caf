//! BPF arenas (`BPF_MAP_TYPE_ARENA`): a sparse memory region shared by programs and user
//! space. Globals declared `__attribute__((address_space(1)))` (`__arena`) live in the ELF
//! section [`ARENA_SECTION`]; as in libbpf, the object must declare exactly one arena map in
//! `.maps`, whose single [`MapEntry`] (key `Index(0)`) holds the section's bytes: the initial
//! contents of the arena from offset 0. Programs refer to arena globals with an `ld_imm64`
//! of `BPF_PSEUDO_MAP_VALUE` of the arena map, the global's offset in the high half.
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/arena-el.o"))?;
//! let arena = &spec.maps["arena"];
//! assert_eq!(arena.map_type, ebpf_spec::MapType::ARENA);
//! assert_eq!(spec.variables["arena_magic"].section, ebpf_spec::ARENA_SECTION);
//! assert_eq!(spec.variable_bytes("arena_magic")?, 0x1122334455667788u64.to_le_bytes());
//! assert_eq!(arena.data().map(<[u8]>::len), Some(48));
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use crate::data::MAX_DATA_SECTION_SIZE;
use crate::elf::{ElfFile, SHF_EXECINSTR, SHT_NOBITS, SHT_PROGBITS, Section};
use crate::error::{Error, Result};
use crate::map::{MapEntry, MapKey, MapSpec, MapValue};
use crate::value_bytes::ValueBytes;
use ebpf_abi::MapType;

/// The section clang puts `__arena` globals in (address space 1).
pub const ARENA_SECTION: &str = ".addr_space.1";

/// Whether `section` holds arena globals.
pub(crate) fn is_arena_section(section: &Section<'_>) -> bool {
    section.name == ARENA_SECTION
        && (section.kind == SHT_PROGBITS || section.kind == SHT_NOBITS)
        && section.flags & SHF_EXECINSTR == 0
}

/// The name of the arena map among `maps`, if there is one.
pub(crate) fn arena_map_name(maps: &BTreeMap<String, MapSpec>) -> Option<&str> {
    maps.values()
        .find(|m| m.map_type == MapType::ARENA)
        .map(|m| m.name.as_str())
}

/// Checks that the object has at most one arena map, and gives it the arena globals'
/// initial bytes. Returns the arena map's name.
pub(crate) fn load_arena(
    elf: &ElfFile<'_>,
    maps: &mut BTreeMap<String, MapSpec>,
) -> Result<Option<String>> {
    let mut arenas = maps.values().filter(|m| m.map_type == MapType::ARENA);
    let first = arenas.next().map(|m| m.name.clone());
    if let (Some(first), Some(second)) = (&first, arenas.next()) {
        return Err(Error::BadMapDefinition {
            map: second.name.clone(),
            reason: format!("only one arena map is supported (map '{first}' is also an arena)"),
        });
    }
    let Some(section) = elf
        .sections
        .iter()
        .find(|s| is_arena_section(s) && s.size > 0)
    else {
        return Ok(first);
    };
    let Some(name) = first else {
        return Err(Error::BadSection {
            section: ARENA_SECTION.into(),
            reason: "arena globals need an arena map (BPF_MAP_TYPE_ARENA) in section '.maps'"
                .into(),
        });
    };
    let bytes = if section.kind == SHT_NOBITS {
        if section.size > u64::from(MAX_DATA_SECTION_SIZE) {
            return Err(Error::BadSection {
                section: ARENA_SECTION.into(),
                reason: format!(
                    "size {} exceeds the limit of {MAX_DATA_SECTION_SIZE} bytes",
                    section.size
                ),
            });
        }
        ValueBytes::zeroed(section.size as usize)
    } else {
        section.data.to_vec().into()
    };
    log::debug!(
        "section '{ARENA_SECTION}': {} bytes of arena globals for map '{name}'",
        bytes.len()
    );
    if let Some(m) = maps.get_mut(&name) {
        m.contents = vec![MapEntry {
            key: MapKey::Index(0),
            value: MapValue::Bytes(bytes),
        }];
    }
    Ok(Some(name))
}
