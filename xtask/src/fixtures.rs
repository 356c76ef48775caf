//! `cargo xtask build-fixtures`: the committed BPF objects under `testdata/`.
//!
//! Every `testdata/NAME.c` becomes `NAME-el.o` (`-target bpfel`) and
//! `NAME-eb.o` (`-target bpfeb`), built with `-O2 -g`, then stripped of DWARF
//! with `llvm-strip -g` (which keeps `.BTF` and `.BTF.ext`). A source can add
//! flags with a line `// xtask-cflags: FLAGS` (e.g. `-g0` for a fixture
//! without BTF), and ask for extra builds with lines `// xtask-variant: SUFFIX
//! FLAGS`, which produce `NAME_SUFFIX-el.o` / `NAME_SUFFIX-eb.o` with FLAGS
//! added (e.g. `// xtask-variant: v1 -mcpu=v1`). Builds are reproducible: clang runs in `testdata/` on relative
//! paths, `-fdebug-prefix-map` hides the checkout's location and `-fno-ident`
//! drops the compiler's version string.
//!
//! A directory `testdata/NAME/` of C files is a multi-file fixture: each file is
//! compiled as above, then the objects (in file name order) are linked with
//! libbpf's static linker, as `bpftool gen object NAME-el.o a.o b.o ...` does,
//! into `NAME-el.o` / `NAME-eb.o`. The linker is `tools/libbpf-link` (libbpf
//! 1.7 through libbpf-sys, pinned by `Cargo.lock`): Debian bookworm's bpftool
//! has libbpf 1.1, which links only objects of the host's byte order. For
//! little-endian objects its output is byte-identical to that bpftool's.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The compiler and strip tool we pin: Debian's clang-19 / llvm-19.
const CLANG: &str = "clang-19";
const STRIP: &str = "llvm-strip-19";
const INSTALL_HINT: &str = "apt-get update && apt-get install -y clang-19 llvm-19";

/// The directory of host programs (not BPF), see [`crate::host_programs`].
pub const HOST_DIR: &str = "host";

/// Byte orders and the suffix of their objects.
const TARGETS: [(&str, &str); 2] = [("bpfel", "el"), ("bpfeb", "eb")];

/// The C sources directly under `dir`, sorted by name.
pub fn sources(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| format!("read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "c") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The multi-file fixtures under `dir`: each subdirectory holding C files, with those
/// files sorted by name; sorted by directory name.
pub fn linked_sources(dir: &Path) -> Result<Vec<(String, Vec<PathBuf>)>, String> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| format!("read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path.is_dir() || path.file_name().is_some_and(|n| n == HOST_DIR) {
            continue;
        }
        let files = sources(&path)?;
        let name = path.file_name().and_then(|n| n.to_str());
        if let (Some(name), false) = (name, files.is_empty()) {
            out.push((name.to_owned(), files));
        }
    }
    out.sort();
    Ok(out)
}

/// Extra flags declared in the source with `// xtask-cflags: ...`.
fn extra_flags(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("// xtask-cflags:"))
        .flat_map(|f| f.split_whitespace().map(str::to_owned))
        .collect()
}

/// The variants declared with `// xtask-variant: SUFFIX FLAGS`, plus the plain
/// build (empty suffix, no flags) first.
fn variants(source: &str) -> Vec<(String, Vec<String>)> {
    let mut out = vec![(String::new(), Vec::new())];
    for line in source.lines() {
        let Some(rest) = line.trim().strip_prefix("// xtask-variant:") else {
            continue;
        };
        let mut words = rest.split_whitespace().map(str::to_owned);
        if let Some(suffix) = words.next() {
            out.push((format!("_{suffix}"), words.collect()));
        }
    }
    out
}

/// The placeholder for libbpf-sys's `libbpf/src` in fixture flags.
const LIBBPF_SRC: &str = "@LIBBPF_SRC@";

