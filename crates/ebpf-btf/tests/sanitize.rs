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
