//! Map keys and values printed through their BTF type: integers by size and
//! signedness, `char` arrays as strings, structs as `{field: value}`, enums by
//! name. Without a type, bytes are printed in hex.

use std::fmt::Write as _;

use ebpf_btf::{IntEncoding, Spec, Type, TypeId};

/// Nesting limit, so a malformed graph cannot recurse without bound.
const MAX_DEPTH: usize = 16;

/// Bytes in hex, grouped by 4 for readability.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2 + bytes.len() / 4);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Reads an unsigned little- or big-endian integer of `bytes.len()` <= 8 bytes
/// in host order (map data comes from the running kernel, so host order).
pub fn read_uint(bytes: &[u8]) -> Option<u64> {
    let mut buf = [0u8; 8];
    match bytes.len() {
        1 | 2 | 4 | 8 => {
            if cfg!(target_endian = "little") {
                buf[..bytes.len()].copy_from_slice(bytes);
                Some(u64::from_le_bytes(buf))
            } else {
                buf[8 - bytes.len()..].copy_from_slice(bytes);
                Some(u64::from_be_bytes(buf))
            }
        }
        _ => None,
    }
}

fn sign_extend(v: u64, size: usize) -> i64 {
    let shift = 64 - 8 * size as u32;
    ((v << shift) as i64) >> shift
}

/// `bytes` formatted as a value of type `id` of `spec`.
pub fn format(spec: &Spec, id: TypeId, bytes: &[u8]) -> String {
    let mut out = String::new();
    write_value(spec, id, bytes, &mut out, 0);
    out
}

fn is_char(spec: &Spec, id: TypeId) -> bool {
    let Ok(id) = spec.skip_qualifiers(id) else {
        return false;
    };
    match spec.type_by_id(id) {
        Ok(Type::Int(i)) => {
            i.size == 1 && (i.encoding == IntEncoding::Char || i.name.contains("char"))
        }
        Ok(Type::Typedef(t)) => is_char(spec, t.target),
        _ => false,
    }
}

fn write_value(spec: &Spec, id: TypeId, bytes: &[u8], out: &mut String, depth: usize) {
    if depth > MAX_DEPTH {
        out.push_str(&hex(bytes));
        return;
    }
    let Ok(t) = spec.type_by_id(id) else {
        out.push_str(&hex(bytes));
        return;
    };
    match t {
        Type::Int(i) => {
            let size = (i.size as usize).min(bytes.len());
            match read_uint(&bytes[..size]) {
                Some(v) if i.encoding == IntEncoding::Bool => {
                    let _ = write!(out, "{}", v != 0);
                }
                Some(v) if i.encoding == IntEncoding::Signed => {
                    let _ = write!(out, "{}", sign_extend(v, size));
                }
                Some(v) => {
                    let _ = write!(out, "{v}");
                }
                None => out.push_str(&hex(&bytes[..size])),
            }
        }
        Type::Enum(e) | Type::Enum64(e) => {
            let size = (e.size as usize).min(bytes.len());
            match read_uint(&bytes[..size]) {
                Some(v) => match e.values.iter().find(|ev| {
                    ev.value == v || (e.signed && ev.value as i64 == sign_extend(v, size))
                }) {
                    Some(ev) => out.push_str(&ev.name),
                    None => {
                        let _ = write!(out, "{v}");
                    }
                },
                None => out.push_str(&hex(bytes)),
            }
        }
        Type::Pointer(_) => match read_uint(bytes) {
            Some(v) => {
                let _ = write!(out, "{v:#x}");
            }
            None => out.push_str(&hex(bytes)),
        },
        Type::Array(a) => {
            let elem_size = spec.sizeof(a.elem).unwrap_or(0) as usize;
            if elem_size == 0 {
                out.push_str("[]");
                return;
            }
            if is_char(spec, a.elem) {
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                let _ = write!(out, "{:?}", String::from_utf8_lossy(&bytes[..end]));
                return;
            }
            out.push('[');
            for (i, chunk) in bytes.chunks(elem_size).take(a.nelems as usize).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(spec, a.elem, chunk, out, depth + 1);
            }
            out.push(']');
        }
        Type::Struct(s) | Type::Union(s) => {
            out.push('{');
            for (i, m) in s.members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if !m.name.is_empty() {
                    let _ = write!(out, "{}: ", m.name);
                }
                let start = (m.bit_offset / 8) as usize;
                if m.bitfield_size != 0 {
                    // Bitfields: read the containing bytes and extract.
                    let width = m.bitfield_size;
                    let first = m.bit_offset % 8;
                    let nbytes = ((first + width).div_ceil(8)) as usize;
                    let mut word = 0u64;
                    for (k, b) in bytes.iter().skip(start).take(nbytes.min(8)).enumerate() {
                        word |= u64::from(*b) << (8 * k);
                    }
                    let v = (word >> first) & ((1u64 << width.min(63)) - 1);
                    let _ = write!(out, "{v}");
                    continue;
                }
                let size = spec.sizeof(m.type_id).unwrap_or(0) as usize;
                match bytes.get(start..start + size) {
                    Some(field) => write_value(spec, m.type_id, field, out, depth + 1),
                    None => out.push('?'),
                }
            }
            out.push('}');
        }
        Type::Datasec(ds) => {
            // Global data: each variable by name at its offset.
            out.push('{');
            for (i, v) in ds.vars.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let (name, ty) = match spec.type_by_id(v.type_id) {
                    Ok(Type::Var(var)) => (var.name.as_str(), var.type_id),
                    _ => ("?", v.type_id),
                };
                let _ = write!(out, "{name}: ");
                let range = v.offset as usize..(v.offset as usize + v.size as usize);
                match bytes.get(range) {
                    Some(field) => write_value(spec, ty, field, out, depth + 1),
                    None => out.push('?'),
                }
            }
            out.push('}');
        }
        Type::Typedef(td) => write_value(spec, td.target, bytes, out, depth + 1),
        Type::Volatile(q) | Type::Const(q) | Type::Restrict(q) => {
            write_value(spec, q.target, bytes, out, depth + 1);
        }
        Type::Float(_) => match bytes.len() {
            4 => {
                let v = f32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                let _ = write!(out, "{v}");
            }
            8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(bytes);
                let _ = write!(out, "{}", f64::from_ne_bytes(b));
            }
            _ => out.push_str(&hex(bytes)),
        },
        _ => out.push_str(&hex(bytes)),
    }
}

