//! The linked fixture (`testdata/linked/{a,b,c}.c`, linked by libbpf's static linker into
//! `testdata/linked-el.o`): it loads, and every program reaches the definitions the linker
//! chose: the one weak map, the strong `pick`, each file's own static `subprog` and
//! `counter`, the externs it resolved, the weak externs the loader resolves or zeroes, and
//! a weak hidden subprogram verified as a static one, and a strong variable over a weak one.

use ebpf::{Collection, CollectionOptions, CollectionSpec, TestRunOptions};
use ebpf_test_support::kernel_test;

fn path() -> String {
    let order = if cfg!(target_endian = "big") {
        "eb"
    } else {
        "el"
    };
    format!(
        "{}/../../testdata/linked-{order}.o",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn linked_object_loads_and_runs_each_path() {
    kernel_test(|| {
        let coll = Collection::load(
            &CollectionSpec::from_file(path())?,
            CollectionOptions::default(),
        )?;
        let run = |name: &str| -> ebpf::Result<u32> {
            let opts = TestRunOptions {
                data_in: vec![0; 64],
                ..Default::default()
            };
            Ok(coll.programs[name].test_run(&opts)?.retval)
        };
        // a.c writes the weak map, b.c reads the same map.
        assert_eq!(run("weak_map_read")?, 0);
        assert_eq!(run("weak_map_write")?, 1);
        assert_eq!(run("weak_map_read")?, 42);
        // b.c's strong pick (x + 2000) over a.c's weak one (x + 1000), plus only_weak(0).
        assert_eq!(run("strong_wins")?, 2008);
        // Each file's static subprog with its own static counter (10, 20, 30).
        assert_eq!(run("statics")?, 11 + 40);
        assert_eq!(run("statics_b")?, 60);
        assert_eq!(run("statics_c")?, 70);
        // LINUX_KERNEL_VERSION set, the missing kconfig and ksym zero.
        assert_eq!(run("weak_externs")?, 1);
        // a.c's weak extern c_func, defined in c.c.
        assert_eq!(run("weak_extern_func")?, 303);
        // c.c's weak hidden store, verified in its caller's context.
        assert_eq!(run("hidden_weak")?, 5);
        // c.c's strong var_weak over a.c's weak one.
        assert_eq!(run("weak_var")?, 3);
        Ok(())
    });
}
