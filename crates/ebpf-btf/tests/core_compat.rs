//! CO-RE compatibility relations on hand-built BTF: libbpf's field compatibility,
//! type compatibility and the stricter `type_matches`.

use ebpf_btf::core::{fields_are_compat, types_are_compat, types_match};
use ebpf_btf::*;

mod core_common;
use core_common::*;

// ---------------------------------------------------------------- compat rules

/// A spec with one type of many shapes, returned with named ids.
struct Shapes {
    spec: Spec,
    ids: std::collections::HashMap<&'static str, TypeId>,
}

impl Shapes {
    fn id(&self, n: &str) -> TypeId {
        self.ids[n]
    }
}

fn shapes(variant: u8) -> Shapes {
    let mut b = Builder::new();
    let mut ids = std::collections::HashMap::new();
    let i32_ = b.add(int("int", 4, IntEncoding::Signed));
    let u16_ = b.add(int("unsigned short", 2, IntEncoding::Unsigned));
    let u32_ = b.add(int("unsigned int", 4, IntEncoding::Unsigned));
    let odd = b.add(Type::Int(Int {
        name: "odd".into(),
        size: 4,
        encoding: IntEncoding::Unsigned,
        offset: 3,
        bits: 5,
    }));
    ids.insert("int", i32_);
    ids.insert("u16", u16_);
    ids.insert("u32", u32_);
    ids.insert("odd", odd);
    ids.insert("enum e", b.add(en("e", 4, &[("A", 1), ("B", 2)])));
    ids.insert("enum e___v2", b.add(en("e___v2", 4, &[("B", 7)])));
    ids.insert("enum other", b.add(en("other", 4, &[("A", 1)])));
    ids.insert("enum anon", b.add(en("", 4, &[("A", 1)])));
    ids.insert("enum e small", b.add(en("e", 1, &[("A", 1), ("B", 2)])));
    ids.insert(
        "enum64 e",
        b.add(Type::Enum64(Enum {
            name: "e".into(),
            size: 8,
            signed: false,
            values: vec![
                EnumValue {
                    name: "A".into(),
                    value: 1 << 40,
                },
                EnumValue {
                    name: "B".into(),
                    value: 2,
                },
            ],
        })),
    );
    ids.insert(
        "fwd s",
        b.add(Type::Fwd(Fwd {
            name: "s".into(),
            kind: FwdKind::Struct,
        })),
    );
    ids.insert(
        "fwd u",
        b.add(Type::Fwd(Fwd {
            name: "s".into(),
            kind: FwdKind::Union,
        })),
    );
    let sm = if variant == 0 {
        vec![m("a", i32_, 0, 0), m("b", u16_, 32, 0)]
    } else {
        vec![m("b", u32_, 0, 0), m("a", i32_, 32, 0), m("z", i32_, 64, 0)]
    };
    let s = b.add(st("s", if variant == 0 { 8 } else { 12 }, sm));
    ids.insert("struct s", s);
    ids.insert(
        "struct s missing",
        b.add(st("s", 4, vec![m("a", i32_, 0, 0)])),
    );
    ids.insert("struct s char a", {
        let c = b.add(int("char", 1, IntEncoding::Char));
        b.add(st("s", 4, vec![m("a", c, 0, 0)]))
    });
    ids.insert("union s", b.add(un("s", 4, vec![m("a", i32_, 0, 0)])));
    ids.insert("ptr struct s", b.add(Type::Pointer(Pointer { target: s })));
    let fwd_s = ids["fwd s"];
    let fwd_u = ids["fwd u"];
    ids.insert("ptr fwd s", b.add(Type::Pointer(Pointer { target: fwd_s })));
    ids.insert("ptr fwd u", b.add(Type::Pointer(Pointer { target: fwd_u })));
    ids.insert("ptr int", b.add(Type::Pointer(Pointer { target: i32_ })));
    ids.insert("int[4]", b.add(arr(i32_, i32_, 4)));
    ids.insert("int[8]", b.add(arr(i32_, i32_, 8)));
    ids.insert("u16[4]", b.add(arr(u16_, i32_, 4)));
    ids.insert("s[4]", b.add(arr(s, i32_, 4)));
    ids.insert(
        "typedef s_t",
        b.add(Type::Typedef(Typedef {
            name: "s_t".into(),
            target: s,
        })),
    );
    let const_int = b.add(Type::Const(Qualifier { target: i32_ }));
    ids.insert("const int", const_int);
    ids.insert(
        "proto(int)",
        b.add(Type::FuncProto(FuncProto {
            ret: i32_,
            params: vec![Param {
                name: "x".into(),
                type_id: i32_,
            }],
            variadic: false,
        })),
    );
    ids.insert(
        "proto()",
        b.add(Type::FuncProto(FuncProto {
            ret: i32_,
            params: vec![],
            variadic: false,
        })),
    );
    ids.insert(
        "float",
        b.add(Type::Float(Float {
            name: "float".into(),
            size: 4,
        })),
    );
    Shapes {
        spec: build(&b),
        ids,
    }
}

