//! The running kernel's BTF (skipped with a message where unavailable).

use ebpf_btf::*;

fn vmlinux() -> Option<std::sync::Arc<Spec>> {
    match Spec::kernel_shared() {
        Ok(s) => Some(s),
        Err(e) => {
            common::skip(format!("no kernel BTF: {e}"));
            None
        }
    }
}

#[test]
fn vmlinux_task_struct() {
    let Some(spec) = vmlinux() else { return };
    let (id, task) = spec.type_by_name::<Struct>("task_struct").unwrap();
    assert!(task.size > 1000);
    assert!(task.members.iter().any(|m| m.name == "pid"));
    assert_eq!(spec.sizeof(id).unwrap(), task.size);
    assert!(
        spec.types_by_name("definitely_not_a_kernel_type")
            .is_empty()
    );
    assert_eq!(spec.types_by_essential_name("task_struct___mine"), vec![id]);
    // The shared instance is shared.
    assert!(std::sync::Arc::ptr_eq(
        &spec,
        &Spec::kernel_shared().unwrap()
    ));
    // A few typical lookups resolve.
    let (_, _) = spec.type_by_name::<Int>("int").unwrap();
    let (_, _) = spec.type_by_name::<Typedef>("u32").unwrap();
}

#[test]
fn vmlinux_every_type_decodes_and_round_trips() {
    let Some(spec) = vmlinux() else { return };
    spec.validate().unwrap();
    let bytes = spec
        .marshal(MarshalOptions {
            endian: Some(spec.endian()),
        })
        .unwrap();
    let again = Spec::parse(&bytes).unwrap();
    assert_eq!(again.len(), spec.len());
    for id in spec.ids().step_by(97) {
        assert_eq!(again.type_by_id(id).unwrap(), spec.type_by_id(id).unwrap());
    }
}

#[test]
fn vmlinux_matches_bpftool_raw() {
    let Some(spec) = vmlinux() else { return };
    let out = match std::process::Command::new("bpftool")
        .args([
            "btf",
            "dump",
            "file",
            "/sys/kernel/btf/vmlinux",
            "format",
            "raw",
        ])
        .output()
    {
        Ok(o) if o.status.success() => o.stdout,
        _ => {
            common::skip("bpftool unavailable");
            return;
        }
    };
    assert!(
        spec.dump_raw().unwrap() == String::from_utf8_lossy(&out),
        "raw dump differs from bpftool"
    );
}

#[test]
fn module_btf() {
    let kb = KernelBtf::shared();
    let Ok(names) = kb.module_names() else {
        common::skip("no /sys/kernel/btf");
        return;
    };
    let Some(name) = names.first() else {
        common::skip("no module BTF under /sys/kernel/btf besides vmlinux");
        return;
    };
    let m = kb.module(name).unwrap();
    let base = kb.vmlinux().unwrap();
    assert_eq!(m.first_id(), base.next_id());
    m.validate().unwrap();
    assert!(std::sync::Arc::ptr_eq(&m, &kb.module(name).unwrap()));
    assert!(kb.module("../etc").is_err());
}

#[path = "common/mod.rs"]
mod common;

#[test]
fn module_btf_from_a_directory() {
    let dir = std::env::temp_dir().join(format!("ebpf-btf-kdir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base_bytes = common::all_kinds()
        .marshal(MarshalOptions::default())
        .unwrap();
    std::fs::write(dir.join("vmlinux"), &base_bytes).unwrap();
    let base = Spec::parse(&base_bytes).unwrap();
    let mut b = Builder::new_split(&base);
    let s = b.add(Type::Struct(Struct {
        name: "mod_s".into(),
        size: 4,
        members: vec![common::member("v", TypeId(1), 0, 0)],
    }));
    std::fs::write(
        dir.join("mymod"),
        b.marshal(MarshalOptions::default()).unwrap(),
    )
    .unwrap();
    let kb = KernelBtf::with_dir(&dir);
    assert_eq!(kb.module_names().unwrap(), vec!["mymod".to_string()]);
    let m = kb.module("mymod").unwrap();
    assert_eq!(m.type_by_name::<Struct>("mod_s").unwrap().0, s);
    assert_eq!(m.type_name(TypeId(9)).unwrap(), "foo");
    assert!(std::sync::Arc::ptr_eq(
        m.base().unwrap(),
        &kb.vmlinux().unwrap()
    ));
    assert!(kb.module("missing").is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
