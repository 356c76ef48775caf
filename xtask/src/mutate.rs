//! `cargo xtask mutate`: run `ebpf-tool` over mutated copies of every fixture
//! for a bounded time, and fail on a panic, a hang, a signal or too much memory.
//!
//! Each run takes one `testdata/*.o`, applies a few random mutations (bit
//! flips, random bytes, "interesting" 32/64-bit values, truncation, copied
//! chunks), half of them aimed inside a section or the section header table,
//! and runs one CLI command on it: `inspect` (text and JSON), `disasm`, `btf
//! dump` (raw and C), `core` (against the running kernel and a fixture) and,
//! as root, `load`. Exit codes 0 and 1 (an error message) are fine; anything
//! else is a failure: exit 101 or "panicked" on stderr, death by a signal, no
//! exit within the per-run timeout, or a resident set above the bound (read
//! from `/proc/PID/status` while the run lives, killed when over). Failing
//! inputs are kept in `target/mutate/failures` with a line saying how to
//! rerun them. The mutations come from a seeded generator (`--seed`), so a
//! run can be repeated.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: cargo xtask mutate [--duration SECS] [--seed N] [--timeout SECS]
                          [--max-rss MIB] [--release]";

/// Settings from the command line.
struct Options {
    duration: Duration,
    seed: u64,
    timeout: Duration,
    max_rss_kib: u64,
    release: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        duration: Duration::from_secs(60),
        seed: 0x5eed_ebbf,
        timeout: Duration::from_secs(20),
        max_rss_kib: 512 * 1024,
        release: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |what: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{arg} needs a number of {what}\n{USAGE}"))
        };
        match arg.as_str() {
            "--duration" => o.duration = Duration::from_secs(value("seconds")?),
            "--seed" => o.seed = value("(the seed)")?,
            "--timeout" => o.timeout = Duration::from_secs(value("seconds")?),
            "--max-rss" => o.max_rss_kib = value("MiB")? * 1024,
            "--release" => o.release = true,
            _ => return Err(format!("unknown argument {arg}\n{USAGE}")),
        }
    }
    Ok(o)
}

/// xorshift64*: small, fast, and reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (0 for `n == 0`).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// The byte ranges worth aiming at: every section's data and the section
/// header table of an ELF64 file (either byte order); empty if unreadable.
fn regions(elf: &[u8]) -> Vec<(usize, usize)> {
    let big = elf.get(5) == Some(&2);
    let rd = |at: usize, n: usize| -> Option<u64> {
        let b = elf.get(at..at + n)?;
        let mut v = 0u64;
        for i in 0..n {
            let byte = if big { b[i] } else { b[n - 1 - i] };
            v = v << 8 | u64::from(byte);
        }
        Some(v)
    };
    let mut out = Vec::new();
    let (Some(shoff), Some(entsize), Some(shnum)) = (rd(0x28, 8), rd(0x3a, 2), rd(0x3c, 2)) else {
        return out;
    };
    let (shoff, entsize, shnum) = (shoff as usize, entsize as usize, shnum as usize);
    out.push((shoff, entsize * shnum));
    for i in 0..shnum {
        let h = shoff + i * entsize;
        if let (Some(off), Some(size)) = (rd(h + 0x18, 8), rd(h + 0x20, 8)) {
            let (off, size) = (off as usize, size as usize);
            if size > 0 && off.checked_add(size).is_some_and(|end| end <= elf.len()) {
                out.push((off, size));
            }
        }
    }
    out
}

