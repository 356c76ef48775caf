//! BTF-defined maps: the `.maps` section, where each map is a global variable whose struct
//! type encodes the map's attributes (`__uint(max_entries, 4)` is a pointer to an array of 4
//! elements, `__type(key, T)` a pointer to `T`, `__array(values, T)` an array of pointers).
//! Initial `values` (prog arrays, maps of maps) come from the section's relocations.
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! let outer = &spec.maps["array_of_maps"];
//! assert_eq!(outer.inner_map.as_ref().map(|m| m.max_entries), Some(1));
//! assert_eq!(spec.maps["jump_table"].contents[0].value, ebpf_spec::MapValue::Program("tail_target".into()));
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use ebpf_btf::{Kind, Spec, Type, TypeId};

use crate::elf::{ElfFile, R_BPF_64_64, R_BPF_64_ABS64, Reloc, STB_LOCAL, STT_FUNC};
use crate::error::{Error, Result};
use crate::map::{MapEntry, MapKey, MapSpec, MapValue, PinType};
use ebpf_abi::MapType;

/// The section of BTF-defined maps.
pub const MAPS_SECTION: &str = ".maps";

fn bad(map: &str, reason: impl Into<String>) -> Error {
    Error::BadMapDefinition {
        map: map.to_owned(),
        reason: reason.into(),
    }
}

/// Skips typedefs and qualifiers.
fn resolve(spec: &Spec, map: &str, id: TypeId) -> Result<TypeId> {
    spec.skip_qualifiers(id)
        .map_err(|e| bad(map, format!("type {}: {e}", id.0)))
}

/// An integer attribute: `int (*name)[N]` or an enum holding the value (`__ulong`).
/// The pointer and the array are read from their records, not decoded.
fn uint_attr(spec: &Spec, map: &str, member: &str, id: TypeId) -> Result<u64> {
    let btf = |e: ebpf_btf::Error| bad(map, e.to_string());
    let id = resolve(spec, map, id)?;
    match spec.kind_of(id).map_err(btf)? {
        Kind::Pointer => {
            let target = spec.target_of(id).map_err(btf)?.unwrap_or_default();
            match spec.array_len(resolve(spec, map, target)?).map_err(btf)? {
                Some(n) => Ok(u64::from(n)),
                None => Err(bad(map, format!("member '{member}': pointer to non-array"))),
            }
        }
        Kind::Enum | Kind::Enum64 => {
            if let Type::Enum(e) | Type::Enum64(e) = spec.type_by_id(id).map_err(btf)? {
                if let [only] = e.values.as_slice() {
                    return Ok(only.value);
                }
            }
            Err(bad(
                map,
                format!("member '{member}': not an integer attribute"),
            ))
        }
        _ => Err(bad(
            map,
            format!("member '{member}': not an integer attribute"),
        )),
    }
}

fn u32_attr(spec: &Spec, map: &str, member: &str, id: TypeId) -> Result<u32> {
    let v = uint_attr(spec, map, member, id)?;
    u32::try_from(v).map_err(|_| {
        bad(
            map,
            format!("member '{member}': value {v} does not fit 32 bits"),
        )
    })
}

/// `__type(key, T)`: a pointer to `T`; returns `T`'s id and size.
fn type_attr(spec: &Spec, map: &str, member: &str, id: TypeId) -> Result<(TypeId, u32)> {
    let id = resolve(spec, map, id)?;
    if spec.kind_of(id).map_err(|e| bad(map, e.to_string()))? != Kind::Pointer {
        return Err(bad(map, format!("member '{member}': not a pointer")));
    }
    let target = spec
        .target_of(id)
        .map_err(|e| bad(map, e.to_string()))?
        .unwrap_or_default();
    let size = spec
        .sizeof(target)
        .map_err(|e| bad(map, format!("member '{member}': {e}")))?;
    Ok((target, size))
}

/// The parsed struct of one definition; `values` is the offset of the `values` member and
/// the pointed-to element type.
struct Parsed {
    spec: MapSpec,
    values: Option<(u32, TypeId)>,
}

