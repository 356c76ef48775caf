//! Property tests: every encoding, valid or not, decodes, displays, parses back and re-encodes
//! identically in both byte orders; arbitrary bytes never panic the decoder.

use ebpf_asm::{Endianness, Instruction, Instructions, OpCode, Register};

const ORDERS: [Endianness; 2] = [Endianness::Little, Endianness::Big];

fn check_round_trip(ins: &Instruction) {
    let text = ins.to_string();
    let back = ebpf_asm::parse(&text).unwrap_or_else(|e| panic!("parse {text:?} of {ins:?}: {e}"));
    assert_eq!(*back, vec![ins.clone()], "{text:?}");
    for order in ORDERS {
        let bytes = ins.encode(order).expect("encode");
        let (dec, width) = Instruction::decode(&bytes, order).expect("decode");
        assert_eq!(dec, *ins);
        assert_eq!(width * 8, bytes.len());
    }
}

/// Every opcode byte with a spread of field values and register numbers (11 and 15 name no
/// register): everything decodes to what was encoded and round-trips through text; what
/// validates is shown in assembler syntax, the rest in the raw form.
#[test]
fn all_opcodes_with_field_variants() {
    let regs = [0u8, 1, 2, 10, 11, 15];
    let offsets = [0i16, 1, -1, 8, 16, 32, i16::MIN, i16::MAX];
    let imms = [
        0i64,
        1,
        -1,
        16,
        32,
        64,
        0x100,
        0x110,
        0xe1,
        0xf1,
        0x51,
        i64::from(i32::MIN),
        i64::from(i32::MAX),
    ];
    let (mut valid, mut invalid) = (0usize, 0usize);
    let mut opcodes = std::collections::BTreeSet::new();
    for code in 0..=255u8 {
        for &d in &regs {
            for &s in &regs {
                for &off in &offsets {
                    for &imm in &imms {
                        let ins = Instruction::new(
                            OpCode(code),
                            Register::from_bits(d),
                            Register::from_bits(s),
                            off,
                            imm,
                        );
                        check_round_trip(&ins);
                        if ins.validate().is_ok() {
                            valid += 1;
                            opcodes.insert(code);
                            assert!(!ins.to_string().starts_with("raw("), "{ins:?}");
                        } else {
                            invalid += 1;
                            assert!(ins.to_string().starts_with("raw("), "{ins:?}");
                        }
                    }
                }
            }
        }
    }
    eprintln!(
        "{valid} valid and {invalid} invalid instructions, {} opcodes valid",
        opcodes.len()
    );
    // ALU 27, ALU64 26, JMP 27, JMP32 23, LD 7, LDX 7, ST 4, STX 8.
    assert_eq!(opcodes.len(), 129);
}

/// Register fields 11-15, as the kernel selftests write them with `.8byte` (`verifier_uninit`:
/// `BPF_MOV64_REG(BPF_REG_0, -1)`), byte for byte in both orders.
#[test]
fn undefined_registers_and_reserved_fields_keep_their_bits() {
    // (little-endian bytes, text)
    let cases: [([u8; 8], &str); 4] = [
        (
            [0xbf, 0xf0, 0, 0, 0, 0, 0, 0],
            "raw(op=0xbf, dst=r0, src=r15, off=0x0, imm=0x0)",
        ),
        (
            [0x7b, 0x0b, 0xf9, 0xff, 0, 0, 0, 0],
            "raw(op=0x7b, dst=r11, src=r0, off=-0x7, imm=0x0)",
        ),
        (
            [0x3f, 0x00, 0xff, 0xff, 0, 0, 0, 0],
            "raw(op=0x3f, dst=r0, src=r0, off=-0x1, imm=0x0)",
        ),
        (
            [0x95, 0x00, 0, 0, 1, 0, 0, 0],
            "raw(op=0x95, dst=r0, src=r0, off=0x0, imm=0x1)",
        ),
    ];
    for (le, text) in cases {
        let mut be = le;
        be[1] = be[1].rotate_left(4);
        be[2..4].reverse();
        be[4..8].reverse();
        for (order, bytes) in [(Endianness::Little, le), (Endianness::Big, be)] {
            let (ins, width) = Instruction::decode(&bytes, order).expect("decode");
            assert_eq!(width, 1);
            assert!(ins.validate().is_err(), "{text}");
            assert_eq!(ins.to_string(), text);
            assert_eq!(ins.encode(order).expect("encode"), bytes);
            check_round_trip(&ins);
        }
    }
    let ins = Instruction::decode(&[0xbf, 0xf0, 0, 0, 0, 0, 0, 0], Endianness::Little)
        .expect("decode")
        .0;
    assert_eq!(
        ins.validate().map_err(|e| e.to_string()),
        Err("invalid src register 15".to_string())
    );
    // A pseudo source no kernel defines, in an ld_imm64 and a call.
    for ins in [
        Instruction::new(OpCode::LOAD_IMM64, Register::R1, Register::R7, 0, -1),
        Instruction::new(OpCode(0x85), Register::R0, Register::R3, 0, 1),
    ] {
        assert!(ins.validate().is_err());
        check_round_trip(&ins);
    }
}