/// Applies 1 to 4 random mutations to `bytes`; returns what was done.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) -> String {
    const INTERESTING: [u64; 12] = [
        0,
        1,
        0x7f,
        0x80,
        0xff,
        0xffff,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        0x7fff_ffff_ffff_ffff,
        u64::MAX,
    ];
    let regions = regions(bytes);
    let mut done = Vec::new();
    for _ in 0..=rng.below(4) {
        if bytes.is_empty() {
            break;
        }
        // Half the time inside a section or the section headers.
        let (start, len) = match regions.get(rng.below(regions.len() * 2)) {
            Some(&(s, l)) if s < bytes.len() => (s, l.min(bytes.len() - s)),
            _ => (0, bytes.len()),
        };
        let at = start + rng.below(len.max(1));
        match rng.below(6) {
            0 => {
                let bit = rng.below(8);
                bytes[at] ^= 1 << bit;
                done.push(format!("flip {at:#x}.{bit}"));
            }
            1 => {
                let v = rng.next() as u8;
                bytes[at] = v;
                done.push(format!("byte {at:#x}={v:#x}"));
            }
            2 | 3 => {
                let width = if rng.below(2) == 0 { 4 } else { 8 };
                let at = at & !(width - 1);
                let mut v = INTERESTING[rng.below(INTERESTING.len())];
                if rng.below(4) == 0 {
                    v = v.wrapping_add(rng.below(16) as u64).wrapping_sub(8);
                }
                let le = bytes.get(5) != Some(&2);
                let raw = if le { v.to_le_bytes() } else { v.to_be_bytes() };
                let raw = if le { &raw[..width] } else { &raw[8 - width..] };
                if let Some(dst) = bytes.get_mut(at..at + width) {
                    dst.copy_from_slice(raw);
                    done.push(format!("u{} {at:#x}={v:#x}", width * 8));
                }
            }
            4 => {
                bytes.truncate(at);
                done.push(format!("truncate {at:#x}"));
            }
            _ => {
                let n = 1 + rng.below(64);
                let from = rng.below(bytes.len());
                let chunk: Vec<u8> = bytes[from..(from + n).min(bytes.len())].to_vec();
                let end = (at + chunk.len()).min(bytes.len());
                bytes[at..end].copy_from_slice(&chunk[..end - at]);
                done.push(format!("copy {from:#x}+{n}->{at:#x}"));
            }
        }
    }
    done.join(", ")
}

/// Builds `ebpf-tool` and returns the path of the executable.
fn build_tool(root: &Path, release: bool) -> Result<PathBuf, String> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args([
        "build",
        "-p",
        "ebpf-tool",
        "--message-format=json-render-diagnostics",
    ])
    .current_dir(root)
    .stderr(Stdio::inherit());
    if release {
        cmd.arg("--release");
    }
    let out = cmd.output().map_err(|e| format!("run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo build -p ebpf-tool: {}", out.status));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\""))
        .find_map(|l| {
            let rest = &l[l.find("\"executable\":\"")? + 14..];
            let exe = &rest[..rest.find('"')?];
            exe.ends_with("/ebpf-tool").then(|| PathBuf::from(exe))
        })
        .ok_or_else(|| "cargo build -p ebpf-tool reported no executable".into())
}

/// The peak resident set (`VmHWM`, KiB) of a live process, if readable.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// How one run ended.
enum Outcome {
    /// Exit 0 or 1.
    Fine { ok: bool, rss_kib: u64 },
    /// A failure, described.
    Bad(String),
}

/// Runs `tool args object` with the bounds of `o`.
fn run_one(tool: &Path, args: &[&str], object: &Path, o: &Options, work: &Path) -> Outcome {
    let stderr_path = work.join("stderr");
    let Ok(stderr) = fs::File::create(&stderr_path) else {
        return Outcome::Bad(format!("create {}", stderr_path.display()));
    };
    let mut cmd = Command::new(tool);
    cmd.args(args)
        .arg(object)
        .env_remove("RUST_LOG")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    let start = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Outcome::Bad(format!("spawn: {e}")),
    };
    let mut rss = 0;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Outcome::Bad(format!("wait: {e}")),
        }
        rss = rss.max(peak_rss_kib(child.id()).unwrap_or(0));
        let why = if rss > o.max_rss_kib {
            Some(format!("resident set {} MiB over the bound", rss / 1024))
        } else if start.elapsed() > o.timeout {
            Some(format!("no exit after {:?}", o.timeout))
        } else {
            None
        };
        if let Some(why) = why {
            let _ = child.kill();
            let _ = child.wait();
            return Outcome::Bad(why);
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let text = fs::read_to_string(&stderr_path).unwrap_or_default();
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (_, Some(sig)) => Outcome::Bad(format!("killed by signal {sig}")),
        (Some(c @ (0 | 1)), _) if !text.contains("panicked") => Outcome::Fine {
            ok: c == 0,
            rss_kib: rss,
        },
        (code, _) => Outcome::Bad(format!(
            "exit {code:?}: {}",
            text.lines().take(3).collect::<Vec<_>>().join(" | ")
        )),
    }
}