fn parse_def(btf: &Spec, name: &str, def_type: TypeId, depth: usize) -> Result<Parsed> {
    let id = resolve(btf, name, def_type)?;
    if btf.kind_of(id).map_err(|e| bad(name, e.to_string()))? != Kind::Struct {
        return Err(bad(name, "definition is not a struct"));
    }
    // Read from the struct's record: nothing is decoded or allocated per member.
    let members = btf.members(id).map_err(|e| bad(name, e.to_string()))?;
    let mut m = MapSpec {
        name: name.to_owned(),
        section: MAPS_SECTION.into(),
        ..MapSpec::default()
    };
    let mut values = None;
    let (mut key_size, mut value_size) = (None::<u32>, None::<u32>);
    for member in members {
        let member = member.map_err(|e| bad(name, e.to_string()))?;
        let mname = member.name;
        match mname {
            "type" => m.map_type = MapType(u32_attr(btf, name, mname, member.type_id)?),
            "max_entries" => m.max_entries = u32_attr(btf, name, mname, member.type_id)?,
            "map_flags" => m.flags = u32_attr(btf, name, mname, member.type_id)?,
            "numa_node" => m.numa_node = u32_attr(btf, name, mname, member.type_id)?,
            "map_extra" => m.map_extra = uint_attr(btf, name, mname, member.type_id)?,
            "pinning" => {
                m.pinning = match u32_attr(btf, name, mname, member.type_id)? {
                    0 => PinType::None,
                    1 => PinType::ByName,
                    v => return Err(bad(name, format!("member 'pinning': unknown pin type {v}"))),
                }
            }
            "key_size" | "value_size" => {
                let v = u32_attr(btf, name, mname, member.type_id)?;
                let slot = if mname == "key_size" {
                    &mut key_size
                } else {
                    &mut value_size
                };
                if slot.is_some_and(|old| old != v) {
                    return Err(bad(
                        name,
                        format!("member '{mname}': conflicts with the type's size"),
                    ));
                }
                *slot = Some(v);
            }
            "key" | "value" => {
                let (t, size) = type_attr(btf, name, mname, member.type_id)?;
                let slot = if mname == "key" {
                    &mut key_size
                } else {
                    &mut value_size
                };
                if slot.is_some_and(|old| old != size) {
                    return Err(bad(
                        name,
                        format!("member '{mname}': size {size} conflicts with the given size"),
                    ));
                }
                *slot = Some(size);
                if mname == "key" {
                    m.key_type = Some(t);
                } else {
                    m.value_type = Some(t);
                }
            }
            "values" => {
                let arr = match btf
                    .type_by_id(resolve(btf, name, member.type_id)?)
                    .map_err(|e| bad(name, e.to_string()))?
                {
                    Type::Array(a) => a,
                    _ => return Err(bad(name, "member 'values': not an array")),
                };
                let elem = match btf
                    .type_by_id(resolve(btf, name, arr.elem)?)
                    .map_err(|e| bad(name, e.to_string()))?
                {
                    Type::Pointer(p) => resolve(btf, name, p.target)?,
                    _ => return Err(bad(name, "member 'values': not an array of pointers")),
                };
                if member.bit_offset % 8 != 0 {
                    return Err(bad(name, "member 'values': not byte aligned"));
                }
                values = Some((member.bit_offset / 8, elem));
            }
            other => return Err(bad(name, format!("unknown member '{other}'"))),
        }
    }
    m.key_size = key_size.unwrap_or(0);
    m.value_size = value_size.unwrap_or(0);
    if let Some((_, elem)) = values {
        let elem_is_map = matches!(btf.type_by_id(elem), Ok(Type::Struct(_)));
        if m.map_type.is_map_in_map() {
            if !elem_is_map {
                return Err(bad(
                    name,
                    "member 'values': map of maps needs a map definition",
                ));
            }
            if depth > 0 {
                return Err(bad(name, "nested map of maps is not supported"));
            }
            let inner = parse_def(btf, &format!("{name}.inner"), elem, depth + 1)?;
            m.inner_map = Some(Box::new(inner.spec));
            m.value_size = 4;
        } else if m.map_type == MapType::PROG_ARRAY {
            if !matches!(btf.type_by_id(elem), Ok(Type::FuncProto(_))) {
                return Err(bad(
                    name,
                    "member 'values': prog array needs function pointers",
                ));
            }
            m.value_size = 4;
        } else {
            return Err(bad(
                name,
                format!("member 'values': not supported for map type {}", m.map_type),
            ));
        }
    }
    Ok(Parsed { spec: m, values })
}

