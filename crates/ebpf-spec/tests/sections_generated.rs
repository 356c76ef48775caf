//! `src/sections.rs` is generated from `sections.list` by `cargo xtask gen-sections`; this
//! test fails when the committed file is stale (and rewrites it when
//! `EBPF_TESTDATA_UPDATE=1` is set).

#[allow(
    dead_code,
    reason = "only `render` is used here; `run` is the xtask entry point"
)]
#[path = "../../../xtask/src/gen_sections.rs"]
mod gen_sections;

#[test]
fn sections_rs_is_up_to_date() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let list = std::fs::read_to_string(root.join(gen_sections::LIST)).expect("read sections.list");
    let want = gen_sections::render(&list).expect("render sections.list");
    let path = root.join(gen_sections::OUTPUT);
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        if std::env::var_os("EBPF_TESTDATA_UPDATE").is_some_and(|v| v == "1") {
            gen_sections::run(&root).expect("regenerate sections.rs");
            return;
        }
        panic!(
            "{} is stale: run `cargo xtask gen-sections` (or this test with EBPF_TESTDATA_UPDATE=1)",
            path.display()
        );
    }
}
