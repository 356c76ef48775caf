//! The generated helper table is up to date with `src/helpers.list` and the generator.

#[allow(dead_code, reason = "only render is used here; run is for cargo xtask")]
#[path = "../../../xtask/src/gen_helpers.rs"]
mod gen_helpers;

use ebpf_asm::Helper;

#[test]
fn generated_file_is_fresh() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if std::env::var_os("EBPF_TESTDATA_UPDATE").is_some() {
        gen_helpers::run(&root).expect("generate");
    }
    let list = std::fs::read_to_string(root.join(gen_helpers::LIST)).expect("read list");
    let want = gen_helpers::render(&list).expect("render");
    let got = std::fs::read_to_string(root.join(gen_helpers::OUTPUT)).expect("read generated");
    assert!(
        got == want,
        "helpers.rs is stale: run cargo xtask gen-helpers (or EBPF_TESTDATA_UPDATE=1)"
    );
    assert_eq!(gen_helpers::render(&list), gen_helpers::render(&list));
}

#[test]
fn generator_rejects_bad_lists() {
    assert!(gen_helpers::render("0 a\n2 b\n").is_err());
    assert!(gen_helpers::render("x a\n").is_err());
    assert!(gen_helpers::render("0 A\n").is_err());
    assert!(gen_helpers::render("0\n").is_err());
}

#[test]
fn helper_table() {
    assert_eq!(Helper::MapLookupElem.id(), 1);
    assert_eq!(Helper::from_id(1), Some(Helper::MapLookupElem));
    assert_eq!(Helper::MapLookupElem.to_string(), "bpf_map_lookup_elem");
    assert_eq!(
        Helper::from_name("bpf_trace_printk"),
        Some(Helper::TracePrintk)
    );
    assert_eq!(Helper::from_name("ktime_get_ns"), Some(Helper::KtimeGetNs));
    assert_eq!(Helper::from_id(211), Some(Helper::CgrpStorageDelete));
    assert_eq!(Helper::from_id(212), None);
    assert_eq!(Helper::ALL.len(), 212);
}
