//! `comm_filter` is built for both byte orders (see `build.rs`): its skeleton
//! embeds the object of the target's byte order, and the other object has the
//! same programs, maps and global variable layout, so the generated types fit
//! both. No kernel needed.

mod comm_filter {
    include!(concat!(env!("OUT_DIR"), "/comm_filter.skel.rs"));
}

use ebpf::CollectionSpec;

fn object(order: &str) -> Vec<u8> {
    let path = format!("{}/comm_filter.{order}.o", env!("OUT_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn skeleton_embeds_the_object_of_the_targets_byte_order() {
    let (el, eb) = (object("bpfel"), object("bpfeb"));
    // ELF EI_DATA: 1 little-endian, 2 big-endian.
    assert_eq!((el[5], eb[5]), (1, 2));
    let host = if cfg!(target_endian = "little") {
        &el
    } else {
        &eb
    };
    assert!(comm_filter::OBJECT == host.as_slice());
}

#[test]
fn both_objects_fit_the_generated_types() {
    for order in ["bpfel", "bpfeb"] {
        let spec = CollectionSpec::from_elf(&object(order)).expect(order);
        let mut progs: Vec<&String> = spec.programs.keys().collect();
        progs.sort();
        assert_eq!(progs, ["count_syscall"], "{order}");
        let counts = &spec.maps["counts"];
        assert_eq!(
            (counts.key_size, counts.value_size),
            (
                size_of::<comm_filter::Key>() as u32,
                size_of::<u64>() as u32
            ),
            "{order}"
        );
        // The skeleton opens either object: `.rodata` decodes as the
        // generated `Rodata`, with the C initial value.
        let skel = comm_filter::CommFilterSkel::from_spec(spec).expect(order);
        assert_eq!(skel.rodata().target_comm, [0; 16], "{order}");
    }
}