/// `libbpf/src` of the `libbpf-sys` crate in the workspace's dependency graph
/// (`cargo metadata`, which downloads it if needed).
fn libbpf_src() -> Result<PathBuf, String> {
    static SRC: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    SRC.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args(["metadata", "--format-version", "1"])
            .current_dir(crate::workspace_root())
            .output()
            .map_err(|e| format!("run cargo metadata: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cargo metadata failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        // "manifest_path":"<...>/libbpf-sys-<version>/Cargo.toml"
        text.split("\"manifest_path\":\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .find(|p| p.contains("/libbpf-sys-"))
            .and_then(|p| Path::new(p).parent())
            .map(|dir| dir.join("libbpf/src"))
            .filter(|src| src.join("usdt.bpf.h").is_file())
            .ok_or_else(|| "libbpf-sys's libbpf/src not found in cargo metadata".to_owned())
    })
    .clone()
}

/// `flags` with `@LIBBPF_SRC@` replaced, and the prefix map that hides that path.
fn expand_flags(flags: Vec<String>) -> Result<Vec<String>, String> {
    if !flags.iter().any(|f| f.contains(LIBBPF_SRC)) {
        return Ok(flags);
    }
    let src = libbpf_src()?;
    let src = src.to_str().ok_or("libbpf-sys path is not UTF-8")?;
    let mut out: Vec<String> = flags
        .into_iter()
        .map(|f| f.replace(LIBBPF_SRC, src))
        .collect();
    out.push(format!("-fdebug-prefix-map={src}=libbpf"));
    Ok(out)
}

fn tool_exists(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} failed ({}):\n{}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Compiles one source for one target into `out`.
fn compile(
    dir: &Path,
    source: &Path,
    target: &str,
    variant_flags: &[String],
    out: &Path,
) -> Result<(), String> {
    // The path relative to `dir` (clang runs there): it ends up in the line info.
    let name = source
        .strip_prefix(dir)
        .ok()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("bad file name {}", source.display()))?;
    let text = fs::read_to_string(source).map_err(|e| format!("read {name}: {e}"))?;
    let abs = dir
        .canonicalize()
        .map_err(|e| format!("canonicalize {}: {e}", dir.display()))?;
    let mut cmd = Command::new(CLANG);
    cmd.current_dir(dir)
        .args([
            "-target",
            target,
            "-O2",
            "-g",
            "-Wall",
            "-Werror",
            "-fno-ident",
        ])
        .arg(format!("-fdebug-prefix-map={}=.", abs.display()))
        .args(expand_flags(
            extra_flags(&text)
                .into_iter()
                .chain(variant_flags.iter().cloned())
                .collect(),
        )?)
        .args(["-c", name, "-o"])
        .arg(out);
    run(&mut cmd)?;
    run(Command::new(STRIP).arg("-g").arg(out))
}

/// Links `inputs` into `out` with `tools/libbpf-link`, built and run through cargo.
fn link(inputs: &[PathBuf], out: &Path) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo)
        .args(["run", "--quiet", "--package", "libbpf-link", "--"])
        .arg(out)
        .args(inputs))
}

/// Compares the built object `file` in `tmp` with the committed one in `dir`,
/// writes it unless `check`, prints its status and records it in `stale`.
fn settle(
    dir: &Path,
    tmp: &Path,
    file: &str,
    check: bool,
    stale: &mut Vec<String>,
) -> Result<(), String> {
    let committed = dir.join(file);
    let new = fs::read(tmp.join(file)).map_err(|e| format!("read {file}: {e}"))?;
    let status = match fs::read(&committed).ok() {
        Some(old) if old == new => "unchanged",
        old => {
            stale.push(file.to_owned());
            if !check {
                fs::write(&committed, &new).map_err(|e| format!("write {file}: {e}"))?;
            }
            if old.is_some() { "changed" } else { "new" }
        }
    };
    println!("{file:<24} {status}");
    Ok(())
}