#[test]
fn core_fields_are_compat_rules() {
    let (l, t) = (shapes(0), shapes(1));
    let f = |a: &str, b: &str| fields_are_compat(&l.spec, l.id(a), &t.spec, t.id(b)).unwrap();
    assert!(f("int", "u16"), "int sizes and signedness are ignored");
    assert!(f("u32", "int"));
    assert!(f("const int", "u16"), "qualifiers are skipped");
    assert!(!f("int", "odd"), "legacy bit-offset ints are rejected");
    assert!(!f("int", "enum e"), "enum vs int");
    assert!(f("enum e", "enum64 e"), "enum vs enum64 with the same name");
    assert!(f("enum e", "enum e___v2"), "flavours are ignored");
    assert!(!f("enum e", "enum other"));
    assert!(
        f("enum anon", "enum other"),
        "an anonymous enum matches any"
    );
    assert!(f("struct s", "union s"), "any two composites");
    assert!(!f("fwd s", "struct s"), "fwd vs struct");
    assert!(f("fwd s", "fwd u"), "fwds compare names only");
    assert!(f("ptr int", "ptr struct s"), "any two pointers");
    assert!(f("int[4]", "int[8]"), "array length is ignored");
    assert!(f("int[4]", "u16[4]"), "element compat");
    assert!(!f("int[4]", "s[4]"));
    assert!(f("float", "float"));
    assert!(!f("proto(int)", "proto(int)"), "functions are not fields");
}

#[test]
fn core_types_are_compat_rules() {
    let (l, t) = (shapes(0), shapes(1));
    let f = |a: &str, b: &str| types_are_compat(&l.spec, l.id(a), &t.spec, t.id(b)).unwrap();
    assert!(f("struct s", "struct s"), "member layout is not checked");
    assert!(!f("struct s", "union s"), "struct vs union");
    assert!(f("int", "u16"));
    assert!(!f("int", "odd"));
    assert!(f("enum e", "enum64 e"));
    assert!(
        f("enum e", "enum other"),
        "names below the root are ignored"
    );
    assert!(f("fwd s", "fwd u"));
    assert!(!f("fwd s", "struct s"));
    assert!(f("ptr int", "ptr int"));
    assert!(!f("ptr int", "ptr struct s"));
    assert!(f("int[4]", "int[8]"));
    assert!(
        !f("typedef s_t", "struct s"),
        "the root kinds must agree before typedefs are skipped"
    );
    assert!(f("proto(int)", "proto(int)"));
    assert!(!f("proto(int)", "proto()"), "argument count");
    assert!(
        !f("float", "float"),
        "libbpf does not relocate floats by type"
    );
}

#[test]
fn core_types_match_rules() {
    let (l, t) = (shapes(0), shapes(1));
    let f = |a: &str, b: &str| types_match(&l.spec, l.id(a), &t.spec, t.id(b)).unwrap();
    assert!(
        !f("struct s", "struct s"),
        "member b: u16 vs u32 differ in size"
    );
    assert!(
        f("struct s missing", "struct s"),
        "target may have more members, in any order"
    );
    assert!(
        !f("struct s", "struct s missing"),
        "every local member must exist in the target"
    );
    assert!(!f("struct s char a", "struct s"), "member types must match");
    assert!(!f("struct s", "union s"));
    assert!(f("int", "int"));
    assert!(!f("int", "u32"), "signedness");
    assert!(!f("u16", "u32"), "size");
    assert!(
        f("enum e___v2", "enum e"),
        "local enumerators must exist by name, values ignored"
    );
    assert!(!f("enum e", "enum e___v2"), "local has more enumerators");
    assert!(!f("enum e small", "enum e"), "enum size");
    assert!(
        !f("enum e", "enum64 e"),
        "enum vs enum64 of a different size"
    );
    assert!(
        f("ptr struct s", "ptr fwd s"),
        "behind a pointer a struct matches a struct fwd"
    );
    assert!(!f("ptr struct s", "ptr fwd u"), "but not a union fwd");
    assert!(f("ptr fwd s", "ptr struct s"));
    assert!(!f("fwd s", "struct s"), "not behind a pointer");
    assert!(f("int[4]", "int[4]"));
    assert!(!f("int[4]", "int[8]"), "array length");
    assert!(f("proto(int)", "proto(int)"));
    assert!(!f("proto(int)", "proto()"));
    assert!(!f("enum e", "enum other"), "names must match");
}
