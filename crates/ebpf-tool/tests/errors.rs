//! A verifier rejection printed by `ebpf-tool load`, by `anyhow` (`{:#}` and
//! the `{:?}` a `main` returning `anyhow::Result` prints) shows each line of
//! the log once.

use std::path::Path;
use std::process::Command;

use ebpf_test_support::{kernel_test, skip};

/// Each non-empty line of `log` appears exactly once in `text`.
fn each_line_once(log: &str, text: &str) {
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        assert_eq!(text.matches(line).count(), 1, "{line:?} in:\n{text}");
    }
}

#[test]
fn a_verifier_rejection_prints_its_log_once() {
    kernel_test(|| {
        // r0 is read before it is written.
        let e = ebpf::Program::load_raw(
            ebpf::ProgramType::SOCKET_FILTER,
            vec![ebpf_asm::exit()].into(),
            "GPL",
        )
        .unwrap_err();
        let log = e.verifier().expect("a verifier error").log.tail(20);
        assert!(log.contains("R0 !read_ok"), "{log}");
        let e = anyhow::Error::new(e).context("load raw");
        let alternate = format!("{e:#}");
        assert!(
            alternate.starts_with("load raw: program 'raw': load: verifier rejected the program"),
            "{alternate}"
        );
        each_line_once(&log, &alternate);
        each_line_once(&log, &format!("{e:?}"));
        Ok(())
    });
}

#[test]
fn ebpf_tool_load_prints_a_rejection_once() {
    kernel_test(|| {
        // core-el.o's first program reaches a CO-RE relocation the running
        // kernel cannot satisfy (struct amb does not exist): the verifier
        // rejects it.
        let out = Command::new(env!("CARGO_BIN_EXE_ebpf-tool"))
            .args(["load", "testdata/core-el.o"])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        if stderr.contains("refused by policy") {
            skip(format!("load refused by policy: {stderr}"));
            return Ok(());
        }
        assert!(
            stderr.starts_with("ebpf-tool: load testdata/core-el.o: program '"),
            "{stderr}"
        );
        assert_eq!(
            stderr.matches("verifier rejected the program").count(),
            1,
            "{stderr}"
        );
        assert_eq!(stderr.matches("processed ").count(), 1, "{stderr}");
        let log = stderr
            .split_once('\n')
            .map(|(_, log)| log)
            .expect("the log follows the first line");
        each_line_once(log, &stderr);
        Ok(())
    });
}

/// `testdata/syscount-el.o` with its last `r0 = 0` turned into `r0 = r9`: the
/// verifier walks the program (a log longer than the tail an error shows),
/// then rejects the read of r9.
fn rejected_object() -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut bytes = std::fs::read(root.join("testdata/syscount-el.o")).expect("fixture");
    // `r0 = 0; exit`, little-endian.
    let from = [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
    let at: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "r0 = 0; exit in syscount-el.o");
    // `r0 = r9` (BPF_ALU64 | BPF_MOV | BPF_X, src 9, dst 0).
    bytes[at[0]] = 0xbf;
    bytes[at[0] + 1] = 0x90;
    let path = std::env::temp_dir().join(format!("ebpf-tool-rejected-{}.o", std::process::id()));
    std::fs::write(&path, bytes).expect("write object");
    path
}

/// The log lines of a `load` error: every line after the first.
fn log_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().skip(1).collect()
}

#[test]
fn load_shows_the_tail_once_and_the_whole_log_with_log() {
    kernel_test(|| {
        let object = rejected_object();
        let obj = object.to_str().expect("utf-8 path");
        let run = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_ebpf-tool"))
                .args(args)
                .env_remove("RUST_LOG")
                .output()
        };
        let (default, whole) = (run(&["load", obj])?, run(&["load", "--log", obj])?);
        let bytes = std::fs::read(&object)?;
        let _ = std::fs::remove_file(&object);
        let default_err = String::from_utf8_lossy(&default.stderr);
        let whole_err = String::from_utf8_lossy(&whole.stderr);
        if default_err.contains("refused by policy") {
            skip(format!("load refused by policy: {default_err}"));
            return Ok(());
        }
        let first = format!(
            "ebpf-tool: load {obj}: program 'count_syscalls': load: verifier rejected the program"
        );
        for (out, err) in [(&default, &default_err), (&whole, &whole_err)] {
            assert!(!out.status.success(), "{err}");
            assert!(err.starts_with(&first), "{err}");
            assert_eq!(err.matches("R9 !read_ok").count(), 1, "{err}");
            assert_eq!(err.matches("processed ").count(), 1, "{err}");
        }

        // Default: the last lines, each once, under a header saying how many there were.
        let shown = log_lines(&default_err);
        let header = shown[0];
        let total: usize = header
            .strip_prefix("(last 20 of ")
            .and_then(|h| h.strip_suffix(" lines)"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no tail header: {default_err}"));
        assert!(total > 20, "{default_err}");
        assert_eq!(shown.len(), 21, "{default_err}");
        each_line_once(&shown[1..].join("\n"), &default_err);

        // --log: the whole log (the level of `bpftool prog load -d`), no header;
        // as long as the library's log at that level for the same object.
        let lines = log_lines(&whole_err);
        assert!(!whole_err.contains("(last "), "{whole_err}");
        assert!(lines.len() > total, "{whole_err}");
        assert_eq!(lines[0], "func#0 @0", "{whole_err}");
        assert!(whole_err.contains("verification time"), "{whole_err}");
        let spec = ebpf_spec::CollectionSpec::from_elf(&bytes)?;
        let opts = ebpf::CollectionOptions {
            log_level: ebpf::LogLevel::from_bits_retain(7),
            ..Default::default()
        };
        let e = ebpf::Collection::load(&spec, opts).expect_err("the verifier rejects it");
        let log = &e.verifier().expect("a verifier error").log;
        assert!(!log.is_truncated());
        assert_eq!(lines.len(), log.lines().count(), "{whole_err}");
        Ok(())
    });
}
