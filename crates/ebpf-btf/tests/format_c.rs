//! C header output: golden file for hand-built BTF, clang compilation, bpftool comparison.

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use common::*;
use ebpf_btf::*;

/// Compiles `src` with `clang-19 -target bpf -c -x c -`; `None` if clang-19 is absent.
fn clang(src: &str) -> Option<Result<(), String>> {
    let mut child = match Command::new("clang-19")
        .args(["-target", "bpf", "-c", "-x", "c", "-", "-o", "/dev/null"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            common::skip(format!("clang check: clang-19 not available ({e})"));
            return None;
        }
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(src.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

fn tricky() -> Builder {
    let mut b = all_kinds();
    let int = TypeId(1);
    let chr = TypeId(3);
    // Packed struct: int at offset 1 byte.
    b.add(Type::Struct(Struct {
        name: "packed".into(),
        size: 5,
        members: vec![member("c", chr, 0, 0), member("i", int, 8, 0)],
    }));
    // Self-referential list through a pointer, and mutual recursion a <-> b.
    let list_ptr = TypeId(b.len() as u32 + 2);
    let list = b.add(Type::Struct(Struct {
        name: "list".into(),
        size: 8,
        members: vec![member("next", list_ptr, 0, 0)],
    }));
    b.add(Type::Pointer(Pointer { target: list }));
    // Array of function pointers returning pointers to arrays.
    let arr = b.add(Type::Array(Array {
        elem: int,
        index: int,
        nelems: 3,
    }));
    let parr = b.add(Type::Pointer(Pointer { target: arr }));
    let proto = b.add(Type::FuncProto(FuncProto {
        ret: parr,
        params: vec![],
        variadic: false,
    }));
    let fp = b.add(Type::Pointer(Pointer { target: proto }));
    let fparr = b.add(Type::Array(Array {
        elem: fp,
        index: int,
        nelems: 2,
    }));
    let arr2 = b.add(Type::Array(Array {
        elem: arr,
        index: int,
        nelems: 5,
    }));
    // Anonymous enum and struct inlined into a named struct, trailing padding, bitfields.
    let anon_enum = b.add(Type::Enum(Enum {
        name: String::new(),
        size: 4,
        signed: false,
        values: vec![EnumValue {
            name: "A_ONE".into(),
            value: 1,
        }],
    }));
    let anon = b.add(Type::Struct(Struct {
        name: String::new(),
        size: 8,
        members: vec![member("x", int, 0, 0), member("e", anon_enum, 32, 0)],
    }));
    b.add(Type::Struct(Struct {
        name: "outer".into(),
        size: 96,
        members: vec![
            member("fns", fparr, 0, 0),
            member("m", arr2, 128, 0),
            member("in", anon, 128 + 480, 0),
            member("bf1", int, 128 + 480 + 64, 3),
            member("bf2", int, 128 + 480 + 64 + 8, 7),
        ],
    }));
    // Top-level anonymous enum nobody references, and a duplicate name.
    b.add(Type::Enum(Enum {
        name: String::new(),
        size: 4,
        signed: false,
        values: vec![EnumValue {
            name: "LONE".into(),
            value: 7,
        }],
    }));
    b.add(Type::Struct(Struct {
        name: "list".into(),
        size: 4,
        members: vec![member("v", int, 0, 0)],
    }));
    b
}

#[test]
fn golden_c_and_clang() {
    for endian in [Endian::Little, Endian::Big] {
        let spec = Spec::parse(
            &tricky()
                .marshal(MarshalOptions {
                    endian: Some(endian),
                })
                .unwrap(),
        )
        .unwrap();
        let c = format_c::dump_c(&spec).unwrap();
        golden("tricky.h", &c);
        if let Some(r) = clang(&c) {
            r.unwrap_or_else(|e| panic!("clang rejected generated C:\n{e}\n{c}"));
        }
    }
}

#[test]
fn matches_bpftool_on_hand_built() {
    let bytes = tricky().marshal(MarshalOptions::default()).unwrap();
    let path = std::env::temp_dir().join(format!("ebpf-btf-tricky-{}.btf", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let out = Command::new("bpftool")
        .args(["btf", "dump", "file"])
        .arg(&path)
        .args(["format", "c"])
        .output();
    let _ = std::fs::remove_file(&path);
    let Ok(out) = out.map_err(|e| common::skip(format!("bpftool unavailable: {e}"))) else {
        return;
    };
    if !out.status.success() {
        common::skip(format!(
            "bpftool failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
        return;
    }
    let ours = format_c::dump_c(&Spec::parse(&bytes).unwrap()).unwrap();
    // Older bpftool (libbpf < 1.2) does not emit mode(byte) for 1-byte enums.
    let ours = ours.replace(" __attribute__((mode(byte)))", "");
    assert_eq!(ours, String::from_utf8_lossy(&out.stdout));
}

#[test]
fn vmlinux_header_compiles_and_matches_bpftool() {
    let spec = match Spec::kernel_shared() {
        Ok(s) => s,
        Err(e) => {
            common::skip(format!("no kernel BTF: {e}"));
            return;
        }
    };
    let c = format_c::dump_c(&spec).unwrap();
    if let Some(r) = clang(&c) {
        r.unwrap_or_else(|e| panic!("clang rejected vmlinux.h: {}", &e[..e.len().min(4000)]));
    }
    if let Ok(out) = Command::new("bpftool")
        .args([
            "btf",
            "dump",
            "file",
            "/sys/kernel/btf/vmlinux",
            "format",
            "c",
        ])
        .output()
    {
        if out.status.success() {
            let ours = c.replace(" __attribute__((mode(byte)))", "");
            assert!(
                ours == String::from_utf8_lossy(&out.stdout),
                "vmlinux.h differs from bpftool"
            );
        }
    }
}

#[test]
fn single_type_dump() {
    let spec = all_kinds_spec(Endian::native());
    let mut d = format_c::CDumper::new(&spec);
    d.dump_type(TypeId(13)).unwrap();
    let s = d.finish();
    assert!(s.contains("typedef struct foo foo_t;"), "{s}");
    assert!(s.contains("struct opaque;"), "{s}");
    let mut d = format_c::CDumper::new(&spec);
    assert!(d.dump_type(TypeId(1000)).is_err());
}
