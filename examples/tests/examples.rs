//! Each example, run for real for a few seconds as root while the test makes
//! the events it watches; skipped visibly without root or where the kernel
//! refuses the program type.

use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ebpf_test_support::{TempCgroup, has_privileges, skip};

/// Runs example `name` with `args` while `during` runs (until it returns or
/// the example exits); `None` (after a visible skip) without privileges or
/// when the kernel refused, else the example's stdout.
fn run(name: &str, args: &[&str], mut during: impl FnMut()) -> Option<String> {
    if !has_privileges() {
        assert!(
            !ebpf_test_support::require_root(),
            "needs root, and EBPF_TEST_REQUIRE_ROOT=1 says this run must test the kernel"
        );
        skip("needs root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN)");
        return None;
    }
    let exe = match name {
        "opensnoop" => env!("CARGO_BIN_EXE_opensnoop"),
        "xdp_counter" => env!("CARGO_BIN_EXE_xdp_counter"),
        "tcx_counter" => env!("CARGO_BIN_EXE_tcx_counter"),
        "cgroup_egress" => env!("CARGO_BIN_EXE_cgroup_egress"),
        "perf_events" => env!("CARGO_BIN_EXE_perf_events"),
        "map_in_map" => env!("CARGO_BIN_EXE_map_in_map"),
        "bashreadline" => env!("CARGO_BIN_EXE_bashreadline"),
        "unlinksnoop" => env!("CARGO_BIN_EXE_unlinksnoop"),
        "comm_filter" => env!("CARGO_BIN_EXE_comm_filter"),
        other => panic!("no example {other}"),
    };
    let mut child = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn example");
    // Let it load and attach, then make events until it exits.
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() && start.elapsed() < Duration::from_secs(30) {
        during();
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        let refused = [
            "refused by policy",
            "not supported",
            "NotSupported",
            "EOPNOTSUPP",
        ];
        if refused.iter().any(|r| stderr.contains(r)) {
            skip(format!("{name}: the kernel refused: {}", stderr.trim()));
            return None;
        }
        panic!("{name} failed ({}):\n{stderr}\n{stdout}", out.status);
    }
    Some(stdout)
}

fn udp_to_loopback() {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    for _ in 0..5 {
        let _ = s.send_to(b"ebpf-rs example", "127.0.0.1:9");
    }
}

#[test]
fn opensnoop_sees_this_process_open_a_file() {
    let path = std::env::temp_dir().join(format!("opensnoop-test-{}", std::process::id()));
    std::fs::write(&path, b"x").expect("write");
    let pid = std::process::id().to_string();
    let Some(out) = run("opensnoop", &["--duration", "3", "--pid", &pid], || {
        let _ = std::fs::File::open(&path);
    }) else {
        return;
    };
    let _ = std::fs::remove_file(&path);
    let name = path.display().to_string();
    let line = out
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("no open of {name} seen:\n{out}"));
    assert!(line.starts_with(&pid), "{line}");
    // The parent pid came from task_struct through CO-RE.
    let ppid = std::os::unix::process::parent_id().to_string();
    assert_eq!(
        line.split_whitespace().nth(1),
        Some(ppid.as_str()),
        "{line}"
    );
}

#[test]
fn xdp_counter_counts_loopback_packets() {
    let Some(out) = run("xdp_counter", &["--duration", "3"], udp_to_loopback) else {
        return;
    };
    assert!(out.lines().any(|l| l.starts_with("127.0.0.1")), "{out}");
}

#[test]
fn tcx_counter_counts_ipv4_on_loopback() {
    let Some(out) = run("tcx_counter", &["--duration", "3"], udp_to_loopback) else {
        return;
    };
    assert!(out.lines().any(|l| l.starts_with("0x800")), "{out}");
}

#[test]
fn cgroup_egress_counts_packets() {
    if !has_privileges() {
        skip("needs root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN)");
        return;
    }
    // This process sends from a cgroup of its own, watched by the example.
    let cgroup = match TempCgroup::new() {
        Ok(c) => c,
        Err(e) => {
            skip(format!("no cgroup v2 to create a cgroup in: {e}"));
            return;
        }
    };
    cgroup
        .add_process(std::process::id())
        .expect("join the cgroup");
    let path = cgroup.path().display().to_string();
    let Some(out) = run(
        "cgroup_egress",
        &["--duration", "3", "--cgroup", &path],
        udp_to_loopback,
    ) else {
        return;
    };
    let last = out.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("egress: ") && !last.starts_with("egress: 0 "),
        "{out}"
    );
}

