//! Peak memory growth of one operation, measured in a fresh child process so
//! earlier benchmarks cannot hide it: the child reads its input (an object file), then
//! `VmRSS` before the operation and `VmHWM` (peak) after it, and prints the difference
//! in MiB.

use std::process::Command;

/// The first argument that turns the runner into the measuring child.
pub const CHILD_FLAG: &str = "--rss-child";

fn status_kib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs in the child: `--rss-child SUITE IMPL`.
pub fn child(args: &[String]) {
    let (Some(what), Some(imp)) = (args.first(), args.get(1)) else {
        eprintln!("usage: {CHILD_FLAG} WHAT IMPL");
        std::process::exit(2);
    };
    let input = crate::suites::rss_input(what);
    let before = status_kib("VmRSS:").unwrap_or(0.0);
    let kept = crate::suites::rss_op(what, imp, input.as_deref());
    let peak = status_kib("VmHWM:").unwrap_or(0.0);
    std::hint::black_box(&kept);
    if kept.is_none() {
        std::process::exit(3);
    }
    println!("{:.3}", (peak - before) / 1024.0);
}

/// Spawns the child for `what`/`imp` and returns the growth in MiB.
pub fn measure(what: &str, imp: &str) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new(exe)
        .args([CHILD_FLAG, what, imp])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}
