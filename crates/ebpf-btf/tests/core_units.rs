//! Unit-level tests of the CO-RE engine on hand-built BTF: accessor parsing, bitfield
//! shifts in both byte orders, candidate search, every kind, patching rules, poisoning
//! and the verifier-log scanner (the compatibility relations are in `core_compat.rs`).

use std::sync::Arc;

use ebpf_asm::{Endianness, Instruction, OpCode, Register, load_imm64, load_mem, store_imm};
use ebpf_btf::core::*;
use ebpf_btf::*;

mod core_common;
use core_common::*;

fn build_endian(b: &Builder, endian: Endian) -> Spec {
    Spec::parse(
        &b.marshal(MarshalOptions {
            endian: Some(endian),
        })
        .unwrap(),
    )
    .unwrap()
}

fn relo(type_id: TypeId, access: &str, kind: CoreReloKind) -> CoreRelo {
    CoreRelo {
        insn_off: 0,
        type_id,
        access: access.into(),
        kind,
    }
}

fn calc(
    local: &Spec,
    targets: &[&Spec],
    id: TypeId,
    access: &str,
    kind: CoreReloKind,
) -> Result<Fixup, CoreError> {
    Relocator::new(local, targets).calculate(0, &relo(id, access, kind))
}

// ---------------------------------------------------------------- accessors