/// 64-bit immediates of every pseudo source.
#[test]
fn load_imm64_values() {
    for src in 0..=6u8 {
        for value in [
            0i64,
            1,
            -1,
            i64::MIN,
            i64::MAX,
            0x1_0000_0000,
            0xffff_ffff,
            0x1234_5678_9abc_def0,
        ] {
            let ins = Instruction::new(
                OpCode::LOAD_IMM64,
                Register::R3,
                Register::from_u8(src).unwrap_or_default(),
                0,
                value,
            );
            check_round_trip(&ins);
        }
    }
}

/// A small deterministic generator (xorshift) so the test needs no dependency.
fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut decoded = 0;
    for _ in 0..20_000 {
        let len = (xorshift(&mut state) % 40) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| xorshift(&mut state) as u8).collect();

        for order in ORDERS {
            if let Ok(insns) = Instructions::unmarshal(&bytes, order) {
                decoded += 1;
                assert_eq!(insns.marshal(order).expect("marshal"), bytes);
                let text = insns.to_string();
                assert_eq!(ebpf_asm::parse(&text).expect("parse"), insns);
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = ebpf_asm::parse(&text);
    }
    assert!(decoded > 0);
}

#[test]
fn error_messages_name_index_and_offset() {
    let mut bytes = Instructions::from(vec![
        ebpf_asm::load_imm64(Register::R1, 5),
        ebpf_asm::exit(),
    ])
    .marshal(Endianness::Little)
    .expect("marshal");
    bytes.extend_from_slice(&[0x95, 0, 0, 0, 1, 0, 0, 0]);
    bytes.extend_from_slice(&[0x18, 0, 0, 0, 0, 0, 0, 0]);
    let err = Instructions::unmarshal(&bytes, Endianness::Little).expect_err("truncated");
    assert_eq!(
        err.to_string(),
        "instruction 3 at offset 4: truncated, 8 bytes left of 16"
    );
    bytes.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    let err = Instructions::unmarshal(&bytes, Endianness::Little).expect_err("second half");
    assert_eq!(
        err.to_string(),
        "instruction 3 at offset 4: bad second half of ld_imm64 0x0001000000000000"
    );
}

/// Text that parses displays as text that parses to the same instructions.
#[test]
fn parse_display_parse_is_stable() {
    let mut state = 0x1234_5678_9abc_def1u64;
    let pieces = [
        "r1",
        "w2",
        "r10",
        " = ",
        " += ",
        " s>>= ",
        "*(u32 *)",
        "*(s8 *)",
        "(r1 + 0x4)",
        "(r2 - 8)",
        " ll",
        "0x10",
        "-1",
        "goto",
        " +3",
        " -0x2",
        "if ",
        " == ",
        " s< ",
        " & ",
        "call ",
        "pc",
        "kfunc ",
        "bpf_ktime_get_ns",
        "exit",
        "lock ",
        "skb[",
        "]",
        "be16 ",
        "bswap64 ",
        "(s16)",
        "-",
        "\n",
        "l:",
        " l",
        "gotol ",
        "may_goto ",
        ", ",
        "atomic_fetch_or(",
        "(u64 *)",
        ")",
        "ld_pseudo ",
        "2",
        "xchg_64(",
        "cmpxchg32_32(",
        "r0",
        "w0",
    ];
    let mut parsed = 0;
    for _ in 0..50_000 {
        let n = 1 + xorshift(&mut state) % 8;
        let text: String = (0..n)
            .map(|_| pieces[(xorshift(&mut state) % pieces.len() as u64) as usize])
            .collect();
        if let Ok(insns) = ebpf_asm::parse(&text) {
            parsed += 1;
            let again = ebpf_asm::parse(&insns.to_string())
                .unwrap_or_else(|e| panic!("{text:?} -> {insns}: {e}"));
            assert_eq!(again, insns, "{text:?}");
        }
    }
    assert!(parsed > 100, "{parsed}");
}
