//! A collection's maps from the committed fixtures: pinning by name, map
//! replacement and the data limits checked before loading.

mod fixtures;

use std::collections::BTreeMap;

use ebpf::{Collection, CollectionOptions, Map, MapSpec, MapType, UpdateFlags};
use ebpf_test_support::{BpfFs, kernel_test};
use fixtures::{spec, without_struct_ops};

#[test]
fn pinning_by_name() {
    kernel_test(|| {
        let fs = BpfFs::new().unwrap();
        let mut s = without_struct_ops(spec("loader-el.o"));
        s.programs.retain(|n, _| n == "uprobe_prog");
        let opts = || CollectionOptions {
            pin_path: Some(fs.path().to_owned()),
            ..Default::default()
        };
        let first = Collection::load(&s, opts()).unwrap();
        let pinned = fs.path().join("percpu_array");
        assert!(pinned.exists());
        let id = first.maps["percpu_array"].id().unwrap();
        drop(first);
        // Reused on the next load.
        let second = Collection::load(&s, opts()).unwrap();
        assert_eq!(second.maps["percpu_array"].id().unwrap(), id);
        drop(second);
        // An incompatible pin is an error naming the difference.
        std::fs::remove_file(&pinned).unwrap();
        let mut other = Map::create(&MapSpec::new(
            "percpu_array",
            MapType::PERCPU_ARRAY,
            4,
            8,
            3,
        ))
        .unwrap();
        other.pin(&pinned).unwrap();
        let e = Collection::load(&s, opts()).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .contains("max entries 3 != 2"),
            "{e}"
        );
        other.unpin().unwrap();
        // A failed load removes the pins it created.
        let mut failing = s.clone();
        let mut bad = failing.programs["uprobe_prog"].clone();
        bad.name = "broken".into();
        bad.instructions = vec![ebpf_asm::exit()].into();
        failing.programs.insert("broken".into(), bad);
        let e = Collection::load(&failing, opts()).unwrap_err();
        assert!(e.verifier().is_some(), "{e}");
        assert!(!pinned.exists(), "pin left behind after a failed load");
        Ok(())
    });
}

/// Map names come from ELF symbols: a pinned-by-name map called `../x`
/// would be pinned outside `pin_path`. Such a name is refused before any map
/// is created or pinned.
#[test]
fn pin_by_name_stays_inside_the_pin_path() {
    kernel_test(|| {
        let fs = BpfFs::new()?;
        let dir = fs.path().join("app");
        std::fs::create_dir(&dir)?;
        let mut s = without_struct_ops(spec("loader-el.o"));
        // Maps only: no program refers to the renamed map.
        s.programs.clear();
        for bad in ["../escaped", "/abs", ".hidden"] {
            let mut bad_spec = s.clone();
            let mut m = bad_spec.maps.remove("percpu_array").unwrap();
            m.name = bad.into();
            bad_spec.maps.insert(bad.into(), m);
            let e = Collection::load(
                &bad_spec,
                CollectionOptions {
                    pin_path: Some(dir.clone()),
                    ..Default::default()
                },
            )
            .unwrap_err();
            assert!(
                ebpf::ErrorChain(&e)
                    .to_string()
                    .contains("one path component"),
                "{bad}: {e}"
            );
            assert!(!fs.path().join("escaped").exists(), "{bad}: pinned outside");
            assert_eq!(
                std::fs::read_dir(&dir)?.count(),
                0,
                "{bad}: pins left behind"
            );
        }
        Ok(())
    });
}

/// A spec holding more global data than `CollectionOptions::limits` allows is
/// refused before anything is copied or created, naming the largest maps.
#[test]
fn data_limits_are_checked_before_loading() {
    kernel_test(|| {
        let mut s = without_struct_ops(spec("loader-el.o"));
        s.programs.clear();
        let tight = CollectionOptions {
            limits: ebpf::Limits { max_data_bytes: 16 },
            ..Default::default()
        };
        let e = Collection::load(&s, tight).unwrap_err();
        assert!(matches!(e, ebpf::Error::Spec(_)), "{e}");
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .contains("more than the limit of 16"),
            "{e}"
        );
        assert!(
            ebpf::ErrorChain(&e)
                .to_string()
                .contains("(largest: '.bss' 52"),
            "{e}"
        );
        Collection::load(&s, CollectionOptions::default())?;
        Ok(())
    });
}

#[test]
fn map_replacement() {
    kernel_test(|| {
        let mut s = without_struct_ops(spec("loader-el.o"));
        s.programs.retain(|n, _| n == "tp_getpid");
        let hash = s.maps["hash_map"].clone();
        let replacement = Map::create(&hash).unwrap();
        replacement
            .put(&[1u8; 8][..], &5u64, UpdateFlags::ANY)
            .unwrap();
        let id = replacement.id().unwrap();
        let coll = Collection::load(
            &s,
            CollectionOptions {
                map_replacements: BTreeMap::from([("hash_map".into(), replacement)]),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(coll.maps["hash_map"].id().unwrap(), id);
        drop(coll);
        // Maps the loader adjusts (ring buffer sizes, perf event array entries)
        // are compatible with their own spec.
        let ring = Map::create(&s.maps["events"]).unwrap();
        let perf = Map::create(&s.maps["perf_events"]).unwrap();
        let coll = Collection::load(
            &s,
            CollectionOptions {
                map_replacements: BTreeMap::from([
                    ("events".into(), ring),
                    ("perf_events".into(), perf),
                ]),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(coll.maps["events"].map_type(), MapType::RINGBUF);
        // Incompatible: value size differs.
        let mut bad = hash.clone();
        bad.value_size = 4;
        let e = Collection::load(
            &s,
            CollectionOptions {
                map_replacements: BTreeMap::from([("hash_map".into(), Map::create(&bad).unwrap())]),
                ..Default::default()
            },
        )
        .unwrap_err();
        let msg = ebpf::ErrorChain(&e).to_string();
        assert!(
            msg.contains("hash_map") && msg.contains("value size 4 != 8"),
            "{msg}"
        );
        // A replacement for a map the spec does not have is an error too.
        let e = Collection::load(
            &s,
            CollectionOptions {
                map_replacements: BTreeMap::from([(
                    "no_such_map".into(),
                    Map::create(&hash).unwrap(),
                )]),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(
            ebpf::ErrorChain(&e).to_string().contains("no_such_map"),
            "{e}"
        );
        Ok(())
    });
}