#[test]
fn core_accessor_parsing() {
    assert_eq!(parse_accessor("0").unwrap(), vec![0]);
    assert_eq!(parse_accessor("0:1:20:3").unwrap(), vec![0, 1, 20, 3]);
    assert_eq!(parse_accessor(""), Err(AccessorError::Empty));
    for (bad, pos) in [
        (":0", 0),
        ("0:", 1),
        ("0::1", 1),
        ("0:-1", 1),
        ("0:a", 1),
        ("+1", 0),
        (" 1", 0),
        ("4294967296", 0),
    ] {
        match parse_accessor(bad) {
            Err(AccessorError::BadIndex { pos: p, .. }) => assert_eq!(p, pos, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    let long = vec!["0"; MAX_ACCESSOR_LEN].join(":");
    assert_eq!(parse_accessor(&long).unwrap().len(), MAX_ACCESSOR_LEN);
    let too_long = format!("{long}:0");
    assert!(matches!(
        parse_accessor(&too_long),
        Err(AccessorError::TooLong { max: 64, .. })
    ));
    assert_eq!(
        parse_accessor("0:x").unwrap_err().to_string(),
        "accessor \"0:x\": component 1 is not an index"
    );
}

/// `struct s { int a; struct { int x; union { char c; long l; }; }; int arr[4]; int flex[]; }`
fn nested() -> (Builder, TypeId, TypeId) {
    let mut b = Builder::new();
    let i = b.add(int("int", 4, IntEncoding::Signed)); // 1
    let c = b.add(int("char", 1, IntEncoding::Char)); // 2
    let l = b.add(int("long", 8, IntEncoding::Signed)); // 3
    let u = b.add(un("", 8, vec![m("c", c, 0, 0), m("l", l, 0, 0)])); // 4
    let anon = b.add(st("", 16, vec![m("x", i, 0, 0), m("", u, 64, 0)])); // 5
    let a4 = b.add(arr(i, i, 4)); // 6
    let a0 = b.add(arr(i, i, 0)); // 7
    let s = b.add(st(
        "s",
        40,
        vec![
            m("a", i, 0, 0),
            m("", anon, 64, 0),
            m("arr", a4, 192, 0),
            m("flex", a0, 320, 0),
        ],
    )); // 8
    (b, s, i)
}

#[test]
fn core_spec_resolution() {
    let (b, s, i) = nested();
    let spec = build(&b);
    let k = CoreReloKind::FieldByteOffset;
    let p = parse_spec(&spec, s, "0:1:1:1", k).unwrap();
    assert_eq!(p.path(), "struct s.l");
    assert_eq!(p.describe(), "[8] struct s.l (0:1:1:1 @ offset 16)");
    assert_eq!(p.raw, [0, 1, 1, 1]);
    assert_eq!(
        p.accessors.len(),
        2,
        "anonymous members are not high-level steps"
    );
    let p = parse_spec(&spec, s, "1:2:3", k).unwrap();
    assert_eq!(p.describe(), "[8] struct s[1].arr[3] (1:2:3 @ offset 76)");
    // A flexible array (last member, 0 elements) may be indexed past its end.
    let p = parse_spec(&spec, s, "0:3:7", k).unwrap();
    assert_eq!(p.bit_offset, (40 + 28) * 8);
    let err = |a: &str| parse_spec(&spec, s, a, k).unwrap_err().to_string();
    assert_eq!(
        err("0:2:4"),
        "accessor \"0:2:4\": component 2 (4) out of range for [6] array <anon>"
    );
    assert_eq!(
        err("0:9"),
        "accessor \"0:9\": component 1 (9) out of range for [8] struct s"
    );
    assert_eq!(
        err("0:0:1"),
        "accessor \"0:0:1\": component 2 steps into [1] int int, which has no members or elements"
    );
    assert!(matches!(
        parse_spec(&spec, s, "0:1", CoreReloKind::TypeSize),
        Err(CoreErrorKind::Accessor(
            AccessorError::NotTypeAccessor { .. }
        ))
    ));
    assert!(matches!(
        parse_spec(&spec, i, "0", CoreReloKind::EnumvalValue),
        Err(CoreErrorKind::Accessor(
            AccessorError::NotEnumAccessor { .. }
        ))
    ));
}

// ---------------------------------------------------------------- bitfields

struct Bf {
    name: &'static str,
    int_size: u32,
    signed: bool,
    bit_off: u32,
    bits: u32,
}

/// Relocates byte offset/size, shifts and signedness of each bitfield and checks, by
/// simulating the load the program does, that the value comes back out.
fn check_bitfields(endian: Endian) {
    let fields = [
        Bf {
            name: "s3",
            int_size: 4,
            signed: true,
            bit_off: 3,
            bits: 7,
        },
        Bf {
            name: "cross",
            int_size: 4,
            signed: false,
            bit_off: 28,
            bits: 10,
        },
        Bf {
            name: "u8",
            int_size: 1,
            signed: false,
            bit_off: 41,
            bits: 5,
        },
        Bf {
            name: "top",
            int_size: 8,
            signed: true,
            bit_off: 64 + 50,
            bits: 14,
        },
    ];
    // Local: each field as a plain int (no bitfield); target: the bitfields.
    let mut lb = Builder::new();
    let mut tb = Builder::new();
    let li = lb.add(int("int", 4, IntEncoding::Signed));
    let mut lm = Vec::new();
    let mut tm = Vec::new();
    for (k, f) in fields.iter().enumerate() {
        let enc = if f.signed {
            IntEncoding::Signed
        } else {
            IntEncoding::Unsigned
        };
        let ti = tb.add(int(&format!("i{k}"), f.int_size, enc));
        tm.push(m(f.name, ti, f.bit_off, f.bits));
        lm.push(m(f.name, li, 32 * k as u32, 0));
    }
    let ls = lb.add(st("bf", 16, lm));
    tb.add(st("bf", 16, tm));
    let local = build_endian(&lb, endian);
    let target = build_endian(&tb, endian);
    let targets = [&target];
    let mut r = Relocator::new(&local, &targets);
    for (k, f) in fields.iter().enumerate() {
        let acc = format!("0:{k}");
        let mut get = |kind| r.calculate(0, &relo(ls, &acc, kind)).unwrap().target_value;
        let off = get(CoreReloKind::FieldByteOffset) as usize;
        let size = get(CoreReloKind::FieldByteSize) as usize;
        let lshift = get(CoreReloKind::FieldLShiftU64);
        let rshift = get(CoreReloKind::FieldRShiftU64);
        let signed = get(CoreReloKind::FieldSigned) == 1;
        assert_eq!(signed, f.signed);
        assert_eq!(rshift, 64 - u64::from(f.bits));
        for value in [
            1u64,
            (1 << f.bits) - 1,
            1 << (f.bits - 1),
            0x5555_5555_5555_5555 & ((1 << f.bits) - 1),
        ] {
            let mut mem = [0u8; 16];
            for bit in 0..f.bits {
                let (src, pos) = match endian {
                    Endian::Little => (bit, f.bit_off + bit),
                    Endian::Big => (f.bits - 1 - bit, f.bit_off + bit),
                };
                if value >> src & 1 == 1 {
                    match endian {
                        Endian::Little => mem[pos as usize / 8] |= 1 << (pos % 8),
                        Endian::Big => mem[pos as usize / 8] |= 0x80 >> (pos % 8),
                    }
                }
            }
            let mut word = [0u8; 8];
            let bytes = &mem[off..off + size];
            let loaded = match endian {
                Endian::Little => {
                    word[..size].copy_from_slice(bytes);
                    u64::from_le_bytes(word)
                }
                Endian::Big => {
                    word[8 - size..].copy_from_slice(bytes);
                    u64::from_be_bytes(word)
                }
            };
            let shifted = loaded << lshift;
            let got = if signed {
                ((shifted as i64) >> rshift) as u64
            } else {
                shifted >> rshift
            };
            let want = if signed && value >> (f.bits - 1) & 1 == 1 {
                value | !((1u64 << f.bits) - 1)
            } else {
                value
            };
            assert_eq!(
                got, want,
                "{endian:?} {}: value {value:#x} (off {off} size {size} l {lshift} r {rshift})",
                f.name
            );
        }
    }
}

#[test]
fn core_bitfields_little_endian() {
    check_bitfields(Endian::Little);
}

#[test]
fn core_bitfields_big_endian() {
    check_bitfields(Endian::Big);
}

#[test]
fn core_bitfield_shift_values() {
    // `int f : 7` at bit 3: one 4-byte load at 0.
    let mut b = Builder::new();
    let i = b.add(int("int", 4, IntEncoding::Signed));
    let u64_ = b.add(int("u64", 8, IntEncoding::Unsigned));
    let s = b.add(st("s", 16, vec![m("f", i, 3, 7), m("wide", u64_, 60, 10)]));
    for (endian, lshift) in [(Endian::Little, 54), (Endian::Big, 35)] {
        let spec = build_endian(&b, endian);
        let f = calc(&spec, &[&spec], s, "0:0", CoreReloKind::FieldLShiftU64).unwrap();
        assert_eq!(
            (f.local_value, f.target_value, f.validate),
            (lshift, lshift, false)
        );
        // A bitfield straddling 8-byte units cannot be read with one load.
        let e = calc(&spec, &[&spec], s, "0:1", CoreReloKind::FieldByteSize).unwrap_err();
        assert!(matches!(e.source, CoreErrorKind::BitfieldTooWide), "{e}");
    }
}

// ---------------------------------------------------------------- candidates and kinds

#[test]
fn core_all_kinds_and_missing_targets() {
    let mut lb = Builder::new();
    let i = lb.add(int("int", 4, IntEncoding::Signed));
    let s = lb.add(st("task", 8, vec![m("pid", i, 0, 0), m("gone", i, 32, 0)]));
    let e = lb.add(en(
        "state",
        4,
        &[("RUNNING", 0), ("NEG", u64::from(u32::MAX))],
    ));
    let local = build(&lb);
    let mut tb = Builder::new();
    let ti = tb.add(int("int", 4, IntEncoding::Signed));
    let ts = tb.add(st(
        "task___new",
        16,
        vec![m("x", ti, 0, 0), m("pid", ti, 64, 0)],
    ));
    tb.add(en("state", 4, &[("NEG", 5), ("RUNNING", 3)]));
    let target = build(&tb);
    let empty = build(&Builder::new());
    use CoreReloKind as K;
    let got = |tg: &Spec, id, acc: &str, k| {
        let f = calc(&local, &[tg], id, acc, k).unwrap();
        (f.local_value, f.target_value, f.poisoned)
    };
    assert_eq!(got(&target, s, "0:0", K::FieldByteOffset), (0, 8, false));
    assert_eq!(got(&target, s, "0:0", K::FieldByteSize), (4, 4, false));
    assert_eq!(got(&target, s, "0:0", K::FieldExists), (1, 1, false));
    assert_eq!(got(&target, s, "0:1", K::FieldExists), (1, 0, false));
    assert!(got(&target, s, "0:1", K::FieldByteOffset).2);
    assert!(got(&target, s, "0:1", K::FieldSigned).2);
    assert_eq!(got(&target, s, "0", K::TypeExists), (1, 1, false));
    assert_eq!(got(&target, s, "0", K::TypeSize), (8, 16, false));
    assert_eq!(
        got(&target, s, "0", K::TypeIdLocal),
        (u64::from(s.0), u64::from(s.0), false)
    );
    assert_eq!(
        got(&target, s, "0", K::TypeIdTarget),
        (u64::from(s.0), u64::from(ts.0), false)
    );
    assert_eq!(
        got(&target, s, "0", K::TypeMatches),
        (1, 0, false),
        "pid moved, gone is missing"
    );
    assert_eq!(
        got(&target, e, "1", K::EnumvalValue),
        (u64::MAX, 5, false),
        "32-bit values are sign-extended like libbpf"
    );
    assert_eq!(got(&target, e, "0", K::EnumvalExists), (1, 1, false));
    // No candidates at all: existence checks and type-based kinds give 0, the rest poison.
    assert_eq!(got(&empty, s, "0", K::TypeExists), (1, 0, false));
    assert_eq!(got(&empty, s, "0", K::TypeSize), (8, 0, false));
    assert_eq!(
        got(&empty, s, "0", K::TypeIdTarget),
        (u64::from(s.0), 0, false)
    );
    assert_eq!(got(&empty, e, "0", K::EnumvalExists), (1, 0, false));
    assert!(got(&empty, e, "0", K::EnumvalValue).2);
    assert!(got(&empty, s, "0:0", K::FieldLShiftU64).2);
    assert_eq!(
        got(&empty, s, "0", K::TypeIdLocal),
        (u64::from(s.0), u64::from(s.0), false),
        "local ids need no target"
    );
    // Array-element accessors only support offset and size.
    let e = calc(&local, &[&target], s, "1", K::FieldSigned).unwrap_err();
    assert!(matches!(e.source, CoreErrorKind::ArrayAccess { .. }), "{e}");
}

#[test]
fn core_anonymous_local_type_is_an_error() {
    let mut b = Builder::new();
    let i = b.add(int("int", 4, IntEncoding::Signed));
    let s = b.add(st("", 4, vec![m("a", i, 0, 0)]));
    let spec = build(&b);
    let e = calc(&spec, &[&spec], s, "0:0", CoreReloKind::FieldByteOffset).unwrap_err();
    assert!(matches!(e.source, CoreErrorKind::AnonymousType));
    assert_eq!(
        chain(&e),
        "relocation 0 (field byte offset of struct <anon>.a, insn 0): relocations against anonymous types are not supported"
    );
}

/// vmlinux first; modules only when vmlinux has no candidate; module type ids are poisoned.
#[test]
fn core_module_targets() {
    let mut lb = Builder::new();
    let i = lb.add(int("int", 4, IntEncoding::Signed));
    let s = lb.add(st("mod_s", 8, vec![m("a", i, 0, 0), m("b", i, 32, 0)]));
    let t = lb.add(st("both_s", 4, vec![m("a", i, 0, 0)]));
    let local = build(&lb);

    let mut vb = Builder::new();
    let vi = vb.add(int("int", 4, IntEncoding::Signed));
    vb.add(st("both_s", 8, vec![m("x", vi, 0, 0), m("a", vi, 32, 0)]));
    let vmlinux = Arc::new(build(&vb));
    let mut mb = Builder::new_split(&vmlinux);
    let ms = mb.add(st("mod_s", 8, vec![m("b", vi, 0, 0), m("a", vi, 32, 0)]));
    mb.add(st("both_s", 4, vec![m("a", vi, 0, 0)]));
    let module = Spec::parse_split(
        &mb.marshal(MarshalOptions::default()).unwrap(),
        vmlinux.clone(),
    )
    .unwrap();
    let targets = [&*vmlinux, &module];

    let cands = find_candidates(&local, s, &targets).unwrap();
    assert_eq!(cands, [Candidate { target: 1, id: ms }]);
    let f = calc(&local, &targets, s, "0:1", CoreReloKind::FieldByteOffset).unwrap();
    assert_eq!((f.target_value, f.poisoned), (0, false));
    assert_eq!(f.target.as_ref().unwrap().target, 1);
    let f = calc(&local, &targets, s, "0", CoreReloKind::TypeIdTarget).unwrap();
    assert!(f.poisoned, "a module's type id cannot be encoded");
    let f = calc(&local, &targets, s, "0", CoreReloKind::TypeExists).unwrap();
    assert_eq!((f.target_value, f.poisoned), (1, false));
    // both_s is in vmlinux: the module's differing layout is not even considered.
    assert_eq!(find_candidates(&local, t, &targets).unwrap().len(), 1);
    let f = calc(&local, &targets, t, "0:0", CoreReloKind::FieldByteOffset).unwrap();
    assert_eq!(f.target_value, 4);
}

/// Flavours are all candidates; the list is pruned to those that matched, as in libbpf,
/// so a later relocation is not ambiguous against a flavour an earlier one ruled out.
#[test]
fn core_candidate_pruning_and_ambiguity() {
    let mut lb = Builder::new();
    let i = lb.add(int("int", 4, IntEncoding::Signed));
    let s = lb.add(st(
        "obj",
        8,
        vec![m("only_v1", i, 0, 0), m("common", i, 32, 0)],
    ));
    let local = build(&lb);
    let mut tb = Builder::new();
    let ti = tb.add(int("int", 4, IntEncoding::Signed));
    let v1 = tb.add(st(
        "obj___v1",
        8,
        vec![m("only_v1", ti, 0, 0), m("common", ti, 32, 0)],
    ));
    tb.add(st(
        "obj___v2",
        8,
        vec![m("common", ti, 0, 0), m("x", ti, 32, 0)],
    ));
    let target = build(&tb);
    let targets = [&target];

    // Fresh relocator: `common` differs between the flavours: ambiguous.
    let e = calc(&local, &targets, s, "0:1", CoreReloKind::FieldByteOffset).unwrap_err();
    assert!(e.is_ambiguous());
    assert_eq!(
        chain(&e),
        "relocation 0 (field byte offset of struct obj.common, insn 0): ambiguous relocation: field offset ambiguity: \
         bit offset 0 != 32 (candidates: [2] struct obj___v1.common (0:1 @ offset 4), [3] struct obj___v2.common (0:0 @ offset 0))"
    );
    // The same relocation after one that only v1 satisfies: v2 was pruned.
    let mut r = Relocator::new(&local, &targets);
    let f = r
        .calculate(0, &relo(s, "0:0", CoreReloKind::FieldByteOffset))
        .unwrap();
    assert_eq!(f.target.unwrap().type_id, v1);
    let f = r
        .calculate(1, &relo(s, "0:1", CoreReloKind::FieldByteOffset))
        .unwrap();
    assert_eq!(f.target_value, 4);
    // Agreeing candidates are fine (type exists: 1 for both).
    let f = calc(&local, &targets, s, "0", CoreReloKind::TypeExists).unwrap();
    assert_eq!(f.target_value, 1);
}

// ---------------------------------------------------------------- patching

fn fixup(kind: CoreReloKind, local: u64, target: u64) -> Fixup {
    Fixup {
        relocation: 3,
        insn_off: 96,
        kind,
        local_type: TypeId(5),
        local: "struct s.a".into(),
        local_spec: "[5] struct s.a (0:0 @ offset 0)".into(),
        target: None,
        local_value: local,
        target_value: target,
        local_size: 0,
        target_size: 0,
        validate: true,
        size_change_forbidden: false,
        poisoned: false,
    }
}

#[test]
fn core_patch_rules() {
    use CoreReloKind as K;
    // ALU with immediate.
    let mut ins = ebpf_asm::mov64(Register::R1, 4);
    assert_eq!(
        fixup(K::FieldByteOffset, 4, 12).apply(&mut ins).unwrap(),
        Patch::Imm { old: 4, new: 12 }
    );
    assert_eq!(ins.constant, 12);
    let mut ins = ebpf_asm::mov64(Register::R1, 5);
    let e = fixup(K::FieldByteOffset, 4, 12)
        .apply(&mut ins)
        .unwrap_err();
    assert_eq!(
        chain(&e),
        "relocation 3 (field byte offset of struct s.a, insn 12): unexpected imm in instruction: got 5, expected 4 (-> 12)"
    );
    let mut f = fixup(K::FieldByteOffset, 4, 12);
    f.validate = false;
    assert_eq!(f.apply(&mut ins).unwrap(), Patch::Imm { old: 5, new: 12 });
    // -1 in a 32-bit immediate is u64::MAX for libbpf's comparison.
    let mut ins = ebpf_asm::mov64(Register::R1, -1);
    assert!(fixup(K::EnumvalValue, u64::MAX, 3).apply(&mut ins).is_ok());
    let mut ins = ebpf_asm::mov64_reg(Register::R1, Register::R2);
    assert!(matches!(
        fixup(K::FieldByteOffset, 0, 1)
            .apply(&mut ins)
            .unwrap_err()
            .source,
        CoreErrorKind::BadInstruction { .. }
    ));
    let mut ins = ebpf_asm::exit();
    assert!(matches!(
        fixup(K::FieldByteOffset, 0, 1)
            .apply(&mut ins)
            .unwrap_err()
            .source,
        CoreErrorKind::BadInstruction { .. }
    ));

    // Loads: offset, and size for unsigned ints.
    let mut ins = load_mem(Register::R0, Register::R1, 0, ebpf_asm::Size::W);
    let mut f = fixup(K::FieldByteOffset, 0, 14);
    (f.local_size, f.target_size) = (4, 2);
    assert_eq!(
        f.apply(&mut ins).unwrap(),
        Patch::Offset {
            old: 0,
            new: 14,
            mem_size: Some((4, 2))
        }
    );
    assert_eq!((ins.offset, ins.op.raw()), (14, 0x69), "ldxh");
    // A size change the rules forbid poisons the load.
    let mut ins = load_mem(Register::R0, Register::R1, 0, ebpf_asm::Size::W);
    f.size_change_forbidden = true;
    assert_eq!(f.apply(&mut ins).unwrap(), Patch::Poisoned);
    assert_eq!(ins.constant, i64::from(POISON_HELPER_ID));
    // ...but not an ALU instruction computing the offset.
    let mut ins = ebpf_asm::mov64(Register::R1, 0);
    assert_eq!(f.apply(&mut ins).unwrap(), Patch::Imm { old: 0, new: 14 });
    // The load must have the local field's size.
    let mut ins = load_mem(Register::R0, Register::R1, 0, ebpf_asm::Size::DW);
    f.size_change_forbidden = false;
    assert!(matches!(
        f.apply(&mut ins).unwrap_err().source,
        CoreErrorKind::UnexpectedMemSize {
            got: 8,
            expected: 4
        }
    ));
    let mut ins = load_mem(Register::R0, Register::R1, 0, ebpf_asm::Size::W);
    f.target_size = 3;
    assert!(matches!(
        f.apply(&mut ins).unwrap_err().source,
        CoreErrorKind::InvalidMemSize(3)
    ));
    // Stores too; offsets must fit 16 bits.
    let mut ins = store_imm(Register::R1, 8, 7, ebpf_asm::Size::DW);
    assert_eq!(
        fixup(K::FieldByteOffset, 8, 16).apply(&mut ins).unwrap(),
        Patch::Offset {
            old: 8,
            new: 16,
            mem_size: None
        }
    );
    let mut ins = store_imm(Register::R1, 8, 7, ebpf_asm::Size::DW);
    assert!(matches!(
        fixup(K::FieldByteOffset, 8, 40000)
            .apply(&mut ins)
            .unwrap_err()
            .source,
        CoreErrorKind::OffsetTooBig(40000)
    ));

    // ld_imm64 carries 64-bit values.
    let mut ins = load_imm64(Register::R1, 1 << 32);
    assert_eq!(
        fixup(K::EnumvalValue, 1 << 32, 0xabcd_ef01_2345_6789)
            .apply(&mut ins)
            .unwrap(),
        Patch::Imm64 {
            old: 1 << 32,
            new: 0xabcd_ef01_2345_6789
        }
    );
    assert_eq!(ins.constant as u64, 0xabcd_ef01_2345_6789);
    let mut ins = load_imm64(Register::R1, 2);
    assert!(matches!(
        fixup(K::EnumvalValue, 1, 0)
            .apply(&mut ins)
            .unwrap_err()
            .source,
        CoreErrorKind::UnexpectedValue { what: "imm64", .. }
    ));
}

// ---------------------------------------------------------------- poisoning and diagnosis

#[test]
fn core_poisoned_instructions() {
    let mut ins = load_mem(Register::R0, Register::R1, 52, ebpf_asm::Size::W).with_symbol("prog");
    let mut f = fixup(CoreReloKind::FieldByteOffset, 52, 0);
    f.poisoned = true;
    assert_eq!(f.apply(&mut ins).unwrap(), Patch::Poisoned);
    assert_eq!(ins.symbol(), Some("prog"), "metadata survives");
    assert_eq!(
        ins.encode(Endianness::Little).unwrap(),
        [0x85, 0, 0, 0, 0x10, 0x23, 0xad, 0x0b]
    );
    assert_eq!(
        ins.encode(Endianness::Big).unwrap(),
        [0x85, 0, 0, 0, 0x0b, 0xad, 0x23, 0x10]
    );
    assert_eq!(
        ins.to_string(),
        Instruction::new(OpCode(0x85), Register::R0, Register::R0, 0, 195_896_080).to_string()
    );
    // ld_imm64 keeps both slots.
    let mut ins = load_imm64(Register::R3, 5);
    poison(&mut ins);
    assert_eq!(ins.width(), 2);
    assert_eq!((ins.dst, ins.constant), (Register::R10, 0x0bad_2310));
    assert_eq!(ins.encode(Endianness::Little).unwrap().len(), 16);
}

/// Real kernel verifier logs (Linux 6.18) for both poisoned forms.
const LOG_CALL: &str = "0: R1=ctx() R10=fp0\n0: (b7) r0 = 0                        ; R0=0\n\
1: (85) call unknown#195896080\ninvalid func unknown#195896080\n\
processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
const LOG_LDIMM: &str = "0: R1=ctx() R10=fp0\n0: (b7) r0 = 0                        ; R0=0\n\
1: (18) r10 = 0xbad2310\nframe pointer is read only\n\
processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";

#[test]
fn core_verifier_log_scanner() {
    assert_eq!(poisoned_insn_in_log(LOG_CALL), Some(1));
    assert_eq!(poisoned_insn_in_log(LOG_LDIMM), Some(1));
    assert_eq!(poisoned_insn_in_log("0: (95) exit\nR0 !read_ok\n"), None);
    assert_eq!(
        poisoned_insn_in_log("1: (18) r10 = 0x5\nframe pointer is read only\n"),
        None,
        "a genuine r10 write"
    );
    let mut f = fixup(CoreReloKind::FieldByteOffset, 52, 0);
    f.poisoned = true;
    f.insn_off = 8;
    f.local = "struct core_s.gone".into();
    let fixups = [fixup(CoreReloKind::FieldExists, 1, 0), f];
    let d = diagnose(LOG_CALL, &fixups).unwrap();
    assert_eq!(
        d.to_string(),
        "CO-RE relocation 3 for struct core_s.gone (field byte offset) could not be satisfied (insn 1)"
    );
    let d = diagnose(LOG_CALL, &fixups[..1]).unwrap();
    assert_eq!(
        d.to_string(),
        "instruction 1 was poisoned by an unsatisfied CO-RE relocation"
    );
    assert!(diagnose("ok\n", &fixups).is_none());
}

#[test]
fn core_relocate_slice() {
    let mut b = Builder::new();
    let i = b.add(int("unsigned int", 4, IntEncoding::Unsigned));
    let s = b.add(st("s", 8, vec![m("a", i, 0, 0), m("b", i, 32, 0)]));
    let local = build(&b);
    let mut tb = Builder::new();
    let ti = tb.add(int("unsigned short", 2, IntEncoding::Unsigned));
    tb.add(st("s", 4, vec![m("b", ti, 0, 0), m("a", ti, 16, 0)]));
    let target = build(&tb);
    let mut insns = vec![
        load_imm64(Register::R2, 0),
        load_mem(Register::R0, Register::R1, 4, ebpf_asm::Size::W),
        ebpf_asm::exit(),
    ];
    let relos = [
        CoreRelo {
            insn_off: 16,
            type_id: s,
            access: "0:1".into(),
            kind: CoreReloKind::FieldByteOffset,
        },
        CoreRelo {
            insn_off: 0,
            type_id: s,
            access: "0:0".into(),
            kind: CoreReloKind::FieldByteOffset,
        },
    ];
    let fixups = relocate(&mut insns, &relos, &local, &[&target]).unwrap();
    assert_eq!(fixups.len(), 2);
    assert_eq!((insns[1].offset, insns[1].op.raw()), (0, 0x69));
    assert_eq!(insns[0].constant, 2);
    assert_eq!(
        fixups[0].to_string(),
        "relo #0 insn #2 <byte_off> [2] struct s.b (0:1 @ offset 4) => [2] struct s.b (0:0 @ offset 0): 4 -> 0 (size 4 -> 2)"
    );
    // An offset inside ld_imm64 is no instruction.
    let bad = [CoreRelo {
        insn_off: 8,
        ..relos[1].clone()
    }];
    let e = relocate(&mut insns, &bad, &local, &[&target]).unwrap_err();
    assert_eq!(
        chain(&e),
        "relocation 0 (field byte offset of struct s.a, insn 1): no instruction at byte offset 8"
    );
}
