//! Errors print each cause once: a wrapper's message is its own context and
//! the cause is its `source()`, so the chain reads like a path.

use ebpf_btf::core::{AccessorError, CoreError, CoreErrorKind};
use ebpf_btf::{CoreReloKind, Error, TypeId};

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

fn relocation(source: CoreErrorKind) -> CoreError {
    CoreError {
        relocation: 3,
        kind: CoreReloKind::FieldByteOffset,
        local: "struct task_struct.pid".into(),
        insn: 12,
        source,
    }
}

#[test]
fn io_names_the_file_then_the_cause() {
    let e = Error::Io {
        path: "/sys/kernel/btf/vmlinux".into(),
        source: std::io::Error::from_raw_os_error(2),
    };
    assert_prints_once(
        &e,
        "btf: /sys/kernel/btf/vmlinux: No such file or directory (os error 2)",
    );
}

#[test]
fn a_core_error_names_the_relocation_then_what_went_wrong() {
    let e = relocation(CoreErrorKind::Ambiguous {
        detail: "field offset ambiguity: bit offset 0 != 32".into(),
        candidates: vec!["[2] struct task_struct___a.pid".into()],
    });
    assert_eq!(
        e.to_string(),
        "relocation 3 (field byte offset of struct task_struct.pid, insn 12)"
    );
    assert_prints_once(
        &e,
        "relocation 3 (field byte offset of struct task_struct.pid, insn 12): ambiguous relocation: \
         field offset ambiguity: bit offset 0 != 32 (candidates: [2] struct task_struct___a.pid)",
    );
    // Transparent kinds: the BTF or accessor error prints once.
    let e = relocation(CoreErrorKind::Btf(Error::TypeIdOutOfRange {
        id: TypeId(99),
        count: 7,
    }));
    assert_prints_once(
        &e,
        "relocation 3 (field byte offset of struct task_struct.pid, insn 12): \
         btf: type id 99 out of range (7 types)",
    );
    let e = relocation(AccessorError::Empty.into());
    assert_prints_once(
        &e,
        "relocation 3 (field byte offset of struct task_struct.pid, insn 12): empty accessor",
    );
}