/// Reads every map of the `.maps` section.
pub(crate) fn load_btf_maps(
    elf: &ElfFile<'_>,
    btf: Option<&Spec>,
    maps: &mut BTreeMap<String, MapSpec>,
) -> Result<()> {
    let Some(section) = elf.section_by_name(MAPS_SECTION) else {
        return Ok(());
    };
    let Some(btf) = btf else {
        return Err(Error::BtfMismatch {
            section: MAPS_SECTION.into(),
            reason: "section needs .BTF".into(),
        });
    };
    let vars = crate::datasec::datasec_vars(btf, MAPS_SECTION)?;
    // Read from the file once for all the maps (`.maps` has a few).
    let relocs: Vec<Reloc> = elf.relocs_for(section.index).collect();
    // Symbols of the section: every map must be a global object.
    for sym in elf.symbols_in(section.index) {
        if sym.bind == STB_LOCAL {
            return Err(Error::StaticMap {
                section: MAPS_SECTION.into(),
                map: sym.name.to_owned(),
            });
        }
    }
    let mut parsed = Vec::new();
    for v in vars {
        if maps.contains_key(v.name) {
            return Err(bad(v.name, "duplicate map name"));
        }
        let p = parse_def(btf, v.name, v.type_id, 0)?;
        parsed.push((v.name, p, v.offset, v.size));
    }
    for (name, mut p, offset, size) in parsed {
        if let Some((values_off, _)) = p.values {
            let start = u64::from(offset) + u64::from(values_off);
            let end = u64::from(offset) + u64::from(size);
            for r in relocs
                .iter()
                .filter(|r| r.offset >= start && r.offset < end.max(start + 1))
            {
                if r.kind != R_BPF_64_ABS64 && r.kind != R_BPF_64_64 {
                    return Err(Error::UnknownRelocation {
                        section: MAPS_SECTION.into(),
                        index: r.index,
                        offset: r.offset,
                        kind: r.kind,
                    });
                }
                let Some(sym) = elf.symbols.get(r.symbol) else {
                    return Err(Error::SymbolNotFound {
                        section: MAPS_SECTION.into(),
                        index: r.index,
                        symbol: format!("#{}", r.symbol),
                    });
                };
                if (r.offset - start) % 8 != 0 {
                    return Err(Error::BadRelocation {
                        section: MAPS_SECTION.into(),
                        index: r.index,
                        offset: r.offset,
                        symbol: sym.name.to_owned(),
                        reason: "not aligned to a value slot".into(),
                    });
                }
                let index = u32::try_from((r.offset - start) / 8).unwrap_or(u32::MAX);
                if index >= p.spec.max_entries {
                    return Err(Error::BadRelocation {
                        section: MAPS_SECTION.into(),
                        index: r.index,
                        offset: r.offset,
                        symbol: sym.name.to_owned(),
                        reason: format!("value {index} past max_entries {}", p.spec.max_entries),
                    });
                }
                let value = if p.spec.map_type == MapType::PROG_ARRAY {
                    if sym.kind != STT_FUNC {
                        return Err(Error::BadRelocation {
                            section: MAPS_SECTION.into(),
                            index: r.index,
                            offset: r.offset,
                            symbol: sym.name.to_owned(),
                            reason: "prog array value is not a function".into(),
                        });
                    }
                    MapValue::Program(sym.name.to_owned())
                } else {
                    if elf.section(sym.section).map(|s| s.index) != Some(section.index) {
                        return Err(Error::BadRelocation {
                            section: MAPS_SECTION.into(),
                            index: r.index,
                            offset: r.offset,
                            symbol: sym.name.to_owned(),
                            reason: "map of maps value is not a map".into(),
                        });
                    }
                    MapValue::Map(sym.name.to_owned())
                };
                p.spec.contents.push(MapEntry {
                    key: MapKey::Index(index),
                    value,
                });
            }
        }
        maps.insert(name.to_owned(), p.spec);
    }
    // Every value must name an existing map.
    for m in maps.values() {
        for e in &m.contents {
            if let MapValue::Map(inner) = &e.value {
                if !maps.contains_key(inner) {
                    return Err(bad(&m.name, format!("value '{inner}' is not a map")));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ebpf_btf::{
        Array, Builder, Enum, EnumValue, FuncProto, Int, IntEncoding, Member, Pointer, Struct,
    };

    use super::*;

    struct Types {
        b: Builder,
        int: TypeId,
    }

    impl Types {
        fn new() -> Types {
            let mut b = Builder::new();
            let int = b.add(Type::Int(Int {
                name: "int".into(),
                size: 4,
                encoding: IntEncoding::Signed,
                offset: 0,
                bits: 32,
            }));
            Types { b, int }
        }

        /// `int (*name)[n]`.
        fn uint(&mut self, n: u32) -> TypeId {
            let arr = self.b.add(Type::Array(Array {
                elem: self.int,
                index: self.int,
                nelems: n,
            }));
            self.b.add(Type::Pointer(Pointer { target: arr }))
        }

        fn ptr(&mut self, to: TypeId) -> TypeId {
            self.b.add(Type::Pointer(Pointer { target: to }))
        }

        fn def(&mut self, members: Vec<(&str, TypeId)>) -> TypeId {
            let members = members
                .into_iter()
                .enumerate()
                .map(|(i, (name, type_id))| Member {
                    name: name.into(),
                    type_id,
                    bit_offset: 64 * i as u32,
                    bitfield_size: 0,
                })
                .collect::<Vec<_>>();
            let size = 8 * members.len() as u32;
            self.b.add(Type::Struct(Struct {
                name: String::new(),
                size,
                members,
            }))
        }

        fn spec(&self) -> Spec {
            Spec::parse(&self.b.marshal(Default::default()).expect("marshal")).expect("parse")
        }
    }

    #[test]
    fn attributes() {
        let mut t = Types::new();
        let ty = t.uint(1);
        let max = t.uint(10);
        let flags = t.uint(1);
        let key = t.ptr(t.int);
        let pin = t.uint(1);
        let extra = t.b.add(Type::Enum64(Enum {
            name: String::new(),
            size: 8,
            signed: false,
            values: vec![EnumValue {
                name: "x".into(),
                value: 1 << 40,
            }],
        }));
        let vs = t.uint(16);
        let def = t.def(vec![
            ("type", ty),
            ("max_entries", max),
            ("map_flags", flags),
            ("key", key),
            ("value_size", vs),
            ("pinning", pin),
            ("map_extra", extra),
        ]);
        let spec = t.spec();
        let m = parse_def(&spec, "m", def, 0).expect("parse").spec;
        assert_eq!((m.map_type, m.max_entries, m.flags), (MapType::HASH, 10, 1));
        assert_eq!(
            (m.key_size, m.key_type, m.value_size, m.value_type),
            (4, Some(t.int), 16, None)
        );
        assert_eq!((m.pinning, m.map_extra), (PinType::ByName, 1 << 40));
    }

    #[test]
    fn errors() {
        let mut t = Types::new();
        let ty = t.uint(1);
        let bogus = t.uint(2);
        let unknown = t.def(vec![("type", ty), ("bogus", bogus)]);
        let ks = t.uint(8);
        let key = t.ptr(t.int);
        let conflict = t.def(vec![("key_size", ks), ("key", key)]);
        let pin = t.uint(7);
        let bad_pin = t.def(vec![("pinning", pin)]);
        let not_ptr = t.def(vec![("max_entries", t.int)]);
        let proto = t.b.add(Type::FuncProto(FuncProto {
            ret: t.int,
            params: vec![],
            variadic: false,
        }));
        let fptr = t.ptr(proto);
        let values = t.b.add(Type::Array(Array {
            elem: fptr,
            index: t.int,
            nelems: 0,
        }));
        let hash_values = t.def(vec![("type", ty), ("values", values)]);
        let spec = t.spec();
        let err = |def| {
            parse_def(&spec, "m", def, 0)
                .err()
                .expect("error")
                .to_string()
        };
        assert_eq!(
            err(unknown),
            "section '.maps': map 'm': unknown member 'bogus'"
        );
        assert!(
            err(conflict).contains("member 'key': size 4 conflicts"),
            "{}",
            err(conflict)
        );
        assert_eq!(
            err(bad_pin),
            "section '.maps': map 'm': member 'pinning': unknown pin type 7"
        );
        assert!(err(not_ptr).contains("member 'max_entries': not an integer attribute"));
        assert!(err(hash_values).contains("not supported for map type hash"));
    }
}
