//! `ebpf-tool load` on the running kernel: what it reports, pinning, and a
//! freplace program loaded against a program pinned by an earlier load.

use std::path::Path;
use std::process::{Command, Output};

use ebpf_test_support::{BpfFs, kernel_test, skip};

fn tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebpf-tool"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .output()
        .expect("run ebpf-tool")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn load_reports_and_pins_then_freplace_targets_the_pinned_program() {
    kernel_test(|| {
        let fs = BpfFs::new()?;
        let dir = fs.path().to_str().expect("utf-8 path");

        // The freplace program is left out, and says why; the rest loads and is pinned.
        let out = tool(&["load", "testdata/freplace-el.o", "--pin", dir]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(stdout.contains(": target_prog (sched_cls)"), "{stdout}");
        assert!(
            stdout.contains("not loaded replace_verdict: freplace needs its target"),
            "{stdout}"
        );
        let pinned = fs.path().join("progs/target_prog");
        assert!(pinned.exists(), "{stdout}");

        // Bad --attach-prog arguments are one-line errors.
        for bad in [
            "replace_verdict",
            "nosuch=1",
            "replace_verdict=/nonexistent/pin",
        ] {
            let out = tool(&["load", "testdata/freplace-el.o", "--attach-prog", bad]);
            let stderr = text(&out.stderr);
            assert!(!out.status.success(), "{bad}");
            assert!(stderr.contains("--attach-prog"), "{bad}: {stderr}");
            assert_eq!(stderr.trim_end().lines().count(), 1, "{bad}: {stderr}");
        }

        let arg = format!("replace_verdict={}", pinned.display());
        let out = tool(&["load", "testdata/freplace-el.o", "--attach-prog", &arg]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        if !out.status.success() && stderr.contains("refused by policy") {
            // This host's lockdown refuses EXT programs; the message must say so.
            assert!(stderr.contains("EPERM"), "{stderr}");
            skip(format!("freplace refused by policy: {stderr}"));
            return Ok(());
        }
        assert!(out.status.success(), "{stderr}");
        assert!(stdout.contains(": replace_verdict (ext)"), "{stdout}");
        assert!(!stdout.contains("not loaded"), "{stdout}");
        Ok(())
    });
}

/// `testdata/nobtf-el.o` (legacy maps, no BTF: names come from ELF symbols
/// only) with the symbol `from` renamed to `to` (same length), written to a
/// temp file.
fn renamed_object(from: &str, to: &str) -> std::path::PathBuf {
    assert_eq!(from.len(), to.len());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut bytes = std::fs::read(root.join("testdata/nobtf-el.o")).expect("fixture");
    let (from, to) = (format!("{from}\0"), format!("{to}\0"));
    let mut n = 0;
    let mut i = 0;
    while let Some(at) = bytes[i..]
        .windows(from.len())
        .position(|w| w == from.as_bytes())
    {
        let at = i + at;
        bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
        i = at + to.len();
        n += 1;
    }
    assert!(n > 0, "{from:?} not found");
    let path = std::env::temp_dir().join(format!(
        "ebpf-tool-pin-{}-{}.o",
        std::process::id(),
        to.trim_end_matches('\0').replace('/', "_")
    ));
    std::fs::write(&path, bytes).expect("write object");
    path
}

/// Every entry under `dir`, recursively.
fn tree(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(tree(&path));
        }
        out.push(path);
    }
    out
}

