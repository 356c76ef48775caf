//! Runs the `ebpf-tool` binary on the committed fixtures and compares its
//! output with golden files (rewritten with `EBPF_TESTDATA_UPDATE=1`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ok, root, tool};

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
    // A file of the wrong kind is named as such, not by its magic number.
    let out = tool(&["inspect", "Cargo.toml"]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ebpf-tool: Cargo.toml: elf: not an ELF file\n"
    );
    let out = tool(&["btf", "dump", "Cargo.toml"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("ebpf-tool: Cargo.toml: btf: header: not BTF: magic 0x775b"),
        "{err}"
    );
}

/// Without CAP_BPF every probe would be refused: `feature` says so once and
/// exits non-zero instead of printing a table of refusals (run as `nobody`
/// through setpriv when this test runs as root; skipped visibly otherwise).
#[test]
fn feature_without_privileges_says_so() {
    use std::os::unix::fs::PermissionsExt as _;
    if !nix::unistd::geteuid().is_root() {
        ebpf_test_support::skip("needs root to run ebpf-tool as another user");
        return;
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        ebpf_test_support::skip("needs setpriv (util-linux) to drop privileges");
        return;
    }
    // A copy nobody can run, wherever the build directory is.
    let dir = std::env::temp_dir().join(format!("ebpf-tool-feature-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    let exe = dir.join("ebpf-tool");
    std::fs::copy(env!("CARGO_BIN_EXE_ebpf-tool"), &exe).expect("copy ebpf-tool");
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&exe)
        .arg("feature")
        .current_dir(&dir)
        .output()
        .expect("run setpriv");
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        err.starts_with(
            "ebpf-tool: feature: probing the kernel is refused (EPERM) without privileges: this process lacks CAP_BPF"
        ),
        "{err}"
    );
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

/// The byte range of section `name` in a little-endian ELF64 file.
fn section_range(elf: &[u8], name: &str) -> std::ops::Range<usize> {
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([elf[at], elf[at + 1]]));
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(header(shstrndx) + 0x18);
    for i in 0..shnum {
        let h = header(i);
        let at = strtab + u32_at(h);
        if elf[at..].starts_with(name.as_bytes()) && elf[at + name.len()] == 0 {
            let off = u64_at(h + 0x18);
            return off..off + u64_at(h + 0x20);
        }
    }
    panic!("no section {name}");
}

/// Writes `bytes` to a temp file named after `tag`.
fn temp_object(tag: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("ebpf-tool-{tag}-{}.o", std::process::id()));
    std::fs::write(&path, bytes).expect("write object");
    path
}

/// Library warnings reach stderr (the CLI installs a logger); `-vv` adds debug
/// messages, which are hidden by default.
#[test]
fn warnings_are_shown_and_verbose_shows_more() {
    let mut bytes = std::fs::read(root().join("testdata/nobtf-el.o")).unwrap();
    // The section `socket` shares its string with the program `legacy_socket`:
    // both become `sockex`, a section name no program type has.
    let at = bytes
        .windows(14)
        .position(|w| w == b"legacy_socket\0")
        .expect("legacy_socket");
    bytes[at + 7..at + 13].copy_from_slice(b"sockex");
    let object = temp_object("warn", &bytes);
    let path = object.to_str().unwrap();
    let out = tool(&["inspect", path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("ebpf-tool: warning: ") && stderr.contains("unknown section name"),
        "{stderr}"
    );
    assert!(!stderr.contains("global data map"), "{stderr}");
    let out = tool(&["inspect", "-vv", path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ebpf-tool: debug: ") && stderr.contains("global data map"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&object);
}

/// One CO-RE record with an out-of-range type id: `inspect` and `core` fail
/// naming the record, instead of reporting 0 CO-RE relocations with exit 0.
#[test]
fn a_broken_core_record_is_an_error_not_zero_relocations() {
    let mut bytes = std::fs::read(root().join("testdata/core-el.o")).unwrap();
    let ext = section_range(&bytes, ".BTF.ext");
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let hdr_len = u32_at(&bytes, ext.start + 4) as usize;
    let core_off = u32_at(&bytes, ext.start + 24) as usize;
    // rec_size, sec_name_off, num_info, then the first record's insn_off and type_id.
    let type_id = ext.start + hdr_len + core_off + 4 + 8 + 4;
    bytes[type_id..type_id + 4].copy_from_slice(&0x00ff_ffff_u32.to_le_bytes());
    let object = temp_object("badcore", &bytes);
    let path = object.to_str().unwrap();
    for args in [
        vec!["inspect", path],
        vec!["core", path, "--target", "testdata/core_target-el.o"],
    ] {
        let out = tool(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            stderr.contains(".BTF.ext")
                && stderr.contains("core_relo")
                && stderr.contains("type_id"),
            "{args:?}: {stderr}"
        );
    }
    let _ = std::fs::remove_file(&object);
}

#[test]
fn gen_skeleton_and_types() {
    let obj = root().join("testdata/gen-el.o");
    let obj = obj.to_str().expect("utf-8 path");
    let out = ok(&[
        "gen",
        "skeleton",
        obj,
        "--name",
        "snoop",
        "--type",
        "enum wide",
    ]);
    assert!(out.contains("pub struct SnoopSkel {"), "{out}");
    assert!(
        out.contains("pub events: ::ebpf::ringbuf::RingBuf<Event>,"),
        "{out}"
    );
    assert!(out.contains(&format!("include_bytes!({obj:?})")), "{out}");
    let out = ok(&["gen", "types", obj, "--type", "struct flags"]);
    assert!(
        out.contains("pub struct Flags {") && out.contains("pub fn set_big("),
        "{out}"
    );
    assert!(
        !out.contains("pub struct Event {"),
        "only what was asked for: {out}"
    );
    let bad = tool(&["gen", "types", obj, "--type", "nope"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("type 'nope': not in the BTF"));
}

#[test]
fn gen_min_core_btf_relocates_like_its_source() {
    let out = std::env::temp_dir().join(format!("ebpf-tool-min-core-{}.btf", std::process::id()));
    let out_s = out.to_str().expect("utf-8 path");
    let said = ok(&[
        "gen",
        "min-core-btf",
        "testdata/core_target-el.o",
        out_s,
        "testdata/core-el.o",
    ]);
    assert!(said.contains("CO-RE relocations"), "{said}");
    let size = std::fs::metadata(&out).expect("written").len();
    assert!(size > 24 && size < 4096, "{size} bytes");
    // Type ids differ between the two targets: lines naming them are left out.
    let comparable = |s: String| -> Vec<String> {
        s.lines()
            .filter(|l| !l.contains("error:") && !l.contains("target_type_id"))
            .map(str::to_owned)
            .collect()
    };
    let full = comparable(ok(&[
        "core",
        "testdata/core-el.o",
        "--target",
        "testdata/core_target-el.o",
    ]));
    let small = comparable(ok(&["core", "testdata/core-el.o", "--target", out_s]));
    let _ = std::fs::remove_file(&out);
    assert!(full.len() > 50, "{full:?}");
    assert_eq!(full, small);
    let bad = tool(&["gen", "min-core-btf", "testdata/core_target-el.o", out_s]);
    assert!(!bad.status.success(), "objects are required");
}
