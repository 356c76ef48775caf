//! Runs the `ebpf-tool` binary on the committed fixtures and compares its
//! output with golden files (rewritten with `EBPF_TESTDATA_UPDATE=1`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebpf-tool"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run ebpf-tool")
}

fn ok(args: &[&str]) -> String {
    let out = tool(args);
    assert!(
        out.status.success(),
        "ebpf-tool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("EBPF_TESTDATA_UPDATE").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with EBPF_TESTDATA_UPDATE=1 to create it)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{name} differs from the golden file {} (run with EBPF_TESTDATA_UPDATE=1 to update it)\n--- actual ---\n{actual}",
        path.display()
    );
}

const FIXTURES: &[&str] = &["loader", "nobtf", "core", "syscount"];

#[test]
fn inspect_matches_golden() {
    for f in FIXTURES {
        let obj = format!("testdata/{f}-el.o");
        golden(&format!("inspect-{f}.txt"), &ok(&["inspect", &obj]));
        golden(
            &format!("inspect-{f}.json"),
            &ok(&["inspect", &obj, "--json"]),
        );
        // Both byte orders describe the same object.
        let eb = format!("testdata/{f}-eb.o");
        assert_eq!(
            ok(&["inspect", &obj]),
            ok(&["inspect", &eb]),
            "{f}: el and eb differ"
        );
    }
}

#[test]
fn inspect_json_has_stable_keys() {
    let out = ok(&["inspect", "testdata/loader-el.o", "--json"]);
    for key in [
        "\"programs\":[",
        "\"maps\":[",
        "\"variables\":[",
        "\"name\":\"tp_getpid\"",
    ] {
        assert!(out.contains(key), "missing {key} in {out}");
    }
}

#[test]
fn disasm_matches_golden() {
    for f in FIXTURES {
        let obj = format!("testdata/{f}-el.o");
        golden(&format!("disasm-{f}.txt"), &ok(&["disasm", &obj]));
    }
    let one = ok(&["disasm", "testdata/loader-el.o", "--program", "tp_getpid"]);
    assert!(one.starts_with("tp_getpid (section tracepoint/syscalls/sys_enter_getpid):"));
    assert!(one.contains("<bpf_map_lookup_elem>"), "{one}");
}

#[test]
fn btf_dump_matches_golden() {
    for f in ["core_target", "loader"] {
        let obj = format!("testdata/{f}-el.o");
        golden(
            &format!("btf-{f}.raw"),
            &ok(&["btf", "dump", &obj, "--format", "raw"]),
        );
        golden(
            &format!("btf-{f}.h"),
            &ok(&["btf", "dump", &obj, "--format", "c"]),
        );
    }
    let json = ok(&[
        "btf",
        "dump",
        "testdata/core_target-el.o",
        "--format",
        "json",
    ]);
    assert!(
        json.starts_with("[{\"id\":1,\"kind\":\"struct\",\"name\":\"core_s\""),
        "{json}"
    );
}

#[test]
fn core_against_target_matches_golden() {
    golden(
        "core-core_target.txt",
        &ok(&[
            "core",
            "testdata/core-el.o",
            "--target",
            "testdata/core_target-el.o",
        ]),
    );
}

#[test]
fn usdt_list_matches_golden() {
    for arch in ["x86_64", "aarch64"] {
        let exe = format!("testdata/host/usdt_target-{arch}");
        golden(&format!("usdt-{arch}.txt"), &ok(&["usdt", "list", &exe]));
        let json = ok(&["usdt", "list", "--json", &exe]);
        assert!(
            json.starts_with("[{\"provider\":\"ebpf_rs\",\"name\":\"args\","),
            "{json}"
        );
    }
    let lib = "testdata/host/libebpf_rs_usdt-x86_64.so";
    golden("usdt-lib-x86_64.txt", &ok(&["usdt", "list", lib]));
}

#[test]
fn errors_are_one_line_and_nonzero() {
    let out = tool(&["inspect", "testdata/no-such-file.o"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("ebpf-tool: testdata/no-such-file.o:"),
        "{err}"
    );
    let out = tool(&["inspect", "Cargo.toml"]);
    assert!(!out.status.success());
}

#[test]
fn vmlinux_header_compiles_with_clang() {
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        ebpf_test_support::skip("no /sys/kernel/btf/vmlinux");
        return;
    }
    let clang = ["clang-19", "clang"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(clang) = clang else {
        ebpf_test_support::skip("needs clang (apt-get install clang-19)");
        return;
    };
    let header = ok(&["btf", "dump", "/sys/kernel/btf/vmlinux", "--format", "c"]);
    let dir = std::env::temp_dir().join(format!("ebpf-tool-vmlinux-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("vmlinux.h"), &header).unwrap();
    std::fs::write(
        dir.join("use.c"),
        "#include \"vmlinux.h\"\nint pid_of(struct task_struct *t) { return t->pid; }\n",
    )
    .unwrap();
    let out = Command::new(clang)
        .args(["-target", "bpf", "-O2", "-c", "use.c", "-o", "use.o"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "clang rejected the vmlinux header: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
