//! struct_ops links: the loader fixture's `tcp_congestion_ops` map registered
//! for real (it shows up among the kernel's congestion controls) and
//! unregistered when the link is dropped.

mod common;

use ebpf::{Collection, CollectionOptions, CollectionSpec};
use ebpf_link::Link;
use ebpf_test_support::{BpfFs, kernel_test, skip_if_not_supported};

const AVAILABLE: &str = "/proc/sys/net/ipv4/tcp_available_congestion_control";

fn registered() -> bool {
    std::fs::read_to_string(AVAILABLE)
        .unwrap()
        .split_whitespace()
        .any(|cc| cc == "ebpf_rs_cc")
}

/// The loader fixture, without the programs a locked-down kernel refuses;
/// `None` (after a skip) when the kernel cannot create its struct_ops map.
fn load_fixture() -> Option<Collection> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o");
    let spec = CollectionSpec::from_file(path).unwrap();
    let mut opts = CollectionOptions::default();
    for p in ["fentry_prog", "fexit_prog", "lsm_prog"] {
        opts.skip_programs.insert(p.to_owned());
    }
    skip_if_not_supported(Collection::load(&spec, opts))
}

#[test]
fn tcp_congestion_control_registers_and_unregisters() {
    kernel_test(|| {
        let Some(coll) = load_fixture() else {
            return Ok(());
        };
        let map = &coll.maps["ebpf_rs_cc"];
        assert!(!registered(), "registered before attach");
        let Some(mut link) = skip_if_not_supported(ebpf_link::struct_ops::attach(map)) else {
            return Ok(());
        };
        assert!(registered(), "ebpf_rs_cc not in {AVAILABLE}");
        assert_eq!(link.kind(), "struct_ops");
        let info = link.info().unwrap();
        assert_eq!(info.link_type.to_string(), "BPF_LINK_TYPE_STRUCT_OPS");

        // Pinned, the registration outlives the handle; unpinned, it goes.
        let fs = BpfFs::new().unwrap();
        let pin = fs.path().join("cc");
        link.pin(&pin).unwrap();
        assert_eq!(link.pinned_path(), Some(pin.as_path()));
        link.unpin().unwrap();
        assert!(!pin.exists());

        // A struct_ops link holds a map, not a program.
        let prog = &coll.programs["ebpf_rs_ssthresh"];
        assert!(matches!(
            link.update(prog),
            Err(ebpf_link::Error::Unsupported { .. })
        ));

        drop(link);
        assert!(!registered(), "still registered after the link was dropped");
        Ok(())
    });
}

#[test]
fn only_struct_ops_maps_with_bpf_f_link() {
    kernel_test(|| {
        let Some(coll) = load_fixture() else {
            return Ok(());
        };
        let err = ebpf_link::struct_ops::attach(&coll.maps["hash_map"]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("not a struct_ops map"), "{msg}");
        Ok(())
    });
}
