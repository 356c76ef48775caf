//! Types Rust cannot represent exactly become bytes with a size assertion and
//! a reason, never a wrong layout; requested names that do not exist are errors.

use ebpf_btf::{Builder, Int, IntEncoding, Member, Spec, Struct, Type, TypeId};
use ebpf_gen::{TypesOptions, generate_types};

fn int(b: &mut Builder, name: &str, size: u32) -> TypeId {
    b.add(Type::Int(Int {
        name: name.into(),
        size,
        encoding: IntEncoding::Unsigned,
        offset: 0,
        bits: (size * 8) as u8,
    }))
}

fn member(name: &str, type_id: TypeId, bit_offset: u32, bitfield_size: u32) -> Member {
    Member {
        name: name.into(),
        type_id,
        bit_offset,
        bitfield_size,
    }
}

fn spec(b: &Builder) -> Spec {
    Spec::parse(&b.marshal(Default::default()).expect("marshal")).expect("parse")
}

#[test]
fn wide_bitfields_and_overlaps_become_bytes() {
    let mut b = Builder::new();
    let u128t = int(&mut b, "unsigned __int128", 16);
    let u32t = int(&mut b, "unsigned int", 4);
    b.add(Type::Struct(Struct {
        name: "wide".into(),
        size: 16,
        members: vec![member("huge", u128t, 0, 70)],
    }));
    b.add(Type::Struct(Struct {
        name: "overlap".into(),
        size: 8,
        members: vec![member("a", u32t, 0, 0), member("b", u32t, 16, 0)],
    }));
    b.add(Type::Struct(Struct {
        name: "keywords".into(),
        size: 8,
        members: vec![member("type", u32t, 0, 0), member("match", u32t, 32, 0)],
    }));
    let g = generate_types(&spec(&b), &TypesOptions::default()).expect("generate");
    assert!(
        g.code.contains(
            "pub struct Wide {\n        /// The value's bytes.\n        pub bytes: [u8; 16],"
        ),
        "{}",
        g.code
    );
    assert!(
        g.code
            .contains("bitfield 'huge' of 70 bits is wider than 64"),
        "{}",
        g.code
    );
    assert!(g.code.contains("assert!(size_of::<Wide>() == 16);"));
    assert!(
        g.code
            .contains("member 'b' at byte 2 overlaps the one before"),
        "{}",
        g.code
    );
    assert!(g.code.contains("pub type_: u32,") && g.code.contains("pub match_: u32,"));
    assert_eq!(g.warnings.len(), 2, "{:?}", g.warnings);
    assert!(g.warnings[0].contains("struct wide"), "{:?}", g.warnings);
}

#[test]
fn unknown_requested_type_is_an_error() {
    let mut b = Builder::new();
    int(&mut b, "int", 4);
    let opts = TypesOptions {
        types: vec!["task_struct".into()],
        ..Default::default()
    };
    let e = generate_types(&spec(&b), &opts).unwrap_err();
    assert!(
        e.to_string().contains("type 'task_struct': not in the BTF"),
        "{e}"
    );
}
