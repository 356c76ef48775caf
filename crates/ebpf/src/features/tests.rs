//! Every probe on the running kernel. A probe that says "not supported" on a
//! kernel at or above its declared minimum fails the test
//! (`skip_if_not_supported`); `EPERM` from a kernel in lockdown is a skip.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use ebpf_test_support::{kernel_test, skip, skip_if_not_supported};

use super::*;

/// Whether the running kernel's configuration lacks `option` (`false` when
/// the configuration cannot be read).
fn configured_out(option: &str) -> bool {
    ebpf_syscall::KernelConfig::current().is_ok_and(|c| !c.is_enabled(option))
}

/// Runs a probe: `Ok` passes, `NotSupported` goes through
/// `skip_if_not_supported`, `EPERM` (lockdown, policy) is a skip, anything
/// else fails. When `config` names a kernel option this kernel was built
/// without, the library's error must name it.
fn check_config(what: &str, config: Option<&str>, res: FeatureResult) {
    if let (Err(FeatureError::NotSupported(ns)), Some(opt)) = (&res, config) {
        if configured_out(opt) {
            assert_eq!(ns.missing_config.as_deref(), Some(opt), "{what}: {ns}");
        }
    }
    check(what, res);
}

fn check(what: &str, res: FeatureResult) {
    match res {
        Err(FeatureError::Probe {
            errno: Some(Errno::PERM),
            message,
            ..
        }) => skip(format!("{what}: refused by policy: {message}")),
        // The NotSupported itself: this unit-test build's FeatureError is not
        // the type the test helper knows.
        Err(FeatureError::NotSupported(ns)) => {
            let _ = skip_if_not_supported(Err::<(), _>(ns));
        }
        other => {
            let _ = skip_if_not_supported(other);
        }
    }
}

#[test]
fn map_types() {
    kernel_test(|| {
        for &t in MapType::ALL {
            if t.min_kernel().is_none() {
                assert!(have_map_type(t).is_err(), "{t}");
                continue;
            }
            check(&t.to_string(), have_map_type(t));
        }
        Ok(())
    });
}

#[test]
fn prog_types() {
    kernel_test(|| {
        for &t in ProgramType::ALL {
            if t.min_kernel().is_none() {
                continue;
            }
            let config = (t == ProgramType::LIRC_MODE2).then_some("CONFIG_BPF_LIRC_MODE2");
            check_config(&t.to_string(), config, have_prog_type(t));
        }
        Ok(())
    });
}

#[test]
fn helpers() {
    kernel_test(|| {
        for (t, h) in [
            (ProgramType::SOCKET_FILTER, Helper::MapLookupElem),
            (ProgramType::SOCKET_FILTER, Helper::KtimeGetNs),
            (ProgramType::XDP, Helper::XdpAdjustHead),
            (ProgramType::SCHED_CLS, Helper::SkbStoreBytes),
            (ProgramType::TRACEPOINT, Helper::GetCurrentPidTgid),
            (ProgramType::SOCKET_FILTER, Helper::RingbufOutput),
        ] {
            check(&format!("{h:?} in {t}"), have_prog_helper(t, h));
        }
        // Never allowed: the kernel refuses, which reads as "not supported".
        let res = have_prog_helper(ProgramType::SOCKET_FILTER, Helper::XdpAdjustHead);
        assert!(
            res.as_ref().is_err_and(FeatureError::is_not_supported),
            "{res:?}"
        );
        let res = have_prog_helper(ProgramType::SOCKET_FILTER, Helper::SkbStoreBytes);
        assert!(res.is_err_and(|e| e.is_not_supported()));
        Ok(())
    });
}

#[test]
fn link_kinds() {
    kernel_test(|| {
        for &k in LinkKind::ALL {
            let config = match k {
                LinkKind::KprobeMulti | LinkKind::KprobeSession => Some("CONFIG_FPROBE"),
                LinkKind::Netkit => Some("CONFIG_NETKIT"),
                _ => None,
            };
            check_config(&k.to_string(), config, have_link_kind(k));
        }
        Ok(())
    });
}

