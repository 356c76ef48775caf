//! Sanitisation for older kernels.

mod common;

use common::*;
use ebpf_btf::sanitize::{Features, sanitize};
use ebpf_btf::*;

fn run(features: Features) -> Spec {
    let spec = all_kinds_spec(Endian::native());
    let b = sanitize(&spec, &features).unwrap();
    Spec::parse(&b.marshal(MarshalOptions::default()).unwrap()).unwrap()
}

#[test]
fn all_features_is_identity() {
    let spec = all_kinds_spec(Endian::native());
    assert_eq!(
        run(Features::all()).dump_raw().unwrap(),
        spec.dump_raw().unwrap()
    );
}

#[test]
fn no_features_golden() {
    let out = run(Features::none());
    let kinds: std::collections::HashSet<Kind> =
        out.types().map(|(_, t)| t.unwrap().kind()).collect();
    for k in [
        Kind::Var,
        Kind::Datasec,
        Kind::Func,
        Kind::FuncProto,
        Kind::Float,
        Kind::DeclTag,
        Kind::TypeTag,
        Kind::Enum64,
    ] {
        assert!(!kinds.contains(&k), "{k:?} survived");
    }
    // Ids are stable: struct foo is still 9.
    assert_eq!(out.type_by_name::<Struct>("foo").unwrap().0, TypeId(9));
    golden("sanitized_none.raw", &out.dump_raw().unwrap());
}

#[test]
fn per_feature() {
    let out = run(Features {
        func_global: false,
        ..Features::all()
    });
    assert_eq!(
        out.type_by_name::<Func>("do_foo").unwrap().1.linkage,
        FuncLinkage::Static
    );
    let out = run(Features {
        enum64: false,
        ..Features::all()
    });
    assert!(!out.type_by_name::<Enum>("color").unwrap().1.signed);
    let (_, u) = out.type_by_name::<Struct>("big").unwrap();
    assert_eq!(u.members[0].name, "HUGE");
    assert_eq!(out.types_by_name("enum64_placeholder"), vec![TypeId(30)]);
    let out = run(Features::for_kernel_version(5, 10));
    assert!(
        out.types()
            .all(|(_, t)| !matches!(t.unwrap(), Type::Float(_) | Type::DeclTag(_)))
    );
    assert!(
        out.types()
            .any(|(_, t)| matches!(t.unwrap(), Type::Datasec(_)))
    );
}

/// A header the decoder reads past but the kernel refuses (a reserved `info` bit, a
/// kind flag on a pointer, a named qualifier) makes the spec need encoding anew, even
/// for a kernel with every feature; encoding writes it clean.
#[test]
fn non_canonical_headers_need_encoding_anew() {
    let mut b = Builder::new();
    let int = b.add(mk_int("int", 4, IntEncoding::Signed));
    b.add(Type::Pointer(Pointer { target: int }));
    b.add(Type::Const(Qualifier { target: int }));
    let good = b
        .marshal(MarshalOptions {
            endian: Some(Endian::Little),
        })
        .unwrap();
    let spec = Spec::parse(&good).unwrap();
    assert!(spec.has_canonical_headers());
    assert!(!sanitize::needs_sanitizing(&spec, &Features::all()).unwrap());
    let hdr_len = u32::from_le_bytes(good[4..8].try_into().unwrap()) as usize;
    // INT (16 bytes), then PTR (12), then CONST (12).
    let (ptr, cnst) = (hdr_len + 16, hdr_len + 28);
    let info = |at: usize, v: &[u8]| u32::from_le_bytes(v[at + 4..at + 8].try_into().unwrap());
    for (at, field, value) in [
        (ptr, 4, info(ptr, &good) | 1 << 16),
        (ptr, 4, info(ptr, &good) | 1 << 31),
        (cnst, 0, 1),
    ] {
        let mut bytes = good.clone();
        bytes[at + field..at + field + 4].copy_from_slice(&u32::to_le_bytes(value));
        let spec = Spec::parse(&bytes).expect("the decoder reads past it");
        assert!(!spec.has_canonical_headers());
        assert!(sanitize::needs_sanitizing(&spec, &Features::all()).unwrap());
        let clean = Spec::parse(
            &sanitize(&spec, &Features::all())
                .unwrap()
                .marshal(Default::default())
                .unwrap(),
        )
        .unwrap();
        assert!(clean.has_canonical_headers());
    }
}
