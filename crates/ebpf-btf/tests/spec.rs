//! Spec parsing, lookups and helpers on hand-built BTF in both byte orders.

mod common;

use common::*;
use ebpf_btf::*;

#[test]
fn golden_all_kinds_both_orders() {
    let le = all_kinds_spec(Endian::Little);
    let be = all_kinds_spec(Endian::Big);
    assert_eq!(le.endian(), Endian::Little);
    assert_eq!(be.endian(), Endian::Big);
    let dump = le.dump_raw().unwrap();
    assert_eq!(dump, be.dump_raw().unwrap());
    golden("all_kinds.raw", &dump);
    // Cross-check with bpftool when it is installed.
    for (endian, tag) in [(Endian::Little, "le"), (Endian::Big, "be")] {
        let path = std::env::temp_dir().join(format!(
            "ebpf-btf-all-kinds-{}-{tag}.btf",
            std::process::id()
        ));
        std::fs::write(
            &path,
            all_kinds()
                .marshal(MarshalOptions {
                    endian: Some(endian),
                })
                .unwrap(),
        )
        .unwrap();
        match std::process::Command::new("bpftool")
            .args(["btf", "dump", "file"])
            .arg(&path)
            .args(["format", "raw"])
            .output()
        {
            Ok(out) if out.status.success() => {
                assert_eq!(String::from_utf8_lossy(&out.stdout), dump, "bpftool {tag}")
            }
            Ok(out) => common::skip(format!(
                "bpftool comparison ({tag}): {}",
                String::from_utf8_lossy(&out.stderr)
            )),
            Err(e) => common::skip(format!("bpftool comparison: {e}")),
        }
        let _ = std::fs::remove_file(&path);
    }
}

#[test]
fn round_trip_parse_marshal_parse() {
    for endian in [Endian::Little, Endian::Big] {
        let b = all_kinds();
        let spec = all_kinds_spec(endian);
        let types: Vec<Type> = spec.types().map(|(_, t)| t.unwrap().clone()).collect();
        assert_eq!(types, b.types());
        for out in [Endian::Little, Endian::Big] {
            let again =
                Spec::parse(&spec.marshal(MarshalOptions { endian: Some(out) }).unwrap()).unwrap();
            let types2: Vec<Type> = again.types().map(|(_, t)| t.unwrap().clone()).collect();
            assert_eq!(types, types2);
        }
    }
}

#[test]
fn lookups() {
    let spec = all_kinds_spec(Endian::native());
    assert_eq!(spec.types_by_name("int"), vec![TypeId(1)]);
    assert!(spec.types_by_name("nope").is_empty());
    assert!(spec.types_by_name("").is_empty());
    let (id, s) = spec.type_by_name::<Struct>("foo").unwrap();
    assert_eq!(id, TypeId(9));
    assert_eq!(s.members[1].bitfield_size, 3);
    assert!(matches!(
        spec.type_by_name::<Enum>("foo"),
        Err(Error::NotFound { .. })
    ));
    let (_, f) = spec.type_by_name::<Func>("do_foo").unwrap();
    assert_eq!(f.linkage, FuncLinkage::Global);
    let mut ess = spec.types_by_essential_name("foo");
    ess.sort();
    assert_eq!(ess, vec![TypeId(9), TypeId(28)]);
    assert_eq!(spec.types_by_essential_name("foo___v7"), ess);
    assert_eq!(spec.type_name(TypeId(13)).unwrap(), "foo_t");
    assert_eq!(spec.kind_of(TypeId(21)).unwrap(), Kind::Datasec);
    assert!(matches!(
        spec.type_by_id(TypeId(999)),
        Err(Error::TypeIdOutOfRange { .. })
    ));
    assert_eq!(spec.string_at(0).unwrap(), "");
}

