//! `cargo xtask vm-test`: run the kernel tests on a Debian kernel (5.10, 6.1,
//! 6.12 or sid's latest) in a qemu/KVM guest whose root is the host's `/`,
//! shared read-only over virtio-9p, so the host-built test binaries run unchanged.
//!
//! Output of each binary is framed by `VMTEST BEGIN`/`VMTEST END <rc>` lines on
//! the serial console; the guest prints `VMTEST DONE` before powering off. The
//! console is saved as `target/vm/console-<kernel>.log` (and `console.log`, the
//! last run), the per-test outcomes as `target/vm/results/<kernel>.tsv`.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::initramfs;
use crate::results::{self, Counts, ResultFile, Row, Status};
use crate::vm_image::{self, KernelSpec};

/// Crates whose integration tests are kernel tests.
const DEFAULT_CRATES: &[&str] = &["ebpf-link", "ebpf", "ebpf-syscall"];

/// vCPUs the guest runs (online CPUs).
const ONLINE_CPUS: u32 = 2;

/// The guest kernel's command line: BPF LSM enabled, no lockdown, no reboot loop.
const CMDLINE: &str = "console=ttyS0 lsm=lockdown,capability,landlock,yama,bpf panic=-1 quiet";

#[derive(Debug, Default)]
struct Options {
    crates: Vec<String>,
    tests: Vec<String>,
    kernel: Option<KernelSpec>,
    /// Possible CPUs (`--maxcpus N`); 2 of them online.
    maxcpus: Option<u32>,
    timeout: Option<u64>,
    accel: Option<Accel>,
    filter: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("vm-test: {flag} needs a value"))
        };
        match a.as_str() {
            "-p" | "--package" => o.crates.push(value(a)?),
            "--test" => o.tests.push(value(a)?),
            "--kernel" => o.kernel = Some(KernelSpec::parse(&value(a)?)?),
            "--maxcpus" => {
                let v = value(a)?;
                let n: u32 = v
                    .parse()
                    .map_err(|_| format!("vm-test: bad --maxcpus {v}: want a number"))?;
                if !(ONLINE_CPUS..=255).contains(&n) {
                    return Err(format!(
                        "vm-test: --maxcpus {n}: want {ONLINE_CPUS} to 255 (the guest has {ONLINE_CPUS} online CPUs)"
                    ));
                }
                o.maxcpus = Some(n);
            }
            "--accel" => {
                o.accel = Some(match value(a)?.as_str() {
                    "kvm" => Accel::Kvm,
                    "tcg" => Accel::Tcg,
                    v => return Err(format!("vm-test: --accel {v}: want kvm or tcg")),
                })
            }
            "--timeout" => {
                let v = value(a)?;
                o.timeout = Some(
                    v.parse()
                        .map_err(|_| format!("vm-test: bad --timeout {v}"))?,
                );
            }
            "--" => o.filter.extend(it.by_ref().cloned()),
            _ if a.starts_with('-') => return Err(format!("vm-test: unknown option {a}")),
            _ => o.filter.push(a.clone()),
        }
    }
    if o.crates.is_empty() {
        o.crates = DEFAULT_CRATES.iter().map(|s| (*s).to_owned()).collect();
    }
    Ok(o)
}

impl Options {
    /// The kernel to boot (default: the 6.1 series).
    fn kernel(&self) -> KernelSpec {
        self.kernel
            .clone()
            .unwrap_or_else(|| KernelSpec::Series(vm_image::DEFAULT_SERIES.to_owned()))
    }

    /// What the run covers: `all`, or the `-p`/`--test`/filter arguments.
    fn selection(&self) -> String {
        let default = self
            .crates
            .iter()
            .map(String::as_str)
            .eq(DEFAULT_CRATES.iter().copied());
        let mut parts = Vec::new();
        if !default {
            parts.extend(self.crates.iter().map(|c| format!("-p {c}")));
        }
        parts.extend(self.tests.iter().map(|t| format!("--test {t}")));
        if !self.filter.is_empty() {
            parts.push(format!("-- {}", self.filter.join(" ")));
        }
        if parts.is_empty() {
            "all".to_owned()
        } else {
            parts.join(" ")
        }
    }

