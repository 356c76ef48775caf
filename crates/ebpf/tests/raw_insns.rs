//! Instructions only the verifier may judge (`testdata/raw_insns.c`) reach the kernel as
//! they are, and each program fails with the verifier's own message for them.

use ebpf::{CollectionSpec, Program, ProgramOptions};
use ebpf_test_support::kernel_test;

#[test]
fn the_verifier_judges_undefined_encodings() {
    kernel_test(|| {
        let path = format!(
            "{}/../../testdata/raw_insns-{}.o",
            env!("CARGO_MANIFEST_DIR"),
            if cfg!(target_endian = "big") {
                "eb"
            } else {
                "el"
            }
        );
        let spec = CollectionSpec::from_file(path)?;
        for (name, message) in [
            ("invalid_src_register", "R15 is invalid"),
            ("invalid_dst_register", "R11 is invalid"),
            ("reserved_offset", "BPF_ALU uses reserved fields"),
            ("reserved_imm", "BPF_EXIT uses reserved fields"),
            ("unknown_opcode", "unknown opcode ff"),
        ] {
            let err = Program::load(&spec.programs[name], &ProgramOptions::default())
                .expect_err("the verifier refuses it");
            let log = &err
                .verifier()
                .unwrap_or_else(|| panic!("{name}: not a verifier error: {err}"))
                .log;
            assert!(log.as_str().contains(message), "{name}: {log}");
        }
        Ok(())
    });
}
