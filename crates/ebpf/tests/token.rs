//! BPF tokens: an unprivileged user in a user namespace creates a token from
//! a bpffs delegated to it, loads a collection with it (BTF, maps, global
//! data, a program) and runs the program.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use ebpf::token::Token;
use ebpf::{Collection, CollectionOptions, CollectionSpec, TestRunOptions};
use ebpf_syscall::bpffs::Delegation;
use ebpf_syscall::{KernelVersion, NotSupported};
use ebpf_test_support::{UsernsOutcome, in_delegated_userns, kernel_test, kernel_version, skip};

fn fixture() -> CollectionSpec {
    let order = if cfg!(target_endian = "little") {
        "el"
    } else {
        "eb"
    };
    let path = format!(
        "{}/../../testdata/token-{order}.o",
        env!("CARGO_MANIFEST_DIR")
    );
    CollectionSpec::from_file(path).unwrap()
}

/// Inside the namespace, as an unprivileged user: a token, the collection,
/// one run of the program.
fn load_and_run(spec: &CollectionSpec, mount: OwnedFd) -> Result<(), String> {
    // Without the token, loading is refused (no CAP_BPF in the initial namespace).
    let refused =
        ebpf::token::without_token(|| Collection::load(spec, CollectionOptions::default()));
    match refused {
        Err(e) if e.is_permission_denied() => {}
        Err(e) => return Err(format!("without a token: not EPERM: {e}")),
        Ok(_) => return Err("loaded without a token".into()),
    }
    // The mount, reopened by path like a bpffs mount point (/proc/self/fd/N).
    let token = Token::from_path(format!("/proc/self/fd/{}", mount.as_raw_fd()))
        .map_err(|e| format!("token: {e}"))?;
    let opts = CollectionOptions {
        token: Some(Arc::new(token)),
        ..Default::default()
    };
    let mut coll = Collection::load(spec, opts).map_err(|e| format!("load: {e}"))?;
    let prog = coll
        .take_program("count_runs")
        .map_err(|e| ebpf::ErrorChain(&e).to_string())?;
    let res = prog
        .test_run(&TestRunOptions {
            data_in: vec![0; 64],
            repeat: 3,
            ..Default::default()
        })
        .map_err(|e| format!("test run: {e}"))?;
    if res.retval != 42 {
        return Err(format!("returned {}, not 42 (.rodata)", res.retval));
    }
    let runs: Option<u64> = coll.maps["runs"]
        .get(&0u32)
        .map_err(|e| ebpf::ErrorChain(&e).to_string())?;
    if runs != Some(3) {
        return Err(format!("runs map holds {runs:?}, not 3"));
    }
    let total = coll.variables["total"]
        .bytes()
        .map_err(|e| ebpf::ErrorChain(&e).to_string())?;
    if total != 6u64.to_ne_bytes() {
        return Err(format!("total is {total:?}, not 6"));
    }
    Ok(())
}

#[test]
fn unprivileged_user_loads_and_runs_with_a_token() {
    kernel_test(|| {
        if kernel_version() < KernelVersion::new(6, 9, 0) {
            return Err(NotSupported::new("BPF tokens", KernelVersion::new(6, 9, 0)).into());
        }
        let spec = fixture();
        match in_delegated_userns(&Delegation::any(), |mount| load_and_run(&spec, mount)) {
            UsernsOutcome::Passed => {}
            UsernsOutcome::Refused(why) => skip(format!("the host refused: {why}")),
            UsernsOutcome::Failed(why) => panic!("{why}"),
        }
        Ok(())
    });
}

#[test]
fn a_bpffs_without_delegation_gives_no_token() {
    kernel_test(|| {
        if kernel_version() < KernelVersion::new(6, 9, 0) {
            return Err(NotSupported::new("BPF tokens", KernelVersion::new(6, 9, 0)).into());
        }
        // In the initial user namespace: EOPNOTSUPP (or ENOENT without delegation).
        let fs = ebpf_test_support::BpfFs::new()?;
        let err = Token::from_path(fs.path()).unwrap_err();
        assert!(
            ebpf::ErrorChain(&err)
                .to_string()
                .starts_with(&format!("BPF_TOKEN_CREATE from {}: ", fs.path().display())),
            "{err}"
        );
        Ok(())
    });
}

/// libbpf's variable: with `$LIBBPF_BPF_TOKEN_PATH` naming a delegated bpffs,
/// a collection loaded with default options uses its token, with nothing in
/// the code.
#[test]
fn the_token_path_variable_is_picked_up() {
    kernel_test(|| {
        if kernel_version() < KernelVersion::new(6, 9, 0) {
            return Err(NotSupported::new("BPF tokens", KernelVersion::new(6, 9, 0)).into());
        }
        let spec = fixture();
        let body = |mount: OwnedFd| -> Result<(), String> {
            let path = format!("/proc/self/fd/{}", mount.as_raw_fd());
            // SAFETY: in_delegated_userns runs this body in a forked child,
            // which has this one thread: nothing else reads or writes the
            // environment while it is changed, and the default token has not
            // been looked up yet in this process image.
            let set = |value: &str| {
                // SAFETY: as above: the child's only thread.
                unsafe { std::env::set_var(ebpf::token::TOKEN_PATH_ENV, value) }
            };
            // A path without a delegated bpffs is an error naming the variable.
            set("/nonexistent-bpffs");
            match Collection::load(&spec, CollectionOptions::default()) {
                Err(e)
                    if ebpf::ErrorChain(&e).to_string().starts_with(
                        "BPF token from LIBBPF_BPF_TOKEN_PATH=/nonexistent-bpffs: ",
                    ) => {}
                Err(e) => return Err(format!("bad path: {}", ebpf::ErrorChain(&e))),
                Ok(_) => return Err("loaded with a bad token path".into()),
            }
            // An empty value: no token, so refused here.
            set("");
            match Collection::load(&spec, CollectionOptions::default()) {
                Err(e) if e.is_permission_denied() => {}
                Err(e) => return Err(format!("empty path: not EPERM: {}", ebpf::ErrorChain(&e))),
                Ok(_) => return Err("loaded without a token".into()),
            }
            set(&path);
            let mut coll = Collection::load(&spec, CollectionOptions::default()).map_err(|e| {
                format!(
                    "load, token from the variable ({path}): {}",
                    ebpf::ErrorChain(&e)
                )
            })?;
            let prog = coll
                .take_program("count_runs")
                .map_err(|e| ebpf::ErrorChain(&e).to_string())?;
            let res = prog
                .test_run(&TestRunOptions {
                    data_in: vec![0; 64],
                    ..Default::default()
                })
                .map_err(|e| format!("test run: {}", ebpf::ErrorChain(&e)))?;
            if res.retval != 42 {
                return Err(format!("returned {}, not 42 (.rodata)", res.retval));
            }
            Ok(())
        };
        match in_delegated_userns(&Delegation::any(), body) {
            UsernsOutcome::Passed => {}
            UsernsOutcome::Refused(why) => skip(format!("the host refused: {why}")),
            UsernsOutcome::Failed(why) => panic!("{why}"),
        }
        Ok(())
    });
}
