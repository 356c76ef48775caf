//! The host kernel's types (`/sys/kernel/btf/vmlinux`), generated and
//! compiled by rustc (`--emit=metadata`, what `cargo check` does; edition
//! 2024, whose keywords are a superset of 2021's) against the
//! `ebpf` this test links, with warnings denied: all of them in the plain
//! style (`ebpf-tool gen types /sys/kernel/btf/vmlinux`, about 20 s of rustc
//! and 1.6 GB), and a selection with the full derives (`--type`). Skipped,
//! visibly, on a kernel without BTF.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ebpf_gen::{TypesOptions, generate_types};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// rustc beyond this is a regression (the plain style takes about 20 s on
/// two cores; the full derives took tens of minutes).
const LIMIT: Duration = Duration::from_secs(240);

fn vmlinux() -> Option<ebpf_btf::Spec> {
    let Ok(bytes) = std::fs::read(VMLINUX) else {
        eprintln!("skipped: no {VMLINUX}");
        return None;
    };
    Some(ebpf_btf::Spec::parse(&bytes).expect("parse the kernel's BTF"))
}

/// The directory of this test's dependencies (`target/<profile>/deps`).
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent().expect("deps directory").to_path_buf()
}

/// The `ebpf` rlib among `deps`: the newest `libebpf-*.rlib` (the one cargo
/// just built for this test).
fn ebpf_rlib(deps: &Path) -> PathBuf {
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(deps)
        .expect("read deps")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with("libebpf-") && f.ends_with(".rlib"))
        })
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    found.sort();
    found.pop().expect("libebpf-*.rlib next to the test").1
}

/// The rustc of the cargo running the test (`$CARGO`'s sibling), else `rustc`.
fn rustc() -> PathBuf {
    std::env::var_os("CARGO")
        .map(|c| PathBuf::from(c).with_file_name("rustc"))
        .filter(|r| r.exists())
        .unwrap_or_else(|| PathBuf::from("rustc"))
}

/// Checks `code` as a library crate with warnings denied, within [`LIMIT`];
/// returns how long rustc took.
fn check(name: &str, code: &str) -> Duration {
    let dir = std::env::temp_dir().join(format!("ebpf-gen-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join(format!("{name}.rs"));
    std::fs::write(&src, code).expect("write");
    let deps = deps_dir();
    let mut child = Command::new(rustc())
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "lib",
            "--emit=metadata",
        ])
        .args(["-D", "warnings", "--crate-name", name, "--out-dir"])
        .arg(&dir)
        .arg("-L")
        .arg(format!("dependency={}", deps.display()))
        .arg("--extern")
        .arg(format!("ebpf={}", ebpf_rlib(&deps).display()))
        .arg(&src)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run rustc");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for rustc") {
            break status;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&dir);
            panic!("{name}: rustc took over {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let took = start.elapsed();
    let out = child.wait_with_output().expect("rustc output");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        status.success(),
        "{name}: rustc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{name}: rustc --emit=metadata took {took:?}");
    took
}

#[test]
fn all_of_vmlinux_compiles() {
    let Some(spec) = vmlinux() else { return };
    let options = TypesOptions {
        module: "vmlinux".into(),
        source: VMLINUX.into(),
        ..Default::default()
    };
    let g = generate_types(&spec, &options).expect("generate all of vmlinux");
    check("vmlinux_all", &g.code);
}

#[test]
fn kernel_types_with_full_derives_compile() {
    let Some(spec) = vmlinux() else { return };
    let options = TypesOptions {
        types: [
            "task_struct",
            "sk_buff",
            "union bpf_attr",
            "perf_event_attr",
            "enum bpf_func_id",
            "pt_regs",
        ]
        .map(String::from)
        .to_vec(),
        module: "vmlinux".into(),
        source: VMLINUX.into(),
        ..Default::default()
    };
    let g = generate_types(&spec, &options).expect("generate");
    check("vmlinux_full", &g.code);
}