#[test]
fn sizes_and_resolution() {
    let spec = all_kinds_spec(Endian::native());
    assert_eq!(spec.sizeof(TypeId(1)).unwrap(), 4);
    assert_eq!(spec.sizeof(TypeId(6)).unwrap(), 16);
    assert_eq!(spec.sizeof(TypeId(13)).unwrap(), 32);
    assert_eq!(spec.sizeof(TypeId(15)).unwrap(), 4);
    assert_eq!(spec.sizeof(TypeId(5)).unwrap(), 8);
    assert!(matches!(spec.sizeof(TypeId(7)), Err(Error::NoSize { .. })));
    assert!(matches!(spec.sizeof(TypeId(19)), Err(Error::NoSize { .. })));
    assert_eq!(spec.alignof(TypeId(9)).unwrap(), 8);
    assert_eq!(spec.alignof(TypeId(3)).unwrap(), 1);
    assert_eq!(spec.underlying_type(TypeId(13)).unwrap(), TypeId(9));
    assert_eq!(spec.underlying_type(TypeId(15)).unwrap(), TypeId(1));
    assert_eq!(spec.skip_qualifiers(TypeId(15)).unwrap(), TypeId(1));
    assert_eq!(spec.skip_qualifiers(TypeId(17)).unwrap(), TypeId(16));
    assert_eq!(spec.skip_qualifiers(TypeId(25)).unwrap(), TypeId(1));
}

#[test]
fn typedef_loop_is_detected() {
    let mut b = Builder::new();
    b.add(Type::Typedef(Typedef {
        name: "a".into(),
        target: TypeId(2),
    }));
    b.add(Type::Const(Qualifier { target: TypeId(1) }));
    b.add(Type::Array(Array {
        elem: TypeId(3),
        index: TypeId(0),
        nelems: 2,
    }));
    b.add(Type::Const(Qualifier { target: TypeId(5) }));
    b.add(Type::Volatile(Qualifier { target: TypeId(4) }));
    let spec = Spec::parse(&b.marshal(MarshalOptions::default()).unwrap()).unwrap();
    assert!(matches!(spec.sizeof(TypeId(1)), Err(Error::TooDeep { .. })));
    assert!(matches!(
        spec.underlying_type(TypeId(2)),
        Err(Error::TooDeep { .. })
    ));
    assert!(matches!(
        spec.skip_qualifiers(TypeId(4)),
        Err(Error::TooDeep { .. })
    ));
    assert!(matches!(
        spec.sizeof(TypeId(3)),
        Err(Error::TooDeep { .. } | Error::BadType { .. })
    ));
    assert!(spec.alignof(TypeId(3)).is_err());
    // Formatting must terminate too.
    let _ = spec.dump_raw().unwrap();
    let _ = ebpf_btf::format_c::dump_c(&spec);
}

#[test]
fn fixup_datasec_and_linkage() {
    let mut b = Builder::new();
    let int = b.add(mk_int("int", 4, IntEncoding::Signed));
    let a = b.add(Type::Var(Var {
        name: "a".into(),
        type_id: int,
        linkage: VarLinkage::Global,
    }));
    let c = b.add(Type::Var(Var {
        name: "c".into(),
        type_id: int,
        linkage: VarLinkage::Global,
    }));
    b.add(Type::Datasec(Datasec {
        name: ".bss".into(),
        size: 0,
        vars: vec![
            VarSecinfo {
                type_id: a,
                offset: 0,
                size: 4,
            },
            VarSecinfo {
                type_id: c,
                offset: 0,
                size: 4,
            },
        ],
    }));
    let mut spec = Spec::parse(&b.marshal(MarshalOptions::default()).unwrap()).unwrap();
    let id = spec
        .fixup_datasec(".bss", 8, |id, n| {
            assert_eq!(id == a, n == "a");
            if n == "a" { Some(4) } else { Some(0) }
        })
        .unwrap();
    let Type::Datasec(ds) = spec.type_by_id(id).unwrap() else {
        panic!()
    };
    assert_eq!(ds.size, 8);
    assert_eq!((ds.vars[0].type_id, ds.vars[0].offset), (c, 0));
    assert_eq!((ds.vars[1].type_id, ds.vars[1].offset), (a, 4));
    spec.set_var_linkage(a, VarLinkage::Static).unwrap();
    assert!(spec.set_var_linkage(int, VarLinkage::Static).is_err());
    let again = Spec::parse(&spec.marshal(MarshalOptions::default()).unwrap()).unwrap();
    assert_eq!(again.type_by_id(id).unwrap(), spec.type_by_id(id).unwrap());
    let Type::Var(v) = again.type_by_id(a).unwrap() else {
        panic!()
    };
    assert_eq!(v.linkage, VarLinkage::Static);
}

