#![no_main]
// Split the input into a `.BTF` and a `.BTF.ext` part (first two bytes give the `.BTF`
// length) and parse the ext info against the spec; also try the whole input as ext info
// against an empty spec.
use ebpf_btf::{Builder, ExtInfo, MarshalOptions, Spec};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let n = usize::from(u16::from_le_bytes([data[0], data[1]])).min(data.len() - 2);
    let (btf, ext) = data[2..].split_at(n);
    if let Ok(spec) = Spec::parse(btf) {
        if let Ok(info) = ExtInfo::parse(ext, &spec) {
            for sec in info.sections.values() {
                for r in &sec.core_relos {
                    let _ = r.accessor();
                }
            }
        }
    }
    if let Ok(bytes) = Builder::new().marshal(MarshalOptions::default()) {
        if let Ok(empty) = Spec::parse(&bytes) {
            let _ = ExtInfo::parse(data, &empty);
        }
    }
});
