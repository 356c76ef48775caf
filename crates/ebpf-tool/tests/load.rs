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
                    && l.ends_with(": BPF_PROG_TYPE_SOCKET_FILTER 'count_runs'")),
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
