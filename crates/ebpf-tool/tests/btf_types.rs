//! `ebpf-tool btf dump FILE --type NAME`: one type and what it depends on, in
//! each format; the C output compiles on its own.

mod common;

use std::path::Path;
use std::process::Command;

use common::{ok, tool};

fn dump(file: &str, types: &[&str], format: &str) -> String {
    let mut args = vec!["btf", "dump", file, "--format", format];
    for t in types {
        args.extend(["--type", t]);
    }
    ok(&args)
}

/// clang-19 (or clang), or `None` after a visible skip.
fn clang() -> Option<&'static str> {
    let found = ["clang-19", "clang"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        ebpf_test_support::skip("needs clang (apt-get install clang-19)");
    }
    found
}

/// Checks `header` with `clang -fsyntax-only`, included by `use_c`.
fn compiles(clang: &str, tag: &str, header: &str, use_c: &str) {
    let dir = std::env::temp_dir().join(format!("ebpf-tool-btf-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("types.h"), header).unwrap();
    std::fs::write(dir.join("use.c"), format!("#include \"types.h\"\n{use_c}")).unwrap();
    let out = Command::new(clang)
        .args([
            "-target",
            "bpf",
            "-fsyntax-only",
            "-Wall",
            "-Werror",
            "use.c",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "clang rejected the {tag} header: {}\n{header}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn c_has_the_type_after_what_it_needs_and_compiles() {
    let c = dump("testdata/loader-el.o", &["bpf_iter__task"], "c");
    // Both pointees need only a forward declaration, before the type.
    let def = c.find("struct bpf_iter__task {").expect("the definition");
    for fwd in ["struct bpf_iter_meta;\n", "struct task_struct;\n"] {
        let at = c.find(fwd).unwrap_or_else(|| panic!("no {fwd:?} in\n{c}"));
        assert!(at < def, "{fwd:?} after the definition:\n{c}");
    }
    assert!(!c.contains("struct task_struct {"), "{c}");
    // Nothing else of the object.
    assert!(!c.contains("struct event"), "{c}");
    assert_eq!(
        c,
        dump("testdata/loader-eb.o", &["bpf_iter__task"], "c"),
        "el and eb differ"
    );
    if let Some(clang) = clang() {
        compiles(
            clang,
            "fixture",
            &c,
            "int f(struct bpf_iter__task *it) { return it->task != 0; }\n",
        );
    }
}

#[test]
fn several_types_share_what_they_need() {
    let c = dump("testdata/loader-el.o", &["event", "key"], "c");
    assert_eq!(c.matches("typedef unsigned int __u32;").count(), 1, "{c}");
    let (event, key) = (c.find("struct event {"), c.find("struct key {"));
    assert!(event.is_some() && key.is_some(), "{c}");
    if let Some(clang) = clang() {
        compiles(
            clang,
            "several",
            &c,
            "int f(struct event *e, struct key *k) { return e->pid + k->a; }\n",
        );
    }
}

#[test]
fn raw_and_json_list_the_type_and_its_dependencies() {
    let raw = dump("testdata/loader-el.o", &["bpf_iter__task"], "raw");
    assert_eq!(
        raw,
        "[126] STRUCT 'bpf_iter__task' size=16 vlen=2\n\
         \t'meta' type_id=127 bits_offset=0\n\
         \t'task' type_id=128 bits_offset=64\n\
         [127] PTR '(anon)' type_id=180\n\
         [128] PTR '(anon)' type_id=131\n\
         [131] STRUCT 'task_struct' size=4 vlen=1\n\
         \t'pid' type_id=2 bits_offset=0\n\
         [180] FWD 'bpf_iter_meta' fwd_kind=struct\n"
    );
    // A struct's members are followed: `key` needs its typedefs and their ints.
    let raw = dump("testdata/loader-el.o", &["key"], "raw");
    for line in [
        "[38] STRUCT 'key'",
        "TYPEDEF '__u16'",
        "INT 'unsigned short'",
        "TYPEDEF '__u8'",
        "INT 'unsigned char'",
    ] {
        assert!(raw.contains(line), "no {line:?} in\n{raw}");
    }
    assert!(!raw.contains("STRUCT 'event'"), "{raw}");

    let json = dump("testdata/loader-el.o", &["bpf_iter__task"], "json");
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let ids: Vec<u64> = v
        .as_array()
        .expect("an array")
        .iter()
        .map(|t| t["id"].as_u64().expect("an id"))
        .collect();
    assert_eq!(ids, [126, 127, 128, 131, 180], "{json}");
    assert_eq!(v[0]["name"], "bpf_iter__task", "{json}");
}

#[test]
fn an_unknown_type_is_an_error_naming_it() {
    for types in [&["nosuch"][..], &["event", "nosuch"]] {
        for format in ["c", "raw", "json"] {
            let mut args = vec!["btf", "dump", "testdata/loader-el.o", "--format", format];
            for t in types {
                args.extend(["--type", t]);
            }
            let out = tool(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?}");
            assert!(out.stdout.is_empty(), "{args:?}");
            assert_eq!(
                err, "ebpf-tool: testdata/loader-el.o: no type named 'nosuch'\n",
                "{args:?}"
            );
        }
    }
}

#[test]
fn vmlinux_task_struct_compiles_with_clang() {
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        ebpf_test_support::skip("no /sys/kernel/btf/vmlinux");
        return;
    }
    let c = dump("/sys/kernel/btf/vmlinux", &["task_struct"], "c");
    let def = c.find("struct task_struct {").expect("the definition");
    // Only what task_struct needs, not all of vmlinux, and it comes last.
    assert!(c.len() < 1 << 20, "{} bytes", c.len());
    assert!(!c[def..].contains("\nstruct "), "task_struct is not last");
    assert!(!c.contains("struct bpf_prog_aux {"), "more than needed");
    if let Some(clang) = clang() {
        compiles(
            clang,
            "vmlinux",
            &c,
            "int pid_of(struct task_struct *t) { return t->pid; }\n",
        );
    }
}
