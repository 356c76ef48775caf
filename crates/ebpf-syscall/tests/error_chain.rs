//! Errors print each cause once: a wrapper's message is its own context and
//! the cause is its `source()`, so the chain reads like a path.

use std::error::Error as _;

use ebpf_syscall::{Cmd, Errno, Error, ErrorChain, KernelVersion, NotSupported};

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

#[test]
fn io_names_the_file_then_the_cause() {
    let e = Error::Io {
        what: "read /sys/kernel/tracing/events/syscalls/sys_enter_nope/id".into(),
        source: std::io::Error::from_raw_os_error(2),
    };
    assert!(e.source().is_some());
    assert_prints_once(
        &e,
        "read /sys/kernel/tracing/events/syscalls/sys_enter_nope/id: \
         No such file or directory (os error 2)",
    );
}

#[test]
fn leaves_and_transparent_variants_print_once() {
    let e = Error::Bpf {
        cmd: Cmd::MAP_CREATE,
        errno: Errno::INVAL,
    };
    assert_prints_once(&e, "BPF_MAP_CREATE: Invalid argument (EINVAL)");
    let e = Error::from(NotSupported::new(
        "BPF ring buffer",
        KernelVersion::new(5, 8, 0),
    ));
    assert!(e.not_supported().is_some());
    assert_prints_once(
        &e,
        "BPF ring buffer is not supported by the running kernel (requires Linux 5.8 or later)",
    );
}
