#![no_main]
//! Decodes arbitrary bytes in both byte orders; whatever decodes must display, parse back to
//! the same instructions and re-encode to the same bytes. Arbitrary text must not panic the
//! assembler, and text that parses must display as text that parses the same.

use ebpf_asm::{Endianness, Instructions};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for order in [Endianness::Little, Endianness::Big] {
        let Ok(insns) = Instructions::unmarshal(data, order) else {
            continue;
        };
        let bytes = insns.marshal(order).expect("marshal decoded instructions");
        assert_eq!(bytes, data, "re-encoding differs");
        for ins in insns.iter() {
            let text = ins.to_string();
            let back = ebpf_asm::parse(&text).unwrap_or_else(|e| panic!("parse {text:?}: {e}"));
            assert_eq!(*back, vec![ins.clone()], "round trip of {text:?}");
        }
        let listing = format!("{insns:#}");
        assert_eq!(ebpf_asm::parse(&listing).expect("parse listing"), insns);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(insns) = ebpf_asm::parse(text) {
            let again = ebpf_asm::parse(&insns.to_string()).expect("parse displayed text");
            assert_eq!(again, insns, "parse -> display -> parse");
            let _ = insns.marshal(Endianness::Little);
        }
    }
});
