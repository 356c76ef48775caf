//! Objects with instructions only the verifier may judge (`testdata/raw_insns.c`: a register
//! number above 10, non-zero reserved fields, an undefined opcode) open, and every bit of
//! those instructions survives into the program, in both byte orders.

use std::path::Path;

use ebpf_asm::{Endianness, Register};
use ebpf_spec::CollectionSpec;

fn open(name: &str) -> (CollectionSpec, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = CollectionSpec::from_elf(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    (spec, bytes)
}

/// Each program, its first odd instruction's index, the reason `validate` gives, and the
/// instruction's little-endian bytes.
const CASES: [(&str, usize, &str, [u8; 8]); 5] = [
    (
        "invalid_src_register",
        0,
        "invalid src register 15",
        [0xbf, 0xf0, 0, 0, 0, 0, 0, 0],
    ),
    (
        "invalid_dst_register",
        1,
        "invalid dst register 11",
        [0x7b, 0x0b, 0xf9, 0xff, 0, 0, 0, 0],
    ),
    (
        "reserved_offset",
        1,
        "invalid offset -1 for this opcode",
        [0x3f, 0, 0xff, 0xff, 0, 0, 0, 0],
    ),
    (
        "reserved_imm",
        1,
        "reserved field imm is 1, want 0",
        [0x95, 0, 0, 0, 1, 0, 0, 0],
    ),
    (
        "unknown_opcode",
        1,
        "unknown opcode 0xff",
        [0xff, 0, 0, 0, 0, 0, 0, 0],
    ),
];

/// The big-endian encoding of a little-endian slot: register nibbles swapped, offset and
/// immediate reversed.
fn big_endian(mut slot: [u8; 8]) -> [u8; 8] {
    slot[1] = slot[1].rotate_left(4);
    slot[2..4].reverse();
    slot[4..8].reverse();
    slot
}

#[test]
fn undefined_encodings_open_and_keep_their_bits() {
    for (file, order) in [
        ("raw_insns-el.o", Endianness::Little),
        ("raw_insns-eb.o", Endianness::Big),
    ] {
        let (spec, elf) = open(file);
        assert_eq!(spec.programs.len(), CASES.len(), "{file}");
        for (name, index, reason, le) in CASES {
            let p = &spec.programs[name];
            let ins = &p.instructions[index];
            assert_eq!(
                ins.validate().map_err(|e| e.to_string()),
                Err(reason.to_owned()),
                "{file}: {name}"
            );
            let want = match order {
                Endianness::Little => le,
                Endianness::Big => big_endian(le),
            };
            assert_eq!(ins.encode(order).expect("encode"), want, "{file}: {name}");
            // The whole program encodes to bytes found verbatim in the object.
            let bytes = p.instructions.marshal(order).expect("marshal");
            assert!(
                elf.windows(bytes.len()).any(|w| w == bytes),
                "{file}: {name}: encoded program not found in the object"
            );
            let text = p.instructions.to_string();
            assert_eq!(
                ebpf_asm::parse(&text).expect("parse"),
                p.instructions,
                "{file}: {name}: {text}"
            );
        }
        let src = spec.programs["invalid_src_register"].instructions[0].src;
        assert_eq!((src, src.is_defined()), (Register::R15, false));
    }
}
