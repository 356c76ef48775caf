//! What the ebpf-tool integration tests share: running the binary from the workspace root.

#![allow(dead_code, reason = "each test file uses part of it")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebpf-tool"))
        .args(args)
        .env_remove("RUST_LOG")
        .current_dir(root())
        .output()
        .expect("run ebpf-tool")
}

pub fn ok(args: &[&str]) -> String {
    let out = tool(args);
    assert!(
        out.status.success(),
        "ebpf-tool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}
