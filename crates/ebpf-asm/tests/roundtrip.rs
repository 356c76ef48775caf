//! Property tests: every valid encoding displays, parses back and re-encodes identically in
//! both byte orders; arbitrary bytes never panic the decoder.

use ebpf_asm::{Endianness, Error, Instruction, Instructions, OpCode, Register};

const ORDERS: [Endianness; 2] = [Endianness::Little, Endianness::Big];

fn check_round_trip(ins: &Instruction) {
    let text = ins.to_string();
    let back = ebpf_asm::parse(&text).unwrap_or_else(|e| panic!("parse {text:?} of {ins:?}: {e}"));
    assert_eq!(back.0, vec![ins.clone()], "{text:?}");
    for order in ORDERS {
        let bytes = ins.encode(order).expect("encode");
        let (dec, width) = Instruction::decode(&bytes, order).expect("decode");
        assert_eq!(dec, *ins);
        assert_eq!(width * 8, bytes.len());
    }
}

/// Every opcode byte with a spread of field values: whatever validates must round-trip,
/// whatever does not must be refused by the decoder with the opcode in the error.
#[test]
fn all_opcodes_with_field_variants() {
    let regs = [0u8, 1, 2, 10];
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
    let mut valid = 0usize;
    let mut opcodes = std::collections::BTreeSet::new();
    for code in 0..=255u8 {
        for &d in &regs {
            for &s in &regs {
                for &off in &offsets {
                    for &imm in &imms {
                        let ins = Instruction::new(
                            OpCode(code),
                            Register::from_u8(d).unwrap_or_default(),
                            Register::from_u8(s).unwrap_or_default(),
                            off,
                            imm,
                        );
                        for order in ORDERS {
                            let mut bytes = ins.encode(order).expect("encode");
                            bytes.resize(16, 0);
                            match (ins.validate(), Instruction::decode(&bytes, order)) {
                                (Ok(()), Ok((dec, _))) => assert_eq!(dec, ins),
                                (Err(_), Err(Error::InvalidInstruction { opcode, .. })) => {
                                    assert_eq!(opcode, code)
                                }
                                (v, d) => panic!("{ins:?}: validate {v:?} but decode {d:?}"),
                            }
                        }
                        if ins.validate().is_ok() {
                            valid += 1;
                            opcodes.insert(code);
                            check_round_trip(&ins);
                        } else {
                            assert_eq!(ins.to_string(), "<unknown>");
                        }
                    }
                }
            }
        }
    }
    eprintln!("{valid} valid instructions over {} opcodes", opcodes.len());
    // ALU 27, ALU64 26, JMP 27, JMP32 23, LD 7, LDX 7, ST 4, STX 8.
    assert_eq!(opcodes.len(), 129);
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
        let mut bytes: Vec<u8> = (0..len).map(|_| xorshift(&mut state) as u8).collect();
        // Bias towards known opcodes and valid registers.
        if let Some(b) = bytes.get_mut(1) {
            *b &= 0x77;
        }
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
    let err = Instructions::unmarshal(&bytes, Endianness::Little).expect_err("reserved imm");
    assert_eq!(
        err.to_string(),
        "instruction 2 at offset 3 (opcode 0x95): reserved field imm is 1, want 0"
    );
    let err = Instructions::unmarshal(&bytes[..8], Endianness::Little).expect_err("truncated");
    assert_eq!(
        err.to_string(),
        "instruction 0 at offset 0: truncated, 8 bytes left of 16"
    );
    let err = Instructions::unmarshal(&[0x0f, 0xb1, 0, 0, 0, 0, 0, 0], Endianness::Little)
        .expect_err("register");
    assert_eq!(
        err.to_string(),
        "instruction 0 at offset 0 (opcode 0x0f): invalid src register 11"
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
