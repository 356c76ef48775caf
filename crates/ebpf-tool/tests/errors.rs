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