/// `.bss` with `a` and `c` (both at offset 0, size 0, as clang leaves them), in `endian`.
fn unfixed_bss(endian: Endian) -> (Spec, TypeId, TypeId, TypeId) {
    let mut b = Builder::new();
    let int = b.add(mk_int("int", 4, IntEncoding::Signed));
    let var = |name: &str| {
        Type::Var(Var {
            name: name.into(),
            type_id: int,
            linkage: VarLinkage::Global,
        })
    };
    let a = b.add(var("a"));
    let c = b.add(var("c"));
    let entry = |type_id| VarSecinfo {
        type_id,
        offset: 0,
        size: 4,
    };
    let ds = b.add(Type::Datasec(Datasec {
        name: ".bss".into(),
        size: 0,
        vars: vec![entry(a), entry(c)],
    }));
    let bytes = b
        .marshal(MarshalOptions {
            endian: Some(endian),
        })
        .unwrap();
    (Spec::parse(&bytes).unwrap(), ds, a, c)
}

#[test]
fn a_datasec_is_read_and_fixed_up_in_its_record_in_both_byte_orders() {
    for endian in [Endian::Little, Endian::Big] {
        let (mut spec, id, a, c) = unfixed_bss(endian);
        let entries = |spec: &Spec| -> Vec<(TypeId, u32, u32)> {
            let e = spec.datasec_entries(id).unwrap();
            assert_eq!(e.len(), 2);
            e.map(|v| (v.type_id, v.offset, v.size)).collect()
        };
        assert_eq!(entries(&spec), [(a, 0, 4), (c, 0, 4)], "{endian:?}");
        assert!(spec.name_is(id, ".bss"));
        assert!(!spec.name_is(id, ".bs") && !spec.name_is(id, ".bss.x"));
        assert!(spec.name_is(a, "a") && !spec.name_is(TypeId(1), ""));
        assert!(spec.datasec_entries(a).is_err(), "a var is no datasec");
        // Decoded before the fixup: the decoded copy follows the record.
        assert!(matches!(spec.type_by_id(id).unwrap(), Type::Datasec(d) if d.size == 0));
        spec.fixup_datasec_id(id, 8, |v, _| Some(if v == a { 4 } else { 0 }))
            .unwrap();
        assert_eq!(entries(&spec), [(c, 0, 4), (a, 4, 4)], "{endian:?}: sorted");
        assert_eq!(spec.sizeof(id).unwrap(), 8);
        let Type::Datasec(ds) = spec.type_by_id(id).unwrap() else {
            panic!("{endian:?}: not a datasec");
        };
        assert_eq!((ds.size, ds.vars.len()), (8, 2));
        assert_eq!((ds.vars[0].type_id, ds.vars[1].offset), (c, 4));
        // Written out, from the records and anew, it reads the same.
        let raw = Spec::parse(&RawEdit::new(&spec).marshal().unwrap()).unwrap();
        let anew = Spec::parse(&spec.marshal(MarshalOptions::default()).unwrap()).unwrap();
        for out in [&raw, &anew] {
            assert_eq!(out.type_by_id(id).unwrap(), spec.type_by_id(id).unwrap());
        }
        assert_eq!(raw.endian(), endian);
    }
}

#[test]
fn a_replaced_datasec_is_read_from_its_decoded_value() {
    let (mut spec, id, a, c) = unfixed_bss(Endian::native());
    let one = Datasec {
        name: ".bss".into(),
        size: 4,
        vars: vec![VarSecinfo {
            type_id: c,
            offset: 0,
            size: 4,
        }],
    };
    spec.replace_type(id, Type::Datasec(one)).unwrap();
    let read: Vec<_> = spec.datasec_entries(id).unwrap().collect();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].type_id, c);
    assert!(spec.name_is(id, ".bss"));
    // A fixup of a replaced datasec edits its decoded value.
    spec.fixup_datasec_id(id, 12, |_, _| Some(8)).unwrap();
    assert_eq!(spec.sizeof(id).unwrap(), 12);
    let read: Vec<_> = spec.datasec_entries(id).unwrap().collect();
    assert_eq!((read[0].type_id, read[0].offset), (c, 8));
    assert_ne!(read[0].type_id, a);
}