#[test]
fn perf_events_samples_getppid() {
    let pid = std::process::id();
    let Some(out) = run("perf_events", &["--duration", "3"], || {
        std::hint::black_box(std::os::unix::process::parent_id());
    }) else {
        return;
    };
    assert!(out.contains(&format!("pid {pid} ")), "{out}");
}

#[test]
fn map_in_map_moves_counts_to_the_new_inner_map() {
    let Some(out) = run("map_in_map", &["--duration", "2"], || {}) else {
        return;
    };
    for inner in ["first:", "second:"] {
        let line = out.lines().find(|l| l.starts_with(inner)).expect(inner);
        assert!(!line.contains(" 0 calls"), "{out}");
    }
}

#[test]
fn bashreadline_sees_a_line_typed_into_interactive_bash() {
    // An interactive bash reads its input with readline only from a
    // terminal: script(1) gives it a pty and types what it reads.
    if Command::new("script").arg("--version").output().is_err() {
        skip("script(1) (util-linux) is not installed: no pty to run bash -i in");
        return;
    }
    let marker = format!("ebpf-rs-readline-{}", std::process::id());
    let input = format!("echo {marker}\nexit\n");
    let mut typed = false;
    let Some(out) = run("bashreadline", &["--duration", "4"], || {
        if std::mem::replace(&mut typed, true) {
            return;
        }
        let mut bash = Command::new("script")
            .args(["-qec", "bash --norc --noprofile -i", "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn script");
        std::io::Write::write_all(&mut bash.stdin.take().expect("stdin"), input.as_bytes())
            .expect("type into bash");
        assert!(bash.wait().expect("wait for bash").success());
    }) else {
        return;
    };
    let line = out
        .lines()
        .find(|l| l.contains(&marker))
        .unwrap_or_else(|| panic!("readline of {marker:?} not seen:\n{out}"));
    assert!(
        line.contains(&format!("bash             echo {marker}")),
        "{line}"
    );
}

#[test]
fn unlinksnoop_sees_a_file_removed() {
    // Skips (visibly, with the example's reasons) where the kernel refuses
    // both fentry (e.g. lockdown) and kprobes (e.g. no CONFIG_KPROBES).
    unlinksnoop(&[], "auto");
}

#[test]
fn unlinksnoop_with_fentry_sees_a_file_removed() {
    unlinksnoop(&["--probe", "fentry"], "fentry");
}

#[test]
fn unlinksnoop_with_a_kprobe_sees_a_file_removed() {
    unlinksnoop(&["--probe", "kprobe"], "kprobe");
}

/// Runs unlinksnoop with `extra` arguments while this process removes a file, and checks it
/// reported the removal with this process's pid.
fn unlinksnoop(extra: &[&str], tag: &str) {
    let path = std::env::temp_dir().join(format!("unlinksnoop-test-{tag}-{}", std::process::id()));
    let mut args = vec!["--duration", "3"];
    args.extend_from_slice(extra);
    let Some(out) = run("unlinksnoop", &args, || {
        std::fs::write(&path, b"x").expect("write");
        std::fs::remove_file(&path).expect("remove");
    }) else {
        return;
    };
    let name = path.display().to_string();
    let pid = std::process::id().to_string();
    let line = out
        .lines()
        .find(|l| l.ends_with(&name))
        .unwrap_or_else(|| panic!("no removal of {name} seen:\n{out}"));
    assert!(line.starts_with(&pid), "{line}");
}

#[test]
fn comm_filter_counts_only_the_command_set_in_rodata() {
    // A thread's name is its command (at most 15 bytes).
    const NAME: &str = "ebpfrs-commtest";
    let Some(out) = run("comm_filter", &["--duration", "3", "--comm", NAME], || {
        std::thread::Builder::new()
            .name(NAME.into())
            .spawn(|| {
                for _ in 0..10 {
                    std::hint::black_box(std::os::unix::process::parent_id());
                }
            })
            .expect("spawn")
            .join()
            .expect("join");
    }) else {
        return;
    };
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(!rows.is_empty(), "nothing counted:\n{out}");
    // Without the filter, every process on the machine would be counted.
    assert!(rows.iter().all(|r| r[0] == NAME), "{out}");
    let getppid = if cfg!(target_arch = "x86_64") {
        Some("110")
    } else if cfg!(target_arch = "aarch64") {
        Some("173")
    } else {
        None
    };
    if let Some(nr) = getppid {
        let row = rows
            .iter()
            .find(|r| r[1] == nr)
            .unwrap_or_else(|| panic!("no getppid ({nr}) counted:\n{out}"));
        assert!(row[2].parse::<u64>().expect("count") >= 10, "{out}");
    }
}