/// Map and program names are ELF symbols: `--pin DIR` must not let them climb
/// out of DIR (`../..`), replace it (an absolute name) or leave partial pins
/// and directories behind when it fails; DIR must be on bpffs before anything
/// is created.
#[test]
fn pin_names_cannot_leave_the_pin_directory() {
    kernel_test(|| {
        let fs = BpfFs::new()?;
        let dir = fs.path().join("a/b");
        let dir_arg = dir.to_str().expect("utf-8 path");
        // A new bpffs may hold the kernel's `maps.debug`/`progs.debug`.
        let empty = tree(fs.path());
        let cases = [
            // A map that would be pinned at a/pwned, outside a/b.
            ("legacy_hash", "../../pwned", "pin map ../../pwned"),
            // A program that would replace DIR with /tmp (maps already pinned).
            // (The tail `xdp` is kept: the section name shares the string.)
            ("legacy_xdp", "/tmp/p_xdp", "pin program /tmp/p_xdp"),
            // Still hidden after the tool drops the leading dot of data maps (`.bss`).
            ("legacy_hash", "..legacyhas", "pin map ..legacyhas"),
        ];
        for (from, to, what) in cases {
            let object = renamed_object(from, to);
            let out = tool(&["load", object.to_str().expect("utf-8"), "--pin", dir_arg]);
            let _ = std::fs::remove_file(&object);
            let stderr = text(&out.stderr);
            assert!(!out.status.success(), "{to}: loaded and pinned");
            assert!(stderr.contains(what), "{to}: {stderr}");
            assert!(stderr.contains("one path component"), "{to}: {stderr}");
            assert_eq!(tree(fs.path()), empty, "{to}");
            assert!(!Path::new("/tmp/p_xdp").exists(), "{to}");
        }

        // Not on bpffs: refused before maps/ and progs/ are created there.
        let tmp = std::env::temp_dir().join(format!("ebpf-tool-notbpffs-{}", std::process::id()));
        let out = tool(&[
            "load",
            "testdata/nobtf-el.o",
            "--pin",
            tmp.to_str().expect("utf-8"),
        ]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "pinned on a non-bpffs directory");
        assert!(stderr.contains("not on a BPF filesystem"), "{stderr}");
        assert!(!tmp.exists(), "{} created", tmp.display());

        // A good object still pins, global data maps without their dot.
        let out = tool(&["load", "testdata/nobtf-el.o", "--pin", dir_arg]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(dir.join("maps/legacy_hash").exists());
        assert!(dir.join("maps/bss").exists());
        assert!(dir.join("progs/legacy_xdp").exists());
        Ok(())
    });
}

#[test]
fn pin_tree_shows_what_load_pinned() {
    kernel_test(|| {
        let fs = BpfFs::new()?;
        let dir = fs.path().to_str().expect("utf-8 path");
        let out = tool(&["load", "testdata/token-el.o", "--pin", dir]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = tool(&["pin", "tree", dir]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines[0], dir, "{stdout}");
        assert!(lines.contains(&"  maps/"), "{stdout}");
        assert!(
            lines.iter().any(|l| l.starts_with("    runs  map ")
                && l.ends_with(": array 'runs'  key 4B  value 8B  max_entries 1")),
            "{stdout}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("    count_runs  program ")
                    && l.ends_with(": socket_filter 'count_runs'")),
            "{stdout}"
        );
        let out = tool(&["pin", "tree", "--json", dir]);
        let json = text(&out.stdout);
        assert!(
            json.contains("{\"path\":\"maps\",\"kind\":\"directory\""),
            "{json}"
        );
        let out = tool(&["pin", "tree", "/proc"]);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains("not a directory of a BPF filesystem"));
        Ok(())
    });
}

/// The shipping use case of `gen min-core-btf`: an object loads with the
/// minimal BTF as its CO-RE target exactly as with the kernel's own BTF.
#[test]
fn load_with_minimal_btf_as_core_target() {
    kernel_test(|| {
        let vmlinux = "/sys/kernel/btf/vmlinux";
        if !Path::new(vmlinux).exists() {
            skip("no /sys/kernel/btf/vmlinux to minimise");
            return Ok(());
        }
        let object = if cfg!(target_endian = "little") {
            "testdata/bench_core-el.o"
        } else {
            "testdata/bench_core-eb.o"
        };
        let btf = std::env::temp_dir().join(format!("ebpf-tool-min-{}.btf", std::process::id()));
        let btf_s = btf.to_str().expect("utf-8 path");
        let made = tool(&["gen", "min-core-btf", vmlinux, btf_s, object]);
        assert!(made.status.success(), "{}", text(&made.stderr));
        let size = std::fs::metadata(&btf).expect("written").len();
        assert!(size < 8192, "{size} bytes");
        let with_min = tool(&["load", object, "--target", btf_s]);
        let _ = std::fs::remove_file(&btf);
        let with_kernel = tool(&["load", object]);
        assert_eq!(
            with_min.status.success(),
            with_kernel.status.success(),
            "minimal BTF: {}\nkernel BTF: {}",
            text(&with_min.stderr),
            text(&with_kernel.stderr)
        );
        // Ids differ between the two loads: compare what was loaded.
        let loaded = |o: &Output| -> Vec<String> {
            text(&o.stdout)
                .lines()
                .filter_map(|l| l.split_once(": ").map(|(_, what)| what.to_owned()))
                .collect()
        };
        assert_eq!(loaded(&with_min), loaded(&with_kernel));
        if with_kernel.status.success() {
            assert!(
                loaded(&with_min).iter().any(|l| l.starts_with("read_task")),
                "{}",
                text(&with_min.stdout)
            );
        }
        Ok(())
    });
}

/// `--log` also prints the verifier log of each program that loaded.
#[test]
fn log_prints_the_log_of_each_loaded_program() {
    kernel_test(|| {
        let out = tool(&["load", "--log", "testdata/syscount-el.o"]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        if stderr.contains("refused by policy") {
            skip(format!("load refused by policy: {stderr}"));
            return Ok(());
        }
        assert!(out.status.success(), "{stderr}");
        let log = stdout
            .split_once("verifier log of program count_syscalls:\nfunc#0 @0\n")
            .map(|(_, log)| log)
            .unwrap_or_else(|| panic!("no log: {stdout}"));
        assert!(log.contains("(95) exit"), "{stdout}");
        assert!(log.contains("processed "), "{stdout}");
        // Without --log, none.
        let out = tool(&["load", "testdata/syscount-el.o"]);
        assert!(!text(&out.stdout).contains("verifier log"));

        let out = tool(&["load", "--log", "--json", "testdata/syscount-el.o"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let log = v["verifier_logs"]["count_syscalls"].as_str().unwrap_or("");
        assert!(log.contains("processed "), "{v}");
        Ok(())
    });
}