    /// qemu's `-smp` value: `--maxcpus N` boots N CPUs, and the guest's init
    /// takes all but `ONLINE_CPUS` of them offline (see `initramfs`).
    ///
    /// Not `-smp 2,maxcpus=N`: since the x86 ACPI fix of November 2025 (in
    /// 6.12.117, for one), Linux ignores MADT entries of hot-pluggable CPUs
    /// (`Enabled=0`, no `Online Capable`) unless it detects a hypervisor, and
    /// under TCG it detects none (qemu's CPUID signature is "TCGTCGTCGTCG"):
    /// those kernels would boot with possible = online = 2.
    fn smp(&self) -> String {
        self.maxcpus.unwrap_or(ONLINE_CPUS).to_string()
    }
}

/// One test executable to run in the guest.
#[derive(Debug)]
struct TestBinary {
    /// `crate/target`, as printed in the summary.
    label: String,
    executable: String,
    /// The package directory: cargo runs tests there with `CARGO_MANIFEST_DIR` set.
    dir: String,
}

/// The string value of `"key":"..."` in one line of cargo's JSON output.
fn json_str(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut out = String::new();
    let mut chars = line[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => out.push(chars.next()?),
            _ => out.push(c),
        }
    }
    None
}

/// Builds the integration tests of the selected crates and lists their executables.
fn build_tests(root: &Path, o: &Options) -> Result<Vec<TestBinary>, String> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root)
        .args(["test", "--no-run", "--message-format=json"]);
    for c in &o.crates {
        cmd.args(["-p", c]);
    }
    if o.tests.is_empty() {
        cmd.arg("--tests");
    }
    for t in &o.tests {
        cmd.args(["--test", t]);
    }
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo test --no-run: {}", out.status));
    }
    let mut bins = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if !line.contains("\"reason\":\"compiler-artifact\"")
            || !line.contains("\"kind\":[\"test\"]")
        {
            continue;
        }
        let (Some(executable), Some(manifest), Some(name)) = (
            json_str(line, "executable"),
            json_str(line, "manifest_path"),
            json_str(line, "name"),
        ) else {
            continue;
        };
        let dir = Path::new(&manifest).parent().unwrap_or(Path::new("/"));
        let krate = dir.file_name().unwrap_or_default().to_string_lossy();
        bins.push(TestBinary {
            label: format!("{krate}/{name}"),
            executable,
            dir: dir.display().to_string(),
        });
    }
    if bins.is_empty() {
        return Err("vm-test: cargo built no test executables".into());
    }
    Ok(bins)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The commands `/init` sources: each binary in the chroot, framed by markers.
fn script(bins: &[TestBinary], filter: &[String]) -> String {
    let mut s = String::new();
    for b in bins {
        let mut inner = format!(
            "cd {dir} && CARGO_MANIFEST_DIR={dir} exec {exe} --test-threads=1 --color never",
            dir = shell_quote(&b.dir),
            exe = shell_quote(&b.executable)
        );
        for f in filter {
            inner.push(' ');
            inner.push_str(&shell_quote(f));
        }
        s.push_str(&format!(
            "echo 'VMTEST BEGIN {label}'\nchroot $R /bin/sh -c {cmd} 2>&1\necho \"VMTEST END {label} $?\"\n",
            label = b.label,
            cmd = shell_quote(&inner)
        ));
    }
    s
}

/// How qemu runs the guest's CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accel {
    /// Hardware virtualisation through `/dev/kvm`.
    Kvm,
    /// qemu's multi-threaded software emulation.
    Tcg,
}

impl Accel {
    /// KVM when `/dev/kvm` opens and is a real (VMX/SVM) KVM. A `kvm_pvm` host
    /// (page-table-based nested virtualisation) runs only PVM-enabled guest
    /// kernels: a stock kernel hangs in early boot there, so use TCG.
    fn detect() -> Self {
        let kvm = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok();
        if kvm && !Path::new("/sys/module/kvm_pvm").exists() {
            Accel::Kvm
        } else {
            Accel::Tcg
        }
    }

    fn qemu_args(self) -> [&'static str; 4] {
        match self {
            // arch-capabilities off: qemu 7.2 aborts setting MSR 0x10a on newer hosts.
            Accel::Kvm => ["-accel", "kvm", "-cpu", "host,-arch-capabilities"],
            // One host thread for both vCPUs: with multi-threaded TCG, the kernel's
            // live code patching (int3-based text_poke, e.g. flipping a static key
            // when RPS or a flow dissector is enabled) raced another vCPU into an
            // int3 Oops on 6.12.
            Accel::Tcg => ["-accel", "tcg,thread=single", "-cpu", "max"],
        }
    }
}

