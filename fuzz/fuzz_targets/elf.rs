#![no_main]
//! `CollectionSpec::from_elf` on arbitrary bytes: it may fail, but only with an error.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(spec) = ebpf_spec::CollectionSpec::from_elf(data) {
        // Exercise the read paths over whatever was parsed.
        let _ = spec.dump();
        for name in spec.variables.keys() {
            let _ = spec.variable_bytes(name);
        }
    }
});
