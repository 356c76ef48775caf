//! `cargo xtask build-fixtures`, part two: the host programs under `testdata/host/`.
//!
//! The USDT tests need a process with `<sys/sdt.h>` probes in an executable
//! and in a shared library. `testdata/host/usdt_lib.c` becomes
//! `libebpf_rs_usdt-ARCH.so` and `testdata/host/usdt_target.c` the executable
//! `usdt_target-ARCH`, linked to it (found through `$ORIGIN`), for ARCH
//! `x86_64` and `aarch64` (the arm64 ones are only parsed by tests, never run).
//!
//! They are freestanding (no libc, raw system calls) and linked by lld, with
//! `-fno-ident` and no debug info, so a rebuild gives the same bytes on any
//! machine with the same clang-19, lld-19 and `sys/sdt.h` (Debian's
//! `systemtap-sdt-dev`), whatever its own architecture.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const CLANG: &str = "clang-19";
const LLD: &str = "/usr/bin/ld.lld-19";
const INSTALL_HINT: &str = "apt-get install -y clang-19 lld-19 systemtap-sdt-dev";

/// The architectures built, with the dynamic loader each executable names.
const ARCHES: [(&str, &str); 2] = [
    ("x86_64", "/lib64/ld-linux-x86-64.so.2"),
    ("aarch64", "/lib/ld-linux-aarch64.so.1"),
];

/// The files one architecture produces: the library, then the executable.
pub fn outputs(arch: &str) -> [String; 2] {
    [
        format!("libebpf_rs_usdt-{arch}.so"),
        format!("usdt_target-{arch}"),
    ]
}

/// The directory holding `sys/sdt.h`: `/usr/include` or a multiarch one.
fn sdt_include_dir() -> Result<PathBuf, String> {
    let mut dirs = vec![PathBuf::from("/usr/include")];
    if let Ok(entries) = fs::read_dir("/usr/include") {
        let mut multi: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with("-linux-gnu"))
            })
            .collect();
        multi.sort();
        dirs.extend(multi);
    }
    dirs.into_iter()
        .find(|d| d.join("sys/sdt.h").is_file())
        .ok_or_else(|| format!("sys/sdt.h not found; install it with:\n  {INSTALL_HINT}"))
}

fn common_flags(arch: &str, sdt: &Path) -> Vec<String> {
    let mut flags: Vec<String> = [
        format!("--target={arch}-linux-gnu"),
        "-O2".into(),
        "-Wall".into(),
        "-Werror".into(),
        // A byte in a register is printed as its 64-bit register on arm64.
        "-Wno-asm-operand-widths".into(),
        "-fno-ident".into(),
        "-ffreestanding".into(),
        "-nostdlib".into(),
        "-nostdlibinc".into(),
        "-fuse-ld=lld".into(),
        format!("--ld-path={LLD}"),
        "-Wl,--build-id=sha1".into(),
        // Each segment on its own pages, as GNU ld's -z separate-code lays
        // out real binaries: without it every segment maps file page 0, and
        // the kernel puts a uprobe (and counts its semaphore) in each
        // executable-capable mapping of the probe's page, not just the text.
        "-Wl,-z,separate-loadable-segments".into(),
        // 4 KiB pages on arm64 too (lld's default there is 64 KiB): smaller files.
        "-Wl,-z,max-page-size=4096".into(),
    ]
    .into();
    flags.push("-isystem".into());
    flags.push(sdt.display().to_string());
    flags
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Builds the host programs of `dir` (`testdata/host`) into `tmp`, returning
/// the names of the files made.
pub fn build(dir: &Path, tmp: &Path) -> Result<Vec<String>, String> {
    if !Path::new(LLD).exists() {
        return Err(format!(
            "{LLD} not found; install it with:\n  {INSTALL_HINT}"
        ));
    }
    let sdt = sdt_include_dir()?;
    let mut made = Vec::new();
    for (arch, loader) in ARCHES {
        let [lib, exe] = outputs(arch);
        let flags = common_flags(arch, &sdt);
        // clang runs in `dir` on relative names: nothing of the checkout's path is recorded.
        run(Command::new(CLANG)
            .current_dir(dir)
            .args(&flags)
            .args(["-fPIC", "-shared"])
            .arg(format!("-Wl,-soname,{lib}"))
            .arg("usdt_lib.c")
            .arg("-o")
            .arg(tmp.join(&lib)))?;
        run(Command::new(CLANG)
            .current_dir(dir)
            .args(&flags)
            .arg("-no-pie")
            .arg("usdt_target.c")
            .arg("-L")
            .arg(tmp)
            .arg(format!("-l:{lib}"))
            .arg("-Wl,-rpath,$ORIGIN")
            .arg(format!("-Wl,--dynamic-linker={loader}"))
            .arg("-o")
            .arg(tmp.join(&exe)))?;
        made.push(lib);
        made.push(exe);
    }
    Ok(made)
}

/// Makes the committed executables executable (the library too: it is mapped
/// executable, and `ldd`-style tools expect it).
pub fn set_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}
