//! Global variables of a loaded collection: read and written through mmap, or
//! through map lookup and update when the data section is not mmapable.

use std::collections::BTreeMap;

use ebpf::{Collection, CollectionOptions, CollectionSpec, Map, MapSpec, TestRunOptions};
use ebpf_test_support::kernel_test;

fn loader() -> CollectionSpec {
    let mut s = CollectionSpec::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/loader-el.o"
    ))
    .unwrap();
    s.programs.retain(|n, _| n == "socket_prog");
    s.maps.retain(|_, m| m.struct_ops.is_none());
    s
}

fn run(c: &Collection) {
    let r = c.programs["socket_prog"]
        .test_run(&TestRunOptions {
            data_in: vec![0; 64],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.retval, 0);
}

#[test]
fn round_trip_mmapped() {
    kernel_test(|| {
        let mut spec = loader();
        // Constants are set in the spec, before load.
        spec.set_variable("const_limit", &7u32.to_ne_bytes())
            .unwrap();
        let c = Collection::load(&spec, CollectionOptions::default()).unwrap();
        let v = &c.variables;
        assert!(v["counter"].is_mmapped());
        assert_eq!(v["counter"].section(), ".data");
        assert_eq!(v["counter"].size(), 4);
        assert_eq!(v["const_limit"].get::<u32>().unwrap(), 7);
        assert_eq!(v["greeting"].bytes().unwrap(), b"hello\0");
        assert_eq!(v["foo_value"].get::<u32>().unwrap(), 7);
        assert_eq!(v["foo_value"].section(), ".data.foo");
        assert!(!v.contains_key("hidden_global") && !v.contains_key("hidden_static"));
        // The program sees what user space writes, and user space what it writes.
        v["foo_value"].set(&100u32).unwrap();
        v["bss_total"].set(&1u64).unwrap();
        run(&c);
        assert_eq!(v["bss_total"].get::<u64>().unwrap(), 1 + 100 + 4);
        assert_eq!(v["counter"].get::<u32>().unwrap(), 2);
        // Wrong sizes and read-only sections are errors.
        let e = v["counter"].set(&1u64).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .contains("variable 'counter'"),
            "{e}"
        );
        assert!(v["counter"].get::<u64>().is_err());
        let e = v["greeting"].write(b"HELLO\0").unwrap_err();
        assert!(
            ebpf::ErrorChain(&e).to_string().contains("read-only"),
            "{e}"
        );
        // Variables outlive the collection's maps (they hold their own handle).
        let counter = v["counter"].clone();
        drop(c);
        assert_eq!(counter.get::<u32>().unwrap(), 2);
        Ok(())
    });
}

#[test]
fn round_trip_through_map_ops() {
    kernel_test(|| {
        let spec = loader();
        // A .data replacement created without BPF_F_MMAPABLE.
        let data: MapSpec = spec.maps[".data"].clone();
        let plain = Map::create(&data).unwrap();
        assert_eq!(plain.flags() & ebpf_syscall::BPF_F_MMAPABLE, 0);
        let c = Collection::load(
            &spec,
            CollectionOptions {
                map_replacements: BTreeMap::from([(".data".into(), plain)]),
                ..Default::default()
            },
        )
        .unwrap();
        let counter = &c.variables["counter"];
        assert!(!counter.is_mmapped());
        assert_eq!(counter.get::<u32>().unwrap(), 1);
        counter.set(&41u32).unwrap();
        run(&c);
        assert_eq!(counter.get::<u32>().unwrap(), 42);
        assert!(c.variables["bss_total"].is_mmapped());
        Ok(())
    });
}

#[test]
fn syscount_fixture() {
    kernel_test(|| {
        let spec = CollectionSpec::from_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/syscount-el.o"
        ))
        .unwrap();
        let c = Collection::load(&spec, CollectionOptions::default()).unwrap();
        assert!(c.maps.contains_key("counts"));
        assert_eq!(c.programs.len(), spec.programs.len());
        Ok(())
    });
}
