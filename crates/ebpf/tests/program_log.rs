//! The verifier log's first buffer size (`ProgramOptions::log_size`): a start
//! far too small still ends with the whole log, on failure and on success.

use ebpf::{LogLevel, Program, ProgramOptions, ProgramSpec};
use ebpf_asm::{Instruction, Register::*, exit, mov64, mov64_reg};
use ebpf_test_support::kernel_test;

/// `n` times `mov r0, 0`, then `ret` (`mov r0, r2` with r2 never written
/// fails verification at the end of a long log).
fn spec(n: usize, fail: bool) -> ProgramSpec {
    let mut insns: Vec<Instruction> = (0..n).map(|_| mov64(R0, 0)).collect();
    if fail {
        insns.push(mov64_reg(R0, R2));
    }
    insns.push(exit());
    let mut spec = ProgramSpec::new("long", "socket", insns.into());
    spec.license = "GPL".into();
    spec
}

fn load(spec: &ProgramSpec, log_level: LogLevel, log_size: u32) -> ebpf::Result<Program> {
    Program::load(
        spec,
        &ProgramOptions {
            log_level,
            log_size,
            ..Default::default()
        },
    )
}

#[test]
fn tiny_log_size_still_gets_the_whole_failure_log() {
    kernel_test(|| {
        let spec = spec(300, true);
        let full = load(&spec, LogLevel::NONE, 0).unwrap_err();
        let full = &full.verifier().expect("a verifier error").log;
        assert!(full.as_str().contains("R2 !read_ok"), "{full}");
        assert!(full.as_str().len() > 1024, "{}", full.as_str().len());
        for size in [1, 128, 1000] {
            let err = load(&spec, LogLevel::NONE, size).unwrap_err();
            let v = err.verifier().expect("a verifier error");
            assert!(!v.log.is_truncated(), "size {size}: grown until it fit");
            assert!(v.log.as_str() == full.as_str(), "size {size}: {}", v.log);
            // With a level the same log comes back from the first, logged, load.
            let err = load(&spec, LogLevel::BRANCH, size).unwrap_err();
            let log = &err.verifier().unwrap().log;
            assert!(log.as_str() == full.as_str(), "size {size}, level 1: {log}");
        }
        Ok(())
    });
}

fn without_timing(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| !l.starts_with("verification time"))
        .collect()
}

#[test]
fn small_log_size_keeps_the_whole_log_of_a_successful_load() {
    kernel_test(|| {
        let spec = spec(300, false);
        let level = LogLevel::INSTRUCTION | LogLevel::STATS;
        let reference = load(&spec, level, 0).unwrap();
        let reference = reference.verifier_log().expect("a level keeps the log");
        let p = load(&spec, level, 256).unwrap();
        let log = p.verifier_log().expect("a level keeps the log");
        assert!(log.as_str().len() > 256, "{}", log.as_str().len());
        assert!(log.as_str().contains("processed 301 insns"), "{log}");
        assert!(!log.is_truncated());
        // The same log as with the default size, but for the timing.
        assert!(
            without_timing(log.as_str()) == without_timing(reference.as_str()),
            "logs differ: {} and {} bytes",
            log.as_str().len(),
            reference.as_str().len()
        );
        // Without a level a successful load keeps no log, whatever the size.
        assert!(
            load(&spec, LogLevel::NONE, 256)
                .unwrap()
                .verifier_log()
                .is_none()
        );
        Ok(())
    });
}