#[test]
fn members_are_read_from_the_record_as_decoding_gives_them_in_both_byte_orders() {
    for endian in [Endian::Little, Endian::Big] {
        let mut b = Builder::new();
        let int = b.add(mk_int("int", 4, IntEncoding::Signed));
        let plain = b.add(Type::Struct(Struct {
            name: "plain".into(),
            size: 8,
            members: vec![member("x", int, 0, 0), member("", int, 32, 0)],
        }));
        let bits = b.add(Type::Union(Struct {
            name: "bits".into(),
            size: 4,
            members: vec![member("lo", int, 0, 3), member("hi", int, 3, 29)],
        }));
        let bytes = b
            .marshal(MarshalOptions {
                endian: Some(endian),
            })
            .unwrap();
        let mut spec = Spec::parse(&bytes).unwrap();
        for id in [plain, bits] {
            let (Type::Struct(decoded) | Type::Union(decoded)) =
                spec.type_by_id(id).unwrap().clone()
            else {
                panic!("{endian:?}: {id} is no struct");
            };
            let read: Vec<_> = spec.members(id).unwrap().map(Result::unwrap).collect();
            assert_eq!(read.len(), decoded.members.len());
            for (r, m) in read.iter().zip(&decoded.members) {
                assert_eq!(
                    (r.name, r.type_id, r.bit_offset, r.bitfield_size),
                    (m.name.as_str(), m.type_id, m.bit_offset, m.bitfield_size),
                    "{endian:?}: {id}"
                );
            }
        }
        assert!(spec.members(int).is_err(), "an int has no members");
        // A replaced struct's members are its new ones.
        let one = Struct {
            name: "plain".into(),
            size: 4,
            members: vec![member("only", int, 0, 0)],
        };
        spec.replace_type(plain, Type::Struct(one)).unwrap();
        let read: Vec<_> = spec.members(plain).unwrap().map(Result::unwrap).collect();
        assert_eq!(read.iter().map(|m| m.name).collect::<Vec<_>>(), ["only"]);
    }
}

#[test]
fn an_array_length_and_a_qualified_target_are_read_from_records_in_both_byte_orders() {
    for endian in [Endian::Little, Endian::Big] {
        let mut b = Builder::new();
        let int = b.add(mk_int("int", 4, IntEncoding::Signed));
        let arr = b.add(Type::Array(Array {
            elem: int,
            index: int,
            nelems: 0x0102_0304,
        }));
        let c = b.add(Type::Const(Qualifier { target: arr }));
        let t = b.add(Type::Typedef(Typedef {
            name: "t".into(),
            target: c,
        }));
        let bytes = b
            .marshal(MarshalOptions {
                endian: Some(endian),
            })
            .unwrap();
        let mut spec = Spec::parse(&bytes).unwrap();
        assert_eq!(
            spec.array_len(arr).unwrap(),
            Some(0x0102_0304),
            "{endian:?}"
        );
        assert_eq!(spec.array_len(int).unwrap(), None);
        assert_eq!(spec.skip_qualifiers(c).unwrap(), arr);
        assert_eq!(spec.underlying_type(t).unwrap(), arr);
        assert!(spec.array_len(TypeId(99)).is_err());
        let longer = Array {
            elem: int,
            index: int,
            nelems: 7,
        };
        spec.replace_type(arr, Type::Array(longer)).unwrap();
        assert_eq!(spec.array_len(arr).unwrap(), Some(7));
    }
}

#[test]
fn split_btf_ids_and_strings_continue_after_base() {
    let base = std::sync::Arc::new(all_kinds_spec(Endian::native()));
    let mut b = Builder::new_split(&base);
    let s = b.add(Type::Struct(Struct {
        name: "modstruct".into(),
        size: 8,
        members: vec![member("x", TypeId(1), 0, 0), member("y", TypeId(1), 32, 0)],
    }));
    assert_eq!(s, base.next_id());
    b.add(Type::Pointer(Pointer { target: s }));
    let bytes = b.marshal(MarshalOptions::default()).unwrap();
    let split = Spec::parse_split(&bytes, base.clone()).unwrap();
    split.validate().unwrap();
    assert_eq!(split.first_id(), base.next_id());
    assert_eq!(split.len(), 2);
    assert_eq!(split.types_by_name("modstruct"), vec![s]);
    assert_eq!(split.types_by_name("int"), vec![TypeId(1)]);
    assert_eq!(split.type_by_name::<Struct>("foo").unwrap().0, TypeId(9));
    assert_eq!(split.sizeof(s).unwrap(), 8);
    // Names and sizes of the base's types, and of the split's own, read from records.
    for id in base.ids() {
        assert_eq!(split.type_name(id).unwrap(), base.type_name(id).unwrap());
        assert_eq!(split.sizeof(id).ok(), base.sizeof(id).ok());
    }
    assert_eq!(split.type_name(s).unwrap(), "modstruct");
    assert_eq!(split.sizeof(TypeId(s.0 + 1)).unwrap(), 8);
    assert!(split.string_base() > 0);
    let dump = split.dump_raw().unwrap();
    assert!(
        dump.starts_with(&format!("[{s}] STRUCT 'modstruct' size=8 vlen=2")),
        "{dump}"
    );
    // Split round trip.
    let again =
        Spec::parse_split(&split.marshal(MarshalOptions::default()).unwrap(), base).unwrap();
    assert_eq!(again.dump_raw().unwrap(), dump);
}