/// Builds every fixture. With `check`, builds into a temporary directory and
/// fails if any committed object differs.
pub fn build(dir: &Path, check: bool) -> Result<(), String> {
    for tool in [CLANG, STRIP] {
        if !tool_exists(tool) {
            return Err(format!(
                "{tool} not found; install it with:\n  {INSTALL_HINT}"
            ));
        }
    }
    let tmp = std::env::temp_dir().join(format!("ebpf-fixtures-{}", std::process::id()));
    fs::create_dir_all(&tmp).map_err(|e| format!("create {}: {e}", tmp.display()))?;
    let mut stale = Vec::new();
    for source in sources(dir)? {
        let stem = source
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("bad file name {}", source.display()))?;
        let text = fs::read_to_string(&source).map_err(|e| format!("read {stem}.c: {e}"))?;
        for ((target, suffix), (variant, flags)) in variants(&text)
            .iter()
            .flat_map(|v| TARGETS.iter().map(move |t| (*t, v)))
        {
            let file = format!("{stem}{variant}-{suffix}.o");
            compile(dir, &source, target, flags, &tmp.join(&file))?;
            settle(dir, &tmp, &file, check, &mut stale)?;
        }
    }
    for (name, files) in linked_sources(dir)? {
        for (target, suffix) in TARGETS {
            let mut objects = Vec::new();
            for source in &files {
                let stem = source
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .ok_or_else(|| format!("bad file name {}", source.display()))?;
                let object = tmp.join(format!("{name}.{stem}-{suffix}.o"));
                compile(dir, source, target, &[], &object)?;
                objects.push(object);
            }
            let file = format!("{name}-{suffix}.o");
            link(&objects, &tmp.join(&file))?;
            settle(dir, &tmp, &file, check, &mut stale)?;
        }
    }
    let host = dir.join(HOST_DIR);
    if host.is_dir() {
        for file in crate::host_programs::build(&host, &tmp)? {
            settle(&host, &tmp, &file, check, &mut stale)?;
            if !check {
                crate::host_programs::set_executable(&host.join(&file))?;
            }
        }
    }
    let _ = fs::remove_dir_all(&tmp);
    if check && !stale.is_empty() {
        return Err(format!(
            "committed fixtures differ from a rebuild: {} (run `cargo xtask build-fixtures`)",
            stale.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_source_has_both_objects_committed() {
        let dir = crate::workspace_root().join("testdata");
        let sources = sources(&dir).unwrap();
        assert!(!sources.is_empty());
        for source in sources {
            let stem = source.file_stem().unwrap().to_str().unwrap();
            let text = fs::read_to_string(&source).unwrap();
            for (variant, _) in variants(&text) {
                for (_, suffix) in TARGETS {
                    let obj = dir.join(format!("{stem}{variant}-{suffix}.o"));
                    assert!(obj.exists(), "{} is not built", obj.display());
                }
            }
        }
    }

    #[test]
    fn every_linked_fixture_has_both_objects_committed() {
        let dir = crate::workspace_root().join("testdata");
        let linked = linked_sources(&dir).unwrap();
        assert!(
            linked
                .iter()
                .any(|(name, files)| name == "linked" && files.len() == 3)
        );
        for (name, _) in linked {
            for (_, suffix) in TARGETS {
                let obj = dir.join(format!("{name}-{suffix}.o"));
                assert!(obj.exists(), "{} is not built", obj.display());
            }
        }
    }

    #[test]
    fn host_programs_are_committed() {
        let dir = crate::workspace_root().join("testdata").join(HOST_DIR);
        for arch in ["x86_64", "aarch64"] {
            for file in crate::host_programs::outputs(arch) {
                assert!(dir.join(&file).exists(), "{file} is not built");
            }
        }
    }

    #[test]
    fn reads_variants() {
        let v = variants("// xtask-variant: v1 -mcpu=v1\n// xtask-variant: v4 -mcpu=v4 -O1\n");
        assert_eq!(v.len(), 3);
        assert_eq!(v[0], (String::new(), Vec::new()));
        assert_eq!(
            v[2],
            (
                "_v4".to_owned(),
                vec!["-mcpu=v4".to_owned(), "-O1".to_owned()]
            )
        );
    }

    #[test]
    fn reads_extra_flags() {
        assert_eq!(
            extra_flags("/* x */\n// xtask-cflags: -g0 -mcpu=v1\nint x;"),
            ["-g0", "-mcpu=v1"]
        );
    }
}
