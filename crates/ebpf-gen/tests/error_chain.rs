//! Errors print each cause once: a wrapper's message is its own context and
//! the cause is its `source()`, so the chain reads like a path.

use ebpf_gen::Error;

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
    let e = Error::from(ebpf_spec::Error::Io {
        path: "bpf/x.bpf.o".into(),
        source: std::io::Error::from_raw_os_error(2),
    });
    assert_eq!(e.to_string(), "object");
    assert_prints_once(
        &e,
        "object: bpf/x.bpf.o: No such file or directory (os error 2)",
    );
    let e = Error::from(ebpf_btf::Error::NotFound {
        name: "event".into(),
    });
    assert_prints_once(&e, "btf: no type named \"event\"");
    let e = Error::Io {
        path: "out/x.skel.rs".into(),
        source: std::io::Error::from_raw_os_error(13),
    };
    assert_prints_once(&e, "out/x.skel.rs: Permission denied (os error 13)");
}
