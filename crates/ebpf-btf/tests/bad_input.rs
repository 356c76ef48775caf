//! Malformed BTF returns typed errors, never panics.

mod common;

use common::*;
use ebpf_btf::*;

fn blob() -> Vec<u8> {
    all_kinds()
        .marshal(MarshalOptions {
            endian: Some(Endian::Little),
        })
        .unwrap()
}

fn set_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn truncated_header() {
    for n in 0..24 {
        let e = Spec::parse(&blob()[..n]).unwrap_err();
        assert!(
            matches!(e, Error::Truncated { .. } | Error::BadMagic { .. }),
            "{n}: {e}"
        );
    }
}

#[test]
fn every_truncation_errors() {
    let b = blob();
    for n in 0..b.len() {
        assert!(Spec::parse(&b[..n]).is_err(), "truncated to {n} parsed");
    }
}

#[test]
fn bad_magic_and_version() {
    let mut b = blob();
    b[0] = 0;
    assert!(matches!(Spec::parse(&b), Err(Error::BadMagic { .. })));
    let mut b = blob();
    b[2] = 2;
    assert!(matches!(Spec::parse(&b), Err(Error::BadVersion { .. })));
}

#[test]
fn header_extension_must_be_zero() {
    let b = blob();
    let mut ext = b[..24].to_vec();
    set_u32(&mut ext, 4, 32);
    ext.extend_from_slice(&[0; 8]);
    ext.extend_from_slice(&b[24..]);
    let spec = Spec::parse(&ext).unwrap();
    assert_eq!(spec.len(), 29);
    ext[30] = 1;
    let e = Spec::parse(&ext).unwrap_err();
    assert!(
        matches!(e, Error::BadHeader { field, .. } if field.contains("hdr_len")),
        "{e}"
    );
}

#[test]
fn section_out_of_bounds() {
    let mut b = blob();
    set_u32(&mut b, 20, 1 << 20); // str_len
    assert!(matches!(Spec::parse(&b), Err(Error::BadHeader { .. })));
    let mut b = blob();
    set_u32(&mut b, 12, u32::MAX); // type_len
    assert!(matches!(Spec::parse(&b), Err(Error::BadHeader { .. })));
}

#[test]
fn type_id_out_of_range() {
    let mut b = Builder::new();
    b.add(Type::Pointer(Pointer { target: TypeId(1) }));
    let mut bytes = b
        .marshal(MarshalOptions {
            endian: Some(Endian::Little),
        })
        .unwrap();
    set_u32(&mut bytes, 24 + 8, 7);
    let e = Spec::parse(&bytes).unwrap_err();
    assert_eq!(e.to_string(), "btf: type 1: type: type id out of range");
    assert!(Builder::new().marshal(MarshalOptions::default()).is_ok());
    let mut b = Builder::new();
    b.add(Type::Pointer(Pointer { target: TypeId(5) }));
    assert!(matches!(
        b.marshal(MarshalOptions::default()),
        Err(Error::Marshal(_))
    ));
}

#[test]
fn string_offset_past_table() {
    let mut b = blob();
    set_u32(&mut b, 24, 1 << 16); // first type's name_off
    let e = Spec::parse(&b).unwrap_err();
    assert!(matches!(e, Error::BadString { .. }), "{e}");
    assert!(e.to_string().starts_with("btf: type 1: name_off"), "{e}");
}

#[test]
fn absurd_vlen() {
    let mut b = Builder::new();
    b.add(Type::Struct(Struct {
        name: "s".into(),
        size: 4,
        members: vec![],
    }));
    let mut bytes = b
        .marshal(MarshalOptions {
            endian: Some(Endian::Little),
        })
        .unwrap();
    set_u32(&mut bytes, 24 + 4, (4 << 24) | 0xffff);
    let e = Spec::parse(&bytes).unwrap_err();
    assert!(
        matches!(&e, Error::BadType { id: TypeId(1), field, .. } if field == "vlen"),
        "{e}"
    );
}

#[test]
fn unknown_kind_and_bad_int() {
    let mut b = Builder::new();
    b.add(mk_int("int", 4, IntEncoding::Signed));
    let good = b
        .marshal(MarshalOptions {
            endian: Some(Endian::Little),
        })
        .unwrap();
    let mut bytes = good.clone();
    set_u32(&mut bytes, 24 + 4, 31 << 24);
    assert!(matches!(Spec::parse(&bytes), Err(Error::BadType { .. })));
    let mut bytes = good.clone();
    set_u32(&mut bytes, 24 + 12, (3 << 24) | 32); // encoding SIGNED|CHAR
    assert!(matches!(Spec::parse(&bytes), Err(Error::BadType { .. })));
    let mut bytes = good;
    set_u32(&mut bytes, 24 + 12, 64); // 64 bits in 4 bytes
    assert!(matches!(Spec::parse(&bytes), Err(Error::BadType { .. })));
}

