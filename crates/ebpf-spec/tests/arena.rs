//! Arena objects: `testdata/arena.c` in both byte orders, and objects built by clang-19 at
//! test time with arena globals but no arena map, or two arena maps (skipped, with a line
//! saying so, when clang-19 is not installed).

use std::path::Path;

mod common;

use ebpf_asm::PseudoLoad;
use ebpf_spec::{ARENA_SECTION, CollectionSpec, Error, KfuncRef, MapType};

fn fixture(name: &str) -> CollectionSpec {
    CollectionSpec::from_file(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata")
            .join(name),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn arena_fixture() {
    for (name, to_bytes) in [
        ("arena-el.o", u64::to_le_bytes as fn(u64) -> [u8; 8]),
        ("arena-eb.o", u64::to_be_bytes),
    ] {
        let mut spec = fixture(name);
        let arena = &spec.maps["arena"];
        assert_eq!(arena.map_type, MapType::ARENA, "{name}");
        assert_eq!(
            (arena.max_entries, arena.flags, arena.map_extra),
            (4, 1 << 10, 1 << 44),
            "{name}"
        );
        assert_eq!(
            spec.maps.len(),
            1,
            "{name}: no data map for {ARENA_SECTION}"
        );
        // The initial contents: every arena global, initialised or zero.
        let data = arena.data().expect("arena contents");
        assert_eq!(data.len(), 48, "{name}");
        assert_eq!(data[..8], to_bytes(0x1122_3344_5566_7788), "{name}");
        assert!(data[24..].iter().all(|b| *b == 0), "{name}");

        let vars: Vec<(&str, u32, u32)> = spec
            .variables
            .values()
            .map(|v| (v.name.as_str(), v.offset, v.size))
            .collect();
        assert_eq!(
            vars,
            [
                ("arena_magic", 0, 8),
                ("arena_page", 40, 8),
                ("arena_runs", 24, 4),
                ("arena_sum", 32, 8),
                ("arena_table", 8, 16),
            ],
            "{name}"
        );
        assert!(spec.variables.values().all(|v| v.section == ARENA_SECTION));
        assert!(spec.variables.values().all(|v| v.type_id.is_some()));

        // Arena globals are map values of the arena map, at the global's offset.
        let p = &spec.programs["arena_prog"];
        let offsets: Vec<u32> = p
            .instructions
            .iter()
            .filter(|i| i.pseudo_load() == Some(PseudoLoad::MapValue))
            .inspect(|i| assert_eq!(i.reference(), Some("arena"), "{name}"))
            .map(|i| (i.constant as u64 >> 32) as u32)
            .collect();
        assert_eq!(offsets, [24, 0, 8, 8, 8, 32, 40], "{name}");
        // `&arena` (the kfunc's map argument) is a map fd load.
        assert!(p.instructions.iter().any(|i| {
            i.pseudo_load() == Some(PseudoLoad::MapFd) && i.reference() == Some("arena")
        }));
        let kfunc = p
            .instructions
            .iter()
            .find_map(|i| i.metadata.get::<KfuncRef>())
            .expect("kfunc call");
        assert_eq!(kfunc.name, "bpf_arena_alloc_pages");
        assert!(kfunc.weak);

        // Variables are edited in the arena map's contents.
        assert_eq!(spec.variable_bytes("arena_runs").unwrap(), [0; 4]);
        spec.set_variable("arena_runs", &[1, 2, 3, 4]).unwrap();
        assert_eq!(spec.maps["arena"].data().unwrap()[24..28], [1, 2, 3, 4]);
        assert_eq!(spec.variable_bytes("arena_runs").unwrap(), [1, 2, 3, 4]);
    }
}

/// Builds `source` (little-endian) and opens it.
fn build(tag: &str, source: &str) -> Result<CollectionSpec, Error> {
    common::compile(&format!("arena-{tag}"), source, "bpfel", &["-g"])
}

const PRELUDE: &str = r#"
#include "include/bpf_common.h"
char LICENSE[] SEC("license") = "GPL";
#define __arena __attribute__((address_space(1)))
struct arena_def {
	__uint(type, 33);
	__uint(map_flags, 1 << 10);
	__uint(max_entries, 1);
};
int __arena counter = 3;
SEC("syscall") int prog(void *ctx) { return counter++; }
"#;

#[test]
fn arena_globals_need_one_arena_map() {
    if !common::clang_found("arena objects") {
        return;
    }
    let e = build("none", PRELUDE).expect_err("arena globals without an arena map");
    let msg = e.to_string();
    assert!(matches!(e, Error::BadSection { .. }), "{msg}");
    assert!(msg.starts_with("section '.addr_space.1': "), "{msg}");
    assert!(msg.contains("arena map"), "{msg}");

    let two = format!("{PRELUDE}struct arena_def a SEC(\".maps\"), b SEC(\".maps\");\n");
    let e = build("two", &two).expect_err("two arena maps");
    assert_eq!(
        e.to_string(),
        "section '.maps': map 'b': only one arena map is supported (map 'a' is also an arena)"
    );

    let one = format!("{PRELUDE}struct arena_def a SEC(\".maps\");\n");
    let spec = build("one", &one).expect("one arena map");
    assert_eq!(spec.maps["a"].data(), Some(&3u32.to_le_bytes()[..]));
    assert_eq!(spec.variables["counter"].section, ARENA_SECTION);
}
