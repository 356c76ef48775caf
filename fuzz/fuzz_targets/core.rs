#![no_main]
//! The whole open → spec → CO-RE path on an object (seeded with the fixtures in
//! `testdata/`): `CollectionSpec::from_elf`, then for every program what the loader
//! does before `BPF_PROG_LOAD`: CO-RE relocation against the `core_target` fixture's
//! BTF and the object's own, instruction encoding, func and line info encoding, and
//! the object BTF sanitised for an old and a new kernel and re-encoded. Everything
//! may fail, but only with an error.
use std::sync::LazyLock;

use ebpf_btf::core::Relocator;
use ebpf_btf::sanitize::{Features, sanitize};
use ebpf_btf::{CoreRelo, Endian, FuncInfo, LineInfo, MarshalOptions, Spec};
use ebpf_spec::CollectionSpec;

/// The CO-RE target: the BTF of `testdata/core_target-el.o`.
static TARGET: LazyLock<Option<std::sync::Arc<Spec>>> = LazyLock::new(|| {
    CollectionSpec::from_elf(include_bytes!("../../testdata/core_target-el.o"))
        .ok()?
        .btf
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(spec) = CollectionSpec::from_elf(data) else {
        return;
    };
    let _ = spec.dump();
    let Some(local) = spec.btf.as_deref() else {
        return;
    };
    let endian = if spec.byte_order == ebpf_asm::Endianness::Big {
        Endian::Big
    } else {
        Endian::Little
    };
    let target = TARGET.as_deref();
    let targets: Vec<&Spec> = target.into_iter().chain([local]).collect();
    let mut relocator = Relocator::new(local, &targets);
    for p in spec.programs.values() {
        let mut insns = p.instructions.clone();
        // As the loader does: relocation offsets are the instructions' places in
        // the linked program.
        let relos: Vec<CoreRelo> = insns
            .iter_offsets()
            .filter_map(|(slot, ins)| {
                let mut r = ins.metadata.get::<CoreRelo>()?.clone();
                r.insn_off = u32::try_from(slot * 8).ok()?;
                Some(r)
            })
            .collect();
        if !relos.is_empty() {
            let _ = relocator.relocate(&mut insns, &relos);
        }
        let _ = insns.marshal(spec.byte_order);
        let funcs: Vec<FuncInfo> = insns
            .iter()
            .filter_map(|i| i.metadata.get::<FuncInfo>().cloned())
            .collect();
        let lines: Vec<LineInfo> = insns
            .iter()
            .filter_map(|i| i.metadata.get::<LineInfo>().cloned())
            .collect();
        let _ = ebpf_btf::ext_info::marshal_func_info(&funcs, 0, endian);
        let _ = ebpf_btf::ext_info::marshal_line_info(&lines, 0, endian);
    }
    for features in [Features::all(), Features::for_kernel_version(5, 4)] {
        if let Ok(builder) = sanitize(local, &features) {
            let _ = builder.marshal(MarshalOptions::default());
        }
    }
});
