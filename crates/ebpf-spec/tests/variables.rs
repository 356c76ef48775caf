//! Variables: which symbols become variables, and editing their bytes before load.

use std::path::Path;

use ebpf_spec::CollectionSpec;

fn open(name: &str) -> CollectionSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name);
    CollectionSpec::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn global_non_hidden_symbols_only() {
    let spec = open("loader-el.o");
    let names: Vec<&str> = spec.variables.keys().map(String::as_str).collect();
    // `hidden_global` is hidden and `hidden_static` static: neither is a variable.
    assert_eq!(
        names,
        [
            "bss_total",
            "const_limit",
            "counter",
            "fentry_busy",
            "foo_value",
            "greeting",
            "last_event"
        ]
    );
    let v = &spec.variables["greeting"];
    assert_eq!((v.section.as_str(), v.offset, v.size), (".rodata", 4, 6));
    assert_eq!(
        spec.variable_bytes("greeting").expect("greeting"),
        b"hello\0"
    );
    assert!(v.type_id.is_some());
}

#[test]
fn variables_without_btf_have_no_type() {
    let spec = open("nobtf-eb.o");
    let v = &spec.variables["nobtf_counter"];
    assert_eq!((v.section.as_str(), v.size, v.type_id), (".bss", 8, None));
}

#[test]
fn set_rewrites_the_data_map() {
    let mut spec = open("loader-eb.o");
    assert_eq!(
        spec.variable_bytes("const_limit").expect("read"),
        42u32.to_be_bytes()
    );
    spec.set_variable("const_limit", &1u32.to_be_bytes())
        .expect("set");
    spec.set_variable("bss_total", &[0xff; 8])
        .expect("set .bss");
    let rodata = spec.maps[".rodata"].data().expect("rodata");
    assert_eq!(&rodata[..4], 1u32.to_be_bytes());
    assert_eq!(spec.maps[".bss"].data().expect("bss")[..8], [0xff; 8]);
    // A clone is independent.
    let copy = spec.clone();
    spec.set_variable("const_limit", &2u32.to_be_bytes())
        .expect("set");
    assert_eq!(
        copy.variable_bytes("const_limit").expect("read"),
        1u32.to_be_bytes()
    );
}

#[test]
fn set_errors() {
    let mut spec = open("loader-el.o");
    let e = spec
        .set_variable("const_limit", &[1, 2])
        .expect_err("short value");
    assert_eq!(
        e.to_string(),
        "variable 'const_limit': value has 2 bytes, variable has 4"
    );
    let e = spec.variable_bytes("nope").expect_err("unknown");
    assert_eq!(e.to_string(), "variable 'nope': no such variable");
    spec.maps.remove(".data");
    let e = spec.variable_bytes("counter").expect_err("map removed");
    assert_eq!(
        e.to_string(),
        "variable 'counter': section '.data' has no data map"
    );
}

#[test]
fn btf_datasecs_are_fixed_up() {
    let spec = open("loader-el.o");
    let btf = spec.btf.as_ref().expect("btf");
    let (_, bss) = btf.type_by_name::<ebpf_btf::Datasec>(".bss").expect(".bss");
    assert_eq!(bss.size, 48);
    let offsets: Vec<u32> = bss.vars.iter().map(|v| v.offset).collect();
    assert_eq!(offsets, [0, 8, 16]);
    let (_, kconfig) = btf
        .type_by_name::<ebpf_btf::Datasec>(".kconfig")
        .expect(".kconfig");
    assert_eq!(kconfig.size, 9);
    assert_eq!(spec.maps[".kconfig"].value_size, 9);
}
