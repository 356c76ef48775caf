//! Errors print each cause once: a wrapper's message is its own context and
//! the cause is its `source()`, so the chain reads like a path.

use ebpf_spec::Error;

/// The messages of `e` and its causes, outermost first.
fn segments(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push(c.to_string());
        cur = c.source();
    }
    out
}

/// No segment repeats a later one, and the chain is `expected`.
fn assert_prints_once(e: &(dyn std::error::Error + 'static), expected: &str) {
    let segs = segments(e);
    for (i, outer) in segs.iter().enumerate() {
        for inner in &segs[i + 1..] {
            assert!(
                !outer.contains(inner.as_str()),
                "{outer:?} repeats {inner:?}"
            );
        }
    }
    assert_eq!(segs.join(": "), expected);
}

#[test]
fn wrappers_name_where_the_cause_names_what() {
    let e = Error::Btf {
        section: ".BTF.ext".into(),
        source: ebpf_btf::Error::BadExt {
            section: "core_relo kprobe/x".into(),
            field: "type_id",
            reason: "out of range".into(),
        },
    };
    assert_eq!(e.to_string(), ".BTF.ext");
    assert_prints_once(
        &e,
        ".BTF.ext: btf: ext: core_relo kprobe/x: type_id: out of range",
    );
    let e = Error::Instructions {
        section: "xdp".into(),
        source: ebpf_asm::Error::InvalidRegister { register: 12 },
    };
    assert_prints_once(&e, "section 'xdp': invalid register 12");
    let e = Error::Io {
        path: "/nope/x.bpf.o".into(),
        source: std::io::Error::from_raw_os_error(2),
    };
    assert_prints_once(&e, "/nope/x.bpf.o: No such file or directory (os error 2)");
}
