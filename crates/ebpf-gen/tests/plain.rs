//! The plain style of `generate_types` (all of a BTF, or `TypeStyle::Plain`):
//! `Clone` and `Copy`, one size assertion per type, the accessors that need no
//! zerocopy traits; the full style for named types.

use ebpf_btf::{Builder, Enum, EnumValue, Int, IntEncoding, Member, Spec, Struct, Type, TypeId};
use ebpf_gen::{TypeStyle, TypesOptions, generate_types};

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

/// `struct pair { u32 a; u8 flag:1; }`, `union u { u32 n; struct pair p; }`,
/// `enum e { E_A = 1 }`.
fn spec() -> Spec {
    let mut b = Builder::new();
    let u32t = int(&mut b, "unsigned int", 4);
    let pair = b.add(Type::Struct(Struct {
        name: "pair".into(),
        size: 8,
        members: vec![member("a", u32t, 0, 0), member("flag", u32t, 32, 1)],
    }));
    b.add(Type::Union(Struct {
        name: "u".into(),
        size: 8,
        members: vec![member("n", u32t, 0, 0), member("p", pair, 0, 0)],
    }));
    b.add(Type::Enum(Enum {
        name: "e".into(),
        size: 4,
        signed: false,
        values: vec![EnumValue {
            name: "E_A".into(),
            value: 1,
        }],
    }));
    Spec::parse(&b.marshal(Default::default()).expect("marshal")).expect("parse")
}

#[test]
fn all_types_are_plain() {
    let g = generate_types(&spec(), &TypesOptions::default()).expect("generate");
    let code = &g.code;
    assert!(
        code.contains(
            "    #[repr(C)]\n    #[derive(Clone, Copy)]\n    pub struct Pair {\n        \
             /// `unsigned int a`\n        pub a: u32,\n"
        ),
        "{code}"
    );
    assert!(
        code.contains(
            "    const _: () = {\n        use ::core::mem::size_of;\n        \
             assert!(size_of::<Pair>() == 8);\n    };\n"
        ),
        "{code}"
    );
    // Bitfields and union members of integer type keep their accessors; a
    // member of aggregate type is left to `raw`, and the doc says so.
    assert!(
        code.contains("pub fn set_flag(&mut self, value: u32)"),
        "{code}"
    );
    assert!(code.contains("pub fn n(&self) -> u32"), "{code}");
    assert!(!code.contains("pub fn p(&self)"), "{code}");
    assert!(code.contains("Its members of aggregate type (1) have no accessor"));
    assert!(
        code.contains(
            "    #[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]\n    pub struct E(pub u32);"
        ),
        "{code}"
    );
    assert!(code.contains("pub const E_A: Self = Self(1);"));
    for absent in [
        "offset_of!(",
        "#[zerocopy(",
        "KnownLayout",
        "impl Default for",
    ] {
        assert!(!code.contains(absent), "{absent} in {code}");
    }
}

#[test]
fn named_types_are_full_unless_asked_plain() {
    let spec = spec();
    let options = TypesOptions {
        types: vec!["union u".into()],
        ..Default::default()
    };
    let full = generate_types(&spec, &options).expect("generate");
    assert!(
        full.code.contains("pub fn p(&self) -> Pair"),
        "{}",
        full.code
    );
    assert!(full.code.contains("assert!(offset_of!(Pair, a) == 0);"));
    assert!(full.code.contains("impl Default for U {"));
    let plain = generate_types(
        &spec,
        &TypesOptions {
            style: TypeStyle::Plain,
            ..options.clone()
        },
    )
    .expect("generate");
    assert!(!plain.code.contains("pub fn p(&self)"), "{}", plain.code);
    // And all of a BTF can have the full style too.
    let all_full = generate_types(
        &spec,
        &TypesOptions {
            style: TypeStyle::Full,
            ..Default::default()
        },
    )
    .expect("generate");
    assert!(
        all_full
            .code
            .contains("#[zerocopy(crate = \"::ebpf::zerocopy\")]")
    );
}