#[test]
fn spec_is_send_sync_and_concurrent() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Spec>();
    assert_send_sync::<KernelBtf>();
    let spec = std::sync::Arc::new(
        Spec::parse_lazy(all_kinds().marshal(MarshalOptions::default()).unwrap()).unwrap(),
    );
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let s = spec.clone();
            std::thread::spawn(move || s.dump_raw().unwrap())
        })
        .collect();
    let dumps: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(dumps[0], dumps[1]);
}

#[test]
fn dedup_builder() {
    let mut b = Builder::with_dedup();
    let a = b.add(mk_int("int", 4, IntEncoding::Signed));
    let p = b.add(Type::Pointer(Pointer { target: a }));
    assert_eq!(b.add(mk_int("int", 4, IntEncoding::Signed)), a);
    assert_eq!(b.add(Type::Pointer(Pointer { target: a })), p);
    assert_eq!(b.len(), 2);
    let bytes = b.marshal(MarshalOptions::default()).unwrap();
    // "int" stored once in the string table.
    let spec = Spec::parse(&bytes).unwrap();
    assert_eq!(spec.strings().len(), 5);
}

#[test]
fn builder_to_spec_and_debug() {
    let spec = all_kinds().to_spec(None).unwrap();
    assert_eq!(spec.len(), 29);
    let dbg = format!("{spec:?}");
    assert!(dbg.contains("types: 29"), "{dbg}");
    assert_eq!(
        format!("{}", format_raw::RawDump(&spec)),
        spec.dump_raw().unwrap()
    );
}

#[test]
fn kinds_and_func_linkage_without_decoding() {
    let mut b = Builder::new();
    let int = b.add(mk_int("int", 4, IntEncoding::Signed));
    let proto = b.add(Type::FuncProto(FuncProto {
        ret: int,
        params: vec![],
        variadic: false,
    }));
    let mut funcs = Vec::new();
    for (name, linkage) in [
        ("s", FuncLinkage::Static),
        ("g", FuncLinkage::Global),
        ("e", FuncLinkage::Extern),
    ] {
        funcs.push(b.add(Type::Func(Func {
            name: name.into(),
            proto,
            linkage,
        })));
    }
    for order in [Endian::Little, Endian::Big] {
        let opts = MarshalOptions {
            endian: Some(order),
        };
        let spec = Spec::parse(&b.marshal(opts).unwrap()).unwrap();
        assert_eq!(spec.ids_of_kind(Kind::Func).collect::<Vec<_>>(), funcs);
        assert_eq!(spec.ids_of_kind(Kind::Int).collect::<Vec<_>>(), vec![int]);
        let linkages: Vec<_> = funcs
            .iter()
            .map(|&f| spec.func_linkage(f).unwrap())
            .collect();
        assert_eq!(
            linkages,
            [
                FuncLinkage::Static,
                FuncLinkage::Global,
                FuncLinkage::Extern
            ]
        );
        assert!(spec.func_linkage(int).is_err());
        assert!(spec.func_linkage(TypeId(99)).is_err());
        assert_eq!(spec.skip_qualifiers(int).unwrap(), int);
        // After an edit the linkage is the edited one.
        let mut spec = spec;
        spec.set_func_linkage(funcs[1], FuncLinkage::Static)
            .unwrap();
        assert_eq!(spec.func_linkage(funcs[1]).unwrap(), FuncLinkage::Static);
        assert_eq!(spec.ids_of_kind(Kind::Func).count(), 3);
    }
}

