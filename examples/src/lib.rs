//! Shared by the example binaries: their few command line options.
#![deny(missing_docs)]

use std::time::Duration;

/// The options every example takes.
#[derive(Debug, Clone)]
pub struct Args {
    /// `--duration SECONDS`: how long to run (default 10).
    pub duration: Duration,
    /// `--pid PID`: only this process (examples that trace processes).
    pub pid: Option<u32>,
    /// `--iface NAME`: the interface (network examples; default `lo`).
    pub iface: String,
    /// `--cgroup PATH`: the cgroup (default: the root of the cgroup v2 hierarchy).
    pub cgroup: String,
    /// `--comm NAME`: only this command (examples that filter by command).
    pub comm: Option<String>,
    /// `--probe KIND`: which probe kind to use (examples with a fallback, e.g. `fentry` or
    /// `kprobe`); by default the best the kernel allows.
    pub probe: Option<String>,
}

impl Args {
    /// Parses the process's arguments; exits with a usage message on error.
    pub fn parse() -> Args {
        let mut args = Args {
            duration: Duration::from_secs(10),
            pid: None,
            iface: "lo".into(),
            cgroup: cgroup2_root(),
            comm: None,
            probe: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().unwrap_or_else(|| usage(&flag));
            match flag.as_str() {
                "--duration" => {
                    let s: f64 = value.parse().unwrap_or_else(|_| usage(&flag));
                    args.duration = Duration::from_secs_f64(s);
                }
                "--pid" => args.pid = Some(value.parse().unwrap_or_else(|_| usage(&flag))),
                "--iface" => args.iface = value,
                "--cgroup" => args.cgroup = value,
                "--comm" => args.comm = Some(value),
                "--probe" => args.probe = Some(value),
                _ => usage(&flag),
            }
        }
        args
    }
}

/// Where cgroup v2 is mounted (from `/proc/self/mountinfo`), else `/sys/fs/cgroup`.
pub fn cgroup2_root() -> String {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for line in info.lines() {
        // "id parent major:minor root mount_point opts ... - fstype source opts"
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        if right.split_whitespace().next() == Some("cgroup2") {
            if let Some(mount) = left.split_whitespace().nth(4) {
                return mount.to_owned();
            }
        }
    }
    "/sys/fs/cgroup".into()
}

fn usage(flag: &str) -> ! {
    eprintln!(
        "bad argument {flag}; options: --duration SECONDS, --pid PID, --iface NAME, --cgroup PATH, --comm NAME, --probe KIND"
    );
    std::process::exit(2)
}
