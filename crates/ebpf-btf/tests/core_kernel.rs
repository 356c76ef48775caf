//! CO-RE against the running kernel's vmlinux BTF: ~50 relocations on `task_struct`,
//! `sk_buff` and an enum, checked against the kernel's own layout, and timed.

mod common;

use std::time::Instant;

use ebpf_btf::core::Relocator;
use ebpf_btf::*;

fn int(name: &str, size: u32, encoding: IntEncoding) -> Type {
    Type::Int(Int {
        name: name.into(),
        size,
        encoding,
        offset: 0,
        bits: (size * 8) as u8,
    })
}

/// Byte offset and size of member `name` of `id`, searching anonymous members.
fn member(spec: &Spec, id: TypeId, name: &str, base: u32) -> Option<(u32, u32)> {
    let (Type::Struct(s) | Type::Union(s)) =
        spec.type_by_id(spec.underlying_type(id).ok()?).ok()?
    else {
        return None;
    };
    for m in &s.members {
        if m.name == name {
            return Some(((base + m.bit_offset) / 8, spec.sizeof(m.type_id).ok()?));
        }
        if m.name.is_empty() {
            if let Some(r) = member(spec, m.type_id, name, base + m.bit_offset) {
                return Some(r);
            }
        }
    }
    None
}

#[test]
fn core_vmlinux_task_struct_and_sk_buff() {
    let vmlinux = match KernelBtf::shared().vmlinux() {
        Ok(s) => s,
        Err(e) => {
            common::skip(format!("no kernel BTF: {e}"));
            return;
        }
    };
    // The "program's" view: a few fields, in a different order, flavoured names.
    let wanted: [(&str, &[&str]); 2] = [
        (
            "task_struct",
            &[
                "pid",
                "tgid",
                "prio",
                "static_prio",
                "normal_prio",
                "flags",
                "__state",
                "exit_code",
            ],
        ),
        (
            "sk_buff",
            &["len", "data_len", "mark", "hash", "protocol", "priority"],
        ),
    ];
    let mut b = Builder::new();
    let i = b.add(int("int", 4, IntEncoding::Signed));
    let mut locals = Vec::new();
    for (sname, fields) in wanted {
        let members = fields
            .iter()
            .rev()
            .enumerate()
            .map(|(k, f)| Member {
                name: (*f).into(),
                type_id: i,
                bit_offset: 32 * k as u32,
                bitfield_size: 0,
            })
            .collect();
        let id = b.add(Type::Struct(Struct {
            name: format!("{sname}___local"),
            size: 4 * fields.len() as u32,
            members,
        }));
        locals.push((sname, id, fields));
    }
    let gone = b.add(Type::Struct(Struct {
        name: "no_such_struct_in_vmlinux".into(),
        size: 4,
        members: vec![],
    }));
    let local = Spec::parse(&b.marshal(MarshalOptions::default()).unwrap()).unwrap();
    let mut relos = Vec::new();
    for (_, id, fields) in &locals {
        for k in 0..fields.len() {
            // Members were added in reverse order.
            let acc: std::sync::Arc<str> = format!("0:{}", fields.len() - 1 - k).into();
            for kind in [
                CoreReloKind::FieldByteOffset,
                CoreReloKind::FieldByteSize,
                CoreReloKind::FieldExists,
            ] {
                relos.push(CoreRelo {
                    insn_off: 0,
                    type_id: *id,
                    access: acc.clone(),
                    kind,
                });
            }
        }
        for kind in [
            CoreReloKind::TypeExists,
            CoreReloKind::TypeSize,
            CoreReloKind::TypeIdTarget,
        ] {
            relos.push(CoreRelo {
                insn_off: 0,
                type_id: *id,
                access: "0".into(),
                kind,
            });
        }
    }
    relos.push(CoreRelo {
        insn_off: 0,
        type_id: gone,
        access: "0".into(),
        kind: CoreReloKind::TypeExists,
    });
    assert!(relos.len() >= 49, "{}", relos.len());

    let targets = [&*vmlinux];
    let start = Instant::now();
    let mut r = Relocator::new(&local, &targets);
    let fixups: Vec<_> = relos
        .iter()
        .enumerate()
        .map(|(n, relo)| r.calculate(n, relo).unwrap())
        .collect();
    let elapsed = start.elapsed();
    eprintln!(
        "{} relocations against vmlinux in {elapsed:?}",
        fixups.len()
    );

    let mut it = fixups.iter();
    for (sname, _, fields) in &locals {
        let (tid, _) = vmlinux.type_by_name::<Struct>(sname).unwrap();
        for f in fields.iter() {
            let (off, size) = member(&vmlinux, tid, f, 0).unwrap();
            let (o, s, e) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            assert!(!o.poisoned, "{o}");
            assert_eq!(o.target_value, u64::from(off), "{o}");
            assert_eq!(s.target_value, u64::from(size), "{s}");
            assert_eq!(e.target_value, 1, "{e}");
            assert_eq!(o.target.as_ref().unwrap().type_id, tid);
        }
        let (e, s, id) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
        assert_eq!(e.target_value, 1);
        assert_eq!(s.target_value, u64::from(vmlinux.sizeof(tid).unwrap()));
        assert_eq!(id.target_value, u64::from(tid.0));
    }
    let g = it.next().unwrap();
    assert_eq!((g.target_value, g.poisoned), (0, false));
}