#[test]
fn names_read_without_decoding_match_the_decoded_ones() {
    for order in [Endian::Little, Endian::Big] {
        let mut spec = all_kinds_spec(order);
        let mut named = 0;
        for id in spec.ids() {
            let decoded = spec.type_by_id(id).unwrap().name().to_owned();
            named += usize::from(!decoded.is_empty());
            assert_eq!(spec.type_name(id).unwrap(), decoded, "type {id}");
        }
        assert!(named > 5, "the fixture names most kinds");
        // Every kind, found by a byte search of the kind table.
        for kind in spec
            .types()
            .map(|(_, t)| t.unwrap().kind())
            .collect::<Vec<_>>()
        {
            let want: Vec<_> = spec
                .types()
                .filter(|(_, t)| t.as_ref().unwrap().kind() == kind)
                .map(|(id, _)| id)
                .collect();
            assert_eq!(spec.ids_of_kind(kind).collect::<Vec<_>>(), want);
        }
        // A replaced type's name is the new one (its record is out of date), and a
        // lazily parsed spec reads names the same way.
        let func = spec.ids_of_kind(Kind::Func).next().unwrap();
        let Type::Func(mut f) = spec.type_by_id(func).unwrap().clone() else {
            unreachable!()
        };
        f.name = "renamed".into();
        spec.replace_type(func, Type::Func(f)).unwrap();
        assert_eq!(spec.type_name(func).unwrap(), "renamed");
        let raw = all_kinds()
            .marshal(MarshalOptions {
                endian: Some(order),
            })
            .unwrap();
        let lazy = Spec::parse_lazy(raw).unwrap();
        for id in lazy.ids() {
            assert_eq!(
                lazy.type_name(id).unwrap(),
                lazy.type_by_id(id).unwrap().name()
            );
        }
        assert!(lazy.type_name(TypeId(lazy.next_id().0)).is_err());
    }
}

#[test]
fn targets_and_var_linkages_read_without_decoding_match_the_decoded_ones() {
    for order in [Endian::Little, Endian::Big] {
        let mut spec = all_kinds_spec(order);
        let mut vars = 0;
        for id in spec.ids() {
            let decoded = spec.type_by_id(id).unwrap().clone();
            assert_eq!(spec.target_of(id).unwrap(), decoded.target(), "type {id}");
            let linkage = match &decoded {
                Type::Var(v) => Some(v.linkage),
                _ => None,
            };
            vars += usize::from(linkage.is_some());
            assert_eq!(spec.var_linkage(id).unwrap(), linkage, "type {id}");
        }
        assert!(vars > 0, "the fixture has variables");
        // An edited variable answers its edited linkage and type.
        let var = spec.ids_of_kind(Kind::Var).next().unwrap();
        spec.set_var_linkage(var, VarLinkage::Extern).unwrap();
        assert_eq!(spec.var_linkage(var).unwrap(), Some(VarLinkage::Extern));
        let Type::Var(mut v) = spec.type_by_id(var).unwrap().clone() else {
            unreachable!()
        };
        v.type_id = TypeId(1);
        spec.replace_type(var, Type::Var(v)).unwrap();
        assert_eq!(spec.target_of(var).unwrap(), Some(TypeId(1)));
        assert!(spec.target_of(TypeId(spec.next_id().0)).is_err());
    }
}

/// `Spec::sizeof` as the decoded types give it.
fn decoded_sizeof(spec: &Spec, id: TypeId) -> Option<u32> {
    let mut mult = 1u32;
    let mut cur = id;
    for _ in 0..MAX_RESOLVE_DEPTH {
        let t = spec.type_by_id(cur).ok()?;
        let size = match t {
            Type::Int(x) => x.size,
            Type::Enum(x) | Type::Enum64(x) => x.size,
            Type::Struct(x) | Type::Union(x) => x.size,
            Type::Float(x) => x.size,
            Type::Datasec(x) => x.size,
            Type::Pointer(_) => 8,
            Type::Array(a) => {
                mult = mult.checked_mul(a.nelems)?;
                cur = a.elem;
                continue;
            }
            Type::Typedef(_)
            | Type::Const(_)
            | Type::Volatile(_)
            | Type::Restrict(_)
            | Type::TypeTag(_)
            | Type::Var(_) => {
                cur = t.target()?;
                continue;
            }
            _ => return None,
        };
        return size.checked_mul(mult);
    }
    None
}

