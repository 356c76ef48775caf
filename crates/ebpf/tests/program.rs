//! Programs loaded from raw instructions and specs: test runs, info, pins, ids.

use ebpf::{Program, ProgramOptions, ProgramSpec, ProgramType, TestRunOptions};
use ebpf_asm::{Register::*, exit, mov64};
use ebpf_test_support::{BpfFs, kernel_test};

fn ret(n: i32) -> Program {
    Program::load_raw(
        ProgramType::SOCKET_FILTER,
        vec![mov64(R0, n), exit()].into(),
        "GPL",
    )
    .unwrap()
}

#[test]
fn test_run_socket_filter() {
    kernel_test(|| {
        let p = ret(42);
        assert_eq!(p.name(), "raw");
        assert_eq!(p.program_type(), ProgramType::SOCKET_FILTER);
        let r = p
            .test_run(&TestRunOptions {
                data_in: vec![1; 64],
                data_out_size: 128,
                repeat: 3,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.retval, 42);
        assert_eq!(r.data_out.len(), 64);
        Ok(())
    });
}

#[test]
fn test_run_xdp_reads_packet() {
    kernel_test(|| {
        // XDP_PASS: the packet comes back unchanged.
        let mut spec = ProgramSpec::new("xdp_pass", "xdp", vec![mov64(R0, 2), exit()].into());
        spec.license = "GPL".into();
        let p = Program::load(&spec, &ProgramOptions::default()).unwrap();
        let r = p
            .test_run(&TestRunOptions {
                data_in: vec![0xab; 64],
                data_out_size: 64,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.retval, 2);
        assert_eq!(r.data_out, vec![0xab; 64]);
        Ok(())
    });
}

#[test]
fn info_and_ids() {
    kernel_test(|| {
        let p = ret(1);
        let info = p.info().unwrap();
        assert_eq!(info.name, "raw");
        assert!(info.xlated_size >= 16);
        assert_eq!(info.tag_hex().len(), 16);
        assert!(matches!(info.program_type, ProgramType::SOCKET_FILTER));
        let ids: Vec<u32> = ebpf::info::program_ids().map(Result::unwrap).collect();
        assert!(ids.contains(&info.id));
        let again = Program::from_id(info.id).unwrap();
        assert_eq!(again.info().unwrap().tag, info.tag);
        let xlated = p.xlated_instructions().unwrap();
        assert_eq!(xlated.len(), 2, "{xlated:?}");
        let dup = p.try_clone().unwrap();
        assert_eq!(dup.id().unwrap(), info.id);
        Ok(())
    });
}

#[test]
fn pin_and_reopen() {
    kernel_test(|| {
        let fs = BpfFs::new().unwrap();
        let path = fs.path().join("prog");
        let mut p = ret(5);
        p.pin(&path).unwrap();
        let q = Program::from_pin(&path).unwrap();
        assert_eq!(q.id().unwrap(), p.id().unwrap());
        assert_eq!(
            q.test_run(&TestRunOptions {
                data_in: vec![0; 16],
                ..Default::default()
            })
            .unwrap()
            .retval,
            5
        );
        p.unpin().unwrap();
        assert!(!path.exists());
        Ok(())
    });
}

#[test]
fn verifier_log_on_success() {
    kernel_test(|| {
        let mut spec = ProgramSpec::new("logged", "socket", vec![mov64(R0, 0), exit()].into());
        spec.license = "GPL".into();
        let p = Program::load(
            &spec,
            &ProgramOptions {
                log_level: ebpf::LogLevel::STATS,
                ..Default::default()
            },
        )
        .unwrap();
        let log = p.verifier_log().expect("log kept");
        assert!(log.as_str().contains("processed"), "{}", log.as_str());
        Ok(())
    });
}

#[test]
fn unresolved_map_reference_is_an_error() {
    kernel_test(|| {
        let mut spec = ProgramSpec::new(
            "uses_map",
            "socket",
            vec![
                ebpf_asm::load_map_fd(R1, 0).with_reference("nope"),
                mov64(R0, 0),
                exit(),
            ]
            .into(),
        );
        spec.license = "GPL".into();
        let e = Program::load(&spec, &ProgramOptions::default()).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e).to_string().contains("map 'nope"),
            "{e}"
        );
        Ok(())
    });
}

#[test]
fn handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<ebpf::Map>();
    check::<Program>();
    check::<ebpf::Collection>();
    check::<ebpf::Variable>();
    check::<ebpf::Error>();
}

#[test]
fn section_name_is_kept() {
    kernel_test(|| {
        let mut spec = ProgramSpec::new("sec", "socket", vec![mov64(R0, 0), exit()].into());
        spec.license = "GPL".into();
        let p = Program::load(&spec, &ProgramOptions::default()).unwrap();
        assert_eq!(p.section_name(), Some("socket"));
        assert_eq!(
            Program::from_id(p.id().unwrap()).unwrap().section_name(),
            None
        );
        Ok(())
    });
}

#[test]
fn unknown_section_is_an_error() {
    kernel_test(|| {
        let spec = ProgramSpec::new("what", "no_such_section", vec![mov64(R0, 0), exit()].into());
        let e = Program::load(&spec, &ProgramOptions::default()).unwrap_err();
        assert!(
            ebpf::ErrorChain(&e).to_string().contains("no program type"),
            "{e}"
        );
        Ok(())
    });
}