/// Runs `cargo xtask mutate ARGS`.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let tool = build_tool(root, o.release)?;
    let testdata = root.join("testdata");
    let mut fixtures: Vec<(String, Vec<u8>)> = fs::read_dir(&testdata)
        .map_err(|e| format!("read {}: {e}", testdata.display()))?
        .filter_map(|e| e.ok()?.path().to_str().map(str::to_owned))
        .filter(|p| p.ends_with(".o"))
        .filter_map(|p| Some((p.clone(), fs::read(&p).ok()?)))
        .collect();
    fixtures.sort();
    if fixtures.is_empty() {
        return Err(format!("no fixtures in {}", testdata.display()));
    }
    let target = testdata.join("core_target-el.o");
    let target = target.to_str().unwrap_or("testdata/core_target-el.o");
    let mut commands: Vec<Vec<&str>> = vec![
        vec!["inspect"],
        vec!["inspect", "--json"],
        vec!["disasm"],
        vec!["btf", "dump"],
        vec!["btf", "dump", "--format", "c"],
        vec!["core"],
        vec!["core", "--target", target],
    ];
    // As root, load too (everything it creates is released when it exits).
    let root_user = fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .is_some_and(|l| l.split_whitespace().nth(1) == Some("0"))
    });
    if root_user {
        commands.push(vec!["load"]);
    }
    let work = root.join("target/mutate");
    let failures = work.join("failures");
    fs::create_dir_all(&failures).map_err(|e| format!("create {}: {e}", failures.display()))?;
    let object = work.join("input.o");

    println!(
        "mutate: {} fixtures x {} commands, seed {}, {:?}, timeout {:?}, max RSS {} MiB",
        fixtures.len(),
        commands.len(),
        o.seed,
        o.duration,
        o.timeout,
        o.max_rss_kib / 1024
    );
    let mut rng = Rng(o.seed | 1);
    let start = Instant::now();
    let (mut runs, mut oks, mut bad) = (0u64, 0u64, 0u64);
    let (mut max_rss, mut slowest) = (0u64, Duration::ZERO);
    while start.elapsed() < o.duration {
        let (name, original) = &fixtures[rng.below(fixtures.len())];
        let cmd = &commands[rng.below(commands.len())];
        let mut bytes = original.clone();
        let what = mutate(&mut rng, &mut bytes);
        fs::write(&object, &bytes).map_err(|e| format!("write {}: {e}", object.display()))?;
        let t = Instant::now();
        let outcome = run_one(&tool, cmd, &object, &o, &work);
        slowest = slowest.max(t.elapsed());
        runs += 1;
        match outcome {
            Outcome::Fine { ok, rss_kib } => {
                oks += u64::from(ok);
                max_rss = max_rss.max(rss_kib);
            }
            Outcome::Bad(why) => {
                bad += 1;
                let stem = Path::new(name)
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("input");
                let kept = failures.join(format!("{stem}-{runs}.o"));
                let _ = fs::write(&kept, &bytes);
                println!(
                    "FAIL ebpf-tool {} {}: {why}\n     from {name}: {what}",
                    cmd.join(" "),
                    kept.display()
                );
            }
        }
    }
    println!(
        "mutate: {runs} runs in {:.0?} ({oks} exit 0, {} exit 1, {bad} failures); \
         largest resident set {} MiB, slowest run {:.2?}",
        start.elapsed(),
        runs - oks - bad,
        max_rss / 1024,
        slowest
    );
    if bad > 0 {
        Err(format!(
            "{bad} failing inputs kept in {}",
            failures.display()
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_reproducible_and_stay_in_bounds() {
        let base: Vec<u8> = (0..=255).cycle().take(4096).collect();
        let (mut a, mut b) = (Rng(7), Rng(7));
        for _ in 0..1000 {
            let (mut x, mut y) = (base.clone(), base.clone());
            assert_eq!(mutate(&mut a, &mut x), mutate(&mut b, &mut y));
            assert_eq!(x, y);
            assert!(x.len() <= base.len());
        }
    }
}