/// Boots the guest; returns its console output (echoed live) and whether it timed out.
fn boot(
    image: &vm_image::Image,
    initrd: &Path,
    accel: Accel,
    smp: &str,
    timeout: Duration,
) -> Result<(String, bool), String> {
    let q = &image.qemu;
    let mut cmd = Command::new(&q.binary);
    if let Some(lib) = &q.lib_path {
        cmd.env("LD_LIBRARY_PATH", lib);
    }
    for fw in &q.firmware {
        cmd.arg("-L").arg(fw);
    }
    cmd.args(accel.qemu_args())
        .args(["-smp", smp, "-m", "2048"])
        .args([
            "-display", "none", "-vga", "none", "-monitor", "none", "-serial", "stdio",
        ])
        .args(["-nic", "none", "-no-reboot"])
        .args([
            "-virtfs",
            "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        ])
        .arg("-kernel")
        .arg(&image.kernel.vmlinuz)
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", CMDLINE])
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("start {}: {e}", q.binary.display()))?;
    let stdout = child.stdout.take().ok_or("qemu stdout")?;
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
            let line = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_owned();
            println!("{line}");
            let _ = std::io::stdout().flush();
            log.push_str(&line);
            log.push('\n');
        }
        log
    });
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Err(format!("wait for qemu: {e}")),
        }
    }
    let log = reader.join().map_err(|_| "console reader panicked")?;
    Ok((log, timed_out))
}

/// The guest puts fresh tmpfs over `/tmp`, `/run` and `/dev/shm` (its init keeps
/// the host's under `/host`); a workspace under one of them (a CI clone in `/tmp`,
/// say) is bound back at the same path.
fn workspace_mount(root: &Path) -> String {
    let covered = ["/tmp", "/run", "/dev/shm"];
    if !covered.iter().any(|d| root.starts_with(d)) {
        return String::new();
    }
    let w = root.display();
    format!(
        "mkdir -p $R{w}\n\
         mount --bind /host{w} $R{w} || echo 'VMTEST mount of the workspace {w} failed'\n"
    )
}

/// The CPU lists the guest printed on its `VMTEST kernel` line:
/// `(possible, online)`.
fn guest_cpus(log: &str) -> Option<(String, String)> {
    let line = log.lines().find(|l| l.starts_with("VMTEST kernel "))?;
    let rest = &line[line.find("cpus possible: ")? + "cpus possible: ".len()..];
    let (possible, online) = rest.split_once(" online: ")?;
    Some((possible.trim().to_owned(), online.trim().to_owned()))
}

/// `0-N` for N+1 CPUs (`0` for one).
fn cpu_list(n: u32) -> String {
    if n == 1 {
        "0".to_owned()
    } else {
        format!("0-{}", n - 1)
    }
}

/// One row per test of every binary; a binary that did not run fails as a whole.
fn result_rows(bins: &[TestBinary], runs: &[results::BinaryRun]) -> Vec<Row> {
    let mut rows = Vec::new();
    for b in bins {
        match runs.iter().find(|r| r.label == b.label) {
            Some(run) => rows.extend(run.rows()),
            None => rows.push(Row {
                binary: b.label.clone(),
                test: "(binary)".to_owned(),
                status: Status::Fail,
                reason: "did not run: the guest stopped before it".to_owned(),
            }),
        }
    }
    rows
}

/// Prints each binary's counts and libtest result line, its failures and skips.
fn print_summary(bins: &[TestBinary], runs: &[results::BinaryRun], rows: &[Row]) {
    for b in bins {
        let mine: Vec<Row> = rows
            .iter()
            .filter(|r| r.binary == b.label)
            .cloned()
            .collect();
        let c = Counts::of(&mine);
        let result = match runs.iter().find(|r| r.label == b.label) {
            None => "did not run".to_owned(),
            Some(r) => match r.tests.result {
                Some(_) => format!(
                    "{} passed, {} failed, {} skipped",
                    c.passed, c.failed, c.skipped
                ),
                None => format!("no test result line (exit status {:?})", r.rc),
            },
        };
        println!("  {:<28} {result}", b.label);
        for r in mine.iter().filter(|r| r.status == Status::Fail) {
            println!("      FAILED {}: {}", r.test, r.reason);
        }
    }
    for r in rows.iter().filter(|r| r.status == Status::Skip) {
        println!("  [{}] SKIP {}: {}", r.binary, r.test, r.reason);
    }
}

