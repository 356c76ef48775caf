//! Errors print each cause once: a wrapper's message is its own context and
//! the cause is its `source()`, so the chain reads like a path, and a
//! verifier log appears once.

use ebpf::{Error, ErrorChain, KernelVersion, NotSupported, VerifierError, VerifierLog};
use ebpf_syscall::{Cmd, Errno};

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
    assert_eq!(ErrorChain(e).to_string(), expected);
}

fn program(op: &'static str, source: Error) -> Error {
    Error::Program {
        name: "tp_getpid".into(),
        op,
        source: Box::new(source),
    }
}

#[test]
fn a_verifier_rejection_shows_its_log_once() {
    let log = "0: (b7) r0 = 0\n1: (61) r1 = *(u32 *)(r9 +0)\nR9 !read_ok\nprocessed 2 insns";
    let e = program(
        "load",
        Error::Verifier(Box::new(VerifierError {
            errno: Errno::ACCES,
            log: VerifierLog::new(log.into(), false),
            poisoned_relocation: None,
        })),
    );
    assert_eq!(e.to_string(), "program 'tp_getpid': load");
    let text = ErrorChain(&e).to_string();
    assert_eq!(text.matches("R9 !read_ok").count(), 1, "{text}");
    assert_prints_once(
        &e,
        &format!(
            "program 'tp_getpid': load: verifier rejected the program: \
             Permission denied (EACCES)\n{log}"
        ),
    );
    assert!(e.verifier().is_some());
}

#[test]
fn a_missing_map_and_a_missing_feature_read_like_paths() {
    let e = Error::Context {
        what: "collection 'x'".into(),
        source: Box::new(Error::NotFound {
            kind: "map",
            name: "events".into(),
        }),
    };
    assert_prints_once(&e, "collection 'x': map 'events' not found");
    let e = Error::Map {
        name: "events".into(),
        op: "create",
        source: Box::new(
            NotSupported::new("BPF_MAP_TYPE_RINGBUF", KernelVersion::new(5, 8, 0)).into(),
        ),
    };
    assert!(e.not_supported().is_some());
    assert_prints_once(
        &e,
        "map 'events': create: BPF_MAP_TYPE_RINGBUF is not supported by the running kernel \
         (requires Linux 5.8 or later)",
    );
    let e = Error::Map {
        name: "events".into(),
        op: "update",
        source: Box::new(
            ebpf_syscall::Error::Bpf {
                cmd: Cmd::MAP_UPDATE_ELEM,
                errno: Errno::NOSPC,
            }
            .into(),
        ),
    };
    assert_eq!(e.errno(), Some(Errno::NOSPC));
    assert_prints_once(
        &e,
        "map 'events': update: BPF_MAP_UPDATE_ELEM: No space left on device (ENOSPC)",
    );
}

#[test]
fn a_core_failure_names_program_relocation_and_cause() {
    let core = ebpf_btf::core::CoreError {
        relocation: 3,
        kind: ebpf_btf::CoreReloKind::FieldByteOffset,
        local: "struct task_struct.pid".into(),
        insn: 12,
        source: ebpf_btf::core::CoreErrorKind::Ambiguous {
            detail: "field offset ambiguity: bit offset 0 != 32".into(),
            candidates: vec!["[2] struct task_struct___a.pid".into()],
        },
    };
    let e = program("load", Error::Core(core));
    assert!(e.core().is_some());
    assert_prints_once(
        &e,
        "program 'tp_getpid': load: CO-RE: relocation 3 (field byte offset of struct \
         task_struct.pid, insn 12): ambiguous relocation: field offset ambiguity: bit offset \
         0 != 32 (candidates: [2] struct task_struct___a.pid)",
    );
    let e = Error::Io {
        path: "/proc/kallsyms".into(),
        source: std::io::Error::from_raw_os_error(13),
    };
    assert_prints_once(&e, "/proc/kallsyms: Permission denied (os error 13)");
}