#[test]
fn btf_kinds() {
    kernel_test(|| {
        for &k in BtfKind::ALL {
            check(&k.to_string(), have_btf_kind(k));
        }
        // The loader's sanitiser works from the same probes: on a kernel with every
        // kind, nothing may be rewritten.
        let features = btf_sanitize_features();
        let version = ebpf_syscall::current_kernel().unwrap();
        if version >= KernelVersion::new(6, 0, 0) {
            assert_eq!(features, ebpf_btf::sanitize::Features::all(), "{version}");
        }
        for &k in BtfKind::ALL {
            let probed = have_btf_kind(k).is_ok();
            let in_set = match k {
                BtfKind::Int => continue,
                BtfKind::Func => features.func,
                BtfKind::FuncGlobal => features.func_global,
                BtfKind::DataSec => features.datasec,
                BtfKind::QmarkDatasec => features.qmark_datasec,
                BtfKind::Float => features.float,
                BtfKind::DeclTag => features.decl_tag,
                BtfKind::TypeTag => features.type_tag,
                BtfKind::Enum64 => features.enum64,
            };
            assert_eq!(probed, in_set, "{k}");
        }
        Ok(())
    });
}

#[test]
fn misc() {
    kernel_test(|| {
        check("bounded loops", have_bounded_loops());
        check("atomics", have_atomics());
        check("large instructions", have_large_instructions());
        check("mmapable maps", have_mmapable_maps());
        check("object names", have_object_names());
        check("object names with dots", have_object_names_with_dots());
        Ok(())
    });
}

#[test]
fn results_are_cached() {
    kernel_test(|| {
        let a = have_map_type(MapType::HASH);
        let b = have_map_type(MapType::HASH);
        assert_eq!(a, b);
        let not_probed = have_map_type(MapType::UNSPEC).unwrap_err();
        assert!(!not_probed.is_not_supported());
        Ok(())
    });
}

#[test]
fn helper_versions() {
    assert_eq!(
        helper_min_kernel(Helper::MapLookupElem),
        KernelVersion::new(3, 19, 0)
    );
    assert_eq!(
        helper_min_kernel(Helper::TailCall),
        KernelVersion::new(4, 2, 0)
    );
    assert_eq!(
        helper_min_kernel(Helper::XdpAdjustHead),
        KernelVersion::new(4, 10, 0)
    );
    assert_eq!(
        helper_min_kernel(Helper::RingbufOutput),
        KernelVersion::new(5, 8, 0)
    );
    assert_eq!(
        helper_min_kernel(Helper::GetCurrentTaskBtf),
        KernelVersion::new(5, 11, 0)
    );
    // Attach cookies came with perf-event links (5.15), timers too; dynptrs in 5.19.
    assert_eq!(
        helper_min_kernel(Helper::GetAttachCookie),
        KernelVersion::new(5, 15, 0)
    );
    assert_eq!(
        helper_min_kernel(Helper::TimerInit),
        KernelVersion::new(5, 15, 0)
    );
    assert_eq!(
        helper_min_kernel(Helper::DynptrRead),
        KernelVersion::new(5, 19, 0)
    );
    // Monotonic in the id.
    let mut last = KernelVersion::new(0, 0, 0);
    for &h in Helper::ALL.iter().skip(1) {
        let v = helper_min_kernel(h);
        assert!(v >= last, "{h}");
        last = v;
    }
}

#[test]
fn not_supported_prints_once() {
    let e = FeatureError::missing("x", KernelVersion::new(99, 0, 0));
    assert!(e.not_supported().is_some());
    assert!(std::error::Error::source(&e).is_none());
    assert_eq!(e.to_string(), e.not_supported().unwrap().to_string());
}

#[test]
fn isa_versions() {
    kernel_test(|| {
        for version in IsaVersion::ALL {
            check(&format!("{version:?}"), have_isa(*version));
        }
        Ok(())
    });
}

#[test]
fn attach_types() {
    kernel_test(|| {
        let mut probed = 0;
        for attach in AttachType::ALL {
            match have_attach_type(*attach) {
                // Attach types checked only when attaching.
                Err(FeatureError::Probe { errno: None, .. }) => {}
                res => {
                    probed += 1;
                    check(&attach.to_string(), res);
                }
            }
        }
        assert!(probed >= 20, "only {probed} attach types probed");
        Ok(())
    });
}
