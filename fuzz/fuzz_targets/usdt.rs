#![no_main]
//! USDT notes of arbitrary ELF bytes, and the argument strings of whatever
//! parses: errors, never panics.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(probes) = ebpf_link::usdt::probes_in(data) {
        for p in probes {
            let _ = p.args();
        }
    }
});