#[test]
fn sizes_read_without_decoding_match_the_decoded_ones() {
    for order in [Endian::Little, Endian::Big] {
        let mut spec = all_kinds_spec(order);
        let mut sized = 0;
        for id in spec.ids().chain([TypeId(0)]) {
            let want = decoded_sizeof(&spec, id);
            sized += usize::from(want.is_some());
            assert_eq!(spec.sizeof(id).ok(), want, "type {id}");
        }
        assert!(sized > 5, "the fixture sizes most kinds");
        // A replaced struct's size is the new one.
        let st = spec.ids_of_kind(Kind::Struct).next().unwrap();
        let Type::Struct(mut s) = spec.type_by_id(st).unwrap().clone() else {
            unreachable!()
        };
        s.size += 8;
        let new = s.size;
        spec.replace_type(st, Type::Struct(s)).unwrap();
        assert_eq!(spec.sizeof(st).unwrap(), new);
    }
}

#[test]
fn a_name_prefix_is_compared_in_place_as_decoding_gives_it_in_both_byte_orders() {
    for endian in [Endian::Little, Endian::Big] {
        let (mut spec, ds, a, _) = unfixed_bss(endian);
        let mut b = Builder::new();
        let int = b.add(mk_int("int", 4, IntEncoding::Signed));
        let tag = |value: &str| {
            Type::DeclTag(DeclTag {
                value: value.into(),
                target: int,
                component_idx: -1,
                attribute: false,
            })
        };
        let tags = [
            b.add(tag("exception_callback:cb")),
            b.add(tag("exception_callback:")),
            b.add(tag("exception")),
            b.add(tag("x")),
        ];
        let bytes = b
            .marshal(MarshalOptions {
                endian: Some(endian),
            })
            .unwrap();
        let tagged = Spec::parse(&bytes).unwrap();
        let prefixes = [
            "",
            "e",
            "exception",
            "exception_callback:",
            "exception_callback:cb",
            "exception_callback:cbx",
            "x",
            ".bss",
            ".bsss",
        ];
        let agree = |spec: &Spec, id: TypeId| {
            for p in prefixes {
                let decoded = spec.type_name(id).is_ok_and(|n| n.starts_with(p));
                assert_eq!(
                    spec.name_starts_with(id, p),
                    decoded,
                    "{endian:?}: type {id}, prefix {p:?}"
                );
            }
        };
        for id in tags.into_iter().chain([int, TypeId(0)]) {
            agree(&tagged, id);
        }
        assert!(tagged.name_starts_with(tags[0], "exception_callback:"));
        assert!(!tagged.name_starts_with(tags[2], "exception_callback:"));
        // A prefix with a NUL starts no name, even where the next string follows it.
        assert!(!tagged.name_starts_with(tags[2], "exception\0"));
        assert!(!tagged.type_name(tags[2]).unwrap().contains('\0'));
        // In split BTF, own names are read at their offset past the base's strings.
        let base = std::sync::Arc::new(tagged);
        let mut sb = Builder::new_split(&base);
        let own = [
            sb.add(tag("exception_callback:own")),
            sb.add(mk_int("exc", 4, IntEncoding::Signed)),
        ];
        let split = Spec::parse_split(
            &sb.marshal(MarshalOptions {
                endian: Some(endian),
            })
            .unwrap(),
            base.clone(),
        )
        .unwrap();
        for id in own.into_iter().chain(tags).chain([int]) {
            agree(&split, id);
        }
        assert!(split.name_starts_with(own[0], "exception_callback:o"));
        assert!(split.name_starts_with(own[1], "exc") && !split.name_starts_with(own[1], "exce"));
        for id in [ds, a, TypeId(1), TypeId(100)] {
            agree(&spec, id);
        }
        // A replaced type is read from its decoded value.
        let renamed = Datasec {
            name: "xyz".into(),
            size: 0,
            vars: vec![],
        };
        spec.replace_type(ds, Type::Datasec(renamed)).unwrap();
        assert!(spec.name_starts_with(ds, "xy") && !spec.name_starts_with(ds, ".b"));
        agree(&spec, ds);
    }
}
