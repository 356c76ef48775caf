//! Building BPF objects with clang-19 at test time (tests skip, with a line saying so, when
//! it is not installed).
#![allow(dead_code, reason = "each test binary uses a subset")]

use std::path::{Path, PathBuf};
use std::process::Command;

use ebpf_spec::{CollectionSpec, Result};

/// Whether clang-19 is installed; prints a skip line naming `what` if not.
pub fn clang_found(what: &str) -> bool {
    let found = Command::new("clang-19")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("skip: clang-19 not found; {what} not built");
    }
    found
}

/// Compiles `source` (which may include `include/bpf_common.h`) for `target` (`bpfel` or
/// `bpfeb`) with `-O2` and `flags`, and opens the object.
pub fn compile(tag: &str, source: &str, target: &str, flags: &[&str]) -> Result<CollectionSpec> {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    // The same path for both byte orders: it is in the objects' line info.
    let dir: PathBuf = std::env::temp_dir().join(format!("ebpf-spec-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join(format!("{tag}.c"));
    std::fs::write(&src, source).expect("write source");
    let obj = dir.join(format!("{tag}-{target}.o"));
    let status = Command::new("clang-19")
        .args(["-O2", "-target", target])
        .args(flags)
        .arg("-I")
        .arg(&include)
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .status()
        .expect("run clang");
    assert!(status.success(), "clang failed for {tag} ({target})");
    let spec = CollectionSpec::from_file(&obj);
    std::fs::remove_dir_all(&dir).ok();
    spec
}

/// Prints `SKIP <test>: reason` past libtest's output capture (a skip must be seen).
pub fn skip(reason: impl std::fmt::Display) {
    let test = std::thread::current().name().unwrap_or("<test>").to_owned();
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!("SKIP {test}: {reason}\n"),
    );
}
