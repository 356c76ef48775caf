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

/// Piped, `run` appends plain tables with totals and rates; it does not count
/// itself (`ignore_tgid`), reads the map in batches, and counts a child busy
/// with syscalls under the child's pid.
#[test]
fn run_counts_a_child_but_not_itself() {
    kernel_test(|| {
        // Each `:` with a redirection opens and closes /dev/null in the shell itself.
        let mut busy = Command::new("sh")
            .args(["-c", "while :; do : < /dev/null; done"])
            .spawn()
            .expect("spawn sh");
        let tool = Command::new(env!("CARGO_BIN_EXE_ebpf-tool"))
            .args([
                "-v",
                "run",
                "--duration",
                "2",
                "--interval",
                "0.5",
                "--top",
                "500",
            ])
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ebpf-tool run");
        let tool_pid = tool.id();
        let out = tool.wait_with_output().expect("wait for ebpf-tool");
        let _ = busy.kill();
        let _ = busy.wait();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "run failed: {stderr}\n{stdout}");
        assert!(
            !stdout.contains('\x1b'),
            "escape codes in piped output:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("ignore_tgid = {tool_pid} (this tool)")),
            "{stdout}"
        );
        assert!(
            stdout.contains("map counts (lru_hash, "),
            "the default map is not an LRU hash:\n{stdout}"
        );
        assert!(
            stderr.contains("map counts: read with batch lookups"),
            "{stderr}"
        );
        // Several refreshes, appended, each with both columns.
        let headers = stdout
            .lines()
            .filter(|l| l.split_whitespace().eq(["CALLS", "CALLS/S", "KEY"]))
            .count();
        assert!(headers >= 3, "{stdout}");
        assert!(
            !stdout.contains(&format!("pid: {tool_pid},")),
            "the tool counted itself ({tool_pid}):\n{stdout}"
        );
        // The child's rows: a total and a rate, the rate busy in some refresh.
        let child = format!("{{pid: {}, comm: \"sh\"}}", busy.id());
        let rows: Vec<(u64, u64)> = stdout
            .lines()
            .filter(|l| l.trim_end().ends_with(&child))
            .map(|l| {
                let mut cols = l.split_whitespace().map(|c| c.parse::<u64>());
                match (cols.next(), cols.next()) {
                    (Some(Ok(total)), Some(Ok(rate))) => (total, rate),
                    _ => panic!("not TOTAL RATE KEY: {l:?}"),
                }
            })
            .collect();
        assert!(
            rows.len() >= 3,
            "the child {child} is not in the tables:\n{stdout}"
        );
        assert!(rows.iter().any(|&(_, rate)| rate > 100), "{rows:?}");
        // Totals only grow.
        assert!(rows.windows(2).all(|w| w[0].0 <= w[1].0), "{rows:?}");
        Ok(())
    });
}

/// On a terminal (here `script`'s pseudo-terminal) each refresh first moves
/// the cursor home and clears the screen, so the tables are redrawn in place.
#[test]
fn run_redraws_in_place_on_a_terminal() {
    kernel_test(|| {
        let has_script = Command::new("script")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_script {
            ebpf_test_support::skip("needs script(1) for a pseudo-terminal (util-linux)");
            return Ok(());
        }
        let cmd = format!(
            "{} run --duration 1.6 --interval 0.5 --top 3",
            env!("CARGO_BIN_EXE_ebpf-tool")
        );
        let out = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .output()
            .expect("run script");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        let refreshes = stdout.matches("\x1b[H\x1b[2J").count();
        assert!(refreshes >= 3, "{refreshes} redraws:\n{stdout}");
        assert_eq!(
            refreshes,
            stdout.matches("CALLS/S").count(),
            "one table per redraw:\n{stdout}"
        );
        Ok(())
    });
}