/// Runs `cargo xtask vm-test ARGS`.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let spec = o.kernel();
    let started = Instant::now();
    let cache: PathBuf = root.join("target/vm");
    let image = vm_image::prepare(&cache, &spec)?;
    let bins = build_tests(root, &o)?;
    // The workspace first: the kernel's /boot files may be inside it.
    let mut mounts = workspace_mount(root);
    mounts += &format!("mount --bind $R{} $R/boot\n", image.kernel.boot.display());
    let online = o.maxcpus.map(|_| ONLINE_CPUS);
    let initrd = initramfs::write(
        &image,
        &cache,
        &(mounts + &script(&bins, &o.filter)),
        online,
    )?;
    let accel = o.accel.unwrap_or_else(Accel::detect);
    let release = image.kernel.release.clone();
    eprintln!(
        "vm-test: booting {release} ({accel:?}, -smp {}) with {} test binaries (prepared in {:.1?})",
        o.smp(),
        bins.len(),
        started.elapsed()
    );
    let booted = Instant::now();
    let timeout = Duration::from_secs(o.timeout.unwrap_or(1800));
    let (log, timed_out) = boot(&image, &initrd, accel, &o.smp(), timeout)?;
    let guest_time = booted.elapsed();
    let key = spec.key();
    let log_path = cache.join(format!("console-{key}.log"));
    for p in [&log_path, &cache.join("console.log")] {
        fs::write(p, &log).map_err(|e| format!("write {}: {e}", p.display()))?;
    }
    let runs = results::parse_console(&log);
    let rows = result_rows(&bins, &runs);
    println!("\nvm-test summary ({release}, {accel:?}; guest ran {guest_time:.1?}):");
    print_summary(&bins, &runs, &rows);

    let mut problems = Vec::new();
    let outcome = if timed_out {
        problems.push(format!("the guest did not finish within {timeout:?}"));
        "timed out"
    } else if !log.contains("VMTEST DONE") {
        problems.push("the guest stopped before finishing the tests".to_owned());
        "stopped early"
    } else {
        "complete"
    };
    let want = (
        cpu_list(o.maxcpus.unwrap_or(ONLINE_CPUS)),
        cpu_list(ONLINE_CPUS),
    );
    let cpus = match guest_cpus(&log) {
        Some((possible, online)) => {
            if (&possible, &online) != (&want.0, &want.1) {
                problems.push(format!(
                    "the guest has CPUs {possible} possible and {online} online, want {} and {} (-smp {})",
                    want.0,
                    want.1,
                    o.smp()
                ));
            }
            format!("{online} online, {possible} possible")
        }
        None => "unknown".to_owned(),
    };
    let failed: Vec<String> = bins
        .iter()
        .filter(|b| {
            runs.iter()
                .find(|r| r.label == b.label)
                .is_none_or(|r| r.rc != Some(0))
        })
        .map(|b| b.label.clone())
        .collect();
    if !failed.is_empty() {
        problems.push(format!("failed: {}", failed.join(", ")));
    }
    let c = Counts::of(&rows);
    let file = ResultFile {
        meta: vec![
            ("kernel".into(), key.clone()),
            ("release".into(), release.clone()),
            ("cpus".into(), cpus),
            ("selection".into(), o.selection()),
            ("accel".into(), format!("{accel:?}")),
            (
                "wall_seconds".into(),
                started.elapsed().as_secs().to_string(),
            ),
            ("guest_seconds".into(), guest_time.as_secs().to_string()),
            ("outcome".into(), outcome.to_owned()),
        ],
        rows,
    };
    let results_path = cache.join("results").join(format!("{key}.tsv"));
    file.write(&results_path)?;
    println!("console log: {}", log_path.display());
    println!("results: {}", results_path.display());
    println!(
        "vm-test {key} ({release}): {} passed, {} failed, {} skipped in {:.0?}",
        c.passed,
        c.failed,
        c.skipped,
        started.elapsed()
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "vm-test {key} ({release}): {}",
            problems.join("; ")
        ))
    }
}
