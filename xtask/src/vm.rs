//! `cargo xtask vm-test`: run the kernel tests on a second kernel (Debian
//! bookworm's 6.1) in a qemu/KVM guest whose root is the host's `/`, shared
//! read-only over virtio-9p, so the host-built test binaries run unchanged.
//!
//! Output of each binary is framed by `VMTEST BEGIN`/`VMTEST END <rc>` lines on
//! the serial console; the guest prints `VMTEST DONE` before powering off.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::vm_image;

/// Crates whose integration tests are kernel tests.
const DEFAULT_CRATES: &[&str] = &["ebpf-link", "ebpf", "ebpf-syscall"];

/// The guest kernel's command line: BPF LSM enabled, no lockdown, no reboot loop.
const CMDLINE: &str = "console=ttyS0 lsm=lockdown,capability,landlock,yama,bpf panic=-1 quiet";

#[derive(Debug, Default)]
struct Options {
    crates: Vec<String>,
    tests: Vec<String>,
    kernel: Option<String>,
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
            "--kernel" => o.kernel = Some(value(a)?),
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
        .args(["-smp", "2", "-m", "2048"])
        .args([
            "-display", "none", "-vga", "none", "-monitor", "none", "-serial", "stdio",
        ])
        .args(["-nic", "none", "-no-reboot"])
        .args([
            "-virtfs",
            "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        ])
        .arg("-kernel")
        .arg(&image.kernel)
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

/// What one test binary reported.
#[derive(Debug, Default)]
struct Outcome {
    label: String,
    rc: Option<i32>,
    result: Option<String>,
    failed: Vec<String>,
    skipped: Vec<String>,
}

fn outcomes(log: &str) -> Vec<Outcome> {
    let mut all: Vec<Outcome> = Vec::new();
    for line in log.lines() {
        if let Some(label) = line.strip_prefix("VMTEST BEGIN ") {
            all.push(Outcome {
                label: label.to_owned(),
                ..Outcome::default()
            });
            continue;
        }
        let Some(cur) = all.last_mut() else { continue };
        if let Some(rest) = line.strip_prefix("VMTEST END ") {
            cur.rc = rest.rsplit(' ').next().and_then(|r| r.parse().ok());
        } else if let Some(r) = line.strip_prefix("test result: ") {
            cur.result = Some(r.to_owned());
        } else if let Some(at) = line.find("SKIP ") {
            // libtest prints "test NAME ... " before the skip line on the same line.
            cur.skipped.push(line[at..].to_owned());
        } else if let Some(name) = line
            .strip_prefix("test ")
            .and_then(|l| l.strip_suffix(" ... FAILED"))
        {
            cur.failed.push(name.to_owned());
        }
    }
    all
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

/// Runs `cargo xtask vm-test ARGS`.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let started = Instant::now();
    let cache: PathBuf = root.join("target/vm");
    let image = vm_image::prepare(&cache, o.kernel.as_deref())?;
    let bins = build_tests(root, &o)?;
    // The workspace first: the kernel's /boot files may be inside it.
    let mut mounts = workspace_mount(root);
    mounts += &format!("mount --bind $R{} $R/boot\n", image.boot.display());
    let initrd = image.write_initramfs(&cache, &(mounts + &script(&bins, &o.filter)))?;
    let accel = o.accel.unwrap_or_else(Accel::detect);
    eprintln!(
        "vm-test: booting {} ({accel:?}) with {} test binaries (prepared in {:.1?})",
        image.release,
        bins.len(),
        started.elapsed()
    );
    let booted = Instant::now();
    let timeout = Duration::from_secs(o.timeout.unwrap_or(1800));
    let (log, timed_out) = boot(&image, &initrd, accel, timeout)?;
    let log_path = cache.join("console.log");
    let _ = std::fs::write(&log_path, &log);
    let results = outcomes(&log);
    println!(
        "\nvm-test summary ({}, {accel:?}; guest ran {:.1?}):",
        image.release,
        booted.elapsed()
    );
    let mut bad = Vec::new();
    for b in &bins {
        let Some(r) = results.iter().find(|r| r.label == b.label) else {
            println!("  {:<28} did not run", b.label);
            bad.push(b.label.clone());
            continue;
        };
        let status = r.result.as_deref().unwrap_or("no result line");
        println!(
            "  {:<28} {status} ({} skip lines)",
            r.label,
            r.skipped.len()
        );
        for f in &r.failed {
            println!("      FAILED {f}");
        }
        if r.rc != Some(0) {
            bad.push(r.label.clone());
        }
    }
    for r in &results {
        for s in &r.skipped {
            println!("  [{}] {s}", r.label);
        }
    }
    println!("console log: {}", log_path.display());
    if timed_out {
        return Err(format!(
            "vm-test: the guest did not finish within {timeout:?}"
        ));
    }
    if !log.contains("VMTEST DONE") {
        return Err("vm-test: the guest stopped before finishing the tests".into());
    }
    if !bad.is_empty() {
        return Err(format!("vm-test: failed: {}", bad.join(", ")));
    }
    Ok(())
}
