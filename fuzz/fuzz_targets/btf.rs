#![no_main]
// Parse arbitrary bytes as `.BTF`, then exercise every consumer of a parsed spec:
// raw dump, C dump, size/alignment helpers, name lookups, sanitisation and marshalling
// (whose output must parse again to the same types). Lookups by exact name scan before
// the name index is built: a second parse, indexed at once, must find the same ids, for
// names from the spec and from the input's bytes (NULs and all).
use ebpf_btf::{MarshalOptions, Spec, format_c, sanitize};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(spec) = Spec::parse(data) else { return };
    if let Ok(indexed) = Spec::parse(data) {
        indexed.index_names();
        let queries = spec
            .ids()
            .take(3)
            .filter_map(|id| spec.type_name(id).ok().map(|n| n.as_bytes().to_vec()))
            .chain(data.chunks(7).take(2).map(<[u8]>::to_vec));
        for q in queries {
            let q = String::from_utf8_lossy(&q);
            assert_eq!(spec.types_by_name(&q), indexed.types_by_name(&q), "{q:?}");
        }
    }
    let _ = spec.dump_raw();
    let _ = format_c::dump_c(&spec);
    for id in spec.ids().take(256) {
        let _ = spec.sizeof(id);
        let _ = spec.alignof(id);
        let _ = spec.underlying_type(id);
        if let Ok(name) = spec.type_name(id) {
            let _ = spec.types_by_name(name);
            let _ = spec.types_by_essential_name(name);
        }
    }
    let _ = sanitize::sanitize(&spec, &sanitize::Features::none()).and_then(|b| b.marshal(MarshalOptions::default()));
    if let Ok(bytes) = spec.marshal(MarshalOptions::default()) {
        let again = Spec::parse(&bytes).expect("marshalled BTF must parse");
        assert_eq!(again.len(), spec.len());
        for (id, t) in spec.types() {
            assert_eq!(again.type_by_id(id).ok(), t.ok(), "type {id} changed in round trip");
        }
    }
});
