//! Shared helpers for the integration tests.
#![allow(dead_code, reason = "each test binary uses a subset")]

use std::path::PathBuf;

use ebpf_btf::*;

/// Compares `actual` with `tests/golden/<name>`, rewriting it when `EBPF_TESTDATA_UPDATE=1`.
pub fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var("EBPF_TESTDATA_UPDATE").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with EBPF_TESTDATA_UPDATE=1 to create)",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "golden mismatch for {name}; rerun with EBPF_TESTDATA_UPDATE=1 if intended"
    );
}

/// Like [`golden`], but a missing file (a fixture added after the goldens were written) is
/// reported, not a failure.
pub fn golden_if_present(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if !path.exists() && std::env::var("EBPF_TESTDATA_UPDATE").as_deref() != Ok("1") {
        println!(
            "no golden {} yet (run with EBPF_TESTDATA_UPDATE=1 to create)",
            path.display()
        );
        return;
    }
    golden(name, actual);
}

pub fn mk_int(name: &str, size: u32, encoding: IntEncoding) -> Type {
    Type::Int(Int {
        name: name.into(),
        size,
        encoding,
        offset: 0,
        bits: (size * 8) as u8,
    })
}

pub fn member(name: &str, type_id: TypeId, bit_offset: u32, bitfield_size: u32) -> Member {
    Member {
        name: name.into(),
        type_id,
        bit_offset,
        bitfield_size,
    }
}

/// A builder holding one type of every kind.
pub fn all_kinds() -> Builder {
    let mut b = Builder::new();
    let int = b.add(mk_int("int", 4, IntEncoding::Signed)); // 1
    let uint = b.add(mk_int("unsigned int", 4, IntEncoding::Unsigned)); // 2
    let chr = b.add(mk_int("char", 1, IntEncoding::Char)); // 3
    let boo = b.add(mk_int("_Bool", 1, IntEncoding::Bool)); // 4
    let _ptr = b.add(Type::Pointer(Pointer { target: chr })); // 5
    let arr = b.add(Type::Array(Array {
        elem: int,
        index: uint,
        nelems: 4,
    })); // 6
    let fwd = b.add(Type::Fwd(Fwd {
        name: "opaque".into(),
        kind: FwdKind::Struct,
    })); // 7
    let fptr = b.add(Type::Pointer(Pointer { target: fwd })); // 8
    let s = b.add(Type::Struct(Struct {
        name: "foo".into(),
        size: 32,
        members: vec![
            member("a", int, 0, 0),
            member("b", uint, 32, 3),
            member("c", uint, 35, 5),
            member("arr", arr, 64, 0),
            member("next", fptr, 192, 0),
        ],
    })); // 9
    let u = b.add(Type::Union(Struct {
        name: String::new(),
        size: 4,
        members: vec![member("i", int, 0, 0), member("flag", boo, 0, 0)],
    })); // 10
    let e = b.add(Type::Enum(Enum {
        name: "color".into(),
        size: 4,
        signed: true,
        values: vec![
            EnumValue {
                name: "RED".into(),
                value: 0,
            },
            EnumValue {
                name: "NEG".into(),
                value: (-5i64) as u64,
            },
        ],
    })); // 11
    let e64 = b.add(Type::Enum64(Enum {
        name: "big".into(),
        size: 8,
        signed: false,
        values: vec![EnumValue {
            name: "HUGE".into(),
            value: 1 << 40,
        }],
    })); // 12
    let td = b.add(Type::Typedef(Typedef {
        name: "foo_t".into(),
        target: s,
    })); // 13
    let v = b.add(Type::Volatile(Qualifier { target: int })); // 14
    let c = b.add(Type::Const(Qualifier { target: v })); // 15
    let cp = b.add(Type::Pointer(Pointer { target: c })); // 16
    let r = b.add(Type::Restrict(Qualifier { target: cp })); // 17
    let proto = b.add(Type::FuncProto(FuncProto {
        ret: int,
        params: vec![
            Param {
                name: "x".into(),
                type_id: td,
            },
            Param {
                name: "p".into(),
                type_id: r,
            },
        ],
        variadic: true,
    })); // 18
    let f = b.add(Type::Func(Func {
        name: "do_foo".into(),
        proto,
        linkage: FuncLinkage::Global,
    })); // 19
    let var = b.add(Type::Var(Var {
        name: "counter".into(),
        type_id: int,
        linkage: VarLinkage::Global,
    })); // 20
    b.add(Type::Datasec(Datasec {
        name: ".data".into(),
        size: 4,
        vars: vec![VarSecinfo {
            type_id: var,
            offset: 0,
            size: 4,
        }],
    })); // 21
    b.add(Type::Float(Float {
        name: "double".into(),
        size: 8,
    })); // 22
    b.add(Type::DeclTag(DeclTag {
        value: "kfunc".into(),
        target: f,
        component_idx: -1,
        attribute: false,
    })); // 23
    b.add(Type::DeclTag(DeclTag {
        value: "arg".into(),
        target: f,
        component_idx: 1,
        attribute: false,
    })); // 24
    let tt = b.add(Type::TypeTag(TypeTag {
        value: "user".into(),
        target: int,
        attribute: false,
    })); // 25
    b.add(Type::Pointer(Pointer { target: tt })); // 26
    b.add(Type::Union(Struct {
        name: "u".into(),
        size: 4,
        members: vec![member("x", u, 0, 0)],
    })); // 27
    b.add(Type::Struct(Struct {
        name: "foo___v2".into(),
        size: 4,
        members: vec![member("a", int, 0, 0)],
    })); // 28
    b.add(Type::Enum(Enum {
        name: "flags".into(),
        size: 1,
        signed: false,
        values: vec![EnumValue {
            name: "F1".into(),
            value: 255,
        }],
    })); // 29
    let _ = e;
    let _ = e64;
    b
}

pub fn all_kinds_spec(endian: Endian) -> Spec {
    let bytes = all_kinds()
        .marshal(MarshalOptions {
            endian: Some(endian),
        })
        .expect("marshal");
    Spec::parse(&bytes).expect("parse")
}

/// Prints `SKIP <test>: reason` past libtest's output capture (a skip must be seen).
pub fn skip(reason: impl std::fmt::Display) {
    let test = std::thread::current().name().unwrap_or("<test>").to_owned();
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!("SKIP {test}: {reason}\n"),
    );
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