#[test]
fn garbage_never_panics() {
    // A cheap deterministic fuzz: flip bytes of a valid blob in both orders.
    for endian in [Endian::Little, Endian::Big] {
        let b = all_kinds()
            .marshal(MarshalOptions {
                endian: Some(endian),
            })
            .unwrap();
        let mut x: u32 = 0x1234_5678;
        for _ in 0..1000 {
            let mut m = b.clone();
            for _ in 0..3 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let i = x as usize % m.len();
                m[i] = (x >> 8) as u8;
            }
            if let Ok(spec) = Spec::parse(&m) {
                let _ = spec.dump_raw();
                let _ = ebpf_btf::format_c::dump_c(&spec);
                let _ = spec.marshal(MarshalOptions::default());
                for id in spec.ids() {
                    let _ = spec.sizeof(id);
                    let _ = spec.alignof(id);
                }
            }
        }
    }
}

/// A corruption of a blob.
type Corrupt = Box<dyn Fn(&mut Vec<u8>)>;

/// For each corruption of `good`: parsing fails exactly as decoding the type at fault does.
fn parse_reports_what_decoding_reports(good: &[u8], cases: Vec<(TypeId, Corrupt)>) {
    for (at, corrupt) in cases {
        let mut bytes = good.to_vec();
        corrupt(&mut bytes);
        let eager = Spec::parse(&bytes).expect_err("corrupt spec parsed");
        let lazy = Spec::parse_lazy(bytes).expect("header pass");
        let decoded = lazy.type_by_id(at).expect_err("corrupt type decoded");
        assert_eq!(eager.to_string(), decoded.to_string(), "type {at}");
    }
}

/// The little-endian bytes of `b` (checked to parse), its header length and the length of
/// its string table.
fn marshal_valid(b: &Builder) -> (Vec<u8>, usize, u32) {
    let good = b.marshal(MarshalOptions::default()).unwrap();
    Spec::parse(&good).unwrap();
    let hdr_len = u32::from_le_bytes(good[4..8].try_into().unwrap()) as usize;
    let str_len = u32::from_le_bytes(good[20..24].try_into().unwrap());
    (good, hdr_len, str_len)
}

/// A spec big enough for `Spec::parse` to take its quick paths (a table of valid names,
/// quick tests per record): each corruption is reported exactly as decoding the type
/// reports it.
#[test]
fn big_spec_quick_checks_report_what_decoding_reports() {
    const N: u32 = 1500;
    let mut b = Builder::new();
    let int = b.add(mk_int("int", 4, IntEncoding::Signed));
    for i in 0..N {
        let ptr = b.add(Type::Pointer(Pointer { target: int }));
        let proto = b.add(Type::FuncProto(FuncProto {
            ret: int,
            params: vec![Param {
                name: "x".into(),
                type_id: ptr,
            }],
            variadic: false,
        }));
        b.add(Type::Func(Func {
            name: format!("f{i}"),
            proto,
            linkage: FuncLinkage::Global,
        }));
    }
    let (good, hdr_len, str_len) = marshal_valid(&b);
    // Records: INT (16 bytes), then per i: PTR (12), FUNC_PROTO with one param (20), FUNC (12).
    let ptr = move |i: u32| hdr_len + 16 + 44 * i as usize;
    let proto = move |i: u32| ptr(i) + 12;
    let func = move |i: u32| ptr(i) + 32;
    let id = |i: u32, k: u32| TypeId(2 + 3 * i + k);
    let put = |bytes: &mut Vec<u8>, at: usize, v: u32| set_u32(bytes, at, v);
    let cases: Vec<(TypeId, Corrupt)> = vec![
        // FUNC's proto out of range.
        (
            id(700, 2),
            Box::new(move |v| put(v, func(700) + 8, 0xf_0000)),
        ),
        // FUNC linkage 3.
        (
            id(701, 2),
            Box::new(move |v| put(v, func(701) + 4, (12 << 24) | 3)),
        ),
        // PTR with a name.
        (id(702, 0), Box::new(move |v| put(v, ptr(702), 1))),
        // PTR with members.
        (
            id(703, 0),
            Box::new(move |v| put(v, ptr(703) + 4, (2 << 24) | 1)),
        ),
        // FUNC_PROTO parameter type out of range.
        (
            id(704, 1),
            Box::new(move |v| put(v, proto(704) + 16, 0xf_0000)),
        ),
        // FUNC_PROTO parameter name past the string table.
        (
            id(705, 1),
            Box::new(move |v| put(v, proto(705) + 12, str_len + 5)),
        ),
        // FUNC_PROTO with a name.
        (id(706, 1), Box::new(move |v| put(v, proto(706), 1))),
    ];
    parse_reports_what_decoding_reports(&good, cases);
}

