//! The name index against a brute-force scan: every lookup returns exactly the ids a
//! linear search finds, in the same order (exact matches ascending, then flavours).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use ebpf_btf::*;

fn int(b: &mut Builder, name: &str) -> TypeId {
    b.add(Type::Int(Int {
        name: name.into(),
        size: 4,
        encoding: IntEncoding::Signed,
        offset: 0,
        bits: 32,
    }))
}

/// Checks every name (and its essential name, and a few misses) against a linear search.
fn check_against_brute_force(spec: &Spec) {
    let mut by_name: BTreeMap<&str, Vec<TypeId>> = BTreeMap::new();
    let mut flavoured: BTreeMap<&str, Vec<TypeId>> = BTreeMap::new();
    for id in spec.ids() {
        let kind = spec.kind_of(id).unwrap();
        if matches!(kind, Kind::DeclTag | Kind::TypeTag) {
            continue;
        }
        let name = spec.type_name(id).unwrap();
        if name.is_empty() {
            continue;
        }
        by_name.entry(name).or_default().push(id);
        let ess = essential_name(name);
        if ess != name {
            flavoured.entry(ess).or_default().push(id);
        }
    }
    for (name, ids) in &by_name {
        assert_eq!(&spec.types_by_name(name), ids, "{name:?}");
    }
    let essentials: BTreeSet<&str> = by_name
        .keys()
        .map(|n| essential_name(n))
        .chain(flavoured.keys().copied())
        .collect();
    for ess in essentials {
        let mut want = by_name.get(ess).cloned().unwrap_or_default();
        want.extend(flavoured.get(ess).into_iter().flatten());
        assert_eq!(spec.types_by_essential_name(ess), want, "{ess:?}");
        let with_flavour = format!("{ess}___ebpf_rs_test");
        if essential_name(&with_flavour) != ess {
            continue;
        }
        assert_eq!(
            spec.types_by_essential_name(&with_flavour),
            want,
            "{with_flavour:?}"
        );
    }
    for miss in ["", "ebpf_rs_no_such_type", "x", "___", "a___b___c_missing"] {
        if !by_name.contains_key(miss) {
            assert!(spec.types_by_name(miss).is_empty(), "{miss:?}");
        }
    }
}

#[test]
fn synthetic_duplicates_and_flavours() {
    let mut b = Builder::new();
    let mut names = Vec::new();
    // More types than the parser's threshold for hashing names on two threads, so both
    // halves and their seam are checked.
    for i in 0..40_000 {
        // Many duplicates, flavours and near-misses, with lengths around the 8-byte chunks.
        let base = format!("t{}", i % 97);
        let name = match i % 7 {
            0 => format!("{base}___v{}", i % 5),
            1 => format!("{base}___"),
            2 => format!("{base}____x"),
            3 => format!("{base}_{}", "y".repeat(i % 17)),
            _ => base,
        };
        names.push(name);
    }
    for n in &names {
        int(&mut b, n);
    }
    let bytes = b.marshal(MarshalOptions::default()).unwrap();
    for spec in [
        Spec::parse(&bytes).unwrap(),
        Spec::parse_lazy(bytes.clone()).unwrap(),
    ] {
        check_against_brute_force(&spec);
    }
}

#[test]
fn vmlinux_against_brute_force() {
    let spec = match Spec::load_kernel() {
        Ok(s) => s,
        Err(e) => {
            common::skip(format!("no kernel BTF: {e}"));
            return;
        }
    };
    check_against_brute_force(&spec);
}

#[test]
fn many_equal_names_build_in_linear_time() {
    // Hostile input: one name shared by many types must not make the index quadratic.
    let mut b = Builder::new();
    for _ in 0..100_000 {
        int(&mut b, "same");
    }
    let bytes = b.marshal(MarshalOptions::default()).unwrap();
    let t = std::time::Instant::now();
    let spec = Spec::parse_lazy(bytes).unwrap();
    let ids = spec.types_by_name("same");
    assert_eq!(ids.len(), 100_000);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(spec.types_by_name("other").is_empty());
    assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
}
