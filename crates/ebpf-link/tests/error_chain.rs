//! Errors print each cause once: a wrapper's message is its own context and
//! the cause is its `source()`, so the chain reads like a path.

use ebpf_link::{Error, ErrorChain};
use ebpf_syscall::{Errno, KernelVersion, NotSupported};

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

fn attach(source: Error) -> Error {
    Error::Attach {
        program: "tp_getpid".into(),
        target: "tracepoint syscalls/sys_enter_getpid".into(),
        source: Box::new(source),
    }
}

#[test]
fn an_attach_failure_reads_from_the_program_to_the_errno() {
    let e = attach(
        ebpf_syscall::Error::Syscall {
            call: "perf_event_open",
            errno: Errno::NOENT,
        }
        .into(),
    );
    assert_eq!(
        e.to_string(),
        "attach program 'tp_getpid' to tracepoint syscalls/sys_enter_getpid"
    );
    assert_eq!(e.errno(), Some(Errno::NOENT));
    assert_prints_once(
        &e,
        "attach program 'tp_getpid' to tracepoint syscalls/sys_enter_getpid: \
         perf_event_open: No such file or directory (ENOENT)",
    );
}

#[test]
fn link_io_and_object_errors_print_once() {
    let e = Error::Link {
        op: "pin",
        kind: "tracepoint",
        source: Box::new(Error::Io {
            what: "open /sys/fs/bpf/x".into(),
            source: std::io::Error::from_raw_os_error(2),
        }),
    };
    assert_prints_once(
        &e,
        "pin tracepoint link: open /sys/fs/bpf/x: No such file or directory (os error 2)",
    );
    // An object-layer error inside: its own path continues the chain.
    let object = ebpf::Error::Program {
        name: "tp_getpid".into(),
        op: "pin",
        source: Box::new(ebpf::Error::InvalidArgument("empty path".into())),
    };
    let e = Error::Link {
        op: "pin",
        kind: "tracepoint",
        source: Box::new(object.into()),
    };
    assert_prints_once(
        &e,
        "pin tracepoint link: program 'tp_getpid': pin: invalid argument: empty path",
    );
    // A missing feature two levels down is found and printed once.
    let ns = NotSupported::new("bpf_link for kprobe_multi", KernelVersion::new(5, 18, 0));
    let e = attach(ebpf_syscall::Error::NotSupported(ns.clone()).into());
    assert_eq!(e.not_supported(), Some(&ns));
    assert_prints_once(
        &e,
        "attach program 'tp_getpid' to tracepoint syscalls/sys_enter_getpid: \
         bpf_link for kprobe_multi is not supported by the running kernel (requires Linux 5.18 or later)",
    );
}