/// The same for structs, enums and arrays.
#[test]
fn big_spec_quick_checks_of_lists_report_what_decoding_reports() {
    const N: u32 = 1500;
    let mut b = Builder::new();
    let int = b.add(mk_int("int", 4, IntEncoding::Signed));
    for i in 0..N {
        b.add(Type::Struct(Struct {
            name: format!("s{i}"),
            size: 8,
            members: vec![member("a", int, 0, 0), member("b", int, 32, 0)],
        }));
        b.add(Type::Enum(Enum {
            name: format!("e{i}"),
            size: 4,
            signed: false,
            values: vec![EnumValue {
                name: format!("E{i}"),
                value: 1,
            }],
        }));
        b.add(Type::Array(Array {
            elem: int,
            index: int,
            nelems: 2,
        }));
    }
    let (good, hdr_len, str_len) = marshal_valid(&b);
    // Records: INT (16 bytes), then per i: STRUCT with two members (36), ENUM with one
    // value (20), ARRAY (24).
    let st = move |i: u32| hdr_len + 16 + 80 * i as usize;
    let en = move |i: u32| st(i) + 36;
    let arr = move |i: u32| st(i) + 56;
    let id = |i: u32, k: u32| TypeId(2 + 3 * i + k);
    let put = |bytes: &mut Vec<u8>, at: usize, v: u32| set_u32(bytes, at, v);
    let cases: Vec<(TypeId, Corrupt)> = vec![
        // Second member's type out of range.
        (
            id(700, 0),
            Box::new(move |v| put(v, st(700) + 12 + 12 + 4, 0xf_0000)),
        ),
        // First member's name past the string table.
        (
            id(701, 0),
            Box::new(move |v| put(v, st(701) + 12, str_len + 3)),
        ),
        // Enum value name past the string table.
        (
            id(702, 1),
            Box::new(move |v| put(v, en(702) + 12, str_len + 3)),
        ),
        // Array index type out of range.
        (
            id(703, 2),
            Box::new(move |v| put(v, arr(703) + 16, 0xf_0000)),
        ),
        // Array with a name.
        (id(704, 2), Box::new(move |v| put(v, arr(704), 1))),
    ];
    parse_reports_what_decoding_reports(&good, cases);
}

/// The same for the other kinds: ints, forwards, floats, variables, tags, 64-bit enums and
/// datasecs.
#[test]
fn big_spec_quick_checks_of_other_kinds_report_what_decoding_reports() {
    const N: u32 = 1500;
    let mut b = Builder::new();
    let int = b.add(mk_int("int", 4, IntEncoding::Signed));
    let mut first_var = None;
    for i in 0..N {
        b.add(mk_int(&format!("i{i}"), 4, IntEncoding::Unsigned));
        b.add(Type::Fwd(Fwd {
            name: format!("fw{i}"),
            kind: FwdKind::Struct,
        }));
        b.add(Type::Float(Float {
            name: format!("fl{i}"),
            size: 8,
        }));
        let var = b.add(Type::Var(Var {
            name: format!("v{i}"),
            type_id: int,
            linkage: VarLinkage::Global,
        }));
        first_var.get_or_insert(var);
        b.add(Type::DeclTag(DeclTag {
            value: format!("tag{i}"),
            target: var,
            component_idx: -1,
            attribute: false,
        }));
        b.add(Type::TypeTag(TypeTag {
            value: format!("tt{i}"),
            target: int,
            attribute: false,
        }));
        b.add(Type::Enum64(Enum {
            name: format!("e{i}"),
            size: 8,
            signed: false,
            values: vec![EnumValue {
                name: format!("E{i}"),
                value: 1 << 40,
            }],
        }));
    }
    b.add(Type::Datasec(Datasec {
        name: ".data".into(),
        size: 4,
        vars: vec![VarSecinfo {
            type_id: first_var.unwrap(),
            offset: 0,
            size: 4,
        }],
    }));
    let (good, hdr_len, str_len) = marshal_valid(&b);
    // Records: INT (16 bytes), then per i: INT (16), FWD (12), FLOAT (12), VAR (16),
    // DECL_TAG (16), TYPE_TAG (12), ENUM64 with one value (24); then the DATASEC.
    let int_at = move |i: u32| hdr_len + 16 + 108 * i as usize;
    let fwd = move |i: u32| int_at(i) + 16;
    let float = move |i: u32| int_at(i) + 28;
    let var = move |i: u32| int_at(i) + 40;
    let tag = move |i: u32| int_at(i) + 56;
    let ttag = move |i: u32| int_at(i) + 72;
    let e64 = move |i: u32| int_at(i) + 84;
    let datasec = int_at(N);
    let id = |i: u32, k: u32| TypeId(2 + 7 * i + k);
    let put = |bytes: &mut Vec<u8>, at: usize, v: u32| set_u32(bytes, at, v);
    let cases: Vec<(TypeId, Corrupt)> = vec![
        // Int encoding 8.
        (
            id(700, 0),
            Box::new(move |v| put(v, int_at(700) + 12, (8 << 24) | 32)),
        ),
        // Int of 64 bits in 4 bytes.
        (id(701, 0), Box::new(move |v| put(v, int_at(701) + 12, 64))),
        // Int with reserved bits.
        (
            id(702, 0),
            Box::new(move |v| put(v, int_at(702) + 12, 0x100 | 32)),
        ),
        // Forward with members.
        (
            id(703, 1),
            Box::new(move |v| put(v, fwd(703) + 4, (7 << 24) | 1)),
        ),
        // Float with members.
        (
            id(704, 2),
            Box::new(move |v| put(v, float(704) + 4, (16 << 24) | 1)),
        ),
        // Variable linkage 3.
        (id(705, 3), Box::new(move |v| put(v, var(705) + 12, 3))),
        // Variable type out of range.
        (
            id(706, 3),
            Box::new(move |v| put(v, var(706) + 8, 0xf_0000)),
        ),
        // Decl tag component -2.
        (
            id(707, 4),
            Box::new(move |v| put(v, tag(707) + 12, (-2i32) as u32)),
        ),
        // Decl tag target out of range.
        (
            id(708, 4),
            Box::new(move |v| put(v, tag(708) + 8, 0xf_0000)),
        ),
        // Type tag target out of range.
        (
            id(709, 5),
            Box::new(move |v| put(v, ttag(709) + 8, 0xf_0000)),
        ),
        // 64-bit enum value name past the string table.
        (
            id(710, 6),
            Box::new(move |v| put(v, e64(710) + 12, str_len + 3)),
        ),
        // Datasec variable out of range.
        (
            TypeId(2 + 7 * N),
            Box::new(move |v| put(v, datasec + 12, 0xf_0000)),
        ),
    ];
    parse_reports_what_decoding_reports(&good, cases);
}