/// A C-like spelling of type `id` (`const volatile __u32`, `char[6]`, `struct event *`).
pub fn type_string(spec: &Spec, id: TypeId) -> String {
    type_string_depth(spec, id, 0)
}

fn type_string_depth(spec: &Spec, id: TypeId, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "...".to_owned();
    }
    let named = |kw: &str, name: &str| {
        if name.is_empty() {
            format!("{kw} (anon)")
        } else {
            format!("{kw} {name}")
        }
    };
    match spec.type_by_id(id) {
        Ok(Type::Void) => "void".to_owned(),
        Ok(Type::Const(q)) => format!("const {}", type_string_depth(spec, q.target, depth + 1)),
        Ok(Type::Volatile(q)) => {
            format!("volatile {}", type_string_depth(spec, q.target, depth + 1))
        }
        Ok(Type::Restrict(q)) => {
            format!("{} restrict", type_string_depth(spec, q.target, depth + 1))
        }
        Ok(Type::Pointer(p)) => format!("{} *", type_string_depth(spec, p.target, depth + 1)),
        Ok(Type::Array(a)) => format!(
            "{}[{}]",
            type_string_depth(spec, a.elem, depth + 1),
            a.nelems
        ),
        Ok(Type::Struct(s)) => named("struct", &s.name),
        Ok(Type::Union(s)) => named("union", &s.name),
        Ok(Type::Enum(e) | Type::Enum64(e)) => named("enum", &e.name),
        Ok(_) => spec.type_name(id).unwrap_or("?").to_owned(),
        Err(_) => format!("<bad type {id}>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_groups_by_four() {
        assert_eq!(hex(&[1, 2, 3, 4, 5]), "01020304 05");
    }

    #[test]
    fn sign_extends() {
        assert_eq!(sign_extend(0xff, 1), -1);
        assert_eq!(sign_extend(0x7f, 1), 127);
    }

    #[test]
    fn formats_fixture_types() {
        let obj = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/syscount-el.o"
        ))
        .unwrap();
        let spec = ebpf_spec::CollectionSpec::from_elf(&obj).unwrap();
        let btf = spec.btf.as_ref().unwrap();
        let map = &spec.maps["counts"];
        let mut key = vec![0u8; map.key_size as usize];
        key[..4].copy_from_slice(&42u32.to_ne_bytes());
        key[4..8].copy_from_slice(b"bash");
        assert_eq!(
            format(btf, map.key_type.unwrap(), &key),
            r#"{pid: 42, comm: "bash"}"#
        );
        assert_eq!(
            format(btf, map.value_type.unwrap(), &7u64.to_ne_bytes()),
            "7"
        );
    }
}
