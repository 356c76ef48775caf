//! All the types of the host kernel's BTF (`/sys/kernel/btf/vmlinux`, about
//! 130,000 types), as `ebpf-tool gen types /sys/kernel/btf/vmlinux` generates
//! them: plain types (one size assertion each, no derives beyond `Clone` and
//! `Copy`), and a named selection with the full derives. Skipped, visibly,
//! on a kernel without BTF. `ebpf-gen-test`'s `vmlinux` test compiles them.

use ebpf_btf::{Spec, Type};
use ebpf_gen::{TypeStyle, TypesOptions, generate_types};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn vmlinux() -> Option<Spec> {
    let Ok(bytes) = std::fs::read(VMLINUX) else {
        eprintln!("skipped: no {VMLINUX}");
        return None;
    };
    Some(Spec::parse(&bytes).expect("parse the kernel's BTF"))
}

/// How many times `needle` occurs in `hay`.
fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn whole_vmlinux_is_plain_types_with_a_size_assertion_each() {
    let Some(spec) = vmlinux() else { return };
    let named = spec
        .ids()
        .filter(|&id| match spec.type_by_id(id) {
            Ok(Type::Struct(s) | Type::Union(s)) => !s.name.is_empty(),
            Ok(Type::Enum(e) | Type::Enum64(e)) => !e.name.is_empty(),
            _ => false,
        })
        .count();
    let options = TypesOptions {
        module: "vmlinux".into(),
        source: VMLINUX.into(),
        ..Default::default()
    };
    let g = generate_types(&spec, &options).expect("generate all of vmlinux");
    let code = &g.code;
    let structs = count(code, "    pub struct ");
    // Every named type, and the anonymous ones they contain.
    assert!(
        structs >= named,
        "{structs} structs for {named} named types"
    );
    // One size assertion per struct, union and kept-as-bytes type (enums are
    // newtypes over an integer).
    let enums = count(code, "    #[repr(transparent)]\n");
    assert_eq!(count(code, "assert!(size_of::<"), structs - enums);
    assert!(!code.contains("offset_of!("));
    assert!(!code.contains("KnownLayout,") && !code.contains("#[zerocopy("));
    assert!(code.contains("    pub struct TaskStruct {\n"));
    for w in &g.warnings {
        eprintln!("warning: {w}");
    }
}

#[test]
fn named_kernel_types_get_the_full_derives() {
    let Some(spec) = vmlinux() else { return };
    let options = TypesOptions {
        types: vec!["task_struct".into(), "union bpf_attr".into()],
        ..Default::default()
    };
    let g = generate_types(&spec, &options).expect("generate");
    let code = &g.code;
    assert!(code.contains("    pub struct TaskStruct {\n"));
    assert!(code.contains("offset_of!("));
    assert_eq!(
        count(code, "    pub struct "),
        count(code, "#[zerocopy(crate = \"::ebpf::zerocopy\")]")
    );
    // Asking for the plain style gives the same types, plain.
    let plain = generate_types(
        &spec,
        &TypesOptions {
            style: TypeStyle::Plain,
            ..options
        },
    )
    .expect("generate");
    assert_eq!(
        count(&plain.code, "    pub struct "),
        count(code, "    pub struct ")
    );
    assert!(!plain.code.contains("#[zerocopy("));
}
