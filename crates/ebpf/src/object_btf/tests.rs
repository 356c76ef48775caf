//! The BTF loaded as the object holds it against the sanitise-and-encode path
//! it replaces when the kernel lacks nothing: the same types under the same
//! ids, and line info naming the same strings, for every committed object.

use std::path::PathBuf;

use ebpf_btf::sanitize::Features;
use ebpf_btf::{LineInfo, Spec, Type};
use ebpf_spec::CollectionSpec;

use super::{LineRef, LineStrings, sanitized, to_load};

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

fn lines(spec: &CollectionSpec) -> Vec<LineRef<'_>> {
    spec.programs
        .values()
        .flat_map(|p| p.instructions.iter())
        .filter_map(|ins| LineRef::of(&ins.metadata))
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
        for &li in &lines {
            let (file, line) = li.strings();
            let (nf, nl) = new_strings.offsets(li);
            let (of, ol) = old_strings.offsets(li);
            assert_eq!(new.string_at(nf).unwrap(), file, "{name}");
            assert_eq!(new.string_at(nl).unwrap(), line, "{name}");
            assert_eq!(old.string_at(of).unwrap(), file, "{name}");
            assert_eq!(old.string_at(ol).unwrap(), line, "{name}");
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
    let foreign = LineRef::Resolved(&foreign);
    let (bytes, strings) = to_load(
        btf,
        &Features::all(),
        std::iter::once(foreign),
        btf.endian(),
    )
    .unwrap();
    let LineStrings::Added(_) = &strings else {
        panic!("{name}: raw offsets taken for strings not there");
    };
    let out = Spec::parse(&bytes).unwrap();
    let (f, l) = strings.offsets(foreign);
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

/// A line info kept raw reads as the resolved one does (offsets, line and
/// column, strings) for every instruction of every committed object; an edited
/// one is read resolved.
#[test]
fn raw_line_info_reads_as_the_resolved_one() {
    let (mut raw, mut beside) = (0, 0);
    for (name, mut spec) in fixtures() {
        for p in spec.programs.values() {
            for ins in p.instructions.iter() {
                let Some(li) = ins.metadata.get::<LineInfo>() else {
                    assert!(LineRef::of(&ins.metadata).is_none(), "{name}");
                    continue;
                };
                let line = LineRef::of(&ins.metadata).unwrap();
                let offsets = match line {
                    LineRef::Raw(r, _) => {
                        raw += 1;
                        (r.file_name_off, r.line_off)
                    }
                    // An instruction with extensions of its own (an extern's) keeps
                    // its records there too.
                    LineRef::Resolved(own) => own.raw_offsets,
                };
                assert_eq!(offsets, li.raw_offsets, "{name}");
                assert_eq!(line.line_col(), LineRef::Resolved(li).line_col(), "{name}");
                assert_eq!(line.strings(), (&*li.file_name, &*li.line), "{name}");
            }
        }
        // Edited, the instruction's line info is its own.
        let Some(ins) = spec
            .programs
            .values_mut()
            .flat_map(|p| p.instructions.iter_mut())
            .find(|i| i.metadata.get::<LineInfo>().is_some())
        else {
            continue;
        };
        let mut li = ins.metadata.get::<LineInfo>().unwrap().clone();
        li.line = "edited".into();
        ins.metadata.insert(li);
        let Some(LineRef::Resolved(li)) = LineRef::of(&ins.metadata) else {
            panic!("{name}: an edited line info is read raw");
        };
        assert_eq!(&*li.line, "edited", "{name}");
        // A line info given to an instruction whose row has none (a func info or CO-RE
        // record only) sits beside the row, and is the one read.
        let Some(ins) = spec
            .programs
            .values_mut()
            .flat_map(|p| p.instructions.iter_mut())
            .find(|i| {
                let m = &i.metadata;
                (m.get::<ebpf_btf::FuncInfo>().is_some() || m.get::<ebpf_btf::CoreRelo>().is_some())
                    && m.get::<LineInfo>().is_none()
            })
        else {
            continue;
        };
        // A raw record set there by hand has no string table: it is not taken for one
        // read from the row's.
        assert!(
            ins.metadata.get::<ebpf_btf::ExtStrings>().is_none(),
            "{name}"
        );
        ins.metadata.insert(ebpf_btf::RawLineInfo {
            insn_off: 0,
            file_name_off: 1,
            line_off: 1,
            line_col: 0,
        });
        assert!(LineRef::of(&ins.metadata).is_none(), "{name}");
        ins.metadata.insert(LineInfo {
            insn_off: 0,
            file_name: "own.c".into(),
            line: "own".into(),
            line_num: 3,
            column: 4,
            raw_offsets: (0, 0),
        });
        let Some(LineRef::Resolved(li)) = LineRef::of(&ins.metadata) else {
            panic!("{name}: a line info beside a row without one is not read");
        };
        assert_eq!((&*li.line, li.line_num), ("own", 3), "{name}");
        beside += 1;
    }
    assert!(raw > 100, "{raw}");
    assert!(beside > 0);
}

/// Raw line info loaded with another object's BTF gets its strings added: the
/// offsets it has point into a table that BTF does not hold.
#[test]
fn raw_line_info_with_other_btf_gets_its_strings_added() {
    let all = fixtures();
    let find = |n: &str| &all.iter().find(|(name, _)| name == n).unwrap().1;
    let (ours, other) = (find("syscount-el.o"), find("loader-el.o"));
    let lines = lines(ours);
    assert!(lines.iter().all(|l| matches!(l, LineRef::Raw(..))));
    let btf = other.btf.as_deref().unwrap();
    let (bytes, strings) =
        to_load(btf, &Features::all(), lines.iter().copied(), btf.endian()).unwrap();
    assert!(matches!(strings, LineStrings::Added(_)));
    let out = Spec::parse(&bytes).unwrap();
    for &line in &lines {
        let (file, text) = line.strings();
        let (f, l) = strings.offsets(line);
        assert_eq!(out.string_at(f).unwrap(), file);
        assert_eq!(out.string_at(l).unwrap(), text);
    }
}