/// A hand-written blob in `endian`: the header, `types` (words) and `strings`.
fn raw_blob(endian: Endian, types: &[u32], strings: &[u8]) -> Vec<u8> {
    let word = |v: u32| match endian {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    };
    let mut b = match endian {
        Endian::Little => vec![0x9f, 0xeb, 1, 0],
        Endian::Big => vec![0xeb, 0x9f, 1, 0],
    };
    let type_len = u32::try_from(types.len() * 4).unwrap();
    let str_len = u32::try_from(strings.len()).unwrap();
    for v in [24, 0, type_len, type_len, str_len] {
        b.extend_from_slice(&word(v));
    }
    for &v in types {
        b.extend_from_slice(&word(v));
    }
    b.extend_from_slice(strings);
    b
}

#[test]
fn a_last_void_parameter_named_by_an_empty_string_is_the_variadic_marker_in_both_byte_orders() {
    const FUNC_PROTO: u32 = 13 << 24;
    for endian in [Endian::Little, Endian::Big] {
        // Strings: "", "x" at 1; offset 2 is the NUL that ends "x", an empty string.
        let blob = raw_blob(
            endian,
            &[
                // [1] void (...): the marker's name offset reads as "".
                0,
                FUNC_PROTO | 1,
                0,
                2,
                0,
                // [2] void (void x): a named void parameter is a parameter.
                0,
                FUNC_PROTO | 1,
                0,
                1,
                0,
            ],
            b"\0x\0",
        );
        let spec = Spec::parse(&blob).unwrap();
        let proto = |s: &Spec, id: u32| match s.type_by_id(TypeId(id)) {
            Ok(Type::FuncProto(p)) => p.clone(),
            other => panic!("{endian:?} [{id}]: {other:?}"),
        };
        let marker = proto(&spec, 1);
        assert!(
            marker.variadic && marker.params.is_empty(),
            "{endian:?}: {marker:?}"
        );
        let named = proto(&spec, 2);
        assert!(!named.variadic, "{endian:?}: {named:?}");
        assert_eq!(named.params.len(), 1);
        assert_eq!(named.params[0].name, "x");
        // Encoding writes the marker with name offset 0: both read back the same.
        for out in [Endian::Little, Endian::Big] {
            let bytes = spec.marshal(MarshalOptions { endian: Some(out) }).unwrap();
            let again = Spec::parse(&bytes).unwrap();
            assert_eq!(proto(&again, 1), marker, "{endian:?} -> {out:?}");
            assert_eq!(proto(&again, 2), named, "{endian:?} -> {out:?}");
        }
    }
}
