//! Global data: `.data`, `.rodata`, `.bss` and their `.data.*`, `.rodata.*`, `.bss.*`
//! variants become single-entry array maps holding the section's bytes (zeros for `.bss`);
//! `.kconfig` externs become a virtual read-only map laid out from BTF.
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! let rodata = &spec.maps[".rodata"];
//! assert!(rodata.freeze);
//! assert_eq!(rodata.data().map(<[u8]>::len), Some(10));
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use ebpf_btf::Spec;

use crate::datasec::{KCONFIG_SECTION, datasec_by_name};
use crate::elf::{ElfFile, SHF_EXECINSTR, SHT_NOBITS, SHT_PROGBITS, Section};
use crate::error::{Error, Result};
use crate::limits::{Limits, check_total};
use crate::map::{MAP_FLAG_RDONLY_PROG, MapEntry, MapKey, MapSpec, MapValue};
use crate::value_bytes::ValueBytes;
use ebpf_abi::MapType;

/// The largest global data section this crate materialises (a `.bss` has no bytes in the
/// file, so its size alone must be bounded). The kernel refuses array values above
/// `KMALLOC_MAX_SIZE` (4 MiB on x86-64) anyway.
pub const MAX_DATA_SECTION_SIZE: u32 = 64 << 20;

/// What kind of global data a section holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataKind {
    /// `.data`, `.data.*`.
    Data,
    /// `.rodata`, `.rodata.*`: read-only for programs, frozen after load.
    Rodata,
    /// `.bss`, `.bss.*`: zero-initialised.
    Bss,
}

fn has_stem(name: &str, stem: &str) -> bool {
    name == stem
        || name
            .strip_prefix(stem)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The kind of global data `section` holds, if it is a (non-empty) data section.
pub(crate) fn data_kind(section: &Section<'_>) -> Option<DataKind> {
    if section.size == 0 {
        return None;
    }
    if section.kind == SHT_PROGBITS && section.flags & SHF_EXECINSTR == 0 {
        if has_stem(section.name, ".data") {
            return Some(DataKind::Data);
        }
        if has_stem(section.name, ".rodata") {
            return Some(DataKind::Rodata);
        }
    }
    if section.kind == SHT_NOBITS && has_stem(section.name, ".bss") {
        return Some(DataKind::Bss);
    }
    None
}

/// The size of data section `section`, if it is within [`MAX_DATA_SECTION_SIZE`].
fn section_size(section: &Section<'_>) -> Result<u32> {
    u32::try_from(section.size)
        .ok()
        .filter(|s| *s <= MAX_DATA_SECTION_SIZE)
        .ok_or_else(|| Error::BadSection {
            section: section.name.to_owned(),
            reason: format!(
                "size {} exceeds the limit of {MAX_DATA_SECTION_SIZE} bytes",
                section.size
            ),
        })
}

/// Makes one array map per data section, and the `.kconfig` map; refuses, from the
/// section headers and before allocating, data that needs more than `limits`.
pub(crate) fn load_data_maps(
    elf: &ElfFile<'_>,
    btf: Option<&Spec>,
    maps: &mut BTreeMap<String, MapSpec>,
    limits: &Limits,
) -> Result<()> {
    let kconfig = btf.and_then(|b| datasec_by_name(b, KCONFIG_SECTION));
    for section in elf.sections.iter().filter(|s| data_kind(s).is_some()) {
        section_size(section)?;
    }
    check_total(
        elf.sections
            .iter()
            .filter(|s| data_kind(s).is_some())
            .map(|s| (s.name, s.size))
            .chain(
                kconfig
                    .as_ref()
                    .map(|&(_, size)| (KCONFIG_SECTION, u64::from(size))),
            ),
        limits,
    )?;
    for section in &elf.sections {
        let Some(kind) = data_kind(section) else {
            continue;
        };
        log::debug!("section '{}': global data map ({kind:?})", section.name);
        let size = section_size(section)?;
        let bytes = match kind {
            DataKind::Bss => ValueBytes::zeroed(size as usize),
            _ => section.data.to_vec().into(),
        };
        if maps.contains_key(section.name) {
            return Err(Error::BadSection {
                section: section.name.to_owned(),
                reason: "map name already taken".into(),
            });
        }
        let mut m = MapSpec::new(section.name.to_owned(), MapType::ARRAY, 4, size, 1);
        section.name.clone_into(&mut m.section);
        if kind == DataKind::Rodata {
            m.flags = MAP_FLAG_RDONLY_PROG;
            m.freeze = true;
        }
        m.value_type = btf
            .and_then(|b| datasec_by_name(b, section.name))
            .map(|(id, _)| id);
        m.contents.push(MapEntry {
            key: MapKey::Index(0),
            value: MapValue::Bytes(bytes),
        });
        maps.insert(section.name.to_owned(), m);
    }
    if let Some(btf) = btf {
        if let Some((id, size)) = kconfig {
            if size > MAX_DATA_SECTION_SIZE {
                return Err(Error::BadSection {
                    section: KCONFIG_SECTION.into(),
                    reason: format!(
                        "size {size} exceeds the limit of {MAX_DATA_SECTION_SIZE} bytes"
                    ),
                });
            }
            let has_vars = btf.datasec_entries(id).is_ok_and(|e| e.len() > 0);
            if has_vars && size > 0 {
                let mut m = MapSpec::new(KCONFIG_SECTION, MapType::ARRAY, 4, size, 1);
                m.section = KCONFIG_SECTION.into();
                m.flags = MAP_FLAG_RDONLY_PROG;
                m.freeze = true;
                m.value_type = Some(id);
                m.contents.push(MapEntry {
                    key: MapKey::Index(0),
                    value: MapValue::Bytes(ValueBytes::zeroed(size as usize)),
                });
                maps.insert(KCONFIG_SECTION.into(), m);
            }
        }
    }
    Ok(())
}
