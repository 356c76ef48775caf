//! `ebpf-tool run` of the default object, for real: the syscall counter must
//! show this test process (which makes syscalls while the tool runs).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ebpf_test_support::{TestResult, kernel_test};

#[test]
fn run_default_object_shows_this_process() {
    kernel_test(run_default_object);
}

fn run_default_object() -> TestResult {
    let child = Command::new(env!("CARGO_BIN_EXE_ebpf-tool"))
        .args([
            "run",
            "--duration",
            "2",
            "--interval",
            "0.5",
            "--top",
            "200",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ebpf-tool run");
    // Make syscalls from this process while the tool counts.
    let end = Instant::now() + Duration::from_secs(2);
    while Instant::now() < end {
        let _ = std::fs::metadata("/proc/self");
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().expect("wait for ebpf-tool");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "run failed: {stderr}\n{stdout}");
    assert!(stdout.contains("attached count_syscalls"), "{stdout}");
    let pid = format!("pid: {}", std::process::id());
    assert!(
        stdout.contains(&pid),
        "the syscall table does not show this process ({pid}):\n{stdout}"
    );
    assert!(stdout.trim_end().ends_with("detached"), "{stdout}");
    Ok(())
}
