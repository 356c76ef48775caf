//! freplace (`BPF_PROG_TYPE_EXT`): a program loaded against a function of
//! another program replaces it while attached (testdata/freplace.c).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::fixture_spec;
use ebpf::{Collection, CollectionOptions, CollectionSpec, Program, TestRunOptions};
use ebpf_link::{Link, LinkInfoData, tracing};
use ebpf_test_support::{kernel_test, skip};

const EXT: &str = "replace_verdict";
const TARGET: &str = "target_prog";

/// The target program's verdict on a 64-byte packet.
fn verdict(target: &Program) -> u32 {
    let run = TestRunOptions {
        data_in: vec![0; 64],
        ..Default::default()
    };
    target.test_run(&run).unwrap().retval
}

/// Loads only `keep` of the fixture, with `attach_programs`.
fn load_only(
    spec: &CollectionSpec,
    keep: &str,
    attach_programs: BTreeMap<String, Arc<Program>>,
) -> ebpf::Result<Program> {
    let skip_programs: BTreeSet<String> = spec
        .programs
        .keys()
        .filter(|n| *n != keep)
        .cloned()
        .collect();
    let mut coll = Collection::load(
        spec,
        CollectionOptions {
            skip_programs,
            attach_programs,
            ..Default::default()
        },
    )?;
    coll.take_program(keep)
}

/// Loads the freplace program against `target`; `None` (after printing why)
/// when the kernel refuses freplace programs by policy (lockdown).
fn load_ext(spec: &CollectionSpec, target: &Arc<Program>) -> Option<Program> {
    let targets = BTreeMap::from([(EXT.to_owned(), target.clone())]);
    match load_only(spec, EXT, targets) {
        Ok(p) => Some(p),
        Err(e) if e.is_permission_denied() => {
            skip(&e);
            None
        }
        Err(e) => panic!("loading the freplace program: {e}"),
    }
}

#[test]
fn freplace_replaces_a_function_of_the_target() {
    kernel_test(|| {
        let spec = fixture_spec("freplace");
        let target = Arc::new(load_only(&spec, TARGET, BTreeMap::new()).unwrap());
        assert_eq!(verdict(&target), 1, "the original function");
        let Some(ext) = load_ext(&spec, &target) else {
            return Ok(());
        };
        assert_eq!(ext.attach_target(), Some("verdict"));

        // The target chosen at load time: no BTF id to give.
        let link = tracing::attach(&ext).unwrap();
        assert_eq!(verdict(&target), 42, "replaced while attached");
        let info = link.info().unwrap();
        let LinkInfoData::Tracing {
            target_obj_id,
            target_btf_id,
            ..
        } = info.data
        else {
            panic!("a tracing link: {info:?}");
        };
        // Tracing links report their target from 5.13; zeros before.
        if ebpf_test_support::kernel_version() >= ebpf::KernelVersion::new(5, 13, 0) {
            assert_eq!(target_obj_id, target.id().unwrap());
            assert_eq!(target_btf_id, target.btf_func_id("verdict").unwrap());
        } else {
            assert_eq!((target_obj_id, target_btf_id), (0, 0));
        }
        drop(link);
        assert_eq!(verdict(&target), 1, "restored when the link is dropped");

        // Attaching again names the target; the function is found by name.
        let link = tracing::attach_freplace_to(&ext, &target).unwrap();
        assert_eq!(verdict(&target), 42);
        drop(link);
        assert_eq!(verdict(&target), 1);
        Ok(())
    });
}

#[test]
fn freplace_errors_name_both_programs() {
    kernel_test(|| {
        let spec = fixture_spec("freplace");
        let target = Arc::new(load_only(&spec, TARGET, BTreeMap::new()).unwrap());

        // A function the target does not have: found missing before any load.
        let mut renamed = spec.clone();
        renamed.programs.get_mut(EXT).unwrap().attach_target = Some("nope".into());
        let targets = BTreeMap::from([(EXT.to_owned(), target.clone())]);
        let err = load_only(&renamed, EXT, targets).unwrap_err();
        let err = ebpf_link::ErrorChain(&err).to_string();
        assert!(
            err.contains(&format!("program '{EXT}'"))
                && err.contains(&format!("program '{TARGET}'"))
                && err.contains("'nope' not found"),
            "{err}"
        );

        // Without a target program.
        let err = load_only(&spec, EXT, BTreeMap::new()).unwrap_err();
        let err = ebpf_link::ErrorChain(&err).to_string();
        assert!(
            err.contains(&format!("program '{EXT}'")) && err.contains("attach_program"),
            "{err}"
        );
        Ok(())
    });
}
