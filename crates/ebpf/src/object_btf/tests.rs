//! The BTF loaded as the object holds it against the sanitise-and-encode path
//! it replaces when the kernel lacks nothing: the same types under the same
//! ids, and line info naming the same strings, for every committed object.

use std::path::PathBuf;

use ebpf_btf::sanitize::Features;
use ebpf_btf::{LineInfo, Spec, Type};
use ebpf_spec::CollectionSpec;

use super::{LineStrings, sanitized, to_load};

/// Every committed object with BTF (both byte orders), opened as loading does.
fn fixtures() -> Vec<(String, CollectionSpec)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("testdata")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&p).expect("read fixture");
        let spec = CollectionSpec::from_elf(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        if spec.btf.is_some() {
            out.push((name, spec));
        }
    }
    assert!(out.len() >= 30, "only {} objects with BTF", out.len());
    out
}

fn lines(spec: &CollectionSpec) -> Vec<&LineInfo> {
    spec.programs
        .values()
        .flat_map(|p| p.instructions.iter())
        .filter_map(|ins| ins.metadata.get::<LineInfo>())
        .collect()
}

/// Asserts `new` and `old` hold the same types under the same ids.
fn same_types(name: &str, new: &Spec, old: &Spec) {
    assert_eq!(new.endian(), old.endian(), "{name}");
    assert_eq!(new.len(), old.len(), "{name}: type count");
    for id in new.ids() {
        let (a, b) = (new.type_by_id(id).unwrap(), old.type_by_id(id).unwrap());
        assert_eq!(a, b, "{name}: type {id}");
    }
}

#[test]
fn as_read_matches_sanitized_for_every_object() {
    let mut with_lines = 0;
    let mut edited = 0;
    let mut with_ksyms = 0;
    for (name, spec) in fixtures() {
        let btf = spec.btf.as_deref().unwrap();
        let lines = lines(&spec);
        let endian = btf.endian();
        let all = Features::all();
        let (new, new_strings) = to_load(btf, &all, lines.iter().copied(), endian).unwrap();
        let (old, old_strings) = sanitized(btf, &all, lines.iter().copied(), endian).unwrap();
        let (new, old) = (Spec::parse(&new).unwrap(), Spec::parse(&old).unwrap());
        same_types(&name, &new, &old);
        // The object's string table is kept whole, at the same offsets.
        let table = btf.strings().as_bytes();
        assert_eq!(&new.strings().as_bytes()[..table.len()], table, "{name}");
        assert!(matches!(new_strings, LineStrings::Raw), "{name}");
        for li in &lines {
            let (nf, nl) = new_strings.offsets(li);
            let (of, ol) = old_strings.offsets(li);
            assert_eq!(new.string_at(nf).unwrap(), &*li.file_name, "{name}");
            assert_eq!(new.string_at(nl).unwrap(), &*li.line, "{name}");
            assert_eq!(old.string_at(of).unwrap(), &*li.file_name, "{name}");
            assert_eq!(old.string_at(ol).unwrap(), &*li.line, "{name}");
        }
        with_lines += usize::from(!lines.is_empty());
        edited += usize::from(btf.ids().any(|id| {
            btf.type_by_id(id)
                .is_ok_and(|t| matches!(t, Type::Datasec(d) if d.size != 0))
        }));
        with_ksyms += usize::from(
            btf.type_by_name::<ebpf_btf::Datasec>(ebpf_spec::KSYMS_SECTION)
                .is_ok(),
        );
    }
    // The comparison covered line info, datasecs fixed up at open and externs.
    assert!(
        with_lines > 10 && edited > 10 && with_ksyms > 0,
        "{with_lines} {edited} {with_ksyms}"
    );
}

#[test]
fn line_info_of_other_btf_gets_its_strings_added() {
    let (name, spec) = fixtures()
        .into_iter()
        .find(|(n, _)| n == "syscount-el.o")
        .unwrap();
    let btf = spec.btf.as_deref().unwrap();
    let foreign = LineInfo {
        insn_off: 0,
        file_name: "nowhere.c".into(),
        line: "int x;".into(),
        line_num: 1,
        column: 0,
        raw_offsets: (1, 2),
    };
    let (bytes, strings) = to_load(
        btf,
        &Features::all(),
        std::iter::once(&foreign),
        btf.endian(),
    )
    .unwrap();
    let LineStrings::Added(_) = &strings else {
        panic!("{name}: raw offsets taken for strings not there");
    };
    let out = Spec::parse(&bytes).unwrap();
    let (f, l) = strings.offsets(&foreign);
    assert_eq!(out.string_at(f).unwrap(), "nowhere.c");
    assert_eq!(out.string_at(l).unwrap(), "int x;");
    assert!(f as usize >= btf.strings().len());
}

/// `needs_sanitizing` says yes exactly when sanitising changes a type.
#[test]
fn needs_sanitizing_agrees_with_sanitize() {
    let flags: [fn(&mut Features); 8] = [
        |f| f.func = false,
        |f| f.func_global = false,
        |f| f.datasec = false,
        |f| f.qmark_datasec = false,
        |f| f.float = false,
        |f| f.decl_tag = false,
        |f| f.type_tag = false,
        |f| f.enum64 = false,
    ];
    let mut lacking = 0;
    for (name, spec) in fixtures() {
        let btf = spec.btf.as_deref().unwrap();
        for (i, clear) in flags.iter().enumerate() {
            let mut f = Features::all();
            clear(&mut f);
            let out = ebpf_btf::sanitize::sanitize(btf, &f).unwrap();
            let changed = out.len() != btf.len()
                || btf
                    .ids()
                    .zip(out.types())
                    .any(|(id, t)| btf.type_by_id(id).unwrap() != t);
            let needs = ebpf_btf::sanitize::needs_sanitizing(btf, &f).unwrap();
            assert_eq!(needs, changed, "{name}: feature {i}");
            lacking += usize::from(needs);
        }
    }
    assert!(lacking > 0);
}
