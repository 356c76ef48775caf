//! `cargo xtask`: project automation that needs no extra tools beyond what it names.
//!
//! - `build-fixtures [--check]`: compile `testdata/*.c` with clang-19 for both byte orders,
//!   and the USDT test programs of `testdata/host/`.
//! - `check-layers`: fail when a crate depends on a crate outside its layer.
//! - `gen-abi`: regenerate `crates/ebpf-abi/src/types.rs` from `abi.list` (`--from-btf FILE` adds a newer kernel's values).
//! - `gen-helpers`: regenerate `crates/ebpf-asm/src/helpers.rs` from `helpers.list`.
//! - `gen-sections`: regenerate `crates/ebpf-spec/src/sections.rs` from `sections.list`.
//! - `mutate`: run `ebpf-tool` over mutated fixtures for a while; fail on panics, hangs, signals or bloat.
//! - `selftests --kernel 6.1|6.12`: compile a kernel's BPF selftests programs for the libbpf
//!   parity test (`tools/libbpf-parity`).
//! - `vm-test`: run the kernel tests in a qemu/KVM guest on a Debian kernel
//!   (5.10, 6.1, 6.12 or sid's latest).
//! - `test-summary`, `test-report`: the kernel matrix of the last `vm-test` runs.

mod apt;
mod fixtures;
mod gen_abi;
mod gen_helpers;
mod gen_sections;
mod host_programs;
mod initramfs;
mod layers;
mod mutate;
mod report;
mod results;
mod selftests;
mod selftests_build;
mod vm;
mod vm_image;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  build-fixtures [--check]   compile testdata/*.c into NAME-el.o / NAME-eb.o with clang-19
                             (--check: fail if the committed objects differ from a rebuild)
  check-layers               fail if a crate depends on a crate its layer may not use
  gen-abi [--from-btf FILE]  regenerate crates/ebpf-abi/src/types.rs from abi.list
  gen-helpers                regenerate crates/ebpf-asm/src/helpers.rs from helpers.list
  gen-sections               regenerate crates/ebpf-spec/src/sections.rs from sections.list
  mutate [--duration SECS] [--seed N] [--timeout SECS] [--max-rss MIB] [--release]
                             run ebpf-tool on mutated copies of testdata/*.o for SECS
                             (default 60); fail on a panic, a hang, a signal or a
                             resident set over MIB (default 512)
  selftests --kernel 6.1|6.12 [-j N]
                             download Debian's linux-source package and compile its
                             tools/testing/selftests/bpf/progs/*.c with clang-19 into
                             target/selftests/SERIES/obj (cached; for tools/libbpf-parity)
  vm-test [-p CRATE]... [--test NAME]... [--kernel 5.10|6.1|6.12|latest|PKG]
          [--maxcpus N] [--accel kvm|tcg] [--timeout SECS] [-- FILTER...]
                             run kernel tests in a qemu/KVM guest on a Debian kernel
                             (default series 6.1; latest = sid's newest; PKG = a
                             linux-image-<release>-amd64 package; --maxcpus N: N
                             possible CPUs, 2 online; default crates ebpf-link,
                             ebpf, ebpf-syscall; cache and results in target/vm)
  test-summary               print kernel x passed/failed/skipped from
                             target/vm/results/*.tsv and target/host-test.log
  test-report                write the per-kernel counts and skip reasons into
                             docs/TESTING.md (between the vm-report markers)";

/// The workspace root (the parent of this crate's manifest directory).
fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("build-fixtures") => {
            let check = args.iter().any(|a| a == "--check");
            fixtures::build(&root.join("testdata"), check)
        }
        Some("check-layers") => layers::check(&root),
        Some("gen-abi") => gen_abi::run(&root, &args[1..]),
        Some("gen-helpers") => gen_helpers::run(&root),
        Some("gen-sections") => gen_sections::run(&root),
        Some("mutate") => mutate::run(&root, &args[1..]),
        Some("selftests") => selftests::run(&root, &args[1..]),
        Some("vm-test") => vm::run(&root, &args[1..]),
        Some("test-summary") => report::summary(&root),
        Some("test-report") => report::report(&root),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("xtask: {msg}");
            ExitCode::FAILURE
        }
    }
}
