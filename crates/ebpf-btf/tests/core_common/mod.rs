//! Builders of hand-made BTF types shared by the CO-RE test binaries.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use ebpf_btf::*;

pub fn int(name: &str, size: u32, encoding: IntEncoding) -> Type {
    Type::Int(Int {
        name: name.into(),
        size,
        encoding,
        offset: 0,
        bits: (size * 8) as u8,
    })
}

pub fn m(name: &str, type_id: TypeId, bit_offset: u32, bitfield_size: u32) -> Member {
    Member {
        name: name.into(),
        type_id,
        bit_offset,
        bitfield_size,
    }
}

pub fn st(name: &str, size: u32, members: Vec<Member>) -> Type {
    Type::Struct(Struct {
        name: name.into(),
        size,
        members,
    })
}

pub fn un(name: &str, size: u32, members: Vec<Member>) -> Type {
    Type::Union(Struct {
        name: name.into(),
        size,
        members,
    })
}

pub fn en(name: &str, size: u32, values: &[(&str, u64)]) -> Type {
    Type::Enum(Enum {
        name: name.into(),
        size,
        signed: false,
        values: values
            .iter()
            .map(|(n, v)| EnumValue {
                name: (*n).into(),
                value: *v,
            })
            .collect(),
    })
}

pub fn arr(elem: TypeId, index: TypeId, nelems: u32) -> Type {
    Type::Array(Array {
        elem,
        index,
        nelems,
    })
}

pub fn build(b: &Builder) -> Spec {
    Spec::parse(&b.marshal(MarshalOptions::default()).unwrap()).unwrap()
}

/// `e` and its causes, joined with ": ", as a user's program prints them.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}
