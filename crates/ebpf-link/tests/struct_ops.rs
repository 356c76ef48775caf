//! struct_ops: the loader fixture's `tcp_congestion_ops` map registered for
//! real by attaching it (it shows up among the kernel's congestion controls),
//! through a link or, for a legacy `.struct_ops` map, by its value, and
//! unregistered when the returned handle is dropped.

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

/// The loader fixture's struct_ops map and programs;
/// `None` (after a skip) when the kernel cannot create its struct_ops map.
fn load_fixture() -> Option<Collection> {
    load_spec(fixture_spec())
}

fn fixture_spec() -> CollectionSpec {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o");
    CollectionSpec::from_file(path).unwrap()
}

/// Loads the struct_ops part of `spec`: its struct_ops programs (the
/// fixture's others need newer kernels or are refused under lockdown).
fn load_spec(mut spec: CollectionSpec) -> Option<Collection> {
    spec.programs.retain(|name, _| name.starts_with("ebpf_rs_"));
    skip_if_not_supported(Collection::load(&spec, CollectionOptions::default()))
}

#[test]
fn tcp_congestion_control_registers_and_unregisters() {
    kernel_test(|| {
        let Some(coll) = load_fixture() else {
            return Ok(());
        };
        let map = &coll.struct_ops["ebpf_rs_cc"];
        assert!(!registered(), "registered before attach");
        let Some(mut link) = skip_if_not_supported(ebpf_link::struct_ops::attach(map)) else {
            return Ok(());
        };
        assert!(registered(), "ebpf_rs_cc not in {AVAILABLE}");
        assert_eq!(link.kind(), "struct_ops");
        let info = link.info().unwrap();
        assert_eq!(info.link_type.to_string(), "struct_ops");

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
fn legacy_map_registers_by_its_value() {
    kernel_test(|| {
        // The same map declared in SEC(".struct_ops"): no BPF_F_LINK (5.6+).
        let mut spec = fixture_spec();
        let ms = spec.maps.get_mut("ebpf_rs_cc").unwrap();
        ms.section = ".struct_ops".into();
        ms.flags &= !ebpf_spec::MAP_FLAG_LINK;
        ms.struct_ops.as_mut().unwrap().link = false;
        let Some(coll) = load_spec(spec) else {
            return Ok(());
        };
        let map = &coll.struct_ops["ebpf_rs_cc"];
        assert!(!map.is_link());
        assert!(!registered(), "registered by loading");
        let mut link = ebpf_link::struct_ops::attach(map)?;
        assert!(!link.is_link());
        assert!(registered(), "ebpf_rs_cc not in {AVAILABLE}");
        assert!(link.fd().is_none());
        assert!(matches!(
            link.pin(std::path::Path::new("/sys/fs/bpf/x")),
            Err(ebpf_link::Error::Unsupported { .. })
        ));
        // Registered twice under one name: the kernel says EEXIST.
        let again = ebpf_link::struct_ops::attach(map).unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&again)
                .to_string()
                .contains("struct_ops tcp_congestion_ops"),
            "{again}"
        );
        link.detach()?;
        assert!(!registered(), "still registered after detach");
        drop(link);
        Ok(())
    });
}

#[test]
fn a_missing_mandatory_callback_fails_at_attach() {
    kernel_test(|| {
        let mut spec = fixture_spec();
        spec.programs.remove("ebpf_rs_ssthresh");
        let Some(coll) = load_spec(spec) else {
            return Ok(());
        };
        // Loading prepared the value; the kernel checks it when it is registered.
        let map = &coll.struct_ops["ebpf_rs_cc"];
        let e = ebpf_link::struct_ops::attach(map).unwrap_err();
        assert!(
            ebpf_link::ErrorChain(&e)
                .to_string()
                .starts_with("attach program 'ebpf_rs_cc' to struct_ops tcp_congestion_ops:"),
            "{e}"
        );
        assert!(!registered());
        Ok(())
    });
}
