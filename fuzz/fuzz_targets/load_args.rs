#![no_main]
//! What `ebpf-tool load --pin DIR` and `Collection::load` (pin by name) make of
//! names an object file chooses: every map and program name of a parsed object
//! (seeded with the fixtures in `testdata/`), and the raw input itself as one
//! name, go through `ebpf::pin::join_name` the way the CLI uses it (a data
//! map's one leading dot dropped). A name that is accepted must give exactly
//! one more path component under the directory, equal to the name: nothing a
//! symbol says can climb out of, replace or hide in the pin directory.
use std::path::{Component, Path};

use ebpf_spec::CollectionSpec;

fn check(dir: &Path, name: &str) {
    for name in [name, name.strip_prefix('.').unwrap_or(name)] {
        let Ok(path) = ebpf::pin::join_name(dir, name) else {
            continue;
        };
        let rest = path
            .strip_prefix(dir)
            .expect("the pin is under its directory");
        let parts: Vec<Component<'_>> = rest.components().collect();
        assert!(
            matches!(parts.as_slice(), [Component::Normal(n)] if n.to_str() == Some(name)),
            "{name:?} gives {}",
            path.display()
        );
        assert!(!name.starts_with('.'), "{name:?} is hidden");
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let maps = Path::new("/sys/fs/bpf/app/maps");
    check(maps, &String::from_utf8_lossy(data));
    if let Ok(spec) = CollectionSpec::from_elf(data) {
        for name in spec.maps.keys() {
            check(maps, name);
        }
        for name in spec.programs.keys() {
            check(Path::new("/sys/fs/bpf/app/progs"), name);
        }
    }
});
