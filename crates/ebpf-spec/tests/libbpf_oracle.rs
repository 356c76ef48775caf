//! Our program and map lists against libbpf's (`tools/libbpf-oracle/open.c`, built with
//! `gcc open.c -o open -lbpf`). The expected lists are checked in under
//! `tests/golden/libbpf-open-NAME.txt` (made with Debian's libbpf 1.1.2, except `arena-el`:
//! arenas need libbpf 1.4+, so its list was made with libbpf v1.7.0 built from source); set
//! `EBPF_LIBBPF_OPEN=/path/to/open` to compare with a live run instead (with Debian's
//! libbpf 1.1.2, `arena_matches_libbpf` fails: it cannot open arena objects).

use std::collections::BTreeMap;
use std::path::Path;

use ebpf_spec::{CollectionSpec, MapType};

/// libbpf names global data maps `<object prefix>.<section suffix>`; ours are the section.
fn normalize_map(name: &str) -> String {
    match name.find('.') {
        Some(i) if i > 0 => name[i..].to_owned(),
        _ => name.to_owned(),
    }
}

fn oracle_output(fixture: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(open) = std::env::var_os("EBPF_LIBBPF_OPEN") {
        let obj = root.join("../../testdata").join(format!("{fixture}.o"));
        let out = std::process::Command::new(open)
            .arg(&obj)
            .output()
            .expect("run the libbpf oracle");
        assert!(out.status.success(), "oracle failed on {fixture}");
        return String::from_utf8(out.stdout).expect("utf-8");
    }
    let path = root.join(format!("tests/golden/libbpf-open-{fixture}.txt"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn compare(fixture: &str) {
    let text = oracle_output(fixture);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = CollectionSpec::from_file(root.join("../../testdata").join(format!("{fixture}.o")))
        .expect("open");
    let mut progs = BTreeMap::new();
    let mut maps = BTreeMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["prog", name, sec, ty] => {
                let sec = sec.strip_prefix("sec=").expect("sec=");
                let ty: u32 = ty
                    .strip_prefix("type=")
                    .expect("type=")
                    .parse()
                    .expect("number");
                progs.insert(name.to_string(), (sec.to_owned(), ty));
            }
            ["map", name, ty] => {
                let ty: u32 = ty
                    .strip_prefix("type=")
                    .expect("type=")
                    .parse()
                    .expect("number");
                maps.insert(normalize_map(name), ty);
            }
            _ => {}
        }
    }
    assert!(!progs.is_empty(), "{fixture}: oracle listed no program");
    let ours: BTreeMap<String, (String, u32)> = spec
        .programs
        .values()
        .map(|p| {
            (
                p.name.to_string(),
                (p.section_name.to_string(), p.program_type.0),
            )
        })
        .collect();
    assert_eq!(ours, progs, "{fixture}: programs differ from libbpf's");
    for (name, ty) in &maps {
        let m = spec
            .maps
            .get(name)
            .unwrap_or_else(|| panic!("{fixture}: libbpf has map {name}, we do not"));
        assert_eq!(m.map_type.0, *ty, "{fixture}: map {name}");
    }
    for (name, m) in &spec.maps {
        // libbpf 1.1 skips `.struct_ops.link`; newer ones make it a struct_ops map like us.
        assert!(
            maps.contains_key(name) || m.map_type == MapType::STRUCT_OPS,
            "{fixture}: extra map {name}"
        );
    }
}

#[test]
fn loader_matches_libbpf() {
    compare("loader-el");
}

#[test]
fn core_matches_libbpf() {
    compare("core-el");
}

#[test]
fn syscount_matches_libbpf() {
    compare("syscount-el");
}

#[test]
fn isa_v4_matches_libbpf() {
    compare("isa_v4-el");
}

#[test]
fn arena_matches_libbpf() {
    compare("arena-el");
}
